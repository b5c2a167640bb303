"""Cost of ``scoring``: per-epoch metrics against a fit without them.

Run from ``benchmarks/``::

    asv run -E existing:python --quick --bench ScoringCost

Ten epochs on digits (1500 rows train, 297 validate, batch 32, 57 updates
per epoch), every fit with the same validation data, so the differences
are the metrics alone:

- ``scoring='none'``: the default (``'val_loss'`` and ``'val_score'``, one
  forward pass per epoch); ``time_fit_without_validation`` is the fit with
  no validation data at all.
- ``'loss'``: early stopping's key only, nothing more computed.
- ``'accuracy'``, ``'neg_log_loss'``, ``'three'`` (those two and
  ``'roc_auc_ovr'``): scikit-learn scorers fed the epoch's one forward pass.
- ``'callable'``: a plain function ``scorer(estimator, X, y)``, called on
  the estimator: one more forward pass per epoch (the fallback path).

``time_fit_recording_train_score`` adds ``record_train_score=True`` (the
same metrics on the training rows: one forward pass over them per epoch).
"""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score

try:
    import sklr
except ImportError as exc:
    sklr = None
    _SKLR_IMPORT_ERROR = repr(exc)


def _plain_accuracy(estimator, X, y):
    return accuracy_score(y, estimator.predict(X))


_SCORINGS = {
    "none": None,
    "loss": "loss",
    "accuracy": "accuracy",
    "neg_log_loss": "neg_log_loss",
    "three": ["neg_log_loss", "accuracy", "roc_auc_ovr"],
    "callable": {"plain_accuracy": _plain_accuracy},
}


class ScoringCost:
    params = [list(_SCORINGS)]
    param_names = ["scoring"]

    def setup(self, scoring):
        if sklr is None:
            raise NotImplementedError(_SKLR_IMPORT_ERROR)
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        order = np.random.RandomState(0).permutation(len(y))
        self.X, self.y = X[order[:1500]], y[order[:1500]]
        self.X_val, self.y_val = X[order[1500:]], y[order[1500:]]
        self.params = dict(solver="sgd", hidden_layer_sizes=(100,), batch_size=32,
                           max_iter=10, random_state=0, tol=0.0, n_iter_no_change=100,
                           scoring=_SCORINGS[scoring])
        warnings.simplefilter("ignore", ConvergenceWarning)

    def time_fit_without_validation(self, scoring):
        sklr.MLPClassifier(**self.params).fit(self.X, self.y)

    def time_fit_with_validation(self, scoring):
        sklr.MLPClassifier(**self.params).fit(self.X, self.y, X_val=self.X_val,
                                              y_val=self.y_val)

    def time_fit_recording_train_score(self, scoring):
        sklr.MLPClassifier(**self.params, record_train_score=True).fit(
            self.X, self.y, X_val=self.X_val, y_val=self.y_val)
