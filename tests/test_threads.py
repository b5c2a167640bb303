"""The thread budget: one OpenMP thread per fit in the worker of a parallel search.

Each case runs a fit in a fresh process and reports two numbers: the thread
count the fit's kernel was built with (recorded by a subclass of the kernel),
and the OS threads the process gained during the fit. The OpenMP runtime
starts ``n - 1`` threads the first time a kernel runs ``n`` threads, so the
second number counts the threads the fit really ran, independently of sklr's
own bookkeeping (Linux only; elsewhere it is None and not checked).

One more case shows what the budget prevents besides oversubscription: a
forked worker that starts OpenMP threads after its parent did deadlocks in
GCC's OpenMP runtime. The dask workers are in ``test_dask.py``.
"""

import json
import multiprocessing
import os
import pathlib
import signal
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import joblib
import pytest
from sklearn.datasets import make_classification

TESTS_DIR = pathlib.Path(__file__).resolve().parent
PROC_TASKS = pathlib.Path("/proc/self/task")
# The fit below splits each minibatch of 256 rows into parts of at least 16
# rows, one per thread.
MAX_PARTS = 16


def _n_cpus():
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(cpus, os.cpu_count())


def _threads_of_a_fit():
    """Fit a network big enough to split its minibatches, in this process.

    Returns ``(kernel_threads, os_threads_started)``.
    """
    import sklr._trainer
    from sklr import MLPClassifier

    seen = []

    class Recording(sklr._trainer.Kernel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self.n_threads)

    def n_os_threads():
        return len(list(PROC_TASKS.iterdir())) if PROC_TASKS.exists() else None

    X, y = make_classification(n_samples=512, n_features=64, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=1, random_state=0)
    # A fit of small minibatches (one thread whatever the budget) first
    # starts what else a fit may start, e.g. the BLAS threads of a forked child.
    clf.set_params(batch_size=8).fit(X, y)
    real, sklr._trainer.Kernel = sklr._trainer.Kernel, Recording
    try:
        before = n_os_threads()
        clf.set_params(batch_size=256).fit(X, y)
        after = n_os_threads()
    finally:
        sklr._trainer.Kernel = real
    (kernel_threads,) = seen
    return kernel_threads, None if before is None else after - before


def _check(result, n_threads):
    kernel_threads, started = result
    assert kernel_threads == n_threads
    if started is not None:
        assert started == min(n_threads, MAX_PARTS) - 1


@pytest.fixture
def no_limit(monkeypatch):
    """No OMP_NUM_THREADS for the processes a test starts, and no load watch
    (these tests count the threads of the budget; a busy machine would take
    some away)."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("SKLR_ADAPTIVE_THREADS", "0")
    if _n_cpus() < 2:
        pytest.skip("one CPU: no thread to give up")


def _in_a_new_process(function):
    """``function()`` of this module run by a fresh Python (not a worker of anything)."""
    code = f"import json, test_threads as t; print(json.dumps(t.{function.__name__}()))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))}
    # Its own session, so that a timeout ends it with the workers it started.
    with subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"{function.__name__} did not finish in 120 s")
    assert process.returncode == 0, err
    return json.loads(out.splitlines()[-1])


def test_a_plain_process_uses_every_cpu(no_limit):
    _check(_in_a_new_process(_threads_of_a_fit), _n_cpus())


def test_a_worker_process_uses_one_thread(no_limit):
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        _check(pool.submit(_threads_of_a_fit).result(timeout=120), 1)


def test_joblib_multiprocessing_backend_uses_one_thread_per_fit(no_limit):
    # Unlike loky, this backend does not limit its workers' threads.
    with joblib.parallel_backend("multiprocessing", n_jobs=2):
        results = joblib.Parallel(timeout=120)(
            joblib.delayed(_threads_of_a_fit)() for _ in range(2))
    for result in results:
        _check(result, 1)


def test_a_limit_set_for_the_worker_wins(no_limit, monkeypatch):
    """OMP_NUM_THREADS in a worker's environment says how many threads it may use."""
    monkeypatch.setenv("OMP_NUM_THREADS", str(_n_cpus()))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        _check(pool.submit(_threads_of_a_fit).result(timeout=120), _n_cpus())


def _search_in_forked_workers_after_a_threaded_fit():
    """Fit here with every thread, then cross-validate in forked workers."""
    from sklearn.model_selection import cross_val_score

    from sklr import MLPClassifier

    X, y = make_classification(n_samples=512, n_features=64, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(64,), batch_size=256, max_iter=1, random_state=0)
    clf.fit(X, y)  # minibatches split over threads: the OpenMP runtime's pool exists
    with joblib.parallel_backend("multiprocessing", n_jobs=2):
        return list(cross_val_score(clf, X, y, cv=2))


def test_forked_workers_after_a_threaded_fit_do_not_hang(no_limit):
    """GCC's OpenMP runtime is not fork-safe: a forked child whose parent ran
    threads deadlocks when it starts threads itself. Fits in such workers run
    one thread, so a search after a fit in the same session completes."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    scores = _in_a_new_process(_search_in_forked_workers_after_a_threaded_fit)
    assert len(scores) == 2


# -- threads from the machine's load (sklr._threads.LoadWatch) ----------------

class _FakeMachine:
    """``/proc`` as LoadWatch reads it: runnable threads, busy CPU seconds, clocks."""

    def __init__(self, monkeypatch, others=0):
        from sklr import _threads

        self.others, self.busy, self.own, self.now = others, 0.0, 0.0, 0.0
        monkeypatch.setattr(_threads, "_runnable_now", lambda: self.others)
        monkeypatch.setattr(_threads, "_read_cpu_busy", lambda cpus: self.busy)
        monkeypatch.setattr(_threads.time, "perf_counter", lambda: self.now)
        monkeypatch.setattr(_threads.time, "process_time", lambda: self.own)
        monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3},
                            raising=False)
        monkeypatch.delenv("SKLR_ADAPTIVE_THREADS", raising=False)

    def run(self, seconds, own_cores, other_cores):
        """``seconds`` pass; this process uses ``own_cores``, the others ``other_cores``."""
        self.now += seconds
        self.own += seconds * own_cores
        self.busy += seconds * (own_cores + other_cores)


def test_load_watch_uses_the_cores_others_leave(monkeypatch):
    from sklr._threads import LoadWatch

    machine = _FakeMachine(monkeypatch, others=0)  # only this process runs
    watch = LoadWatch(4, window=0.2)
    try:
        assert watch.threads() == 4  # before the first epoch
        machine.run(0.1, 4, 0.0)
        assert watch.threads() == 4  # the first epoch's end starts the window
        machine.run(0.1, 4, 0.0)
        assert watch.threads() == 4  # no measurement before the window ends
        machine.run(0.1, 2.0, 2.0)  # the window: others took 1 core on average
        assert watch.threads() == 3
        machine.run(0.3, 2.0, 2.2)  # ~2 of the 4 cores
        assert watch.threads() == 2
        machine.run(0.3, 2.0, 0.6)  # 0.6 rounds to 1 core
        assert watch.threads() == 3
        machine.run(0.3, 3.0, 5.0)  # more than all the cores: one thread still
        assert watch.threads() == 1
        machine.run(0.3, 1.0, 0.0)
        assert watch.threads() == 4
    finally:
        watch.close()


def test_load_watch_starts_from_the_runnable_threads(monkeypatch):
    from sklr._threads import LoadWatch

    _FakeMachine(monkeypatch, others=2)  # two threads of other processes run
    watch = LoadWatch(4)
    assert watch.threads() == 2
    watch.close()


@pytest.mark.parametrize("readings, expected", [
    ([2, 2], 2),  # busy neighbours: in every reading
    ([1, 0], 4),  # a thread runnable for an instant
    ([3, 1], 3),  # the fewer readings count
    ([0], 4),  # an idle machine: one reading
])
def test_load_watch_start_confirms_the_runnable_threads(monkeypatch, readings, expected):
    from sklr import _threads
    from sklr._threads import LoadWatch

    _FakeMachine(monkeypatch)
    taken = []

    def reading():
        taken.append(readings[len(taken)])  # IndexError: one reading too many
        return taken[-1]

    monkeypatch.setattr(_threads, "_runnable_now", reading)
    watch = LoadWatch(4)
    try:
        assert watch.threads() == expected
        assert len(taken) == len(readings)
    finally:
        watch.close()


def test_runnable_threads_count_this_process_before_and_after(monkeypatch):
    """A thread of this process that stops waiting (or starts) between the
    count and a look at this process's threads is this process's, not
    another's: it counts as running if either look saw it."""
    from sklr import _threads

    looks = iter([{"1", "2"}, {"1"}])  # "2", a pool's thread, goes to sleep
    monkeypatch.setattr(_threads, "_own_running", lambda: next(looks))
    monkeypatch.setattr(_threads, "_runnable_count", lambda: 3)  # "1", "2", another
    assert _threads._runnable_now() == 1
    looks = iter([{"1"}, {"1", "2"}])  # "2" wakes up
    assert _threads._runnable_now() == 1
    looks = iter([{"1"}, {"1"}])
    monkeypatch.setattr(_threads, "_runnable_count", lambda: 1)  # the reader alone
    assert _threads._runnable_now() == 0


def test_load_watch_fits_of_one_process_share_the_cores(monkeypatch):
    from sklr import _threads
    from sklr._threads import LoadWatch

    _FakeMachine(monkeypatch, others=0)
    first = LoadWatch(4)
    second = LoadWatch(4)  # a second fit of this process starts
    assert _threads._active_fits == 2
    assert second.threads() == 2
    second.close()
    second.close()  # idempotent
    first.close()
    assert _threads._active_fits == 0


@pytest.mark.parametrize("setting", ["off", "one-thread"])
def test_load_watch_inactive(monkeypatch, setting):
    from sklr._threads import LoadWatch

    machine = _FakeMachine(monkeypatch, others=8)
    if setting == "off":
        monkeypatch.setenv("SKLR_ADAPTIVE_THREADS", "0")
        expected = 4
    else:
        expected = 1
    watch = LoadWatch(4 if setting == "off" else 1)
    machine.run(1.0, 1.0, 4.0)
    assert watch.threads() == expected
    watch.close()


def _busy_loop():
    while True:
        pass


@pytest.mark.skipif(not pathlib.Path("/proc/loadavg").exists(), reason="Linux /proc")
@pytest.mark.skipif(not pathlib.Path("/proc/loadavg").exists(), reason="Linux /proc")
def test_runnable_threads_of_other_processes():
    from sklr._threads import _runnable_now

    context = multiprocessing.get_context("spawn")
    loops = [context.Process(target=_busy_loop, daemon=True) for _ in range(2)]
    quiet = _runnable_now()
    for loop in loops:
        loop.start()
    try:
        import time

        time.sleep(1.0)
        busy = _runnable_now()
    finally:
        for loop in loops:
            loop.kill()
            loop.join()
    assert busy >= 2 and busy >= quiet + 1, (quiet, busy)


def test_a_fit_beside_busy_processes_takes_fewer_threads(no_limit, monkeypatch):
    """The real thing: with a busy loop on every CPU, the kernel is asked for
    one thread (the threads it runs are chosen at each epoch)."""
    import numpy as np

    import sklr._trainer
    from sklr import MLPClassifier

    monkeypatch.delenv("SKLR_ADAPTIVE_THREADS", raising=False)
    asked = []
    real = sklr._trainer.Kernel

    class Recording(real):
        def set_n_threads(self, n_threads):
            asked.append(n_threads)
            super().set_n_threads(n_threads)

    X, y = make_classification(n_samples=512, n_features=64, random_state=0)
    context = multiprocessing.get_context("spawn")
    loops = [context.Process(target=_busy_loop, daemon=True) for _ in range(_n_cpus())]
    for loop in loops:
        loop.start()
    try:
        import time

        time.sleep(1.0)  # the loops are running
        monkeypatch.setattr(sklr._trainer, "Kernel", Recording)
        monkeypatch.setattr(sklr._trainer, "fit_n_threads", _n_cpus)
        MLPClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0).fit(X, y)
    finally:
        for loop in loops:
            loop.kill()
            loop.join()
    assert len(asked) == 2 and asked[0] < _n_cpus(), asked
    assert np.all(np.asarray(asked) >= 1)
