"""Closed-form schedules: multipliers that are pure functions of time.

Each class maps update positions to multipliers of ``learning_rate_init``
with a formula of the position in its ``unit`` and no state, and clamps
(or repeats) past its horizon: :class:`Constant`, :class:`InvScaling`,
:class:`StepDecay`, :class:`InverseTimeDecay`, :class:`MultiStepDecay`,
:class:`PiecewiseConstant`, :class:`ExponentialDecay`,
:class:`PolynomialDecay`, :class:`LinearDecay`, :class:`CosineAnnealing`,
:class:`CosineWarmRestarts`, :class:`Cyclic`, :class:`OneCycle`,
:class:`LinearWarmup`, :class:`WarmupStableDecay` and :class:`Lambda` (a
user function of time).
"""

import copy
import math
import pickle
from numbers import Real

import numpy as np

from .._compat import Interval, StrOptions
from ._base import _UNITS, Schedule, _breakpoints, _position


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

    def _own_time_units(self):
        return {"sample"}


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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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

    _lengths = ("step_size",)

    def __init__(self, step_size=1, gamma=0.1, unit="epoch"):
        self.step_size = step_size
        self.gamma = gamma
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return float(self.gamma) ** np.floor(t / float(self.step_size))


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

    where :math:`t` is the position of the update in ``unit`` (epochs
    by default).

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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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

    def __init__(self, decay=0.01, unit="epoch"):
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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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

    _lengths = ("milestones",)

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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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

    _lengths = ("boundaries",)

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
    ``ExponentialDecay(gamma=g, staircase=True)`` (epochs, the default
    unit) is ``ExponentialLR`` stepped once per epoch (``staircase`` only
    matters when an epoch has several updates). ``ExponentialDecay(
    decay_rate=r, decay_steps=s, staircase=st, unit='step')`` is Keras
    ``ExponentialDecay(1.0, s, r, staircase=st)`` (and optax
    ``exponential_decay``). With ``unit='fraction'``, ``gamma`` is the
    multiplier reached at the end of the fit.

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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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
    _lengths = ("decay_steps",)

    def __init__(
        self,
        gamma=None,
        decay_rate=None,
        decay_steps=None,
        staircase=False,
        unit="epoch",
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
    at :math:`t = 0`) and :math:`t` is not clamped. By default the decay
    spans the fit: ``unit='fraction'`` and ``total=1`` reach :math:`e` at
    the last planned update.

    Keras ``PolynomialDecay(1.0, decay_steps=total, end_learning_rate=e,
    power, cycle)`` with ``unit='step'`` (``end_value`` is a multiplier of
    the initial rate here, an absolute rate there). PyTorch
    ``PolynomialLR(opt, total_iters=total, power)`` is ``end_value=0`` (the
    updates of one epoch share a value when it is stepped per epoch).

    Parameters
    ----------
    total : float, default=1.0
        Decay horizon :math:`T`, in ``unit``; ``> 0`` (at most 1 in
        ``'fraction'``, where 1 is the whole fit).
    power : float, default=1.0
        Exponent :math:`p`, ``> 0``.
    end_value : float, default=0.0
        Final multiplier :math:`e`, ``>= 0``.
    cycle : bool, default=False
        Whether to restart with a longer horizon instead of clamping.
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``total``.

    See Also
    --------
    LinearDecay : The case ``power=1``, ``cycle=False``.

    Examples
    --------
    >>> from sklr.schedules import PolynomialDecay
    >>> PolynomialDecay(power=2.0).preview(5)
    array([1.    , 0.5625, 0.25  , 0.0625, 0.    ])
    >>> PolynomialDecay(total=4, power=2.0, end_value=0.1, unit='step').preview(6)
    array([1.     , 0.60625, 0.325  , 0.15625, 0.1    , 0.1    ])
    >>> PolynomialDecay(total=2, cycle=True, unit='step').preview(5)
    array([1.  , 0.5 , 0.  , 0.25, 0.  ])
    """

    _parameter_constraints: dict = {
        "total": [Interval(Real, 0, None, closed="neither")],
        "power": [Interval(Real, 0, None, closed="neither")],
        "end_value": [Interval(Real, 0, None, closed="left")],
        "cycle": ["boolean"],
        "unit": [StrOptions(set(_UNITS))],
    }

    _lengths = ("total",)

    def __init__(self, total=1.0, power=1.0, end_value=0.0, cycle=False,
                 unit="fraction"):
        self.total = total
        self.power = power
        self.end_value = end_value
        self.cycle = cycle
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return _polynomial(t, self.total, self.power, self.end_value, self.cycle)

    def _shape_ends(self):
        return [] if self.cycle else [(self.unit, float(self.total))]


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
    total : float, default=1.0
        Length :math:`T` of the decay, in ``unit``; ``> 0`` (at most 1 in
        ``'fraction'``, where 1 is the whole fit).
    end_value : float, default=0.0
        Final multiplier :math:`e`, ``>= 0``.
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``total``.

    Examples
    --------
    >>> from sklr.schedules import LinearDecay
    >>> LinearDecay(end_value=0.2).preview(5)
    array([1. , 0.8, 0.6, 0.4, 0.2])
    >>> LinearDecay(total=4, end_value=0.2, unit='step').preview(6)
    array([1. , 0.8, 0.6, 0.4, 0.2, 0.2])
    """

    _parameter_constraints: dict = {
        "total": [Interval(Real, 0, None, closed="neither")],
        "end_value": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, total=1.0, end_value=0.0, unit="fraction"):
        self.total = total
        self.end_value = end_value
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        return _polynomial(t, self.total, 1.0, self.end_value, False)

    def _shape_ends(self):
        return [(self.unit, float(self.total))]


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
    :class:`CosineWarmRestarts` for SGDR's restarts). By default the
    cosine spans the fit: ``unit='fraction'`` and ``period=1`` reach
    :math:`\eta` at the last planned update, whatever ``batch_size`` and
    ``max_iter``.

    Parameters
    ----------
    period : float, default=1.0
        Length :math:`P` of the decay, in ``unit``; ``> 0`` (at most 1 in
        ``'fraction'``, where 1 is the whole fit).
    eta_min : float, default=0.0
        Final multiplier :math:`\eta`, ``>= 0``.
    periodic : bool, default=False
        Whether to continue the cosine after ``period`` instead of clamping.
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``period``.

    Examples
    --------
    >>> from sklr.schedules import CosineAnnealing
    >>> CosineAnnealing().preview(5)
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        ])
    >>> CosineAnnealing(period=4, unit='step').preview(6)
    array([1.        , 0.85355339, 0.5       , 0.14644661, 0.        ,
           0.        ])
    >>> CosineAnnealing(period=4, eta_min=0.1, periodic=True, unit='step').preview(6)
    array([1.        , 0.86819805, 0.55      , 0.23180195, 0.1       ,
           0.23180195])
    """

    _parameter_constraints: dict = {
        "period": [Interval(Real, 0, None, closed="neither")],
        "eta_min": [Interval(Real, 0, None, closed="left")],
        "periodic": ["boolean"],
        "unit": [StrOptions(set(_UNITS))],
    }

    _lengths = ("period",)

    def __init__(self, period=1.0, eta_min=0.0, periodic=False, unit="fraction"):
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

    def _shape_ends(self):
        return [] if self.periodic else [(self.unit, float(self.period))]


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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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

    _lengths = ("T_0",)

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
    gamma)`` stepped after every update (``unit='step'``; PyTorch's default
    ``step_size_up`` is 2000 updates); here ``base`` and ``max`` multiply
    ``learning_rate_init``. Smith (2017) advises a half cycle of 2 to 10
    epochs; the default is 4 epochs. For the momentum cycle
    (``cycle_momentum=True``), pass this schedule to
    :class:`CyclicMomentum`.

    Parameters
    ----------
    base : float, default=0.1
        Multiplier at the bottom of a cycle, ``>= 0``.
    max : float, default=1.0
        Multiplier at the top of the first cycle, ``>= 0``.
    step_size : float, default=4
        Half a cycle, in ``unit``; ``> 0``.
    mode : {'triangular', 'triangular2', 'exp_range'}, default='triangular'
        Amplitude policy.
    gamma : float, default=1.0
        Factor of ``'exp_range'`` per unit of time, in ``(0, 1]``.
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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
    _lengths = ("step_size",)

    def __init__(
        self,
        base=0.1,
        max=1.0,
        step_size=4,
        mode="triangular",
        gamma=1.0,
        unit="epoch",
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
    :math:`T - 1` on, where PyTorch raises after ``total`` steps (sklr
    warns at ``fit`` when the cycle ends before the fit does).

    By default the cycle spans the fit: with ``unit='fraction'`` the
    position runs from 0 at the first planned update to 1 at the last,
    and the phases end at :math:`qT` and :math:`T` (three phases:
    :math:`qT`, :math:`2qT`, :math:`T`), so ``OneCycle()`` peaks at
    fraction :math:`q` and reaches :math:`m_\infty` at the last planned
    update, whatever ``batch_size`` and ``max_iter`` (in updates, PyTorch's
    :math:`qT - 1` and :math:`T - 1` count the last of :math:`T` updates
    as :math:`T - 1`).

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
    total : float, default=1.0
        Length :math:`T` of the cycle, in ``unit``; ``> 0`` (at most 1 in
        ``'fraction'``, where 1 is the whole fit).
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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``total``.

    Examples
    --------
    >>> from sklr.schedules import OneCycle
    >>> OneCycle(pct_start=0.5, div_factor=10, final_div_factor=10,
    ...          anneal='linear').preview(5)
    array([0.1  , 0.55 , 1.   , 0.505, 0.01 ])
    >>> OneCycle(total=6, pct_start=0.5, div_factor=10, final_div_factor=10,
    ...          anneal='linear', unit='step').preview(7)
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

    _lengths = ("total",)

    def __init__(
        self,
        total=1.0,
        pct_start=0.25,
        div_factor=25.0,
        final_div_factor=1e4,
        anneal="cos",
        three_phase=False,
        unit="fraction",
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
        # PyTorch counts T updates, the last at T - 1; a fraction's last
        # planned update is at T itself.
        last = 0.0 if self.unit == "fraction" else 1.0
        if self.three_phase:
            ends = np.array([q * T - last, 2 * q * T - 2 * last, T - last])
        else:
            ends = np.array([q * T - last, T - last])
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

    def _shape_ends(self):
        return [(self.unit, float(self.total))]

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
    :class:`Sequence`: in a Sequence counting in ``'fraction'`` (the
    default), ``LinearWarmup()`` warms up over its whole segment, so
    ``Sequence([(LinearWarmup(), 0.05), CosineAnnealing()])`` warms up over
    the first 5% of the fit and anneals over the rest.

    Parameters
    ----------
    warmup : float, default=1.0
        Length :math:`W` of the warm-up, in ``unit``; ``> 0`` (at most 1 in
        ``'fraction'``, where 1 is the whole fit, or the whole segment in a
        :class:`Sequence`).
    start_factor : float, default=0.1
        Multiplier :math:`f` at :math:`t = 0`, ``>= 0``.
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``warmup``.

    Examples
    --------
    >>> from sklr.schedules import LinearWarmup
    >>> LinearWarmup(warmup=0.5, start_factor=0.2).preview(5)
    array([0.2, 0.6, 1. , 1. , 1. ])
    >>> LinearWarmup(warmup=4, start_factor=0.2, unit='step').preview(6)
    array([0.2, 0.4, 0.6, 0.8, 1. , 1. ])
    """

    _parameter_constraints: dict = {
        "warmup": [Interval(Real, 0, None, closed="neither")],
        "start_factor": [Interval(Real, 0, None, closed="left")],
        "unit": [StrOptions(set(_UNITS))],
    }

    _lengths = ("warmup",)

    def __init__(self, warmup=1.0, start_factor=0.1, unit="fraction"):
        self.warmup = warmup
        self.start_factor = start_factor
        self.unit = unit

    def _values(self, positions):
        t = _position(positions, self.unit)
        warmup, f = float(self.warmup), float(self.start_factor)
        return f + (1.0 - f) * np.minimum(t, warmup) / warmup


_WSD_SHAPES = {
    "linear": lambda p: 1.0 - p,
    "cos": lambda p: (1.0 + np.cos(np.pi * p)) / 2.0,
    "1-sqrt": lambda p: 1.0 - np.sqrt(p),
}


class WarmupStableDecay(Schedule):
    r"""Warmup-stable-decay (WSD): warm up, hold the peak, decay at the end.

    With :math:`s = \min(t / T, 1)` the position as a fraction of the
    schedule's length :math:`T` = ``total``, :math:`w` =
    ``warmup_fraction``, :math:`d` = ``decay_fraction``, :math:`f` =
    ``start_factor`` and :math:`e` = ``end_value``:

    .. math::

        m(t) = \begin{cases}
            f + (1 - f)\, s / w & s < w \\
            1 & w \le s < 1 - d \\
            e + (1 - e)\, g\!\left(\frac{s - (1 - d)}{d}\right) & s \ge 1 - d
        \end{cases}

    where the decay shape :math:`g` (``anneal``) falls from 1 at
    :math:`x = 0` to 0 at :math:`x = 1`: :math:`g(x) = 1 - \sqrt{x}`
    (``'1-sqrt'``, the cooldown Hägele et al. (2024) found best), :math:`1
    - x` (``'linear'``) or :math:`(1 + \cos \pi x) / 2` (``'cos'``).

    The schedule of MiniCPM (Hu et al., 2024) and of "Scaling Laws and
    Compute-Optimal Training Beyond Fixed Training Durations" (Hägele et
    al., 2024): most of training runs at the peak rate and a short decay
    (a "cooldown") at the end does the annealing. The phases are fractions
    of ``total``; by default ``total=1`` in ``'fraction'`` is the whole fit,
    so the decay takes the last ``decay_fraction`` of the planned updates
    whatever ``batch_size`` and ``max_iter``, and the last planned update
    runs at :math:`e`. PyTorch and Keras have no such class (PyTorch:
    ``SequentialLR`` of ``LinearLR``, ``ConstantLR`` and a decay).

    Parameters
    ----------
    warmup_fraction : float, default=0.05
        Fraction :math:`w` of ``total`` spent warming up, in ``[0, 1]``.
    decay_fraction : float, default=0.2
        Fraction :math:`d` of ``total`` spent decaying, at the end, in
        ``[0, 1]``; ``warmup_fraction + decay_fraction <= 1``.
    anneal : {'1-sqrt', 'linear', 'cos'}, default='1-sqrt'
        Shape :math:`g` of the decay.
    start_factor : float, default=0.0
        Multiplier :math:`f` at :math:`t = 0`, ``>= 0`` (the literature
        warms up from 0).
    end_value : float, default=0.0
        Multiplier :math:`e` at the end of the decay, ``>= 0``.
    total : float, default=1.0
        Length :math:`T` of the schedule, in ``unit``; ``> 0`` (at most 1
        in ``'fraction'``, where 1 is the whole fit).
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``total``.

    References
    ----------
    S. Hu et al., "MiniCPM: Unveiling the Potential of Small Language Models
    with Scalable Training Strategies", 2024, arXiv:2404.06395.

    A. Hägele, E. Bakouch, A. Kosson, L. Ben Allal, L. Von Werra and M.
    Jaggi, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
    Durations", NeurIPS 2024, arXiv:2405.18392.

    Examples
    --------
    >>> from sklr.schedules import WarmupStableDecay
    >>> WarmupStableDecay(warmup_fraction=0.25, decay_fraction=0.5,
    ...                   anneal='linear').preview(9)
    array([0.  , 0.5 , 1.  , 1.  , 1.  , 0.75, 0.5 , 0.25, 0.  ])
    >>> WarmupStableDecay(warmup_fraction=0.0, decay_fraction=0.5).preview(5)
    array([1.        , 1.        , 1.        , 0.29289322, 0.        ])
    """

    _parameter_constraints: dict = {
        "warmup_fraction": [Interval(Real, 0, 1, closed="both")],
        "decay_fraction": [Interval(Real, 0, 1, closed="both")],
        "anneal": [StrOptions(set(_WSD_SHAPES))],
        "start_factor": [Interval(Real, 0, None, closed="left")],
        "end_value": [Interval(Real, 0, None, closed="left")],
        "total": [Interval(Real, 0, None, closed="neither")],
        "unit": [StrOptions(set(_UNITS))],
    }
    _lengths = ("total",)

    def __init__(
        self,
        warmup_fraction=0.05,
        decay_fraction=0.2,
        anneal="1-sqrt",
        start_factor=0.0,
        end_value=0.0,
        total=1.0,
        unit="fraction",
    ):
        self.warmup_fraction = warmup_fraction
        self.decay_fraction = decay_fraction
        self.anneal = anneal
        self.start_factor = start_factor
        self.end_value = end_value
        self.total = total
        self.unit = unit

    def _validate_params(self):
        super()._validate_params()
        if self.warmup_fraction + self.decay_fraction > 1:
            raise ValueError(
                "WarmupStableDecay's phases overlap: warmup_fraction + "
                f"decay_fraction must be <= 1, got {self.warmup_fraction!r} + "
                f"{self.decay_fraction!r}."
            )

    def _values(self, positions):
        s = np.clip(_position(positions, self.unit) / float(self.total), 0.0, 1.0)
        w, d = float(self.warmup_fraction), float(self.decay_fraction)
        f, e = float(self.start_factor), float(self.end_value)
        out = np.ones(s.shape)
        if w > 0:
            warming = s < w
            out[warming] = f + (1.0 - f) * s[warming] / w
        if d > 0:
            decaying = s >= 1.0 - d
            x = np.clip((s[decaying] - (1.0 - d)) / d, 0.0, 1.0)
            out[decaying] = e + (1.0 - e) * _WSD_SHAPES[self.anneal](x)
        return out

    def _shape_ends(self):
        return [(self.unit, float(self.total))] if self.decay_fraction > 0 else []


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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='epoch'
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
        name = getattr(self.func, "__name__", repr(self.func))
        expected = (
            f"Lambda: {name} must return one number per position (a float for a "
            f"float, or an array of shape {t.shape} for the array of {self.unit} "
            "positions)"
        )
        shape = None
        try:
            raw = self.func(t.copy())
            out = np.asarray(raw, dtype=np.float64)
            shape = out.shape
            if raw is not None and shape in ((), t.shape):
                return np.broadcast_to(out, t.shape)
        except (TypeError, ValueError):
            pass  # a function of one scalar: call it per position below
        values = []
        for x in t:
            try:
                raw = self.func(float(x))
                value = None if raw is None else np.asarray(raw, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                got = f"shape {shape} for the array" if shape is not None else repr(exc)
                raise ValueError(f"{expected}; it gave {got}.") from exc
            if value is None or value.shape != ():
                raise ValueError(f"{expected}; for {self.unit} {float(x)!r} it returned "
                                 f"{raw!r}.")
            values.append(float(value))
        return np.array(values)

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
