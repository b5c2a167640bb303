"""The fits of a successive-halving search: one task per candidate and fold.

A task takes the model of one (candidate, fold) pair where the previous rung
left it (None at the first rung), advances its fit to the rung's epoch
(:func:`sklr._pause.advance`: the fit is planned for ``max_epochs`` from the
start and paused at each rung), scores it, and hands the model back with
scikit-learn's record of one fit (the dict ``_fit_and_score`` returns), so
that :meth:`BaseSearchCV._format_results` builds ``cv_results_``. With a
process-parallel backend the model travels to the worker and back pickled;
its state (weights, optimizer arrays, random streams, resume record) pickles
exactly, so results do not depend on ``n_jobs``.

:class:`RungRunner` runs the brackets: the tasks of a rung in one joblib
call, then the survivors of the rung.
"""

import contextlib
import time
import traceback
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import config_context
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from sklr._compat import _check_method_params, _safe_indexing, _score
from sklr._pause import advance, as_if_ended, cooled_copy, is_paused
from sklr._threads import blas_single_threaded, fit_threads_at_most

__all__ = ["RungRunner", "advance_and_score", "final_step"]


def _split(X, y, fit_params, indices):
    X_part = _safe_indexing(X, indices)
    y_part = None if y is None else _safe_indexing(y, indices)
    return X_part, y_part, _check_method_params(X, params=fit_params, indices=indices)


def final_step(model):
    """The sklr estimator of ``model``: itself, or the last step of a Pipeline."""
    return model[-1] if isinstance(model, Pipeline) else model


class _Stepper:
    """Advances ``model`` (an sklr MLP, or a Pipeline ending in one) on a fold.

    A Pipeline's other steps are fitted once, at the first rung, and only
    transform at the later ones (as they would in one uninterrupted fit);
    fit parameters named ``<last step>__<name>`` go to the MLP, the others
    to the steps before it.
    """

    def __init__(self, model, X_train, y_train, fit_params):
        self.model = model
        self.final = final_step(model)
        if not isinstance(model, Pipeline):
            self.X, self.params = X_train, fit_params
            return
        prefix = model.steps[-1][0] + "__"
        self.params = {k[len(prefix):]: v for k, v in fit_params.items()
                       if k.startswith(prefix)}
        others = {k: v for k, v in fit_params.items() if not k.startswith(prefix)}
        if "_state" not in self.final.__dict__:  # not fitted yet
            self.X = model[:-1].fit_transform(X_train, y_train, **others)
        else:
            self.X = model[:-1].transform(X_train)

    def advance(self, y_train, until):
        # A resumed fit has the parameters its first rung validated (the
        # search never changes them): skip scikit-learn's re-validation.
        skip = is_paused(self.final)
        with config_context(skip_parameter_validation=skip):
            advance(self.final, self.X, y_train, until, **self.params)

    def with_final(self, final):
        """``model`` with ``final`` as its sklr estimator (for scoring)."""
        if not isinstance(self.model, Pipeline):
            return final
        return Pipeline(self.model.steps[:-1] + [(self.model.steps[-1][0], final)])

    def judged(self, y_train, cooldown):
        """The model to score: as if ended, or a cooled copy (then its extra epochs)."""
        final = self.final
        if cooldown and is_paused(final):
            cooled = cooled_copy(final, self.X, y_train, cooldown, **self.params)
            return self.with_final(cooled), cooled.history_.n_epochs - final.history_.n_epochs
        return self.with_final(as_if_ended(final)), 0


def advance_and_score(model, template, train, test, until, data, settings):
    """One (candidate, fold) task of a rung.

    Parameters
    ----------
    model : estimator or None
        The fold's model (an sklr MLP, or a Pipeline ending in one) as the
        previous rung left it, or None (a fresh clone of ``template`` is
        fitted).
    template : estimator
        The unfitted candidate (its parameters set, ``max_iter`` the plan).
    train, test : ndarray of int
        The fold's rows.
    until : int
        The rung's epoch.
    data : tuple
        ``(X, y, fit_params, score_params)``.
    settings : dict
        ``scorer``, ``error_score``, ``return_train_score``, ``cooldown``
        (epochs, or 0), ``n_threads`` (None: as the process allows).

    Returns
    -------
    model, out, n_epochs : estimator or None, dict, int
        The model (None once its fit failed), scikit-learn's record of the
        fit (``test_scores``, ``train_scores``, ``n_test_samples``,
        ``fit_time``, ``score_time``, ``fit_error``) and the epochs trained
        by this task (cooldown included).
    """
    X, y, fit_params, score_params = data
    X_train, y_train, fit_train = _split(X, y, fit_params, train)
    X_test, y_test, _ = _split(X, y, {}, test)
    score_test = _check_method_params(X, params=score_params, indices=test)
    score_train = _check_method_params(X, params=score_params, indices=train)
    out = {"n_test_samples": len(test), "fit_error": None}
    error_score = settings["error_score"]
    def limit():
        return (fit_threads_at_most(settings["n_threads"]) if settings["n_threads"]
                else contextlib.nullcontext())
    if model is None:
        model = clone(template)
    final = final_step(model)
    before = final.history_.n_epochs if hasattr(final, "history_") else 0
    start = time.perf_counter()
    try:
        with limit():
            stepper = _Stepper(model, X_train, y_train, fit_train)
            stepper.advance(y_train, until)
    except Exception:
        if error_score == "raise":
            raise
        out.update(fit_time=time.perf_counter() - start, score_time=0.0,
                   fit_error=traceback.format_exc(), test_scores=error_score)
        if settings["return_train_score"]:
            out["train_scores"] = error_score
        return None, out, 0
    out["fit_time"] = time.perf_counter() - start
    n_epochs = final.history_.n_epochs - before
    start = time.perf_counter()
    with limit():
        judged, extra = stepper.judged(y_train, settings["cooldown"])
    n_epochs += extra
    scorer = settings["scorer"]
    # Small products: BLAS threads would cost more than they save (and
    # oversubscribe the cores of a parallel search).
    with blas_single_threaded():
        out["test_scores"] = _score(judged, X_test, y_test, scorer, score_test, error_score)
        if settings["return_train_score"]:
            out["train_scores"] = _score(judged, X_train, y_train, scorer, score_train,
                                         error_score)
    out["score_time"] = time.perf_counter() - start
    return model, out, n_epochs


def _rung_cooldown(cooldown, epochs, max_epochs):
    """Cooldown epochs at a rung of ``epochs`` (0 at the last rung)."""
    if not cooldown or epochs >= max_epochs:
        return 0
    if isinstance(cooldown, float):
        cooldown = int(np.ceil(cooldown * epochs))
    return max(1, min(int(cooldown), max_epochs - epochs))


class RungRunner:
    """Runs the brackets of a search and collects ``cv_results_``'s input.

    Parameters
    ----------
    search : EpochHalvingSearchCV or HyperbandSearchCV
        The search (its ``n_jobs``, ``pre_dispatch``, ``verbose``,
        ``rung_cooldown``, ``max_epochs_`` and ``_template``).
    splits : list of (train, test)
    data : tuple
        ``(X, y, fit_params, score_params)``.
    settings : dict
        See :func:`advance_and_score` (without ``cooldown``).
    """

    def __init__(self, search, splits, data, settings):
        self.search = search
        self.splits = splits
        self.data = data
        self.settings = settings
        n_jobs = effective_n_jobs(search.n_jobs)
        # One OpenMP thread per fit when fits run side by side in processes.
        if settings.get("n_threads") is None and n_jobs > 1:
            self.settings = dict(settings, n_threads=1)
        self.candidate_params = []
        self.out = []
        self.more = {"iter": [], "n_resources": [], "bracket": [], "candidate": []}
        self.n_epochs = 0  # epochs trained by all CV fits (cooldowns included)
        self.curves = []  # per candidate: (mean training loss per epoch)
        self.rung_scores = []  # per candidate: {rung epoch: mean test score}
        self._first_out = {}  # (candidate, fold) -> index in out of its failure

    def run(self, bracket, candidates, bracket_index, parallel):
        """Successive halving of ``candidates`` (list of dicts) over ``bracket``."""
        search, n_splits = self.search, len(self.splits)
        max_epochs = search.max_epochs_
        first = len(self.curves)
        ids = list(range(first, first + len(candidates)))
        templates = {}
        for cid, params in zip(ids, candidates):
            templates[cid] = search._template(params)
            self.curves.append(np.full(max_epochs, np.nan))
            self.rung_scores.append({})
        models = {}
        alive = ids
        for rung, epochs in enumerate(bracket.epochs):
            settings = dict(self.settings, cooldown=_rung_cooldown(
                search.rung_cooldown, epochs, max_epochs))
            if search.verbose > 0:
                print(f"bracket {bracket_index}, rung {rung}: {len(alive)} candidates x "
                      f"{n_splits} folds to epoch {epochs}")
            tasks = [(cid, fold) for cid in alive for fold in range(n_splits)]
            # A fit that failed stays failed (it is not restarted at a later rung).
            failed = {task for task in tasks if task in models and models[task] is None}
            results = iter(parallel(
                delayed(advance_and_score)(
                    models.get(task), templates[task[0]], *self.splits[task[1]],
                    epochs, self.data, settings)
                for task in tasks if task not in failed
            ))
            for task in tasks:
                if task in failed:
                    out = dict(self.out[self._first_out[task]], fit_time=0.0, score_time=0.0)
                    self.out.append(out)
                    continue
                model, out, n_epochs = next(results)
                models[task] = model
                if model is None:
                    self._first_out[task] = len(self.out)
                self.out.append(out)
                self.n_epochs += n_epochs
            for cid in alive:
                self.candidate_params.append(candidates[cid - first])
                self.more["iter"].append(rung)
                self.more["n_resources"].append(epochs)
                self.more["bracket"].append(bracket_index)
                self.more["candidate"].append(cid)
                self._record_curve(cid, [models[(cid, f)] for f in range(n_splits)])
            scores = self._mean_scores(len(alive))
            for cid, score in zip(alive, scores):
                self.rung_scores[cid][epochs] = score
            if rung + 1 < bracket.n_rungs:
                keep = bracket.n_candidates[rung + 1]
                order = np.argsort(-np.where(np.isnan(scores), -np.inf, scores),
                                   kind="stable")
                survivors = sorted(alive[i] for i in order[:keep])
                for cid in set(alive) - set(survivors):
                    for fold in range(n_splits):
                        models.pop((cid, fold), None)
                alive = survivors
        return alive

    def _mean_scores(self, n_candidates):
        """Mean test score over the folds of the last ``n_candidates`` rows."""
        n_splits = len(self.splits)
        last = self.out[len(self.out) - n_candidates * n_splits:]
        scores = np.array([o["test_scores"] for o in last], dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: a failed candidate
            return scores.reshape(n_candidates, n_splits).mean(axis=1)

    def _record_curve(self, cid, models):
        losses = [final_step(m).history_["loss"] for m in models if m is not None]
        if not losses:
            return
        n = min(len(c) for c in losses)
        self.curves[cid][:n] = np.mean([c[:n] for c in losses], axis=0)

    def parallel(self):
        search = self.search
        return Parallel(n_jobs=search.n_jobs, pre_dispatch=search.pre_dispatch)
