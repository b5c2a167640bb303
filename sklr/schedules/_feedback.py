"""Feedback schedules: multipliers the estimator updates between epochs.

:class:`ReduceOnPlateau` (Keras' and PyTorch's plateau rule) and
:class:`Adaptive` (scikit-learn's ``learning_rate='adaptive'``).
"""

import math
from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions
from ._base import Schedule, StepPositions

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
