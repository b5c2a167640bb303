"""sklr: scikit-learn-compatible multilayer perceptrons with a Cython/OpenMP
training core and first-class learning-rate schedules, momentum schedules and
optimizers."""


def _locate_compiled_package():
    """Make ``import sklr`` work from a source checkout that was never built.

    ``pip install . && python -m sklr`` run at the repository root imports
    this source tree (the current directory comes first on ``sys.path``),
    which holds no compiled extensions. Then the modules are taken from the
    installed copy of sklr instead; with neither, a clear ImportError says how
    to build.
    """
    import importlib.machinery
    import os
    import sys

    def has_extension(folder):
        names = os.listdir(folder) if os.path.isdir(folder) else []
        return any(
            name.startswith("_kernel") and name.endswith(suffix)
            for name in names
            for suffix in importlib.machinery.EXTENSION_SUFFIXES
        )

    here = os.path.dirname(os.path.abspath(__file__))
    if has_extension(here):
        return None
    for entry in sys.path:
        candidate = os.path.join(os.path.abspath(entry or os.getcwd()), "sklr")
        if candidate != here and has_extension(candidate):
            return candidate
    raise ImportError(
        f"sklr's compiled extensions are missing from {here} and no installed sklr "
        "was found: install it with 'pip install .', or build it in place with "
        "'python setup.py build_ext --inplace'."
    )


_compiled = _locate_compiled_package()
if _compiled is not None:
    __path__[:] = [_compiled]  # noqa: F821 - the package's own search path
del _compiled, _locate_compiled_package

# The copy of the compiled kernel this CPU runs best (sklr/_dispatch.py),
# loaded before any module imports sklr._kernel.
from sklr import _dispatch  # noqa: E402

_dispatch.load_kernel(list(__path__))  # noqa: F821

from sklr import averaging, initializers, optimizers, schedules  # noqa: E402
from sklr._checkpoint import Checkpoint, load_checkpoint  # noqa: E402
from sklr._dynamics import Dynamics  # noqa: E402
from sklr._lr_finder import LRFinderResult, find_learning_rate  # noqa: E402
from sklr._multilayer_perceptron import MLPClassifier, MLPRegressor  # noqa: E402

__version__ = "0.1.0.dev0"

__all__ = [
    "Checkpoint",
    "Dynamics",
    "LRFinderResult",
    "MLPClassifier",
    "MLPRegressor",
    "averaging",
    "find_learning_rate",
    "initializers",
    "load_checkpoint",
    "optimizers",
    "schedules",
    "__version__",
]
