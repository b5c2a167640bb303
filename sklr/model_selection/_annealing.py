"""Simulated-annealing hyper-parameter search with cross-validation.

:class:`AnnealingSearchCV` is a :class:`~sklearn.model_selection.BaseSearchCV`
whose ``_run_search`` walks a Markov chain through the parameter space: each
round proposes neighbours of the current point, cross-validates them in one
batch (so joblib parallelises proposals x folds), and moves by the Metropolis
rule at a temperature that falls round after round. The pieces live beside
this module:

- ``_annealing_space``: the search dimensions (one small class per kind of
  entry of ``param_distributions``), the Latin-hypercube starting points and
  the proposals;
- ``_annealing_cooling``: the temperature schedules, the step length and its
  1/5th success rule, and the Metropolis acceptance rule;
- ``_annealing_state``: the walk's current point and the annealing columns of
  ``cv_results_``.

This module holds the estimator and its link to ``evaluate_candidates``.
"""

import numbers
import warnings

import numpy as np
from sklearn.exceptions import FitFailedWarning
from sklearn.utils import check_random_state

from sklr._compat import BaseSearchCV, Interval, RealNotInt, StrOptions
from sklr.model_selection._annealing_cooling import (
    _metropolis,
    _round_temperatures,
    _StepLength,
)
from sklr.model_selection._annealing_space import _n_starting_points, _SearchSpace
from sklr.model_selection._annealing_state import _Walk

__all__ = ["AnnealingSearchCV"]


class _FrozenSplits:
    """A CV splitter that replays the first splits it produced.

    Every round of the search calls ``split`` again; a shuffling splitter
    without an integer ``random_state`` would then score each round on new
    folds, and the Metropolis rule would compare fold noise instead of
    parameters.
    """

    def __init__(self, cv):
        self.cv = cv
        self._splits = None

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.cv.get_n_splits(X, y, groups)

    def split(self, X, y=None, **params):
        if self._splits is None:
            self._splits = list(self.cv.split(X, y, **params))
        return iter(self._splits)


def _all_fits_failed(exc):
    """Whether ``exc`` is scikit-learn's "All the N fits failed" error."""
    message = str(exc).lstrip()
    return message.startswith("All the") and "fits failed" in message


class _RoundEvaluator:
    """Cross-validates the candidates of one round in one batch.

    Calling it with the states of a round returns their mean scores on the
    metric the search anneals on, or None when scikit-learn refused the
    batch because every fit failed (the round then proposes again).
    ``n_dropped`` counts the candidates dropped so.
    """

    def __init__(self, search, evaluate_candidates, space, cv, search_ctx):
        self.search = search
        self.evaluate_candidates = evaluate_candidates
        self.space = space
        self.cv = cv
        self.search_ctx = search_ctx
        self.n_dropped = 0

    def __call__(self, states, round_index):
        """Mean scores of ``states``, or None if every fit failed."""
        search = self.search
        candidates = [self.space.params(state) for state in states]
        ctx = None
        if self.search_ctx is not None:
            ctx = self.search_ctx.subcontext(
                task_name="annealing-round",
                max_subtasks=len(states) * search.n_splits_,
                sequential_subtasks=False,
            ).call_on_fit_task_begin(estimator=search)
        try:
            results = self.evaluate_candidates(candidates, self.cv, callback_ctx=ctx)
        except ValueError as exc:
            # scikit-learn raises when every fit of one call fails, which
            # with small batches is one bad candidate, not a broken model.
            # Such a batch cannot enter cv_results_: count it as rejected,
            # warn, and propose again (at most n_iter such candidates).
            if not _all_fits_failed(exc):
                raise
            self.n_dropped += len(candidates)
            if self.n_dropped > int(search.n_iter):
                raise ValueError(
                    f"Every fit failed for {self.n_dropped} candidates of "
                    "AnnealingSearchCV (more than n_iter); giving up. "
                    f"Last error:{exc}"
                ) from exc
            warnings.warn(
                f"Every fit failed for all {len(candidates)} candidate(s) "
                f"of round {round_index}: {candidates!r}. scikit-learn "
                "cannot record such a batch, so it is left out of "
                "cv_results_ and the round proposes again. Details:"
                f"{exc}",
                FitFailedWarning,
            )
            return None
        finally:
            if ctx is not None:
                ctx.call_on_fit_task_end(estimator=search)
        key = search._score_key(results)
        return np.asarray(results[key], dtype=np.float64)[-len(states) :]


class AnnealingSearchCV(BaseSearchCV):
    r"""Simulated-annealing search over hyper-parameters with cross-validation.

    The search walks from point to point of the parameter space. Each round
    proposes ``batch_size`` random neighbours of the current point, scores
    them by cross-validation in one parallel batch, and moves by the
    Metropolis rule: a better candidate is always accepted, a worse one with
    probability :math:`\exp(-\Delta / T)`. The temperature :math:`T` falls
    from round to round and the length of the steps with it, so the search
    explores broadly first and refines around good points last; the steps
    also lengthen while proposals keep succeeding (a slope or a plateau to
    cross) and shorten while they keep failing. Exactly ``n_iter``
    candidates are evaluated; the best one evaluated (not the last point of
    the walk) gives ``best_params_``, as in
    :class:`~sklearn.model_selection.RandomizedSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        An object implementing ``fit``, and ``score`` unless ``scoring`` is
        given. It is cloned for each candidate and fold.

    param_distributions : dict
        Parameter names (nested keys such as ``learning_rate__gamma`` too)
        mapped to the space to search. One dict; unlike
        :class:`~sklearn.model_selection.RandomizedSearchCV`, a list of dicts
        is not accepted, since a walk needs one connected space. Each value
        is

        - a frozen continuous ``scipy.stats`` distribution
          (``loguniform(1e-4, 1e-1)``, ``uniform(0.5, 0.49)``, ``norm(0,
          1)``...): moved in the distribution's quantile space, which is
          log space for ``loguniform`` and linear space for ``uniform``;
        - a frozen discrete ``scipy.stats`` distribution (``randint(1,
          10)``...): moved by :math:`\pm k` with :math:`k \ge 1`;
        - a list (or tuple, or 1-D array) of numbers in strictly increasing
          or decreasing order: treated as ordered, moved to a nearby position
          by :math:`\pm k`;
        - any other list: categorical (strings, ``None``, schedule or
          optimizer objects, classes...), moved by drawing a different
          element uniformly.

        The starting points are a Latin hypercube sample of these priors
        (see Notes): each point is distributed as the prior, and each
        parameter's range is covered evenly.

    n_iter : int, default=10
        Number of candidates evaluated in total, starting points included.

    initial_temperature : float, default=0.01
        Temperature :math:`T_0` of the first proposal round, in units of the
        score. A candidate :math:`\Delta` worse than the current point is
        accepted with probability :math:`\exp(-\Delta / T)`; with the default
        and an accuracy-like score, a drop of 0.01 is accepted with
        probability :math:`e^{-1} \approx 0.37` at first and
        :math:`e^{-10}` at the end of the default cooling. For a score on
        another scale (``neg_mean_squared_error``...) set it to about the
        loss of score you would accept early in the search. Must be > 0.

    cooling : {'exponential', 'linear', 'log'} or float, default='exponential'
        How the temperature falls over the :math:`K` proposal rounds
        :math:`k = 1, \dots, K` (see Notes):

        - ``'exponential'``: :math:`T_k = T_0\, 0.1^{(k-1)/(K-1)}`, from
          :math:`T_0` to :math:`T_0/10` at the last round, whatever the
          budget;
        - ``'linear'``: :math:`T_k = T_0\,(1 - 0.9\,(k-1)/(K-1))`, also down
          to :math:`T_0/10`;
        - ``'log'``: :math:`T_k = T_0 / (1 + \ln k)`, the slow classical
          schedule;
        - a float :math:`c` in (0, 1): geometric, :math:`T_k = T_0\,
          c^{k-1}`, per round.

    step_scale : float, default=0.5
        Length :math:`s` of the first steps, as a fraction of each
        dimension's range, and the longest step ever proposed (see Notes).
        Without ``adapt_step``, the steps follow the temperature: the
        default makes the first ones span most of the range and the last
        ones (at :math:`T_0/10`) about 5% of it. Must be > 0.

    adapt_step : bool, default=True
        Whether the step length also follows the success of the recent
        proposals (Rechenberg's 1/5th success rule, see Notes): each
        proposal at least as good as the current point lengthens the next
        steps by a factor :math:`e^{1/3}`, each worse one shortens them by
        :math:`e^{-1/12}`, within a factor 10 of the temperature's step and
        never beyond ``step_scale``. A walk on a plateau or on a long slope
        then takes longer strides instead of stalling, and one around a peak
        shorter ones. The step used for each candidate is recorded in
        ``cv_results_["step_scale"]``. ``False`` ties the steps to the
        temperature alone.

    n_initial_points : 'auto', int or float, default='auto'
        Number of random starting points, evaluated together in round 0;
        the walk starts at the best of them. A float in (0, 1] is a fraction
        of ``n_iter``, rounded up. ``'auto'`` takes a quarter of ``n_iter``
        but at least :math:`d + 1` for :math:`d` parameters (capped at
        ``n_iter``): a few starts keep a short walk from spending its budget
        climbing out of one bad starting region, and small budgets, whose
        walks are too short to climb far, lean more on them. ``1`` gives
        textbook annealing from a single point.

    batch_size : int, default=1
        Number of neighbours of the current point proposed and evaluated
        together in each later round (fewer in the last round, to spend
        exactly ``n_iter``). A round is fitted in one parallel call
        (candidates x folds over ``n_jobs``), so raise it to use more
        workers than there are folds. It is not derived from ``n_jobs``, so
        that the result does not depend on the number of workers; larger
        batches mean fewer, more parallel rounds.

    initial_params : dict, default=None
        Starting point, possibly partial: the parameters it names start at
        its values (which must lie in their distributions' support or among
        the listed values), the others are drawn at random. It is the first
        candidate; the other starting points are random.

    scoring : str, callable, list, tuple or dict, default=None
        Strategy to evaluate the candidates on the test folds, as in
        :class:`~sklearn.model_selection.RandomizedSearchCV`. Higher is
        better. With several metrics, the search anneals on the one named by
        ``refit``, which must then be a string.

    n_jobs : int, default=None
        Number of jobs to run in parallel over the candidates of a round and
        the folds. ``None`` means 1 unless in a
        :obj:`joblib.parallel_backend` context; ``-1`` means all processors.
        The candidates proposed do not depend on it.

    refit : bool, str or callable, default=True
        Refit an estimator on the whole dataset with the best parameters
        found, as in :class:`~sklearn.model_selection.RandomizedSearchCV`.
        With multi-metric scoring it must name the metric to anneal on. A
        callable receives ``cv_results_`` before the annealing columns (see
        Attributes) are added.

    cv : int, cross-validation generator or iterable, default=None
        Cross-validation splitting strategy, as in
        :class:`~sklearn.model_selection.RandomizedSearchCV`. The folds of
        the first round are reused by every round, even for a shuffling
        splitter without an integer ``random_state``, so that the Metropolis
        rule compares parameters rather than folds.

    verbose : int, default=0
        Verbosity: ``> 0`` prints the temperature, the current score and
        the number of candidates accepted at each round, plus the messages
        of :class:`~sklearn.model_selection.RandomizedSearchCV`.

    pre_dispatch : int or str, default='2*n_jobs'
        Number of jobs dispatched during parallel execution.

    random_state : int, RandomState instance or None, default=None
        Seeds the starting points, the proposals and the acceptance draws.
        Pass an int for reproducible output across multiple calls (the
        estimator's own ``random_state`` must be fixed too for its scores to
        repeat).

    error_score : 'raise' or numeric, default=np.nan
        Score of a fit that fails. A candidate whose mean score is NaN is
        never accepted. scikit-learn raises when every fit of one
        evaluation fails, which for a small batch (with ``batch_size=1``,
        one diverging candidate) says little about the model; such a batch
        is left out of ``cv_results_`` with a
        :class:`~sklearn.exceptions.FitFailedWarning`, counts as rejected
        and the round proposes again, until more than ``n_iter`` candidates
        have been dropped this way.

    return_train_score : bool, default=False
        Whether ``cv_results_`` includes training scores.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        The keys of :class:`~sklearn.model_selection.RandomizedSearchCV`'s
        ``cv_results_`` (``params``, ``param_<name>``, ``mean_test_score``,
        ``rank_test_score``, ``split<i>_test_score``, times...), one row per
        candidate in the order of evaluation, plus:

        - ``iter``: the round, 0 for the starting points;
        - ``parent_index``: row of the point the candidate was proposed
          from, -1 for the starting points;
        - ``temperature``: :math:`T_k` of the round (NaN in round 0);
        - ``step_scale``: step length :math:`\sigma_k` the candidate was
          proposed with, as a fraction of each dimension's range (NaN in
          round 0);
        - ``current_score``: mean test score of the point the candidate was
          judged against (NaN in round 0);
        - ``acceptance_probability``: :math:`\min(1, \exp(-\Delta/T_k))`
          (1 in round 0, 0 for a NaN score);
        - ``accepted``: whether the candidate passed the Metropolis test
          (True in round 0).

    best_estimator_ : estimator
        Estimator refitted with the best parameters; only if ``refit``.

    best_score_ : float
        Mean cross-validated score of the best candidate.

    best_params_ : dict
        Parameters of the best candidate evaluated.

    best_index_ : int
        Row of the best candidate in ``cv_results_``.

    scorer_ : function or dict
        Scorer function(s) used on the held-out data.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best model; only if ``refit``.

    multimetric_ : bool
        Whether several metrics were used.

    classes_ : ndarray of shape (n_classes,)
        Class labels; only if ``refit`` and the estimator is a classifier.

    n_features_in_ : int
        Number of features seen during fit; only if ``refit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only if ``refit`` and ``X`` has
        string feature names.

    See Also
    --------
    sklearn.model_selection.RandomizedSearchCV : Independent random draws
        from the same kind of ``param_distributions``.
    sklearn.model_selection.GridSearchCV : Exhaustive search over a grid.
    sklearn.model_selection.HalvingRandomSearchCV : Random candidates with
        successive halving of the resources.

    Notes
    -----
    The exact rules (rounds, the Metropolis acceptance, cooling, the step
    length and the 1/5th success rule, ordered and categorical moves,
    starting points) are in the user guide, section "The annealing rules".

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklr.model_selection import AnnealingSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = AnnealingSearchCV(
    ...     LogisticRegression(max_iter=1000), {"C": loguniform(1e-4, 1e2)},
    ...     n_iter=12, random_state=0,
    ... ).fit(X, y)
    >>> len(search.cv_results_["params"])
    12
    >>> sorted(search.best_params_)
    ['C']
    >>> print(f"{search.best_score_:.2f}")
    0.98
    >>> search.cv_results_["iter"]  # 3 random starting points, then 9 rounds
    array([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> search.cv_results_["accepted"][3:]
    array([False, False, False,  True,  True,  True, False,  True, False])
    >>> search.cv_results_["step_scale"][3:].round(3)
    array([0.5  , 0.345, 0.238, 0.164, 0.172, 0.18 , 0.188, 0.13 , 0.136])
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "initial_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "cooling": [
            StrOptions({"exponential", "linear", "log"}),
            Interval(numbers.Real, 0, 1, closed="neither"),
        ],
        "step_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "adapt_step": ["boolean"],
        "n_initial_points": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "initial_params": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=10,
        initial_temperature=0.01,
        cooling="exponential",
        step_scale=0.5,
        adapt_step=True,
        n_initial_points="auto",
        batch_size=1,
        initial_params=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
    ):
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.initial_temperature = initial_temperature
        self.cooling = cooling
        self.step_scale = step_scale
        self.adapt_step = adapt_step
        self.n_initial_points = n_initial_points
        self.batch_size = batch_size
        self.initial_params = initial_params
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

    def fit(self, X, y=None, **params):
        """Run the annealing search and refit the best candidate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), \
                default=None
            Target; None for unsupervised learning.
        **params : dict of str -> object
            Parameters passed to the ``fit`` method of the estimator, the
            scorer and the CV splitter, as in
            :meth:`sklearn.model_selection.RandomizedSearchCV.fit`.

        Returns
        -------
        self : object
            The fitted search.
        """
        self._annealing_columns = None
        try:
            super().fit(X, y, **params)
            # The acceptance of the last round is only known after its
            # evaluation, so the annealing columns are added once the base
            # class has stored cv_results_ (they are aligned row by row with
            # cv_results_["params"]).
            columns = self._annealing_columns
            n_candidates = len(self.cv_results_["params"])
            for key, values in columns.items():
                if len(values) != n_candidates:  # pragma: no cover - invariant
                    raise RuntimeError(
                        f"Annealing column {key!r} has {len(values)} rows for "
                        f"{n_candidates} candidates."
                    )
                self.cv_results_[key] = values
        finally:
            del self._annealing_columns
        return self

    def _score_key(self, results):
        if isinstance(self.refit, str) and f"mean_test_{self.refit}" in results:
            return f"mean_test_{self.refit}"
        if "mean_test_score" in results:
            return "mean_test_score"
        raise ValueError(
            "AnnealingSearchCV with multi-metric scoring anneals on the metric "
            "named by refit, so refit must be one of the scorer names; got "
            f"refit={self.refit!r}."
        )


    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        """Anneal: evaluate rounds of proposals and walk by Metropolis."""
        if isinstance(self.scoring, (list, tuple, dict)) and not isinstance(
            self.refit, str
        ):
            self._score_key({})  # raises before any fit
        space = _SearchSpace(self.param_distributions)
        rng = check_random_state(self.random_state)
        n_iter, batch = int(self.n_iter), int(self.batch_size)
        n_start = _n_starting_points(self.n_initial_points, n_iter, len(space.dims))
        n_rounds = -(-(n_iter - n_start) // batch)
        T0 = float(self.initial_temperature)
        temperatures = _round_temperatures(T0, self.cooling, n_rounds)
        steps = _StepLength(self.step_scale, self.adapt_step)

        search_ctx = None
        if callback_ctx is not None:
            search_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=None
            ).call_on_fit_task_begin(estimator=self)
        evaluate = _RoundEvaluator(
            self,
            evaluate_candidates,
            space,
            _FrozenSplits(self._checked_cv_orig),
            search_ctx,
        )

        # Round 0: the starting points, accepted unconditionally; the walk
        # starts at the best of them.
        scores = None
        while scores is None:
            # initial_params are used unless their round failed entirely.
            states = space.starting_points(
                n_start, rng, self.initial_params, use_initial=not evaluate.n_dropped
            )
            scores = evaluate(states, 0)
        walk = _Walk(states, scores)
        if self.verbose > 0:
            print(
                f"[AnnealingSearchCV] round 0: {n_start} starting point(s), "
                f"best score {walk.score:.6g}"
            )

        for k in range(1, n_rounds + 1):
            T = float(temperatures[k - 1])
            ratio = T / T0
            sigma = steps.sigma(ratio)
            size = min(batch, n_iter - walk.n_done)
            scores = None
            while scores is None:
                proposals = [
                    space.propose(walk.state, ratio, sigma, rng) for _ in range(size)
                ]
                scores = evaluate(proposals, k)
            probabilities, accepted = _metropolis(walk.score, scores, T, rng)
            steps.update(probabilities)
            walk.add_round(k, T, sigma, proposals, scores, probabilities, accepted)
            if self.verbose > 0:
                print(
                    f"[AnnealingSearchCV] round {k}/{n_rounds}: T={T:.4g}, "
                    f"step={sigma:.3g}, {int(accepted.sum())}/{size} accepted, "
                    "current score "
                    f"{walk.score:.6g}"
                )

        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        self._annealing_columns = walk.columns()
