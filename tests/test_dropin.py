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


# ---------------------------------------------------------------------------
# 4. Reassigned weights survive copies and later fits
# ---------------------------------------------------------------------------

def _pickled(est):
    return pickle.loads(pickle.dumps(est))


def _joblibbed(est, tmp_path):
    joblib.dump(est, tmp_path / "est.joblib")
    return joblib.load(tmp_path / "est.joblib")


COPIES = {
    "pickle": lambda est, tmp_path: _pickled(est),
    "deepcopy": lambda est, tmp_path: copy.deepcopy(est),
    "copy": lambda est, tmp_path: copy.copy(est),
    "joblib": _joblibbed,
}


def _fitted(**params):
    X, y = _data("classifier")
    params = {"hidden_layer_sizes": (4, 4), "max_iter": 3, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(**params).fit(X, y), X, y


ASSIGNMENTS = {
    "new lists": lambda est: (
        setattr(est, "coefs_", [c * 2 + 1 for c in est.coefs_]),
        setattr(est, "intercepts_", [b - 1 for b in est.intercepts_]),
    ),
    "one element": lambda est: est.coefs_.__setitem__(0, np.zeros_like(est.coefs_[0])),
    # Views of the buffer, but not the ones the model made.
    "transposed view": lambda est: est.coefs_.__setitem__(1, est.coefs_[1].T),
    "reversed view": lambda est: est.coefs_.__setitem__(1, est.coefs_[1][::-1]),
    "in place": lambda est: est.coefs_[0].__setitem__(slice(None), 0.0),
}


@pytest.mark.parametrize("assign", ASSIGNMENTS)
@pytest.mark.parametrize("copy_name", COPIES)
def test_assigned_weights_survive_copies(assign, copy_name, tmp_path):
    est, X, _ = _fitted()
    ASSIGNMENTS[assign](est)
    expected = [np.array(w) for w in est.coefs_ + est.intercepts_]
    proba = est.predict_proba(X)
    copied = COPIES[copy_name](est, tmp_path)
    for w, e in zip(copied.coefs_ + copied.intercepts_, expected):
        assert_array_equal(w, e)
    assert_array_equal(copied.predict_proba(X), proba)
    # The original is untouched by the copy.
    for w, e in zip(est.coefs_ + est.intercepts_, expected):
        assert_array_equal(w, e)


@pytest.mark.parametrize("assign", ASSIGNMENTS)
@pytest.mark.parametrize("how", ["partial_fit", "warm_start", "pickle then partial_fit"])
def test_assigned_weights_are_where_training_continues(assign, how):
    # With plain SGD (no momentum) the next epoch depends on the weights only:
    # it must be scikit-learn's epoch from the assigned weights.
    params = dict(solver="sgd", momentum=0.0, learning_rate_init=0.05, batch_size=16,
                  max_iter=1, warm_start=how == "warm_start")
    est, X, y = _fitted(**params)
    ASSIGNMENTS[assign](est)
    coefs = [np.array(c) for c in est.coefs_]
    intercepts = [np.array(b) for b in est.intercepts_]
    ref = _hand_set_sklearn(sknn.MLPClassifier(**params, random_state=0,
                                               hidden_layer_sizes=(4, 4)),
                            coefs, intercepts, "logistic")
    if how == "pickle then partial_fit":
        est = _pickled(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if how == "warm_start":
            est.fit(X, y)
            ref.fit(X, y)
        else:
            est.partial_fit(X, y)
            ref.partial_fit(X, y, classes=[0, 1])
    _assert_same_weights(est, ref)


def test_a_failed_partial_fit_keeps_assigned_weights():
    est, X, y = _fitted(solver="sgd")
    ASSIGNMENTS["new lists"](est)
    expected = [np.array(w) for w in est.coefs_ + est.intercepts_]
    with pytest.raises(ValueError):
        est.partial_fit(X[:, :3], y)  # wrong number of features
    for w, e in zip(est.coefs_ + est.intercepts_, expected):
        assert_array_equal(w, e)
    assert_array_equal(_pickled(est).coefs_[0], expected[0])


def test_in_place_edits_write_through_to_the_buffer():
    est, X, _ = _fitted()
    buffer = est._params
    est.coefs_[0][:] = 0
    est.intercepts_[0][:] = 0
    assert est._params is buffer
    assert all(v.base is buffer for v in est.coefs_ + est.intercepts_)
    assert (buffer[: est.coefs_[0].size] == 0).all()
    copied = _pickled(est)
    assert (copied.coefs_[0] == 0).all() and (copied.intercepts_[0] == 0).all()
    assert_allclose(copied.predict_proba(X), est.predict_proba(X))

