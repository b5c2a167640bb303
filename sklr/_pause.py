"""Pause a fit at the end of an epoch and resume it later, exactly.

A ``fit`` planned for ``max_iter`` epochs can stop after epoch ``k`` and
continue later as if it had never stopped: the same weights, optimizer state,
shuffling stream, validation split, stopping counters and schedule positions
(a schedule counted in ``unit='fraction'`` stays planned over ``max_iter``
epochs), so that the fit that resumes ends bit for bit where one
uninterrupted fit of ``max_iter`` epochs ends. Successive halving over epochs
(:class:`sklr.model_selection.EpochHalvingSearchCV`) is built on it.

The machinery is the one a checkpoint uses to resume a fit interrupted by
Ctrl-C (:mod:`sklr._checkpoint`): the paused call leaves the *resume record*
of its last epoch in the training state, and a ``warm_start`` fit on the
same data consumes it. A pause is requested through a private
:class:`FitControl` that the functions here attach to the estimator for the
duration of one ``fit`` call; the training loop honours it after an epoch
has committed, and returns without the end-of-fit work (no restoration of
the best weights, no ConvergenceWarning, no end-of-fit checkpoint).

Functions:

- :func:`advance`: start, or resume, a fit and pause it after a given epoch
  of that fit (or let it finish).
- :func:`is_paused`: whether an estimator holds a paused fit.
- :func:`as_if_ended`: the model the fit would give if it ended now (its
  best weights put back when ``restore_best_weights`` applies).
- :func:`cooled_copy`: a throw-away copy trained a few more epochs with its
  learning rate decayed linearly towards zero (the rung cooldown of
  warmup-stable-decay schedules).
"""

import contextlib
import copy
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklr._trainer import restore_best, restores_best

__all__ = ["FitControl", "advance", "as_if_ended", "cooled_copy", "is_paused"]


class FitControl:
    """Private instructions for one ``fit`` call of a stochastic solver.

    Parameters
    ----------
    pause_after : int or None
        Pause once the call's epoch count (``n_iter_``, which a resumed fit
        continues) reaches it, unless the fit ends there anyway
        (``max_iter``, or stopped).
    cooldown : tuple of (int, int) or None
        ``(first_epoch, n_epochs)``: the updates from global epoch
        ``first_epoch`` on decay linearly. Update ``i`` of ``n`` in the
        ``e``-th epoch of the cooldown (``e = 0, 1, ...``) runs at
        ``1 - (e + i / n) / n_epochs`` times the rate the schedules give
        (0 from epoch ``first_epoch + n_epochs`` on): 1 at the first update,
        ``1 / J`` at the last of ``J`` updates.
    """

    def __init__(self, pause_after=None, cooldown=None):
        self.pause_after = pause_after
        self.cooldown = cooldown

    @property
    def can_pause(self):
        return self.pause_after is not None

    def pauses_after(self, n_iter, max_iter):
        """Whether the loop pauses after its epoch ``n_iter`` of ``max_iter``."""
        return self.pause_after is not None and self.pause_after <= n_iter < max_iter

    def scale_rates(self, lr, n_epochs):
        """The per-update rates ``lr`` of the epoch after ``n_epochs`` global epochs,
        times the cooldown factors."""
        if self.cooldown is None:
            return lr
        start, length = self.cooldown
        position = (n_epochs - start) + np.arange(len(lr)) / len(lr)
        factor = np.clip(1.0 - position / length, 0.0, 1.0)
        return np.ascontiguousarray(lr * factor, dtype=np.float64)


@contextlib.contextmanager
def _controlled(est, control, warm_start):
    """Attach ``control`` (and a ``warm_start`` value) to ``est`` for one call."""
    saved = est.warm_start
    est.warm_start = warm_start
    est.__dict__["_fit_control"] = control
    try:
        yield
    finally:
        est.__dict__.pop("_fit_control", None)
        est.warm_start = saved


def is_paused(est):
    """Whether ``est`` holds a fit paused (or interrupted) that ``warm_start`` resumes."""
    log = getattr(est.__dict__.get("_state"), "checkpoint", None)
    return bool(log) and log.get("resume") is not None


def advance(est, X, y, until, **fit_params):
    """Fit ``est`` up to epoch ``until`` of a fit planned for ``est.max_iter`` epochs.

    An unfitted estimator starts a fresh fit; one holding a paused fit
    resumes it; one whose fit has ended (it ran ``max_iter`` epochs or
    stopped early) is left as it is. The fit pauses after its epoch
    ``until`` (``until >= est.max_iter`` lets it finish). Resuming needs the
    data of the first call: same ``X``, ``y`` and fit parameters.

    Parameters
    ----------
    est : MLPClassifier or MLPRegressor
        With a stochastic solver (L-BFGS cannot pause).
    X, y : array-like
        Training data.
    until : int
        The epoch of the fit after which to pause.
    **fit_params : dict
        Passed to ``est.fit`` (``sample_weight``, ``X_val``, ...).

    Returns
    -------
    est : estimator
        ``est``, modified in place. ``est.n_iter_`` counts the epochs of the
        whole fit so far. The ConvergenceWarning of a fit that runs its
        ``max_iter`` epochs is raised by the call that ends it, once.
    """
    if "_state" not in est.__dict__:
        warm_start = False
    elif is_paused(est):
        warm_start = True
    else:
        return est  # ended: nothing left to run
    with _controlled(est, FitControl(pause_after=int(until)), warm_start):
        est.fit(X, y, **fit_params)
    return est


def as_if_ended(est):
    """The model ``est``'s paused fit would be if it ended now.

    A fit ends by putting back its best weights when ``restore_best_weights``
    says so (early stopping's best validation score, by default); a paused
    fit has not done that yet. Returns ``est`` itself when there is nothing
    to put back, else a deep copy with the best weights put back.
    """
    if not is_paused(est) or not restores_best(est):
        return est
    ended = copy.deepcopy(est)
    record = ended._state.checkpoint["resume"]
    restore_best(ended, record["best_val"], True)
    ended._set_flat_params(ended._params)
    ended._state.checkpoint["resume"] = None
    return ended


def cooled_copy(est, X, y, epochs, **fit_params):
    """A deep copy of a paused fit, trained ``epochs`` more with its rate decaying to 0.

    The copy resumes the paused fit (same schedules, same plan) with every
    learning rate multiplied by a factor falling linearly from 1 at the
    first update of the cooldown to ``1/J`` at its last (``J`` updates:
    ``epochs`` epochs of updates, fewer if the fit ends first), then is put
    in the state its fit would end in (:func:`as_if_ended`). ``est`` is not
    modified.

    Parameters
    ----------
    est : estimator
        Holding a paused fit (see :func:`advance`).
    X, y : array-like
        The data of that fit.
    epochs : int
        Length of the cooldown in epochs (at least 1).
    **fit_params : dict
        The fit parameters of that fit.

    Returns
    -------
    cooled : estimator
        The copy, to score and throw away.
    """
    if not is_paused(est):
        raise ValueError("cooled_copy needs an estimator holding a paused fit.")
    if int(epochs) < 1:
        raise ValueError(f"A cooldown needs at least one epoch, got {epochs!r}.")
    cooled = copy.deepcopy(est)
    control = FitControl(pause_after=cooled.n_iter_ + int(epochs),
                         cooldown=(cooled._state.n_epochs, int(epochs)))
    with _controlled(cooled, control, True), warnings.catch_warnings():
        # The copy is thrown away: its end of plan is no news.
        warnings.simplefilter("ignore", ConvergenceWarning)
        cooled.fit(X, y, **fit_params)
    return as_if_ended(cooled)
