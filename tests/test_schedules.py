"""Tests for sklr.schedules and the ParamObject protocol it builds on."""

import dataclasses
import doctest
import importlib
import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer
from sklearn.utils._param_validation import InvalidParameterError

import sklr.schedules
from sklr._param_object import ParamObject
from sklr.schedules import (
    Adaptive,
    Constant,
    CosineAnnealing,
    CosineWarmRestarts,
    Cyclic,
    CyclicMomentum,
    ExponentialDecay,
    InverseTimeDecay,
    InvScaling,
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
    Schedule,
    Sequence,
    StepDecay,
    StepPositions,
    WarmupStableDecay,
    _check_schedule,
)

GRIDS = [(1, 1, 1), (4, 1, 1), (5, 3, 1), (4, 7, 32), (3, 4, 5)]


def _grid_reference(n_epochs, steps_per_epoch, batch_size):
    """Positions of a fresh run, written as explicit loops."""
    rows = []
    for e in range(n_epochs):
        for k in range(steps_per_epoch):
            i = e * steps_per_epoch + k
            rows.append(
                dict(
                    step=i,
                    epoch=e + k / steps_per_epoch,
                    sample=i * batch_size,
                    epoch_start_sample=e * steps_per_epoch * batch_size,
                )
            )
    return rows


class _Scaled(Schedule):
    """Test-only composite: a constant factor times another schedule."""

    _parameter_constraints = {"factor": [float]}

    def __init__(self, schedule=None, factor=1.0):
        self.schedule = schedule
        self.factor = factor

    def _values(self, positions):
        return self.factor * self.schedule.values(positions)


class _WithArray(ParamObject):
    """Test-only object with an array-valued parameter."""

    def __init__(self, weights=None, name="w"):
        self.weights = weights
        self.name = name


class _ToyEstimator(BaseEstimator):
    """Estimator whose score is best when ``learning_rate.gamma`` is 0.3."""

    def __init__(self, learning_rate=None):
        self.learning_rate = learning_rate

    def fit(self, X, y=None):
        self.fitted_gamma_ = self.learning_rate.gamma
        return self

    def score(self, X, y=None):
        return -abs(self.fitted_gamma_ - 0.3)


# --------------------------------------------------------------------------
# StepPositions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_epochs, steps_per_epoch, batch_size", GRIDS)
def test_grid_matches_loops(n_epochs, steps_per_epoch, batch_size):
    pos = StepPositions.grid(n_epochs, steps_per_epoch, batch_size)
    ref = _grid_reference(n_epochs, steps_per_epoch, batch_size)
    assert len(pos) == len(ref) == n_epochs * steps_per_epoch
    for field in ("step", "epoch", "sample", "epoch_start_sample"):
        arr = getattr(pos, field)
        assert arr.dtype == np.float64
        assert_allclose(arr, [r[field] for r in ref], rtol=0, atol=1e-12)


def test_for_epoch_uneven_batches():
    pos = StepPositions.for_epoch(step0=5, epoch=2, sample0=14, batch_sizes=[3, 3, 1])
    assert len(pos) == 3
    assert_array_equal(pos.step, [5.0, 6.0, 7.0])
    assert_allclose(pos.epoch, [2.0, 2 + 1 / 3, 2 + 2 / 3], rtol=0, atol=1e-15)
    assert_array_equal(pos.sample, [14.0, 17.0, 20.0])
    assert_array_equal(pos.epoch_start_sample, [14.0, 14.0, 14.0])


def test_for_epoch_chained_equals_grid():
    n_epochs, steps, bs = 4, 3, 6
    step0 = sample0 = 0
    parts = []
    for e in range(n_epochs):
        parts.append(
            StepPositions.for_epoch(
                step0=step0, epoch=e, sample0=sample0, batch_sizes=np.full(steps, bs)
            )
        )
        step0 += steps
        sample0 += steps * bs
    grid = StepPositions.grid(n_epochs, steps, bs)
    for field in ("step", "epoch", "sample", "epoch_start_sample"):
        joined = np.concatenate([getattr(p, field) for p in parts])
        assert_allclose(joined, getattr(grid, field), rtol=0, atol=1e-12)


def test_step_positions_validation_and_frozen():
    pos = StepPositions.grid(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pos.step = np.zeros(2)
    with pytest.raises(ValueError):
        pos.step[0] = 3.0  # fields are read-only arrays
    with pytest.raises(ValueError, match="same length"):
        StepPositions(step=[0, 1], epoch=[0], sample=[0, 1], epoch_start_sample=[0, 0])
    with pytest.raises(ValueError, match="batch_sizes"):
        StepPositions.for_epoch(step0=0, epoch=0, sample0=0, batch_sizes=[2, 0])
    with pytest.raises(ValueError, match="step0"):
        StepPositions.for_epoch(step0=-1, epoch=0, sample0=0, batch_sizes=[2])
    with pytest.raises(ValueError, match="steps_per_epoch"):
        StepPositions.grid(2, steps_per_epoch=0)
    assert len(StepPositions.grid(0)) == 0
    empty = StepPositions.for_epoch(step0=0, epoch=0, sample0=0, batch_sizes=[])
    assert len(empty) == 0


# --------------------------------------------------------------------------
# Schedule values against independent formulas
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_epochs, steps_per_epoch, batch_size", GRIDS)
def test_constant_and_adaptive_preview(n_epochs, steps_per_epoch, batch_size):
    for schedule in (Constant(), Adaptive()):
        out = schedule.preview(n_epochs, steps_per_epoch, batch_size)
        assert out.dtype == np.float64
        assert_array_equal(out, np.ones(n_epochs * steps_per_epoch))
    assert Adaptive.is_feedback and Adaptive().is_feedback
    assert not any(c.is_feedback for c in (Constant, InvScaling, StepDecay, Schedule))


@pytest.mark.parametrize("power_t", [0.0, 0.25, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("n_epochs, steps_per_epoch, batch_size", GRIDS)
def test_invscaling_matches_sklearn_formula(
    power_t, n_epochs, steps_per_epoch, batch_size
):
    lr0 = 0.3
    # scikit-learn's rule, written independently: the rate is recomputed after
    # each epoch as lr0 / (t + 1) ** power_t with t the rows seen so far.
    expected, lr, t = [], lr0, 0
    for _ in range(n_epochs):
        expected += [lr] * steps_per_epoch
        t += steps_per_epoch * batch_size
        lr = lr0 / (t + 1) ** power_t
    # ... and scikit-learn's own optimizer driven the same way.
    opt = SGDOptimizer(
        [np.zeros(1)], learning_rate_init=lr0, lr_schedule="invscaling", power_t=power_t
    )
    from_sklearn, t = [], 0
    for _ in range(n_epochs):
        from_sklearn += [opt.learning_rate] * steps_per_epoch
        t += steps_per_epoch * batch_size
        opt.iteration_ends(t)

    schedule = InvScaling(power_t=power_t)
    out = lr0 * schedule.preview(n_epochs, steps_per_epoch, batch_size)
    assert_allclose(out, expected, rtol=1e-13)
    assert_allclose(out, from_sklearn, rtol=1e-13)


def test_invscaling_uneven_epoch_uses_epoch_start():
    pos = StepPositions.for_epoch(step0=9, epoch=3, sample0=24, batch_sizes=[5, 5, 2])
    assert_allclose(InvScaling(power_t=0.5).values(pos), np.full(3, 25**-0.5))


@pytest.mark.parametrize("unit", ["step", "epoch", "sample"])
@pytest.mark.parametrize("step_size", [1, 2, 3, 0.5, 2.5, 40])
@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.9, 1.01])
@pytest.mark.parametrize("n_epochs, steps_per_epoch, batch_size", GRIDS)
def test_step_decay_matches_formula(
    unit, step_size, gamma, n_epochs, steps_per_epoch, batch_size
):
    expected = [
        gamma ** math.floor(r[unit] / step_size)
        for r in _grid_reference(n_epochs, steps_per_epoch, batch_size)
    ]
    out = StepDecay(step_size=step_size, gamma=gamma, unit=unit).preview(
        n_epochs, steps_per_epoch, batch_size
    )
    assert out.dtype == np.float64
    assert_allclose(out, expected, rtol=1e-13)


@pytest.mark.parametrize("step_size", [1, 2, 3])
@pytest.mark.parametrize("steps_per_epoch", [1, 4, 7])
def test_step_decay_epoch_equals_pytorch_steplr(step_size, steps_per_epoch):
    # StepLR stepped once per epoch: every update of epoch e uses gamma ** (e // s)
    n_epochs, gamma = 9, 0.5
    expected = np.repeat(gamma ** (np.arange(n_epochs) // step_size), steps_per_epoch)
    out = StepDecay(step_size=step_size, gamma=gamma).preview(n_epochs, steps_per_epoch)
    assert_array_equal(out, expected)


def test_step_decay_values_on_uneven_epoch():
    pos = StepPositions.for_epoch(step0=4, epoch=1, sample0=8, batch_sizes=[3, 3, 2])
    # rows seen before each update: 8, 11, 14 -> floor(. / 5) = 1, 2, 2
    assert_allclose(
        StepDecay(step_size=5, gamma=0.5, unit="sample").values(pos), [0.5, 0.25, 0.25]
    )
    # epoch positions 1, 4/3, 5/3 -> floor(. / 0.5) = 2, 2, 3
    assert_allclose(
        StepDecay(step_size=0.5, gamma=0.5).values(pos), [0.25, 0.25, 0.125]
    )


def test_values_rejects_other_positions():
    with pytest.raises(TypeError, match="StepPositions"):
        Constant().values(np.arange(3))


# --------------------------------------------------------------------------
# Parameter validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule, name",
    [
        (StepDecay(gamma=0), "gamma"),
        (StepDecay(gamma=-0.5), "gamma"),
        (StepDecay(gamma="a"), "gamma"),
        (StepDecay(step_size=0), "step_size"),
        (StepDecay(step_size=-2), "step_size"),
        (StepDecay(unit="minute"), "unit"),
        (InvScaling(power_t=-0.1), "power_t"),
        (InvScaling(power_t=None), "power_t"),
    ],
)
def test_invalid_params_raise(schedule, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        schedule.preview(3)
    with pytest.raises(ValueError, match=name):
        _check_schedule(schedule)
    # errors surface on use, not construction, as for estimators
    assert isinstance(schedule, Schedule)


@pytest.mark.parametrize("obj", ["constant", 0.1, None, StepDecay, BaseEstimator()])
def test_check_schedule_type_error(obj):
    with pytest.raises(TypeError, match="'momentum' parameter.*Schedule"):
        _check_schedule(obj, name="momentum")


def test_check_schedule_returns_valid_object():
    s = StepDecay(gamma=0.5)
    assert _check_schedule(s) is s


def test_composite_subclass_can_add_checks():
    class _Ordered(Schedule):
        _parameter_constraints = {"lo": [float], "hi": [float]}

        def __init__(self, lo=0.0, hi=1.0):
            self.lo = lo
            self.hi = hi

        def _validate_params(self):
            super()._validate_params()
            if self.lo > self.hi:
                raise ValueError("lo must not exceed hi")

        def _values(self, positions):
            return np.full(len(positions), self.hi)

    with pytest.raises(InvalidParameterError, match="'lo' parameter"):
        _Ordered(lo="x").preview(1)
    with pytest.raises(ValueError, match="lo must not exceed hi"):
        _Ordered(lo=2.0).preview(1)
    assert_array_equal(_Ordered().preview(2), [1.0, 1.0])


# --------------------------------------------------------------------------
# ParamObject protocol: get/set_params, clone, search, pickle, repr, eq
# --------------------------------------------------------------------------


def test_get_params():
    s = StepDecay(step_size=3, gamma=0.5, unit="step")
    assert s.get_params() == {"step_size": 3, "gamma": 0.5, "unit": "step"}
    assert InvScaling().get_params() == {"power_t": 0.5}
    assert Constant().get_params() == {} == Adaptive().get_params()

    inner = StepDecay(gamma=0.2)
    comp = _Scaled(schedule=inner, factor=2.0)
    assert comp.get_params(deep=False) == {"schedule": inner, "factor": 2.0}
    deep = comp.get_params(deep=True)
    assert deep["schedule"] is inner
    assert deep["schedule__gamma"] == 0.2
    assert set(deep) == {
        "schedule",
        "factor",
        "schedule__step_size",
        "schedule__gamma",
        "schedule__unit",
    }


def test_set_params_flat_and_nested():
    s = StepDecay()
    assert s.set_params(gamma=0.5, unit="sample") is s
    assert (s.gamma, s.unit) == (0.5, "sample")

    comp = _Scaled(schedule=StepDecay(), factor=2.0)
    comp.set_params(schedule__gamma=0.25, schedule__step_size=2, factor=3.0)
    assert comp.factor == 3.0
    assert comp.schedule.gamma == 0.25 and comp.schedule.step_size == 2
    assert_allclose(comp.preview(4), 3.0 * 0.25 ** (np.arange(4) // 2))

    # a replacement and its nested keys in one call: nested keys reach the new one
    comp.set_params(schedule=InvScaling(), schedule__power_t=1.0)
    assert comp.schedule == InvScaling(power_t=1.0)


def test_set_params_invalid_key():
    with pytest.raises(ValueError, match="Invalid parameter 'gama'.*'gamma'"):
        StepDecay().set_params(gama=0.5)
    comp = _Scaled(schedule=StepDecay())
    with pytest.raises(ValueError, match="Invalid parameter 'gama' for StepDecay"):
        comp.set_params(schedule__gama=0.5)
    with pytest.raises(ValueError, match="Invalid parameter 'power_t' for Constant"):
        Constant().set_params(power_t=1.0)


def test_varargs_signature_rejected():
    class _Bad(ParamObject):
        def __init__(self, *args):
            self.args = args

    with pytest.raises(RuntimeError, match="no \\*args"):
        _Bad().get_params()


@pytest.mark.parametrize(
    "obj",
    [
        Constant(),
        Adaptive(),
        InvScaling(power_t=0.75),
        StepDecay(step_size=2.5, gamma=0.3, unit="sample"),
        _Scaled(schedule=StepDecay(gamma=0.2, unit="step"), factor=4.0),
    ],
)
def test_clone_and_pickle_round_trip(obj):
    for copy in (clone(obj), pickle.loads(pickle.dumps(obj))):
        assert copy is not obj
        assert type(copy) is type(obj)
        assert copy == obj
        assert hash(copy) == hash(obj)
        assert repr(copy) == repr(obj)
        assert_array_equal(copy.preview(5, 3, 2), obj.preview(5, 3, 2))
    if isinstance(obj, _Scaled):
        assert clone(obj).schedule is not obj.schedule


def test_clone_estimator_holding_schedule_and_nested_search():
    schedule = StepDecay(gamma=0.1)
    est = _ToyEstimator(learning_rate=schedule)
    assert est.get_params()["learning_rate__gamma"] == 0.1

    cloned = clone(est).set_params(learning_rate__gamma=0.5)
    assert cloned.learning_rate.gamma == 0.5
    assert schedule.gamma == 0.1  # the original is untouched

    X = np.zeros((6, 1))
    search = GridSearchCV(est, {"learning_rate__gamma": [0.1, 0.3, 0.9]}, cv=2)
    search.fit(X)
    assert search.best_params_ == {"learning_rate__gamma": 0.3}
    assert search.best_estimator_.learning_rate == StepDecay(gamma=0.3)
    assert schedule.gamma == 0.1


def test_repr():
    assert repr(Constant()) == "Constant()"
    assert repr(Adaptive()) == "Adaptive()"
    assert repr(InvScaling()) == "InvScaling()"
    assert repr(InvScaling(power_t=1)) == "InvScaling(power_t=1)"
    assert repr(StepDecay()) == "StepDecay()"
    assert repr(StepDecay(gamma=0.5)) == "StepDecay(gamma=0.5)"
    assert repr(StepDecay(step_size=3, unit="step")) == (
        "StepDecay(step_size=3, unit='step')"
    )
    assert (
        repr(_Scaled(schedule=StepDecay(gamma=0.5), factor=2.0))
        == "_Scaled(schedule=StepDecay(gamma=0.5), factor=2.0)"
    )
    with_array = _WithArray(weights=np.array([1.0]))
    assert repr(with_array) == "_WithArray(weights=array([1.]))"


def test_equality_and_hash():
    assert StepDecay(gamma=0.5) == StepDecay(gamma=0.5)
    assert StepDecay(gamma=0.5) != StepDecay(gamma=0.6)
    assert StepDecay() != StepDecay(unit="step")
    assert Constant() != Adaptive()  # same (empty) params, different types
    assert Constant() != "Constant()"
    # equal objects hash equally, even when their reprs differ (1 vs 1.0)
    assert StepDecay(step_size=1) == StepDecay(step_size=1.0)
    assert hash(StepDecay(step_size=1)) == hash(StepDecay(step_size=1.0))
    assert len({StepDecay(gamma=0.5), StepDecay(gamma=0.5), InvScaling()}) == 2
    assert StepDecay(gamma=float("nan")) == StepDecay(gamma=float("nan"))
    # array-valued params compare element-wise, without ambiguity errors
    a = _WithArray(weights=np.array([1.0, np.nan]))
    assert a == _WithArray(weights=np.array([1.0, np.nan]))
    assert a != _WithArray(weights=np.array([1.0, 2.0]))
    assert a != _WithArray(weights=np.array([1.0]))
    assert hash(a) == hash(_WithArray(weights=np.array([1.0, np.nan])))


def test_no_fit_state_stored():
    s = StepDecay(gamma=0.5)
    before = dict(vars(s))
    s.preview(4, 3, 2)
    s.values(StepPositions.for_epoch(step0=0, epoch=0, sample0=0, batch_sizes=[2, 1]))
    assert vars(s) == before


def test_public_names():
    assert set(sklr.schedules.__all__) == {
        "Adaptive",
        "Constant",
        "CosineAnnealing",
        "CosineWarmRestarts",
        "Cyclic",
        "CyclicMomentum",
        "ExponentialDecay",
        "FeedbackSchedule",
        "InvScaling",
        "InverseTimeDecay",
        "Lambda",
        "LinearDecay",
        "LinearWarmup",
        "MomentumRamp",
        "MultiStepDecay",
        "OneCycle",
        "PiecewiseConstant",
        "PolynomialDecay",
        "Product",
        "ReduceOnPlateau",
        "Schedule",
        "PerEpoch",
        "Sequence",
        "StepDecay",
        "StepPositions",
        "WarmupStableDecay",
    }
    for name in sklr.schedules.__all__:
        assert hasattr(sklr.schedules, name)


def test_doctests():
    # The public classes carry __module__ = 'sklr.schedules', so testmod of
    # the package runs their examples; the private modules hold the rest.
    modules = [sklr.schedules] + [
        importlib.import_module(f"sklr.schedules.{name}")
        for name in ("_base", "_closed_form", "_compose", "_feedback", "_momentum")
    ]
    attempted = 0
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 0


def test_public_classes_live_at_the_public_path():
    # Pickles and messages name sklr.schedules.<Name>, whatever private
    # module defines the class.
    for name in sklr.schedules.__all__:
        obj = getattr(sklr.schedules, name)
        assert obj.__module__ == "sklr.schedules", name
    s = Product(StepDecay(gamma=0.5), Sequence([(LinearWarmup(2), 2), Constant()]))
    payload = pickle.dumps(s)
    assert b"sklr.schedules._" not in payload
    assert pickle.loads(payload) == s


# --------------------------------------------------------------------------
# New schedules: values against independent formulas
# --------------------------------------------------------------------------

UNITS = ("step", "epoch", "sample")


def _epochs(batch_sizes, n_epochs, step0=0, epoch0=0, sample0=0):
    """Per-epoch positions of a run whose epochs share ``batch_sizes``."""
    parts = []
    for e in range(n_epochs):
        parts.append(
            StepPositions.for_epoch(
                step0=step0, epoch=epoch0 + e, sample0=sample0, batch_sizes=batch_sizes
            )
        )
        step0 += len(batch_sizes)
        sample0 += int(np.sum(batch_sizes))
    return parts


def _concat(parts):
    fields = ("step", "epoch", "sample", "epoch_start_sample")
    return StepPositions(
        **{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
    )


# Whole runs on which every schedule is checked: fresh grids, an uneven run
# (10 rows in batches of 4: 4, 4, 2) and a resumed run (warm start at
# epoch 10 with batches 7, 7, 7, 3).
RUNS = [StepPositions.grid(*g) for g in GRIDS] + [
    _concat(_epochs([4, 4, 2], 6)),
    _concat(_epochs([7, 7, 7, 3], 3, step0=40, epoch0=10, sample0=240)),
]
RUN_IDS = [f"grid{g}" for g in GRIDS] + ["uneven", "resumed"]


def _module_level_func(t):
    """A picklable, vectorised Lambda function."""
    return np.where(t < 2, 1.0, 0.5) * np.exp(-0.1 * t)


def _scalar_only_func(t):
    """A Lambda function written for scalars only."""
    if t < 2:
        return 1.0
    return 0.5 * math.exp(-0.1 * t)


def _anneal_ref(kind, a, b, p):
    if kind == "cos":
        return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
    return (b - a) * p + a


def _one_cycle_ref(total, pct, anneal, three, points):
    """PyTorch's OneCycleLR phase loop, with the position clamped at the end."""
    ends = [pct * total - 1, total - 1]
    if three:
        ends = [pct * total - 1, 2 * pct * total - 2, total - 1]

    def f(t):
        start = 0.0
        for i, end in enumerate(ends):
            if t <= end or i == len(ends) - 1:
                p = (t - start) / (end - start) if end > start else 1.0
                return _anneal_ref(anneal, points[i], points[i + 1], min(max(p, 0), 1))
            start = end

    return f


def _one_cycle_lr_ref(total, pct, div, final_div, anneal, three):
    init = 1.0 / div
    points = (
        [init, 1.0, init, init / final_div] if three else [init, 1.0, init / final_div]
    )
    return _one_cycle_ref(total, pct, anneal, three, points)


def _cyclic_phase_ref(s, mode, gamma):
    """Smith's CLR formula (bckenstler/CLR), amplitude scale included."""

    def f(t):
        cycle = math.floor(1 + t / (2 * s))
        x = abs(t / s - 2 * cycle + 1)
        scale = {
            "triangular": 1.0,
            "triangular2": 1 / 2.0 ** (cycle - 1),
            "exp_range": gamma**t,
        }[mode]
        return max(0.0, 1 - x) * scale

    return f


def _warm_restarts_ref(T_0, T_mult, eta_min, decay):
    """SGDR by walking the cycles one by one."""

    def f(t):
        start, length, i = 0.0, float(T_0), 0
        while t >= start + length:
            start += length
            length *= T_mult
            i += 1
        cos = (1 + math.cos(math.pi * (t - start) / length)) / 2
        return eta_min + (1 - eta_min) * decay**i * cos

    return f


def _polynomial_ref(total, power, end, cycle):
    """Keras PolynomialDecay with initial rate 1."""

    def f(t):
        T = total
        if cycle:
            T = total * (1 if t == 0 else math.ceil(t / total))
        else:
            t = min(t, total)
        return (1 - end) * (1 - t / T) ** power + end

    return f


def _cases():
    """``pytest.param(make(unit) -> schedule, reference(t))`` for each case."""
    cases = []

    def add(name, make, ref):
        cases.append(pytest.param(make, ref, id=f"{name}-{len(cases)}"))

    for d in (0.0, 0.01, 0.5, 3.0):
        add(
            "InverseTimeDecay",
            lambda u, d=d: InverseTimeDecay(d, u),
            lambda t, d=d: 1 / (1 + d * t),
        )
    for ms, g in (([3], 0.5), ([1, 2.5, 4, 4], 0.3), ((), 0.1), ((0, 10, 100), 0.7)):
        add(
            "MultiStepDecay",
            lambda u, ms=ms, g=g: MultiStepDecay(ms, g, u),
            lambda t, ms=ms, g=g: g ** sum(1 for m in ms if m <= t),
        )
    for bs, vs in (([2], [1.0, 0.3]), ((1, 2.5, 40), (1, 0.5, 0.25, 0)), ([], [0.7])):

        def piecewise(t, bs=bs, vs=vs):
            i = 0
            while i < len(bs) and t >= bs[i]:
                i += 1
            return vs[i]

        add(
            "PiecewiseConstant",
            lambda u, bs=bs, vs=vs: PiecewiseConstant(bs, vs, u),
            piecewise,
        )
    for g, st in ((0.9, False), (0.5, True), (1.1, False)):
        add(
            "ExponentialDecay-gamma",
            lambda u, g=g, st=st: ExponentialDecay(gamma=g, staircase=st, unit=u),
            lambda t, g=g, st=st: g ** (math.floor(t) if st else t),
        )
    add(
        "ExponentialDecay-default", lambda u: ExponentialDecay(unit=u), lambda t: 0.9**t
    )
    for r, s, st in ((0.5, 3, False), (0.1, 2.5, True), (0.96, 100, True)):
        add(
            "ExponentialDecay-keras",
            lambda u, r=r, s=s, st=st: ExponentialDecay(
                decay_rate=r, decay_steps=s, staircase=st, unit=u
            ),
            lambda t, r=r, s=s, st=st: r ** (math.floor(t / s) if st else t / s),
        )
    for T, p, e, c in (
        (4, 1.0, 0.0, False),
        (5, 2.0, 0.1, False),
        (3, 0.5, 0.2, True),
        (2.5, 3.0, 0.0, True),
        (100, 1.0, 0.0, True),
    ):
        add(
            "PolynomialDecay",
            lambda u, T=T, p=p, e=e, c=c: PolynomialDecay(T, p, e, c, u),
            _polynomial_ref(T, p, e, c),
        )
    for T, e in ((4, 0.0), (7, 0.3)):
        add(
            "LinearDecay",
            lambda u, T=T, e=e: LinearDecay(T, e, u),
            lambda t, T=T, e=e: 1 - (1 - e) * min(t, T) / T,
        )
    for P, eta, per in (
        (4, 0.0, False),
        (4, 0.1, True),
        (6.5, 0.2, False),
        (3, 0.0, True),
        (50, 0.0, True),
    ):
        add(
            "CosineAnnealing",
            lambda u, P=P, eta=eta, per=per: CosineAnnealing(P, eta, per, u),
            lambda t, P=P, eta=eta, per=per: eta
            + (1 - eta) * (1 + math.cos(math.pi * (t if per else min(t, P)) / P)) / 2,
        )
    for T0, Tm, eta, d in (
        (2, 1, 0.0, 1.0),
        (3, 2, 0.1, 0.5),
        (1.5, 2, 0.0, 1.0),
        (2, 3, 0.0, 0.8),
        (1, 1.5, 0.05, 1.0),
        (10, 2, 0.0, 1.0),
    ):
        add(
            "CosineWarmRestarts",
            lambda u, T0=T0, Tm=Tm, eta=eta, d=d: CosineWarmRestarts(T0, Tm, eta, d, u),
            _warm_restarts_ref(T0, Tm, eta, d),
        )
    for mode in ("triangular", "triangular2", "exp_range"):
        for b, m, s in ((0.1, 1.0, 2), (0.0, 0.5, 2.5), (0.3, 1.2, 7)):
            phase = _cyclic_phase_ref(s, mode, 0.9)
            add(
                f"Cyclic-{mode}",
                lambda u, b=b, m=m, s=s, mode=mode: Cyclic(b, m, s, mode, 0.9, u),
                lambda t, b=b, m=m, phase=phase: b + (m - b) * phase(t),
            )
            add(
                f"CyclicMomentum-{mode}",
                lambda u, s=s, mode=mode: CyclicMomentum(
                    Cyclic(0.1, 1.0, s, mode, 0.9, u), 0.8, 0.9
                ),
                lambda t, phase=phase: 0.9 - 0.1 * phase(t),
            )
    for T, q, div, fdiv, an, three in (
        (10, 0.3, 25, 1e4, "cos", False),
        (7, 0.25, 10, 100, "linear", False),
        (12, 0.4, 5, 10, "cos", True),
        (9, 0.5, 25, 1e4, "linear", True),
        (20, 0.0, 25, 1e4, "cos", False),
        (4, 1.0, 10, 10, "cos", False),
        (1, 0.25, 25, 1e4, "linear", False),
    ):
        add(
            "OneCycle",
            lambda u, T=T, q=q, div=div, fdiv=fdiv, an=an, three=three: OneCycle(
                T, q, div, fdiv, an, three, u
            ),
            _one_cycle_lr_ref(T, q, div, fdiv, an, three),
        )
        points = [0.95, 0.85, 0.95, 0.95] if three else [0.95, 0.85, 0.95]
        add(
            "CyclicMomentum-OneCycle",
            lambda u, T=T, q=q, an=an, three=three: CyclicMomentum(
                OneCycle(T, q, anneal=an, three_phase=three, unit=u)
            ),
            _one_cycle_ref(T, q, an, three, points),
        )
    for W, f in ((4, 0.2), (1, 0.0), (2.5, 0.5)):
        add(
            "LinearWarmup",
            lambda u, W=W, f=f: LinearWarmup(W, f, u),
            lambda t, W=W, f=f: f + (1 - f) * min(t, W) / W,
        )
    for a, b, R in ((0.5, 0.99, 10), (0.0, 0.9, 3.5), (0.9, 0.5, 100)):
        # H2O: momentum_start + (stable - start) * n / ramp until n >= ramp
        add(
            "MomentumRamp",
            lambda u, a=a, b=b, R=R: MomentumRamp(a, b, R, u),
            lambda t, a=a, b=b, R=R: b if t >= R else a + (b - a) * t / R,
        )
    add(
        "Lambda",
        lambda u: Lambda(_module_level_func, u),
        lambda t: (1.0 if t < 2 else 0.5) * math.exp(-0.1 * t),
    )
    add("Lambda-scalar", lambda u: Lambda(_scalar_only_func, u), _scalar_only_func)
    for W, f, P, eta in ((2, 0.5, 4, 0.0), (1.5, 0.1, 6, 0.1)):
        # warm-up then cosine in local time, written piecewise
        add(
            "Sequence-warmup-cosine",
            lambda u, W=W, f=f, P=P, eta=eta: Sequence(
                [(LinearWarmup(W, f, u), W), CosineAnnealing(P, eta, unit=u)], u
            ),
            lambda t, W=W, f=f, P=P, eta=eta: (
                f + (1 - f) * t / W
                if t < W
                else eta + (1 - eta) * (1 + math.cos(math.pi * min(t - W, P) / P)) / 2
            ),
        )
    add(
        "Sequence-three",
        lambda u: Sequence(
            [(Constant(), 2), (StepDecay(1, 0.5, u), 3), LinearDecay(4, unit=u)], u
        ),
        lambda t: (
            1.0
            if t < 2
            else (0.5 ** math.floor(t - 2) if t < 5 else 1 - min(t - 5, 4) / 4)
        ),
    )
    add(
        "Sequence-nested",
        lambda u: Sequence(
            [
                (Sequence([(LinearWarmup(2, 0.5, u), 2), Constant()], u), 3),
                ExponentialDecay(gamma=0.5, unit=u),
            ],
            u,
        ),
        lambda t: (0.5 + 0.5 * t / 2 if t < 2 else 1.0) if t < 3 else 0.5 ** (t - 3),
    )
    add(
        "Product",
        lambda u: Product(StepDecay(2, 0.5, u), CosineAnnealing(5, 0.1, unit=u)),
        lambda t: 0.5 ** math.floor(t / 2)
        * (0.1 + 0.9 * (1 + math.cos(math.pi * min(t, 5) / 5)) / 2),
    )
    return cases


CASES = _cases()


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("make, ref", CASES)
def test_new_schedules_match_formulas(make, ref, unit):
    schedule = make(unit)
    for positions, run_id in zip(RUNS, RUN_IDS):
        expected = [ref(t) for t in getattr(positions, unit)]
        out = schedule.values(positions)
        assert out.dtype == np.float64 and out.shape == (len(positions),)
        assert_allclose(out, expected, rtol=1e-12, atol=1e-14, err_msg=run_id)
    n_epochs, steps, bs = GRIDS[3]
    grid = StepPositions.grid(n_epochs, steps, bs)
    assert_array_equal(schedule.preview(n_epochs, steps, bs), schedule.values(grid))


@pytest.mark.parametrize("make, ref", CASES)
def test_new_schedules_resume_epoch_by_epoch(make, ref):
    # one epoch at a time (as the estimator evaluates them) equals one call
    # over the whole run: the values depend on each update's position only
    parts = _epochs([4, 4, 2], 5) + _epochs([5, 5], 2, step0=15, epoch0=5, sample0=50)
    for unit in UNITS:
        schedule = make(unit)
        joined = np.concatenate([schedule.values(p) for p in parts])
        assert_array_equal(joined, schedule.values(_concat(parts)))


def test_cosine_clamps_and_periodic_continues():
    clamped = CosineAnnealing(period=4, unit="step").preview(12)
    assert_array_equal(clamped[4:], np.zeros(8))
    periodic = CosineAnnealing(period=4, periodic=True, unit="step").preview(12)
    assert_allclose(periodic[8], 1.0)  # back to the start after 2 * period
    assert_allclose(periodic[4:9], periodic[4::-1], atol=1e-15)  # mirrored


def test_polynomial_cycle_edges():
    s = PolynomialDecay(total=2, end_value=0.1, cycle=True, unit="step")
    # t = 0 uses the first horizon; t = total ends it; then the horizon doubles
    assert_allclose(s.preview(5), [1.0, 0.55, 0.1, 0.325, 0.1])
    assert_allclose(
        PolynomialDecay(total=2, end_value=0.1, unit="step").preview(5),
        [1.0, 0.55, 0.1, 0.1, 0.1],
    )
    assert isinstance(LinearDecay(), PolynomialDecay)
    assert_array_equal(
        LinearDecay(3, 0.2, unit="step").preview(6),
        PolynomialDecay(3, 1.0, 0.2, unit="step").preview(6),
    )


def test_piecewise_convention_against_keras_rule():
    # Keras PiecewiseConstantDecay: values[i] while t <= boundaries[i]; sklr
    # changes at the boundary, so Keras' boundaries b are sklr's b + 1.
    keras_b, vals = [2, 5], [1.0, 0.5, 0.1]
    keras = [vals[sum(1 for b in keras_b if t > b)] for t in range(9)]
    ours = PiecewiseConstant([b + 1 for b in keras_b], vals, unit="step").preview(9)
    assert_array_equal(ours, keras)
    at_boundary = PiecewiseConstant([2, 5], vals, unit="step").preview(9)
    assert at_boundary[2] == 0.5 and at_boundary[5] == 0.1


def test_multistep_changes_at_milestone():
    assert_array_equal(MultiStepDecay([2, 4], 0.5).preview(5), [1, 1, 0.5, 0.5, 0.25])
    assert_array_equal(MultiStepDecay([2, 2], 0.5).preview(3), [1, 1, 0.25])


def test_warm_restarts_log_boundaries_are_exact():
    # starts of cycles where floating-point logarithms round the wrong way
    for T_0, T_mult in ((1, 2), (1, 3), (3, 2), (0.1, 10), (5, 1.1)):
        s = CosineWarmRestarts(T_0=T_0, T_mult=T_mult, unit="step")
        starts = T_0 * (T_mult ** np.arange(12) - 1) / (T_mult - 1)
        pos = StepPositions(
            step=starts, epoch=starts, sample=starts, epoch_start_sample=starts
        )
        assert_allclose(s.values(pos), 1.0, rtol=1e-12)


def test_one_cycle_clamps_after_total_and_phase_range():
    s = OneCycle(total=10, pct_start=0.3, unit="step")
    out = s.preview(15)
    assert_allclose(out[9:], 1 / (25 * 1e4))
    assert out.argmax() == 2 and out[2] == 1.0  # the peak at pct_start * T - 1
    pos = StepPositions.grid(15)
    phase = s._phase(pos)
    assert phase[0] == 0.0 and phase[2] == 1.0 and np.all(phase[9:] == 0.0)
    assert np.all((phase >= 0) & (phase <= 1))
    three = OneCycle(total=10, pct_start=0.3, three_phase=True, unit="step")
    assert_allclose(three.preview(10)[4], 1 / 25)  # back to the start at 2qT - 2
    assert_array_equal(three._phase(pos)[4:], 0.0)


def test_cyclic_phase_range():
    for mode in ("triangular", "triangular2", "exp_range"):
        s = Cyclic(step_size=3, mode=mode, gamma=0.95)
        phase = s._phase(StepPositions.grid(30))
        assert np.all((phase >= 0) & (phase <= 1))
        assert phase[0] == 0.0 and phase[3] == pytest.approx(
            {"triangular": 1, "triangular2": 1, "exp_range": 0.95**3}[mode]
        )
        assert_allclose(s.preview(30), 0.1 + 0.9 * phase)


def test_inverse_time_decay_h2o_and_keras_conventions():
    # H2O: rate / (1 + rate_annealing * samples); Keras SGD: per update
    out = InverseTimeDecay(1e-3, unit="sample").preview(3, 2, 50)
    assert_allclose(out, 1 / (1 + 1e-3 * np.array([0, 50, 100, 150, 200, 250])))
    out = InverseTimeDecay(0.1, unit="step").preview(3, 2, 50)
    assert_allclose(out, 1 / (1 + 0.1 * np.arange(6)))
    # the default unit is the epoch (one rule: schedules without an end count epochs)
    out = InverseTimeDecay(0.1).preview(3, 2, 50)
    assert_allclose(out, 1 / (1 + 0.1 * np.arange(6) / 2))


def test_momentum_ramp_on_uneven_batches():
    pos = StepPositions.for_epoch(step0=3, epoch=1, sample0=10, batch_sizes=[4, 4, 2])
    # rows seen 10, 14, 18 on a ramp of 20 rows from 0.5 to 0.9
    assert_allclose(
        MomentumRamp(0.5, 0.9, 20, unit="sample").values(pos), [0.7, 0.78, 0.86]
    )
    assert_allclose(
        MomentumRamp(0.5, 0.9, 20, unit="step").values(pos), [0.56, 0.58, 0.6]
    )


# --------------------------------------------------------------------------
# Sequence
# --------------------------------------------------------------------------


def test_sequence_brief_example_in_epochs():
    s = Sequence([(LinearWarmup(5, unit="epoch"), 5), CosineAnnealing(95, unit="epoch")],
                 unit="epoch")
    out = s.preview(100, steps_per_epoch=4)
    e = StepPositions.grid(100, 4).epoch
    expected = np.where(
        e < 5,
        0.1 + 0.9 * np.minimum(e, 5) / 5,
        (1 + np.cos(np.pi * np.minimum(e - 5, 95) / 95)) / 2,
    )
    assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    assert out[20] == 1.0  # the first update of epoch 5 starts the cosine


def test_sequence_sample_unit_shifts_epoch_start_sample():
    s = Sequence([(Constant(), 10), InvScaling(power_t=0.5)], unit="sample")
    parts = _epochs([4, 4], 4)  # 8 rows per epoch: epochs start at 0, 8, 16, 24
    out = np.concatenate([s.values(p) for p in parts])
    # rows seen 0 4 | 8 12 | 16 20 | 24 28: the InvScaling segment starts at
    # row 12; its local epoch start is max(start - 10, 0)
    expected = [1, 1, 1, 1, 7**-0.5, 7**-0.5, 15**-0.5, 15**-0.5]
    assert_allclose(out, expected)


class _ReadsStep(Schedule):
    """Test-only schedule that reads the step field without declaring a unit."""

    def __init__(self):
        pass

    def _values(self, positions):
        return positions.step


def test_sequence_local_positions_in_other_units_are_nan():
    s = Sequence([(Constant(), 1), _ReadsStep()], unit="epoch")
    assert np.all(np.isnan(s.preview(3)[1:]))
    s = Sequence([(Constant(), 1), _ReadsStep()], unit="step")
    assert_array_equal(s.preview(3), [1.0, 0.0, 1.0])


_WARM = LinearWarmup(5, unit="epoch")


@pytest.mark.parametrize(
    "schedules, unit, match",
    [
        ([], "epoch", "must not be empty"),
        ([(_WARM, 5)], "epoch", "must end with a bare schedule"),
        ([_WARM, Constant()], "epoch", "item 0 must be a \\(schedule, length"),
        ([(_WARM, 0), Constant()], "epoch", "length of item 0"),
        ([(_WARM, float("inf")), Constant()], "epoch", "length of item 0"),
        ([(_WARM, True), Constant()], "epoch", "length of item 0"),
        ([(_WARM, 5), "cosine"], "epoch", "item 1 must hold an instance"),
        ([("warmup", 5), Constant()], "epoch", "item 0 must hold an instance"),
        (
            [(_WARM, 5), CosineAnnealing(95, unit="step")],
            "epoch",
            "item 1, CosineAnnealing\\(period=95, unit='step'\\), reads time in "
            "\\['step'\\]",
        ),
        (
            [(_WARM, 5), Constant()],
            "step",
            "item 0.*reads time in \\['epoch'\\]",
        ),
        (
            [(LinearWarmup(), 0.1), CosineAnnealing()],
            "epoch",
            "item 0, LinearWarmup\\(\\), reads time in \\['fraction'\\]",
        ),
        ([(LinearWarmup(), 0.5), (Constant(), 0.5), Constant()], "fraction",
         "add up to 1.0, but with unit='fraction'"),
        ([(LinearWarmup(), 5), CosineAnnealing()], "fraction", "add up to 5"),
        ([(InvScaling(), 5), Constant()], "epoch", "reads time in \\['sample'\\]"),
        ([(Constant(), 5), ReduceOnPlateau()], "epoch", "feedback schedule"),
        (
            [(Constant(), 5), Product(Constant(), Adaptive())],
            "epoch",
            "feedback schedule Adaptive",
        ),
        ([(LinearWarmup(warmup=-1, unit="epoch"), 5), Constant()], "epoch", "warmup"),
    ],
)
def test_sequence_invalid(schedules, unit, match):
    with pytest.raises(ValueError, match=match):
        Sequence(schedules, unit=unit).preview(3)
    with pytest.raises(ValueError, match=match):
        _check_schedule(Sequence(schedules, unit=unit))


def test_sequence_params_clone_and_search():
    warm, cos = LinearWarmup(5, unit="epoch"), CosineAnnealing(95, unit="epoch")
    s = Sequence([(warm, 5), cos], unit="epoch")
    assert s.get_params(deep=True) == {"schedules": [(warm, 5), cos], "unit": "epoch"}
    c = clone(s)
    assert c == s and c.schedules is not s.schedules
    assert c.schedules[0][0] is not warm and c.schedules[1] is not cos
    assert_array_equal(c.preview(12, 2), s.preview(12, 2))
    # searching means searching whole lists
    other = [(LinearWarmup(2, unit="epoch"), 2), CosineAnnealing(98, unit="epoch")]
    est = _PreviewEstimator(learning_rate=s)
    est.set_params(learning_rate__schedules=other)
    assert est.learning_rate.schedules is other


# --------------------------------------------------------------------------
# Product, Lambda, feedback
# --------------------------------------------------------------------------


def test_product_nested_params_and_feedback():
    p = Product(StepDecay(gamma=0.5), ReduceOnPlateau(patience=3))
    deep = p.get_params(deep=True)
    assert deep["s1__gamma"] == 0.5 and deep["s2__patience"] == 3
    p.set_params(s1__gamma=0.2, s2__factor=0.5)
    assert p.s1.gamma == 0.2 and p.s2.factor == 0.5
    assert_allclose(p.preview(4), 0.2 ** np.arange(4))
    assert p._feedback_schedules() == [p.s2] and p._feedback_schedules()[0] is p.s2
    assert Product(Constant(), StepDecay())._feedback_schedules() == []
    nested = Product(Product(ReduceOnPlateau(), Adaptive()), StepDecay())
    assert [type(s) for s in nested._feedback_schedules()] == [
        ReduceOnPlateau,
        Adaptive,
    ]
    assert ReduceOnPlateau()._feedback_schedules()[0] == ReduceOnPlateau()
    assert Adaptive()._feedback_schedules() == [Adaptive()]
    for s in (
        StepDecay(),
        Sequence([Constant()]),
        Lambda(_module_level_func),
        CyclicMomentum(Cyclic()),
    ):
        assert s._feedback_schedules() == []


def test_product_invalid_factor():
    with pytest.raises(InvalidParameterError, match="'s2' parameter of Product"):
        Product(StepDecay(), 0.5).preview(2)
    with pytest.raises(InvalidParameterError, match="'gamma' parameter of StepDecay"):
        Product(StepDecay(gamma=-1), Constant()).preview(2)


def test_lambda_vectorised_call_and_scalar_fallback():
    calls = []

    def vectorised(t):
        calls.append(np.shape(t))
        return 0.5 * np.ones_like(t)

    assert_array_equal(Lambda(vectorised).preview(3, 4), np.full(12, 0.5))
    assert calls == [(12,)]  # one call on the whole array
    assert_array_equal(Lambda(lambda t: 0.25).preview(3), [0.25] * 3)  # scalar out
    assert_allclose(Lambda(math.exp, unit="step").preview(3), np.exp([0, 1, 2]))
    assert len(Lambda(_scalar_only_func).values(StepPositions.grid(0))) == 0
    with pytest.raises(ZeroDivisionError):  # other errors are not swallowed
        Lambda(lambda t: 1 / 0).preview(2)
    with pytest.raises(InvalidParameterError, match="'func' parameter"):
        Lambda(func=3.0).preview(2)


def test_lambda_pickles_module_level_function():
    s = Lambda(_module_level_func, unit="step")
    copy = pickle.loads(pickle.dumps(s))
    assert copy == s and copy.func is _module_level_func
    assert_array_equal(copy.preview(4, 3), s.preview(4, 3))


def _local_function_holder():
    def local(t):
        return t

    return local


@pytest.mark.parametrize("func", [lambda t: t, _local_function_holder()])
def test_lambda_unpicklable_func_raises_clear_error(func):
    s = Lambda(func)
    with pytest.raises(pickle.PicklingError, match="Lambda.*module-level function"):
        pickle.dumps(s)
    # clone and deep copies do not pickle: they keep working
    assert clone(s).func is func
    import copy as copy_module

    assert copy_module.deepcopy(s).func is func
    assert copy_module.copy(s).func is func
    assert_array_equal(clone(s).preview(3), [0.0, 1.0, 2.0])


# --------------------------------------------------------------------------
# ReduceOnPlateau
# --------------------------------------------------------------------------


def _replay(schedule, values):
    """Scale in effect during each epoch."""
    return schedule.preview(len(values), monitored=values)


def test_plateau_values_are_ones_and_state():
    s = ReduceOnPlateau()
    assert s.is_feedback and ReduceOnPlateau.is_feedback
    assert_array_equal(s.preview(3, 2, monitored=[1.0, 1.0, 1.0]), np.ones(6))
    assert_array_equal(s.values(StepPositions.grid(2, 3)), np.ones(6))
    assert s.init_state() == {
        "best": math.inf,
        "bad_epochs": 0,
        "cooldown_counter": 0,
        "scale": 1.0,
        "mode": "min",
        "epochs": 0,
    }
    assert ReduceOnPlateau(monitor="val_score").init_state()["best"] == -math.inf
    assert ReduceOnPlateau(monitor="loss").init_state()["best"] == math.inf


#                   e0   e1    e2    e3    e4   e5    e6    e7    e8
_PLATEAU_SEQ = [1.0, 0.95, 0.95, 0.95, 0.8, 0.71, 0.75, 0.75, 0.75]


@pytest.mark.parametrize(
    "convention, mode, expected",
    [
        # abs 0.1: 0.95 and 0.71 are not improvements (best 1.0, then 0.8)
        ("pytorch", "abs", [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]),
        # rel 0.1: 0.71 < 0.8 * 0.9 improves, so no second reduction yet
        ("pytorch", "rel", [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]),
        # Keras reduces when the count reaches patience: one epoch earlier
        ("keras", "abs", [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]),
        ("keras", "rel", [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]),
    ],
)
def test_plateau_conventions_and_threshold_modes(convention, mode, expected):
    s = ReduceOnPlateau(
        factor=0.5,
        patience=2,
        threshold=0.1,
        threshold_mode=mode,
        patience_convention=convention,
    )
    assert_allclose(_replay(s, _PLATEAU_SEQ), expected)


def test_plateau_cooldown_pytorch_and_keras():
    flat = [1.0] * 7
    s = ReduceOnPlateau(factor=0.5, patience=0, cooldown=2, threshold=0.0)
    # bad at e1 -> reduce; e2, e3 in cooldown; bad at e4 -> reduce; ...
    assert_allclose(_replay(s, flat), [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    k = ReduceOnPlateau(
        factor=0.5, patience=1, cooldown=2, threshold=0.0, patience_convention="keras"
    )
    # Keras decrements the cooldown first, so a bad epoch counts again one
    # epoch earlier
    assert_allclose(_replay(k, flat), [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125])


def test_plateau_min_value_and_maximised_score():
    s = ReduceOnPlateau(factor=0.1, patience=0, threshold=0.0, min_value=0.05)
    assert_allclose(_replay(s, [1.0] * 5), [1, 1, 0.1, 0.05, 0.05])
    k = ReduceOnPlateau(
        factor=0.1,
        patience=1,
        threshold=0.0,
        min_value=0.05,
        patience_convention="keras",
    )
    assert_allclose(_replay(k, [1.0] * 5), [1, 1, 0.1, 0.05, 0.05])
    state = k.init_state()
    for v in [1.0] * 6:
        state = k.update(state, v)
    assert state["scale"] == 0.05
    score = ReduceOnPlateau(
        factor=0.1, patience=0, threshold=0.0, threshold_mode="abs", monitor="val_score"
    )
    assert_allclose(_replay(score, [0.5, 0.6, 0.6, 0.59, 0.7]), [1, 1, 1, 0.1, 0.01])
    loss = ReduceOnPlateau(factor=0.1, patience=0, threshold=0.0, monitor="loss")
    assert_allclose(_replay(loss, [0.5, 0.6, 0.4]), [1, 1, 0.1])


# Longer runs, worked out by hand (the scale in effect during each epoch; a
# reduction decided after epoch e applies from e + 1). The frameworks
# themselves are the references in test_schedules_torch.py (PyTorch) and
# test_schedules_keras.py (Keras).
#            e0   e1   e2   e3   e4   e5   e6   e7 ... e20
_LONG_SEQ = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0] + [3.0] * 15


@pytest.mark.parametrize(
    "convention, mode, expected",
    [
        # PyTorch, patience 3, cooldown 1, min_value 0.2, threshold 0:
        # e0, e1 improve; e2..e5 bad (count 4 > 3) -> 0.5 from e6, cooldown 1.
        # e6 improves (3 < 4) and is the cooldown epoch (count cleared);
        # e7..e10 bad -> 0.25 from e11; e11 cooldown clears the count;
        # e12..e15 bad -> max(0.125, 0.2) = 0.2 from e16; e16 cooldown;
        # e17..e20 bad -> max(0.1, 0.2): stays 0.2.
        ("pytorch", "rel", [1] * 6 + [0.5] * 5 + [0.25] * 5 + [0.2] * 5),
        # Keras, the same settings: the cooldown counter is decremented
        # first, so with cooldown 1 the epoch after a reduction counts again.
        # e2, e3, e4 bad (count reaches 3) -> 0.5 from e5; e5 bad (count 1),
        # e6 improves; e7, e8, e9 bad -> 0.25 from e10; e10, e11, e12 bad ->
        # 0.2 from e13; then the count reaches 3 again at e15 but the rate
        # is at min_value: no reduction, and the count is not reset.
        ("keras", "abs", [1] * 5 + [0.5] * 5 + [0.25] * 3 + [0.2] * 8),
    ],
)
def test_plateau_patience_cooldown_and_floor_by_hand(convention, mode, expected):
    s = ReduceOnPlateau(factor=0.5, patience=3, threshold=0.0, threshold_mode=mode,
                        cooldown=1, min_value=0.2, monitor="loss",
                        patience_convention=convention)
    assert_allclose(_replay(s, _LONG_SEQ), expected, rtol=1e-15)
    # The state after e20. PyTorch reduces (to the floor) after e20 anyway:
    # count cleared, cooldown 1. Keras has counted e13..e20: 8 bad epochs.
    state = s.init_state()
    for value in _LONG_SEQ:
        state = s.update(state, value)
    final = {"pytorch": (0, 1), "keras": (8, 0)}[convention]
    assert state == {"best": 3.0, "bad_epochs": final[0], "cooldown_counter": final[1],
                     "scale": 0.2, "mode": "min", "epochs": len(_LONG_SEQ)}


@pytest.mark.parametrize(
    "convention, expected",
    [
        # Maximised with a relative threshold 0.1: better means > 1.1 * best.
        # PyTorch, patience 1: e0 best 0.5; e1 0.54 < 0.55 bad (1); e2 0.56
        # best; e3 0.7 best; e4 0.75 < 0.77 bad (1); e5 0.76 bad (2 > 1)
        # -> 0.1 from e6; e6 0.9 > 0.77 best.
        ("pytorch", [1, 1, 1, 1, 1, 1, 0.1]),
        # Keras, patience 1: every bad epoch reduces. e1 bad -> 0.1 from e2;
        # e2, e3 improve; e4 bad -> 0.01 from e5; e5 bad -> 0.001 from e6.
        ("keras", [1, 1, 0.1, 0.1, 0.1, 0.01, 0.001]),
    ],
)
def test_plateau_relative_threshold_on_a_maximised_score_by_hand(convention, expected):
    s = ReduceOnPlateau(factor=0.1, patience=1, threshold=0.1, threshold_mode="rel",
                        monitor="val_score", patience_convention=convention)
    assert_allclose(_replay(s, [0.5, 0.54, 0.56, 0.7, 0.75, 0.76, 0.9]), expected, rtol=1e-12)


def test_plateau_update_is_pure():
    s = ReduceOnPlateau(factor=0.5, patience=0, cooldown=1)
    params, attrs = s.get_params(), dict(vars(s))
    state = s.init_state()
    state["extra"] = "kept"
    history = []
    for v in [1.0, 2.0, 2.0, 2.0]:
        before = dict(state)
        new = s.update(state, v)
        assert state == before  # input not modified
        assert new is not state and new["extra"] == "kept"
        history.append(new["scale"])
        state = new
    assert history == [1.0, 0.5, 0.5, 0.25]
    assert s.get_params() == params and vars(s) == attrs
    # same inputs, same outputs: replaying from a saved state is deterministic
    saved = s.update(s.init_state(), 1.0)
    assert s.update(saved, 2.0) == s.update(saved, 2.0)


def test_plateau_preview_requires_monitored():
    s = ReduceOnPlateau()
    with pytest.raises(ValueError, match="monitored"):
        s.preview(3)
    with pytest.raises(ValueError, match="monitored must have shape \\(3,\\)"):
        s.preview(3, monitored=[1.0, 2.0])


# --------------------------------------------------------------------------
# Validation of the new schedules
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule, name",
    [
        (InverseTimeDecay(decay=-1), "decay"),
        (InverseTimeDecay(unit="hour"), "unit"),
        (MultiStepDecay(gamma=0), "gamma"),
        (MultiStepDecay(milestones=3), "milestones"),
        (PiecewiseConstant(boundaries="ab"), "boundaries"),
        (ExponentialDecay(gamma=0), "gamma"),
        (ExponentialDecay(decay_steps=-2, decay_rate=0.5), "decay_steps"),
        (ExponentialDecay(staircase="yes"), "staircase"),
        (PolynomialDecay(total=0), "total"),
        (PolynomialDecay(power=0), "power"),
        (PolynomialDecay(end_value=-0.1), "end_value"),
        (LinearDecay(total=-1), "total"),
        (CosineAnnealing(period=0), "period"),
        (CosineAnnealing(eta_min=-1), "eta_min"),
        (CosineAnnealing(periodic=None), "periodic"),
        (CosineWarmRestarts(T_0=0), "T_0"),
        (CosineWarmRestarts(T_mult=0.5), "T_mult"),
        (CosineWarmRestarts(decay=0), "decay"),
        (Cyclic(base=-0.1), "base"),
        (Cyclic(step_size=0), "step_size"),
        (Cyclic(mode="sawtooth"), "mode"),
        (Cyclic(gamma=1.5), "gamma"),
        (OneCycle(pct_start=1.5), "pct_start"),
        (OneCycle(div_factor=0), "div_factor"),
        (OneCycle(final_div_factor=-1), "final_div_factor"),
        (OneCycle(anneal="exp"), "anneal"),
        (LinearWarmup(warmup=0), "warmup"),
        (LinearWarmup(start_factor=-0.5), "start_factor"),
        (Sequence(schedules="warmup"), "schedules"),
        (Sequence([Constant()], unit="day"), "unit"),
        (Lambda(func=None), "func"),
        (ReduceOnPlateau(factor=1.0), "factor"),
        (ReduceOnPlateau(patience=-1), "patience"),
        (ReduceOnPlateau(patience=1.5), "patience"),
        (ReduceOnPlateau(threshold=-1), "threshold"),
        (ReduceOnPlateau(threshold_mode="pct"), "threshold_mode"),
        (ReduceOnPlateau(cooldown=-1), "cooldown"),
        (ReduceOnPlateau(min_value=2.0), "min_value"),
        (ReduceOnPlateau(monitor=3), "monitor"),
        (ReduceOnPlateau(mode="up"), "mode"),
        (ReduceOnPlateau(start_from_epoch=-1), "start_from_epoch"),
        (ReduceOnPlateau(patience_convention="tf"), "patience_convention"),
        (MomentumRamp(start=1.5), "start"),
        (MomentumRamp(stable=-0.1), "stable"),
        (MomentumRamp(ramp=0), "ramp"),
        (CyclicMomentum(StepDecay()), "cycle"),
        (CyclicMomentum(Cyclic(), base_momentum=1.2), "base_momentum"),
        (CyclicMomentum(OneCycle(), max_momentum=-0.2), "max_momentum"),
    ],
)
def test_new_invalid_params_raise(schedule, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        schedule.values(StepPositions.grid(2))
    with pytest.raises(ValueError, match=name):
        _check_schedule(schedule)


@pytest.mark.parametrize(
    "schedule, match",
    [
        (MultiStepDecay(milestones=[3, 1]), "'milestones' parameter.*sorted"),
        (MultiStepDecay(milestones=[-1, 2]), "'milestones' parameter.*>= 0"),
        (MultiStepDecay(milestones=[[1, 2]]), "'milestones' parameter.*1-D"),
        (
            PiecewiseConstant(boundaries=[1, 1], multipliers=[1, 2, 3]),
            "'boundaries' parameter.*strictly increasing",
        ),
        (
            PiecewiseConstant(boundaries=[1, 2], multipliers=[1, 2]),
            "'multipliers' parameter.*one more entry than 'boundaries'",
        ),
        (
            PiecewiseConstant(boundaries=[1], multipliers=[1, -2]),
            "'multipliers' parameter.*>= 0",
        ),
        (
            PiecewiseConstant(boundaries=[np.nan], multipliers=[1, 2]),
            "'boundaries' parameter.*finite",
        ),
        (ExponentialDecay(decay_rate=0.5), "needs both 'decay_rate' and 'decay_steps'"),
        (ExponentialDecay(decay_steps=10), "needs both 'decay_rate' and 'decay_steps'"),
        (
            ExponentialDecay(gamma=0.9, decay_rate=0.5, decay_steps=10),
            "either 'gamma'.*or 'decay_rate' and 'decay_steps'.*not both",
        ),
        (OneCycle(pct_start=0.6, three_phase=True), "'pct_start' parameter.*<= 0.5"),
        (ReduceOnPlateau(threshold=1.0), "'threshold' parameter.*< 1"),
        (CyclicMomentum(Cyclic(step_size=-1)), "'step_size' parameter of Cyclic"),
    ],
)
def test_cross_parameter_checks(schedule, match):
    with pytest.raises(ValueError, match=match):
        schedule.preview(2)
    with pytest.raises(ValueError, match=match):
        _check_schedule(schedule)


def test_plateau_init_and_update_validate():
    with pytest.raises(InvalidParameterError, match="'factor' parameter"):
        ReduceOnPlateau(factor=2).init_state()
    with pytest.raises(InvalidParameterError, match="'factor' parameter"):
        ReduceOnPlateau(factor=2).update(ReduceOnPlateau().init_state(), 1.0)


# --------------------------------------------------------------------------
# Parameter protocol of the new schedules
# --------------------------------------------------------------------------

NEW_OBJECTS = [
    InverseTimeDecay(decay=0.1, unit="sample"),
    MultiStepDecay(milestones=[2, 4], gamma=0.5),
    PiecewiseConstant(boundaries=[1, 3], multipliers=[1.0, 0.4, 0.2]),
    ExponentialDecay(gamma=0.8, unit="epoch"),
    ExponentialDecay(decay_rate=0.5, decay_steps=3, staircase=True),
    PolynomialDecay(total=5, power=2.0, end_value=0.1, cycle=True, unit="step"),
    PolynomialDecay(power=2.0, end_value=0.1),
    LinearDecay(total=7, end_value=0.2, unit="epoch"),
    LinearDecay(end_value=0.2),
    CosineAnnealing(period=6, eta_min=0.1, periodic=True, unit="step"),
    CosineAnnealing(period=0.5, eta_min=0.1),
    CosineWarmRestarts(T_0=2, T_mult=2, decay=0.5),
    Cyclic(base=0.2, max=0.8, step_size=3, mode="exp_range", gamma=0.9),
    OneCycle(total=12, anneal="linear", three_phase=True, unit="step"),
    OneCycle(three_phase=True),
    LinearWarmup(warmup=3, start_factor=0.2, unit="epoch"),
    LinearWarmup(warmup=0.3, start_factor=0.2),
    WarmupStableDecay(warmup_fraction=0.1, decay_fraction=0.3, anneal="cos"),
    WarmupStableDecay(total=9, unit="step", start_factor=0.1, end_value=0.05),
    Sequence([(LinearWarmup(2, unit="epoch"), 2), CosineAnnealing(5, unit="epoch")],
             unit="epoch"),
    Sequence([(LinearWarmup(), 0.2), (Constant(), 0.3), CosineAnnealing()]),
    Product(StepDecay(gamma=0.5), ReduceOnPlateau(patience=2)),
    Lambda(_module_level_func, unit="step"),
    ReduceOnPlateau(factor=0.5, patience=2, patience_convention="keras"),
    MomentumRamp(start=0.4, stable=0.9, ramp=30, unit="sample"),
    MomentumRamp(start=0.4, stable=0.9),
    CyclicMomentum(Cyclic(step_size=2), base_momentum=0.8, max_momentum=0.9),
    CyclicMomentum(OneCycle(total=10, unit="step")),
    CyclicMomentum(OneCycle()),
]


@pytest.mark.parametrize("obj", NEW_OBJECTS, ids=lambda o: type(o).__name__)
def test_new_clone_and_pickle_round_trip(obj):
    monitored = {"monitored": np.linspace(1, 0.9, 5)} if obj.is_feedback else {}
    for copy in (clone(obj), pickle.loads(pickle.dumps(obj))):
        assert copy is not obj
        assert type(copy) is type(obj)
        assert copy == obj
        assert hash(copy) == hash(obj)
        assert repr(copy) == repr(obj)
        assert_array_equal(
            copy.preview(5, 3, 2, **monitored), obj.preview(5, 3, 2, **monitored)
        )
    before = dict(vars(obj))
    obj.preview(5, 3, 2, **monitored)
    assert vars(obj) == before  # no state stored
    assert isinstance(_check_schedule(obj), Schedule)


def test_new_reprs_show_non_defaults():
    assert repr(ExponentialDecay()) == "ExponentialDecay()"
    assert repr(LinearDecay(total=7, unit="step")) == "LinearDecay(total=7, unit='step')"
    assert repr(CyclicMomentum(OneCycle())) == "CyclicMomentum(cycle=OneCycle())"
    assert repr(Product(StepDecay(), Constant())) == (
        "Product(s1=StepDecay(), s2=Constant())"
    )
    assert LinearDecay().get_params() == {
        "total": 1.0,
        "end_value": 0.0,
        "unit": "fraction",
    }


class _PreviewEstimator(BaseEstimator):
    """Estimator whose score is best when its schedules' previews hit targets."""

    def __init__(self, learning_rate=None, momentum=None):
        self.learning_rate = learning_rate
        self.momentum = momentum

    def fit(self, X, y=None):
        self.lr_sum_ = float(self.learning_rate.preview(8).sum())
        self.momentum_sum_ = (
            0.0 if self.momentum is None else float(self.momentum.preview(8).sum())
        )
        return self

    def score(self, X, y=None):
        lr_target = Product(StepDecay(2, 0.5), Constant()).preview(8).sum()
        m_target = CyclicMomentum(Cyclic(step_size=3), 0.8, 0.9).preview(8).sum()
        return -abs(self.lr_sum_ - lr_target) - abs(self.momentum_sum_ - m_target)


def test_nested_search_keys():
    lr = Product(StepDecay(step_size=2, gamma=0.1), Constant())
    momentum = CyclicMomentum(Cyclic(step_size=1), 0.8, 0.9)
    est = _PreviewEstimator(learning_rate=lr, momentum=momentum)
    params = est.get_params(deep=True)
    assert params["learning_rate__s1__gamma"] == 0.1
    assert params["momentum__cycle__step_size"] == 1
    grid = {
        "learning_rate__s1__gamma": [0.1, 0.5, 0.9],
        "momentum__cycle__step_size": [1, 3, 5],
    }
    search = GridSearchCV(est, grid, cv=2).fit(np.zeros((6, 1)))
    assert search.best_params_ == {
        "learning_rate__s1__gamma": 0.5,
        "momentum__cycle__step_size": 3,
    }
    best = search.best_estimator_
    assert best.learning_rate.s1 == StepDecay(step_size=2, gamma=0.5)
    assert best.momentum.cycle == Cyclic(step_size=3)
    assert lr.s1.gamma == 0.1 and momentum.cycle.step_size == 1  # originals untouched


# ---------------------------------------------------------------------------
# PerEpoch: hold an epoch-unit schedule for the whole epoch
# ---------------------------------------------------------------------------

from sklr.schedules import CosineAnnealing as _Cos, LinearWarmup as _Warm  # noqa: E402
from sklr.schedules import PerEpoch, Sequence as _Seq, StepPositions as _SP  # noqa: E402


@pytest.mark.parametrize("steps_per_epoch", [1, 3, 7])
def test_per_epoch_holds_the_epoch_start_value(steps_per_epoch):
    period = 5.0
    got = PerEpoch(_Cos(period=period, unit="epoch")).preview(8, steps_per_epoch=steps_per_epoch)
    epochs = np.repeat(np.arange(8), steps_per_epoch).astype(float)
    t = np.minimum(epochs, period)
    np.testing.assert_allclose(got, (1 + np.cos(np.pi * t / period)) / 2, rtol=1e-12, atol=1e-15)


def test_per_epoch_on_uneven_batches_and_composites():
    inner = _Seq([(_Warm(warmup=2, start_factor=0.2, unit="epoch"), 2), _Cos(period=3, unit="epoch")],
                 unit="epoch")
    pos = _SP.for_epoch(step0=9, epoch=3, sample0=400, batch_sizes=[50, 50, 17])
    got = PerEpoch(inner).values(pos)
    at_start = inner.values(_SP.for_epoch(step0=9, epoch=3, sample0=400, batch_sizes=[1]))
    np.testing.assert_allclose(got, np.full(3, at_start[0]))


def test_per_epoch_rejects_other_units_and_feedback():
    from sklr.schedules import ReduceOnPlateau

    with pytest.raises(ValueError, match="unit='epoch'"):
        PerEpoch(_Cos(period=3, unit="step")).preview(2)
    with pytest.raises(ValueError, match="feedback"):
        PerEpoch(ReduceOnPlateau(monitor="loss")).preview(2)
    assert PerEpoch(_Cos(period=3, unit="epoch")).get_params()["schedule__period"] == 3


# ---------------------------------------------------------------------------
# The one walker over nested schedules, and the unit checks built on it
# ---------------------------------------------------------------------------

from sklr.schedules._base import _walk_schedules  # noqa: E402


def test_walker_visits_every_nested_schedule_depth_first():
    cos, warm, inv, const, step = (
        _Cos(period=4, unit="epoch"), _Warm(warmup=2), InvScaling(), Constant(), StepDecay()
    )
    cyc = Cyclic(step_size=2)
    inner = Product(inv, const)
    seq = _Seq([(warm, 2), (inner, 3), step], unit="epoch")
    per = PerEpoch(cos)
    tree = Product(per, Product(seq, CyclicMomentum(cyc)))
    seen = list(_walk_schedules(tree))
    expected = [tree, per, cos, tree.s2, seq, warm, inner, inv, const, step, tree.s2.s2, cyc]
    assert [id(s) for s in seen] == [id(s) for s in expected]
    assert list(_walk_schedules(const)) == [const]


@pytest.mark.parametrize(
    "schedule, units",
    [
        (Constant(), set()),
        (InvScaling(), {"sample"}),
        (Lambda(np.sqrt, unit="step"), {"step"}),
        (Product(StepDecay(), InvScaling()), {"epoch", "sample"}),
        (Product(Constant(), Product(Constant(), InvScaling())), {"sample"}),
        (_Seq([(InvScaling(), 5), Constant()], unit="sample"), {"sample"}),
        (_Seq([(_Warm(2, unit="epoch"), 2), _Cos(unit="epoch")], unit="epoch"), {"epoch"}),
        (PerEpoch(_Cos(unit="epoch")), {"epoch"}),
        (CyclicMomentum(Cyclic(unit="step")), {"step"}),
    ],
)
def test_time_units_of_nested_schedules(schedule, units):
    assert schedule._time_units() == units


@pytest.mark.parametrize(
    "inner",
    [
        InvScaling(),
        Product(_Cos(period=3, unit="epoch"), InvScaling()),
        Product(Constant(), Product(Constant(), InvScaling())),
        PerEpoch(Product(_Cos(period=3, unit="epoch"), InvScaling())),
    ],
)
def test_per_epoch_rejects_invscaling_which_counts_samples(inner):
    # InvScaling has no 'unit' parameter but reads rows seen: PerEpoch used
    # to look for 'unit' parameters only and let it through.
    with pytest.raises(ValueError, match=r"unit='epoch' only, got \[.*'sample'\]"):
        PerEpoch(inner).preview(2)
    with pytest.raises(ValueError, match="sample"):
        _check_schedule(PerEpoch(inner))


def test_estimator_rejects_per_epoch_of_invscaling():
    from sklr import MLPRegressor

    X, y = np.arange(12.0).reshape(6, 2), np.arange(6.0)
    est = MLPRegressor(hidden_layer_sizes=(3,), solver="sgd", max_iter=2,
                       learning_rate=PerEpoch(InvScaling()))
    with pytest.raises(ValueError, match="sample"):
        est.fit(X, y)


@pytest.mark.parametrize(
    "schedule",
    [
        InvScaling(),
        Constant(),
        _Cos(period=3, unit="epoch"),
        _Cos(period=3, unit="step"),
        Lambda(np.sqrt),
        Product(StepDecay(), InvScaling()),
        Product(StepDecay(), _Warm(2)),
        _Seq([(_Warm(2), 2), _Cos(unit="epoch")], unit="epoch"),
        _Seq([(_Warm(2, unit="step"), 2), _Cos()], unit="step"),
        CyclicMomentum(Cyclic(unit="epoch")),
        CyclicMomentum(OneCycle(unit="sample")),
    ],
)
def test_per_epoch_and_sequence_agree_on_units(schedule):
    """PerEpoch and an epoch Sequence accept exactly the epoch-only trees."""
    epoch_only = schedule._time_units() <= {"epoch"}

    def accepted(make):
        try:
            _check_schedule(make())
        except ValueError:
            return False
        return True

    assert accepted(lambda: PerEpoch(schedule)) == epoch_only
    assert accepted(lambda: _Seq([(schedule, 1), Constant()], unit="epoch")) == epoch_only
