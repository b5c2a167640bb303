"""Estimator behaviour beyond parity: history, schedules, search, pickling, demo."""

import pickle
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from sklr import MLPClassifier, MLPRegressor
from sklr.schedules import Adaptive, Constant, InvScaling, StepDecay


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _assert_epoch_durations(times, wall):
    """Each recorded time is a duration inside the fit: positive, and all of
    them together no longer than the fit took (a clock reading, or a time
    counted from before the fit, is larger than that)."""
    assert np.all(times > 0)
    assert times.sum() <= wall


def test_history_keys_lengths_and_values(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(10,), solver="sgd", momentum=0.8,
                        learning_rate="invscaling", learning_rate_init=0.2, power_t=0.4,
                        max_iter=6, batch_size=50, random_state=0)
    tic = time.perf_counter()
    est.fit(X, y)
    wall = time.perf_counter() - tic
    h = est.history_
    assert set(h) == {"loss", "learning_rate", "momentum", "time"}
    for v in h.values():
        assert v.dtype == np.float64 and v.shape == (6,)
    np.testing.assert_array_equal(h["loss"], est.loss_curve_)
    # invscaling: epoch e runs at lr0 / (1 + rows seen before it) ** power_t.
    expected_lr = 0.2 / (1 + 300 * np.arange(6)) ** 0.4
    np.testing.assert_allclose(h["learning_rate"], expected_lr, rtol=1e-12)
    np.testing.assert_array_equal(h["momentum"], 0.8)
    _assert_epoch_durations(h["time"], wall)


def test_history_with_validation_matches_sklearn(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), early_stopping=True, max_iter=8, random_state=0,
              n_iter_no_change=100)
    est = MLPClassifier(**kw).fit(X, y)
    ref = SkMLPClassifier(**kw).fit(X, y)
    assert {"val_loss", "val_score"} <= set(est.history_)
    np.testing.assert_allclose(est.history_["val_score"], ref.validation_scores_)
    assert est.history_["val_loss"].shape == (8,)
    assert np.all(np.isfinite(est.history_["val_loss"]))
    # Adam records its beta_1 as the momentum in effect.
    np.testing.assert_array_equal(est.history_["momentum"], 0.9)


def test_history_val_loss_is_the_objective_on_the_validation_set(digits):
    """val_loss after one epoch equals the training objective of the model on X_val."""
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), early_stopping=True, max_iter=1, random_state=3,
              n_iter_no_change=100, validation_fraction=0.2)
    est = MLPClassifier(**kw).fit(X, y)
    # Replay sklearn's draws: initialisation (4 uniform draws), then the split.
    rs = check_random_state(3)
    for shape in [(64, 10), 10, (10, 10), 10]:
        rs.uniform(size=shape)
    Yb = est._label_binarizer.transform(y)
    _, X_val, _, Y_val = train_test_split(X, Yb, random_state=rs, test_size=0.2)
    p = est.predict_proba(X_val)
    data = -np.mean(np.sum(Y_val * np.log(np.clip(p, 1e-16, 1)), axis=1))
    l2 = 0.5 * est.alpha * sum((c**2).sum() for c in est.coefs_) / X_val.shape[0]
    np.testing.assert_allclose(est.history_["val_loss"][0], data + l2, rtol=1e-6)


def test_partial_fit_and_warm_start_append_history(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, classes=np.unique(y))
    assert est.history_["loss"].shape == (3,)
    warm = MLPClassifier(hidden_layer_sizes=(10,), max_iter=4, warm_start=True, random_state=0)
    warm.fit(X, y)
    warm.fit(X, y)
    assert warm.history_["loss"].shape == (8,)
    cold = MLPClassifier(hidden_layer_sizes=(10,), max_iter=4, random_state=0)
    cold.fit(X, y)
    cold.fit(X, y)
    assert cold.history_["loss"].shape == (4,)


def test_lbfgs_history(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=12, random_state=0)
    tic = time.perf_counter()
    est.fit(X, y)
    wall = time.perf_counter() - tic
    assert est.history_["loss"].shape == (est.n_iter_,)
    _assert_epoch_durations(est.history_["time"], wall)
    assert est.history_["loss"][-1] == pytest.approx(est.loss_)
    assert np.all(np.isnan(est.history_["learning_rate"]))
    first = est.n_iter_
    est.set_params(warm_start=True, max_iter=5).fit(X, y)
    assert est.history_["loss"].shape == (first + est.n_iter_,)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_schedule_objects_equal_strings(digits, solver):
    """Constant() is 'constant', Adaptive() is 'adaptive', InvScaling is 'invscaling' on a fresh fit."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=12, random_state=0,
              learning_rate_init=0.1 if solver == "sgd" else 0.01, n_iter_no_change=2, tol=0.05)
    for string, obj in [("constant", Constant()), ("adaptive", Adaptive()),
                        ("invscaling", InvScaling(power_t=0.5))]:
        if solver == "adam" and string != "constant":
            continue  # scikit-learn ignores the string shapes for adam
        a = MLPClassifier(learning_rate=string, **kw).fit(X, y)
        b = MLPClassifier(learning_rate=obj, **kw).fit(X, y)
        np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-12)
        np.testing.assert_allclose(b.history_["learning_rate"], a.history_["learning_rate"], rtol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_step_decay_rates_in_history_and_loss(digits, solver):
    """history_ records each epoch's rate; the loss leaves a constant-rate run's
    from the third epoch. That the kernel applies each update's own rate is
    checked against scikit-learn, update by update, in test_kernel_steps.py."""
    X, y = digits
    sched = StepDecay(step_size=2, gamma=0.5)
    est = MLPClassifier(hidden_layer_sizes=(10,), solver=solver, learning_rate=sched,
                        learning_rate_init=0.04, max_iter=6, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.history_["learning_rate"], 0.04 * 0.5 ** (np.arange(6) // 2))
    # A run whose rate is halved every 2 epochs differs from a constant-rate run
    # from the third epoch on (its loss is accumulated while it trains), not before.
    const = MLPClassifier(hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.04,
                          max_iter=6, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.loss_curve_[:2], const.loss_curve_[:2], rtol=1e-12)
    assert abs(est.loss_curve_[2] - const.loss_curve_[2]) > 1e-8


def test_schedule_continues_across_partial_fit(digits):
    """Global counters index the schedule: k partial fits equal one fit of k epochs."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate=StepDecay(step_size=1, gamma=0.7),
              learning_rate_init=0.1, shuffle=False, random_state=0, batch_size=64)
    full = MLPClassifier(max_iter=4, **kw).fit(X, y)
    inc = MLPClassifier(**kw)
    for _ in range(4):
        inc.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(inc.history_["learning_rate"], full.history_["learning_rate"])
    for a, b in zip(inc.coefs_, full.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_grid_search_over_schedule_parameter(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0,
                        learning_rate=StepDecay(step_size=1, gamma=0.5), learning_rate_init=0.1)
    assert "learning_rate__gamma" in est.get_params(deep=True)
    search = GridSearchCV(est, {"learning_rate__gamma": [0.1, 0.9]}, cv=2).fit(X, y)
    assert [p["learning_rate__gamma"] for p in search.cv_results_["params"]] == [0.1, 0.9]
    assert search.best_estimator_.learning_rate.gamma in (0.1, 0.9)
    # The searched object is not the one the user passed (clone), and theirs is untouched.
    assert est.learning_rate.gamma == 0.5
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] != scores[1]


def test_grid_search_swaps_schedule_classes(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=4, random_state=0)
    grid = {"learning_rate": ["constant", StepDecay(gamma=0.5), InvScaling(power_t=0.25)]}
    search = GridSearchCV(est, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 3


@pytest.mark.parametrize("Est, data", [(MLPClassifier, "clf"), (MLPRegressor, "reg")])
def test_pickle_and_clone_fitted(digits, Est, data):
    if data == "clf":
        X, y = digits
    else:
        X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    est = Est(hidden_layer_sizes=(6,), max_iter=3, random_state=0,
              learning_rate=StepDecay(gamma=0.3)).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    for c in again.coefs_ + again.intercepts_:
        assert c.base is again._params
    # Continuing after unpickling trains the restored flat buffer.
    again.partial_fit(X, y)
    est.partial_fit(X, y)
    for a, b in zip(again.coefs_, est.coefs_):
        np.testing.assert_array_equal(a, b)
    cloned = clone(est)
    assert cloned.learning_rate == est.learning_rate
    assert cloned.learning_rate is not est.learning_rate
    assert not hasattr(cloned, "coefs_")


def test_coefs_are_views_and_reassignment_is_respected(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0).fit(X, y)
    assert all(c.base is est._params for c in est.coefs_ + est.intercepts_)
    # A user replacing coefs_ (as scikit-learn allows) is what training continues from.
    est.coefs_ = [np.zeros_like(c) for c in est.coefs_]
    est.intercepts_ = [np.zeros_like(c) for c in est.intercepts_]
    ref = SkMLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0).fit(X, y)
    ref.coefs_ = [np.zeros_like(c) for c in ref.coefs_]
    ref.intercepts_ = [np.zeros_like(c) for c in ref.intercepts_]
    est.partial_fit(X, y)
    ref.partial_fit(X, y)
    for a, b in zip(est.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_verbose_prints_sklearn_lines(digits, capsys):
    X, y = digits
    MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 2, loss = " in out


@pytest.mark.parametrize("where", ["elsewhere", "repository root"])
def test_demo_runs(tmp_path, where):
    """README's 'pip install . && python -m sklr' works, also run at the repository
    root, where the unbuilt source tree comes first on sys.path."""
    from pathlib import Path

    cwd = tmp_path if where == "elsewhere" else Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "sklr", "--epochs", "3"], capture_output=True,
                         text=True, timeout=120, cwd=cwd)
    assert out.returncode == 0, out.stderr
    assert "speed-up" in out.stdout and "test accuracy" in out.stdout


def _epoch_last_values(schedule, n_epochs, steps_per_epoch, batch_size, **kw):
    return schedule.preview(n_epochs, steps_per_epoch, batch_size, **kw)[steps_per_epoch - 1::steps_per_epoch]


def test_reduce_on_plateau_follows_the_training_loss(digits):
    from sklr.schedules import ReduceOnPlateau

    X, y = digits
    plateau = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.05, monitor="loss")
    est = MLPClassifier(hidden_layer_sizes=(10,), solver="sgd", learning_rate=plateau,
                        learning_rate_init=0.5, max_iter=12, batch_size=100, random_state=0,
                        n_iter_no_change=100).fit(X, y)
    # Replaying the rule on the recorded losses gives the recorded rates.
    expected = 0.5 * _epoch_last_values(plateau, 12, 3, 100, monitored=est.history_["loss"])
    np.testing.assert_allclose(est.history_["learning_rate"], expected, rtol=1e-12)
    assert est.history_["learning_rate"][-1] < 0.5  # it did reduce
    # The plateau object itself holds no state.
    assert plateau.get_params() == ReduceOnPlateau(factor=0.5, patience=1, threshold=0.05,
                                                   monitor="loss").get_params()


def test_reduce_on_plateau_on_validation_loss_in_a_product(digits):
    from sklr.schedules import Product, ReduceOnPlateau

    X, y = digits
    plateau = ReduceOnPlateau(factor=0.1, patience=0, threshold=0.0, monitor="val_loss")
    sched = Product(StepDecay(step_size=3, gamma=0.5), plateau)
    est = MLPClassifier(hidden_layer_sizes=(10,), solver="sgd", learning_rate=sched,
                        learning_rate_init=0.3, max_iter=8, early_stopping=True,
                        n_iter_no_change=100, random_state=0).fit(X, y)
    n_val = int(np.ceil(0.1 * len(y)))
    steps = -(-(len(y) - n_val) // 200)
    feedback = _epoch_last_values(plateau, 8, steps, 200, monitored=est.history_["val_loss"])
    shape = _epoch_last_values(StepDecay(step_size=3, gamma=0.5), 8, steps, 200)
    np.testing.assert_allclose(est.history_["learning_rate"], 0.3 * shape * feedback, rtol=1e-12)
    with pytest.raises(ValueError, match="needs validation data"):
        MLPClassifier(learning_rate=plateau, max_iter=2).fit(X, y)


def test_momentum_schedule_in_history_and_loss(digits):
    """history_ records each epoch's last momentum; the loss differs from a
    constant-momentum run. That the kernel applies each update's own momentum
    is checked against scikit-learn in test_kernel_steps.py."""
    from sklr.schedules import MomentumRamp

    X, y = digits
    ramp = MomentumRamp(start=0.5, stable=0.9, ramp=1200, unit="sample")
    kw = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate_init=0.05, max_iter=6,
              batch_size=100, random_state=0, nesterovs_momentum=False)
    est = MLPClassifier(momentum=ramp, **kw).fit(X, y)
    np.testing.assert_allclose(est.history_["momentum"], _epoch_last_values(ramp, 6, 3, 100), rtol=1e-12)
    # A constant-momentum run differs, and so does the loss.
    const = MLPClassifier(momentum=0.9, **kw).fit(X, y)
    assert abs(const.loss_curve_[-1] - est.loss_curve_[-1]) > 1e-8
    with pytest.raises(ValueError, match="feedback"):
        MLPClassifier(momentum=Adaptive(), max_iter=1).fit(X, y)


def test_one_cycle_with_cyclic_momentum_drives_adam_beta_1(digits):
    from sklr.schedules import CyclicMomentum, OneCycle

    X, y = digits
    cycle = OneCycle(total=30, unit="step")
    momentum = CyclicMomentum(cycle, base_momentum=0.85, max_momentum=0.95)
    est = MLPClassifier(hidden_layer_sizes=(10,), solver="adam", learning_rate=cycle,
                        momentum=momentum, learning_rate_init=0.01, batch_size=50,
                        max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.history_["learning_rate"], 0.01 * _epoch_last_values(cycle, 5, 6, 50))
    np.testing.assert_allclose(est.history_["momentum"], _epoch_last_values(momentum, 5, 6, 50))
    # The nested parameters are searchable.
    assert est.get_params()["momentum__cycle__total"] == 30


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_convergence_warning_at_max_iter_as_sklearn(digits, solver):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\) reached"):
        MLPClassifier(hidden_layer_sizes=(5,), solver=solver, max_iter=2, random_state=0).fit(X, y)
