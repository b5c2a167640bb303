"""Thread-pool coordination between sklr's OpenMP kernels and BLAS.

The kernels split each minibatch across OpenMP threads and call BLAS from
inside those threads. BLAS must then run single-threaded, or the two pools
oversubscribe the cores (and OpenMP's spinning workers starve BLAS's).

The limit is process-wide (threadpoolctl changes the libraries' global
setting), so fits running concurrently in several Python threads share ONE
limit: the first fit to enter saves the libraries' settings and sets one
thread, the last to leave restores exactly what it saved, whatever the
interleaving. (Per-fit limits would not nest: a fit that entered second
would "restore" the single thread the first had set.)

threadpoolctl >= 3.8 lets only one "controlling" thread change OpenBLAS's
process-wide pool and silently ignores the others; the fit that sets or
restores the limit is not always the one that took control (nor the thread
of a user's own ``threadpool_limits``), so sklr takes control for the
duration of each change and releases it right after.

The OpenMP thread count of a fit (:func:`fit_n_threads`) follows
``OMP_NUM_THREADS`` and ``threadpoolctl``, and is one thread inside the
worker of a parallel search, unless told otherwise: joblib's loky workers and
dask's nanny workers get a limit in their environment, but the workers of
joblib's ``multiprocessing`` backend, of a ``ProcessPoolExecutor`` and of a
dask cluster of threads (``processes=False``) inherit all the cores, and k of
them side by side would run k fits of all the cores each.
"""

import contextlib
import multiprocessing
import os
import sys
import threading

import threadpoolctl
from threadpoolctl import ThreadpoolController

from sklr._openmp_helpers import _openmp_effective_n_threads

# Whether the user limited OpenMP through the environment. Read at import,
# next to the moment the OpenMP runtime reads it (sklr loads its kernel on
# import): dask's nanny sets OMP_NUM_THREADS=1 in its own process's
# environment, later, for its workers, and that does not limit this process.
_OMP_NUM_THREADS_SET = "OMP_NUM_THREADS" in os.environ

_lock = threading.Lock()
_local = threading.local()  # .limit: at most this many threads (fit_threads_at_most)
_controller = None
_depth = 0
_limiter = None


def _get_controller():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def _as_controller(change):
    """Run ``change()`` as the thread that controls OpenBLAS's pool, then release it."""
    openblas = getattr(threadpoolctl, "OpenBLASController", None)
    release = getattr(openblas, "clear_controlling_thread", None)
    if release is not None:
        release(force=True)
    try:
        return change()
    finally:
        if release is not None:
            release(force=True)


@contextlib.contextmanager
def blas_single_threaded():
    """Context manager limiting every loaded BLAS library to one thread."""
    global _depth, _limiter
    with _lock:
        if _depth == 0:
            _limiter = _as_controller(
                lambda: _get_controller().limit(limits=1, user_api="blas"))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _as_controller(_limiter.restore_original_limits)
                _limiter = None


def _available_cpus():
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _in_dask_task():
    """Whether this thread runs a task of a dask ``distributed`` worker."""
    if "distributed" not in sys.modules:  # never import it for the check
        return False
    try:
        sys.modules["distributed"].get_worker()
    except (AttributeError, ValueError):
        return False
    return True


def in_parallel_worker():
    """Whether this fit runs in a worker of a parallel search.

    True in a process that ``multiprocessing`` started (joblib's loky and
    ``multiprocessing`` backends, ``concurrent.futures.ProcessPoolExecutor``,
    dask's nanny workers) and in the task thread of a dask worker (also a
    cluster of threads in the user's own process).
    """
    return multiprocessing.parent_process() is not None or _in_dask_task()


@contextlib.contextmanager
def fit_threads_at_most(n_threads):
    """Fits run in this Python thread use at most ``n_threads`` OpenMP threads.

    A search that runs its fits side by side sets it around each fit. Unlike
    ``threadpoolctl.threadpool_limits`` (which inspects every loaded library:
    milliseconds, more than one epoch of a small network), it costs nothing,
    and it only concerns this thread.
    """
    previous = getattr(_local, "limit", None)
    _local.limit = max(1, int(n_threads))
    try:
        yield
    finally:
        _local.limit = previous


def fit_n_threads():
    """OpenMP threads for the kernel of one fit: the thread budget.

    As many as ``OMP_NUM_THREADS`` or ``threadpoolctl.threadpool_limits``
    allow (all the CPUs by default), except in the worker of a parallel
    search (:func:`in_parallel_worker`), where it is one thread, so that k
    workers side by side run k threads, not k times the cores. A limit the
    user set wins there too: ``OMP_NUM_THREADS`` in the worker's environment
    when sklr was imported (joblib's loky and dask's nanny set it so), or a
    ``threadpool_limits`` below the CPU count in the thread that fits. A
    :func:`fit_threads_at_most` in force caps it.

    Returns
    -------
    n_threads : int
        A positive number of threads.
    """
    n_threads = _openmp_effective_n_threads()
    limit = getattr(_local, "limit", None)
    if limit is not None:
        return min(limit, n_threads)
    if n_threads == 1 or _OMP_NUM_THREADS_SET:
        return n_threads
    if n_threads < _available_cpus():  # a threadpool_limits in force: obey it
        return n_threads
    return 1 if in_parallel_worker() else n_threads
