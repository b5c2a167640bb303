"""Build the Cython extensions of sklr.

Everything about compiling lives here: optimisation flags, the Cython
compiler directives (one dict), the OpenMP probe and the debug switch.

* OpenMP: a tiny OpenMP program is compiled and linked first; when that works
  the extensions are built with ``-fopenmp``, otherwise they are built
  single-threaded (``sklr/_openmp_helpers.pxd`` provides no-op fallbacks) and
  every test still passes.  ``SKLR_NO_OPENMP=1`` forces the fallback.
* CPU: the extensions are compiled for the machine that builds them
  (``-march=native``, probed like OpenMP) because the elementwise loops of the
  kernels gain ~40% from wide vectors; ``SKLR_PORTABLE=1`` builds for the
  compiler's baseline target instead (use it for wheels or clusters whose
  build and run machines differ).  ``-ffp-contract=off`` keeps every
  multiply-add rounded as NumPy rounds it, so trajectories match
  scikit-learn's whatever the target.
* ``SKLR_DEBUG=1`` turns bounds checks and wraparound back on and builds with
  ``-O0 -g``.
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


def _cpu_flags():
    """``-march=native`` when the compiler and CPU accept it, unless SKLR_PORTABLE."""
    if _env_flag("SKLR_PORTABLE"):
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
    if DEBUG:
        opt = ["-O0", "-g"] + fp
    else:
        opt = ["-O3"] + fp + _cpu_flags()
    exts = [
        Extension(
            name,
            [name.replace(".", "/") + ".pyx"],
            include_dirs=[np.get_include()],
            extra_compile_args=opt + compile_args,
            extra_link_args=link_args,
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for name in EXTENSIONS
    ]
    return cythonize(exts, compiler_directives=CYTHON_DIRECTIVES)


setup(ext_modules=extensions())
