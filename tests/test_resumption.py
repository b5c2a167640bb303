"""Resumption: schedules run on global counters and optimizer state persists.

With shuffle=False, k partial fits of one epoch equal one fit of k epochs, and
k warm-start refits of one epoch with an optimizer object equal one fit, for
every schedule and every optimizer.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklr import MLPClassifier, MLPRegressor, optimizers, schedules as S


def halve_every_epoch(epoch):
    """A module-level callable, so Lambda pickles (and clones) with it."""
    return 0.5 ** np.floor(epoch)


SCHEDULES = [
    S.Constant(),
    S.InvScaling(power_t=0.3),
    S.Adaptive(),
    S.StepDecay(step_size=1, gamma=0.5),
    S.InverseTimeDecay(decay=0.2, unit="step"),
    S.MultiStepDecay(milestones=(1, 2), gamma=0.5),
    S.PiecewiseConstant(boundaries=(1, 2), multipliers=(1.0, 0.4, 0.1)),
    S.ExponentialDecay(gamma=0.9, unit="step"),
    S.PolynomialDecay(total=20, power=2.0, end_value=0.1, unit="step"),
    S.LinearDecay(total=16, unit="step"),
    S.CosineAnnealing(period=15, unit="step"),
    S.CosineWarmRestarts(T_0=1, T_mult=2),
    S.Cyclic(base=0.1, max=1.0, step_size=3, unit="step"),
    S.OneCycle(total=15, unit="step"),
    S.LinearWarmup(warmup=2, unit="epoch"),
    S.Sequence([(S.LinearWarmup(warmup=1, unit="epoch"), 1), S.CosineAnnealing(period=2, unit="epoch")],
               unit="epoch"),
    S.Product(S.StepDecay(gamma=0.7), S.InverseTimeDecay(decay=0.1, unit="step")),
    S.Lambda(halve_every_epoch),
    S.PerEpoch(S.CosineAnnealing(period=3, unit="epoch")),
    S.ReduceOnPlateau(factor=0.5, patience=0, threshold=0.5, monitor="loss"),
]

OPTIMIZERS = [
    optimizers.SGD(convention="pytorch"), optimizers.SGD(), optimizers.Adam(),
    optimizers.AdamW(), optimizers.NAdam(), optimizers.Adamax(), optimizers.Adagrad(),
    optimizers.Adadelta(), optimizers.RMSprop(momentum=0.5, centered=True),
]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:250] / 16, y[:250]


def _assert_same(a, b):
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-12)
    np.testing.assert_allclose(a.history_["learning_rate"], b.history_["learning_rate"], rtol=1e-12)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-14)


def _kw(schedule, solver):
    return dict(hidden_layer_sizes=(8,), solver=solver, learning_rate=schedule,
                learning_rate_init=0.02, shuffle=False, batch_size=50, random_state=0)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_partial_fits_continue_every_schedule(digits, schedule):
    X, y = digits
    full = MLPClassifier(max_iter=3, **_kw(schedule, optimizers.Adam())).fit(X, y)
    inc = MLPClassifier(**_kw(schedule, optimizers.Adam()))
    for _ in range(3):
        inc.partial_fit(X, y, classes=np.unique(y))
    _assert_same(inc, full)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_warm_start_continues_every_schedule(digits, schedule):
    X, y = digits
    solver = optimizers.SGD(momentum=0.9, nesterov=False)
    full = MLPClassifier(max_iter=3, **_kw(schedule, solver)).fit(X, y)
    warm = MLPClassifier(max_iter=1, warm_start=True, **_kw(schedule, solver))
    for _ in range(3):
        warm.fit(X, y)
    _assert_same(warm, full)


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: repr(o))
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_every_optimizer_resumes(digits, opt, how):
    X, y = digits
    kw = _kw(S.CosineAnnealing(period=20, unit="epoch"), opt)
    full = MLPRegressor(max_iter=3, **kw).fit(X, y.astype(float))
    inc = MLPRegressor(max_iter=1, warm_start=how == "warm_start", **kw)
    for _ in range(3):
        if how == "partial_fit":
            inc.partial_fit(X, y.astype(float))
        else:
            inc.fit(X, y.astype(float))
    _assert_same(inc, full)


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: repr(o))
def test_pickled_fitted_estimator_continues_identically(digits, opt):
    import pickle

    X, y = digits
    schedule = S.Product(S.CosineAnnealing(period=20, unit="epoch"), S.ReduceOnPlateau(monitor="loss", patience=0))
    est = MLPClassifier(max_iter=2, **_kw(schedule, opt)).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    for model in (est, again):
        model.partial_fit(X, y)
    _assert_same(again, est)


def test_randomized_search_swaps_schedule_and_optimizer_classes(digits):
    from sklearn.model_selection import RandomizedSearchCV

    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0)
    space = {
        "learning_rate": [S.StepDecay(gamma=0.5), S.CosineAnnealing(), "constant"],
        "solver": [optimizers.Adam(), optimizers.RMSprop(), "sgd"],
        "learning_rate_init": [0.001, 0.01],
    }
    search = RandomizedSearchCV(est, space, n_iter=6, cv=2, random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    kinds = {type(p["solver"]).__name__ for p in search.cv_results_["params"]}
    assert len(kinds) >= 2
