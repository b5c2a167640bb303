"""Cost of the study tools, as ratios against a plain fit measured alongside.

Run from ``benchmarks/``::

    asv run -E existing:python --quick --bench StudyTools

- ``time_find_learning_rate``: the range test (100 minibatch updates) on
  digits, against ``time_fit_ten_epochs`` of the same network (digits at
  batch 32 has 57 updates per epoch: the test is about 2 epochs of work plus
  one kernel call per update).
- ``time_fit_with_validation`` and ``time_fit_recording_train_score``: the
  per-epoch cost of ``fit(X_val=...)`` and ``record_train_score=True``
  against the plain fit.
"""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

try:
    import sklr
except ImportError as exc:
    sklr = None
    _SKLR_IMPORT_ERROR = repr(exc)


class StudyTools:
    params = [["sgd", "adam"]]
    param_names = ["solver"]

    def setup(self, solver):
        if sklr is None:
            raise NotImplementedError(_SKLR_IMPORT_ERROR)
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        rng = np.random.RandomState(0)
        order = rng.permutation(len(y))
        self.X, self.y = X[order[:1500]], y[order[:1500]]
        self.X_val, self.y_val = X[order[1500:]], y[order[1500:]]
        self.params = dict(solver=solver, hidden_layer_sizes=(100,), batch_size=32,
                           max_iter=10, random_state=0, tol=0.0, n_iter_no_change=100)
        warnings.simplefilter("ignore", ConvergenceWarning)

    def time_fit_ten_epochs(self, solver):
        sklr.MLPClassifier(**self.params).fit(self.X, self.y)

    def time_find_learning_rate(self, solver):
        sklr.find_learning_rate(sklr.MLPClassifier(**self.params), self.X, self.y)

    def time_fit_with_validation(self, solver):
        sklr.MLPClassifier(**self.params).fit(self.X, self.y, X_val=self.X_val, y_val=self.y_val)

    def time_fit_recording_train_score(self, solver):
        sklr.MLPClassifier(**self.params, record_train_score=True).fit(self.X, self.y)
