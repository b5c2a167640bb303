"""Smoke tests of the scripts in ``examples/``.

Each script runs in a fresh interpreter with matplotlib's non-interactive
``Agg`` backend, so ``plt.show()`` returns at once. The test checks that it
exits cleanly and quickly, and that each seed study prints its table of
final accuracies; the numbers themselves are tested elsewhere (they only
reproduce the library's behaviour). A second test checks that each script
has the header sphinx-gallery needs to make it a page of the gallery, and
that the gallery lists it.
"""

import ast
import os
import re
import subprocess
import sys
import resource
from pathlib import Path

import pytest

import sklr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
GALLERY_ORDER = ROOT / "doc" / "sphinxext" / "sklr_gallery.py"

# The seed tutorial's studies, with the values each sweeps: each prints one
# row per value with the final training and test accuracy.
SEED_STUDIES = {
    "plot_learning_rate.py": ["1", "0.1", "0.01", "0.001", "0.0001", "1e-05", "1e-06", "1e-07"],
    "plot_momentum.py": ["0", "0.5", "0.9", "0.99"],
    "plot_decay.py": ["0.1", "0.01", "0.001", "0.0001"],
    "plot_plateau.py": ["2", "5", "10", "15"],
    "plot_optimizers.py": ["SGD", "Adagrad", "RMSprop", "Adam"],
}

# Each example is meant to run in a few seconds. The limit is on the CPU
# time the script uses (all its threads), which a busy machine does not
# inflate the way it does wall time: it catches a script that has become far
# slower than that. The wall-clock timeout only catches a hang.
MAX_CPU_SECONDS = 90
HANG_SECONDS = 600

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
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        completed = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,  # anything a script might write lands here
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=HANG_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} did not finish within {HANG_SECONDS} s")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert completed.returncode == 0, (
        f"{script.name} exited with {completed.returncode}\n"
        f"--- stdout ---\n{completed.stdout[-3000:]}\n"
        f"--- stderr ---\n{completed.stderr[-3000:]}"
    )
    assert cpu < MAX_CPU_SECONDS, f"{script.name} used {cpu:.1f} s of CPU time"
    if script.name in SEED_STUDIES:
        _check_accuracy_table(script.name, completed.stdout)


def _check_accuracy_table(name, stdout):
    """A header naming both accuracies, then one row per swept value."""
    lines = stdout.splitlines()
    headers = [i for i, line in enumerate(lines)
               if "train accuracy" in line and "test accuracy" in line]
    assert headers, f"{name} prints no table with train and test accuracy:\n{stdout}"
    rows = lines[headers[0] + 1:]
    values = SEED_STUDIES[name]
    assert len(rows) >= len(values), f"{name}: table too short:\n{stdout}"
    for value, row in zip(values, rows):
        fields = row.split()
        assert fields[0] == value, f"{name}: row {row!r} is not for {value}"
        accuracies = [float(f) for f in fields[1:] if re.fullmatch(r"[01]\.\d{3}", f)]
        assert len(accuracies) >= 2, f"{name}: row {row!r} lacks two accuracies"


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


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_is_a_gallery_page(script):
    """sphinx-gallery can render the script, runs it, and orders it."""
    title, body = _header(script)
    assert body.strip(), f"{script.name}: the docstring needs text under its title"
    assert "\n# %%\n" in script.read_text(encoding="utf-8"), (
        f"{script.name}: put a '# %%' line after the docstring (the first code "
        "block of its gallery page starts there)"
    )
    # doc/conf.py runs the scripts whose path matches filename_pattern '/plot_'.
    assert script.name.startswith("plot_"), (
        f"{script.name}: name it plot_*.py, or the gallery shows it without running it"
    )
    order = ast.literal_eval(
        re.search(r"ORDER = (\(.*?\))", GALLERY_ORDER.read_text(), re.S).group(1)
    )
    assert script.name in order, f"add {script.name} to ORDER in {GALLERY_ORDER}"
    assert (EXAMPLES_DIR / "README.rst").is_file(), "sphinx-gallery needs examples/README.rst"
