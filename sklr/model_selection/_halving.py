"""Successive halving over epochs, with survivors resumed rather than retrained.

:class:`EpochHalvingSearchCV` samples candidates (a grid, or draws from
distributions), trains them all a few epochs, keeps the best ``1/factor``,
resumes those to the next rung, and so on up to ``max_epochs``. The pieces:

- ``_halving_rungs``: the closed-form counts (candidates and epochs per rung);
- ``_halving_fits``: one task per candidate and fold (advance, score) and the
  loop over rungs;
- ``_halving_base``: ``fit``, ``cv_results_``, the choice of the best and the
  refit, shared with :class:`~sklr.model_selection.HyperbandSearchCV`
  (``_halving_hyperband``).

The pause-and-resume primitive is :mod:`sklr._pause`.
"""

import numbers

import numpy as np
from sklearn.model_selection import ParameterGrid, ParameterSampler

from sklr._compat import Interval
from sklr.model_selection._halving_base import BaseEpochHalving
from sklr.model_selection._halving_rungs import floor_log, halving_bracket, n_rungs_possible

__all__ = ["EpochHalvingSearchCV"]


class EpochHalvingSearchCV(BaseEpochHalving):
    r"""Successive halving over epochs: survivors resume their fits.

    Every candidate's fit is planned for ``max_epochs`` epochs (its
    ``max_iter``) from the start. At rung :math:`i` the surviving candidates
    are trained, on each CV fold, up to epoch :math:`r_i`, paused there and
    scored on the fold's test part; the best :math:`1/f` go on. A survivor
    *resumes* its paused fit (weights, optimizer state, shuffling stream,
    stopping counters, schedule positions): no epoch is trained twice, and
    its model at ``max_epochs`` is bit for bit the model of one
    uninterrupted fit. scikit-learn's ``HalvingRandomSearchCV(
    resource='max_iter')`` retrains each rung from scratch, and
    ``warm_start`` cannot stand in for resuming (it re-seeds shuffling and
    restarts the optimizer of string solvers).

    Schedules counted in ``unit='fraction'`` are planned over
    ``max_epochs``, so a candidate is judged at rung :math:`r_i` as its
    final schedule leaves it at epoch :math:`r_i` (for instance, still at
    the peak of a one-cycle rate), not as a fit of :math:`r_i` epochs would
    end. ``rung_cooldown`` scores a throw-away copy that decays the rate
    first. Read more in the :ref:`User Guide <user_guide_halving>`.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor or Pipeline
        The sklr estimator to tune, with a stochastic solver (L-BFGS cannot
        pause), or a Pipeline ending in one (its other steps are fitted once
        per fold, at the first rung). Its ``max_iter`` is replaced by
        ``max_epochs``.

    param_distributions : dict or list of dicts
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`
        (``n_candidates`` draws; lists are sampled uniformly, ``scipy.stats``
        distributions by their ``rvs``), or, with ``n_candidates=None``, as
        ``param_grid`` of :class:`~sklearn.model_selection.GridSearchCV`
        (every combination; lists only). Must not contain ``max_iter``.

    n_candidates : int or None, default=None
        Number of candidates drawn from ``param_distributions``; None takes
        every point of the grid.

    factor : int, default=3
        The halving factor :math:`f \ge 2`: rung :math:`i` keeps
        :math:`\lceil n / f^i \rceil` of the :math:`n` candidates, and
        trains :math:`f` times as many epochs as rung :math:`i - 1`.

    min_epochs : int, default=1
        The fewest epochs a rung may train to; the first rung trains at
        least this many.

    max_epochs : int, default=None
        The epochs of the last rung and the length every fit is planned
        for (``max_iter`` of every candidate). None: the estimator's
        ``max_iter``.

    rung_cooldown : int, float or None, default=None
        Judge each rung but the last on a throw-away copy whose learning rate
        decays linearly towards 0 for a few more epochs (the "decay" branch
        of warmup-stable-decay schedules): an int is that many epochs, a
        float in (0, 1] that fraction of the rung's epochs (rounded up);
        never beyond ``max_epochs``. The copy resumes the paused fit with
        every rate multiplied by :math:`1 - (e + k/K)/C` in update
        :math:`k` of :math:`K` of the :math:`e`-th cooldown epoch
        (:math:`C` epochs), is scored, and is discarded: the candidate
        resumes from its state before the cooldown. None: the paused model
        is scored as it is.

    scoring : str, callable or None, default=None
        One metric (a scorer name or callable, as in scikit-learn), ranked
        at every rung; None uses the estimator's ``score``.

    n_jobs : int, default=None
        Number of jobs running the (candidate, fold) fits of a rung in
        parallel. ``None`` means 1 unless in a :obj:`joblib.parallel_backend`
        context. With more than one job each fit uses one OpenMP thread.
        Results do not depend on it.

    refit : bool, default=True
        Refit the best candidate on all of ``X``: one uninterrupted fit of
        ``max_epochs`` epochs (see Notes).

    cv : int, cross-validation generator or iterable, default=5
        Cross-validation splitting strategy, as in
        :class:`~sklearn.model_selection.HalvingRandomSearchCV`. The folds
        are drawn once; every rung resumes the fits of the same folds.

    verbose : int, default=0
        ``> 0`` prints each rung.

    pre_dispatch : int or str, default='2*n_jobs'
        Number of jobs dispatched during parallel execution.

    random_state : int, RandomState instance or None, default=None
        Seeds the draws of candidates (the estimator's own ``random_state``
        seeds its fits).

    error_score : 'raise' or numeric, default=np.nan
        Score of a fit that fails; it stays failed at later rungs (a NaN mean
        ranks last).

    return_train_score : bool, default=True
        Whether ``cv_results_`` includes training scores (computed on the
        same model as the test score).

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        scikit-learn's successive-halving ``cv_results_``: one row per
        candidate and rung, with the keys of
        :class:`~sklearn.model_selection.HalvingRandomSearchCV` (``iter``:
        the rung, ``n_resources``: its epoch; ``params``, ``param_<name>``,
        ``split<k>_test_score``, ``mean_test_score``, ``rank_test_score``,
        times...), plus ``bracket`` (always 0 here) and ``candidate`` (the
        candidate's index, for ``training_curves_`` and ``rung_scores_``).
        ``mean_fit_time`` is the time of the rung's epochs only; a
        cooldown's epochs count in ``mean_score_time``.

    best_estimator_ : estimator
        The best candidate refitted on all the data (``max_iter`` is
        ``max_epochs_``); only if ``refit``.

    best_score_ : float
        Mean cross-validated score of the best candidate at ``max_epochs``.

    best_params_ : dict
        Parameters of the best candidate.

    best_index_ : int
        Row of ``cv_results_`` of the best candidate: the best mean test
        score among the rows trained to ``max_epochs``.

    scorer_ : function
        The scorer.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best model; only if ``refit``.

    multimetric_ : bool
        False (one metric).

    training_curves_ : ndarray of shape (n_candidates, max_epochs)
        Each candidate's training loss per epoch, averaged over the folds
        (``history_['loss']``); NaN after the epoch it was eliminated at.

    rung_scores_ : ndarray of shape (n_candidates, n_rungs)
        Each candidate's mean test score at each rung (NaN after it was
        eliminated); columns follow ``rung_epochs_``.

    rung_epochs_ : ndarray of int
        The epoch of each rung.

    epochs_trained_ : int
        Epochs trained by all the CV fits, cooldowns included (the refit
        excluded); fits that stop early count the epochs they ran.

    max_epochs_, min_epochs_ : int
        The resolved ``max_epochs`` and ``min_epochs``.

    n_resources_ : list of int
        The epochs of each rung, as scikit-learn's halving searches call it.

    n_candidates_ : list of int
        Candidates at each rung.

    n_remaining_candidates_ : int
        Candidates trained at the last rung.

    min_resources_, max_resources_ : int
        The first and last rung's epochs.

    n_possible_iterations_, n_required_iterations_, n_iterations_ : int
        The rung counts (see Notes).

    classes_, n_features_in_, feature_names_in_
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.

    See Also
    --------
    HyperbandSearchCV : Several brackets of successive halving with
        different starting budgets.
    sklearn.model_selection.HalvingRandomSearchCV : Successive halving that
        retrains each rung (``resource='max_iter'``) from scratch.

    Notes
    -----
    With :math:`n` candidates, :math:`f` = ``factor``, :math:`m` =
    ``min_epochs`` and :math:`M` = ``max_epochs``, as scikit-learn counts:
    ``n_possible_iterations_`` :math:`= 1 + \lfloor \log_f(M/m) \rfloor`,
    ``n_required_iterations_`` :math:`= 1 + \lfloor \log_f n \rfloor`, and
    the search runs :math:`k` = ``n_iterations_`` = the smaller of the two.
    Rung :math:`i = 0, \dots, k-1` trains :math:`\lceil n / f^i \rceil`
    candidates to epoch :math:`\lfloor M / f^{k-1-i} \rfloor`. The rungs
    are anchored at :math:`M` (scikit-learn's start at the minimum
    resource and may stop below the maximum), so every survivor finishes
    the schedule it was planned for. Ties keep the candidate drawn first.

    The refit is one fit of ``max_epochs`` on all of ``X``, identical to
    ``clone(estimator).set_params(**best_params_, max_iter=max_epochs_)
    .fit(X, y)``: the CV models were trained on parts of ``X``, so none can
    be resumed into the model of all the data.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklr import MLPClassifier, schedules
    >>> from sklr.model_selection import EpochHalvingSearchCV
    >>> X, y = load_digits(return_X_y=True)
    >>> search = EpochHalvingSearchCV(
    ...     MLPClassifier(hidden_layer_sizes=(16,), learning_rate=schedules.OneCycle(),
    ...                   random_state=0),
    ...     {"learning_rate_init": [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0]},
    ...     max_epochs=9, cv=2, random_state=0,
    ... ).fit(X[:600] / 16, y[:600])
    >>> search.n_candidates_, search.n_resources_
    ([9, 3, 1], [1, 3, 9])
    >>> search.epochs_trained_  # per fold: 9 x 1 + 3 x (3 - 1) + 1 x (9 - 3)
    42
    >>> search.cv_results_["iter"]
    array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    """

    _parameter_constraints: dict = {
        **BaseEpochHalving._parameter_constraints,
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_candidates=None,
        factor=3,
        min_epochs=1,
        max_epochs=None,
        rung_cooldown=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=5,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=True,
    ):
        self.param_distributions = param_distributions
        self.n_candidates = n_candidates
        self.factor = factor
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.rung_cooldown = rung_cooldown
        self.random_state = random_state
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )

    def _candidates(self, rng):
        if self.n_candidates is None:
            try:
                return list(ParameterGrid(self.param_distributions))
            except TypeError as exc:
                raise TypeError(
                    f"{exc} With n_candidates=None, EpochHalvingSearchCV takes every "
                    "point of a grid; to draw from distributions, set n_candidates."
                ) from exc
        return list(ParameterSampler(self.param_distributions, self.n_candidates,
                                     random_state=rng))

    def _brackets(self, rng):
        candidates = self._candidates(rng)
        bracket = halving_bracket(len(candidates), self.min_epochs_, self.max_epochs_,
                                  int(self.factor))
        n = len(candidates)
        self.n_candidates_ = bracket.n_candidates
        self.n_resources_ = bracket.epochs
        self.n_remaining_candidates_ = bracket.n_candidates[-1]
        self.min_resources_, self.max_resources_ = bracket.epochs[0], self.max_epochs_
        self.n_possible_iterations_ = n_rungs_possible(self.min_epochs_, self.max_epochs_,
                                                       int(self.factor))
        self.n_required_iterations_ = 1 + floor_log(n, int(self.factor))
        self.n_iterations_ = bracket.n_rungs
        return [(bracket, candidates)]

