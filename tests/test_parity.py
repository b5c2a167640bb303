"""Trajectory parity with scikit-learn's own MLP, checked at run time.

With the same data, parameters and integer random_state, sklr must reproduce
scikit-learn's initialisation, validation split, shuffling, batch order and
update order: loss_curve_ to rtol 1e-6 (float64), coefs_ to atol 1e-6, same
n_iter_, identical predictions.
"""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neural_network as sk_nn
from sklearn.datasets import load_digits, make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import sklr

RTOL64, ATOL64 = 1e-6, 1e-6
# float32 kernels round differently from NumPy's float32 expressions (and the
# loss is accumulated in double), so float32 agreement is to float32 accuracy.
RTOL32, ATOL32 = 2e-3, 2e-3


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Got `batch_size`")
        yield


def _digits(n=300, dtype=np.float64):
    X, y = load_digits(return_X_y=True)
    X = (X[:n] / 16).astype(dtype)
    return X, y[:n]


def _binary(n=200, dtype=np.float64):
    X, y = make_classification(n_samples=n, n_features=12, random_state=3)
    return X.astype(dtype), y


def _multilabel(n=150, dtype=np.float64):
    X, Y = make_multilabel_classification(n_samples=n, n_features=10, n_classes=4, random_state=1)
    return (X / 4).astype(dtype), Y


def _regression(n=200, dtype=np.float64, poisson=False):
    X, y = make_regression(n_samples=n, n_features=8, noise=1.0, random_state=2)
    X = X.astype(dtype)
    if poisson:
        y = np.random.RandomState(0).poisson(np.exp(0.2 * X[:, 0] + 0.1 * X[:, 1]))
    else:
        y = y / 100
    return X, y.astype(dtype)


def _pair(kind, **params):
    name = {"clf": "MLPClassifier", "reg": "MLPRegressor"}[kind]
    return getattr(sk_nn, name)(**params), getattr(sklr, name)(**params)


def assert_same_model(ref, est, X, float32=False):
    rtol, atol = (RTOL32, ATOL32) if float32 else (RTOL64, ATOL64)
    assert est.n_iter_ == ref.n_iter_
    assert est.t_ == ref.t_
    if hasattr(ref, "loss_curve_"):
        np.testing.assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=rtol)
        assert len(est.loss_curve_) == len(ref.loss_curve_)
    np.testing.assert_allclose(est.loss_, ref.loss_, rtol=rtol)
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)
    if ref.validation_scores_ if hasattr(ref, "validation_scores_") else False:
        np.testing.assert_allclose(est.validation_scores_, ref.validation_scores_, rtol=rtol)
        assert est.best_validation_score_ == pytest.approx(ref.best_validation_score_, rel=rtol)
    for attr in ("best_loss_",):
        a, b = getattr(ref, attr, None), getattr(est, attr, None)
        if a is None or b is None:
            assert a is b
        else:
            np.testing.assert_allclose(b, a, rtol=rtol)
    assert est.out_activation_ == ref.out_activation_
    assert est.n_layers_ == ref.n_layers_
    assert est.n_outputs_ == ref.n_outputs_
    if hasattr(ref, "predict_proba"):
        if not float32:
            np.testing.assert_array_equal(est.predict(X), ref.predict(X))
        np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), rtol=rtol, atol=atol)
        np.testing.assert_array_equal(est.classes_, ref.classes_)
    else:
        np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=rtol, atol=atol)


SGD_VARIANTS = [
    dict(solver="sgd", learning_rate="constant", momentum=0.0, learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="constant", momentum=0.9, nesterovs_momentum=False),
    dict(solver="sgd", learning_rate="constant", momentum=0.9, nesterovs_momentum=True),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5, power_t=0.3),
    dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=2, tol=1e-2),
    dict(solver="adam"),
    dict(solver="adam", beta_1=0.5, beta_2=0.99, epsilon=1e-6, learning_rate_init=0.01),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("params", SGD_VARIANTS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("batch_size", [1, 32, "auto", 1000])
def test_classifier_solver_matrix(params, batch_size):
    X, y = _digits(150)
    max_iter = 3 if batch_size == 1 else 20
    kw = dict(hidden_layer_sizes=(15,), random_state=0, max_iter=max_iter, batch_size=batch_size, **params)
    ref, est = _pair("clf", **kw)
    ref.fit(X, y)
    est.fit(X, y)
    assert_same_model(ref, est, X)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_activations_two_hidden_layers(activation, solver):
    X, y = _digits(200)
    kw = dict(hidden_layer_sizes=(12, 7), activation=activation, solver=solver, random_state=1, max_iter=15)
    ref, est = _pair("clf", **kw)
    assert_same_model(ref.fit(X, y), est.fit(X, y), X)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_early_stopping(early_stopping, solver, target):
    X, y = _binary(300) if target == "binary" else _digits(300)
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=2, max_iter=20,
              early_stopping=early_stopping, n_iter_no_change=3, validation_fraction=0.2)
    ref, est = _pair("clf", **kw)
    assert_same_model(ref.fit(X, y), est.fit(X, y), X)
    if early_stopping:
        np.testing.assert_allclose(est.history_["val_score"], ref.validation_scores_)


@pytest.mark.parametrize(
    "solver, early_stopping",
    [("sgd", False), ("sgd", True), ("adam", False), ("adam", True), ("lbfgs", False)],
)
def test_sample_weight(solver, early_stopping):
    X, y = _digits(200)
    sw = np.random.RandomState(0).uniform(0.1, 3, size=X.shape[0])
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=15,
              early_stopping=early_stopping, batch_size=32)
    ref, est = _pair("clf", **kw)
    assert_same_model(ref.fit(X, y, sample_weight=sw), est.fit(X, y, sample_weight=sw), X)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_multilabel(solver):
    X, Y = _multilabel()
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=15)
    ref, est = _pair("clf", **kw)
    assert_same_model(ref.fit(X, Y), est.fit(X, Y), X)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("multi_output", [False, True])
def test_regressor(solver, loss, multi_output):
    X, y = _regression(poisson=loss == "poisson")
    if multi_output:
        y = np.column_stack([y, y[::-1]])
    kw = dict(loss=loss, hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=15,
              learning_rate_init=0.001 if loss == "poisson" else 0.01)
    ref, est = _pair("reg", **kw)
    assert_same_model(ref.fit(X, y), est.fit(X, y), X)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32(kind, solver):
    if kind == "clf":
        X, y = _digits(200, dtype=np.float32)
    else:
        X, y = _regression(dtype=np.float32)
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=10, batch_size=32)
    ref, est = _pair(kind, **kw)
    ref.fit(X, y)
    est.fit(X, y)
    for c in est.coefs_ + est.intercepts_:
        assert c.dtype == np.float32
    assert est.predict(X).dtype == (np.float32 if kind == "reg" else y.dtype)
    assert_same_model(ref, est, X, float32=True)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("params", [dict(solver="adam", alpha=1e-3),
                                    dict(solver="sgd", momentum=0.9, learning_rate_init=0.05)],
                         ids=["adam", "sgd-nesterov"])
def test_large_network(activation, params):
    """A network of > 65536 parameters takes the kernel's other path: each
    product is cut by columns (or, for the weight gradients, by the rows of
    W) over the threads, and each layer's update is applied in the backward
    pass while its gradient is in cache, block by block."""
    X, y = make_classification(n_samples=260, n_features=200, n_informative=30,
                               n_classes=4, random_state=0)
    kw = dict(hidden_layer_sizes=(300, 200), activation=activation, batch_size=100,
              max_iter=3, random_state=0, **params)
    ref, est = _pair("clf", **kw)
    ref.fit(X, y)
    est.fit(X, y)
    assert sum(c.size for c in est.coefs_) > 65536
    assert_same_model(ref, est, X)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sparse_input(fmt, solver):
    X, y = _digits(200)
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=10)
    ref, est = _pair("clf", **kw)
    assert_same_model(ref.fit(Xs, y), est.fit(Xs, y), X)
    # Sparse and dense inputs train the same network.
    dense = sklr.MLPClassifier(**kw).fit(X, y)
    for a, b in zip(est.coefs_, dense.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_partial_fit_sequence(kind, solver, shuffle):
    X, y = _digits(200) if kind == "clf" else _regression()
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, batch_size=50, shuffle=shuffle,
              learning_rate_init=0.01)
    ref, est = _pair(kind, **kw)
    extra = {"classes": np.unique(y)} if kind == "clf" else {}
    for i in range(5):
        part = slice(40 * i, 40 * i + 60)
        ref.partial_fit(X[part], y[part], **(extra if i == 0 else {}))
        est.partial_fit(X[part], y[part], **(extra if i == 0 else {}))
        np.testing.assert_allclose(est.loss_, ref.loss_, rtol=RTOL64)
    assert_same_model(ref, est, X)
    assert len(est.history_["loss"]) == 5


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_warm_start(solver, learning_rate):
    X, y = _digits(200)
    kw = dict(hidden_layer_sizes=(10,), solver=solver, random_state=0, max_iter=5, warm_start=True,
              learning_rate=learning_rate, learning_rate_init=0.05 if solver == "sgd" else 0.001)
    ref, est = _pair("clf", **kw)
    for _ in range(3):
        ref.fit(X, y)
        est.fit(X, y)
        assert_same_model(ref, est, X)
    if solver != "lbfgs":
        assert len(est.history_["loss"]) == 15


def test_random_state_instance_and_clone():
    X, y = _digits(150)
    kw = dict(hidden_layer_sizes=(8,), random_state=np.random.RandomState(5), max_iter=5)
    ref, est = _pair("clf", **copy.deepcopy(kw))
    est.set_params(random_state=np.random.RandomState(5))
    assert_same_model(ref.fit(X, y), est.fit(X, y), X)
