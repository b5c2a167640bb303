"""Build the Cython extensions of sklr.

Everything about compiling lives here: optimisation flags, the Cython
compiler directives (one dict), the OpenMP probe, the CPU targets and the
debug switch.

* OpenMP: a tiny OpenMP program is compiled and linked first; when that works
  the extensions are built with ``-fopenmp``, otherwise they are built
  single-threaded (``sklr/_openmp_helpers.pxd`` provides no-op fallbacks) and
  every test still passes.  ``SKLR_NO_OPENMP=1`` forces the fallback.
* CPU: the default build is portable: every extension is compiled for the
  compiler's baseline target (x86-64: SSE2; aarch64: Armv8-A), so a wheel or
  a shared environment runs on any CPU of its architecture.  The speed of
  wide vectors comes back by runtime dispatch: on x86-64, when the compiler
  accepts ``-march=x86-64-v3``, the C file of the training kernel is compiled
  a second time for x86-64-v3 (AVX2, FMA, BMI2) into ``sklr/_x86_64_v3/``,
  and ``sklr/_dispatch.py`` loads that copy as ``sklr._kernel`` on a CPU that
  supports it (``SKLR_KERNEL=baseline`` or ``x86-64-v3`` at run time forces
  one).  ``SKLR_NATIVE=1`` compiles everything for the build machine instead
  (``-march=native``, no second copy; the result may not run on another
  CPU), ``SKLR_PORTABLE=1`` builds the baseline copy alone.
  ``-ffp-contract=off`` keeps every multiply-add rounded as NumPy rounds it
  (no fused multiply-add even where the target has FMA), so trajectories
  match scikit-learn's, and each other's, whatever the target.
* Both copies of the kernel, and the Cython translation, are built in
  parallel (one job per CPU), which keeps a clean ``pip install .`` about as
  fast as a single copy on two cores.
* ``SKLR_DEBUG=1`` turns bounds checks and wraparound back on and builds with
  ``-O0 -g`` (baseline copy only).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("SKLR_DEBUG", "0") not in ("", "0")

CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": False,
    "cdivision": True,
    "embedsignature": True,
    "cpow": True,
}

EXTENSIONS = ["sklr._openmp_helpers", "sklr._codes", "sklr._kernel"]
# Modules without OpenMP: the CPU check runs before anything loads the runtime.
SERIAL_EXTENSIONS = ["sklr._cpu"]
# Extra copies of the kernel's C file for other CPU targets: extension name ->
# flags.  sklr/_dispatch.py knows the same names and folders.
KERNEL_VARIANTS = {"sklr._x86_64_v3._kernel": ["-march=x86-64-v3"]}
JOBS = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                  else (os.cpu_count() or 1), 8))


def _env_flag(name):
    return os.environ.get(name, "0") not in ("", "0")


def _compiles_and_runs(code, flags):
    """True when ``code`` compiles and links with ``flags`` and runs, printing 1."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(textwrap.dedent(code))
        built = subprocess.run(cc + flags + [src, "-o", exe], capture_output=True)
        if built.returncode != 0:
            return False
        ran = subprocess.run([exe], capture_output=True, text=True)
        return ran.returncode == 0 and ran.stdout.strip() == "1"
    except OSError:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _compiles(code, flags):
    """True when ``code`` compiles to an object file with ``flags`` (nothing runs)."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(textwrap.dedent(code))
        built = subprocess.run(cc + flags + ["-c", src, "-o", os.path.join(tmp, "probe.o")],
                               capture_output=True)
        return built.returncode == 0
    except OSError:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _native_flags():
    """``-march=native`` when SKLR_NATIVE is set and the compiler and CPU accept it."""
    if not _env_flag("SKLR_NATIVE"):
        return []
    code = """
        #include <stdio.h>
        int main(void) { double x[8]; for (int i = 0; i < 8; i++) x[i] = i;
                         double s = 0; for (int i = 0; i < 8; i++) s += x[i] * x[i];
                         printf("%d", s == 140.0); return 0; }
    """
    if _compiles_and_runs(code, ["-O2", "-march=native"]):
        return ["-march=native"]
    print("sklr: -march=native unavailable; building for the baseline target", file=sys.stderr)
    return []


def _kernel_variants(native):
    """The variant copies of the kernel the compiler can build: {name: flags}."""
    if DEBUG or native or _env_flag("SKLR_PORTABLE"):
        return {}
    code = """
        #if !defined(__x86_64__)
        #error not x86-64
        #endif
        int f(int x) { return x + 1; }
    """
    return {name: flags for name, flags in KERNEL_VARIANTS.items()
            if _compiles(code, flags)}


def _openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or ([], []) without it."""
    if _env_flag("SKLR_NO_OPENMP"):
        print("sklr: SKLR_NO_OPENMP set, building without OpenMP", file=sys.stderr)
        return [], []
    code = """
        #include <omp.h>
        #include <stdio.h>
        int main(void) {
            int n = 0;
            #pragma omp parallel reduction(+:n)
            n += 1;
            printf("%d", n > 0 && omp_get_max_threads() > 0);
            return 0;
        }
    """
    if _compiles_and_runs(code, ["-fopenmp"]):
        return ["-fopenmp"], ["-fopenmp"]
    print(
        "sklr: the compiler does not support OpenMP; building single-threaded",
        file=sys.stderr,
    )
    return [], []


def extensions():
    compile_args, link_args = _openmp_flags()
    # Exact IEEE arithmetic (no fused multiply-add contraction, no fast-math);
    # -fno-math-errno only lets sqrt vectorise.
    fp = ["-ffp-contract=off", "-fno-math-errno"]
    native = [] if DEBUG else _native_flags()
    # -g1: line tables only (Python's own CFLAGS say -g): what perf and
    # callgrind need to name the kernel's source lines, at ~3 s less per
    # copy of the kernel than full debug information.
    opt = ["-O0", "-g"] + fp if DEBUG else ["-O3", "-g1"] + fp + native

    def extension(name, sources, flags, openmp=True):
        return Extension(
            name,
            sources,
            include_dirs=[np.get_include()],
            extra_compile_args=flags + (compile_args if openmp else []),
            extra_link_args=link_args if openmp else [],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )

    exts = [extension(name, [name.replace(".", "/") + ".pyx"], opt) for name in EXTENSIONS]
    exts += [extension(name, [name.replace(".", "/") + ".pyx"], opt, openmp=False)
             for name in SERIAL_EXTENSIONS]
    exts = cythonize(exts, compiler_directives=CYTHON_DIRECTIVES, nthreads=JOBS)
    # The variants compile the kernel's generated C file again, under the
    # module name sklr._kernel (the C file's own): _dispatch loads one of them
    # in place of the baseline copy.
    (kernel_c,) = next(ext for ext in exts if ext.name == "sklr._kernel").sources
    for name, flags in _kernel_variants(native).items():
        ext = extension(name, [_variant_source(name, kernel_c)], opt + flags)
        ext.depends = [kernel_c]  # rebuilt whenever the kernel's C file changes
        exts.append(ext)
    return exts


def _variant_source(name, kernel_c):
    """A C file in the variant's folder that includes the kernel's C file.

    Its own path gives the variant its own object file (setuptools names
    object files after their sources: compiling ``kernel_c`` twice would write
    one object, and two parallel jobs would race on it).
    """
    path = name.replace(".", "/") + ".c"
    text = (f"/* Generated by setup.py: {name} is {kernel_c} compiled for another "
            f"CPU target. */\n#include \"{os.path.relpath(kernel_c, os.path.dirname(path))}\"\n")
    if not os.path.exists(path) or open(path).read() != text:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return path


setup(ext_modules=extensions(), options={"build_ext": {"parallel": JOBS}})
