# All OpenMP routines used by sklr are cimported from this shim, which also
# compiles without OpenMP (setup.py probes the compiler): the routines then
# fall back to single-threaded no-ops.

cdef extern from *:
    """
    #ifdef _OPENMP
        #include <omp.h>
        #define SKLR_OPENMP_ENABLED 1
    #else
        #define SKLR_OPENMP_ENABLED 0
        #define omp_get_max_threads() 1
        #define omp_get_thread_num() 0
    #endif
    """
    bint SKLR_OPENMP_ENABLED
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
