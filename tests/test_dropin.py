"""Drop-in behaviours scikit-learn's own tests rely on.

1. Training continues (partial_fit, warm_start) from hand-set ``coefs_`` /
   ``intercepts_``: the private state is derived from the public attributes.
2. The divergence error starts with scikit-learn's message.
3. Divergence with validation data ends on the best-validation weights (with a
   warning) instead of raising.
4. Reassigned ``coefs_``/``intercepts_`` survive every copy and later fits.
"""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
import sklearn.neural_network as sknn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier, MLPRegressor

SKLEARN_MESSAGE = (
    "Solver produced non-finite parameter weights. The input data may contain large"
    " values and need to be preprocessed."
)


def _data(kind, n_samples=60, n_features=4, seed=0):
    if kind == "classifier":
        return make_classification(
            n_samples=n_samples, n_features=n_features, n_informative=3,
            n_redundant=0, random_state=seed,
        )
    X, y = make_regression(n_samples=n_samples, n_features=n_features, random_state=seed)
    return X, y / y.std()


def _weights(units, seed=0):
    rng = np.random.RandomState(seed)
    coefs = [rng.uniform(-0.5, 0.5, (a, b)) for a, b in zip(units[:-1], units[1:])]
    intercepts = [rng.uniform(-0.5, 0.5, b) for b in units[1:]]
    return coefs, intercepts


def _hand_set_sklearn(est, coefs, intercepts, out_activation):
    """What scikit-learn needs set by hand to continue training (as its test_fit)."""
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    est.n_layers_ = len(coefs) + 1
    est.n_outputs_ = coefs[-1].shape[1]
    est.out_activation_ = out_activation
    est.t_ = 0
    est.best_loss_ = np.inf
    est.loss_curve_ = []
    est._no_improvement_count = 0
    return est


def _assert_same_weights(est, ref, rtol=1e-10):
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert_allclose(a, b, rtol=rtol, atol=1e-14)


# ---------------------------------------------------------------------------
# 2. The divergence message
# ---------------------------------------------------------------------------

DIVERGING = dict(solver="sgd", learning_rate_init=1e4, momentum=0.9, random_state=0,
                 max_iter=20, hidden_layer_sizes=(5,), batch_size=10)


def test_divergence_message_starts_with_sklearns():
    X, y = _data("classifier")
    X = X * 1e3
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as sk_exc:
            sknn.MLPClassifier(**DIVERGING).fit(X, y)
    assert str(sk_exc.value) == SKLEARN_MESSAGE
    with pytest.raises(ValueError) as exc:
        MLPClassifier(**DIVERGING).fit(X, y)
    message = str(exc.value)
    assert message.startswith(SKLEARN_MESSAGE + " ")
    assert "at epoch" in message and "learning rate" in message


