"""Build the Cython extensions of sklr.

Everything about compiling lives here: optimisation flags, the Cython
compiler directives (one dict), the OpenMP probe and the debug switch.

* OpenMP: a tiny OpenMP program is compiled and linked first; when that works
  the extensions are built with ``-fopenmp``, otherwise they are built
  single-threaded (``sklr/_openmp_helpers.pxd`` provides no-op fallbacks) and
  every test still passes.  ``SKLR_NO_OPENMP=1`` forces the fallback.
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

EXTENSIONS = ["sklr._openmp_helpers", "sklr._mlp_fast"]


def _openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or ([], []) without it."""
    if os.environ.get("SKLR_NO_OPENMP", "0") not in ("", "0"):
        print("sklr: SKLR_NO_OPENMP set, building without OpenMP", file=sys.stderr)
        return [], []
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    flags = ["-fopenmp"]
    code = textwrap.dedent(
        """
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
    )
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(code)
        result = subprocess.run(
            cc + flags + [src, "-o", exe], capture_output=True, text=True
        )
        if result.returncode == 0:
            out = subprocess.run([exe], capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip() == "1":
                return flags, flags
        print(
            "sklr: the compiler does not support OpenMP; building single-threaded",
            file=sys.stderr,
        )
        return [], []
    except OSError:
        return [], []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def extensions():
    compile_args, link_args = _openmp_flags()
    if DEBUG:
        opt = ["-O0", "-g"]
    else:
        opt = ["-O3"]
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
