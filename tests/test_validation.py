"""Bad input gives a clear error and loses nothing; edge cases behave as scikit-learn.

Every error case asserts the exception type and a message fragment that names
the problem. The "nothing lost" tests check that a ``partial_fit`` call that
raises (bad input, or a diverging epoch) leaves every fitted attribute exactly
as it was, with ``coefs_``/``intercepts_`` still views of the flat buffer.
Edge cases (one sample, one class, constant features) are compared at run time
with :mod:`sklearn.neural_network` under the same parameters and
``random_state``.
"""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.neural_network as sknn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError

from sklr import MLPClassifier, MLPRegressor
from sklr.schedules import StepDecay

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

ESTIMATORS = [MLPClassifier, MLPRegressor]
SMALL = dict(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
N_SAMPLES, N_FEATURES = 24, 3


def _data(Est, n_samples=N_SAMPLES, n_features=N_FEATURES, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    if Est is MLPClassifier:
        y = np.arange(n_samples) % 3
    else:
        y = X @ rng.randn(n_features) + 0.1 * rng.randn(n_samples)
    return X, y


def _partial_fit(est, X, y, **kwargs):
    if isinstance(est, MLPClassifier) and not hasattr(est, "classes_"):
        kwargs.setdefault("classes", np.arange(3))
    return est.partial_fit(X, y, **kwargs)


def _fitted(Est, **params):
    X, y = _data(Est)
    return Est(**{**SMALL, **params}).fit(X, y), X, y


def _sk_twin(Est):
    return getattr(sknn, Est.__name__)


# ---------------------------------------------------------------------------
# Bad data
# ---------------------------------------------------------------------------

NON_FINITE = [
    pytest.param(np.nan, "Input X contains NaN", id="nan"),
    pytest.param(np.inf, "Input X contains infinity", id="inf"),
    pytest.param(-np.inf, "Input X contains infinity", id="-inf"),
]


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("value, match", NON_FINITE)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_non_finite_X_at_fit(Est, value, match, method):
    X, y = _data(Est)
    X[3, 1] = value
    est = Est(**SMALL)
    with pytest.raises(ValueError, match=match):
        if method == "fit":
            est.fit(X, y)
        else:
            _partial_fit(est, X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("value, match", NON_FINITE)
def test_non_finite_sparse_X_at_fit(Est, value, match):
    X, y = _data(Est)
    X[3, 1] = value
    with pytest.raises(ValueError, match=match):
        Est(**SMALL).fit(sp.csr_matrix(X), y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("value, match", NON_FINITE)
def test_non_finite_X_at_predict(Est, value, match):
    est, X, _ = _fitted(Est)
    X = X.copy()
    X[0, 0] = value
    with pytest.raises(ValueError, match=match):
        est.predict(X)


@pytest.mark.parametrize(
    "value, match",
    [
        pytest.param(np.nan, "Input y contains NaN", id="nan"),
        pytest.param(np.inf, "Input y contains infinity", id="inf"),
        pytest.param(-np.inf, "Input y contains infinity", id="-inf"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_non_finite_y_regressor(value, match, method):
    X, y = _data(MLPRegressor)
    y[5] = value
    est = MLPRegressor(**SMALL)
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_empty_X(Est):
    X, y = _data(Est)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        Est(**SMALL).fit(X[:0], y[:0])


@pytest.mark.parametrize(
    "Est, method",
    [(Est, m) for Est in ESTIMATORS for m in ("predict", "score")]
    + [(MLPClassifier, "predict_proba"), (MLPClassifier, "predict_log_proba")],
)
def test_wrong_number_of_features_at_predict(Est, method):
    est, X, y = _fitted(Est)
    args = (X[:, :2], y) if method == "score" else (X[:, :2],)
    match = rf"X has 2 features, but {Est.__name__} is expecting 3 features as input"
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(*args)


def test_partial_fit_unknown_labels():
    X, y = _data(MLPClassifier)
    est = MLPClassifier(**SMALL).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`"):
        est.partial_fit(X, np.where(y == 2, 7, y))


def test_partial_fit_first_call_without_classes():
    X, y = _data(MLPClassifier)
    est = MLPClassifier(**SMALL)
    with pytest.raises(
        ValueError, match="classes must be passed on the first call to partial_fit"
    ):
        est.partial_fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "kind, match",
    [
        ("strings", "could not convert string to float"),
        ("complex", "Complex data not supported"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "predict"])
def test_non_numeric_X(Est, kind, match, method):
    X, y = _data(Est)
    if kind == "strings":
        bad = np.array([["a", "b", "c"]] * N_SAMPLES, dtype=object)
    else:
        bad = X + 1j
    est = Est(**SMALL)
    if method == "predict":
        est.fit(X, y)
        with pytest.raises(ValueError, match=match):
            est.predict(bad)
    else:
        with pytest.raises(ValueError, match=match):
            est.fit(bad, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "predict"])
def test_3d_X(Est, method):
    X, y = _data(Est)
    est = Est(**SMALL)
    X3 = X.reshape(N_SAMPLES, N_FEATURES, 1)
    with pytest.raises(ValueError, match="Found array with dim 3"):
        if method == "fit":
            est.fit(X3, y)
        else:
            est.fit(X, y).predict(X3)


# ---------------------------------------------------------------------------
# Bad parameters
# ---------------------------------------------------------------------------

INVALID_PARAMS = [
    ("hidden_layer_sizes", 0),
    ("hidden_layer_sizes", -3),
    ("activation", "bogus"),
    ("solver", "bogus"),
    ("alpha", -1),
    ("batch_size", 0),
    ("batch_size", -5),
    ("learning_rate", "bogus"),
    ("learning_rate_init", 0),
    ("learning_rate_init", -0.1),
    ("power_t", -1),
    ("max_iter", 0),
    ("momentum", 1.5),
    ("momentum", -0.1),
    ("validation_fraction", 1.0),
    ("beta_1", 1.0),
    ("beta_2", 1.0),
    ("epsilon", 0),
    ("n_iter_no_change", 0),
    ("tol", -1),
    ("max_fun", 0),
    ("shuffle", "yes"),
    ("early_stopping", "yes"),
]


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "param, value", INVALID_PARAMS, ids=[f"{p}={v!r}" for p, v in INVALID_PARAMS]
)
def test_invalid_parameter(Est, param, value):
    X, y = _data(Est)
    est = Est(**{**SMALL, param: value})
    match = rf"The '{param}' parameter of {Est.__name__} must be"
    with pytest.raises(InvalidParameterError, match=match):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_invalid_parameter_at_partial_fit(Est):
    X, y = _data(Est)
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        _partial_fit(Est(**{**SMALL, "alpha": -1}), X, y)


def test_invalid_loss_regressor():
    X, y = _data(MLPRegressor)
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        MLPRegressor(loss="bogus", **SMALL).fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("sizes", [(0,), (4, 0), (-1,), (4, -2)])
def test_hidden_layer_sizes_with_nonpositive_entry(Est, sizes):
    # A tuple passes the "array-like" constraint; scikit-learn then raises a
    # plain ValueError naming the parameter. Same here.
    X, y = _data(Est)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        Est(**{**SMALL, "hidden_layer_sizes": sizes}).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        _sk_twin(Est)(**{**SMALL, "hidden_layer_sizes": sizes}).fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "value",
    [0.1, 1, StepDecay, object(), lambda t: 0.5],
    ids=["float", "int", "schedule-class", "object", "lambda"],
)
def test_learning_rate_neither_string_nor_schedule(Est, value):
    X, y = _data(Est)
    with pytest.raises(
        InvalidParameterError, match=rf"The 'learning_rate' parameter of {Est.__name__}"
    ):
        Est(**{**SMALL, "learning_rate": value}).fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "schedule, param",
    [(StepDecay(gamma=-1.0), "gamma"), (StepDecay(step_size=0), "step_size"),
     (StepDecay(unit="bogus"), "unit")],
)
def test_learning_rate_schedule_with_invalid_parameter(Est, schedule, param):
    X, y = _data(Est)
    with pytest.raises(InvalidParameterError, match=rf"'{param}' parameter"):
        Est(**{**SMALL, "learning_rate": schedule}).fit(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_with_partial_fit(Est):
    X, y = _data(Est)
    est = Est(**{**SMALL, "early_stopping": True})
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        _partial_fit(est, X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_with_zero_validation_fraction(Est):
    X, y = _data(Est)
    est = Est(**{**SMALL, "early_stopping": True, "validation_fraction": 0})
    with pytest.raises(ValueError, match="validation_fraction"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_sample_weight_wrong_length(Est, method):
    X, y = _data(Est)
    est = Est(**SMALL)
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(5,\), expected \(24,\)"):
        if method == "fit":
            est.fit(X, y, sample_weight=np.ones(5))
        else:
            _partial_fit(est, X, y, sample_weight=np.ones(5))
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_sample_weight_negative(Est, method):
    X, y = _data(Est)
    sw = np.ones(N_SAMPLES)
    sw[4] = -1.0
    est = Est(**SMALL)
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        if method == "fit":
            est.fit(X, y, sample_weight=sw)
        else:
            _partial_fit(est, X, y, sample_weight=sw)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_sample_weight_non_finite(Est, value):
    X, y = _data(Est)
    sw = np.ones(N_SAMPLES)
    sw[2] = value
    with pytest.raises(ValueError, match="Input sample_weight contains"):
        Est(**SMALL).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_poisson_negative_y(method):
    X, y = _data(MLPRegressor)
    y = np.abs(y)
    y[3] = -0.5
    est = MLPRegressor(loss="poisson", **SMALL)
    with pytest.raises(ValueError, match="poisson.*non-negative"):
        getattr(est, method)(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_partial_fit_changed_number_of_features(Est):
    X, y = _data(Est)
    est = _partial_fit(Est(**SMALL), X, y)
    match = rf"X has 2 features, but {Est.__name__} is expecting 3 features as input"
    with pytest.raises(ValueError, match=match):
        est.partial_fit(X[:, :2], y)


# ---------------------------------------------------------------------------
# Nothing lost: a partial_fit that raises leaves the model exactly as it was
# ---------------------------------------------------------------------------

SAVED_ATTRIBUTES = ("coefs_", "intercepts_", "loss_curve_", "t_", "n_iter_", "history_")


def _save(est):
    return {name: copy.deepcopy(getattr(est, name)) for name in SAVED_ATTRIBUTES}


def _assert_unchanged(est, saved, X, pred_before, attrs_before):
    for name in ("coefs_", "intercepts_"):
        now = getattr(est, name)
        assert len(now) == len(saved[name])
        for a, b in zip(now, saved[name]):
            assert a.dtype == b.dtype
            assert_array_equal(a, b, err_msg=name)
    assert_array_equal(est.loss_curve_, saved["loss_curve_"])
    assert est.t_ == saved["t_"]
    assert est.n_iter_ == saved["n_iter_"]
    assert set(est.history_) == set(saved["history_"])
    for key, value in saved["history_"].items():
        assert_array_equal(est.history_[key], value, err_msg=f"history_[{key!r}]")
    assert_array_equal(est.predict(X), pred_before)
    # The flat-buffer invariant survives the failed call.
    for c in list(est.coefs_) + list(est.intercepts_):
        assert c.base is est._params
    assert set(vars(est)) == attrs_before


def _bad_partial_fits(Est, X, y):
    """(name, kwargs for partial_fit) of calls that must raise ValueError."""
    X_nan = X.copy()
    X_nan[2, 0] = np.nan
    sw_neg = np.ones(len(y))
    sw_neg[0] = -1.0
    cases = {
        "nan_X": (dict(X=X_nan, y=y), "Input X contains NaN"),
        "inf_X": (dict(X=np.full_like(X, np.inf), y=y), "Input X contains infinity"),
        "wrong_n_features": (dict(X=X[:, :2], y=y), "X has 2 features"),
        "sample_weight_wrong_length": (
            dict(X=X, y=y, sample_weight=np.ones(3)), "sample_weight.shape"
        ),
        "negative_sample_weight": (
            dict(X=X, y=y, sample_weight=sw_neg), "Negative values"
        ),
    }
    if Est is MLPClassifier:
        cases["unknown_labels"] = (
            dict(X=X, y=np.where(y == 1, 99, y)), "classes not in"
        )
    else:
        y_nan = y.astype(float).copy()
        y_nan[1] = np.nan
        cases["nan_y"] = (dict(X=X, y=y_nan), "Input y contains NaN")
    return cases


_COMMON_CASES = [
    "nan_X", "inf_X", "wrong_n_features", "sample_weight_wrong_length",
    "negative_sample_weight",
]
BAD_CASES = [(MLPClassifier, c) for c in _COMMON_CASES + ["unknown_labels"]] + [
    (MLPRegressor, c) for c in _COMMON_CASES + ["nan_y"]
]


@pytest.mark.parametrize(
    "Est, case", BAD_CASES, ids=[f"{E.__name__}-{c}" for E, c in BAD_CASES]
)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("first", ["fit", "partial_fit"])
def test_failed_partial_fit_loses_nothing(Est, solver, case, first):
    X, y = _data(Est)
    cases = _bad_partial_fits(Est, X, y)
    params = {**SMALL, "solver": solver, "batch_size": 8}
    est = Est(**params)
    twin = Est(**params)
    for model in (est, twin):
        if first == "fit":
            model.fit(X, y)
        else:
            _partial_fit(model, X, y)
            model.partial_fit(X, y)
    saved = _save(est)
    pred = est.predict(X)
    attrs = set(vars(est))

    kwargs, match = cases[case]
    with pytest.raises(ValueError, match=match):
        est.partial_fit(**kwargs)
    _assert_unchanged(est, saved, X, pred, attrs)

    # Training continues exactly as if the failed call never happened
    # (optimizer state, counters and schedules untouched).
    est.partial_fit(X, y)
    twin.partial_fit(X, y)
    for a, b in zip(est.coefs_ + est.intercepts_, twin.coefs_ + twin.intercepts_):
        assert_array_equal(a, b)
    assert_array_equal(est.loss_curve_, twin.loss_curve_)
    assert est.t_ == twin.t_


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_failed_partial_fit_loses_nothing_all_cases_in_a_row(Est):
    X, y = _data(Est)
    est = Est(**{**SMALL, "solver": "sgd"}).fit(X, y)
    saved = _save(est)
    pred = est.predict(X)
    attrs = set(vars(est))
    for name, (kwargs, match) in _bad_partial_fits(Est, X, y).items():
        with pytest.raises(ValueError, match=match):
            est.partial_fit(**kwargs)
        _assert_unchanged(est, saved, X, pred, attrs)


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------

# Found by search: with batch_size=10 both scikit-learn and sklr diverge within
# 20 epochs (scikit-learn raises its "non-finite parameter weights" error).
DIVERGING = dict(
    solver="sgd", learning_rate_init=1e4, momentum=0.9, random_state=0,
    max_iter=20, hidden_layer_sizes=(5,), batch_size=10,
)
DIVERGING_SCALE = 1e3


def _diverging_data():
    X, y = make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )
    return X * DIVERGING_SCALE, y


def _silently(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_sklearn_also_diverges_with_this_setting():
    X, y = _diverging_data()

    def fit_sklearn():
        try:
            est = sknn.MLPClassifier(**DIVERGING).fit(X, y)
        except ValueError as exc:
            assert "non-finite" in str(exc)
            return
        weights = est.coefs_ + est.intercepts_
        assert not all(np.isfinite(w).all() for w in weights)

    _silently(fit_sklearn)


def test_fit_divergence_raises_and_keeps_finite_weights(capsys):
    X, y = _diverging_data()
    est = MLPClassifier(**DIVERGING)
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X, y)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert est.coefs_ and est.intercepts_
    for w in est.coefs_ + est.intercepts_:
        assert np.isfinite(w).all()
        assert w.base is est._params
    assert np.isfinite(est._params).all()


@pytest.mark.parametrize("refit", [False, True])
def test_fit_divergence_leaves_consistent_record(refit):
    # The model keeps its last finite weights; its per-epoch record must then
    # describe the epochs that produced them (not be missing, nor be left over
    # from an earlier fit).
    X, y = _diverging_data()
    est = MLPClassifier(**DIVERGING)
    if refit:
        est.set_params(learning_rate_init=1e-3).fit(X / DIVERGING_SCALE, y)
        est.set_params(learning_rate_init=DIVERGING["learning_rate_init"])
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_)
    assert est.t_ == est.n_iter_ * X.shape[0]
    assert hasattr(est, "history_"), "history_ missing after a diverged fit"
    assert len(est.history_["loss"]) == len(est.loss_curve_)
    assert_allclose(est.history_["loss"], est.loss_curve_)


@pytest.mark.parametrize("learning_rate_init", [10, 1e4])
def test_fit_divergence_other_rate(learning_rate_init):
    X, y = _diverging_data()
    params = {**DIVERGING, "learning_rate_init": learning_rate_init}

    def fit_sklearn():
        with pytest.raises(ValueError, match="non-finite"):
            sknn.MLPClassifier(**params).fit(X, y)

    _silently(fit_sklearn)
    est = MLPClassifier(**params)
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X, y)
    for w in est.coefs_ + est.intercepts_:
        assert np.isfinite(w).all()


def test_partial_fit_divergence_leaves_model_unchanged():
    X, y = _diverging_data()
    est = MLPClassifier(**DIVERGING)
    diverged = False
    for _ in range(DIVERGING["max_iter"]):
        if not hasattr(est, "coefs_"):
            try:
                est.partial_fit(X, y, classes=np.unique(y))
            except ValueError:  # pragma: no cover - would need a 1-epoch divergence
                assert not hasattr(est, "coefs_")
                diverged = True
                break
            continue
        saved = _save(est)
        pred = est.predict(X)
        attrs = set(vars(est))
        try:
            est.partial_fit(X, y)
        except ValueError as exc:
            assert "non-finite" in str(exc)
            _assert_unchanged(est, saved, X, pred, attrs)
            for w in est.coefs_ + est.intercepts_:
                assert np.isfinite(w).all()
            diverged = True
            break
    assert diverged, "the setting did not diverge; the test needs a new one"


def test_sklearn_partial_fit_also_diverges():
    X, y = _diverging_data()

    def run():
        est = sknn.MLPClassifier(**DIVERGING)
        est.partial_fit(X, y, classes=np.unique(y))
        for _ in range(DIVERGING["max_iter"]):
            try:
                est.partial_fit(X, y)
            except ValueError as exc:
                assert "non-finite" in str(exc)
                return True
        return False

    assert _silently(run)


# ---------------------------------------------------------------------------
# Edge cases behave as scikit-learn
# ---------------------------------------------------------------------------

def _outcome(fn):
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - compared with scikit-learn's
        return None, exc


def _compare_with_sklearn(Est, params, fit, X_test):
    """Run ``fit(estimator)`` on sklr and on scikit-learn; same behaviour."""

    def run(cls):
        est = fit(cls(**params))
        out = {"predict": est.predict(X_test)}
        if hasattr(est, "predict_proba"):
            out["predict_proba"] = est.predict_proba(X_test)
            out["classes_"] = est.classes_
        if getattr(est, "loss_curve_", None) is not None:
            out["loss_curve_"] = np.asarray(est.loss_curve_)
        out["loss_"] = est.loss_
        out["n_iter_"] = est.n_iter_
        return out

    ours, our_exc = _outcome(lambda: run(Est))
    ref, ref_exc = _silently(_outcome, lambda: run(_sk_twin(Est)))
    if ref_exc is not None:
        assert our_exc is not None, f"scikit-learn raised {ref_exc!r}; sklr did not"
        assert isinstance(our_exc, type(ref_exc)), (our_exc, ref_exc)
        return
    assert our_exc is None, f"sklr raised {our_exc!r}; scikit-learn did not"
    assert set(ours) == set(ref)
    if Est is MLPClassifier:
        assert_array_equal(ours["predict"], ref["predict"])
    if "classes_" in ref:
        assert_array_equal(ours["classes_"], ref["classes_"])
    assert ours["n_iter_"] == ref["n_iter_"]
    for key in ("predict_proba", "loss_curve_"):
        if key in ref:
            assert_allclose(ours[key], ref[key], rtol=1e-6, err_msg=key)
    assert_allclose(ours["loss_"], ref["loss_"], rtol=1e-6)
    if Est is MLPRegressor:
        assert_allclose(ours["predict"], ref["predict"], rtol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_one_sample_regressor(solver):
    X, y = _data(MLPRegressor)
    params = {**SMALL, "solver": solver}
    _compare_with_sklearn(MLPRegressor, params, lambda e: e.fit(X[:1], y[:1]), X)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_one_sample_classifier(solver, early_stopping):
    X, y = _data(MLPClassifier)
    params = {**SMALL, "solver": solver, "early_stopping": early_stopping}
    _compare_with_sklearn(MLPClassifier, params, lambda e: e.fit(X[:1], y[:1]), X)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_one_sample_classifier_partial_fit(solver):
    X, y = _data(MLPClassifier)
    params = {**SMALL, "solver": solver}
    _compare_with_sklearn(
        MLPClassifier, params,
        lambda e: e.partial_fit(X[:1], y[:1], classes=[0, 1, 2]), X,
    )


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("label", [0, "a"])
def test_one_class_classifier(solver, label):
    X, _ = _data(MLPClassifier)
    y = np.full(N_SAMPLES, label)
    params = {**SMALL, "solver": solver}
    _compare_with_sklearn(MLPClassifier, params, lambda e: e.fit(X, y), X)


def test_one_class_classifier_partial_fit():
    X, _ = _data(MLPClassifier)
    y = np.zeros(N_SAMPLES, dtype=int)
    _compare_with_sklearn(
        MLPClassifier, SMALL, lambda e: e.partial_fit(X, y, classes=[0]), X
    )


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_constant_features(Est, solver):
    X, y = _data(Est, n_features=5)
    X[:, 1] = 0.0
    X[:, 3] = 2.5
    params = {**SMALL, "solver": solver, "max_iter": 10}
    _compare_with_sklearn(Est, params, lambda e: e.fit(X, y), X)


def test_all_features_constant_classifier():
    X, y = _data(MLPClassifier)
    X = np.ones_like(X)
    _compare_with_sklearn(MLPClassifier, SMALL, lambda e: e.fit(X, y), X)


# ---------------------------------------------------------------------------
# Read-only input and float32
# ---------------------------------------------------------------------------

def _readonly(kind, X, tmp_path):
    if kind == "memmap":
        filename = tmp_path / "X.dat"
        mm = np.memmap(filename, dtype=X.dtype, mode="w+", shape=X.shape)
        mm[:] = X
        mm.flush()
        del mm
        return np.memmap(filename, dtype=X.dtype, mode="r", shape=X.shape)
    if kind == "flag":
        X = X.copy()
        X.setflags(write=False)
        return X
    if kind == "sparse":
        S = sp.csr_matrix(X)
        for a in (S.data, S.indices, S.indptr):
            a.setflags(write=False)
        return S
    raise ValueError(kind)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("kind", ["memmap", "flag", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_read_only_input(Est, solver, kind, dtype, tmp_path):
    X, y = _data(Est)
    X = X.astype(dtype)
    X_ro = _readonly(kind, X, tmp_path)
    y_ro = y.copy()
    y_ro.setflags(write=False)
    sw = np.linspace(0.5, 1.5, N_SAMPLES)
    sw.setflags(write=False)
    params = {**SMALL, "solver": solver}

    X_ref = sp.csr_matrix(X) if kind == "sparse" else X  # writeable twin
    est = Est(**params).fit(X_ro, y_ro, sample_weight=sw)
    ref = Est(**params).fit(X_ref, y, sample_weight=sw.copy())
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert_allclose(a, b, rtol=rtol)
    if Est is MLPClassifier:
        assert_array_equal(est.predict(X_ro), ref.predict(X_ref))
        assert_allclose(est.predict_proba(X_ro), ref.predict_proba(X_ref), rtol=rtol)
    else:
        assert_allclose(est.predict(X_ro), ref.predict(X_ref), rtol=rtol)
    if solver != "lbfgs":
        est.partial_fit(X_ro, y_ro)
    # The caller's array is untouched.
    assert_array_equal(np.asarray(X_ro.toarray() if kind == "sparse" else X_ro), X)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_float32_stays_float32(Est, solver):
    X, y = _data(Est)
    X = X.astype(np.float32)
    est = Est(**{**SMALL, "solver": solver}).fit(X, y)
    assert all(c.dtype == np.float32 for c in est.coefs_)
    assert all(b.dtype == np.float32 for b in est.intercepts_)
    assert est._params.dtype == np.float32
    if Est is MLPClassifier:
        assert est.predict_proba(X).dtype == np.float32
    else:
        assert est.predict(X).dtype == np.float32
    # and float64 data given later to a float32 model keeps it float32
    if solver != "lbfgs":
        est.partial_fit(X.astype(np.float64), y)
        assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
        for c in est.coefs_ + est.intercepts_:
            assert c.base is est._params
