"""scikit-learn's own MLP tests, run against sklr: the drop-in claim, checked.

At test time, the installed scikit-learn's
``sklearn/neural_network/tests/test_mlp.py`` is copied to a temporary folder
with only its import of MLPClassifier/MLPRegressor rewritten to sklr's, and run
with pytest in a subprocess (with scikit-learn's conftest as a plugin, for its
``global_random_seed`` fixture). Nothing is vendored: a new scikit-learn brings
its new tests.

Excused are only the tests that read scikit-learn's private optimizer object
(``_optimizer``) or call its private ``_loss_grad_lbfgs``; sklr has neither
(its optimizers run in Cython on a flat buffer). The test checks that each
excused test really touches one of them, so the list cannot silently grow.
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn

SKLEARN_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
SKLR_IMPORT = "from sklr import MLPClassifier, MLPRegressor"
PRIVATE = {"_optimizer", "_loss_grad_lbfgs"}
EXCUSED = ("test_gradient", "test_learning_rate_warmstart", "test_adaptive_learning_rate")

# Fallback when scikit-learn's conftest is not installed: the one fixture the
# file needs, with scikit-learn's default value.
FALLBACK_CONFTEST = '''
import pytest


@pytest.fixture
def global_random_seed():
    return 42
'''


def _sklearn_test_file():
    path = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
    if not path.is_file():
        pytest.skip(
            f"the installed scikit-learn {sklearn.__version__} does not ship its "
            f"tests ({path} is missing)"
        )
    return path


def _private_attributes_used(tree, name):
    """The private attributes of PRIVATE that test function ``name`` reads."""
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(funcs) == 1, f"{name} not found (once) in scikit-learn's test_mlp.py"
    return {
        node.attr for node in ast.walk(funcs[0])
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE
    }


def test_sklearn_test_mlp_passes_with_sklr(tmp_path):
    source = _sklearn_test_file().read_text()
    assert source.count(SKLEARN_IMPORT) == 1, "scikit-learn's import line changed"
    rewritten = source.replace(SKLEARN_IMPORT, SKLR_IMPORT)

    tree = ast.parse(source)
    for name in EXCUSED:
        assert _private_attributes_used(tree, name), (
            f"{name} is excused but no longer touches {sorted(PRIVATE)}"
        )

    (tmp_path / "test_mlp.py").write_text(rewritten)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # no outer configuration
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE"]
    if importlib.util.find_spec("sklearn.conftest") is not None:
        args += ["-p", "sklearn.conftest"]
    else:
        (tmp_path / "conftest.py").write_text(FALLBACK_CONFTEST)
    for name in EXCUSED:
        args += ["--deselect", f"test_mlp.py::{name}"]
    args.append("test_mlp.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-20000:]
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert f"{len(EXCUSED)} deselected" in summary, summary
    assert not re.search(r"failed|error", summary), summary
