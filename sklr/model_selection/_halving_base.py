"""What the epoch-halving searches share: validation, ``fit``, ``cv_results_``, refit.

:class:`BaseEpochHalving` is a :class:`~sklearn.model_selection.BaseSearchCV`
whose ``fit`` is its own: scikit-learn's ``evaluate_candidates`` fits fresh
clones, and a rung must resume the models of the previous rung. It builds
scikit-learn's per-fit records (:mod:`._halving_fits`) and hands them to
``BaseSearchCV._format_results``, so ``cv_results_`` has scikit-learn's keys
and ranking; it selects the best candidate among those trained to
``max_epochs`` and refits it as ``BaseSearchCV`` does. Subclasses say which
candidates run through which brackets (``_brackets``).
"""

import numbers
import time

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state, indexable

from sklr._compat import (
    BaseSearchCV,
    Interval,
    RealNotInt,
    StrOptions,
    _check_method_params,
    _fit_context,
    _warn_or_raise_about_fit_failures,
)
from sklr._multilayer_perceptron import BaseMultilayerPerceptron
from sklr.model_selection._halving_fits import RungRunner, final_step
from sklr.optimizers import LBFGS

__all__ = ["BaseEpochHalving"]


class BaseEpochHalving(BaseSearchCV):
    """Successive halving over epochs, with resumed fits (abstract)."""

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        # One metric: candidates are ranked by it at every rung.
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        "param_distributions": [dict, list],
        "min_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "factor": [Interval(numbers.Integral, 2, None, closed="left")],
        "rung_cooldown": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "random_state": ["random_state"],
    }

    def _brackets(self, rng):
        """``[(Bracket, candidates), ...]``: implemented by the subclasses."""
        raise NotImplementedError

    # -- checks ----------------------------------------------------------------

    def _check_setup(self):
        """Errors a search would otherwise meet after minutes of fitting."""
        est = final_step(self.estimator)
        if not isinstance(est, BaseMultilayerPerceptron):
            raise TypeError(
                f"{type(self).__name__} resumes sklr fits between rungs, so the estimator "
                "must be sklr's MLPClassifier or MLPRegressor, or a Pipeline ending in "
                f"one; got {type(est).__name__}."
            )
        dists = self.param_distributions
        for grid in dists if isinstance(dists, list) else [dists]:
            if not isinstance(grid, dict):
                raise TypeError(f"param_distributions must hold dicts, got {grid!r}.")
            if self._max_iter_key() in grid:
                raise ValueError(
                    f"param_distributions must not search {self._max_iter_key()}: the "
                    "search sets it (max_epochs, the length every fit is planned for, "
                    "and the rungs)."
                )
        max_epochs = est.max_iter if self.max_epochs is None else self.max_epochs
        if self.min_epochs > max_epochs:
            raise ValueError(
                f"min_epochs={self.min_epochs} is larger than max_epochs={max_epochs}"
                + (" (the estimator's max_iter)." if self.max_epochs is None else ".")
            )
        self.max_epochs_ = int(max_epochs)
        self.min_epochs_ = int(self.min_epochs)

    def _max_iter_key(self):
        """``max_iter``, or ``<last step>__max_iter`` for a Pipeline."""
        if isinstance(self.estimator, Pipeline):
            return self.estimator.steps[-1][0] + "__max_iter"
        return "max_iter"

    def _template(self, params):
        """The unfitted estimator of a candidate, planned for ``max_epochs_``."""
        template = clone(self.estimator).set_params(
            **clone(params, safe=False), **{self._max_iter_key(): self.max_epochs_})
        solver = final_step(template).solver
        if solver == "lbfgs" or isinstance(solver, LBFGS):
            raise ValueError(
                f"{type(self).__name__} pauses fits between rungs, which L-BFGS cannot "
                f"do; candidate {params!r} uses solver='lbfgs'. Search stochastic "
                "solvers only."
            )
        return template

    # -- the search ------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Run successive halving over epochs and refit the best candidate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target.
        **params : dict of str -> object
            Parameters passed to the ``fit`` method of the estimator (split
            along with ``X``), the scorer and the CV splitter (``groups``),
            as in :meth:`sklearn.model_selection.RandomizedSearchCV.fit`.

        Returns
        -------
        self : object
            The fitted search.
        """
        self._check_setup()
        scorer, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, **routed.splitter.split))
        self.n_splits_ = len(splits)
        rng = check_random_state(self.random_state)
        brackets = self._brackets(rng)
        for _, candidates in brackets:
            for candidate in candidates:
                self._template(candidate)  # fails early for L-BFGS
        runner = RungRunner(
            self, splits,
            (X, y, routed.estimator.fit, routed.scorer.score),
            dict(scorer=scorer, error_score=self.error_score,
                 return_train_score=self.return_train_score, n_threads=None),
        )
        with runner.parallel() as parallel:
            for index, (bracket, candidates) in enumerate(brackets):
                runner.run(bracket, candidates, index, parallel)
        _warn_or_raise_about_fit_failures(runner.out, self.error_score)
        results = self._format_results(
            runner.candidate_params, self.n_splits_, runner.out, runner.more)
        self.multimetric_ = False
        self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
        self.best_score_ = results["mean_test_score"][self.best_index_]
        self.best_params_ = results["params"][self.best_index_]
        self.cv_results_ = results
        self.scorer_ = scorer
        self._store_curves(runner, brackets)
        if self.refit:
            self._refit(X, y, routed.estimator.fit)
        return self

    def _refit(self, X, y, fit_params):
        """One uninterrupted fit of ``max_epochs_`` epochs of the best candidate on all of X."""
        self.best_estimator_ = self._template(self.best_params_)
        start = time.perf_counter()
        self.best_estimator_.fit(X, y, **fit_params)
        self.refit_time_ = time.perf_counter() - start
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_

    def _store_curves(self, runner, brackets):
        """The per-candidate curves and counts (see the class docstrings)."""
        self.epochs_trained_ = int(runner.n_epochs)
        self.training_curves_ = np.array(runner.curves)
        rungs = sorted({r for bracket, _ in brackets for r in bracket.epochs})
        self.rung_scores_ = np.array(
            [[scores.get(r, np.nan) for r in rungs] for scores in runner.rung_scores])
        self.rung_epochs_ = np.array(rungs)

    @staticmethod
    def _select_best_index(refit, refit_metric, results):
        """The best mean test score among the rows trained to ``max_epochs``
        (the first of equal scores; row 0 of them if all are NaN)."""
        final = np.flatnonzero(results["n_resources"] == np.max(results["n_resources"]))
        scores = results["mean_test_score"][final]
        if np.isnan(scores).all():
            return final[0]
        return final[np.nanargmax(scores)]
