"""Import-time choice of the compiled training kernel for this CPU.

The default build is portable (``setup.py``): every extension runs on any CPU
of its architecture. On x86-64 the kernel's C file is also compiled for
x86-64-v3 (AVX2, FMA, BMI2) into ``sklr/_x86_64_v3/``; that copy defines the
same module, ``sklr._kernel``. :func:`load_kernel` runs from
``sklr/__init__.py`` before anything imports the kernel and loads the copy
this CPU runs best, so every later ``import sklr._kernel`` gets it. Both
copies compute bit-identical results (``-ffp-contract=off``); only their
speed differs.

The environment variable ``SKLR_KERNEL`` forces a copy: ``auto`` (default),
``baseline`` or ``x86-64-v3``; forcing a copy this CPU cannot run, or one the
build did not produce, raises ImportError instead of crashing on an illegal
instruction.

Loading the kernel also loads the OpenMP runtime, which reads its settings
from the environment once, at that moment. libgomp (GCC's runtime) makes a
waiting thread spin ``GOMP_SPINCOUNT`` times before it sleeps: 300000 by
default, about 10 ms on the project's machine (~31 ns per iteration). The
kernel's threads meet at the end of every parallel region, one to seven per
minibatch, and wait between regions; on a busy machine one of them is often
descheduled, and its partner then spins for milliseconds on the core the
descheduled one needs (two concurrent fits took twice to four times as long
as the same fits one after the other). So, unless ``GOMP_SPINCOUNT`` or
``OMP_WAIT_POLICY`` is set, the kernel is loaded with
``GOMP_SPINCOUNT=SPIN_COUNT`` (about 1 ms there): long enough that on an
idle machine a thread waiting for its partner or for the next region almost
never sleeps (measured: an unchanged epoch time; 10000, about 0.3 ms, already
let the threads of the MNIST-size network sleep three times per minibatch and
cost 17%), short enough to give the core away soon when the partner is not
running. The variable is removed again right after, so child processes and
other OpenMP libraries loaded later see the environment as it was. Nothing
changes when the runtime was already loaded (by another extension linked to
the same libgomp) or is not libgomp. ``benchmarks/contention.py`` measures
the policies.
"""

import contextlib
import importlib.machinery
import importlib.util
import os
import sys

# Copy name -> folder of the package holding it (None: the package itself).
VARIANTS = {"baseline": None, "x86-64-v3": "_x86_64_v3"}
# Preference order of "auto": the first one built and supported wins.
PREFERENCE = ("x86-64-v3", "baseline")

# libgomp's spin count while sklr's kernel waits (see the module docstring).
SPIN_COUNT = "30000"

#: The copy of the kernel in use, set by :func:`load_kernel`.
kernel_variant = None
#: The GOMP_SPINCOUNT sklr gave libgomp, or None when it left the runtime alone.
openmp_spin_count = None


def _libgomp_loaded():
    """Whether a ``libgomp.so*`` is mapped in this process (Linux; else False)."""
    try:
        with open("/proc/self/maps") as f:
            return any(os.path.basename(line.split()[-1]).startswith("libgomp.so")
                       for line in f if "/" in line)
    except OSError:
        return False


@contextlib.contextmanager
def _openmp_spin_count(value):
    """Set ``GOMP_SPINCOUNT=value`` while the runtime loads, unless the user chose.

    Yields ``value`` when it was set for a runtime not loaded yet, else None.
    """
    if "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ or (
            _libgomp_loaded()):
        yield None
        return
    os.environ["GOMP_SPINCOUNT"] = value
    try:
        yield value
    finally:
        os.environ.pop("GOMP_SPINCOUNT", None)


def _variant_file(package_dirs, folder):
    """Path of the kernel extension in ``folder`` of the package, or None."""
    for directory in package_dirs:
        base = os.path.join(directory, folder) if folder else directory
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(base, "_kernel" + suffix)
            if os.path.isfile(path):
                return path
    return None


def choose_variant(requested, built, supported):
    """The kernel copy to load.

    Parameters
    ----------
    requested : str
        The value of ``SKLR_KERNEL``: ``'auto'`` or a name of ``VARIANTS``
        (``'v3'`` is accepted for ``'x86-64-v3'``); case and surrounding
        spaces are ignored.
    built : set of str
        The copies present in the installed package.
    supported : callable
        ``supported(name)`` tells whether this CPU runs copy ``name``.

    Returns
    -------
    variant : str
        A name of ``VARIANTS``.

    Raises
    ------
    ImportError
        When ``requested`` is unknown, names a copy that was not built, or one
        this CPU cannot run.
    """
    name = requested.strip().lower()
    name = {"": "auto", "v3": "x86-64-v3"}.get(name, name)
    if name == "auto":
        for variant in PREFERENCE:
            if variant in built and supported(variant):
                return variant
        raise ImportError("sklr's compiled training kernel (sklr._kernel) is missing.")
    if name not in VARIANTS:
        raise ImportError(
            f"SKLR_KERNEL={requested!r} is not one of 'auto', "
            f"{', '.join(repr(v) for v in VARIANTS)}.")
    if name not in built:
        raise ImportError(
            f"SKLR_KERNEL={requested!r}: this build of sklr has no {name} copy of the "
            f"kernel (built: {', '.join(sorted(built)) or 'none'}; see setup.py).")
    if not supported(name):
        raise ImportError(
            f"SKLR_KERNEL={requested!r}: this CPU cannot run the {name} copy of the "
            "kernel; unset SKLR_KERNEL or set it to 'baseline'.")
    return name


def load_kernel(package_dirs):
    """Load the chosen copy of the kernel as ``sklr._kernel``; return its name.

    Parameters
    ----------
    package_dirs : list of str
        The folders of the ``sklr`` package (its ``__path__``).

    Returns
    -------
    variant : str
        The name of the copy loaded (also stored in ``kernel_variant``).
    """
    global kernel_variant, openmp_spin_count
    from sklr import _cpu

    files = {name: _variant_file(package_dirs, folder) for name, folder in VARIANTS.items()}
    built = {name for name, path in files.items() if path is not None}
    variant = choose_variant(os.environ.get("SKLR_KERNEL", "auto"), built, _cpu.supports)
    if "sklr._kernel" not in sys.modules:
        spec = importlib.util.spec_from_file_location("sklr._kernel", files[variant])
        # The shared library (and the OpenMP runtime it links) loads in
        # module_from_spec; the module's code runs in exec_module.
        with _openmp_spin_count(SPIN_COUNT) as openmp_spin_count:
            module = importlib.util.module_from_spec(spec)
        sys.modules["sklr._kernel"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules["sklr._kernel"]
            raise
        # What the import system does for a submodule it loads itself.
        setattr(sys.modules["sklr"], "_kernel", module)
    loaded = os.path.realpath(sys.modules["sklr._kernel"].__file__)
    kernel_variant = next(
        (name for name, path in files.items()
         if path is not None and os.path.realpath(path) == loaded), variant)
    return kernel_variant
