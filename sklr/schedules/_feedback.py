"""Feedback schedules: multipliers the estimator updates between epochs.

:class:`ReduceOnPlateau` (Keras' and PyTorch's plateau rule) and
:class:`Adaptive` (scikit-learn's ``learning_rate='adaptive'``), both
:class:`FeedbackSchedule` subclasses.

The feedback protocol
---------------------
A feedback schedule holds configuration only, like every schedule; the
caller (the estimator) holds its state, a plain ``dict`` that pickles, so
``warm_start`` and ``partial_fit`` resume from it. Its :meth:`~Schedule.values`
are the multipliers before any feedback (ones), and:

``state = schedule.init_state()``
    The state before the first epoch.
``state = schedule.update(state, monitored)``
    After each epoch. ``monitored`` is the dict of the values recorded for
    that epoch, such as ``{'loss': ..., 'val_loss': ..., 'val_score': ...}``;
    each schedule reads the keys it needs (:class:`ReduceOnPlateau` reads
    its ``monitor``; it also accepts that value alone, as a float). Pure:
    it returns a new dict and changes neither ``state`` nor the schedule.
``schedule.scale(state)``
    The factor multiplying the rate of every update of the next epoch, on
    top of :meth:`~Schedule.values`: ``lr = learning_rate_init * scale *
    values``. It is 1 in the initial state.
``state, stop = schedule.on_stall(state, base_rate)`` (:class:`Adaptive` only)
    When the estimator's stopping criterion fires (``n_iter_no_change``
    epochs without an improvement of ``tol``), instead of stopping:
    scikit-learn's rule, with ``base_rate`` the rate before any feedback
    (``learning_rate_init``). Also pure.

A schedule tree may hold several feedback schedules (as factors of a
:class:`Product`); ``schedule._feedback_schedules()`` lists them and their
scales multiply. They cannot be segments of a :class:`Sequence` nor sit
inside a :class:`PerEpoch`.

The private ``_init_state`` and ``_update(state, monitored)`` are the same
functions without validating the parameters again, for a caller that
validated the schedule once per fit; a fit starts the state with
``_fit_state(direction)``, where ``direction(key)`` says whether a key of its
record is minimised or maximised (its ``scoring`` knows), so that
``ReduceOnPlateau(mode='auto')`` can watch any metric the fit records.

The trainer (``sklr/_trainer.py``, through ``sklr/_plan.py``) feeds every
feedback schedule the epoch's record with ``_update`` after each epoch and
multiplies the rate by the product of their scales; when scikit-learn's
stopping criterion fires and the learning rate holds an :class:`Adaptive`,
it calls :meth:`Adaptive.on_stall` instead of stopping. ``learning_rate_init
* scale`` may differ from scikit-learn's rate (divided by 5 again and again)
in the last bit, while ``on_stall`` decides when to stop on scikit-learn's
rate exactly.
"""

import math
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions
from ._base import Schedule, StepPositions

#: scikit-learn's 'adaptive' stops instead of reducing a rate at most this.
_ADAPTIVE_MIN_RATE = 1e-6
#: ... and otherwise divides the rate by this.
_ADAPTIVE_DIVISOR = 5.0
#: What mode='auto' knows without a fit: the losses and scores every fit records.
_KNOWN_MODES = {"loss": "min", "val_loss": "min", "score": "max", "val_score": "max"}


class FeedbackSchedule(Schedule):
    """Base class of the schedules the estimator updates between epochs.

    The schedule holds configuration only and the caller holds a state
    dict: ``state = init_state()`` before the first epoch, ``state =
    update(state, monitored)`` after each epoch (pure; ``monitored`` is the
    dict of the epoch's recorded values, such as ``{'loss': ...,
    'val_loss': ..., 'val_score': ...}``), and ``scale(state)``, the factor
    multiplying the next epoch's rates on top of :meth:`values` (ones).

    Subclasses implement ``_init_state()`` (a dict with a ``'scale'`` key)
    and ``_update(state, monitored)`` (pure); the public :meth:`init_state`
    and :meth:`update` validate the parameters, then call them.

    Examples
    --------
    >>> from sklr.schedules import ReduceOnPlateau
    >>> s = ReduceOnPlateau(factor=0.5, patience=0, monitor='loss')
    >>> state = s.init_state()
    >>> s.scale(state)
    1.0
    >>> state = s.update(state, {'loss': 2.0, 'val_loss': 3.0})
    >>> state = s.update(state, {'loss': 2.5, 'val_loss': 2.0})
    >>> s.scale(state)
    0.5
    """

    is_feedback = True

    def _values(self, positions):
        return np.ones(len(positions))

    def init_state(self):
        """State before the first epoch.

        Returns
        -------
        state : dict
            A new dictionary, with ``'scale'`` 1.0.
        """
        self._validate_params()
        return self._init_state()

    def _init_state(self):
        return {"scale": 1.0}

    def _fit_state(self, direction):
        """The state a fit starts from; ``direction(key)`` is 'min', 'max' or
        None for a key of the fit's record (see :class:`ReduceOnPlateau`)."""
        return self._init_state()

    def update(self, state, monitored):
        """State after one epoch, from the values recorded for it.

        A pure function: ``state`` is not modified and nothing is stored on
        the schedule.

        Parameters
        ----------
        state : dict
            State from :meth:`init_state` or a previous :meth:`update`.
        monitored : dict
            Values recorded for the epoch just finished, such as
            ``{'loss': ..., 'val_loss': ..., 'val_score': ...}``.

        Returns
        -------
        new_state : dict
            A new dictionary.
        """
        self._validate_params()
        return self._update(state, monitored)

    def _update(self, state, monitored):
        """:meth:`update` without validating the parameters."""
        return dict(state)

    def scale(self, state):
        """Factor multiplying the rate while ``state`` is current.

        Parameters
        ----------
        state : dict
            State from :meth:`init_state`, :meth:`update` (or
            :meth:`Adaptive.on_stall`).

        Returns
        -------
        scale : float
            ``state['scale']``.
        """
        return float(state["scale"])


class Adaptive(FeedbackSchedule):
    r"""scikit-learn's ``learning_rate='adaptive'``: reduce on plateau.

    Before any feedback the multiplier is constant,

    .. math::

        m = 5^{-r}

    where :math:`r` is the number of reductions made so far, kept in the
    state that the estimator carries (the protocol of
    :class:`FeedbackSchedule`): :meth:`values` returns 1 and
    ``scale(state)`` is :math:`5^{-r}`. Adaptive reads no monitored value,
    so :meth:`update` returns the state unchanged. Exactly as
    scikit-learn's SGD solver, after each epoch the estimator counts
    consecutive epochs in which the training loss fails to decrease by at
    least ``tol`` below its best value (with ``early_stopping``, in which
    the validation score fails to increase by at least ``tol`` above its
    best). When that count exceeds ``n_iter_no_change``, the rule of
    :meth:`on_stall` applies: stop if the current rate is already at most
    ``1e-6``; otherwise divide the current rate by 5, reset the count and
    go on training.

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

    _parameter_constraints: dict = {}

    def __init__(self):
        pass

    def _init_state(self):
        return {"scale": 1.0, "reductions": 0}

    def on_stall(self, state, base_rate):
        """State after the stopping criterion fires, and whether to stop.

        scikit-learn's ``SGDOptimizer.trigger_stopping``: the current rate
        is ``base_rate`` divided by 5 once per reduction made so far. If it
        is at most ``1e-6``, stop and keep the state; otherwise divide it by
        5 (the scale too) and go on training. A pure function.

        Parameters
        ----------
        state : dict
            State from :meth:`init_state` or a previous call.
        base_rate : float
            Rate before any reduction (``learning_rate_init``).

        Returns
        -------
        new_state : dict
            A new dictionary: ``'reductions'`` one more and ``'scale'``
            divided by 5, or equal to ``state`` when stopping.
        stop : bool
            Whether to stop training.

        Examples
        --------
        >>> from sklr.schedules import Adaptive
        >>> s = Adaptive()
        >>> state, stop = s.on_stall(s.init_state(), base_rate=1e-5)
        >>> state, stop
        ({'scale': 0.2, 'reductions': 1}, False)
        >>> s.on_stall(state, base_rate=1e-5)  # the rate is 2e-6: reduce
        ({'scale': 0.04, 'reductions': 2}, False)
        >>> s.on_stall({'scale': 0.04, 'reductions': 2}, base_rate=1e-5)  # 4e-7: stop
        ({'scale': 0.04, 'reductions': 2}, True)
        """
        reductions = int(state["reductions"])
        # The rate as scikit-learn computes it, divided once per reduction:
        # base_rate * scale may differ from it in the last bit, which
        # matters exactly at the threshold (e.g. base_rate=1.25e-4).
        rate = float(base_rate)
        for _ in range(reductions):
            rate /= _ADAPTIVE_DIVISOR
        new = dict(state)
        if rate <= _ADAPTIVE_MIN_RATE:
            return new, True
        new.update(
            scale=float(state["scale"]) / _ADAPTIVE_DIVISOR, reductions=reductions + 1
        )
        return new, False


class ReduceOnPlateau(FeedbackSchedule):
    r"""Reduce the rate when a monitored quantity stops improving.

    The multiplier starts at :math:`m_0 = 1` and each reduction sets

    .. math::

        m \leftarrow \max(\mathrm{factor} \cdot m,\ \mathrm{min\_value})

    :meth:`values` returns the multipliers before feedback (ones); the
    estimator carries the state (the protocol of :class:`FeedbackSchedule`).
    It calls ``state = init_state()`` before the first epoch and, after
    each epoch, the pure function ``state = update(state, monitored)`` with
    that epoch's recorded values (a dict, of which ``monitored[monitor]``
    is read, or that value alone); the next epoch's multipliers are
    multiplied by ``scale(state)``, that is ``state['scale']``.

    ``monitor`` is any key the fit records in ``history_``; ``mode`` says
    whether it should go down (``'min'``) or up (``'max'``). With
    ``'auto'`` the losses (``'loss'``, ``'val_loss'``) are minimised and the
    scores maximised: ``'score'``, ``'val_score'`` and, inside a fit, every
    metric its ``scoring`` records (``'<name>'``, ``'val_<name>'``), since
    scikit-learn scorers are greater-is-better (``'val_neg_log_loss'`` is
    maximised). For any other key ``'auto'`` raises: pass the mode.

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

    Two rules of Keras' ``EarlyStopping``: epochs before
    ``start_from_epoch`` are ignored (not counted, not the best), and with a
    ``baseline`` an improvement on the best clears the count only if the
    value also beats the baseline (by the same threshold); otherwise it
    counts as a bad epoch. With ``patience_convention='keras'`` such an
    epoch, as in ``EarlyStopping``, does not reduce the rate itself (the next
    bad epoch may); with ``'pytorch'`` it is a bad epoch like any other.

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
    monitor : str, default='val_loss'
        Key of the epoch's record that :meth:`update` reads: ``'loss'``,
        ``'val_loss'``, ``'score'``, ``'val_score'``, a metric of the
        estimator's ``scoring`` (``'val_<name>'``, or ``'<name>'`` with
        ``record_train_score=True``), or any other key of ``history_``
        (with an explicit ``mode``). The ``val_`` keys need validation data:
        ``fit(X, y, X_val=..., y_val=...)`` or ``early_stopping=True``.
    patience_convention : {'pytorch', 'keras'}, default='pytorch'
        Which framework's counting rule to follow (see above).
    mode : {'auto', 'min', 'max'}, default='auto'
        Whether the monitored value should decrease or increase (Keras'
        ``mode``); 'auto' infers it as described above.
    baseline : float, default=None
        A value the monitor must beat (by ``threshold``) before an
        improvement clears the count of bad epochs (Keras' ``EarlyStopping``
        ``baseline``). None: no baseline.
    start_from_epoch : int, default=0
        Number of epochs ignored at the start (Keras' ``EarlyStopping``
        ``start_from_epoch``), counted from the first epoch the state saw:
        ``warm_start`` and ``partial_fit`` continue the count.

    Examples
    --------
    >>> from sklr.schedules import ReduceOnPlateau
    >>> s = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0)
    >>> s.preview(6, monitored=[3.0, 2.0, 2.0, 2.0, 2.0, 1.0])
    array([1. , 1. , 1. , 1. , 0.5, 0.5])
    >>> state = s.init_state()
    >>> state = s.update(state, 3.0)
    >>> state
    {'best': 3.0, 'bad_epochs': 0, 'cooldown_counter': 0, 'scale': 1.0,
     'mode': 'min', 'epochs': 1}

    A validation accuracy that must pass 0.9 before it counts as progress:

    >>> s = ReduceOnPlateau(factor=0.5, patience=2, threshold=0.0,
    ...                     monitor='val_accuracy', mode='max', baseline=0.9)
    >>> s.preview(5, monitored=[0.5, 0.6, 0.7, 0.8, 0.95])
    array([1. , 1. , 1. , 0.5, 0.5])
    """

    _parameter_constraints: dict = {
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "threshold_mode": [StrOptions({"rel", "abs"})],
        "cooldown": [Interval(Integral, 0, None, closed="left")],
        "min_value": [Interval(Real, 0, 1, closed="both")],
        "monitor": [str],
        "patience_convention": [StrOptions({"pytorch", "keras"})],
        "mode": [StrOptions({"auto", "min", "max"})],
        "baseline": [Real, None],
        "start_from_epoch": [Interval(Integral, 0, None, closed="left")],
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
        mode="auto",
        baseline=None,
        start_from_epoch=0,
    ):
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_value = min_value
        self.monitor = monitor
        self.patience_convention = patience_convention
        self.mode = mode
        self.baseline = baseline
        self.start_from_epoch = start_from_epoch

    def _validate_params(self):
        super()._validate_params()
        if self.threshold_mode == "rel" and self.threshold >= 1:
            raise ValueError(
                "The 'threshold' parameter of ReduceOnPlateau must be < 1 with "
                f"threshold_mode='rel', got {self.threshold!r}."
            )

    def _resolve_mode(self, direction=None):
        """'min' or 'max': ``mode``, or what 'auto' infers for ``monitor``.

        ``direction(key)`` (a fit's: 'min', 'max' or None) knows the
        metrics of the estimator's ``scoring``; without it only the losses
        and scores every fit records are known.
        """
        if self.mode != "auto":
            return self.mode
        mode = direction(self.monitor) if direction is not None else None
        mode = mode or _KNOWN_MODES.get(self.monitor)
        if mode is None:
            raise ValueError(
                f"ReduceOnPlateau(monitor={self.monitor!r}, mode='auto') cannot tell "
                "whether the monitored value should go down or up: pass mode='min' "
                "or mode='max'. 'auto' minimises the losses ('loss', 'val_loss') and "
                "maximises the scores ('score', 'val_score' and the metrics of the "
                "estimator's scoring, '<name>' and 'val_<name>': scikit-learn "
                "scorers are greater-is-better)."
            )
        return mode

    def _is_better(self, value, best, mode):
        threshold = float(self.threshold)
        if mode == "max":
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
            'cooldown_counter': 0, 'scale': 1.0, 'mode': 'min' or 'max',
            'epochs': 0}``.
        """
        return super().init_state()

    def _init_state(self, direction=None):
        mode = self._resolve_mode(direction)
        return {
            "best": -math.inf if mode == "max" else math.inf,
            "bad_epochs": 0,
            "cooldown_counter": 0,
            "scale": 1.0,
            "mode": mode,
            "epochs": 0,
        }

    def _fit_state(self, direction):
        return self._init_state(direction)

    def update(self, state, monitored):
        """State after observing the monitored value of one epoch.

        A pure function: ``state`` is not modified and nothing is stored on
        the schedule.

        Parameters
        ----------
        state : dict
            State from :meth:`init_state` or a previous :meth:`update`.
            Keys other than the four of :meth:`init_state` are carried over
            unchanged.
        monitored : dict or float
            Values recorded for the epoch just finished, of which
            ``monitored[monitor]`` is read, or that value alone.

        Returns
        -------
        new_state : dict
            A new dictionary; its ``'scale'`` is the multiplier for the next
            epoch.
        """
        self._validate_params()
        return self._update(state, monitored)

    def _update(self, state, monitored):
        """:meth:`update` without validating the parameters (the estimator
        validates once per fit)."""
        if isinstance(monitored, Mapping):
            if self.monitor not in monitored:
                raise KeyError(
                    f"ReduceOnPlateau(monitor={self.monitor!r}) needs "
                    f"monitored[{self.monitor!r}]; got the keys {sorted(monitored)}."
                )
            monitored = monitored[self.monitor]
        value = float(monitored)
        new = dict(state)
        # States saved before 'mode' and 'epochs' existed: the names' modes.
        mode = state.get("mode") or self._resolve_mode()
        seen = int(state.get("epochs", 0))
        new.update(mode=mode, epochs=seen + 1)
        if seen < self.start_from_epoch:
            return new
        best = float(state["best"])
        bad = int(state["bad_epochs"])
        cooldown = int(state["cooldown_counter"])
        scale = float(state["scale"])
        floor = float(self.min_value)
        reduce = False
        better = self._is_better(value, best, mode)
        # An improvement clears the count only if it beats the baseline too.
        progress = better and (
            self.baseline is None or self._is_better(value, float(self.baseline), mode))
        if self.patience_convention == "pytorch":
            if better:
                best = value
            bad = 0 if progress else bad + 1
            if cooldown > 0:
                cooldown -= 1
                bad = 0
            reduce = bad > self.patience
        else:
            if cooldown > 0:
                cooldown -= 1
                bad = 0
            if better:
                best = value
            if progress:
                bad = 0
            elif cooldown == 0:
                bad += 1
                # EarlyStopping: an improvement short of the baseline counts
                # but does not act.
                reduce = not better and bad >= self.patience and scale > floor
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
