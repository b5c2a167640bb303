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
"""

import contextlib
import threading

import threadpoolctl
from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
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
