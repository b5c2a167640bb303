"""Schedules built from other schedules.

:class:`Sequence` runs schedules one after another, each in its own local
time (optax's ``join_schedules``); :class:`Product` multiplies two
schedules (and is how a feedback schedule combines with a closed form);
:class:`PerEpoch` holds an epoch-unit schedule at its epoch-start value
for the whole epoch.
"""

import math
from numbers import Real

import numpy as np

from .._compat import InvalidParameterError, StrOptions
from ._base import _UNITS, Schedule, StepPositions, _position, _walk_schedules


class Sequence(Schedule):
    r"""Schedules one after another, each in its own local time.

    ``schedules`` lists ``(schedule, length)`` pairs and ends with a bare
    schedule that runs to the end of training. Segment :math:`k` starts at
    :math:`B_k = \sum_{j < k} \mathrm{length}_j` (in ``unit``) and sees
    time from its own start:

    .. math::

        m(t) = s_k(t - B_k) \quad \text{for} \quad B_k \le t < B_{k+1}

    as optax ``join_schedules`` (``where(t < boundary, ...)``): the update at
    :math:`t = B_k` belongs to segment :math:`k`. So ``Sequence([(
    LinearWarmup(5, unit='epoch'), 5), CosineAnnealing(95, unit='epoch')],
    unit='epoch')`` warms up over 5 epochs and then anneals over the next
    95, and PyTorch ``SequentialLR(opt, [s_0, s_1], milestones=[5])``
    stepped per epoch is the same construction.

    **Fractions of the fit** (``unit='fraction'``, the default). The
    lengths are fractions of the fit's planned updates, their sum below 1,
    and the last segment runs from their sum to 1. Each segment sees the
    fraction *of its own segment*, from 0 at its start to 1 at its end:

    .. math::

        m(t) = s_k\!\left(\frac{t - B_k}{L_k}\right), \qquad
        L_k = \mathrm{length}_k, \quad L_n = 1 - B_n

    so the schedules inside keep their defaults: ``Sequence([(
    LinearWarmup(), 0.05), CosineAnnealing()])`` warms up over the first 5%
    of the fit and anneals over the other 95%, whatever ``batch_size`` and
    ``max_iter``.

    **Local time.** The segments receive shifted :class:`StepPositions`:
    the field of ``unit`` (``step``, ``epoch``, ``sample`` or ``fraction``)
    minus :math:`B_k` (divided by :math:`L_k` for ``'fraction'``); with
    ``unit='sample'`` also ``epoch_start_sample`` minus
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
    unit : {'step', 'epoch', 'sample', 'fraction'}, default='fraction'
        Unit of time of the lengths, and of every schedule inside.

    Examples
    --------
    >>> from sklr.schedules import CosineAnnealing, LinearWarmup, Sequence
    >>> Sequence([(LinearWarmup(start_factor=0.5), 0.25),
    ...           CosineAnnealing()]).preview(9)
    array([0.5      , 0.75     , 1.       , 0.9330127, 0.75     , 0.5      ,
           0.25     , 0.0669873, 0.       ])
    >>> s = Sequence([(LinearWarmup(warmup=2, start_factor=0.5, unit='epoch'), 2),
    ...               CosineAnnealing(period=4, unit='epoch')], unit='epoch')
    >>> s.preview(7)
    array([0.5       , 0.75      , 1.        , 0.85355339, 0.5       ,
           0.14644661, 0.        ])
    """

    _parameter_constraints: dict = {
        "schedules": [list, tuple],
        "unit": [StrOptions(set(_UNITS))],
    }

    def __init__(self, schedules, unit="fraction"):
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

    def _scales(self):
        """Length of each segment that its local time is divided by.

        1 except in ``'fraction'``, where each segment sees the fraction of
        its own length (the last one's is 1 minus the others').
        """
        items = list(self.schedules)
        if self.unit != "fraction":
            return [1.0] * len(items)
        lengths = [float(length) for _, length in items[:-1]]
        return lengths + [1.0 - sum(lengths)]

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
        if self.unit == "fraction" and self._scales()[-1] <= 0:
            lengths = [length for _, length in items[:-1]]
            raise ValueError(
                f"The 'schedules' parameter of Sequence: the lengths {lengths} add "
                f"up to {sum(lengths)!r}, but with unit='fraction' (the default) they are "
                "fractions of the fit's planned updates and must add up to less "
                "than 1, leaving room for the last schedule. To count updates, "
                "epochs or training rows, pass unit='step', 'epoch' or 'sample' "
                "(on the Sequence and on the schedules inside)."
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

    def _local(self, positions, mask, start, scale=1.0):
        """The positions selected by ``mask``, shifted to start at ``start``
        (and divided by ``scale``)."""
        n = int(np.count_nonzero(mask))
        fields = {
            name: np.full(n, np.nan)
            for name in ("step", "epoch", "sample", "epoch_start_sample", "fraction")
        }
        fields[self.unit] = (_position(positions, self.unit)[mask] - start) / scale
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
        for k, ((schedule, start), scale) in enumerate(zip(segments, self._scales())):
            mask = index == k
            if np.any(mask):
                out[mask] = schedule._evaluate(self._local(positions, mask, start, scale))
        return out

    def _shape_ends(self):
        last, start = self._segments()[-1]
        scale = self._scales()[-1]
        return [(unit, start + scale * end) for unit, end in last._shape_ends()]


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

    def _shape_ends(self):
        return self.s1._shape_ends() + self.s2._shape_ends()

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
        The inner schedule; it (and every schedule inside it) must read
        time in epochs only: ``unit='epoch'``, and no :class:`InvScaling`
        (which counts rows seen). Its parameters are searchable as
        ``schedule__<name>``.

    Examples
    --------
    >>> from sklr.schedules import LinearWarmup, PerEpoch
    >>> warmup = LinearWarmup(warmup=2, start_factor=0.5, unit='epoch')
    >>> warmup.preview(2, steps_per_epoch=2)
    array([0.5  , 0.625, 0.75 , 0.875])
    >>> PerEpoch(warmup).preview(2, steps_per_epoch=2)
    array([0.5 , 0.5 , 0.75, 0.75])
    """

    _parameter_constraints: dict = {"schedule": [Schedule]}

    def __init__(self, schedule):
        self.schedule = schedule

    def _validate_params(self):
        super()._validate_params()
        self.schedule._validate_params()
        units = self.schedule._time_units()
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

    def _shape_ends(self):
        return [(unit, float(np.ceil(end))) for unit, end in self.schedule._shape_ends()]
