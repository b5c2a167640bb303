"""Training the members of a population interval by interval, exactly.

A member of :class:`~sklr.model_selection.PopulationSearchCV` trains as ONE
``fit`` of ``max_iter = n_intervals * interval_epochs`` epochs that pauses at
the end of every interval (:func:`sklr._pause.advance`, the primitive the
halving searches use too): the paused estimator keeps its weights, optimizer
state, schedule positions and the resume record of the call (its epoch
count, shuffling random state and row order), and resuming finishes that
call on the trajectory it would have followed without stopping. Before it
resumes, the search sets the member's schedules for the next interval (they
extend the ones it trained with, so the epochs already run are unchanged).

So a member that was never exploited equals an uninterrupted ``fit`` with the
schedules of its lineage, bit for bit, and exploiting a member is copying its
paused estimator (``copy.deepcopy``): weights, optimizer state, counters and
random state together.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklr._pause import advance
from sklr.exceptions import DivergenceError


def _member_settings(interval_epochs, n_intervals):
    """Parameters every member's estimator runs with, whatever its lineage.

    ``max_iter`` spans the whole run, ``n_iter_no_change=inf`` keeps the
    training-loss stopping rule from ending a member early (every member
    trains the same number of epochs), and ``warm_start=True`` makes a
    ``fit`` of the member after a pause finish the paused call (as
    :func:`sklr._pause.advance` does).
    """
    return {
        "max_iter": int(interval_epochs) * int(n_intervals),
        "n_iter_no_change": np.inf,
        "warm_start": True,
    }


def _train_interval(model, params, data, stop_epoch, interval_epochs, scorer):
    """Train one member on one fold up to ``stop_epoch``, then score it.

    Parameters
    ----------
    model : estimator
        The paused member (it is modified), or for the first interval a
        fresh clone of the search's estimator.
    params : dict
        Its lineage's parameters up to and including this interval, with the
        member settings.
    data : tuple
        ``(X_train, y_train, X_test, y_test)`` of the fold.
    stop_epoch : int
        The epoch count at which to pause; the last interval's equals
        ``max_iter`` and the fit ends by itself.
    interval_epochs : int
        Epochs per interval (kept for the callers; the pause is at
        ``stop_epoch``).
    scorer : callable
        ``scorer(estimator, X, y)``.

    Returns
    -------
    model : estimator or None
        The paused (or finished) member; None if training diverged.
    score : float
        The score on the fold's test part; NaN if training diverged or the
        scorer refused the predictions (ValueError: overflowing outputs).
    fit_time, score_time : float
        Seconds.
    """
    X_train, y_train, X_test, y_test = data
    model.set_params(**params)
    tic = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # The last interval reaches max_iter with n_iter_no_change=inf:
            # running every epoch is the point, not a failure to converge.
            warnings.simplefilter("ignore", ConvergenceWarning)
            advance(model, X_train, y_train, until=stop_epoch)
    except DivergenceError:
        return None, np.nan, time.perf_counter() - tic, 0.0
    fit_time = time.perf_counter() - tic
    tic = time.perf_counter()
    try:
        score = float(scorer(model, X_test, y_test))
    except ValueError:
        # Finite but huge weights whose predictions overflow: the scorers
        # refuse infinite predictions. The member ranks last (NaN) and keeps
        # training until a copy of a better one replaces it.
        score = np.nan
    return model, score, fit_time, time.perf_counter() - tic


def _ranking(scores):
    """Members from best to worst: by score, NaN last, ties by index."""
    scores = np.asarray(scores, dtype=np.float64)
    key = np.where(np.isnan(scores), -np.inf, scores)
    return sorted(range(len(scores)), key=lambda i: (-key[i], np.isnan(scores[i]), i))


def _truncation(scores, quantile_fraction, rng):
    """Truncation selection: who copies whom.

    The ``q = min(ceil(n * quantile_fraction), n // 2)`` worst members each
    copy one of the ``q`` best, drawn uniformly (Jaderberg et al. 2017). A
    member scored NaN (diverged) ranks last and is never copied: with fewer
    than ``q`` finite scores, the donors are the members that have one.

    Returns
    -------
    donors : ndarray of shape (n,), dtype int
        For each member the index of the member it copies, -1 if it keeps its
        own weights.
    """
    n = len(scores)
    q = min(int(np.ceil(n * float(quantile_fraction) - 1e-12)), n // 2)
    donors = np.full(n, -1, dtype=np.intp)
    if q == 0:
        return donors
    order = _ranking(scores)
    top = [i for i in order[:q] if not np.isnan(scores[i])]
    for member in order[n - q:]:
        donors[member] = top[rng.randint(len(top))]
    return donors
