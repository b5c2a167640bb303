"""sklr on a Dask cluster: searches, Incremental, a lost worker, the thread budget.

The tests need the ``dask`` extra (``pip install "sklr[dask]"``) and are skipped
without it. They share one ``LocalCluster`` bound to 127.0.0.1: two worker
processes (each started by a nanny, which restarts it if it dies) with one
thread each, as the user guide's page "Beyond one machine" starts it.

Every comparison is with the same computation run in this process without
Dask, and is exact: the fits are small enough that the kernel splits no
minibatch across threads, so where a fit runs does not change a bit of it.
"""

import itertools
import os
import pathlib
import signal
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklr import MLPClassifier
from sklr.model_selection import (
    AnnealingSearchCV, EpochHalvingSearchCV, HyperbandSearchCV, PopulationSearchCV,
)
from sklr.schedules import StepDecay

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

TESTS_DIR = pathlib.Path(__file__).resolve().parent
# Seconds any wait of these tests may last before it fails the test.
TIMEOUT = 60

X, Y = load_digits(return_X_y=True)
X = X[:600] / 16
Y = Y[:600]


def _mlp(**params):
    params = {
        "hidden_layer_sizes": (16,),
        "solver": "sgd",
        "learning_rate": StepDecay(step_size=2, gamma=0.5),
        "learning_rate_init": 0.1,
        "batch_size": 64,
        "max_iter": 4,
        "random_state": 0,
        **params,
    }
    return MLPClassifier(**params)


GRID = {"learning_rate__gamma": [0.2, 0.8], "learning_rate_init": [0.05, 0.2]}

# Each entry builds a search around an estimator: a new search is one line.
SEARCHES = [
    pytest.param(lambda est: GridSearchCV(est, GRID, cv=3), id="GridSearchCV"),
    pytest.param(
        lambda est: AnnealingSearchCV(
            est,
            {"learning_rate__gamma": uniform(0.1, 0.8),
             "learning_rate_init": loguniform(0.01, 0.3)},
            n_iter=6, batch_size=3, cv=3, random_state=0),
        id="AnnealingSearchCV",
    ),
    pytest.param(lambda est: EpochHalvingSearchCV(est, GRID, factor=2, max_epochs=4, cv=3,
                                                  random_state=0), id="EpochHalvingSearchCV"),
    pytest.param(lambda est: HyperbandSearchCV(est, GRID, factor=2, max_epochs=4, cv=3,
                                               random_state=0), id="HyperbandSearchCV"),
    pytest.param(lambda est: PopulationSearchCV(  # it sets the rate's schedule itself
        est.set_params(learning_rate="constant"),
        {"learning_rate_init": loguniform(0.01, 0.3)}, population_size=4,
        interval_epochs=1, n_intervals=3, cv=3, random_state=0), id="PopulationSearchCV"),
]


@pytest.fixture(scope="module")
def client():
    """A client of a two-process cluster on 127.0.0.1, for the whole module."""
    # The workers import this module to unpickle its helpers (the scorer
    # below); pytest put its folder on this process's path only.
    path = os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))
    environ = dict(os.environ)
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0", env={"PYTHONPATH": path},
        ) as cluster, distributed.Client(cluster, timeout=TIMEOUT) as client:
            yield client
    finally:
        # The nanny sets its workers' OMP_NUM_THREADS=1 (and a few more) in
        # this process's environment too; later tests' subprocesses would
        # inherit them.
        os.environ.clear()
        os.environ.update(environ)


def _assert_same_cv_results(got, expected):
    """Equal ``cv_results_``, bit for bit, apart from the measured times."""
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        if key.endswith("_time"):
            continue
        have = got[key]
        if isinstance(want, np.ndarray) and want.dtype.kind in "biuf":
            assert_array_equal(np.ma.getmaskarray(have), np.ma.getmaskarray(want), err_msg=key)
            assert_array_equal(np.ma.getdata(have), np.ma.getdata(want), err_msg=key)
        else:  # params, object columns: repr is exact for floats and objects
            assert [repr(v) for v in have] == [repr(v) for v in want], key


def _fit_on_cluster(client, search, **backend_params):
    """Fit ``search`` with joblib's dask backend; return the workers that ran tasks."""
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_backend("dask", **backend_params):
            search.fit(X, Y)
    return {task["worker"] for task in stream.data}


@pytest.mark.parametrize("make_search", SEARCHES)
def test_search_on_dask_equals_local(client, make_search):
    local = make_search(_mlp()).fit(X, Y)
    remote = make_search(_mlp())
    workers = _fit_on_cluster(client, remote)
    assert workers  # the fits did run on the cluster, not here
    _assert_same_cv_results(remote.cv_results_, local.cv_results_)
    assert remote.best_params_ == local.best_params_


def test_incremental_resumes_the_schedule_across_chunks(client):
    """``Incremental`` = one ``partial_fit`` per chunk = one epoch of the schedule."""
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    classes = np.unique(Y)
    est = _mlp(learning_rate=StepDecay(step_size=2, gamma=0.5), batch_size=32)
    chunk = 150  # 4 chunks, each a minibatch count that is not a multiple of 32
    dX = da.from_array(X, chunks=(chunk, X.shape[1]))
    dY = da.from_array(Y, chunks=chunk)
    inc = wrappers.Incremental(est, shuffle_blocks=False)
    inc.fit(dX, dY, classes=classes)  # runs on the cluster: one task per chunk
    inc.partial_fit(dX, dY, classes=classes)  # a second pass continues it

    loop = clone(est)
    for _ in range(2):
        for start in range(0, len(X), chunk):
            loop.partial_fit(X[start:start + chunk], Y[start:start + chunk], classes=classes)

    fitted = inc.estimator_
    assert len(fitted.loss_curve_) == 8  # one epoch per chunk and pass
    assert fitted.t_ == loop.t_ == 2 * len(X)
    for a, b in zip(fitted.coefs_ + fitted.intercepts_, loop.coefs_ + loop.intercepts_):
        assert_array_equal(a, b)
    assert_array_equal(fitted.loss_curve_, loop.loss_curve_)
    # The closed form of StepDecay over the 8 chunks: the rate never
    # restarted at a chunk (nor at the second pass).
    epochs = np.arange(8)
    assert_array_equal(fitted.history_["learning_rate"], 0.1 * 0.5 ** (epochs // 2))


# -- the thread budget -------------------------------------------------------------


def _big_fit():
    """A fit whose minibatches are big enough for the kernel to split them."""
    return _mlp(hidden_layer_sizes=(64,), batch_size=256, max_iter=1).fit(X, Y)


def _recording_kernel(seen):
    """A ``Kernel`` that appends the thread count it was built with to ``seen``."""
    import sklr._trainer

    class Recording(sklr._trainer.Kernel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self.n_threads)

    return Recording


def _threads_of_a_fit():
    """In a worker process: the fit's kernel thread count, and the OS threads it added.

    The OpenMP runtime starts ``n - 1`` threads the first time a kernel runs
    ``n`` threads, and keeps them, so the second number counts the threads
    the fit really ran (Linux; None elsewhere). Runs through ``client.run``,
    alone in its process, so replacing the kernel class for one fit is safe.
    """
    import sklr._trainer

    def n_os_threads():
        task = pathlib.Path("/proc/self/task")
        return len(list(task.iterdir())) if task.exists() else None

    seen = []
    real, sklr._trainer.Kernel = sklr._trainer.Kernel, _recording_kernel(seen)
    try:
        before = n_os_threads()
        _big_fit()
        after = n_os_threads()
    finally:
        sklr._trainer.Kernel = real
    return seen, None if before is None else after - before


def test_fits_on_process_workers_use_one_thread(client):
    results = client.run(_threads_of_a_fit)
    assert len(results) == 2
    for kernel_threads, started in results.values():
        assert kernel_threads == [1]
        assert started in (0, None)


def test_fits_on_a_cluster_of_threads_use_one_thread_each(monkeypatch):
    """``processes=False``: the workers are threads of this process, which has all the cores."""
    import sklr._trainer

    seen = []
    monkeypatch.setattr(sklr._trainer, "Kernel", _recording_kernel(seen))
    _big_fit()  # here, outside any worker: every core the limits allow
    here = seen.pop()
    if here == 1:
        pytest.skip("one thread allowed here: nothing for a worker to give up")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0",
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        client.gather([client.submit(_big_fit, pure=False) for _ in range(2)])
    assert seen == [1, 1]


# -- a worker lost mid-search (last: it restarts a worker of the cluster) ----------


class _HoldOnce:
    """Scorer that holds the first fit to be scored until the test kills its worker.

    The first call in any process (across the cluster: a file created
    exclusively in ``folder`` decides) writes its pid to ``folder/holding``
    and waits, at most ``TIMEOUT`` seconds, to be killed; every other call,
    and every call once ``folder/killed`` exists, just scores. With
    ``folder=None`` it never holds.
    """

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, estimator, X, y):
        if self.folder is not None:
            folder = pathlib.Path(self.folder)
            try:
                fd = os.open(folder / "holding", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                deadline = time.monotonic() + TIMEOUT
                while not (folder / "killed").exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
        return estimator.score(X, y)


def test_search_survives_a_killed_worker(client, tmp_path):
    """A search whose data every worker holds survives losing a worker mid-fit.

    joblib's dask backend scatters each argument over 1 kB (the data, each
    split's indices) to ONE worker; losing that worker loses the only copy,
    and the search fails (``FutureCancelledError: ... already forgotten``).
    Broadcasting them beforehand (``scatter=``, with the splits passed as a
    list so that the search uses those very arrays) leaves a copy on every
    worker, as long as the Active Memory Manager, which deletes replicas
    nothing waits for every 2 s, is stopped; the scheduler then reruns the
    lost fit elsewhere.
    """
    splits = list(StratifiedKFold(3).split(X, Y))
    shared = [X, Y, *itertools.chain.from_iterable(splits)]
    local = GridSearchCV(_mlp(), GRID, cv=3, scoring=_HoldOnce(None)).fit(X, Y)
    pids_before = set(client.run(os.getpid).values())

    killed = []

    def kill_the_holding_worker():
        holding = tmp_path / "holding"
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if holding.exists() and holding.read_text():
                pid = int(holding.read_text())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)
        (tmp_path / "killed").touch()  # no later fit holds

    killer = threading.Thread(target=kill_the_holding_worker, daemon=True)
    killer.start()
    remote = GridSearchCV(_mlp(), GRID, cv=splits, scoring=_HoldOnce(str(tmp_path)))
    client.amm.stop()
    try:
        _fit_on_cluster(client, remote, scatter=shared)
    finally:
        client.amm.start()
        killer.join(TIMEOUT)

    assert len(killed) == 1 and killed[0] in pids_before  # a worker process died mid-fit
    _assert_same_cv_results(remote.cv_results_, local.cv_results_)
    # (Last in the module: the cluster may be down a worker until here.)
    # The nanny started a new worker process in its place.
    client.wait_for_workers(2, timeout=TIMEOUT)
    assert killed[0] not in set(client.run(os.getpid).values())
