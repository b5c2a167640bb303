"""Pausing a fit at the end of an epoch and resuming it (sklr._pause).

The reference is always one uninterrupted fit with the same parameters: a fit
of ``max_iter`` epochs paused after epoch k (once or several times) and
resumed must end bit for bit where that fit ends: weights, loss curve,
history (wall time aside), counters, optimizer arrays, shuffling stream.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier, MLPRegressor
from sklr import schedules as S
from sklr._pause import FitControl, advance, as_if_ended, cooled_copy, is_paused

from _same_fit import assert_same_fit


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


CASES = {
    "adam-onecycle-fraction": dict(solver="adam", learning_rate=S.OneCycle()),
    "sgd-cosine-fraction-nesterov": dict(
        solver="sgd", momentum=0.9, learning_rate=S.CosineAnnealing()),
    "adam-cosine-early-stopping": dict(
        solver="adam", learning_rate=S.CosineAnnealing(), early_stopping=True,
        n_iter_no_change=50),
    "sgd-onecycle-early-stopping-stops": dict(
        solver="sgd", learning_rate=S.OneCycle(), early_stopping=True,
        n_iter_no_change=2, tol=0.05),
    "adam-noshuffle-restore": dict(solver="adam", shuffle=False, restore_best_weights=True),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1, tol=0.5),
}


def _make(name, **extra):
    common = dict(hidden_layer_sizes=(16,), batch_size=40, max_iter=12, random_state=0,
                  learning_rate_init=0.01)
    return MLPClassifier(**{**common, **CASES[name], **extra})


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("pauses", [(5,), (1, 4, 9), (11,)])
def test_paused_and_resumed_fit_equals_uninterrupted_fit(digits, name, pauses):
    X, y = digits
    reference = _fit(_make(name), X, y)
    est = _make(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in pauses:
            advance(est, X, y, k)
            if is_paused(est):
                assert est.n_iter_ == k
                assert est.history_.n_epochs == k
            # Through a pickle, as a process-parallel search moves it.
            est = pickle.loads(pickle.dumps(est))
        advance(est, X, y, est.max_iter)
    assert not is_paused(est)
    assert est.warm_start is False  # the parameter is as the user set it
    assert "_fit_control" not in est.__dict__
    assert_same_fit(est, reference)


def test_a_stopped_fit_is_not_paused_and_advance_leaves_it(digits):
    X, y = digits
    est = _make("sgd-onecycle-early-stopping-stops", max_iter=200)
    advance(est, X, y, 150)
    assert not is_paused(est) and est.n_iter_ < 150  # early stopping ended the fit
    before = [c.copy() for c in est.coefs_]
    advance(est, X, y, 200)
    for a, b in zip(est.coefs_, before):
        assert_array_equal(a, b)


def test_the_paused_call_warns_nothing_and_the_final_call_warns_once(digits):
    X, y = digits
    est = _make("adam-onecycle-fraction")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        advance(est, X, y, 6)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        advance(est, X, y, 12)


def test_fraction_schedule_is_planned_over_max_iter_not_the_pause(digits):
    """Paused at k of N, a 'fraction' schedule sits at k/N of its course."""
    X, y = digits
    est = _make("adam-onecycle-fraction", max_iter=20)
    advance(est, X, y, 5)
    short = _fit(_make("adam-onecycle-fraction", max_iter=5), X, y)
    n = -(-X.shape[0] // 40)  # updates per epoch
    # The 'fraction' unit: (update index) / (planned updates - 1).
    np.testing.assert_allclose(est.history_["fraction"][-1], (5 * n - 1) / (20 * n - 1))
    assert short.history_["fraction"][-1] == pytest.approx(1.0)
    # The rates differ from those of a fit of 5 epochs: OneCycle peaks at
    # 0.3 of its plan, so epoch 5 of 20 is still warming up.
    lr = est.history_["learning_rate"]
    assert np.all(np.diff(lr) > 0)
    assert short.history_["learning_rate"][-1] < lr[-1]


def test_as_if_ended_puts_back_the_best_weights_of_early_stopping(digits):
    X, y = digits
    est = _make("adam-cosine-early-stopping", max_iter=30, learning_rate_init=0.05)
    advance(est, X, y, 15)
    ended = as_if_ended(est)
    assert ended is not est and is_paused(est) and not is_paused(ended)
    # The weights of the best validation score so far, which a fit stopped
    # here would keep: those of an uninterrupted fit of 15 epochs' best epoch.
    best = int(np.argmax(est.validation_scores_))
    reference = _fit(_make("adam-cosine-early-stopping", max_iter=30,
                           learning_rate_init=0.05), X, y)
    assert reference.validation_scores_[:15] == est.validation_scores_
    assert_array_equal(ended._params, est._state.best_params)
    if best < 14:  # the current weights are not the best ones
        assert not np.array_equal(ended._params, est._params)
    # A model that restores nothing is returned as is.
    plain = _make("adam-onecycle-fraction")
    advance(plain, X, y, 3)
    assert as_if_ended(plain) is plain


def test_cooldown_decays_the_rate_linearly_and_leaves_the_original(digits):
    X, y = digits
    est = _make("sgd-cosine-fraction-nesterov", max_iter=20)
    advance(est, X, y, 6)
    kept = copy.deepcopy(est)
    cooled = cooled_copy(est, X, y, 3)
    assert_same_fit(est, kept)  # the original is untouched
    assert cooled.n_iter_ == 9
    # The rate of the last update of each cooldown epoch: the schedule's
    # own rate (from an uninterrupted fit) times 1 - (e + (n-1)/n) / 3.
    full = _fit(_make("sgd-cosine-fraction-nesterov", max_iter=20), X, y)
    n = -(-X.shape[0] // 40)
    expected = [full.history_["learning_rate"][6 + e] * (1 - (e + (n - 1) / n) / 3)
                for e in range(3)]
    np.testing.assert_allclose(cooled.history_["learning_rate"][6:], expected, rtol=1e-12)
    # Resuming the original afterwards still equals the uninterrupted fit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        advance(est, X, y, 20)
    assert_same_fit(est, full)


def test_fit_control_factors():
    control = FitControl(cooldown=(10, 2))
    lr = np.full(4, 2.0)
    np.testing.assert_allclose(control.scale_rates(lr, 10), 2 * (1 - np.arange(4) / 8))
    np.testing.assert_allclose(control.scale_rates(lr, 11), 2 * (1 - (4 + np.arange(4)) / 8))
    np.testing.assert_allclose(control.scale_rates(lr, 12), 0.0)
    assert FitControl().scale_rates(lr, 3) is lr
    assert FitControl(pause_after=3).pauses_after(3, 10)
    assert not FitControl(pause_after=3).pauses_after(10, 10)
    assert not FitControl(pause_after=3).pauses_after(2, 10)


def test_regressor_pauses_too(digits):
    X, y = digits
    y = y.astype(float)
    params = dict(hidden_layer_sizes=(8,), solver="adam", learning_rate=S.OneCycle(),
                  max_iter=8, random_state=1, batch_size=64)
    reference = _fit(MLPRegressor(**params), X, y)
    est = MLPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        advance(est, X, y, 3)
        advance(est, X, y, 8)
    assert_same_fit(est, reference)


def test_cooled_copy_needs_a_paused_fit(digits):
    X, y = digits
    est = _fit(_make("adam-onecycle-fraction", max_iter=2), X, y)
    with pytest.raises(ValueError, match="paused"):
        cooled_copy(est, X, y, 2)
