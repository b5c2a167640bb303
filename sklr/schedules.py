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
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ._compat import Interval, StrOptions
from ._param_object import ParamObject

__all__ = [
    "Adaptive",
    "Constant",
    "InvScaling",
    "Schedule",
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
        n = sizes.shape[0]
        k = np.arange(n, dtype=np.float64)
        seen = np.cumsum(sizes, dtype=np.float64) - sizes
        return cls(
            step=step0 + k,
            epoch=epoch + k / max(n, 1),
            sample=sample0 + seen,
            epoch_start_sample=np.full(n, float(sample0)),
        )

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
