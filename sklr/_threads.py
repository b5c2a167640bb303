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
import time

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


def _cpu_set():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return os.sched_getaffinity(0)
    return set(range(os.cpu_count() or 1))


def _available_cpus():
    """How many CPUs this process may run on."""
    return len(_cpu_set())


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


# -- threads from the machine's load ------------------------------------------

_active_fits = 0  # fits of this process running now (threads of one search, notebooks)


def _read_cpu_busy(cpus):
    """Seconds the CPUs ``cpus`` have spent busy (all processes), or None."""
    try:
        with open("/proc/stat", "rb") as f:
            lines = f.read().split(b"\n")
    except OSError:
        return None
    ticks = 0
    for line in lines[1:]:
        if not line.startswith(b"cpu"):
            break
        fields = line.split()
        if int(fields[0][3:]) in cpus:
            # user nice system idle iowait irq softirq steal ...: all but idle, iowait
            values = [int(v) for v in fields[1:9]]
            ticks += sum(values) - values[3] - values[4]
    return ticks / _CLOCK_TICKS


def _own_running():
    """The ids of this process's threads that are running or runnable now."""
    running = set()
    for task in os.scandir("/proc/self/task"):
        with open(os.path.join(task.path, "stat"), "rb") as f:
            # pid (comm) state ...: the state follows the last ')'.
            if f.read().rpartition(b")")[2].split()[0] == b"R":
                running.add(task.name)
    return running


def _runnable_count():
    """``/proc/loadavg``'s count of the machine's runnable threads now."""
    with open("/proc/loadavg", "rb") as f:
        return int(f.read().split()[3].split(b"/")[0])


def _runnable_now():
    """Threads of other processes runnable on the machine now, or None.

    ``/proc/loadavg``'s runnable count, minus this process's running threads
    (this one, and pools still spinning after an earlier call: sklr's OpenMP
    workers, NumPy's OpenBLAS threads). A thread of this process counts as
    running if it was in a look at its threads just before reading the count
    or just after: one that started or stopped waiting in between (a pool
    going to sleep) must not pass for another process's.
    """
    try:
        if _runnable_count() <= 1:
            return 0  # the thread reading: nothing else runs (one read)
        before = _own_running()
        runnable = _runnable_count()
        if runnable <= 1:
            return 0
        own = len(before | _own_running())
    except (OSError, IndexError, ValueError):
        return None
    return max(0, runnable - max(own, 1))


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

def _others_at_start():
    """``_runnable_now``, confirmed by a second reading right after it.

    One reading is an instant, and it decides a fit's threads until the
    first measurement window (two epochs; a whole short fit): a thread
    runnable just then (a daemon waking up) would cost the fit its cores
    (after a scikit-learn fit, 1 start in 4 here lost half its threads).
    When the first reading sees other threads, a second one follows at
    once, and the fewer count: busy neighbours, and fits starting beside
    this one, are in both. (Readings spread over milliseconds missed the
    other of two fits starting together, both took all the cores and ran
    1.3 times slower than one after the other.) An idle machine costs one
    reading.
    """
    others = _runnable_now()
    if others:  # not 0, nor None (no /proc)
        again = _runnable_now()
        if again is not None:
            others = min(others, again)
    return others


class LoadWatch:
    """The threads a fit should use now, from what else the machine runs.

    An OpenMP fit waits at every minibatch for its slowest thread; when other
    work holds some of the cores, one of its threads is descheduled for a
    time slice and the others wait (spinning, then sleeping). Two fits of
    all the cores side by side then run several times slower than one after
    the other. Since the kernel's results do not depend on its thread count
    (fixed blocks, added in order), a fit can change it between epochs: it
    uses ``max_threads`` on an idle machine, and the cores the rest of the
    machine leaves free otherwise:

    - at the start, the CPUs of this process's affinity minus the threads
      of other processes runnable at that moment (``/proc/loadavg``, less
      this process's running threads; the fewer of two readings back to
      back when the first sees any, ``_others_at_start``);
    - then, from the end of the first epoch on, every ``window`` seconds at
      an epoch's end, the CPUs minus the
      CPU time the other processes used over that window (``/proc/stat``,
      all busy time of the process's CPUs, minus this process's CPU time,
      spinning included), rounded;
    - fits running at the same time in this process (a thread-parallel
      search) share the result.

    Where ``/proc`` is not there (not Linux) or ``SKLR_ADAPTIVE_THREADS=0``,
    or ``max_threads`` is 1, it always answers ``max_threads``.

    Parameters
    ----------
    max_threads : int
        The thread budget (:func:`fit_n_threads`): never more.
    window : float, default=0.2
        Seconds between two measurements (``/proc/stat`` counts in 10 ms
        ticks: a shorter window is mostly rounding).
    """

    def __init__(self, max_threads, window=0.2):
        self.max_threads = max(1, int(max_threads))
        self.window = window
        self.n_threads = self.max_threads
        self._cpus = _cpu_set()
        self._counted = False
        self._t0 = None  # the measurement window starts at the first epoch's end
        others = None
        if self.max_threads > 1 and os.environ.get("SKLR_ADAPTIVE_THREADS", "1") != "0":
            others = _others_at_start()
        self.active = others is not None
        if not self.active:
            return
        global _active_fits
        with _lock:
            _active_fits += 1
        self._counted = True
        self.n_threads = self._choose(others)
        self._calls = 0

    def _mark(self):
        self._t0 = time.perf_counter()
        self._busy0 = _read_cpu_busy(self._cpus)
        self._own0 = time.process_time()

    def _choose(self, others):
        free = len(self._cpus) - others
        n = min(self.max_threads, max(1, int(free + 0.5)))
        return max(1, n // max(1, _active_fits))

    def threads(self):
        """The threads for the next epoch."""
        if not self.active:
            return self.max_threads
        self._calls += 1
        if self._calls == 1:
            return self.n_threads  # before the first epoch: the choice at the start
        if self._t0 is None:
            self._mark()  # (a fit of one epoch never reads /proc/stat)
            return self.n_threads
        now = time.perf_counter()
        if now - self._t0 >= self.window:
            busy = _read_cpu_busy(self._cpus)
            own = time.process_time()
            if busy is not None and self._busy0 is not None:
                others = max(0.0, (busy - self._busy0) - (own - self._own0)) / (now - self._t0)
                self.n_threads = self._choose(others)
            self._mark()
        return self.n_threads

    def close(self):
        """The fit is over (idempotent)."""
        global _active_fits
        if self._counted:
            with _lock:
                _active_fits -= 1
            self._counted = False
