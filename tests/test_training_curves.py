"""Tests for sklr.model_selection.training_curves."""

import doctest

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklr.model_selection._training_curves as training_curves_module
from sklr import MLPClassifier, MLPRegressor, optimizers
from sklr.model_selection import training_curves
from sklr.schedules import CosineAnnealing, StepDecay


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=160, centers=3, random_state=0)
    return X[:120], y[:120], X[120:], y[120:]


def _clf(**params):
    base = dict(hidden_layer_sizes=(5,), solver="sgd", max_iter=4, random_state=0)
    base.update(params)
    return MLPClassifier(**base)


def _assert_same_history(got, expected):
    """Histories equal key for key, except the wall time."""
    assert set(got) == set(expected)
    for key in expected:
        if key != "time":
            assert_array_equal(got[key], expected[key], err_msg=key)
    assert got["time"].shape == expected["time"].shape


def test_histories_equal_hand_fitted_clones(data):
    X, y, _, _ = data
    est = _clf()
    values = [0.01, 0.1, 0.5]
    curves = training_curves(est, X, y, param_name="learning_rate_init", param_range=values)
    assert curves.param_name == "learning_rate_init"
    assert curves.param_range == values
    assert curves.estimators is None
    assert len(curves.histories) == len(values)
    for value, history in zip(values, curves.histories):
        by_hand = clone(est).set_params(learning_rate_init=value).fit(X, y)
        _assert_same_history(history, by_hand.history_)
        # Constant SGD: the recorded rate is the value itself.
        assert_array_equal(history["learning_rate"], np.full(4, value))
    assert not hasattr(est, "history_"), "the given estimator must not be fitted"


def test_order_preserved_with_two_jobs(data):
    X, y, _, _ = data
    values = [0.3, 0.001, 0.05, 0.002]
    serial = training_curves(_clf(), X, y, param_name="learning_rate_init", param_range=values)
    parallel = training_curves(
        _clf(), X, y, param_name="learning_rate_init", param_range=values, n_jobs=2
    )
    for value, a, b in zip(values, serial.histories, parallel.histories):
        assert b["learning_rate"][0] == value
        _assert_same_history(b, a)


def test_param_range_given_as_iterable_is_listed(data):
    X, y, _, _ = data
    curves = training_curves(
        _clf(max_iter=2), X, y, param_name="momentum", param_range=(m for m in (0.0, 0.9))
    )
    assert curves.param_range == [0.0, 0.9]
    assert [h["momentum"][-1] for h in curves.histories] == [0.0, 0.9]


def test_schedule_objects_and_nested_names(data):
    X, y, _, _ = data
    lr0 = 0.1
    schedules = [CosineAnnealing(period=4, unit="epoch"), StepDecay(step_size=1, gamma=0.5)]
    curves = training_curves(
        _clf(learning_rate_init=lr0, batch_size=120), X, y,
        param_name="learning_rate", param_range=schedules,
    )
    # One update per epoch (batch_size = n_samples): the rate at epoch e.
    epochs = np.arange(4)
    assert_allclose(curves.histories[0]["learning_rate"],
                    lr0 * (1 + np.cos(np.pi * epochs / 4)) / 2, rtol=1e-12)
    assert_allclose(curves.histories[1]["learning_rate"], lr0 * 0.5**epochs, rtol=1e-12)

    nested = training_curves(
        _clf(learning_rate_init=lr0, batch_size=120, learning_rate=StepDecay(step_size=1)),
        X, y, param_name="learning_rate__gamma", param_range=[0.5, 0.25],
    )
    for gamma, history in zip([0.5, 0.25], nested.histories):
        assert_allclose(history["learning_rate"], lr0 * gamma**epochs, rtol=1e-12)


def test_strings_and_optimizer_objects_as_values(data):
    X, y, _, _ = data
    values = ["sgd", optimizers.Adam(beta_1=0.5), "adam"]
    curves = training_curves(_clf(), X, y, param_name="solver", param_range=values,
                             return_estimators=True)
    assert [est.solver for est in curves.estimators] == values
    for value, history in zip(values, curves.histories):
        by_hand = _clf(solver=value).fit(X, y)
        _assert_same_history(history, by_hand.history_)


def test_return_estimators(data):
    X, y, _, _ = data
    est = _clf()
    curves = training_curves(est, X, y, param_name="alpha", param_range=[1e-4, 1.0],
                             return_estimators=True)
    assert len(curves.estimators) == 2
    for value, fitted, history in zip([1e-4, 1.0], curves.estimators, curves.histories):
        assert fitted is not est
        assert fitted.alpha == value
        assert fitted.history_ is history
        assert fitted.n_iter_ == 4


def test_validation_data_adds_val_keys(data):
    X, y, X_val, y_val = data
    est = _clf()
    curves = training_curves(est, X, y, X_val=X_val, y_val=y_val,
                             param_name="learning_rate_init", param_range=[0.01, 0.2])
    for value, history in zip([0.01, 0.2], curves.histories):
        assert {"val_loss", "val_score"} <= set(history)
        assert history["val_score"].shape == (4,)
        by_hand = clone(est).set_params(learning_rate_init=value)
        by_hand.fit(X, y, X_val=X_val, y_val=y_val)
        _assert_same_history(history, by_hand.history_)


def test_validation_sample_weight_is_passed(data):
    X, y, X_val, y_val = data
    sw_val = np.linspace(0.1, 2.0, len(y_val))
    curves = training_curves(_clf(), X, y, X_val=X_val, y_val=y_val,
                             sample_weight_val=sw_val,
                             param_name="learning_rate_init", param_range=[0.1])
    by_hand = _clf(learning_rate_init=0.1).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val
    )
    _assert_same_history(curves.histories[0], by_hand.history_)
    unweighted = _clf(learning_rate_init=0.1).fit(X, y, X_val=X_val, y_val=y_val)
    assert not np.array_equal(curves.histories[0]["val_loss"], unweighted.history_["val_loss"])


def test_early_stopping_split_gives_val_keys(data):
    X, y, _, _ = data
    curves = training_curves(_clf(early_stopping=True, n_iter_no_change=50), X, y,
                             param_name="learning_rate_init", param_range=[0.05])
    assert {"val_loss", "val_score"} <= set(curves.histories[0])


def test_sample_weight_is_passed(data):
    X, y, _, _ = data
    sw = np.linspace(0.5, 1.5, len(y))
    curves = training_curves(_clf(), X, y, sample_weight=sw,
                             param_name="learning_rate_init", param_range=[0.1])
    by_hand = _clf(learning_rate_init=0.1).fit(X, y, sample_weight=sw)
    unweighted = _clf(learning_rate_init=0.1).fit(X, y)
    _assert_same_history(curves.histories[0], by_hand.history_)
    assert not np.array_equal(curves.histories[0]["loss"], unweighted.history_["loss"])


def test_regressor_and_pipeline(data):
    X, y, _, _ = data
    target = X[:, 0] + 0.5 * X[:, 1]
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", max_iter=3, random_state=0)
    curves = training_curves(reg, X, target, param_name="learning_rate_init",
                             param_range=[1e-3, 1e-2])
    assert [len(h["loss"]) for h in curves.histories] == [3, 3]

    pipe = make_pipeline(StandardScaler(), _clf())
    curves = training_curves(pipe, X, y, param_name="mlpclassifier__learning_rate_init",
                             param_range=[0.01, 0.1])
    assert [h["learning_rate"][0] for h in curves.histories] == [0.01, 0.1]


def test_empty_param_range(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="at least one value"):
        training_curves(_clf(), X, y, param_name="alpha", param_range=[])


def test_string_param_range(data):
    X, y, _, _ = data
    with pytest.raises(TypeError, match=r"\['adam'\]"):
        training_curves(_clf(), X, y, param_name="solver", param_range="adam")


def test_bad_param_name_raises_set_params_error(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="Invalid parameter 'not_a_param'"):
        training_curves(_clf(), X, y, param_name="not_a_param", param_range=[1])
    with pytest.raises(TypeError, match="param_name must be a str"):
        training_curves(_clf(), X, y, param_name=None, param_range=[1])


@pytest.mark.parametrize(
    "estimator, name",
    [(LogisticRegression(max_iter=5), "C"), (SkMLPClassifier(max_iter=2), "alpha")],
)
def test_estimator_without_history(data, estimator, name):
    X, y, _, _ = data
    with pytest.raises(TypeError, match="history_"):
        training_curves(estimator, X, y, param_name=name, param_range=[1.0])


def test_validation_arguments(data):
    X, y, X_val, y_val = data
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        training_curves(_clf(), X, y, X_val=X_val, param_name="alpha", param_range=[1.0])
    with pytest.raises(ValueError, match="sample_weight_val needs X_val"):
        training_curves(_clf(), X, y, sample_weight_val=np.ones(len(y)),
                        param_name="alpha", param_range=[1.0])
    with pytest.raises(TypeError, match="does not accept X_val"):
        training_curves(SkMLPClassifier(max_iter=2), X, y, X_val=X_val, y_val=y_val,
                        param_name="alpha", param_range=[1.0])


def test_doctests():
    result = doctest.testmod(training_curves_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_a_diverging_value_keeps_its_finite_epochs():
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=20, random_state=0,
                       momentum=0.0)
    with pytest.warns(UserWarning, match="diverged"):
        curves = training_curves(reg, X, y, param_name="learning_rate_init",
                                 param_range=[1e-4, 10.0])
    assert len(curves.histories[0]["loss"]) == 20
    diverged = curves.histories[1]
    n = len(diverged["loss"])
    assert n < 20 and np.all(np.isfinite(diverged["loss"]))
    # The recorded epochs are those of the same fit stopped before it diverged.
    if n:
        ref = MLPRegressor(**{**reg.get_params(), "learning_rate_init": 10.0, "max_iter": n})
        ref.fit(X, y)
        np.testing.assert_allclose(ref.history_["loss"], diverged["loss"], rtol=1e-12)
