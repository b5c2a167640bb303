"""Learning-rate schedules: closed-form multipliers of ``learning_rate_init``.

A schedule is a small parameter object. :meth:`Schedule.values` maps the
positions of a run of optimizer updates (:class:`StepPositions`) to one
float64 multiplier per update, in closed form and without state, so a fit
resumed by ``warm_start`` or ``partial_fit`` continues from its global
step, epoch and sample counters. The estimator multiplies the values by
``learning_rate_init`` and hands them to the training kernel once per epoch.

Each schedule reads one unit of time:

- ``'step'``: the global index of the minibatch update, from 0;
- ``'epoch'``: the fractional epoch, ``e + k / n`` for the ``k``-th of the
  ``n`` updates of epoch ``e``;
- ``'sample'``: the number of training rows seen before the update, as
  H2O and scikit-learn's ``'invscaling'`` count.

The schedules are:

- closed-form multipliers: :class:`Constant`, :class:`InvScaling`,
  :class:`InverseTimeDecay`, :class:`StepDecay`, :class:`MultiStepDecay`,
  :class:`PiecewiseConstant`, :class:`ExponentialDecay`,
  :class:`PolynomialDecay`, :class:`LinearDecay`, :class:`CosineAnnealing`,
  :class:`CosineWarmRestarts`, :class:`Cyclic`, :class:`OneCycle`,
  :class:`LinearWarmup` and :class:`Lambda`;
- compositions: :class:`Sequence` (segments in local time) and
  :class:`Product`;
- feedback schedules, which the estimator updates between epochs from the
  loss or the validation score: :class:`Adaptive` and
  :class:`ReduceOnPlateau`;
- momentum schedules, whose values are absolute momenta rather than
  multipliers: :class:`MomentumRamp` and :class:`CyclicMomentum`.
"""

import copy
import math
import pickle
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ._compat import Interval, InvalidParameterError, StrOptions
from ._param_object import ParamObject

__all__ = [
    "Adaptive",
    "Constant",
    "CosineAnnealing",
    "CosineWarmRestarts",
    "Cyclic",
    "CyclicMomentum",
    "ExponentialDecay",
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
]

_UNITS = ("step", "epoch", "sample")


def _as_float_vector(name, value):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"StepPositions.{name} must be 1-D, got shape {arr.shape}.")
    return arr


def _check_count(name, value, minimum):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


@dataclass(frozen=True, eq=False)
class StepPositions:
    """Where each optimizer update of a run of updates stands.

    All fields are float64 arrays of one length, one entry per update.

    Parameters
    ----------
    step : ndarray of shape (n_updates,)
        Global update index, from 0.
    epoch : ndarray of shape (n_updates,)
        Fractional epoch: ``e + k / n`` for the ``k``-th (0-based) of the
        ``n`` updates of global epoch ``e``.
    sample : ndarray of shape (n_updates,)
        Training rows seen (globally) before this update.
    epoch_start_sample : ndarray of shape (n_updates,)
        Training rows seen at the start of the epoch holding this update.

    Examples
    --------
    >>> from sklr.schedules import StepPositions
    >>> pos = StepPositions.for_epoch(
    ...     step0=3, epoch=1, sample0=10, batch_sizes=[4, 4, 2]
    ... )
    >>> pos.step, pos.epoch
    (array([3., 4., 5.]), array([1.        , 1.33333333, 1.66666667]))
    >>> pos.sample, pos.epoch_start_sample
    (array([10., 14., 18.]), array([10., 10., 10.]))
    """

    step: np.ndarray
    epoch: np.ndarray
    sample: np.ndarray
    epoch_start_sample: np.ndarray

    def __post_init__(self):
        n = None
        for name in ("step", "epoch", "sample", "epoch_start_sample"):
            arr = _as_float_vector(name, getattr(self, name))
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
            if n is not None and arr.shape[0] != n:
                raise ValueError("All StepPositions fields must have the same length.")
            n = arr.shape[0]

    @classmethod
    def for_epoch(cls, *, step0, epoch, sample0, batch_sizes):
        """Positions of the updates of one epoch.

        Parameters
        ----------
        step0 : int
            Global number of updates made before this epoch.
        epoch : int
            Global index of this epoch, from 0.
        sample0 : int
            Global number of training rows seen before this epoch.
        batch_sizes : array-like of int of shape (n_updates,)
            Lengths of the epoch's minibatches, in update order.

        Returns
        -------
        positions : StepPositions
            One entry per minibatch of the epoch.
        """
        step0 = _check_count("step0", step0, 0)
        epoch = _check_count("epoch", epoch, 0)
        sample0 = _check_count("sample0", sample0, 0)
        sizes = np.asarray(batch_sizes)
        is_int = sizes.size == 0 or np.issubdtype(sizes.dtype, np.integer)
        if sizes.ndim != 1 or not is_int:
            raise ValueError("batch_sizes must be a 1-D array of integers.")
        if np.any(sizes < 1):
            raise ValueError("batch_sizes must all be >= 1.")
        return cls._for_epoch(step0, epoch, sample0, sizes)

    @classmethod
    def _with_epoch(cls, positions, epoch):
        """A copy of ``positions`` with its ``epoch`` field replaced."""
        self = object.__new__(cls)
        for name in ("step", "sample", "epoch_start_sample"):
            object.__setattr__(self, name, getattr(positions, name))
        epoch = np.asarray(epoch, dtype=np.float64)
        epoch.flags.writeable = False
        object.__setattr__(self, "epoch", epoch)
        return self

    @classmethod
    def _for_epoch(cls, step0, epoch, sample0, sizes):
        """:meth:`for_epoch` for checked arguments (the estimator's per-epoch path)."""
        n = sizes.shape[0]
        k = np.arange(n, dtype=np.float64)
        seen = np.cumsum(sizes, dtype=np.float64) - sizes
        fields = {
            "step": step0 + k,
            "epoch": epoch + k / max(n, 1),
            "sample": sample0 + seen,
            "epoch_start_sample": np.full(n, float(sample0)),
        }
        self = object.__new__(cls)
        for name, arr in fields.items():
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        return self

    @classmethod
    def grid(cls, n_epochs, steps_per_epoch=1, batch_size=1):
        """Positions of every update of a fresh run with constant batches.

        Parameters
        ----------
        n_epochs : int
            Number of epochs.
        steps_per_epoch : int, default=1
            Number of updates per epoch.
        batch_size : int, default=1
            Rows used by each update.

        Returns
        -------
        positions : StepPositions
            ``n_epochs * steps_per_epoch`` entries.
        """
        n_epochs = _check_count("n_epochs", n_epochs, 0)
        steps_per_epoch = _check_count("steps_per_epoch", steps_per_epoch, 1)
        batch_size = _check_count("batch_size", batch_size, 1)
        step = np.arange(n_epochs * steps_per_epoch, dtype=np.float64)
        epoch_index = np.floor_divide(step, steps_per_epoch)
        k = step - epoch_index * steps_per_epoch
        return cls(
            step=step,
            epoch=epoch_index + k / steps_per_epoch,
            sample=step * batch_size,
            epoch_start_sample=epoch_index * (steps_per_epoch * batch_size),
        )

    def __len__(self):
        return self.step.shape[0]


def _position(positions, unit):
    """Return the position array of ``positions`` in ``unit``.

    Parameters
    ----------
    positions : StepPositions
        Positions of the updates.
    unit : {'step', 'epoch', 'sample'}
        Unit of time.

    Returns
    -------
    position : ndarray of shape (n_updates,)
        ``positions.step``, ``positions.epoch`` or ``positions.sample``.
    """
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of {_UNITS}, got {unit!r}.")
    return getattr(positions, unit)


class Schedule(ParamObject):
    """Base class of learning-rate schedules.

    A schedule maps update positions to float64 multipliers of
    ``learning_rate_init`` in closed form. Subclasses store their ``__init__``
    arguments unchanged, declare ``_parameter_constraints`` and implement
    ``_values(positions)``; they hold no state.

    Attributes
    ----------
    is_feedback : bool
        True only for schedules that the estimator updates from training
        feedback (loss or validation score) between epochs; their
        :meth:`values` are the multipliers before any feedback.
    """

    is_feedback = False

    def values(self, positions):
        """Multiplier in effect at each update.

        Parameters
        ----------
        positions : StepPositions
            Positions of the updates.

        Returns
        -------
        values : ndarray of shape (len(positions),), dtype float64
            Multiplier of ``learning_rate_init`` for each update.
        """
        self._validate_params()
        return self._evaluate(positions)

    def _evaluate(self, positions):
        """:meth:`values` without validating the parameters again.

        For callers that validated the whole schedule once (the estimator
        does so once per fit, then calls this every epoch) and for
        composites evaluating their parts.
        """
        if not isinstance(positions, StepPositions):
            raise TypeError(
                f"positions must be a StepPositions, got {type(positions).__name__}."
            )
        out = np.asarray(self._values(positions), dtype=np.float64)
        return np.array(np.broadcast_to(out, (len(positions),)))

    def _values(self, positions):
        raise NotImplementedError(f"{type(self).__name__} must implement _values.")

    def preview(self, n_epochs, steps_per_epoch=1, batch_size=1):
        """Multiplier at each update of a fresh run with constant batches.

        Parameters
        ----------
        n_epochs : int
            Number of epochs.
        steps_per_epoch : int, default=1
            Number of updates per epoch.
        batch_size : int, default=1
            Rows used by each update.

        Returns
        -------
        values : ndarray of shape (n_epochs * steps_per_epoch,), dtype float64
            Multiplier of ``learning_rate_init`` for each update.
        """
        return self.values(StepPositions.grid(n_epochs, steps_per_epoch, batch_size))

    def _feedback_schedules(self):
        """Feedback schedules whose factor multiplies this schedule's values.

        The estimator multiplies :meth:`values` by the current scale of each
        returned schedule (for :class:`ReduceOnPlateau`, ``state['scale']``
        from :meth:`ReduceOnPlateau.update`).

        Returns
        -------
        schedules : list of Schedule
            ``[self]`` for a feedback schedule, the factors' feedback
            schedules for :class:`Product`, and ``[]`` otherwise.
        """
        return [self] if self.is_feedback else []

    def _time_units(self):
        """Units of time that this schedule and the schedules inside it read.

        Returns
        -------
        units : set of str
            The ``unit`` parameter, when there is one, together with the
            units of every nested schedule.
        """
        params = self.get_params(deep=False)
        units = {params["unit"]} if "unit" in params else set()
        for value in params.values():
            for sub in _nested_schedules(value):
                units |= sub._time_units()
        return units


def _nested_schedules(value):
    """Yield the schedules held in a parameter value (directly or in lists)."""
    if isinstance(value, Schedule):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _nested_schedules(item)


def _walk_schedules(schedule):
    """Yield ``schedule`` and every schedule nested in it, depth first."""
    yield schedule
    for value in schedule.get_params(deep=False).values():
        for sub in _nested_schedules(value):
            yield from _walk_schedules(sub)


class Constant(Schedule):
    r"""Constant learning rate, scikit-learn's ``learning_rate='constant'``.

    .. math::

        m(t) = 1

    Equivalent to a plain float learning rate in Keras and to no scheduler
    in PyTorch.

    Examples
    --------
    >>> from sklr.schedules import Constant
    >>> Constant().preview(3)
    array([1., 1., 1.])
    """

    _parameter_constraints: dict = {}

    def __init__(self):
        pass

    def _values(self, positions):
        return np.ones(len(positions))


class InvScaling(Schedule):
    r"""Inverse scaling, scikit-learn's ``learning_rate='invscaling'``.

    scikit-learn updates the rate at the end of each epoch from the number of
    training rows seen, so every update of an epoch uses

    .. math::

        m = (1 + s_0)^{-p}

    where :math:`s_0` is the number of rows seen before the epoch started and
    :math:`p` is ``power_t``; the first epoch runs at ``learning_rate_init``.

    PyTorch: ``LambdaLR(opt, lambda e: (1 + e * n_samples) ** -power_t)``
    stepped once per epoch; Keras has no built-in equivalent.

    Parameters
    ----------
    power_t : float, default=0.5
        Exponent of the inverse scaling, ``>= 0``.

    Examples
    --------
    >>> from sklr.schedules import InvScaling
    >>> InvScaling(power_t=0.5).preview(3, steps_per_epoch=2, batch_size=4)
    array([1.        , 1.        , 0.33333333, 0.33333333, 0.24253563,
           0.24253563])
    >>> InvScaling(power_t=1.0).preview(3, steps_per_epoch=1, batch_size=4)
    array([1.        , 0.2       , 0.11111111])
    """

    _parameter_constraints: dict = {"power_t": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, power_t=0.5):
        self.power_t = power_t

    def _values(self, positions):
        return (1.0 + positions.epoch_start_sample) ** (-float(self.power_t))

    def _time_units(self):
        return {"sample"}


class Adaptive(Schedule):
    r"""scikit-learn's ``learning_rate='adaptive'``: reduce on plateau.

    Before any feedback the multiplier is constant,

    .. math::

        m = 5^{-r}

    where :math:`r` is the number of reductions made so far, which only the
    estimator knows: :meth:`values` returns 1 and the estimator folds the
    factor in. Exactly as scikit-learn's SGD solver, after each epoch the
    estimator counts consecutive epochs in which the training loss fails to
    decrease by at least ``tol`` below its best value (with
    ``early_stopping``, in which the validation score fails to increase by
    at least ``tol`` above its best). When that count exceeds
    ``n_iter_no_change``, the estimator stops if the current rate is already
    at most ``1e-6``; otherwise it divides the current rate by 5, resets the
    count and goes on training.

    Keras ``ReduceLROnPlateau(factor=0.2, min_delta=tol, mode='min')`` and
    PyTorch ``ReduceLROnPlateau(factor=0.2, threshold=tol,
    threshold_mode='abs')`` are the closest equivalents; their patience,
    cooldown and stopping rules differ.

    Examples
    --------
    >>> from sklr.schedules import Adaptive
    >>> Adaptive().preview(2, steps_per_epoch=2)
    array([1., 1., 1., 1.])
    """

    is_feedback = True
    _parameter_constraints: dict = {}

    def __init__(self):
        pass

    def _values(self, positions):
        return np.ones(len(positions))


class StepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every ``step_size`` units of time.

    .. math::

        m(t) = \gamma^{\lfloor t / \mathrm{step\_size} \rfloor}

    where :math:`t` is the position of the update in ``unit``.

    With ``unit='epoch'`` and an integer ``step_size`` this equals PyTorch
    ``StepLR(opt, step_size, gamma)`` stepped once per epoch: every update of
    epoch :math:`e` uses :math:`\gamma^{\lfloor e / \mathrm{step\_size}
    \rfloor}`. With ``unit='step'`` it equals Keras
    ``ExponentialDecay(1.0, step_size, gamma, staircase=True)``.

    Parameters
    ----------
    step_size : float, default=1
        Length of each constant stretch, in ``unit``; ``> 0``. A non-integer
        value with ``unit='epoch'`` changes the rate within an epoch.
    gamma : float, default=0.1
        Multiplicative factor applied at each boundary; ``> 0``.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of ``step_size``.

    Examples
    --------
    >>> from sklr.schedules import StepDecay
    >>> StepDecay(step_size=2, gamma=0.5).preview(5)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    >>> StepDecay(step_size=3, gamma=0.1, unit='step').preview(2, steps_per_epoch=3)
    array([1. , 1. , 1. , 0.1, 0.1, 0.1])
    >>> StepDecay(step_size=0.5, gamma=0.5).preview(2, steps_per_epoch=2)
    array([1.   , 0.5  , 0.25 , 0.125])
    """

    _parameter_constraints: dict = {
        "step_size": [Interval(Real, 0, None, closed="neither")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, step_size=1, gamma=0.1, unit="epoch"):
        self.step_size = step_size
        self.gamma = gamma
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return float(self.gamma) ** np.floor(t / float(self.step_size))


# --------------------------------------------------------------------------
# Helpers shared by the schedules below
# --------------------------------------------------------------------------


def _breakpoints(owner, name, value, *, strict):
    """Return ``value`` as a sorted 1-D float64 array of finite numbers >= 0.

    Parameters
    ----------
    owner : Schedule
        Schedule holding the parameter, for messages.
    name : str
        Parameter name, for messages.
    value : array-like
        The parameter value.
    strict : bool
        Whether the values must increase strictly (else non-decreasing).

    Returns
    -------
    arr : ndarray of shape (n,), dtype float64

    Raises
    ------
    ValueError
        Naming the parameter, if ``value`` is not such a sequence.
    """
    where = f"The {name!r} parameter of {type(owner).__name__}"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where} must be a 1-D sequence of numbers, got {value!r}."
        ) from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(
            f"{where} must be a 1-D sequence of finite numbers >= 0, got {value!r}."
        )
    steps = np.diff(arr)
    if strict and np.any(steps <= 0):
        raise ValueError(f"{where} must be strictly increasing, got {value!r}.")
    if not strict and np.any(steps < 0):
        raise ValueError(f"{where} must be sorted in increasing order, got {value!r}.")
    return arr


def _safe_fraction(num, den):
    """``num / den`` clipped to [0, 1], and 1 where ``den <= 0``."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.ones(num.shape)
    np.divide(num, den, out=out, where=den > 0)
    return np.clip(out, 0.0, 1.0)


def _anneal(kind, start, end, pct):
    """Anneal from ``start`` to ``end`` as ``pct`` goes from 0 to 1.

    Written as PyTorch's ``OneCycleLR._annealing_cos``/``_annealing_linear``.
    """
    if kind == "cos":
        return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)
    return (end - start) * pct + start


# --------------------------------------------------------------------------
# Decays
# --------------------------------------------------------------------------


class InverseTimeDecay(Schedule):
    r"""Inverse-time (time-based) decay.

    .. math::

        m(t) = \frac{1}{1 + \mathrm{decay} \cdot t}

    where :math:`t` is the position of the update in ``unit``.

    With ``unit='step'`` this is the rule of the legacy Keras
    ``SGD(lr, decay=decay)``, ``lr / (1 + decay * iterations)`` with
    ``iterations`` the number of updates made before this one (the classic
    tutorial's time-based decay); Keras
    ``InverseTimeDecay(1.0, decay_steps, decay_rate)`` without staircase is
    ``decay = decay_rate / decay_steps``; PyTorch has no class for it:
    ``LambdaLR(opt, lambda i: 1 / (1 + decay * i))`` stepped after every
    update. With ``unit='sample'`` this is H2O's ``rate_annealing``,
    ``rate / (1 + rate_annealing * samples)``.

    Parameters
    ----------
    decay : float, default=0.01
        Decay per unit of time, ``>= 0``.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time :math:`t`.

    Examples
    --------
    >>> from sklr.schedules import InverseTimeDecay
    >>> InverseTimeDecay(decay=0.5).preview(4)
    array([1.        , 0.66666667, 0.5       , 0.4       ])
    >>> InverseTimeDecay(decay=1e-3, unit='sample').preview(3, batch_size=100)
    array([1.        , 0.90909091, 0.83333333])
    """

    _parameter_constraints: dict = {
        "decay": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, decay=0.01, unit="step"):
        self.decay = decay
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return 1.0 / (1.0 + float(self.decay) * t)


class MultiStepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` at each milestone.

    .. math::

        m(t) = \gamma^{\,\#\{i \,:\, \mathrm{milestones}_i \le t\}}

    The rate changes *at* a milestone: the update at position
    :math:`t = \mathrm{milestones}_i` already uses the reduced rate.

    With ``unit='epoch'`` and integer milestones this equals PyTorch
    ``MultiStepLR(opt, milestones, gamma)`` stepped once per epoch; as
    there, a milestone listed twice multiplies by ``gamma ** 2``. Keras
    ``PiecewiseConstantDecay`` changes one update later (see
    :class:`PiecewiseConstant`).

    Parameters
    ----------
    milestones : array-like of float, default=(10, 20)
        Positions, in ``unit``, at which the rate is multiplied by
        ``gamma``; finite, ``>= 0`` and sorted.
    gamma : float, default=0.1
        Multiplicative factor applied at each milestone; ``> 0``.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of the milestones.

    Examples
    --------
    >>> from sklr.schedules import MultiStepDecay
    >>> MultiStepDecay(milestones=[2, 3], gamma=0.5).preview(5)
    array([1.  , 1.  , 0.5 , 0.25, 0.25])
    """

    _parameter_constraints: dict = {
        "milestones": ["array-like"],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, milestones=(10, 20), gamma=0.1, unit="epoch"):
        self.milestones = milestones
        self.gamma = gamma
        self.unit = unit

    def _validate_params(self):
        super()._validate_params()
        _breakpoints(self, "milestones", self.milestones, strict=False)

    def _values(self, positions):
        t = _position(positions, self.unit)
        milestones = np.asarray(self.milestones, dtype=np.float64)
        passed = np.searchsorted(milestones, t, side="right")
        return float(self.gamma) ** passed


class PiecewiseConstant(Schedule):
    r"""Constant multipliers on consecutive intervals of time.

    .. math::

        m(t) = v_i \quad \text{for} \quad b_{i-1} \le t < b_i,
        \qquad b_{-1} = -\infty,\ b_n = +\infty

    where :math:`b` are the ``boundaries`` and :math:`v` the
    ``multipliers``. The value changes *at* a boundary, as
    :class:`MultiStepDecay`, PyTorch ``MultiStepLR`` and optax
    ``piecewise_constant_schedule``. Keras
    ``PiecewiseConstantDecay(boundaries, values)`` keeps :math:`v_{i-1}`
    at :math:`t = b_{i-1}` (it tests ``t > boundary``): with integer steps,
    Keras boundaries ``b`` equal ``PiecewiseConstant(boundaries=b + 1,
    unit='step')``.

    The parameter is named ``multipliers`` rather than Keras' ``values``
    because :meth:`values` is the method every schedule provides.

    Parameters
    ----------
    boundaries : array-like of float, default=(10, 20)
        Strictly increasing, finite positions ``>= 0`` in ``unit``.
    multipliers : array-like of float, default=(1.0, 0.5, 0.1)
        ``len(boundaries) + 1`` multipliers ``>= 0``.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of the boundaries.

    Examples
    --------
    >>> from sklr.schedules import PiecewiseConstant
    >>> PiecewiseConstant(boundaries=[1, 3], multipliers=[1.0, 0.5, 0.1]).preview(4)
    array([1. , 0.5, 0.5, 0.1])
    """

    _parameter_constraints: dict = {
        "boundaries": ["array-like"],
        "multipliers": ["array-like"],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, boundaries=(10, 20), multipliers=(1.0, 0.5, 0.1), unit="epoch"):
        self.boundaries = boundaries
        self.multipliers = multipliers
        self.unit = unit

    def _validate_params(self):
        super()._validate_params()
        boundaries = _breakpoints(self, "boundaries", self.boundaries, strict=True)
        try:
            mult = np.asarray(self.multipliers, dtype=np.float64)
        except (TypeError, ValueError):
            mult = np.full(1, np.nan)
        if mult.ndim != 1 or not np.all(np.isfinite(mult)) or np.any(mult < 0):
            raise ValueError(
                "The 'multipliers' parameter of PiecewiseConstant must be a 1-D "
                f"sequence of finite numbers >= 0, got {self.multipliers!r}."
            )
        if mult.shape[0] != boundaries.shape[0] + 1:
            raise ValueError(
                "The 'multipliers' parameter of PiecewiseConstant must have one "
                "more entry than 'boundaries': got "
                f"{mult.shape[0]} multipliers for {boundaries.shape[0]} boundaries."
            )

    def _values(self, positions):
        t = _position(positions, self.unit)
        boundaries = np.asarray(self.boundaries, dtype=np.float64)
        mult = np.asarray(self.multipliers, dtype=np.float64)
        return mult[np.searchsorted(boundaries, t, side="right")]


class ExponentialDecay(Schedule):
    r"""Exponential decay, in PyTorch's or in Keras' parametrisation.

    Exactly one form is used:

    .. math::

        m(t) = \gamma^{\,t}
        \qquad\text{or}\qquad
        m(t) = r^{\,t / s}

    with :math:`\gamma` = ``gamma``, :math:`r` = ``decay_rate`` and
    :math:`s` = ``decay_steps``. With ``staircase=True`` the exponent is
    rounded down: :math:`\gamma^{\lfloor t \rfloor}` or
    :math:`r^{\lfloor t / s \rfloor}`.

    ``ExponentialDecay(gamma=g, unit='step')`` is PyTorch
    ``ExponentialLR(opt, g)`` stepped after every update;
    ``ExponentialDecay(gamma=g, unit='epoch', staircase=True)`` is
    ``ExponentialLR`` stepped once per epoch (``staircase`` only matters when
    an epoch has several updates). ``ExponentialDecay(decay_rate=r,
    decay_steps=s, staircase=st)`` is Keras ``ExponentialDecay(1.0, s, r,
    staircase=st)`` (and optax ``exponential_decay``).

    Parameters
    ----------
    gamma : float or None, default=None
        Factor per unit of time, ``> 0``. When neither ``gamma`` nor the
        Keras pair is given, ``gamma`` is 0.9.
    decay_rate : float or None, default=None
        Factor per ``decay_steps`` units, ``> 0``; needs ``decay_steps``.
    decay_steps : float or None, default=None
        Units of time over which the rate is multiplied by ``decay_rate``;
        ``> 0``; needs ``decay_rate``.
    staircase : bool, default=False
        Whether to round the exponent down to an integer.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time :math:`t`.

    Examples
    --------
    >>> from sklr.schedules import ExponentialDecay
    >>> ExponentialDecay(gamma=0.5).preview(4)
    array([1.   , 0.5  , 0.25 , 0.125])
    >>> ExponentialDecay(decay_rate=0.5, decay_steps=2).preview(4)
    array([1.        , 0.70710678, 0.5       , 0.35355339])
    >>> ExponentialDecay(decay_rate=0.5, decay_steps=2, staircase=True).preview(4)
    array([1. , 1. , 0.5, 0.5])
    """

    _parameter_constraints: dict = {
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "decay_rate": [Interval(Real, 0, None, closed="neither"), None],
        "decay_steps": [Interval(Real, 0, None, closed="neither"), None],
        "staircase": ["boolean"],
        "unit": [StrOptions(set(_UNITS))],
    }

    _DEFAULT_GAMMA = 0.9

    def __init__(
        self,
        gamma=None,
        decay_rate=None,
        decay_steps=None,
        staircase=False,
        unit="step",
    ):
        self.gamma = gamma
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.staircase = staircase
        self.unit = unit

    def _validate_params(self):
        super()._validate_params()
        keras = (self.decay_rate is not None, self.decay_steps is not None)
        if any(keras) and not all(keras):
            raise ValueError(
                "ExponentialDecay's Keras form needs both 'decay_rate' and "
                f"'decay_steps', got decay_rate={self.decay_rate!r} and "
                f"decay_steps={self.decay_steps!r}."
            )
        if all(keras) and self.gamma is not None:
            raise ValueError(
                "ExponentialDecay takes either 'gamma' (PyTorch form) or "
                "'decay_rate' and 'decay_steps' (Keras form), not both: got "
                f"gamma={self.gamma!r}, decay_rate={self.decay_rate!r}, "
                f"decay_steps={self.decay_steps!r}."
            )

    def _values(self, positions):
        t = _position(positions, self.unit)
        if self.decay_rate is not None:
            base, exponent = float(self.decay_rate), t / float(self.decay_steps)
        else:
            gamma = self._DEFAULT_GAMMA if self.gamma is None else self.gamma
            base, exponent = float(gamma), t
        if self.staircase:
            exponent = np.floor(exponent)
        return base**exponent


def _polynomial(t, total, power, end_value, cycle):
    """Keras ``PolynomialDecay`` with initial value 1, as arrays."""
    total = float(total)
    if cycle:
        total = total * np.where(t == 0, 1.0, np.ceil(t / total))
    else:
        t = np.minimum(t, total)
    end_value = float(end_value)
    return (1.0 - end_value) * (1.0 - t / total) ** float(power) + end_value


class PolynomialDecay(Schedule):
    r"""Polynomial decay to ``end_value`` over ``total`` units, Keras-style.

    .. math::

        m(t) = (1 - e)\left(1 - \frac{\min(t, T)}{T}\right)^{p} + e

    with :math:`T` = ``total``, :math:`p` = ``power`` and :math:`e` =
    ``end_value``; :math:`m` stays at :math:`e` after :math:`T`. With
    ``cycle=True`` the horizon grows instead of clamping:
    :math:`T` is replaced by :math:`T \lceil t / T \rceil` (by :math:`T`
    at :math:`t = 0`) and :math:`t` is not clamped.

    Keras ``PolynomialDecay(1.0, decay_steps=total, end_learning_rate=e,
    power, cycle)`` with ``unit='step'`` (``end_value`` is a multiplier of
    the initial rate here, an absolute rate there). PyTorch
    ``PolynomialLR(opt, total_iters=total, power)`` is ``end_value=0`` (the
    updates of one epoch share a value when it is stepped per epoch).

    Parameters
    ----------
    total : float, default=100
        Decay horizon :math:`T`, in ``unit``; ``> 0``.
    power : float, default=1.0
        Exponent :math:`p`, ``> 0``.
    end_value : float, default=0.0
        Final multiplier :math:`e`, ``>= 0``.
    cycle : bool, default=False
        Whether to restart with a longer horizon instead of clamping.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time of ``total``.

    See Also
    --------
    LinearDecay : The case ``power=1``, ``cycle=False``.

    Examples
    --------
    >>> from sklr.schedules import PolynomialDecay
    >>> PolynomialDecay(total=4, power=2.0, end_value=0.1).preview(6)
    array([1.     , 0.60625, 0.325  , 0.15625, 0.1    , 0.1    ])
    >>> PolynomialDecay(total=2, cycle=True).preview(5)
    array([1.  , 0.5 , 0.  , 0.25, 0.  ])
    """

    _parameter_constraints: dict = {
        "total": [Interval(Real, 0, None, closed="neither")],
        "power": [Interval(Real, 0, None, closed="neither")],
        "end_value": [Interval(Real, 0, None, closed="left")],
        "cycle": ["boolean"],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, total=100, power=1.0, end_value=0.0, cycle=False, unit="step"):
        self.total = total
        self.power = power
        self.end_value = end_value
        self.cycle = cycle
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return _polynomial(t, self.total, self.power, self.end_value, self.cycle)


class LinearDecay(PolynomialDecay):
    r"""Linear decay to ``end_value`` over ``total`` units, then constant.

    .. math::

        m(t) = 1 - (1 - e)\,\frac{\min(t, T)}{T}

    :class:`PolynomialDecay` with ``power=1`` and ``cycle=False`` (a
    subclass whose only parameters are ``total``, ``end_value`` and
    ``unit``). PyTorch ``LinearLR(opt, start_factor=1.0, end_factor=e,
    total_iters=T)`` stepped after every update (``unit='step'``) or once
    per epoch (``unit='epoch'``, one update per epoch); Keras
    ``PolynomialDecay(1.0, T, e, power=1.0)``. :class:`LinearWarmup` is the
    increasing counterpart.

    Parameters
    ----------
    total : float, default=100
        Length :math:`T` of the decay, in ``unit``; ``> 0``.
    end_value : float, default=0.0
        Final multiplier :math:`e`, ``>= 0``.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time of ``total``.

    Examples
    --------
    >>> from sklr.schedules import LinearDecay
    >>> LinearDecay(total=4, end_value=0.2).preview(6)
    array([1. , 0.8, 0.6, 0.4, 0.2, 0.2])
    """

    _parameter_constraints: dict = {
        "total": [Interval(Real, 0, None, closed="neither")],
        "end_value": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, total=100, end_value=0.0, unit="step"):
        self.total = total
        self.end_value = end_value
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return _polynomial(t, self.total, 1.0, self.end_value, False)


# --------------------------------------------------------------------------
# Cosine, cyclic and one-cycle schedules
# --------------------------------------------------------------------------


class CosineAnnealing(Schedule):
    r"""Cosine annealing from 1 to ``eta_min`` over ``period`` units.

    .. math::

        m(t) = \eta + (1 - \eta)\,\frac{1 + \cos(\pi\, t' / P)}{2},
        \qquad t' = \min(t, P)

    with :math:`P` = ``period`` and :math:`\eta` = ``eta_min`` (a multiplier
    of ``learning_rate_init``, not a rate). After :math:`P` the multiplier
    stays at :math:`\eta`, as Keras ``CosineDecay(1.0, decay_steps=P,
    alpha=eta_min)`` and optax ``cosine_decay_schedule``. With
    ``periodic=True``, :math:`t' = t`: the cosine goes on and climbs back to
    1 at :math:`2P`, which is the closed form of PyTorch
    ``CosineAnnealingLR(opt, T_max=P, eta_min)`` (no restart; see
    :class:`CosineWarmRestarts` for SGDR's restarts).

    Parameters
    ----------
    period : float, default=100
        Length :math:`P` of the decay, in ``unit``; ``> 0``.
    eta_min : float, default=0.0
        Final multiplier :math:`\eta`, ``>= 0``.
    periodic : bool, default=False
        Whether to continue the cosine after ``period`` instead of clamping.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time of ``period``.

    Examples
    --------
    >>> from sklr.schedules import CosineAnnealing
    >>> CosineAnnealing(period=4).preview(6)
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        ,
           0.        ])
    >>> CosineAnnealing(period=4, eta_min=0.1, periodic=True).preview(6)
    array([1.        , 0.86819805, 0.55      , 0.23180195, 0.1       ,
           0.23180195])
    """

    _parameter_constraints: dict = {
        "period": [Interval(Real, 0, None, closed="neither")],
        "eta_min": [Interval(Real, 0, None, closed="left")],
        "periodic": ["boolean"],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, period=100, eta_min=0.0, periodic=False, unit="step"):
        self.period = period
        self.eta_min = eta_min
        self.periodic = periodic
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        period = float(self.period)
        if not self.periodic:
            t = np.minimum(t, period)
        eta = float(self.eta_min)
        return eta + (1.0 - eta) * (1.0 + np.cos(np.pi * t / period)) / 2


class CosineWarmRestarts(Schedule):
    r"""Cosine annealing with warm restarts (SGDR).

    Cycle :math:`i = 0, 1, \ldots` lasts :math:`T_i = T_0 T_{mult}^i` units
    and starts at :math:`S_i = T_0 (T_{mult}^i - 1) / (T_{mult} - 1)`
    (:math:`S_i = i T_0` when :math:`T_{mult} = 1`); with
    :math:`T_{cur} = t - S_i` inside cycle :math:`i`,

    .. math::

        m(t) = \eta + (1 - \eta)\, d^{\,i}\,
               \frac{1 + \cos(\pi\, T_{cur} / T_i)}{2}

    where :math:`\eta` = ``eta_min`` (a multiplier) and :math:`d` =
    ``decay``. The cycle index comes from a logarithm, corrected at cycle
    boundaries, so the values are exact and vectorised.

    With ``decay=1`` and ``unit='epoch'`` this is the closed form of PyTorch
    ``CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)`` stepped once
    per epoch (or fractionally, ``scheduler.step(epoch + k / n)``, as its
    documentation suggests); ``unit='step'`` is stepping it per update.
    Keras ``CosineDecayRestarts(1.0, first_decay_steps=T_0, t_mul=T_mult,
    m_mul=decay, alpha=eta_min)`` with ``unit='step'``; ``decay`` is
    Keras' ``m_mul`` (PyTorch has no amplitude decay). Unlike PyTorch,
    ``T_0`` and ``T_mult`` may be non-integer.

    Parameters
    ----------
    T_0 : float, default=10
        Length of the first cycle, in ``unit``; ``> 0``.
    T_mult : float, default=1
        Growth factor of the cycle length, ``>= 1``.
    eta_min : float, default=0.0
        Minimum multiplier :math:`\eta`, ``>= 0``.
    decay : float, default=1.0
        Factor applied to the amplitude :math:`1 - \eta` at each restart,
        ``> 0``.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of ``T_0``.

    Examples
    --------
    >>> from sklr.schedules import CosineWarmRestarts
    >>> CosineWarmRestarts(T_0=2).preview(5)
    array([1. , 0.5, 1. , 0.5, 1. ])
    >>> CosineWarmRestarts(T_0=2, T_mult=2, decay=0.5).preview(7)
    array([1.       , 0.5      , 0.5      , 0.4267767, 0.25     , 0.0732233,
           0.25     ])
    """

    _parameter_constraints: dict = {
        "T_0": [Interval(Real, 0, None, closed="neither")],
        "T_mult": [Interval(Real, 1, None, closed="left")],
        "eta_min": [Interval(Real, 0, None, closed="left")],
        "decay": [Interval(Real, 0, None, closed="neither")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, T_0=10, T_mult=1, eta_min=0.0, decay=1.0, unit="epoch"):
        self.T_0 = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.decay = decay
        self.unit = unit

    def _cycles(self, t):
        """Cycle index, time within the cycle and cycle length at ``t``."""
        T_0, T_mult = float(self.T_0), float(self.T_mult)
        if T_mult == 1.0:
            i = np.floor(t / T_0)
            return i, t - i * T_0, np.full(t.shape, T_0)

        def start(i):
            return T_0 * (T_mult**i - 1.0) / (T_mult - 1.0)

        i = np.floor(np.log1p(t / T_0 * (T_mult - 1.0)) / math.log(T_mult))
        # The logarithm may land one cycle off at a boundary: correct it.
        i = np.where(t < start(i), i - 1, i)
        i = np.where(t >= start(i + 1), i + 1, i)
        return i, t - start(i), T_0 * T_mult**i

    def _values(self, positions):
        t = _position(positions, self.unit)
        i, t_cur, length = self._cycles(t)
        eta = float(self.eta_min)
        amplitude = (1.0 - eta) * float(self.decay) ** i
        return eta + amplitude * (1.0 + np.cos(np.pi * t_cur / length)) / 2


class Cyclic(Schedule):
    r"""Cyclical learning rate (Smith, 2017), as PyTorch ``CyclicLR``.

    With :math:`s` = ``step_size``, cycle :math:`c = \lfloor 1 + t / 2s
    \rfloor` and :math:`x = 1 + t / 2s - c \in [0, 1)`, the triangle height
    is :math:`h = x / 0.5` for :math:`x \le 0.5` and :math:`(x - 1)/(0.5 -
    1)` after, and

    .. math::

        m(t) = b + (M - b)\, h(t)\, \sigma(t)

    with :math:`b` = ``base``, :math:`M` = ``max`` and the amplitude scale
    :math:`\sigma = 1` (``'triangular'``), :math:`2^{1 - c}`
    (``'triangular2'``) or :math:`\gamma^{t}` (``'exp_range'``).

    PyTorch ``CyclicLR(opt, base_lr=b, max_lr=M, step_size_up=s, mode,
    gamma)`` stepped after every update (``unit='step'``); here ``base``
    and ``max`` multiply ``learning_rate_init``. For the momentum cycle
    (``cycle_momentum=True``), pass this schedule to
    :class:`CyclicMomentum`.

    Parameters
    ----------
    base : float, default=0.1
        Multiplier at the bottom of a cycle, ``>= 0``.
    max : float, default=1.0
        Multiplier at the top of the first cycle, ``>= 0``.
    step_size : float, default=2000
        Half a cycle, in ``unit``; ``> 0``.
    mode : {'triangular', 'triangular2', 'exp_range'}, default='triangular'
        Amplitude policy.
    gamma : float, default=1.0
        Factor of ``'exp_range'`` per unit of time, in ``(0, 1]``.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time of ``step_size``.

    Examples
    --------
    >>> from sklr.schedules import Cyclic
    >>> Cyclic(base=0.2, max=1.0, step_size=2).preview(9)
    array([0.2, 0.6, 1. , 0.6, 0.2, 0.6, 1. , 0.6, 0.2])
    >>> Cyclic(base=0.2, max=1.0, step_size=2, mode='triangular2').preview(9)
    array([0.2, 0.6, 1. , 0.6, 0.2, 0.4, 0.6, 0.4, 0.2])
    """

    _parameter_constraints: dict = {
        "base": [Interval(Real, 0, None, closed="left")],
        "max": [Interval(Real, 0, None, closed="left")],
        "step_size": [Interval(Real, 0, None, closed="neither")],
        "mode": [StrOptions({"triangular", "triangular2", "exp_range"})],
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(
        self,
        base=0.1,
        max=1.0,
        step_size=2000,
        mode="triangular",
        gamma=1.0,
        unit="step",
    ):
        self.base = base
        self.max = max
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma
        self.unit = unit

    def _phase(self, positions):
        """Fraction of the amplitude reached at each update, in [0, 1].

        The triangle height times the amplitude scale of ``mode``, so that
        ``values = base + (max - base) * _phase``. 0 at the bottom of a
        cycle, 1 at the top of a full-amplitude cycle.

        Parameters
        ----------
        positions : StepPositions
            Positions of the updates.

        Returns
        -------
        phase : ndarray of shape (len(positions),), dtype float64
        """
        t = _position(positions, self.unit)
        total = 2.0 * float(self.step_size)
        cycle = np.floor(1.0 + t / total)
        x = 1.0 + t / total - cycle
        height = np.where(x <= 0.5, x / 0.5, (x - 1.0) / (0.5 - 1.0))
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = 1.0 / 2.0 ** (cycle - 1.0)
        else:
            scale = float(self.gamma) ** t
        return height * scale

    def _values(self, positions):
        base = float(self.base)
        return base + (float(self.max) - base) * self._phase(positions)


class OneCycle(Schedule):
    r"""One-cycle policy (Smith & Topin), as PyTorch ``OneCycleLR``.

    The peak multiplier is 1 (the estimator's ``learning_rate_init`` plays
    ``max_lr``); the start is :math:`m_0 = 1/\mathrm{div\_factor}` and the
    end :math:`m_\infty = m_0 / \mathrm{final\_div\_factor}`. With
    :math:`T` = ``total`` and :math:`q` = ``pct_start``, the phases end at
    :math:`e_1 = qT - 1` and :math:`e_2 = T - 1` (three phases:
    :math:`e_1 = qT - 1`, :math:`e_2 = 2qT - 2`, :math:`e_3 = T - 1`), as
    in PyTorch. Within phase :math:`j`, from :math:`e_{j-1}` (:math:`e_0 =
    0`) to :math:`e_j`, with :math:`p = (t - e_{j-1}) / (e_j - e_{j-1})`
    clipped to :math:`[0, 1]`,

    .. math::

        m(t) = a_j + (a_{j-1} - a_j)\,\frac{1 + \cos(\pi p)}{2}
        \quad\text{(cos)}, \qquad
        m(t) = a_{j-1} + (a_j - a_{j-1})\, p \quad\text{(linear)}

    going :math:`m_0 \to 1 \to m_\infty` (three phases: :math:`m_0 \to 1
    \to m_0 \to m_\infty`). The multiplier stays at :math:`m_\infty` from
    :math:`T - 1` on, where PyTorch raises after ``total`` steps.

    PyTorch ``OneCycleLR(opt, max_lr=1, total_steps=T, pct_start,
    anneal_strategy=anneal, div_factor, final_div_factor, three_phase)``
    stepped after every update (``unit='step'``); its default ``pct_start``
    is 0.3. fastai's ``fit_one_cycle`` uses ``pct_start=0.25``, ``div=25``
    and ``div_final=1e5`` with the final rate ``max / div_final``, that is
    ``final_div_factor=1e5 / 25 = 4000`` here, and splits the phases at
    :math:`qT` rather than :math:`qT - 1`. For the momentum cycle
    (0.95 → 0.85 → 0.95), pass this schedule to :class:`CyclicMomentum`.

    Parameters
    ----------
    total : float, default=100
        Length :math:`T` of the cycle, in ``unit``; ``> 0``.
    pct_start : float, default=0.25
        Fraction :math:`q` of the cycle spent increasing, in ``[0, 1]``
        (``[0, 0.5]`` with ``three_phase``).
    div_factor : float, default=25.0
        Peak over initial multiplier, ``> 0``.
    final_div_factor : float, default=1e4
        Initial over final multiplier, ``> 0``.
    anneal : {'cos', 'linear'}, default='cos'
        Shape of each phase.
    three_phase : bool, default=False
        Whether to come back to the initial multiplier before annealing to
        the final one, as PyTorch's ``three_phase``.
    unit : {'step', 'epoch', 'sample'}, default='step'
        Unit of time of ``total``.

    Examples
    --------
    >>> from sklr.schedules import OneCycle
    >>> OneCycle(total=6, pct_start=0.5, div_factor=10, final_div_factor=10,
    ...          anneal='linear').preview(7)
    array([0.1 , 0.55, 1.  , 0.67, 0.34, 0.01, 0.01])
    """

    _parameter_constraints: dict = {
        "total": [Interval(Real, 0, None, closed="neither")],
        "pct_start": [Interval(Real, 0, 1, closed="both")],
        "div_factor": [Interval(Real, 0, None, closed="neither")],
        "final_div_factor": [Interval(Real, 0, None, closed="neither")],
        "anneal": [StrOptions({"cos", "linear"})],
        "three_phase": ["boolean"],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(
        self,
        total=100,
        pct_start=0.25,
        div_factor=25.0,
        final_div_factor=1e4,
        anneal="cos",
        three_phase=False,
        unit="step",
    ):
        self.total = total
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.anneal = anneal
        self.three_phase = three_phase
        self.unit = unit

    def _validate_params(self):
        super()._validate_params()
        if self.three_phase and self.pct_start > 0.5:
            raise ValueError(
                "The 'pct_start' parameter of OneCycle must be <= 0.5 with "
                f"three_phase=True, got {self.pct_start!r}."
            )

    def _phases(self, positions):
        """Phase index and clipped progress ``p`` of each update."""
        t = _position(positions, self.unit)
        T, q = float(self.total), float(self.pct_start)
        if self.three_phase:
            ends = np.array([q * T - 1, 2 * q * T - 2, T - 1])
        else:
            ends = np.array([q * T - 1, T - 1])
        j = np.searchsorted(ends[:-1], t, side="left")  # first phase with t <= end
        starts = np.concatenate([[0.0], ends[:-1]])
        pct = _safe_fraction(t - starts[j], ends[j] - starts[j])
        return j, pct

    def _interpolate(self, positions, points):
        j, pct = self._phases(positions)
        points = np.asarray(points, dtype=np.float64)
        return _anneal(self.anneal, points[j], points[j + 1], pct)

    def _phase(self, positions):
        """Height of the cycle at each update, in [0, 1].

        0 at the start (and from the start of the last phase of a
        three-phase cycle), 1 at the peak, 0 again at the end, with the
        same annealing shape as the multiplier: ``CyclicMomentum`` moves
        the momentum opposite to it, as PyTorch's ``cycle_momentum``.

        Parameters
        ----------
        positions : StepPositions
            Positions of the updates.

        Returns
        -------
        phase : ndarray of shape (len(positions),), dtype float64
        """
        points = [0.0, 1.0, 0.0, 0.0] if self.three_phase else [0.0, 1.0, 0.0]
        return self._interpolate(positions, points)

    def _values(self, positions):
        initial = 1.0 / float(self.div_factor)
        final = initial / float(self.final_div_factor)
        if self.three_phase:
            points = [initial, 1.0, initial, final]
        else:
            points = [initial, 1.0, final]
        return self._interpolate(positions, points)


class LinearWarmup(Schedule):
    r"""Linear warm-up from ``start_factor`` to 1 over ``warmup`` units.

    .. math::

        m(t) = f + (1 - f)\,\frac{\min(t, W)}{W}

    with :math:`f` = ``start_factor`` and :math:`W` = ``warmup``; 1 after
    :math:`W`. PyTorch ``LinearLR(opt, start_factor=f, end_factor=1.0,
    total_iters=W)`` stepped once per epoch (``unit='epoch'``, one update
    per epoch; with several updates per epoch the multiplier rises within
    the epoch here) or after every update (``unit='step'``); optax
    ``linear_schedule`` and Keras 3 ``CosineDecay(warmup_steps=...)``
    warm up the same way. Follow it with another schedule using
    :class:`Sequence`.

    Parameters
    ----------
    warmup : float, default=5
        Length :math:`W` of the warm-up, in ``unit``; ``> 0``.
    start_factor : float, default=0.1
        Multiplier :math:`f` at :math:`t = 0`, ``>= 0``.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of ``warmup``.

    Examples
    --------
    >>> from sklr.schedules import LinearWarmup
    >>> LinearWarmup(warmup=4, start_factor=0.2).preview(6)
    array([0.2, 0.4, 0.6, 0.8, 1. , 1. ])
    """

    _parameter_constraints: dict = {
        "warmup": [Interval(Real, 0, None, closed="neither")],
        "start_factor": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, warmup=5, start_factor=0.1, unit="epoch"):
        self.warmup = warmup
        self.start_factor = start_factor
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        warmup, f = float(self.warmup), float(self.start_factor)
        return f + (1.0 - f) * np.minimum(t, warmup) / warmup


# --------------------------------------------------------------------------
# Compositions and callables
# --------------------------------------------------------------------------


class Sequence(Schedule):
    r"""Schedules one after another, each in its own local time.

    ``schedules`` lists ``(schedule, length)`` pairs and ends with a bare
    schedule that runs to the end of training. Segment :math:`k` starts at
    :math:`B_k = \sum_{j < k} \mathrm{length}_j` (in ``unit``) and sees
    time from its own start:

    .. math::

        m(t) = s_k(t - B_k) \quad \text{for} \quad B_k \le t < B_{k+1}

    as optax ``join_schedules`` (``where(t < boundary, ...)``): the update at
    :math:`t = B_k` belongs to segment :math:`k`. So
    ``Sequence([(LinearWarmup(5), 5), CosineAnnealing(95, unit='epoch')])``
    warms up over 5 epochs and then anneals over the next 95, and PyTorch
    ``SequentialLR(opt, [s_0, s_1], milestones=[5])`` stepped per epoch is
    the same construction.

    **Local time.** The segments receive shifted :class:`StepPositions`:
    the field of ``unit`` (``step``, ``epoch`` or ``sample``) minus
    :math:`B_k`; with ``unit='sample'`` also ``epoch_start_sample`` minus
    :math:`B_k`, floored at 0 (what :class:`InvScaling` reads). The other
    fields are NaN, because the step or row count at an epoch boundary
    (or the epoch at a step boundary) is not a function of the current
    update's position when epochs differ in length, and a schedule must
    give the same value whether it is evaluated one epoch at a time or
    over a whole run. Every schedule inside a Sequence must therefore read
    time in the Sequence's ``unit``; :meth:`values` raises a ``ValueError``
    naming the offending segment otherwise.

    Feedback schedules (:class:`ReduceOnPlateau`, :class:`Adaptive`) cannot
    be segments: multiply the Sequence by one with :class:`Product`.

    **Search.** ``schedules`` is one parameter, a list: search over whole
    lists (``{'learning_rate__schedules': [[...], [...]]}``), since
    scikit-learn's nested ``name__sub`` keys do not index into lists.
    :func:`sklearn.base.clone` clones the schedules inside the list.

    Parameters
    ----------
    schedules : list
        ``[(schedule_0, length_0), ..., (schedule_{n-1}, length_{n-1}),
        schedule_n]``: schedules with the lengths (in ``unit``, ``> 0``)
        of their segments, then the last schedule.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of the lengths, and of every schedule inside.

    Examples
    --------
    >>> from sklr.schedules import CosineAnnealing, LinearWarmup, Sequence
    >>> s = Sequence([(LinearWarmup(warmup=2, start_factor=0.5), 2),
    ...               CosineAnnealing(period=4, unit='epoch')])
    >>> s.preview(7)
    array([0.5       , 0.75      , 1.        , 0.85355339, 0.5       ,
           0.14644661, 0.        ])
    """

    _parameter_constraints: dict = {
        "schedules": [list, tuple],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, schedules, unit="epoch"):
        self.schedules = schedules
        self.unit = unit

    def _segments(self):
        """``(schedule, start)`` of each segment, in order."""
        items = list(self.schedules)
        segments, start = [], 0.0
        for schedule, length in items[:-1]:
            segments.append((schedule, start))
            start += float(length)
        segments.append((items[-1], start))
        return segments

    def _validate_params(self):
        super()._validate_params()
        items = list(self.schedules)
        if not items:
            raise ValueError(
                "The 'schedules' parameter of Sequence must not be empty: give "
                "(schedule, length) pairs followed by a last schedule."
            )
        for i, item in enumerate(items[:-1]):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ValueError(
                    f"The 'schedules' parameter of Sequence: item {i} must be a "
                    f"(schedule, length) pair (only the last item is a bare "
                    f"schedule), got {item!r}."
                )
            schedule, length = item
            if (
                not isinstance(length, Real)
                or isinstance(length, bool)
                or not 0 < length < math.inf
            ):
                raise ValueError(
                    f"The 'schedules' parameter of Sequence: the length of item "
                    f"{i} must be a finite number > 0, got {length!r}."
                )
        if isinstance(items[-1], (tuple, list)):
            raise ValueError(
                "The 'schedules' parameter of Sequence must end with a bare "
                f"schedule, which runs to the end, got the pair {items[-1]!r}."
            )
        for i, (schedule, _) in enumerate(self._segments()):
            if not isinstance(schedule, Schedule):
                raise InvalidParameterError(
                    f"The 'schedules' parameter of Sequence: item {i} must hold an "
                    "instance of sklr.schedules.Schedule, got "
                    f"{schedule!r} of type {type(schedule).__name__}."
                )
            schedule._validate_params()
            feedback = [s for s in _walk_schedules(schedule) if s.is_feedback]
            if feedback:
                raise ValueError(
                    f"The 'schedules' parameter of Sequence: item {i} contains the "
                    f"feedback schedule {feedback[0]!r}, which cannot be a segment "
                    "of a Sequence; multiply the Sequence by it with Product."
                )
            other = sorted(schedule._time_units() - {self.unit})
            if other:
                raise ValueError(
                    f"The 'schedules' parameter of Sequence: item {i}, "
                    f"{schedule!r}, reads time in {other} but the Sequence "
                    f"counts in {self.unit!r}; every schedule in a Sequence "
                    "must use the Sequence's unit (set unit="
                    f"{self.unit!r} on it, or change the Sequence's unit)."
                )

    def _local(self, positions, mask, start):
        """The positions selected by ``mask``, shifted to start at ``start``."""
        n = int(np.count_nonzero(mask))
        fields = {
            name: np.full(n, np.nan)
            for name in ("step", "epoch", "sample", "epoch_start_sample")
        }
        fields[self.unit] = _position(positions, self.unit)[mask] - start
        if self.unit == "sample":
            shifted = positions.epoch_start_sample[mask] - start
            fields["epoch_start_sample"] = np.maximum(shifted, 0.0)
        return StepPositions(**fields)

    def _values(self, positions):
        t = _position(positions, self.unit)
        segments = self._segments()
        starts = np.array([start for _, start in segments[1:]])
        index = np.searchsorted(starts, t, side="right")
        out = np.empty(len(positions))
        for k, (schedule, start) in enumerate(segments):
            mask = index == k
            if np.any(mask):
                out[mask] = schedule._evaluate(self._local(positions, mask, start))
        return out


class Product(Schedule):
    r"""Elementwise product of two schedules.

    .. math::

        m(t) = m_1(t)\, m_2(t)

    Like the kernel operators of :mod:`sklearn.gaussian_process`, the
    factors' parameters are searchable as ``s1__<name>`` and
    ``s2__<name>``. A factor may be a feedback schedule
    (:class:`ReduceOnPlateau`): its :meth:`values` are 1 and the estimator
    multiplies by its current scale (see :meth:`Schedule._feedback_schedules`),
    which is how a plateau rule combines with a closed-form decay (Keras
    and PyTorch can only chain such schedulers).

    Parameters
    ----------
    s1 : Schedule
        First factor.
    s2 : Schedule
        Second factor.

    Examples
    --------
    >>> from sklr.schedules import ExponentialDecay, Product, StepDecay
    >>> p = Product(StepDecay(step_size=2, gamma=0.5), ExponentialDecay(gamma=0.9))
    >>> p.preview(4)
    array([1.    , 0.9   , 0.405 , 0.3645])
    >>> p.set_params(s1__gamma=0.1).preview(4)
    array([1.    , 0.9   , 0.081 , 0.0729])
    """

    _parameter_constraints: dict = {"s1": [Schedule], "s2": [Schedule]}

    def __init__(self, s1, s2):
        self.s1 = s1
        self.s2 = s2

    def _validate_params(self):
        super()._validate_params()
        self.s1._validate_params()
        self.s2._validate_params()

    def _values(self, positions):
        return self.s1._evaluate(positions) * self.s2._evaluate(positions)

    def _feedback_schedules(self):
        return self.s1._feedback_schedules() + self.s2._feedback_schedules()


class PerEpoch(Schedule):
    r"""Hold an epoch-unit schedule at its epoch-start value for the whole epoch.

    .. math::

        m(e + k/n) = m_{\text{inner}}(e)

    sklr's ``'epoch'`` unit is fractional within an epoch, so a smooth
    schedule moves between the updates of an epoch. A PyTorch scheduler
    stepped once per epoch, or a Keras ``LearningRateScheduler`` callback,
    holds one rate for the whole epoch instead: wrap the schedule in
    ``PerEpoch`` to reproduce that exactly, e.g. PyTorch
    ``CosineAnnealingLR(opt, T_max)`` stepped per epoch is
    ``PerEpoch(CosineAnnealing(T_max, periodic=True, unit='epoch'))``.

    Parameters
    ----------
    schedule : Schedule
        The inner schedule; it (and every schedule inside it) must use
        ``unit='epoch'``. Its parameters are searchable as
        ``schedule__<name>``.

    Examples
    --------
    >>> from sklr.schedules import LinearWarmup, PerEpoch
    >>> LinearWarmup(warmup=2, start_factor=0.5).preview(2, steps_per_epoch=2)
    array([0.5  , 0.625, 0.75 , 0.875])
    >>> PerEpoch(LinearWarmup(warmup=2, start_factor=0.5)).preview(2, steps_per_epoch=2)
    array([0.5 , 0.5 , 0.75, 0.75])
    """

    _parameter_constraints: dict = {"schedule": [Schedule]}

    def __init__(self, schedule):
        self.schedule = schedule

    def _validate_params(self):
        super()._validate_params()
        self.schedule._validate_params()
        units = _units_inside(self.schedule)
        if units - {"epoch"}:
            raise ValueError(
                "PerEpoch needs schedules with unit='epoch' only, got "
                f"{sorted(units)} in {self.schedule!r}."
            )
        if self.schedule._feedback_schedules():
            raise ValueError(
                "PerEpoch cannot hold a feedback schedule: feedback already "
                "changes the rate once per epoch."
            )

    def _values(self, positions):
        floored = StepPositions._with_epoch(positions, np.floor(positions.epoch))
        return self.schedule._evaluate(floored)


def _units_inside(schedule):
    """The units used by a schedule and every schedule nested in it."""
    units = set()
    params = schedule.get_params(deep=False)
    if "unit" in params:
        units.add(params["unit"])
    for value in params.values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, tuple):
                item = item[0]
            if isinstance(item, Schedule):
                units |= _units_inside(item)
    return units


class Lambda(Schedule):
    r"""Multipliers from a user function of time.

    .. math::

        m(t) = \mathrm{func}(t)

    ``func`` receives a float64 array of positions in ``unit`` (a writable
    copy) and returns an array of the same length, or a scalar for all. If
    calling it on the array raises ``TypeError`` or ``ValueError`` (a
    function written for scalars, say with ``if t < 5:`` or
    ``math.exp``), it is called once per position through
    :func:`numpy.vectorize` instead, which is slower. It must be a pure,
    closed-form function of time: no state.

    Keras ``LearningRateScheduler(lambda epoch: lr0 * f(epoch))`` and
    PyTorch ``LambdaLR(opt, f)`` stepped once per epoch, with
    ``unit='epoch'``; with several updates per epoch the positions are
    fractional epochs (use ``np.floor(t)`` in ``func`` to hold each epoch's
    value). Keras' two-argument form ``schedule(epoch, lr)``, which reads
    back the current rate, has no equivalent: write the closed form.

    ``Lambda`` pickles when ``func`` pickles with :mod:`pickle` (a
    module-level function or a picklable callable object); with a lambda
    or a local function, pickling raises :class:`pickle.PicklingError`
    saying so. This includes process-based parallel searches.

    Parameters
    ----------
    func : callable
        Function mapping an array of positions to multipliers.
    unit : {'step', 'epoch', 'sample'}, default='epoch'
        Unit of time of the positions passed to ``func``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.schedules import Lambda
    >>> Lambda(np.sqrt).preview(4)
    array([0.        , 1.        , 1.41421356, 1.73205081])
    >>> Lambda(lambda e: 1.0 if e < 2 else 0.1).preview(4)
    array([1. , 1. , 0.1, 0.1])
    """

    _parameter_constraints: dict = {
        "func": [callable],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, func, unit="epoch"):
        self.func = func
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        if t.shape[0] == 0:
            return np.empty(0)
        try:
            out = np.asarray(self.func(t.copy()), dtype=np.float64)
            return np.broadcast_to(out, t.shape)
        except (TypeError, ValueError):
            return np.vectorize(self.func, otypes=[np.float64])(t)

    def __getstate__(self):
        try:
            pickle.dumps(self.func)
        except Exception as exc:
            raise pickle.PicklingError(
                f"Cannot pickle Lambda(func={self.func!r}): its func cannot be "
                f"pickled ({type(exc).__name__}: {exc}). Lambdas and functions "
                "defined inside other functions do not pickle; use a module-level "
                "function (def f(t): ...) or a picklable callable object."
            ) from exc
        return self.__dict__.copy()

    def __copy__(self):
        return type(self)(**self.get_params(deep=False))

    def __deepcopy__(self, memo):
        params = self.get_params(deep=False)
        return type(self)(**{k: copy.deepcopy(v, memo) for k, v in params.items()})


# --------------------------------------------------------------------------
# Feedback
# --------------------------------------------------------------------------


class ReduceOnPlateau(Schedule):
    r"""Reduce the rate when a monitored quantity stops improving.

    The multiplier starts at :math:`m_0 = 1` and each reduction sets

    .. math::

        m \leftarrow \max(\mathrm{factor} \cdot m,\ \mathrm{min\_value})

    :meth:`values` returns the multipliers before feedback (ones); the
    estimator carries the state. It calls ``state = init_state()`` before
    the first epoch and, after each epoch, the pure function
    ``state = update(state, value)`` with that epoch's monitored value; the
    next epoch's multipliers are multiplied by ``state['scale']``.
    ``'val_score'`` is maximised, ``'loss'`` and ``'val_loss'`` minimised.

    An epoch improves on the best value when (PyTorch's ``is_better``)
    ``value < best * (1 - threshold)`` (``'rel'``, minimising),
    ``value < best - threshold`` (``'abs'``), ``value > best * (1 +
    threshold)`` or ``value > best + threshold`` (maximising). With
    ``patience_convention='pytorch'``, exactly as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``: a bad epoch counts, an
    epoch in cooldown decrements the cooldown counter and clears the count,
    and the rate is reduced when the count *exceeds* ``patience``. With
    ``'keras'``, exactly as ``keras.callbacks.ReduceLROnPlateau``: the
    cooldown counter is decremented first, bad epochs are not counted in
    cooldown, and the rate is reduced when the count *reaches*
    ``patience`` (and only while above ``min_value``). After a reduction
    both clear the count and start ``cooldown`` epochs of cooldown.

    PyTorch ``ReduceLROnPlateau(opt, mode, factor, patience, threshold,
    threshold_mode, cooldown, min_lr=min_value * lr0)``; it also skips a
    reduction smaller than ``eps=1e-8`` in absolute rate, which sklr does
    not. Keras ``ReduceLROnPlateau(monitor, factor, patience,
    min_delta=threshold, cooldown, min_lr=min_value * lr0)`` with
    ``threshold_mode='abs'`` and ``patience_convention='keras'``.
    scikit-learn's ``'adaptive'`` is :class:`Adaptive`.

    Parameters
    ----------
    factor : float, default=0.1
        Factor applied to the multiplier at each reduction, in ``(0, 1)``.
    patience : int, default=10
        Number of bad epochs tolerated, ``>= 0``.
    threshold : float, default=1e-4
        Minimum significant improvement, ``>= 0`` (``< 1`` with ``'rel'``).
    threshold_mode : {'rel', 'abs'}, default='rel'
        Whether ``threshold`` is relative to the best value or absolute.
    cooldown : int, default=0
        Epochs to wait after a reduction before counting bad epochs again,
        ``>= 0``.
    min_value : float, default=0.0
        Lowest multiplier, in ``[0, 1]``.
    monitor : {'val_loss', 'loss', 'val_score'}, default='val_loss'
        Quantity the estimator passes to :meth:`update`. The validation
        monitors need validation data: ``fit(X, y, X_val=..., y_val=...)``
        or ``early_stopping=True``.
    patience_convention : {'pytorch', 'keras'}, default='pytorch'
        Which framework's counting rule to follow (see above).

    Examples
    --------
    >>> from sklr.schedules import ReduceOnPlateau
    >>> s = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0)
    >>> s.preview(6, monitored=[3.0, 2.0, 2.0, 2.0, 2.0, 1.0])
    array([1. , 1. , 1. , 1. , 0.5, 0.5])
    >>> state = s.init_state()
    >>> state = s.update(state, 3.0)
    >>> state
    {'best': 3.0, 'bad_epochs': 0, 'cooldown_counter': 0, 'scale': 1.0}
    """

    is_feedback = True
    _parameter_constraints: dict = {
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "threshold_mode": [StrOptions({"rel", "abs"})],
        "cooldown": [Interval(Integral, 0, None, closed="left")],
        "min_value": [Interval(Real, 0, 1, closed="both")],
        "monitor": [StrOptions({"val_loss", "loss", "val_score"})],
        "patience_convention": [StrOptions({"pytorch", "keras"})],
    }

    def __init__(
        self,
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_value=0.0,
        monitor="val_loss",
        patience_convention="pytorch",
    ):
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_value = min_value
        self.monitor = monitor
        self.patience_convention = patience_convention

    def _validate_params(self):
        super()._validate_params()
        if self.threshold_mode == "rel" and self.threshold >= 1:
            raise ValueError(
                "The 'threshold' parameter of ReduceOnPlateau must be < 1 with "
                f"threshold_mode='rel', got {self.threshold!r}."
            )

    @property
    def _maximize(self):
        return self.monitor == "val_score"

    def _values(self, positions):
        return np.ones(len(positions))

    def _is_better(self, value, best):
        threshold = float(self.threshold)
        if self._maximize:
            if self.threshold_mode == "rel":
                return value > best * (threshold + 1.0)
            return value > best + threshold
        if self.threshold_mode == "rel":
            return value < best * (1.0 - threshold)
        return value < best - threshold

    def init_state(self):
        """State before the first epoch.

        Returns
        -------
        state : dict
            ``{'best': inf or -inf (the worst value), 'bad_epochs': 0,
            'cooldown_counter': 0, 'scale': 1.0}``.
        """
        self._validate_params()
        return {
            "best": -math.inf if self._maximize else math.inf,
            "bad_epochs": 0,
            "cooldown_counter": 0,
            "scale": 1.0,
        }

    def update(self, state, value):
        """State after observing the monitored value of one epoch.

        A pure function: ``state`` is not modified and nothing is stored on
        the schedule.

        Parameters
        ----------
        state : dict
            State from :meth:`init_state` or a previous :meth:`update`.
            Keys other than the four of :meth:`init_state` are carried over
            unchanged.
        value : float
            Monitored quantity (``monitor``) of the epoch just finished.

        Returns
        -------
        new_state : dict
            A new dictionary; its ``'scale'`` is the multiplier for the next
            epoch.
        """
        self._validate_params()
        return self._update(state, value)

    def _update(self, state, value):
        """:meth:`update` without validating the parameters (the estimator
        validates once per fit)."""
        value = float(value)
        new = dict(state)
        best = float(state["best"])
        bad = int(state["bad_epochs"])
        cooldown = int(state["cooldown_counter"])
        scale = float(state["scale"])
        floor = float(self.min_value)
        reduce = False
        if self.patience_convention == "pytorch":
            if self._is_better(value, best):
                best, bad = value, 0
            else:
                bad += 1
            if cooldown > 0:
                cooldown -= 1
                bad = 0
            reduce = bad > self.patience
        else:
            if cooldown > 0:
                cooldown -= 1
                bad = 0
            if self._is_better(value, best):
                best, bad = value, 0
            elif cooldown == 0:
                bad += 1
                reduce = bad >= self.patience and scale > floor
        if reduce:
            scale = max(scale * float(self.factor), floor)
            cooldown = int(self.cooldown)
            bad = 0
        new.update(best=best, bad_epochs=bad, cooldown_counter=cooldown, scale=scale)
        return new

    def preview(self, n_epochs, steps_per_epoch=1, batch_size=1, monitored=None):
        """Multiplier at each update, replaying the rule on given values.

        Parameters
        ----------
        n_epochs : int
            Number of epochs.
        steps_per_epoch : int, default=1
            Number of updates per epoch.
        batch_size : int, default=1
            Rows used by each update.
        monitored : array-like of shape (n_epochs,)
            Monitored value at the end of each epoch; required.

        Returns
        -------
        values : ndarray of shape (n_epochs * steps_per_epoch,), dtype float64
            The scale in effect during each update: a reduction decided
            after epoch ``e`` applies from epoch ``e + 1`` on.
        """
        base = self.values(StepPositions.grid(n_epochs, steps_per_epoch, batch_size))
        if monitored is None:
            raise ValueError(
                "ReduceOnPlateau.preview needs the monitored value of each "
                "epoch: pass monitored=[...] of length n_epochs."
            )
        monitored = np.asarray(monitored, dtype=np.float64)
        if monitored.shape != (n_epochs,):
            raise ValueError(
                f"monitored must have shape ({n_epochs},) (one value per "
                f"epoch), got shape {monitored.shape}."
            )
        scales, state = [], self.init_state()
        for value in monitored:
            scales.append(state["scale"])
            state = self.update(state, value)
        return base * np.repeat(np.asarray(scales, dtype=np.float64), steps_per_epoch)


# --------------------------------------------------------------------------
# Momentum schedules (absolute momenta)
# --------------------------------------------------------------------------


class MomentumRamp(Schedule):
    r"""Momentum ramped linearly from ``start`` to ``stable``, H2O-style.

    .. math::

        \mu(t) = \mu_0 + (\mu_\infty - \mu_0)\,\frac{\min(t, R)}{R}

    with :math:`\mu_0` = ``start``, :math:`\mu_\infty` = ``stable`` and
    :math:`R` = ``ramp``. The values are momenta, not multipliers: pass the
    schedule as the estimator's ``momentum``.

    H2O Deep Learning's ``momentum_start``, ``momentum_stable`` and
    ``momentum_ramp`` (in training samples, ``unit='sample'``); H2O's own
    defaults are 0, 0 and 1e6. Keras and PyTorch have no equivalent.

    Parameters
    ----------
    start : float, default=0.5
        Momentum at :math:`t = 0`, in ``[0, 1]``.
    stable : float, default=0.99
        Momentum from :math:`t = R` on, in ``[0, 1]``.
    ramp : float, default=1_000_000
        Length :math:`R` of the ramp, in ``unit``; ``> 0``.
    unit : {'step', 'epoch', 'sample'}, default='sample'
        Unit of time of ``ramp``.

    Examples
    --------
    >>> from sklr.schedules import MomentumRamp
    >>> MomentumRamp(start=0.5, stable=0.9, ramp=200).preview(5, batch_size=50)
    array([0.5, 0.6, 0.7, 0.8, 0.9])
    """

    _parameter_constraints: dict = {
        "start": [Interval(Real, 0, 1, closed="both")],
        "stable": [Interval(Real, 0, 1, closed="both")],
        "ramp": [Interval(Real, 0, None, closed="neither")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, start=0.5, stable=0.99, ramp=1_000_000, unit="sample"):
        self.start = start
        self.stable = stable
        self.ramp = ramp
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        start, ramp = float(self.start), float(self.ramp)
        return start + (float(self.stable) - start) * np.minimum(t, ramp) / ramp


class CyclicMomentum(Schedule):
    r"""Momentum cycled opposite to a :class:`Cyclic` or :class:`OneCycle`.

    .. math::

        \mu(t) = \mu_{\max} - (\mu_{\max} - \mu_{\mathrm{base}})\,
                 \phi(t)

    where :math:`\phi` is ``cycle._phase``: the fraction of the amplitude
    the learning-rate cycle has reached (0 at its bottom, 1 at its peak).
    The values are momenta, not multipliers: pass this schedule as the
    estimator's ``momentum`` and ``cycle`` as its ``learning_rate``. The
    cycle's parameters are searchable as ``cycle__<name>``; keep them
    equal to the learning-rate schedule's.

    PyTorch ``CyclicLR``/``OneCycleLR`` with ``cycle_momentum=True``
    (``CyclicLR`` defaults 0.8/0.9, ``OneCycleLR`` 0.85/0.95), and fastai's
    ``fit_one_cycle`` momentum 0.95 → 0.85 → 0.95. PyTorch writes the
    momentum into the optimizer's ``momentum`` (or Adam's ``beta1``); which
    the estimator does with these values depends on its solver.

    Parameters
    ----------
    cycle : Cyclic or OneCycle
        The learning-rate cycle to mirror.
    base_momentum : float, default=0.85
        Momentum at the peak of the cycle, in ``[0, 1]``.
    max_momentum : float, default=0.95
        Momentum at the bottom of the cycle, in ``[0, 1]``.

    Examples
    --------
    >>> from sklr.schedules import Cyclic, CyclicMomentum
    >>> m = CyclicMomentum(Cyclic(step_size=2), base_momentum=0.8, max_momentum=0.9)
    >>> m.preview(5)
    array([0.9 , 0.85, 0.8 , 0.85, 0.9 ])
    >>> m.set_params(cycle__step_size=1).preview(3)
    array([0.9, 0.8, 0.9])
    """

    _parameter_constraints: dict = {
        "cycle": [Cyclic, OneCycle],
        "base_momentum": [Interval(Real, 0, 1, closed="both")],
        "max_momentum": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, cycle, base_momentum=0.85, max_momentum=0.95):
        self.cycle = cycle
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum

    def _validate_params(self):
        super()._validate_params()
        self.cycle._validate_params()

    def _values(self, positions):
        top = float(self.max_momentum)
        return top - (top - float(self.base_momentum)) * self.cycle._phase(positions)


def _check_schedule(obj, name="learning_rate"):
    """Check that ``obj`` is a valid :class:`Schedule`.

    Parameters
    ----------
    obj : object
        Object to check.
    name : str, default='learning_rate'
        Name of the estimator parameter holding ``obj``, for messages.

    Returns
    -------
    obj : Schedule
        The object, unchanged.

    Raises
    ------
    TypeError
        If ``obj`` is not a :class:`Schedule` instance.
    sklearn.utils._param_validation.InvalidParameterError
        If one of its parameters is invalid.
    """
    if not isinstance(obj, Schedule) or isinstance(obj, type):
        raise TypeError(
            f"The {name!r} parameter must be an instance of "
            f"sklr.schedules.Schedule, got {obj!r} of type {type(obj).__name__}."
        )
    obj._validate_params()
    return obj
