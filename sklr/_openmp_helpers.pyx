"""Python-side access to the OpenMP configuration sklr was built with."""

import os

from sklr._openmp_helpers cimport SKLR_OPENMP_ENABLED, omp_get_max_threads


def _openmp_enabled():
    """Return True when the extension modules were compiled with OpenMP."""
    return bool(SKLR_OPENMP_ENABLED)


def _openmp_effective_n_threads(n_threads=None):
    """Number of OpenMP threads a kernel should use.

    Follows ``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits`` (both
    act on ``omp_get_max_threads``) and never exceeds the CPU count, so that
    OpenMP threads do not oversubscribe the machine.  Returns 1 when sklr was
    built without OpenMP.

    Parameters
    ----------
    n_threads : int, default=None
        Requested number of threads; None means "as many as allowed".
        Negative values count back from the number of CPUs as in joblib.

    Returns
    -------
    n_threads : int
        A positive number of threads.
    """
    if n_threads == 0:
        raise ValueError("n_threads must not be 0.")
    if not SKLR_OPENMP_ENABLED:
        return 1
    max_n_threads = omp_get_max_threads()
    n_cpus = os.cpu_count() or 1
    if n_threads is None:
        return max(1, min(max_n_threads, n_cpus))
    if n_threads < 0:
        return max(1, n_cpus + 1 + n_threads)
    return int(n_threads)
