"""Scale guards: fit time linear in the rows, no copy of X, memmaps stay on disk.

Measured sound on the training-core v2 code (issue 13): per-epoch time grows
linearly with the rows, a fit makes no copy of X, and a read-only
``np.memmap`` X trains without being loaded into anonymous memory. These
benchmarks keep it so:

- :class:`TimeVsRows` -- a 3-epoch fit on 10k .. 160k rows of 100 float32
  features, hidden (128,), batch 256 (adam, all threads);
  ``track_seconds_per_epoch_per_10k_rows`` should stay flat across ``rows``.
- :class:`MemoryVsX` -- a 1-epoch fit on X of 100k .. 1.6M rows (38 .. 610
  MiB of float32, 400 bytes per row), held in memory (``storage='array'``)
  or as a read-only ``np.memmap`` of a ``.npy`` file (``'memmap'``):
  ``peakmem_fit`` is asv's peak resident memory of the process (X included,
  for a memmap too: the file's pages that the fit reads count as resident),
  ``track_fit_extra_anon_mib`` the peak growth of the process's *anonymous*
  memory during the fit (``RssAnon`` of ``/proc/self/status``, sampled every
  millisecond from a second thread while the kernel runs without the GIL):
  a copy of X would add X's size there, for either storage. What a fit does
  add grows with the rows too, by tens of bytes per row (per-row arrays such
  as the labels and the epoch's order of the rows): 3.9, 20.8 and 85 MiB for
  38, 153 and 610 MiB of X in one quick run, about the same for a memmap.
  Linux only (skipped elsewhere).

Run from ``benchmarks/``::

    asv run -E existing:python --bench bench_scale
    asv run -E existing:python --quick --bench TimeVsRows
"""

import os
import shutil
import tempfile
import threading
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

try:
    import sklr
except ImportError as exc:
    sklr = None
    _SKLR_IMPORT_ERROR = repr(exc)
else:
    _SKLR_IMPORT_ERROR = None

N_FEATURES = 100


def _require_sklr():
    if sklr is None:
        raise NotImplementedError(f"sklr is not importable: {_SKLR_IMPORT_ERROR}")


def make_data(n_rows, seed=0, block=100_000):
    """``(X, y)``: float32 Gaussian features and a linear rule with noise.

    Written block by block, so that no float64 temporary of X's size raises the
    process's peak memory before the fit.
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_rows, N_FEATURES), dtype=np.float32)
    for start in range(0, n_rows, block):
        X[start:start + block] = rng.standard_normal(
            (min(block, n_rows - start), N_FEATURES), dtype=np.float32)
    w = rng.standard_normal(N_FEATURES).astype(np.float32)
    noise = rng.standard_normal(n_rows).astype(np.float32)
    y = (X @ w + noise > 0).astype(np.int64)
    return X, y


def make_classifier(epochs):
    return sklr.MLPClassifier(
        hidden_layer_sizes=(128,), batch_size=256, max_iter=epochs, tol=0.0,
        n_iter_no_change=10**9, shuffle=True, random_state=0,
    )


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)


class TimeVsRows:
    """Fit time against the number of rows (100 float32 features)."""

    params = [[10_000, 20_000, 40_000, 80_000, 160_000]]
    param_names = ["rows"]
    epochs = 3
    number = 1
    repeat = (3, 10, 30.0)
    timeout = 300

    def setup(self, rows):
        _require_sklr()
        self.X, self.y = make_data(rows)
        # Warm-up: thread pool, allocator, lazy imports.
        fit(make_classifier(1), self.X[:2048], self.y[:2048])

    def time_fit(self, rows):
        fit(make_classifier(self.epochs), self.X, self.y)

    def track_seconds_per_epoch_per_10k_rows(self, rows):
        """Median of 3 fits' time per epoch and per 10 000 rows."""
        times = []
        for _ in range(3):
            tic = time.perf_counter()
            fit(make_classifier(self.epochs), self.X, self.y)
            times.append(time.perf_counter() - tic)
        return float(np.median(times)) / self.epochs / (rows / 10_000)

    track_seconds_per_epoch_per_10k_rows.unit = "s"


def _rss_anon_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise NotImplementedError("no RssAnon in /proc/self/status")


class _AnonPeak:
    """Highest ``RssAnon`` seen by a sampling thread while the block runs."""

    def __init__(self, interval=0.001):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_anon_kib())
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = _rss_anon_kib()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_anon_kib())


class MemoryVsX:
    """Memory of a 1-epoch fit against X's size, X in memory or memory-mapped."""

    params = [[100_000, 400_000, 1_600_000], ["array", "memmap"]]
    param_names = ["rows", "storage"]
    timeout = 600

    def setup(self, rows, storage):
        _require_sklr()
        if not os.path.exists("/proc/self/status"):
            raise NotImplementedError("needs Linux's /proc/self/status")
        X, self.y = make_data(rows)
        self._dir = None
        if storage == "memmap":
            self._dir = tempfile.mkdtemp(prefix="sklr_bench_scale_")
            path = os.path.join(self._dir, "X.npy")
            np.save(path, X)
            del X
            self.X = np.load(path, mmap_mode="r")  # read-only np.memmap
        else:
            self.X = X
        fit(make_classifier(1), np.ascontiguousarray(self.X[:2048]), self.y[:2048])

    def teardown(self, rows, storage):
        self.X = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def peakmem_fit(self, rows, storage):
        fit(make_classifier(1), self.X, self.y)

    def track_fit_extra_anon_mib(self, rows, storage):
        before = _rss_anon_kib()
        with _AnonPeak() as peak:
            fit(make_classifier(1), self.X, self.y)
        return (peak.peak - before) / 1024

    track_fit_extra_anon_mib.unit = "MiB"
