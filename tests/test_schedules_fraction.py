"""Schedules sized by the fit: the 'fraction' unit, WarmupStableDecay, the
default-unit rule and the warning for schedules that end before the fit.

References are independent of sklr's code: closed forms written here from
the papers' and frameworks' definitions (``np.linspace`` for the plan,
piecewise formulas evaluated one position at a time), and fits compared
with each other (a fit against the same fit split into ``partial_fit``
calls). The PyTorch cross-checks are in tests/test_schedules_torch.py.
"""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits

from sklr import MLPClassifier, MLPRegressor
from sklr.exceptions import ScheduleEndWarning
from sklr.schedules import (
    Constant,
    CosineAnnealing,
    CosineWarmRestarts,
    Cyclic,
    CyclicMomentum,
    ExponentialDecay,
    InverseTimeDecay,
    Lambda,
    LinearDecay,
    LinearWarmup,
    MomentumRamp,
    MultiStepDecay,
    OneCycle,
    PiecewiseConstant,
    PolynomialDecay,
    Product,
    ReduceOnPlateau,
    Sequence,
    StepDecay,
    StepPositions,
    WarmupStableDecay,
)

GRIDS = [(1, 1), (1, 7), (5, 1), (4, 3), (10, 16)]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _plan(n_epochs, steps_per_epoch):
    """The fraction of each update of a plan: 0 at the first, 1 at the last."""
    n = n_epochs * steps_per_epoch
    return np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(n)


def _fit(X, y, **params):
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.05,
              random_state=0)
    kw.update(params)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        return MLPClassifier(**kw).fit(X, y)


# --------------------------------------------------------------------------
# Positions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_epochs, steps_per_epoch", GRIDS)
def test_grid_fraction_spans_the_run(n_epochs, steps_per_epoch):
    pos = StepPositions.grid(n_epochs, steps_per_epoch, batch_size=3)
    assert_allclose(pos.fraction, _plan(n_epochs, steps_per_epoch), rtol=0, atol=1e-15)


def test_for_epoch_fraction_follows_the_plan():
    # a plan of 12 updates that started at global update 4: this epoch holds
    # global updates 10, 11 and 12, i.e. updates 6, 7 and 8 of the plan
    pos = StepPositions.for_epoch(step0=10, epoch=3, sample0=90, batch_sizes=[5, 5, 2],
                                  plan_start=4, planned_steps=12)
    assert_allclose(pos.fraction, np.array([6, 7, 8]) / 11)
    assert StepPositions.for_epoch(step0=0, epoch=0, sample0=0, batch_sizes=[2]).fraction is None
    # past the plan the fraction goes on above 1 (schedules clamp or go on)
    pos = StepPositions.grid(2, 3, planned_steps=3)
    assert_allclose(pos.fraction, np.arange(6) / 2)


def test_fraction_schedule_needs_a_plan():
    pos = StepPositions(step=[0.0, 1.0], epoch=[0.0, 0.5], sample=[0.0, 1.0],
                        epoch_start_sample=[0.0, 0.0])
    with pytest.raises(ValueError, match="carry the plan"):
        CosineAnnealing().values(pos)
    assert_array_equal(CosineAnnealing(period=4, unit="step").values(pos).shape, (2,))


def test_a_single_planned_update_is_at_fraction_zero():
    assert_array_equal(StepPositions.grid(1).fraction, [0.0])
    assert OneCycle().preview(1)[0] == pytest.approx(1 / 25)


# --------------------------------------------------------------------------
# Shapes in 'fraction' against closed forms: the same shape whatever the grid
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_epochs, steps_per_epoch", GRIDS)
def test_fraction_shapes_against_closed_forms(n_epochs, steps_per_epoch):
    f = _plan(n_epochs, steps_per_epoch)
    grid = (n_epochs, steps_per_epoch)
    assert_allclose(CosineAnnealing().preview(*grid), (1 + np.cos(np.pi * f)) / 2,
                    atol=1e-15)
    assert_allclose(CosineAnnealing(eta_min=0.1, period=0.5).preview(*grid),
                    0.1 + 0.9 * (1 + np.cos(np.pi * np.minimum(f, 0.5) / 0.5)) / 2,
                    atol=1e-15)
    assert_allclose(LinearDecay(end_value=0.2).preview(*grid), 1 - 0.8 * f, atol=1e-15)
    assert_allclose(PolynomialDecay(power=2.0).preview(*grid), (1 - f) ** 2, atol=1e-15)
    assert_allclose(LinearWarmup(warmup=0.25, start_factor=0.0).preview(*grid),
                    np.minimum(f / 0.25, 1.0), atol=1e-15)
    assert_allclose(MomentumRamp(start=0.5, stable=0.9).preview(*grid), 0.5 + 0.4 * f,
                    atol=1e-15)
    assert_allclose(ExponentialDecay(gamma=0.01, unit="fraction").preview(*grid), 0.01**f)
    assert_allclose(Lambda(lambda t: 1 - t**3, unit="fraction").preview(*grid), 1 - f**3,
                    atol=1e-15)


def _one_cycle_reference(f, q, div=25.0, final_div=1e4):
    """Smith's one-cycle on [0, 1]: cosine from 1/div up to 1 until q, then
    down to 1/(div*final_div) at 1; written from the definition."""
    low, high, end = 1 / div, 1.0, 1 / (div * final_div)
    out = []
    for x in f:
        if x <= q:
            p, a, b = x / q, low, high
        else:
            p, a, b = (x - q) / (1 - q), high, end
        out.append(b + (a - b) * (1 + math.cos(math.pi * p)) / 2)
    return np.array(out)


@pytest.mark.parametrize("n_epochs, steps_per_epoch", [(4, 5), (20, 9), (3, 1)])
def test_one_cycle_spans_the_plan(n_epochs, steps_per_epoch):
    f = _plan(n_epochs, steps_per_epoch)
    got = OneCycle().preview(n_epochs, steps_per_epoch)
    assert_allclose(got, _one_cycle_reference(f, 0.25), rtol=1e-12)
    assert got[0] == pytest.approx(1 / 25) and got[-1] == pytest.approx(1 / 25 / 1e4)


def _wsd_reference(s, w, d, shape, f0, e):
    """Warmup-stable-decay at fraction s (Hu et al. 2024; 1-sqrt cooldown of
    Hägele et al. 2024), one position at a time."""
    g = {"linear": lambda x: 1 - x, "cos": lambda x: (1 + math.cos(math.pi * x)) / 2,
         "1-sqrt": lambda x: 1 - math.sqrt(x)}[shape]
    out = []
    for x in s:
        x = min(max(x, 0.0), 1.0)
        if x < w:
            out.append(f0 + (1 - f0) * x / w)
        elif x < 1 - d or d == 0:
            out.append(1.0)
        else:
            out.append(e + (1 - e) * g((x - (1 - d)) / d))
    return np.array(out)


@pytest.mark.parametrize("shape", ["1-sqrt", "linear", "cos"])
@pytest.mark.parametrize("w, d", [(0.05, 0.2), (0.0, 0.5), (0.3, 0.0), (0.5, 0.5), (0.0, 1.0)])
def test_wsd_against_its_closed_form(shape, w, d):
    schedule = WarmupStableDecay(warmup_fraction=w, decay_fraction=d, anneal=shape,
                                 start_factor=0.1, end_value=0.02)
    got = schedule.preview(12, 7)
    assert_allclose(got, _wsd_reference(_plan(12, 7), w, d, shape, 0.1, 0.02),
                    rtol=1e-12, atol=1e-15)
    # in other units, the phases are fractions of total
    steps = WarmupStableDecay(warmup_fraction=w, decay_fraction=d, anneal=shape,
                              total=50, unit="step").preview(8, 8)
    assert_allclose(steps, _wsd_reference(np.arange(64) / 50, w, d, shape, 0.0, 0.0),
                    rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape, decay", [("linear", LinearDecay), ("cos", CosineAnnealing)])
def test_wsd_is_warmup_constant_decay_in_a_fraction_sequence(shape, decay):
    w, d = 0.1, 0.3
    wsd = WarmupStableDecay(warmup_fraction=w, decay_fraction=d, anneal=shape,
                            start_factor=0.2)
    composed = Sequence([(LinearWarmup(start_factor=0.2), w), (Constant(), 1 - w - d),
                         decay()])
    assert_allclose(wsd.preview(25, 4), composed.preview(25, 4), rtol=1e-12, atol=1e-15)


def test_wsd_validation():
    with pytest.raises(ValueError, match="overlap"):
        WarmupStableDecay(warmup_fraction=0.6, decay_fraction=0.5).preview(3)
    with pytest.raises(ValueError, match="anneal"):
        WarmupStableDecay(anneal="sqrt").preview(3)
    with pytest.raises(ValueError, match="at most 1"):
        WarmupStableDecay(total=100).preview(3)


def test_fraction_sequence_segments_see_their_own_fraction():
    s = Sequence([(LinearWarmup(start_factor=0.1), 0.05), CosineAnnealing()])
    f = _plan(40, 5)
    warm = 0.1 + 0.9 * np.minimum(f / 0.05, 1)
    local = (f - 0.05) / 0.95
    expected = np.where(f < 0.05, warm, (1 + np.cos(np.pi * local)) / 2)
    assert_allclose(s.preview(40, 5), expected, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------
# One rule for the default units; lengths without their unit raise
# --------------------------------------------------------------------------

WITH_AN_END = [OneCycle, CosineAnnealing, PolynomialDecay, LinearDecay, LinearWarmup,
               WarmupStableDecay, MomentumRamp]
WITHOUT_AN_END = [InverseTimeDecay, ExponentialDecay, StepDecay, MultiStepDecay,
                  PiecewiseConstant, CosineWarmRestarts, Cyclic]


def test_default_units_follow_one_rule():
    for cls in WITH_AN_END:
        schedule = cls()
        assert schedule.unit == "fraction", cls
        # the default spans the whole plan, whatever its length
        a, b = schedule.preview(5, 2), schedule.preview(50, 20)
        assert_allclose(a[[0, -1]], b[[0, -1]], rtol=1e-12)
    assert Sequence([Constant()]).unit == "fraction"
    for cls in WITHOUT_AN_END:
        assert cls().unit == "epoch", cls
    assert Lambda(np.sqrt).unit == "epoch"


@pytest.mark.parametrize("schedule, name", [
    (OneCycle(total=5), "total"),
    (CosineAnnealing(period=100), "period"),
    (PolynomialDecay(total=20), "total"),
    (LinearDecay(total=3), "total"),
    (LinearWarmup(warmup=5), "warmup"),
    (MomentumRamp(ramp=1e6), "ramp"),
    (WarmupStableDecay(total=1000), "total"),
    (StepDecay(step_size=2, unit="fraction"), "step_size"),
    (MultiStepDecay(milestones=[0.5, 2], unit="fraction"), "milestones"),
    (Cyclic(step_size=3, unit="fraction"), "step_size"),
])
def test_a_length_in_another_unit_needs_that_unit(schedule, name):
    with pytest.raises(ValueError, match=f"'{name}' parameter of .* unit='step'"):
        schedule.preview(3)


def test_total_without_a_unit_raises_at_fit(digits):
    X, y = digits
    with pytest.raises(ValueError, match="'total' parameter of OneCycle is 5.*at most 1"):
        MLPClassifier(max_iter=20, learning_rate=OneCycle(total=5)).fit(X, y)
    with pytest.raises(ValueError, match="lengths \\[5\\] add up to 5"):
        Sequence([(LinearWarmup(), 5), CosineAnnealing()]).preview(3)


# --------------------------------------------------------------------------
# Fits: the plan is max_iter epochs of updates, whatever batch_size
# --------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, max_iter", [(300, 12), (100, 5), (64, 7)])
def test_a_fit_spans_the_plan_whatever_batch_size_and_max_iter(digits, batch_size, max_iter):
    X, y = digits
    n = -(-X.shape[0] // batch_size)  # updates per epoch
    est = _fit(X, y, batch_size=batch_size, max_iter=max_iter, n_iter_no_change=np.inf,
               learning_rate=OneCycle())
    # the epoch's last update is update (e + 1) n - 1 of the n * max_iter planned
    last = (np.arange(1, max_iter + 1) * n - 1) / (n * max_iter - 1)
    assert_allclose(est.history_["fraction"], last, rtol=1e-12)
    assert est.history_["fraction"][-1] == 1.0
    assert_allclose(est.history_["learning_rate"], 0.05 * _one_cycle_reference(last, 0.25),
                    rtol=1e-10)


def test_grid_search_over_batch_size_keeps_the_cycle_whole(digits):
    from sklearn.model_selection import GridSearchCV

    X, y = digits
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate=OneCycle(),
                      learning_rate_init=0.05, random_state=0, n_iter_no_change=np.inf),
        {"batch_size": [30, 100], "max_iter": [3, 6]}, cv=2, refit=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    for params in search.cv_results_["params"]:
        est = _fit(X, y, learning_rate=OneCycle(), n_iter_no_change=np.inf, **params)
        assert est.history_["fraction"][-1] == 1.0
        assert est.history_["learning_rate"][-1] == pytest.approx(0.05 / 25 / 1e4)


def test_momentum_and_weight_decay_schedules_in_fractions(digits):
    X, y = digits
    est = _fit(X, y, batch_size=300, max_iter=6, n_iter_no_change=np.inf,
               momentum=MomentumRamp(start=0.5, stable=0.9),
               weight_decay=LinearDecay(end_value=0.0), learning_rate="constant")
    f = np.linspace(0, 1, 6)
    assert_allclose(est.history_["momentum"], 0.5 + 0.4 * f, rtol=1e-12)
    assert_allclose(est.history_["weight_decay"], 1 - f, atol=1e-15)
    assert_allclose(est.history_["fraction"], f, rtol=1e-12)


def test_fraction_is_recorded_only_when_a_schedule_counts_in_it(digits):
    X, y = digits
    for schedule in ("constant", StepDecay(step_size=2), CosineAnnealing(period=3, unit="epoch")):
        est = _fit(X, y, max_iter=3, learning_rate=schedule)
        assert "fraction" not in est.history_
    est = _fit(X, y, max_iter=3, learning_rate=Product(CosineAnnealing(), StepDecay()))
    assert "fraction" in est.history_


def test_early_stopping_leaves_the_tail_unused_and_says_so(digits):
    X, y = digits
    est = _fit(X, y, batch_size=50, max_iter=100, learning_rate=CosineAnnealing(),
               early_stopping=True, n_iter_no_change=2, tol=1e-1)
    assert est.n_iter_ < 100
    n = -(-(X.shape[0] - 30) // 50)  # validation_fraction=0.1 holds out 30 rows
    reached = (est.n_iter_ * n - 1) / (100 * n - 1)
    assert est.history_["fraction"][-1] == pytest.approx(reached)
    assert est.history_["fraction"][-1] < 1
    # the rate never reached the end of its cosine
    assert est.history_["learning_rate"][-1] == pytest.approx(
        0.05 * (1 + np.cos(np.pi * reached)) / 2)


def test_warm_start_plans_each_fit_anew(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate=OneCycle(),
                        learning_rate_init=0.05, batch_size=100, max_iter=4, n_iter_no_change=np.inf,
                        warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        est.fit(X, y)
        first = est.history_["learning_rate"].copy()
        est.fit(X, y)
    # four more epochs, the cycle from its start again (global counters go on)
    assert est.n_iter_ == 4 and est.t_ == 8 * X.shape[0]
    assert_allclose(est.history_["learning_rate"][4:], first, rtol=1e-12)
    assert_allclose(est.history_["fraction"][4:], est.history_["fraction"][:4])


def test_partial_fit_plans_max_iter_calls(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate=OneCycle(),
              learning_rate_init=0.05, batch_size=50, shuffle=False, random_state=0,
              max_iter=3)
    full = _fit(X, y, **kw)
    inc = MLPClassifier(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        for _ in range(3):
            inc.partial_fit(X, y, classes=np.unique(y))
    assert_allclose(inc.history_["learning_rate"], full.history_["learning_rate"], rtol=1e-12)
    assert_allclose(inc.history_["loss"], full.history_["loss"], rtol=1e-10)
    for a, b in zip(inc.coefs_, full.coefs_):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # a fourth call runs past the plan: one warning, and the cycle's end value
    with pytest.warns(ScheduleEndWarning, match="partial_fit ran past the plan"):
        inc.partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        inc.partial_fit(X, y)
    assert inc.history_["fraction"][-1] > 1
    assert inc.history_["learning_rate"][-1] == pytest.approx(0.05 / 25 / 1e4)


def test_partial_fit_after_fit_continues_its_plan(digits):
    X, y = digits
    est = _fit(X, y, batch_size=100, max_iter=3, learning_rate=CosineAnnealing(), n_iter_no_change=np.inf)
    with pytest.warns(ScheduleEndWarning, match="past the plan"):
        est.partial_fit(X, y)
    assert est.history_["fraction"][-1] == pytest.approx(1 + 3 / 8)
    assert est.history_["learning_rate"][-1] == 0.0


def test_pickled_estimator_keeps_its_plan(digits):
    import pickle

    X, y = digits
    kw = dict(batch_size=100, max_iter=5, learning_rate=OneCycle(), shuffle=False)
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", random_state=0, **kw)
    est.partial_fit(X, y, classes=np.unique(y))
    again = pickle.loads(pickle.dumps(est))
    for model in (est, again):
        model.partial_fit(X, y)
    assert_array_equal(again.history_["learning_rate"], est.history_["learning_rate"])
    assert_array_equal(again.history_["fraction"], est.history_["fraction"])


# --------------------------------------------------------------------------
# The warning: a finite schedule that ends before the fit does
# --------------------------------------------------------------------------


def test_the_issue_example_warns_naming_schedule_end_and_plan(digits):
    X, y = digits
    est = MLPClassifier(max_iter=20, learning_rate=OneCycle(total=5, unit="step"),
                        random_state=0)
    with pytest.warns(ScheduleEndWarning) as record:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Stochastic Optimizer")
            est.fit(X, y)
    ours = [w for w in record if issubclass(w.category, ScheduleEndWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "OneCycle(total=5, unit='step')" in message
    assert "ends at step 5" in message
    assert "step 40" in message and "max_iter=20" in message  # 2 updates of 200 per epoch
    assert "4e-09" in message  # the rate it would train at (4e-6 x 0.001)
    assert est.history_["learning_rate"][-1] == pytest.approx(0.001 / 25 / 1e4)


@pytest.mark.parametrize("name, schedule", [
    ("learning_rate", CosineAnnealing(period=3, unit="epoch")),
    ("learning_rate", PolynomialDecay(total=3, unit="epoch")),
    ("learning_rate", Sequence([(Constant(), 1), LinearDecay(total=1, unit="epoch")],
                               unit="epoch")),
    ("learning_rate", Product(StepDecay(), OneCycle(total=100, unit="sample"))),
    ("learning_rate", WarmupStableDecay(total=2, unit="epoch")),
    ("momentum", CyclicMomentum(OneCycle(total=5, unit="step"))),
])
def test_finite_schedules_that_end_early_warn(digits, name, schedule):
    X, y = digits
    with pytest.warns(ScheduleEndWarning, match=f"{name}=.*ends at"):
        _fit(X, y, batch_size=100, max_iter=4, **{name: schedule})


@pytest.mark.parametrize("name, schedule", [
    ("learning_rate", OneCycle()),
    ("learning_rate", CosineAnnealing(period=0.5)),
    ("learning_rate", WarmupStableDecay()),
    ("learning_rate", Sequence([(LinearWarmup(), 0.1), CosineAnnealing()])),
    ("learning_rate", OneCycle(total=12, unit="step")),  # exactly the fit's 12 updates
    ("learning_rate", CosineAnnealing(period=4, unit="epoch")),
    ("learning_rate", CosineAnnealing(period=1, periodic=True, unit="epoch")),
    ("learning_rate", LinearWarmup(warmup=1, unit="epoch")),  # warm-ups end on purpose
    ("learning_rate", StepDecay(step_size=1)),
    ("learning_rate", CosineWarmRestarts(T_0=1)),
    ("momentum", MomentumRamp(ramp=10, unit="step")),
    ("weight_decay", LinearDecay(total=0.5)),
])
def test_schedules_that_span_the_fit_do_not_warn(digits, name, schedule):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        _fit(X, y, batch_size=100, max_iter=4, **{name: schedule})


def test_warm_start_warns_once_the_schedule_has_ended(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", batch_size=100, max_iter=2,
                        learning_rate=CosineAnnealing(period=6, unit="step"),
                        warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        est.fit(X, y)  # updates 0..5: the whole cosine
    with pytest.warns(ScheduleEndWarning, match="ends at step 6.*at step 12"):
        est.fit(X, y)  # updates 6..11 all at its end


def test_partial_fit_does_not_warn_about_an_unknown_number_of_calls(digits):
    X, y = digits
    est = MLPRegressor(hidden_layer_sizes=(4,), learning_rate=OneCycle(total=10, unit="step"),
                       batch_size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleEndWarning)
        for _ in range(5):
            est.partial_fit(X, y.astype(float))


def test_lbfgs_plans_nothing(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # schedules are ignored by lbfgs
        warnings.simplefilter("error", ScheduleEndWarning)
        est = _fit(X, y, solver="lbfgs", max_iter=5,
                   learning_rate=OneCycle(total=1, unit="step"))
    assert "fraction" not in est.history_


def test_clone_keeps_the_defaults():
    for schedule in (OneCycle(), WarmupStableDecay(anneal="cos"),
                     Sequence([(LinearWarmup(), 0.1), CosineAnnealing()]),
                     Product(CosineAnnealing(), ReduceOnPlateau(monitor="loss"))):
        copy = clone(schedule)
        assert copy == schedule
        assert_array_equal(copy.preview(6, 3), schedule.preview(6, 3))


def test_schedule_display_draws_against_the_plan():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklr.inspection import ScheduleDisplay

    display = ScheduleDisplay.from_schedule(CosineAnnealing(), n_epochs=4, steps_per_epoch=5,
                                            x_unit="fraction")
    f = np.linspace(0, 1, 20)
    assert_allclose(display.line_.get_xdata(), f, atol=1e-15)
    assert_allclose(display.line_.get_ydata(), (1 + np.cos(np.pi * f)) / 2, atol=1e-15)
    assert display.ax_.get_xlabel() == "Fraction of the planned updates"
    direct = ScheduleDisplay([1.0, 0.5], x=[0.0, 1.0], unit="fraction").plot()
    assert direct.ax_.get_xlabel() == "Fraction of the planned updates"
    plt.close("all")
