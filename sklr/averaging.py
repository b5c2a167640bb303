r"""Weight averaging: an exponential moving average or stochastic weight averaging.

Pass one of these objects as an estimator's ``averaging``. Training goes on
with the raw weights (the optimizer's iterate); beside them the fit keeps an
averaged copy, updated after every update (:class:`EMA`) or after every
epoch from a start epoch on (:class:`SWA`). With
``use_averaged_weights=True`` (the default) the averaged weights are the
model: ``coefs_``/``intercepts_`` show them, and so ``predict``,
``predict_proba``, ``score`` and the per-epoch validation scores of
``history_`` use them; ``raw_coefs_``/``raw_intercepts_`` show the raw
weights and ``averaged_coefs_``/``averaged_intercepts_`` the averaged ones
(read-only views). Training always continues from the raw weights, and the
average and its count live in the fit-time state, so ``partial_fit``,
``warm_start`` and pickling resume both.

Until averaging starts (before ``start_step`` updates, or ``start_epoch``
epochs) the averaged weights are the raw ones. ``loss_curve_`` and
``history_['loss']`` are the training loss of the raw weights, measured
during the epoch as always.

Like schedules and optimizers, these objects hold configuration only and
are searchable (``averaging__momentum``).
"""

from numbers import Integral, Real

import numpy as np

from sklr._compat import Interval
from sklr._param_object import ParamObject

__all__ = ["EMA", "SWA", "WeightAveraging"]


class WeightAveraging(ParamObject):
    """Base class of the weight-averaging objects (configuration only).

    A subclass says, per epoch, the EMA momentum of each update
    (:meth:`_ema_steps`, or None when it averages per epoch) and what
    happens after the epoch (:meth:`_after_epoch`). The state (the averaged
    buffer ``average`` and the count ``n_averaged`` of averaged points) lives
    in the estimator's training state.
    """

    def _ema_steps(self, n_updates, n_steps, n_averaged):
        """EMA momentum of each of the epoch's ``n_steps`` updates, or None.

        ``n_updates``: updates done before the epoch. A value < 0 leaves the
        average, 0 copies the weights, m in (0, 1] averages with momentum m.
        """
        return None

    def _after_epoch(self, average, params, n_epochs, n_averaged, ema_steps):
        """Update ``average`` in place after epoch ``n_epochs`` (1-based, global).

        Returns the new count of averaged points.
        """
        raise NotImplementedError


class EMA(WeightAveraging):
    r"""Exponential moving average of the weights, updated after every update.

    After update :math:`k` (counted over the estimator's life, from 1):

    .. math::

        \bar w_k =
        \begin{cases}
        w_k & k = s + 1 \\
        m\, \bar w_{k-1} + (1 - m)\, w_k & k > s + 1
        \end{cases}

    with :math:`m` = ``momentum`` and :math:`s` = ``start_step``; before
    that the averaged weights are the raw ones. The update runs in the Cython
    kernel, in the weights' dtype (``m`` cast to it, ``1 - m`` computed in
    it), as one extra pass over the weights per update.

    With ``start_step=0`` this is exactly Keras 3's optimizer option
    ``use_ema=True, ema_momentum=m`` (``BaseOptimizer``: after each update,
    ``average = momentum * average + (1 - momentum) * variable`` with
    ``momentum = 0`` at ``iterations == 0``, the same expression and order)
    and PyTorch's ``AveragedModel(model,
    multi_avg_fn=get_ema_multi_avg_fn(decay=m))`` with ``update_parameters``
    called after every ``optimizer.step()`` (its first call copies the
    weights; it then computes ``lerp``, equal to rounding). Keras's
    ``ema_overwrite_frequency`` (copying the average back into the training
    weights) is not reproduced; Keras copies the average into the model at
    the end of ``fit``, which is what ``use_averaged_weights=True`` shows.

    Parameters
    ----------
    momentum : float, default=0.99
        Momentum :math:`m` (Keras ``ema_momentum``, PyTorch ``decay``), in
        [0, 1].
    start_step : int, default=0
        Updates trained before averaging starts (:math:`s`).

    Examples
    --------
    >>> from sklr import MLPClassifier
    >>> from sklr.averaging import EMA
    >>> clf = MLPClassifier(averaging=EMA(momentum=0.999))
    """

    _parameter_constraints: dict = {
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "start_step": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, momentum=0.99, start_step=0):
        self.momentum = momentum
        self.start_step = start_step

    def _ema_steps(self, n_updates, n_steps, n_averaged):
        k = n_updates + 1 + np.arange(n_steps)  # the 1-based count after each update
        steps = np.where(k > self.start_step, float(self.momentum), -1.0)
        first = np.flatnonzero(steps >= 0)
        if n_averaged == 0 and first.size:
            steps[first[0]] = 0.0
        return steps

    def _after_epoch(self, average, params, n_epochs, n_averaged, ema_steps):
        return n_averaged + int(np.count_nonzero(ema_steps >= 0))


class SWA(WeightAveraging):
    r"""Stochastic weight averaging: the equal-weight mean of end-of-epoch weights.

    After epoch :math:`e` (counted over the estimator's life, from 1), when
    :math:`e > s` and :math:`(e - s)` is a multiple of ``frequency``, the
    epoch's weights :math:`w_e` join the mean:

    .. math::

        \bar w \leftarrow \bar w + \frac{w_e - \bar w}{n + 1},
        \qquad n \leftarrow n + 1

    with :math:`s` = ``start_epoch`` and :math:`n` the number of weights
    averaged so far (the first one is copied). Until then the averaged
    weights are the raw ones.

    With ``frequency=1`` this is PyTorch's ``AveragedModel(model)`` (its
    default average, ``torch.optim.swa_utils``) in the loop of its
    documentation: ``if epoch >= swa_start: swa_model.update_parameters(model)``
    after each epoch (``epoch`` from 0), with ``swa_start`` =
    ``start_epoch``. PyTorch computes ``lerp`` with weight ``1 / (n + 1)``,
    equal to rounding. ``SWALR`` is a learning-rate schedule, not part of
    the average: see :ref:`user_guide_averaging` for the equivalent
    :class:`~sklr.schedules.Sequence`.

    Parameters
    ----------
    start_epoch : int, default=0
        Epochs trained before the first averaged one (PyTorch ``swa_start``).
    frequency : int, default=1
        Average every ``frequency``-th epoch from there (the SWA paper's
        cycle length, in epochs).

    Examples
    --------
    >>> from sklr import MLPRegressor
    >>> from sklr.averaging import SWA
    >>> reg = MLPRegressor(solver="sgd", averaging=SWA(start_epoch=75))
    """

    _parameter_constraints: dict = {
        "start_epoch": [Interval(Integral, 0, None, closed="left")],
        "frequency": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, start_epoch=0, frequency=1):
        self.start_epoch = start_epoch
        self.frequency = frequency

    def _after_epoch(self, average, params, n_epochs, n_averaged, ema_steps):
        since = n_epochs - self.start_epoch
        if since <= 0 or since % self.frequency:
            return n_averaged
        if n_averaged == 0:
            average[...] = params
        else:
            average += (params - average) / average.dtype.type(n_averaged + 1)
        return n_averaged + 1
