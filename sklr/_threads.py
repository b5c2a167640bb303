"""Thread-pool coordination between sklr's OpenMP kernels and BLAS.

The kernels split each minibatch across OpenMP threads and call BLAS from
inside those threads. BLAS must then run single-threaded, or the two pools
oversubscribe the cores (and OpenMP's spinning workers starve BLAS's).
"""

import threading

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_controller = None


def _get_controller():
    global _controller
    with _lock:
        if _controller is None:
            _controller = ThreadpoolController()
        return _controller


def blas_single_threaded():
    """Context manager limiting every loaded BLAS library to one thread."""
    return _get_controller().limit(limits=1, user_api="blas")
