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
  H2O and scikit-learn's ``'invscaling'`` count;
- ``'fraction'``: the fraction of the fit's planned updates (``max_iter``
  epochs of updates), 0 at the first and 1 at the last.

One rule sets the default: a shape that has an end (:class:`OneCycle`,
:class:`CosineAnnealing`, :class:`PolynomialDecay`, :class:`LinearDecay`,
:class:`LinearWarmup`, :class:`WarmupStableDecay`, :class:`MomentumRamp`
and :class:`Sequence`) spans the fit: ``unit='fraction'`` with length 1.
Every other schedule (decays that go on, steps, cycles, restarts,
:class:`Lambda`) counts epochs. A length given in another unit needs that
unit: ``OneCycle(total=500, unit='step')``; ``OneCycle(total=500)`` raises.

The schedules come in four kinds, one private module each (every name is
imported from here, ``sklr.schedules``):

- closed-form multipliers (``_closed_form.py``): :class:`Constant`,
  :class:`InvScaling`, :class:`InverseTimeDecay`, :class:`StepDecay`,
  :class:`MultiStepDecay`, :class:`PiecewiseConstant`,
  :class:`ExponentialDecay`, :class:`PolynomialDecay`, :class:`LinearDecay`,
  :class:`CosineAnnealing`, :class:`CosineWarmRestarts`, :class:`Cyclic`,
  :class:`OneCycle`, :class:`LinearWarmup`, :class:`WarmupStableDecay` and
  :class:`Lambda`;
- compositions (``_compose.py``): :class:`Sequence` (segments in local
  time), :class:`Product` and :class:`PerEpoch`;
- feedback schedules (``_feedback.py``), which the estimator updates
  between epochs from the loss or the validation score through the
  protocol of their base class :class:`FeedbackSchedule`:
  :class:`Adaptive` and :class:`ReduceOnPlateau`;
- momentum schedules (``_momentum.py``), whose values are absolute momenta
  rather than multipliers: :class:`MomentumRamp` and :class:`CyclicMomentum`.

``_base.py`` holds what they share: :class:`StepPositions`, the
:class:`Schedule` base class and the walker over nested schedules.
"""

from ._base import Schedule, StepPositions
from ._base import _check_schedule  # noqa: F401 (the estimator imports it from here)
from ._closed_form import (
    Constant,
    CosineAnnealing,
    CosineWarmRestarts,
    Cyclic,
    ExponentialDecay,
    InverseTimeDecay,
    InvScaling,
    Lambda,
    LinearDecay,
    LinearWarmup,
    MultiStepDecay,
    OneCycle,
    PiecewiseConstant,
    PolynomialDecay,
    StepDecay,
    WarmupStableDecay,
)
from ._compose import PerEpoch, Product, Sequence
from ._feedback import Adaptive, FeedbackSchedule, ReduceOnPlateau
from ._momentum import CyclicMomentum, MomentumRamp

__all__ = [
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
]

# The public classes live at their public path: pickles, reprs of type
# constraints and the doctests of ``sklr.schedules`` name
# ``sklr.schedules.<Name>``, not the private module that defines it, so
# the layout of this package can change without breaking saved models.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
