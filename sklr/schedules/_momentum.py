"""Momentum schedules: values that are absolute momenta, not multipliers.

Pass them as the estimator's ``momentum``: :class:`MomentumRamp` (H2O's
momentum ramp) and :class:`CyclicMomentum` (momentum cycled opposite to a
:class:`Cyclic` or :class:`OneCycle` learning-rate cycle).
"""

from numbers import Real

import numpy as np

from .._compat import Interval, StrOptions
from ._base import _UNITS, Schedule, _position
from ._closed_form import Cyclic, OneCycle


class MomentumRamp(Schedule):
    r"""Momentum ramped linearly from ``start`` to ``stable``, H2O-style.

    .. math::

        \mu(t) = \mu_0 + (\mu_\infty - \mu_0)\,\frac{\min(t, R)}{R}

    with :math:`\mu_0` = ``start``, :math:`\mu_\infty` = ``stable`` and
    :math:`R` = ``ramp``. The values are momenta, not multipliers: pass the
    schedule as the estimator's ``momentum``.

    H2O Deep Learning's ``momentum_start``, ``momentum_stable`` and
    ``momentum_ramp`` (in training samples: ``unit='sample'``); H2O's own
    defaults are 0, 0 and 1e6. Keras and PyTorch have no equivalent. By
    default the ramp spans the fit (``unit='fraction'``, ``ramp=1``).

    Parameters
    ----------
    start : float, default=0.5
        Momentum at :math:`t = 0`, in ``[0, 1]``.
    stable : float, default=0.99
        Momentum from :math:`t = R` on, in ``[0, 1]``.
    ramp : float, default=1.0
        Length :math:`R` of the ramp, in ``unit``; ``> 0`` (at most 1 in
        ``'fraction'``, where 1 is the whole fit).
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of ``ramp``.

    Examples
    --------
    >>> from sklr.schedules import MomentumRamp
    >>> MomentumRamp(start=0.5, stable=0.9, ramp=0.5).preview(5)
    array([0.5, 0.7, 0.9, 0.9, 0.9])
    >>> MomentumRamp(start=0.5, stable=0.9, ramp=200, unit='sample').preview(
    ...     5, batch_size=50)
    array([0.5, 0.6, 0.7, 0.8, 0.9])
    """

    _parameter_constraints: dict = {
        "start": [Interval(Real, 0, 1, closed="both")],
        "stable": [Interval(Real, 0, 1, closed="both")],
        "ramp": [Interval(Real, 0, None, closed="neither")],
        "unit": [StrOptions(set(_UNITS))],
    }

    _lengths = ("ramp",)

    def __init__(self, start=0.5, stable=0.99, ramp=1.0, unit="fraction"):
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

    def _shape_ends(self):
        return self.cycle._shape_ends()

    def _values(self, positions):
        top = float(self.max_momentum)
        return top - (top - float(self.base_momentum)) * self.cycle._phase(positions)
