"""The kernel applies each update's own learning rate and momentum.

The trainer hands ``Kernel.train_epoch`` one learning rate and one momentum
(or Adam ``beta_1``) per minibatch update of the epoch. These tests fit with
schedules that change at every update (``unit='step'``, and a sample-unit
momentum ramp) over several minibatches per epoch, and compare the result
with an independent reference: scikit-learn's own MLP trained one minibatch
per ``partial_fit`` call, with its optimizer's rate and momentum set before
each call to the value the schedule's documented formula gives for that
update. scikit-learn's optimizers read these attributes at every update
(``sklearn/neural_network/_stochastic_optimizers.py``): SGD ``learning_rate``
and ``momentum``, Adam ``learning_rate_init`` (the bias correction is
folded in at each step) and ``beta_1``.

With ``shuffle=False`` the minibatches are consecutive slices, so sklr's
epoch and the reference's sequence of calls see the same rows in the same
order, from the same initial weights (same ``random_state``): the weights
agree to rounding (float64) or to float32 accuracy, as in test_parity.py.
A kernel that used the epoch's first value for every update fails these
tests.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from sklr import MLPClassifier, MLPRegressor
from sklr.schedules import Lambda, MomentumRamp, StepDecay

N_ROWS, BATCH, N_EPOCHS = 130, 30, 4  # 5 updates per epoch, the last one of 10 rows
# The two agree to rounding: ~1e-16 in float64, ~2e-7 in float32 (test_parity.py
# allows 2e-3 for float32 over longer runs; these runs are short).
RTOL = {np.float64: 1e-9, np.float32: 1e-4}
ATOL = {np.float64: 1e-10, np.float32: 1e-4}
OPTIMIZERS = {
    "sgd": dict(solver="sgd", nesterovs_momentum=False, learning_rate_init=0.1),
    "nesterov": dict(solver="sgd", nesterovs_momentum=True, learning_rate_init=0.1),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}


def _rate_factor(t):
    """A learning-rate multiplier that changes at every update, up and down."""
    return 1.0 + 0.8 * np.sin(1.3 * t)


def _momentum(t):
    """A momentum (or beta_1) in [0.05, 0.95] that changes at every update."""
    return 0.5 + 0.45 * np.cos(0.9 * t)


def _batch_starts(n, batch_size):
    return list(range(0, n, batch_size))


def _step_positions(n, batch_size, n_epochs):
    """Global update index and rows seen before each update, for every update of the run."""
    sizes = [min(batch_size, n - s) for s in _batch_starts(n, batch_size)] * n_epochs
    return np.arange(len(sizes)), np.concatenate([[0], np.cumsum(sizes)[:-1]])


def _digits(dtype, n=N_ROWS):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(dtype), y[:n]


def _regression(dtype, n=N_ROWS):
    X, y = make_regression(n_samples=n, n_features=8, noise=1.0, random_state=2)
    return X.astype(dtype), (y / 100).astype(dtype)


def sklearn_per_update(Estimator, X, y, lr, mu, n_epochs, batch_size, **params):
    """scikit-learn's MLP, one ``partial_fit`` per minibatch, with ``lr[k]`` and
    ``mu[k]`` in its optimizer for update k.

    Returns the estimator and its per-epoch mean training loss (the batch
    losses weighted by batch length, as ``loss_curve_`` averages them).
    """
    adam = params["solver"] == "adam"
    params = dict(params, learning_rate="constant", learning_rate_init=lr[0], shuffle=False,
                  batch_size="auto")  # 'auto' = the whole chunk (at most 200 rows)
    params["beta_1" if adam else "momentum"] = mu[0]
    ref = Estimator(**params)
    extra = {"classes": np.unique(y)} if Estimator is SkMLPClassifier else {}
    losses, k = [], 0
    for _ in range(n_epochs):
        total = 0.0
        for start in _batch_starts(len(X), batch_size):
            if k > 0:  # update 0 runs with the constructor's values
                if adam:
                    ref._optimizer.learning_rate_init = lr[k]
                    ref._optimizer.beta_1 = mu[k]
                else:
                    ref._optimizer.learning_rate = lr[k]
                    ref._optimizer.momentum = mu[k]
            part = slice(start, start + batch_size)
            ref.partial_fit(X[part], y[part], **extra)
            total += ref.loss_ * len(X[part])
            k += 1
        losses.append(total / len(X))
    assert k == len(lr)
    return ref, np.array(losses)


def assert_same_weights(est, ref, losses, dtype):
    rtol, atol = RTOL[dtype], ATOL[dtype]
    np.testing.assert_allclose(est.loss_curve_, losses, rtol=rtol)
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def _fit_both(Estimator, SkEstimator, X, y, optimizer, lr_schedule, momentum, lr, mu, **kw):
    params = dict(OPTIMIZERS[optimizer], hidden_layer_sizes=(8,), random_state=0, **kw)
    est = Estimator(learning_rate=lr_schedule, momentum=momentum, batch_size=BATCH,
                    shuffle=False, max_iter=N_EPOCHS, n_iter_no_change=N_EPOCHS + 1,
                    **params).fit(X, y)
    assert est.n_iter_ == N_EPOCHS
    ref, losses = sklearn_per_update(SkEstimator, X, y, lr, mu, N_EPOCHS, BATCH, **params)
    return est, ref, losses


def _schedules(scheduled, lr0):
    """sklr's learning_rate and momentum parameters for ``scheduled``, and the
    rate and momentum of each update by the formulas of the functions above."""
    steps, _ = _step_positions(N_ROWS, BATCH, N_EPOCHS)
    if scheduled in ("lr", "both"):
        lr_schedule, lr = Lambda(_rate_factor, unit="step"), lr0 * _rate_factor(steps)
    else:
        lr_schedule, lr = "constant", np.full(len(steps), lr0)
    if scheduled in ("momentum", "both"):
        momentum, mu = Lambda(_momentum, unit="step"), _momentum(steps)
    else:
        momentum, mu = 0.9, np.full(len(steps), 0.9)
    return lr_schedule, momentum, lr, mu


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scheduled", ["lr", "momentum", "both"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_step_schedules_match_sklearn_update_by_update(optimizer, scheduled, dtype):
    """Lambda(unit='step') rates and momenta, different at each of the 20 updates."""
    X, y = _digits(dtype)
    lr0 = OPTIMIZERS[optimizer]["learning_rate_init"]
    lr_schedule, momentum, lr, mu = _schedules(scheduled, lr0)
    assert np.ptp(lr[:5]) > 0 or np.ptp(mu[:5]) > 0  # they change within an epoch
    est, ref, losses = _fit_both(MLPClassifier, SkMLPClassifier, X, y, optimizer,
                                 lr_schedule, momentum, lr, mu)
    assert_same_weights(est, ref, losses, dtype)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X),
                               rtol=RTOL[dtype], atol=ATOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["nesterov", "adam"])
def test_step_schedules_match_sklearn_regressor(optimizer, dtype):
    X, y = _regression(dtype)
    lr_schedule, momentum, lr, mu = _schedules("both", OPTIMIZERS[optimizer]["learning_rate_init"])
    est, ref, losses = _fit_both(MLPRegressor, SkMLPRegressor, X, y, optimizer,
                                 lr_schedule, momentum, lr, mu)
    assert_same_weights(est, ref, losses, dtype)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=RTOL[dtype], atol=ATOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_closed_form_step_and_sample_schedules(optimizer, dtype):
    """StepDecay in updates and an H2O momentum ramp in rows seen, by their formulas:
    gamma ** floor(k / step_size), and start + (stable - start) min(rows, R) / R."""
    X, y = _digits(dtype)
    lr0 = OPTIMIZERS[optimizer]["learning_rate_init"]
    steps, rows_seen = _step_positions(N_ROWS, BATCH, N_EPOCHS)
    lr = lr0 * 0.6 ** (steps // 3)
    mu = 0.3 + (0.9 - 0.3) * np.minimum(rows_seen, 400) / 400
    est, ref, losses = _fit_both(
        MLPClassifier, SkMLPClassifier, X, y, optimizer,
        StepDecay(step_size=3, gamma=0.6, unit="step"),
        MomentumRamp(start=0.3, stable=0.9, ramp=400, unit="sample"), lr, mu)
    assert_same_weights(est, ref, losses, dtype)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_epoch_schedule_reaches_every_update(optimizer):
    """An epoch-unit StepDecay: every update of epoch e runs at gamma ** floor(e / 2)."""
    X, y = _digits(np.float64)
    lr0 = OPTIMIZERS[optimizer]["learning_rate_init"]
    steps, _ = _step_positions(N_ROWS, BATCH, N_EPOCHS)
    epoch = steps // len(_batch_starts(N_ROWS, BATCH))
    lr, mu = lr0 * 0.5 ** (epoch // 2), np.full(len(steps), 0.9)
    est, ref, losses = _fit_both(MLPClassifier, SkMLPClassifier, X, y, optimizer,
                                 StepDecay(step_size=2, gamma=0.5), 0.9, lr, mu)
    assert_same_weights(est, ref, losses, np.float64)
