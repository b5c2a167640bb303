"""Tests for sklr.schedules and the ParamObject protocol it builds on."""

import dataclasses
import doctest
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
    InvScaling,
    Schedule,
    StepDecay,
    StepPositions,
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
        "InvScaling",
        "Schedule",
        "StepDecay",
        "StepPositions",
    }


def test_doctests():
    result = doctest.testmod(sklr.schedules, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
