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
# 1. Continuing from hand-set weights
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_from_hand_set_weights_matches_sklearn(kind, solver):
    X, y = _data(kind)
    coefs, intercepts = _weights([4, 5, 1])
    params = dict(solver=solver, hidden_layer_sizes=(5,), learning_rate_init=0.05,
                  batch_size=16, random_state=0, momentum=0.9)
    if kind == "classifier":
        Est, SkEst, out, fit_kw = MLPClassifier, sknn.MLPClassifier, "logistic", {
            "classes": [0, 1]}
    else:
        Est, SkEst, out, fit_kw = MLPRegressor, sknn.MLPRegressor, "identity", {}
    ref = _hand_set_sklearn(SkEst(**params), coefs, intercepts, out)
    # sklr needs only the weights.
    est = Est(**params)
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    for _ in range(3):
        ref.partial_fit(X, y, **fit_kw)
        est.partial_fit(X, y, **fit_kw)
    _assert_same_weights(est, ref)
    assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert est.t_ == ref.t_ == 3 * len(X)
    assert est.n_layers_ == 3 and est.n_outputs_ == 1 and est.out_activation_ == out
    assert_allclose(est.history_["loss"], est.loss_curve_)


def test_warm_start_fit_from_hand_set_weights_matches_sklearn():
    X, y = _data("regressor")
    coefs, intercepts = _weights([4, 3, 3, 1], seed=1)
    params = dict(solver="adam", hidden_layer_sizes=(3, 3), learning_rate_init=0.01,
                  random_state=0, warm_start=True, max_iter=5)
    ref = _hand_set_sklearn(sknn.MLPRegressor(**params), coefs, intercepts, "identity")
    est = MLPRegressor(**params)
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
        est.fit(X, y)
    _assert_same_weights(est, ref)
    assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-10)


def test_hand_set_weights_with_fitted_attributes_continue_their_counters():
    # A model's public attributes (here a fitted scikit-learn model's, as when
    # porting it) carry over: t_ continues, loss_curve_ and history_ extend it.
    X, y = _data("classifier")
    params = dict(solver="sgd", hidden_layer_sizes=(5,), learning_rate="invscaling",
                  learning_rate_init=0.1, random_state=0)
    ref = sknn.MLPClassifier(**params, max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
    est = MLPClassifier(**params)
    for name in ("coefs_", "intercepts_", "n_layers_", "n_outputs_", "out_activation_",
                 "t_", "best_loss_", "loss_curve_", "_no_improvement_count",
                 "classes_", "n_features_in_"):
        value = getattr(ref, name)
        setattr(est, name, copy.deepcopy(value))
    # Optimizer state (momentum velocities) is private: both start a fresh one.
    del ref._optimizer
    ref.partial_fit(X, y)
    est.partial_fit(X, y)
    _assert_same_weights(est, ref)
    assert est.t_ == ref.t_ == 5 * len(X)
    assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert len(est.history_["loss"]) == 5
    assert_allclose(est.history_["loss"], est.loss_curve_)


def test_hand_set_weights_of_another_network_are_refused():
    X, y = _data("classifier")
    est = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd")
    coefs, intercepts = _weights([4, 6, 1])
    est.coefs_, est.intercepts_ = coefs, intercepts
    with pytest.raises(ValueError, match="layer sizes"):
        est.partial_fit(X, y, classes=[0, 1])
    est.coefs_ = [coefs[0], coefs[1][:5]]  # does not chain
    with pytest.raises(ValueError, match="do not form a network"):
        est.partial_fit(X, y, classes=[0, 1])


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
# 3. Divergence with validation data
# ---------------------------------------------------------------------------

# scikit-learn's test_mlp_diverging_loss setting.
IRIS_DIVERGING = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                      learning_rate_init=1, max_iter=20, random_state=0)


def test_early_stopping_divergence_keeps_sklearns_best_weights():
    X, y = load_iris(return_X_y=True)
    params = dict(IRIS_DIVERGING, early_stopping=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ref = sknn.MLPRegressor(**params).fit(X, y)
    with np.errstate(all="ignore"), pytest.warns(ConvergenceWarning) as record:
        est = MLPRegressor(**params).fit(X, y)
    [message] = [str(w.message) for w in record if "diverged" in str(w.message)]
    assert f"diverged at epoch {est.n_iter_} " in message
    assert "best validation score" in message and "restored" in message
    k = est.n_iter_
    assert k < params["max_iter"]
    # The epochs before the divergence are scikit-learn's; so are the weights.
    assert np.isnan(est.validation_scores_[-1]) and isinstance(est.validation_scores_[-1], float)
    assert np.isnan(ref.validation_scores_[k - 1])
    assert_allclose(est.validation_scores_[:-1], ref.validation_scores_[:k - 1], rtol=1e-8)
    assert est.best_validation_score_ == pytest.approx(ref.best_validation_score_, rel=1e-8)
    _assert_same_weights(est, ref, rtol=1e-8)
    assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
    assert_allclose(est.predict(X), ref.predict(X), rtol=1e-8)
    # Consistent record of the n_iter_ epochs, the last one NaN.
    assert len(est.loss_curve_) == len(est.validation_scores_) == k
    assert np.isnan(est.loss_) and np.isnan(est.loss_curve_[-1])
    assert est.t_ == k * 135  # 150 samples, 15 held out
    assert len(est.history_["loss"]) == k and np.isnan(est.history_["val_score"][-1])


def test_x_val_divergence_restores_best_validation_weights():
    X, y = load_iris(return_X_y=True)
    X_val, y_val = X[::3], y[::3]
    with np.errstate(all="ignore"), pytest.warns(ConvergenceWarning, match=r"diverged at"):
        est = MLPRegressor(**IRIS_DIVERGING).fit(X, y, X_val=X_val, y_val=y_val)
    k = est.n_iter_
    assert k < IRIS_DIVERGING["max_iter"]
    scores = est.history_["val_score"]
    assert len(scores) == k and np.isnan(scores[-1])
    best = int(np.nanargmax(scores[:-1]))
    # The same fit stopped after the best epoch has the restored weights.
    ref = MLPRegressor(**{**IRIS_DIVERGING, "max_iter": best + 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y, X_val=X_val, y_val=y_val)
    _assert_same_weights(est, ref, rtol=0)
    assert est.score(X_val, y_val) == pytest.approx(scores[best], rel=1e-12)
    assert est.t_ == k * len(X)


def test_divergence_in_the_first_epoch_with_validation_keeps_the_start_weights():
    # A warm-start refit whose first epoch diverges ends where it started.
    X, y = _data("classifier")
    est = MLPClassifier(**{**DIVERGING, "learning_rate_init": 1e-3, "max_iter": 1},
                        warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    start = [w.copy() for w in est.coefs_ + est.intercepts_]
    est.set_params(learning_rate_init=1e6, max_iter=5)
    X_huge = X * 1e50
    with np.errstate(all="ignore"), pytest.warns(ConvergenceWarning, match="epoch 1 ") as w:
        est.fit(X_huge, y, X_val=X_huge, y_val=y)
    assert "no epoch had a validation score yet" in str(w[-1].message)
    for a, b in zip(est.coefs_ + est.intercepts_, start):
        assert_array_equal(a, b)
    assert est.n_iter_ == 1 and np.isnan(est.loss_curve_[-1])


def test_divergence_without_validation_still_raises():
    X, y = _data("classifier")
    with pytest.raises(ValueError, match="non-finite"):
        MLPClassifier(**DIVERGING).fit(X * 1e3, y)


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


@pytest.mark.parametrize("pickled", [False, True])
def test_float64_weights_assigned_to_a_float32_model(pickled):
    X, y = _data("classifier")
    X32 = X.astype(np.float32)
    est = MLPClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(
        X32, y, classes=[0, 1])
    assert est.coefs_[0].dtype == np.float32
    est.coefs_ = [c.astype(np.float64) * 0.5 for c in est.coefs_]
    if pickled:
        est = _pickled(est)
    est.partial_fit(X32, y)
    assert all(w.dtype == est._params.dtype for w in est.coefs_ + est.intercepts_)
    assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
    assert est.predict(X32).shape == y.shape
