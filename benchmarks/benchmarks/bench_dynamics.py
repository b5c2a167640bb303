"""Cost of ``record_dynamics``, against a plain fit measured alongside.

Run from ``benchmarks/``::

    asv run -E existing:python --quick --bench Dynamics

``time_fit`` fits ten epochs on digits (batch 32: 57 updates per epoch)
with ``record_dynamics`` off (``'off'``), with the kernel's per-layer
statistics (``'layers'``: ``record_dynamics=True``), with the sharpness
probe every epoch (``'sharpness'``) and with the gradient noise scale
every epoch (``'noise'``); the ratio of each to ``'off'`` is its cost.
``'off'`` against the same fit before ``record_dynamics`` existed is the
"off costs nothing" check; ``benchmarks/epoch_instructions.py`` measures
it in instructions (see doc/development.rst).
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


def _record(kind):
    if kind == "off":
        return False
    if kind == "layers":
        return True
    if kind == "sharpness":
        return sklr.Dynamics(sharpness_every=1)
    return sklr.Dynamics(noise_scale=True)


class Dynamics:
    params = [["sgd", "adam"], ["off", "layers", "sharpness", "noise"]]
    param_names = ["solver", "record"]

    def setup(self, solver, record):
        if sklr is None:
            raise NotImplementedError(_SKLR_IMPORT_ERROR)
        X, y = load_digits(return_X_y=True)
        rng = np.random.RandomState(0)
        order = rng.permutation(len(y))
        self.X, self.y = X[order] / 16.0, y[order]
        self.estimator = sklr.MLPClassifier(
            solver=solver, hidden_layer_sizes=(100,), batch_size=32, max_iter=10,
            random_state=0, tol=0.0, n_iter_no_change=100, record_dynamics=_record(record))
        warnings.simplefilter("ignore", ConvergenceWarning)

    def time_fit(self, solver, record):
        self.estimator.fit(self.X, self.y)
