"""What the processor running sklr supports, for ``sklr/_dispatch.py``.

Compiled for the baseline target and without OpenMP (``setup.py``): it must
load on every CPU of its architecture, before the kernel is chosen.
"""

cdef extern from *:
    """
    /* x86-64-v3: AVX, AVX2, FMA, BMI1, BMI2 (and F16C, LZCNT, MOVBE, which
       every CPU with those has), usable by this process: the compiler's
       runtime also checks that the OS saves the AVX registers (XGETBV). */
    #if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    static int sklr_x86_64_v3(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("x86-64-v3") != 0;
    }
    #elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int sklr_x86_64_v3(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2")
            && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi")
            && __builtin_cpu_supports("bmi2");
    }
    #else
    static int sklr_x86_64_v3(void) { return 0; }
    #endif
    """
    int sklr_x86_64_v3() noexcept nogil


def supports(str target):
    """Whether this CPU runs code compiled for ``target``.

    Parameters
    ----------
    target : {'baseline', 'x86-64-v3'}
        A CPU target sklr's kernel may be compiled for.

    Returns
    -------
    supported : bool
        True for ``'baseline'``; for ``'x86-64-v3'``, True on an x86-64 CPU
        with AVX2, FMA and BMI2 whose operating system enables AVX.
    """
    if target == "baseline":
        return True
    if target == "x86-64-v3":
        return bool(sklr_x86_64_v3())
    raise ValueError(f"unknown CPU target {target!r}")
