"""Cost of ``checkpoint=``, ``restore_best_weights`` and 'fraction' schedules.

Run from ``benchmarks/``::

    asv run -E existing:python --quick --bench CheckpointCost
    asv run -E existing:python --quick --bench FeatureCost

Ten epochs on digits (1500 rows, (100,), batch 32, 47 updates per epoch),
every fit otherwise the same, so each row's difference to ``'off'`` is the
feature alone:

``CheckpointCost`` (files go to a fresh temporary directory per repeat):

- ``'off'``: no checkpoint (the default).
- ``'end'``: ``Checkpoint(path, every=10)``, i.e. one save, at the end.
- ``'every-epoch'``: a file after each epoch (10 files, all kept).
- ``'every-epoch-keep-2'``: the same, deleting all but the newest two.
- ``'callable'``: ``checkpoint=save`` with a function that does nothing,
  i.e. the hook's own cost per epoch.

A save is one :func:`joblib.dump` of the estimator (weights, optimizer
state, history) to a temporary file and a rename.

``FeatureCost``:

- ``'off'``: a plain fit.
- ``'restore_best_weights'``: ``restore_best_weights=True`` without early
  stopping: a copy of the weights whenever the monitored loss improves.
- ``'onecycle-fraction'`` and ``'onecycle-step'``: ``OneCycle()`` sized by
  the fit (unit ``'fraction'``, the default) and ``OneCycle(total=470,
  unit='step')`` with the same shape in updates; the difference between
  them is the planning and the ``'fraction'`` history key.
"""

import os
import shutil
import tempfile
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

try:
    import sklr
    from sklr.schedules import OneCycle
except ImportError as exc:
    sklr = None
    _SKLR_IMPORT_ERROR = repr(exc)


def _ignore(estimator, epoch):
    """A checkpoint callable that saves nothing: the hook's own cost."""


def _digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = np.random.RandomState(0).permutation(len(y))
    return X[order[:1500]], y[order[:1500]]


_BASE = dict(solver="sgd", hidden_layer_sizes=(100,), batch_size=32, max_iter=10,
             random_state=0, tol=0.0, n_iter_no_change=100)


class CheckpointCost:
    params = [["off", "end", "every-epoch", "every-epoch-keep-2", "callable"]]
    param_names = ["checkpoint"]

    def setup(self, checkpoint):
        if sklr is None:
            raise NotImplementedError(_SKLR_IMPORT_ERROR)
        self.X, self.y = _digits()
        self.directory = tempfile.mkdtemp(prefix="sklr-asv-ckpt-")
        path = os.path.join(self.directory, "mlp-{fit_id}-{epoch:03d}.joblib")
        self.checkpoint = {
            "off": None,
            "end": sklr.Checkpoint(path, every=10),
            "every-epoch": sklr.Checkpoint(path, every=1),
            "every-epoch-keep-2": sklr.Checkpoint(path, every=1, keep=2),
            "callable": _ignore,
        }[checkpoint]
        warnings.simplefilter("ignore", ConvergenceWarning)

    def teardown(self, checkpoint):
        shutil.rmtree(self.directory, ignore_errors=True)

    def time_fit(self, checkpoint):
        sklr.MLPClassifier(**_BASE, checkpoint=self.checkpoint).fit(self.X, self.y)


class FeatureCost:
    params = [["off", "restore_best_weights", "onecycle-fraction", "onecycle-step"]]
    param_names = ["feature"]

    def setup(self, feature):
        if sklr is None:
            raise NotImplementedError(_SKLR_IMPORT_ERROR)
        self.X, self.y = _digits()
        updates = 10 * int(np.ceil(len(self.y) / 32))
        self.extra = {
            "off": {},
            "restore_best_weights": {"restore_best_weights": True},
            "onecycle-fraction": {"learning_rate": OneCycle()},
            "onecycle-step": {"learning_rate": OneCycle(total=updates, unit="step")},
        }[feature]
        warnings.simplefilter("ignore", ConvergenceWarning)

    def time_fit(self, feature):
        sklr.MLPClassifier(**{**_BASE, **self.extra}).fit(self.X, self.y)
