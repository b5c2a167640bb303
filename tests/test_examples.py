"""Smoke tests of the scripts in ``examples/``.

Each script runs in a fresh interpreter with matplotlib's non-interactive
``Agg`` backend, so ``plt.show()`` returns at once. The test checks that it
exits cleanly and quickly; the numbers the scripts print are tested
elsewhere (they only reproduce the library's behaviour). A second test checks
that each script has the header the documentation relies on and that
``doc/examples.rst`` shows every script.
"""

import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sklr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
EXAMPLES_RST = ROOT / "doc" / "examples.rst"

# Each example is meant to run in a few seconds; this only catches a script
# that has become far slower than that (or hangs), even on a busy machine.
MAX_SECONDS = 60

pytestmark = pytest.mark.skipif(
    not EXAMPLES, reason="no examples/ directory next to the tests"
)


def _environment():
    """The environment of an example's interpreter.

    The directory holding the ``sklr`` that this test imported goes first
    on ``PYTHONPATH``, so the script uses the same build (in-place or
    installed) whatever its working directory.
    """
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    package_parent = str(Path(sklr.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, env.get("PYTHONPATH")) if p
    )
    return env


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script, tmp_path):
    pytest.importorskip("matplotlib")
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,  # anything a script might write lands here
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=2 * MAX_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} did not finish within {2 * MAX_SECONDS} s")
    elapsed = time.perf_counter() - start
    assert completed.returncode == 0, (
        f"{script.name} exited with {completed.returncode}\n"
        f"--- stdout ---\n{completed.stdout[-3000:]}\n"
        f"--- stderr ---\n{completed.stderr[-3000:]}"
    )
    assert elapsed < MAX_SECONDS, f"{script.name} took {elapsed:.1f} s"


def _header(script):
    """The title and the body of a script's docstring (sphinx-gallery layout)."""
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring, f"{script.name} has no module docstring"
    match = re.match(r"(=+)\n(.+)\n(=+)\n\n(.+)", docstring, flags=re.DOTALL)
    assert match, f"{script.name}: the docstring must start with a title between '=' lines"
    over, title, under, body = match.groups()
    assert len(over) == len(under) == len(title), (
        f"{script.name}: the '=' lines must be as long as the title {title!r}"
    )
    return title, body


def _words(text):
    return " ".join(text.split())


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_is_documented(script):
    """doc/examples.rst has the script's title, its text and its code."""
    title, body = _header(script)
    assert "\n# %%\n" in script.read_text(encoding="utf-8"), (
        f"{script.name}: put a '# %%' line after the docstring (doc/examples.rst "
        "includes the code from there on)"
    )
    rst = EXAMPLES_RST.read_text(encoding="utf-8")
    assert f".. _example_{script.stem}:\n\n{title}\n{'=' * len(title)}\n" in rst, (
        f"doc/examples.rst has no section '{title}' labelled example_{script.stem}"
    )
    assert f".. literalinclude:: ../examples/{script.name}\n" in rst
    assert _words(body) in _words(rst), (
        f"doc/examples.rst does not repeat the docstring of {script.name}; copy it "
        "there when you change it"
    )
