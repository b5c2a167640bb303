"""Benchmarks of sklr's MLPClassifier, side by side with scikit-learn's.

Run from ``benchmarks/``::

    asv run -E existing:python --quick          # smoke run, one sample each
    asv run -E existing:python                  # full statistics
    asv run -E existing:python --bench EpochKernel

Three groups:

- :class:`FitFiveEpochs` times a whole ``fit`` of exactly five epochs for sklr
  *and* scikit-learn (the ``library`` parameter), so one asv run holds both and
  the speed of sklr can be read as a ratio against its peer measured on the same
  machine at the same time.
- :class:`EpochKernel` times one epoch of sklr's Cython kernel alone (no
  validation, no history, no Python per-epoch bookkeeping); comparing it with
  ``FitFiveEpochs / 5`` separates Python overhead from kernel speed.
- :class:`PeakMemFit` records the peak resident memory of a ``fit``.

A benchmark whose setup raises ``NotImplementedError`` is skipped by asv: that
is how the sklr half of the suite is skipped while sklr (or its private
``make_epoch_runner`` helper) is not importable.
"""

import warnings
from functools import lru_cache

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

try:
    import sklr
except ImportError as exc:  # the sklr half of the suite is then skipped
    sklr = None
    _SKLR_IMPORT_ERROR = repr(exc)
else:
    _SKLR_IMPORT_ERROR = None

EPOCHS = 5
HIDDEN = (100,)
LIBRARIES = ["sklr", "sklearn"]
DATASETS = ["digits", "synthetic"]
SOLVERS = ["sgd", "adam"]
DTYPES = ["float32", "float64"]
BATCH_SIZES = [32, 200]


@lru_cache(maxsize=None)
def _load(dataset):
    if dataset == "digits":
        # 1797 x 64; pixel values 0..16 scaled to [0, 1].
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    elif dataset == "synthetic":
        # 5000 x 100, 10 classes.
        X, y = make_classification(
            n_samples=5000,
            n_features=100,
            n_informative=50,
            n_classes=10,
            random_state=0,
        )
    else:  # pragma: no cover
        raise ValueError(f"unknown dataset {dataset!r}")
    return X, y


def get_data(dataset, dtype):
    """Return ``(X, y)`` with ``X`` C-contiguous in ``dtype``."""
    X, y = _load(dataset)
    return np.ascontiguousarray(X, dtype=np.dtype(dtype)), y


def _require_sklr():
    if sklr is None:
        raise NotImplementedError(f"sklr is not importable: {_SKLR_IMPORT_ERROR}")
    return sklr


def make_classifier(library, solver, batch_size, max_iter=EPOCHS):
    """An unfitted classifier that trains for exactly ``max_iter`` epochs.

    ``tol=0`` and a huge ``n_iter_no_change`` switch the convergence test off,
    so every fit runs all ``max_iter`` epochs in both libraries.
    """
    if library == "sklr":
        MLPClassifier = _require_sklr().MLPClassifier
    elif library == "sklearn":
        from sklearn.neural_network import MLPClassifier
    else:  # pragma: no cover
        raise ValueError(f"unknown library {library!r}")
    return MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        solver=solver,
        batch_size=batch_size,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=10**9,
        shuffle=True,
        random_state=0,
    )


class FitFiveEpochs:
    """``MLPClassifier.fit`` of exactly 5 epochs, sklr vs scikit-learn.

    The reported time covers the whole ``fit`` (validation, initialisation and
    5 epochs), hidden layer (100,). Per-epoch time = reported time / 5.
    """

    params = (LIBRARIES, DATASETS, SOLVERS, DTYPES, BATCH_SIZES)
    param_names = ["library", "dataset", "solver", "dtype", "batch_size"]
    number = 1  # one fit per sample: a fit is long enough to time on its own
    repeat = (1, 5, 20.0)
    warmup_time = 0.0
    timeout = 300

    def setup(self, library, dataset, solver, dtype, batch_size):
        self.X, self.y = get_data(dataset, dtype)
        self.estimator = make_classifier(library, solver, batch_size)

    def time_fit_5_epochs(self, library, dataset, solver, dtype, batch_size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator.fit(self.X, self.y)


class EpochKernel:
    """One epoch of sklr's Cython training kernel, nothing else.

    ``sklr._multilayer_perceptron.make_epoch_runner(estimator, X, y)`` prepares
    an unfitted estimator (validation, initialisation, buffers) and returns a
    zero-argument callable that runs exactly one more epoch of the kernel, with
    no validation and no Python per-epoch bookkeeping. The timed call is that
    callable. ``threads='1'`` runs under ``threadpool_limits(1)`` (OpenMP and
    BLAS), ``'all'`` with the default thread count.
    """

    params = (DATASETS, SOLVERS, DTYPES, BATCH_SIZES, ["1", "all"])
    param_names = ["dataset", "solver", "dtype", "batch_size", "threads"]
    timeout = 120

    def setup(self, dataset, solver, dtype, batch_size, threads):
        _require_sklr()
        try:
            from sklr._multilayer_perceptron import make_epoch_runner
        except ImportError as exc:
            raise NotImplementedError(
                f"sklr._multilayer_perceptron.make_epoch_runner is missing: {exc!r}"
            ) from exc
        X, y = get_data(dataset, dtype)
        estimator = make_classifier("sklr", solver, batch_size)
        self._limits = threadpool_limits(limits=1) if threads == "1" else None
        self.run = make_epoch_runner(estimator, X, y)

    def teardown(self, dataset, solver, dtype, batch_size, threads):
        if getattr(self, "_limits", None) is not None:
            self._limits.restore_original_limits()
            self._limits = None

    def time_epoch_kernel(self, dataset, solver, dtype, batch_size, threads):
        self.run()


class PeakMemFit:
    """Peak resident memory of a 5-epoch ``fit`` on the synthetic data.

    One configuration (adam, batch 200, hidden (100,)); float32 should stay
    float32 end to end, so it should need less memory than float64.
    """

    params = (LIBRARIES, DTYPES)
    param_names = ["library", "dtype"]
    timeout = 300

    def setup(self, library, dtype):
        self.X, self.y = get_data("synthetic", dtype)
        self.estimator = make_classifier(library, "adam", 200)

    def peakmem_fit(self, library, dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator.fit(self.X, self.y)


class PartialFitCall:
    """One ``partial_fit`` call after many earlier ones, beside scikit-learn.

    A call must cost O(1) in the number of earlier calls (sklr keeps an
    append-only record and an O(parameters) rollback snapshot): compare the
    ``prior_calls`` values, and sklr against scikit-learn at each.
    """

    params = (LIBRARIES, [10, 10000])
    param_names = ["library", "prior_calls"]
    timeout = 300

    def setup(self, library, prior_calls):
        if library == "sklr":
            _require_sklr()
        X, y = get_data("digits", "float64")
        self.X, self.y = X[:32], y[:32]
        self.clf = make_classifier(library, "sgd", batch_size=32, max_iter=1)
        classes = np.unique(y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.clf.partial_fit(self.X, self.y, classes=classes)
            for _ in range(prior_calls - 1):
                self.clf.partial_fit(self.X, self.y)

    def time_partial_fit_call(self, library, prior_calls):
        self.clf.partial_fit(self.X, self.y)
