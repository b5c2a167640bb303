"""Population-based training (PBT) that hands back the schedule it discovered.

:class:`PopulationSearchCV` trains a population of networks side by side, in
intervals of ``interval_epochs`` epochs. After each interval the worst members
copy the weights and optimizer state of the best (exploit) and perturb their
learning rate, momentum and weight decay (explore). The winner's lineage, the
values it trained with interval after interval, becomes piecewise-constant
schedules in epochs: ``best_schedule_`` and ``best_params_`` replay it from
scratch, on the same or on other seeds.

The pieces live beside this module: ``_population_space`` (the explored
dimensions, the lineages and their schedules) and ``_population_members``
(the exact pause and resumption of a member, one interval of one member on
one fold, truncation selection).
"""

import copy
import numbers
import time
import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, indexable
from sklearn.utils.parallel import Parallel, delayed

from sklr._compat import (
    BaseSearchCV,
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _safe_indexing,
)
from sklr._multilayer_perceptron import BaseMultilayerPerceptron
from sklr.model_selection._population_members import (
    _member_settings,
    _ranking,
    _train_interval,
    _truncation,
)
from sklr.model_selection._population_space import (
    _check_distributions,
    _check_factors,
    _Lineage,
)
from sklr.optimizers import LBFGS

__all__ = ["PopulationSearchCV"]


def _check_estimator(estimator, dims):
    """The estimator must be an sklr MLP that PBT can pause and steer."""
    if not isinstance(estimator, BaseMultilayerPerceptron):
        raise TypeError(
            "PopulationSearchCV trains sklr.MLPClassifier or sklr.MLPRegressor "
            "estimators (it pauses and resumes their fits exactly), got "
            f"{type(estimator).__name__}. Scale the data beforehand instead of "
            "using a Pipeline."
        )
    if estimator.solver == "lbfgs" or isinstance(estimator.solver, LBFGS):
        raise ValueError(
            "PopulationSearchCV needs a stochastic solver (sgd, adam, ...): "
            "solver='lbfgs' has no learning rate, momentum or weight decay to explore."
        )
    if estimator.early_stopping:
        raise ValueError(
            "PopulationSearchCV scores the members on its own validation folds (cv) "
            "and trains each one for n_intervals * interval_epochs epochs: set "
            "early_stopping=False on the estimator."
        )
    names = {dim.name for dim in dims}
    if "learning_rate_init" in names and not (
        isinstance(estimator.learning_rate, str) and estimator.learning_rate == "constant"
    ):
        raise ValueError(
            "PopulationSearchCV explores the learning rate by setting the "
            "estimator's learning_rate to a piecewise-constant schedule, so the "
            f"estimator's learning_rate must be 'constant', got "
            f"{estimator.learning_rate!r}."
        )


class PopulationSearchCV(BaseSearchCV):
    r"""Population-based training whose result is a replayable schedule.

    A population of ``population_size`` networks (the *members*) trains side
    by side for ``n_intervals`` intervals of ``interval_epochs`` epochs. Each
    member starts from its own random initialization (its own
    ``random_state``) and hyperparameters drawn from
    ``param_distributions``. After every interval but the last, the members
    are ranked by their cross-validated score, and (truncation selection,
    Jaderberg et al. 2017) each of the worst ``quantile_fraction`` copies one
    of the best ``quantile_fraction``, drawn at random: its weights,
    optimizer state (velocities, Adam moments, step counts), schedule
    positions and shuffling random state (*exploit*); it then perturbs the
    copied hyperparameters (*explore*): each is multiplied by one of
    ``perturbation_factors``, or with probability ``resample_probability``
    drawn afresh from its prior, and clipped to the prior's support.

    A member's *lineage* is what its weights went through: the seed of its
    first ancestor and the value of each hyperparameter in each interval
    (an exploiting member inherits the lineage of the member it copies). The
    winner's lineage is returned as piecewise-constant schedules in epochs,
    :attr:`best_schedule_` for the learning rate, so that
    ``clone(estimator).set_params(**search.best_params_).fit(X, y)`` replays
    it from scratch, and ``best_schedule_`` can be previewed, plotted,
    cloned and refitted on other seeds like any schedule.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        The sklr estimator to train; it needs a stochastic solver and
        ``early_stopping=False``. The search sets on each member's copy: its
        ``random_state`` (drawn from the search's ``random_state``), the
        explored hyperparameters (as schedules), ``max_iter = n_intervals *
        interval_epochs``, ``n_iter_no_change=inf`` (every member trains every
        epoch), and, while it trains, ``warm_start`` and ``checkpoint`` (the
        exact pause and resumption). Its other parameters are kept.

    param_distributions : dict
        The hyperparameters to explore, among:

        - ``'learning_rate_init'``: the learning rate (absolute values). The
          estimator's ``learning_rate`` must be ``'constant'``; a member
          trains with ``learning_rate_init`` = its first rate and
          ``learning_rate`` = a :class:`~sklr.schedules.PiecewiseConstant`
          of multipliers of it (sklr's scale and shape);
        - ``'momentum'``: the estimator's ``momentum`` as a momentum
          schedule: SGD's momentum, or ``beta_1`` for Adam-type solvers;
        - ``'weight_decay'``: the decoupled weight decay (absolute values).

        Each maps to a frozen ``scipy.stats`` distribution
        (``loguniform(1e-3, 1)``, ``uniform(0.5, 0.45)``) or a list of
        numbers (drawn uniformly; a perturbed value need not be one of
        them). Its support (a list's smallest and largest value) bounds
        every explored value and must lie in
        :math:`[0, \infty)` (the learning rate's above 0, the momentum's in
        :math:`[0, 1]`). The explore step multiplies, so a value of 0 stays 0
        unless resampled.

    population_size : int, default=8
        Number of members (at least 2).

    interval_epochs : int, default=5
        Epochs between two exploit/explore steps; the hyperparameters are
        constant within an interval.

    n_intervals : int, default=6
        Number of intervals; every member trains ``n_intervals *
        interval_epochs`` epochs.

    quantile_fraction : float, default=0.25
        Fraction of the population replaced after each interval:
        :math:`q = \min(\lceil n f \rceil, \lfloor n/2 \rfloor)` worst
        members copy one of the :math:`q` best. ``0`` turns exploit and
        explore off (the members then train independently). In
        :math:`[0, 0.5]`.

    perturbation_factors : sequence of float, default=(0.8, 1.2)
        Factors of the explore step, one drawn uniformly per hyperparameter.
        ``(1.0,)`` copies the hyperparameters unchanged.

    resample_probability : float, default=0.25
        Probability that the explore step draws a hyperparameter afresh from
        its prior instead of perturbing it. In :math:`[0, 1]`.

    scoring : str, callable or None, default=None
        The score members are ranked by (higher is better), on the test part
        of each fold: a scorer name, a callable ``scorer(estimator, X, y)``,
        or None for the estimator's ``score`` (accuracy, :math:`R^2`).

    n_jobs : int, default=None
        Number of jobs training the members x folds of an interval in
        parallel. ``None`` means 1 unless in a :obj:`joblib.parallel_backend`
        context; ``-1`` means all processors. The result does not depend on it.

    refit : bool, default=True
        Whether to refit the winner's lineage from scratch on the whole
        dataset (``best_estimator_``): ``clone(estimator).set_params(
        **best_params_).fit(X, y)``.

    cv : int, cross-validation generator or iterable, default=None
        How the members are scored, as in
        :class:`~sklearn.model_selection.GridSearchCV` (``None`` is 5-fold,
        stratified for classifiers). The population is shared by the folds:
        a member trains one network per fold, all with its hyperparameters,
        and its score is their mean test score. Exploit copies each fold's
        network from the same fold of the better member, so no network ever
        sees its own fold's test rows. A single holdout split
        (``ShuffleSplit(n_splits=1, ...)``, ``PredefinedSplit``) is the
        classic PBT setting and costs one network per member.

    verbose : int, default=0
        Print the best and median score after each interval if ``> 0``.

    pre_dispatch : int or str, default='2*n_jobs'
        Number of jobs dispatched during parallel execution.

    random_state : int, RandomState instance or None, default=None
        Seeds the members' ``random_state``, the first hyperparameters, the
        choice of the members to copy and the explore steps. An int gives the
        same result at every call, for any ``n_jobs``.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        One row per member at the end of the search, in the format of
        :class:`~sklearn.model_selection.GridSearchCV`: ``params`` (its
        lineage's replay parameters, as ``best_params_``),
        ``param_<name>``, ``split<i>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score`` (scores after the last
        interval) and ``mean_fit_time``, ``std_fit_time``,
        ``mean_score_time``, ``std_score_time`` (seconds per fold spent on
        the intervals of the member's lineage).

    history_ : dict of ndarray
        The search interval by interval, arrays of shape ``(n_intervals,
        population_size)`` (row ``t`` is interval ``t``): ``'score'`` (mean
        test score at the end of the interval), the value of each explored
        key of ``param_distributions`` in the interval (``'learning_rate_init'``
        holds the absolute rate), ``'donor'`` (the member whose networks
        this member copied at the end of the interval, -1 if none; always
        -1 in the last row); and ``'epoch'``, shape ``(n_intervals,)``, the
        epoch count at the end of each interval.

    best_index_ : int
        Row of the winner (best final mean test score) in ``cv_results_``.

    best_score_ : float
        The winner's final mean test score.

    best_params_ : dict
        Parameters that replay the winner's lineage from scratch with
        ``set_params``: ``random_state``, ``max_iter``,
        ``n_iter_no_change=inf``, and for each explored hyperparameter its
        schedule (``learning_rate_init`` and ``learning_rate`` for the rate).

    best_schedule_ : PiecewiseConstant or None
        The winner's learning-rate schedule in epochs, as multipliers of
        ``best_params_['learning_rate_init']``; None when the learning rate
        is not explored.

    best_schedules_ : dict of str -> PiecewiseConstant
        The winner's schedule of each explored hyperparameter, by estimator
        parameter: ``'learning_rate'`` (multipliers), ``'momentum'`` and
        ``'weight_decay'`` (absolute values).

    members_ : list of list of estimator
        ``members_[i][k]``: member ``i``'s network trained on fold ``k``
        (None if it diverged), at the end of the search.

    best_estimator_ : estimator
        The winner's lineage refitted on the whole dataset; only if
        ``refit``.

    refit_time_ : float
        Seconds spent refitting; only if ``refit``.

    scorer_ : callable
        The scorer used on the test folds.

    n_splits_ : int
        Number of cross-validation splits.

    multimetric_ : bool
        Always False (one metric ranks the members).

    classes_ : ndarray of shape (n_classes,)
        Class labels; only if ``refit`` and the estimator is a classifier.

    n_features_in_ : int
        Number of features seen during fit; only if ``refit``.

    See Also
    --------
    AnnealingSearchCV : Hyperparameters fixed per fit, searched by annealing.
    sklearn.model_selection.RandomizedSearchCV : Independent random draws.

    Notes
    -----
    The members pause and resume through the estimator's exact resumption
    (a ``checkpoint`` saved during ``fit`` and ``warm_start=True``), so a
    member that was never replaced is bit for bit the uninterrupted ``fit``
    of its lineage's parameters, and ``best_params_`` replays the winner
    exactly on the same training data. The user guide, section
    "Population-based training", has the rules and a worked example.

    ``best_score_`` is optimistic: the test folds that score it also chose
    every exploit along the winner's lineage. Judge the result on data the
    search never saw.

    References
    ----------
    M. Jaderberg et al., "Population Based Training of Neural Networks",
    arXiv:1711.09846, 2017.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_digits
    >>> from sklr import MLPClassifier
    >>> from sklr.model_selection import PopulationSearchCV
    >>> X, y = load_digits(return_X_y=True)
    >>> search = PopulationSearchCV(
    ...     MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", batch_size=64),
    ...     {"learning_rate_init": loguniform(1e-3, 0.5)},
    ...     population_size=4, interval_epochs=2, n_intervals=3, cv=2,
    ...     random_state=0,
    ... ).fit(X / 16, y)
    >>> search.history_["score"].shape
    (3, 4)
    >>> type(search.best_schedule_).__name__
    'PiecewiseConstant'
    >>> search.best_schedule_.preview(6).shape
    (6,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "set_params"])],
        "param_distributions": [dict],
        "population_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "interval_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_intervals": [Interval(numbers.Integral, 1, None, closed="left")],
        "quantile_fraction": [Interval(numbers.Real, 0, 0.5, closed="both")],
        "perturbation_factors": ["array-like"],
        "resample_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [numbers.Integral, None],
        "refit": ["boolean"],
        "cv": ["cv_object"],
        "verbose": ["verbose"],
        "pre_dispatch": [numbers.Integral, str],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        population_size=8,
        interval_epochs=5,
        n_intervals=6,
        quantile_fraction=0.25,
        perturbation_factors=(0.8, 1.2),
        resample_probability=0.25,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.population_size = population_size
        self.interval_epochs = interval_epochs
        self.n_intervals = n_intervals
        self.quantile_fraction = quantile_fraction
        self.perturbation_factors = perturbation_factors
        self.resample_probability = resample_probability
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, groups=None):
        """Run population-based training and refit the winner's lineage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter given as ``cv``.

        Returns
        -------
        self : object
            The fitted search.
        """
        dims = _check_distributions(self.param_distributions)
        factors = _check_factors(self.perturbation_factors)
        _check_estimator(self.estimator, dims)
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        self.multimetric_ = False
        self.scorer_ = check_scoring(self.estimator, self.scoring)
        folds = [
            tuple(_safe_indexing(a, idx) for a, idx in
                  ((X, train), (y, train), (X, test), (y, test)))
            for train, test in splits
        ]

        run = _Run(self, dims, factors, folds)
        run.train()
        self.members_ = run.models
        self.history_ = run.history
        self.cv_results_ = run.results()
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_schedules_ = {
            name: self.best_params_[name]
            for name in ("learning_rate", "momentum", "weight_decay")
            if name in self.best_params_
        }
        self.best_schedule_ = self.best_schedules_.get("learning_rate")
        if self.refit:
            tic = time.perf_counter()
            best = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
            with warnings.catch_warnings():
                # max_iter epochs with n_iter_no_change=inf, as the members trained.
                warnings.simplefilter("ignore", ConvergenceWarning)
                best.fit(X, y)
            self.refit_time_ = time.perf_counter() - tic
            self.best_estimator_ = best
            if hasattr(best, "feature_names_in_"):
                self.feature_names_in_ = best.feature_names_in_
        return self

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        """Not used: :meth:`fit` trains the population itself."""
        raise NotImplementedError(  # pragma: no cover
            "PopulationSearchCV trains its members in fit, not through evaluate_candidates."
        )


class _Run:
    """One run of population-based training: the members, interval by interval."""

    def __init__(self, search, dims, factors, folds):
        self.search = search
        self.dims = dims
        self.factors = factors
        self.folds = folds
        self.n = int(search.population_size)
        self.k = int(search.interval_epochs)
        self.T = int(search.n_intervals)
        self.rng = check_random_state(search.random_state)
        seeds = self.rng.randint(np.iinfo(np.int32).max, size=self.n)
        self.lineages = [
            _Lineage(seed, {d.name: [d.draw(self.rng)] for d in dims}) for seed in seeds
        ]
        self.models = [[clone(search.estimator) for _ in folds] for _ in range(self.n)]
        names = [d.name for d in dims]
        self.history = {
            "score": np.full((self.T, self.n), np.nan),
            **{name: np.full((self.T, self.n), np.nan) for name in names},
            "donor": np.full((self.T, self.n), -1, dtype=np.intp),
            "epoch": self.k * np.arange(1, self.T + 1),
        }
        n_folds = len(folds)
        self.fit_time = np.zeros((self.n, n_folds))
        self.score_time = np.zeros((self.n, n_folds))
        self.split_scores = np.full((self.n, n_folds), np.nan)

    def params(self, member):
        settings = _member_settings(self.k, self.T)
        return {**self.lineages[member].params(self.k), **settings}

    def train(self):
        """Train every interval; one pool of workers for the whole run."""
        search = self.search
        with Parallel(n_jobs=search.n_jobs, pre_dispatch=search.pre_dispatch) as parallel:
            for t in range(self.T):
                scores = self.interval(parallel, t)
                if search.verbose > 0:
                    print(
                        f"[PopulationSearchCV] interval {t + 1}/{self.T} (epoch "
                        f"{(t + 1) * self.k}): best score {np.nanmax(scores):.6g}, "
                        f"median {np.nanmedian(scores):.6g}"
                    )
                if t < self.T - 1:
                    self.exploit_and_explore(t, scores)

    def interval(self, parallel, t):
        """Train interval ``t`` of every member on every fold; the mean scores."""
        # The last interval runs to max_iter: no pause.
        stop = (t + 1) * self.k if t < self.T - 1 else self.T * self.k + 1
        for i, lineage in enumerate(self.lineages):
            for name, value in lineage.current().items():
                self.history[name][t, i] = value
        jobs = [
            (i, f) for i in range(self.n) for f in range(len(self.folds))
            if self.models[i][f] is not None
        ]
        out = parallel(
            delayed(_train_interval)(
                self.models[i][f], self.params(i), self.folds[f], stop, self.k,
                self.search.scorer_,
            )
            for i, f in jobs
        )
        self.split_scores[...] = np.nan
        for (i, f), (model, score, fit_time, score_time) in zip(jobs, out):
            self.models[i][f] = model
            self.split_scores[i, f] = score
            self.fit_time[i, f] += fit_time
            self.score_time[i, f] += score_time
        scores = self.split_scores.mean(axis=1)
        self.history["score"][t] = scores
        if np.all(np.isnan(scores)):
            raise ValueError(
                f"Every member of the population diverged (or scored NaN) in "
                f"interval {t}. Lower the learning rates of param_distributions."
            )
        return scores

    def exploit_and_explore(self, t, scores):
        search = self.search
        donors = _truncation(scores, search.quantile_fraction, self.rng)
        self.history["donor"][t] = donors
        # Copy from the donors as they are now, before any member is replaced.
        lineages = [lineage.copy() for lineage in self.lineages]
        models = list(self.models)
        for i in range(self.n):
            donor = int(donors[i])
            if donor < 0:
                lineages[i].extend(self.lineages[i].current())
                continue
            lineages[i] = self.lineages[donor].copy()
            models[i] = copy.deepcopy(self.models[donor])
            self.fit_time[i] = self.fit_time[donor]
            self.score_time[i] = self.score_time[donor]
            current = lineages[i].current()
            lineages[i].extend({
                d.name: d.explore(current[d.name], self.rng, self.factors,
                                  search.resample_probability)
                for d in self.dims
            })
        self.lineages, self.models = lineages, models

    def results(self):
        """``cv_results_``: one row per member at the end of the run."""
        params = [self.params(i) for i in range(self.n)]
        for p in params:
            p.pop("warm_start")
        results = {}
        for name, values in (("fit_time", self.fit_time), ("score_time", self.score_time)):
            results[f"mean_{name}"] = values.mean(axis=1)
            results[f"std_{name}"] = values.std(axis=1)
        for key in params[0]:
            column = np.ma.MaskedArray(np.empty(self.n, dtype=object), mask=False)
            for i, p in enumerate(params):
                column[i] = p[key]
            results[f"param_{key}"] = column
        results["params"] = params
        for f in range(self.split_scores.shape[1]):
            results[f"split{f}_test_score"] = self.split_scores[:, f].copy()
        scores = self.split_scores.mean(axis=1)
        results["mean_test_score"] = scores
        results["std_test_score"] = self.split_scores.std(axis=1)
        order = _ranking(scores)
        rank = np.empty(self.n, dtype=np.int32)
        for position, i in enumerate(order):
            previous = order[position - 1] if position else None
            same = previous is not None and (
                scores[i] == scores[previous] or np.isnan(scores[i]) and np.isnan(scores[previous])
            )
            rank[i] = rank[previous] if same else position + 1
        results["rank_test_score"] = rank
        return results
