"""What every schedule shares: positions, the base class and the tree walker.

:class:`StepPositions` says where each update of a run stands (step, epoch,
sample, and the fraction of the fit's planned updates); :func:`_position`
reads one unit of it. :class:`Schedule` is the
base class: a parameter object whose ``_values(positions)`` maps positions
to float64 values in closed form. :func:`_walk_schedules` is the one walker
over a schedule and the schedules nested in its parameters; the checks of
composites (units of time, feedback inside) are built on it.
:func:`_breakpoints` validates sorted breakpoint parameters and
:func:`_check_schedule` is the estimator's check of a schedule parameter.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .._param_object import ParamObject

_UNITS = ("step", "epoch", "sample", "fraction")


def _as_float_vector(name, value):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"StepPositions.{name} must be 1-D, got shape {arr.shape}.")
    return arr


def _check_count(name, value, minimum):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _plan_fraction(step, plan):
    """The 'fraction' unit: ``(step - start) / (n - 1)`` for ``plan = (start, n)``.

    0 at the plan's first update and 1 at its last (0 for a plan of one
    update); past the plan it goes on above 1. None without a plan.
    """
    if plan is None:
        return None
    start, n_planned = plan
    return (step - float(start)) / float(max(int(n_planned) - 1, 1))


@dataclass(frozen=True, eq=False)
class StepPositions:
    """Where each optimizer update of a run of updates stands.

    All fields are float64 arrays of one length, one entry per update
    (``fraction`` may be None: positions that carry no plan).

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
    fraction : ndarray of shape (n_updates,) or None, default=None
        Progress through the fit's planned updates: 0 at the first planned
        update, 1 at the last (``max_iter`` epochs of updates for a
        ``fit``), above 1 past the plan. None when no plan is known; a
        schedule counting in ``'fraction'`` then raises.

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
    >>> StepPositions.grid(2, steps_per_epoch=3).fraction
    array([0. , 0.2, 0.4, 0.6, 0.8, 1. ])
    """

    step: np.ndarray
    epoch: np.ndarray
    sample: np.ndarray
    epoch_start_sample: np.ndarray
    fraction: np.ndarray = None

    def __post_init__(self):
        n = None
        for name in ("step", "epoch", "sample", "epoch_start_sample", "fraction"):
            if name == "fraction" and self.fraction is None:
                continue
            arr = _as_float_vector(name, getattr(self, name))
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
            if n is not None and arr.shape[0] != n:
                raise ValueError("All StepPositions fields must have the same length.")
            n = arr.shape[0]

    @classmethod
    def for_epoch(cls, *, step0, epoch, sample0, batch_sizes, plan_start=0,
                  planned_steps=None):
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
        plan_start : int, default=0
            Global index of the first update of the plan (the fit).
        planned_steps : int or None, default=None
            Number of updates the plan holds: the ``fraction`` of update
            ``s`` is ``(s - plan_start) / (planned_steps - 1)``. None gives
            positions without ``fraction``.

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
        plan = None
        if planned_steps is not None:
            plan = (_check_count("plan_start", plan_start, 0),
                    _check_count("planned_steps", planned_steps, 1))
        return cls._for_epoch(step0, epoch, sample0, sizes, plan)

    @classmethod
    def _with_epoch(cls, positions, epoch):
        """A copy of ``positions`` with its ``epoch`` field replaced."""
        self = object.__new__(cls)
        for name in ("step", "sample", "epoch_start_sample", "fraction"):
            object.__setattr__(self, name, getattr(positions, name))
        epoch = np.asarray(epoch, dtype=np.float64)
        epoch.flags.writeable = False
        object.__setattr__(self, "epoch", epoch)
        return self

    @classmethod
    def _for_epoch(cls, step0, epoch, sample0, sizes, plan=None):
        """:meth:`for_epoch` for checked arguments (the estimator's per-epoch path).

        ``plan``: ``(plan_start, planned_steps)`` or None.
        """
        n = sizes.shape[0]
        k = np.arange(n, dtype=np.float64)
        seen = np.cumsum(sizes, dtype=np.float64) - sizes
        step = step0 + k
        fields = {
            "step": step,
            "epoch": epoch + k / max(n, 1),
            "sample": sample0 + seen,
            "epoch_start_sample": np.full(n, float(sample0)),
            "fraction": _plan_fraction(step, plan),
        }
        self = object.__new__(cls)
        for name, arr in fields.items():
            if arr is not None:
                arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        return self

    @classmethod
    def grid(cls, n_epochs, steps_per_epoch=1, batch_size=1, *, planned_steps=None):
        """Positions of every update of a fresh run with constant batches.

        Parameters
        ----------
        n_epochs : int
            Number of epochs.
        steps_per_epoch : int, default=1
            Number of updates per epoch.
        batch_size : int, default=1
            Rows used by each update.
        planned_steps : int or None, default=None
            Number of updates of the plan that ``fraction`` spans; None
            means all ``n_epochs * steps_per_epoch``, so the last update is
            at fraction 1, as in a ``fit`` of ``max_iter=n_epochs``.

        Returns
        -------
        positions : StepPositions
            ``n_epochs * steps_per_epoch`` entries.
        """
        n_epochs = _check_count("n_epochs", n_epochs, 0)
        steps_per_epoch = _check_count("steps_per_epoch", steps_per_epoch, 1)
        batch_size = _check_count("batch_size", batch_size, 1)
        if planned_steps is None:
            planned_steps = max(n_epochs * steps_per_epoch, 1)
        planned_steps = _check_count("planned_steps", planned_steps, 1)
        step = np.arange(n_epochs * steps_per_epoch, dtype=np.float64)
        epoch_index = np.floor_divide(step, steps_per_epoch)
        k = step - epoch_index * steps_per_epoch
        return cls(
            step=step,
            epoch=epoch_index + k / steps_per_epoch,
            sample=step * batch_size,
            epoch_start_sample=epoch_index * (steps_per_epoch * batch_size),
            fraction=_plan_fraction(step, (0, planned_steps)),
        )

    def __len__(self):
        return self.step.shape[0]


def _position(positions, unit):
    """Return the position array of ``positions`` in ``unit``.

    Parameters
    ----------
    positions : StepPositions
        Positions of the updates.
    unit : {'step', 'epoch', 'sample', 'fraction'}
        Unit of time.

    Returns
    -------
    position : ndarray of shape (n_updates,)
        ``positions.step``, ``positions.epoch``, ``positions.sample`` or
        ``positions.fraction``.

    Raises
    ------
    ValueError
        For ``unit='fraction'`` when ``positions`` carry no plan.
    """
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of {_UNITS}, got {unit!r}.")
    position = getattr(positions, unit)
    if position is None:
        raise ValueError(
            "A schedule counting in unit='fraction' (a fraction of the fit's planned "
            "updates) needs positions that carry the plan: these StepPositions have "
            "no 'fraction'. Build them with StepPositions.grid, or for_epoch(..., "
            "planned_steps=...), or use preview(n_epochs, steps_per_epoch)."
        )
    return position


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

    #: Names of the parameters that are lengths or times in ``unit``: with
    #: ``unit='fraction'`` they must be at most 1 (see :meth:`_validate_params`).
    _lengths = ()

    def _validate_params(self):
        """Validate the parameters; with ``unit='fraction'``, lengths are at most 1.

        A length above 1 in ``'fraction'`` lies past the end of the fit, and is
        almost always a count of updates or epochs written without its unit
        (``OneCycle(total=500)``): it raises, naming the units to pass.
        """
        super()._validate_params()
        if getattr(self, "unit", None) != "fraction":
            return
        for name in self._lengths:
            try:
                value = np.asarray(getattr(self, name), dtype=np.float64)
            except (TypeError, ValueError):
                continue  # the subclass's own check reports it
            if np.any(value > 1):
                default = self._get_param_defaults().get("unit")
                which = " (the default)" if default == "fraction" else ""
                raise ValueError(
                    f"The {name!r} parameter of {type(self).__name__} is "
                    f"{getattr(self, name)!r}, but with unit='fraction'{which} it is "
                    "a fraction of the fit's planned updates (1 is the whole fit, "
                    "max_iter epochs), so at most 1. To count updates, epochs or "
                    "training rows, pass unit='step', 'epoch' or 'sample' with it."
                )

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

        Notes
        -----
        The run is the plan of a ``fit`` with ``max_iter=n_epochs``: in
        ``'fraction'`` units its first update is at 0 and its last at 1.
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

    def _shape_ends(self):
        """Where this schedule's shape ends, for the fit's check of its length.

        A shape meant to span training (a decay to a final value, a
        one-cycle) ends at a position past which it holds its final value;
        a fit that plans more updates than that trains its tail at that
        value, which the estimator warns about. Warm-ups and ramps (which
        end on purpose and hold their target), constants, periodic shapes
        and decays that go on have no end.

        Returns
        -------
        ends : list of (str, float)
            ``(unit, position)`` pairs: the shape is complete once the
            position in ``unit`` reaches ``position``. Empty by default.
        """
        return []

    def _own_time_units(self):
        """Units of time that this schedule reads itself.

        Not those of the schedules nested in it: :meth:`_time_units` adds
        them through :func:`_walk_schedules`. A schedule that reads a fixed
        unit without a ``unit`` parameter overrides this
        (:class:`InvScaling` counts rows seen: ``{'sample'}``).

        Returns
        -------
        units : set of str
            ``{unit}`` for a schedule with a ``unit`` parameter, else empty.
        """
        params = self.get_params(deep=False)
        return {params["unit"]} if "unit" in params else set()

    def _time_units(self):
        """Units of time that this schedule and the schedules inside it read.

        Returns
        -------
        units : set of str
            The union of :meth:`_own_time_units` over
            :func:`_walk_schedules`.
        """
        units = set()
        for schedule in _walk_schedules(self):
            units |= schedule._own_time_units()
        return units


def _walk_schedules(schedule):
    """Yield ``schedule`` and every schedule nested in it, depth first.

    The one walker over a schedule tree: every check of what a composite
    holds (units of time, feedback schedules inside) goes through it. It
    looks into each parameter value that is a schedule or a list or tuple
    holding schedules at any depth, such as the ``(schedule, length)``
    pairs of :class:`Sequence`.
    """
    yield schedule
    for value in schedule.get_params(deep=False).values():
        yield from _walk_value(value)


def _walk_value(value):
    """:func:`_walk_schedules` over each schedule held in a parameter value."""
    if isinstance(value, Schedule):
        yield from _walk_schedules(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk_value(item)


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
