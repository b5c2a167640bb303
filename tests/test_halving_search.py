"""EpochHalvingSearchCV and HyperbandSearchCV.

References, none of them the search's own code: fresh uninterrupted fits of
the same parameters on the same folds (resumption), checkpoints captured by
sklr's Checkpoint mechanism during one full-plan fit (schedule-aware rung
scores), the halving counts written out from their definitions and Li et
al.'s table (rungs), scikit-learn's HalvingRandomSearchCV (cv_results_
layout).
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import get_scorer
from sklearn.model_selection import HalvingRandomSearchCV, ParameterSampler, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from sklr import Checkpoint, MLPClassifier
from sklr import schedules as S
from sklr.model_selection import EpochHalvingSearchCV, HyperbandSearchCV
from sklr.model_selection._halving_rungs import halving_bracket, hyperband_brackets

RATES = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:450] / 16, y[:450]


def _mlp(**kw):
    params = dict(hidden_layer_sizes=(12,), batch_size=50, random_state=0,
                  learning_rate=S.OneCycle(), solver="sgd", momentum=0.9)
    return MLPClassifier(**{**params, **kw})


def _search(**kw):
    params = dict(param_distributions={"learning_rate_init": RATES}, max_epochs=9,
                  cv=StratifiedKFold(3), scoring="neg_log_loss", random_state=0)
    return EpochHalvingSearchCV(_mlp(), **{**params, **kw})


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kw)


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    return _quiet(_search().fit, X, y)


def _folds(X, y):
    return list(StratifiedKFold(3).split(X, y))


# -- resumption ----------------------------------------------------------------


def test_survivors_equal_fresh_uninterrupted_fits(digits, fitted):
    """The scores and loss curves of the candidates that reached max_epochs equal
    those of fresh fits of max_epochs epochs on the same folds."""
    X, y = digits
    res = fitted.cv_results_
    scorer = get_scorer("neg_log_loss")
    final = np.flatnonzero(res["n_resources"] == 9)
    assert len(final) == 1
    for row in final:
        params = res["params"][row]
        losses = []
        for k, (train, test) in enumerate(_folds(X, y)):
            fresh = _quiet(_mlp(max_iter=9, **params).fit, X[train], y[train])
            assert res[f"split{k}_test_score"][row] == scorer(fresh, X[test], y[test])
            assert res[f"split{k}_train_score"][row] == scorer(fresh, X[train], y[train])
            losses.append(fresh.loss_curve_)
        curve = fitted.training_curves_[res["candidate"][row]]
        assert_array_equal(curve, np.mean(losses, axis=0))


def test_refit_equals_one_fit_of_max_epochs(digits, fitted):
    X, y = digits
    reference = _quiet(_mlp(max_iter=9, **fitted.best_params_).fit, X, y)
    best = fitted.best_estimator_
    assert best.max_iter == 9 and best.n_iter_ == 9
    for a, b in zip(best.coefs_ + best.intercepts_, reference.coefs_ + reference.intercepts_):
        assert_array_equal(a, b)
    assert_array_equal(fitted.predict_proba(X), reference.predict_proba(X))


# -- schedule-aware scoring ----------------------------------------------------


class _Capture:
    def __init__(self):
        self.saved = {}

    def __call__(self, est, epoch):
        self.saved[epoch] = pickle.dumps(est)


def _paused_reference(X, y, train, params, epochs, max_epochs=9, **kw):
    """The model of one full-plan fit after ``epochs`` epochs (a checkpoint of it)."""
    capture = _Capture()
    _quiet(_mlp(max_iter=max_epochs, checkpoint=Checkpoint(capture), **params, **kw).fit,
           X[train], y[train])
    return pickle.loads(capture.saved[epochs])


def test_rung_scores_are_those_of_the_full_plan_at_the_rung(digits, fitted):
    X, y = digits
    res = fitted.cv_results_
    scorer = get_scorer("neg_log_loss")
    first = np.flatnonzero(res["iter"] == 0)
    for row in first[[0, 4, 8]]:
        params = res["params"][row]
        for k, (train, test) in enumerate(_folds(X, y)):
            paused = _paused_reference(X, y, train, params, 1)
            assert res[f"split{k}_test_score"][row] == scorer(paused, X[test], y[test])
    # ... which is not the score of a fit planned for the rung's epochs.
    row = first[4]
    train, test = _folds(X, y)[0]
    short = _quiet(_mlp(max_iter=1, **res["params"][row]).fit, X[train], y[train])
    assert res["split0_test_score"][row] != scorer(short, X[test], y[test])


def _decay_after(start, length):
    return _LinearTail(start, length)


class _LinearTail:
    """Multiplier 1 before epoch ``start``, then falling linearly to 0 over ``length``."""

    def __init__(self, start, length):
        self.start, self.length = start, length

    def __call__(self, epoch):
        return np.clip(1.0 - (epoch - self.start) / self.length, 0.0, 1.0)


def test_rung_cooldown_scores_a_decayed_branch_and_resumes_the_original(digits):
    X, y = digits
    search = _quiet(_search(rung_cooldown=2, max_epochs=9).fit, X, y)
    plain = _quiet(_search(max_epochs=9).fit, X, y)
    res, ref = search.cv_results_, plain.cv_results_
    scorer = get_scorer("neg_log_loss")
    # Rung 1 (3 epochs): the score of the full-plan fit whose rate is
    # multiplied by a linear decay over epochs 3..5, captured after epoch 5.
    row = np.flatnonzero(res["iter"] == 1)[0]
    params = res["params"][row]
    train, test = _folds(X, y)[0]
    decayed = _paused_reference(
        X, y, train, {}, 5,
        learning_rate=S.Product(S.OneCycle(), S.Lambda(_decay_after(3, 2))),
        learning_rate_init=params["learning_rate_init"])
    np.testing.assert_allclose(res["split0_test_score"][row],
                               scorer(decayed, X[test], y[test]), rtol=1e-9)
    ref_row = np.flatnonzero((ref["iter"] == 1) & (ref["candidate"] == res["candidate"][row]))
    if ref_row.size:  # the same candidate without cooldown scores otherwise
        assert res["split0_test_score"][row] != ref["split0_test_score"][ref_row[0]]
    # Survivors resume from their un-cooled state: the final rung's models
    # are the uninterrupted fits, whatever the cooldowns before.
    final = np.flatnonzero(res["n_resources"] == 9)[0]
    fresh = _quiet(_mlp(max_iter=9, **res["params"][final]).fit, X[train], y[train])
    assert res["split0_test_score"][final] == scorer(fresh, X[test], y[test])
    # The cooldown epochs are counted: 2 per candidate at the rungs of 1 and
    # 3 epochs (9 and 3 candidates), none at the last, on 3 folds.
    assert search.epochs_trained_ == plain.epochs_trained_ + 3 * (9 * 2 + 3 * 2)


# -- halving arithmetic and cv_results_ ------------------------------------------


def _expected_rungs(n, factor, min_epochs, max_epochs):
    """The counts written from their definitions, with floats (checked exact)."""
    import math

    n_possible = 1 + int(math.floor(math.log(max_epochs / min_epochs, factor) + 1e-9))
    n_required = 1 + int(math.floor(math.log(n, factor) + 1e-9))
    k = min(n_possible, n_required)
    return ([math.ceil(n / factor**i) for i in range(k)],
            [max_epochs // factor ** (k - 1 - i) for i in range(k)])


@pytest.mark.parametrize("n, factor, lo, hi", [
    (27, 3, 1, 27), (10, 3, 1, 81), (100, 3, 2, 20), (9, 2, 1, 100), (5, 4, 3, 3),
    (64, 2, 1, 8), (50, 5, 1, 30)])
def test_rungs_follow_the_closed_form(n, factor, lo, hi):
    bracket = halving_bracket(n, lo, hi, factor)
    assert (bracket.n_candidates, bracket.epochs) == _expected_rungs(n, factor, lo, hi)
    assert bracket.epochs[-1] == hi and bracket.epochs[0] >= lo


def test_hyperband_brackets_are_li_et_al_table():
    # Li et al. (2018), Table 1: R = 81, eta = 3 (n_i, r_i) per bracket.
    table = [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    brackets = hyperband_brackets(1, 81, 3)
    assert [list(zip(b.n_candidates, b.epochs)) for b in brackets] == table
    # Resumed, rung i only adds n_i * (r_i - r_{i-1}) epochs.
    assert [b.epochs_per_fold() for b in brackets] == [
        sum(n * (r - r0) for (n, r), (_, r0) in zip(rows, [(0, 0)] + rows[:-1]))
        for rows in table]


def test_survivors_are_the_best_of_each_rung(digits, fitted):
    res = fitted.cv_results_
    assert fitted.n_candidates_ == [9, 3, 1] and fitted.n_resources_ == [1, 3, 9]
    assert list(np.bincount(res["iter"])) == [9, 3, 1]
    for rung in (0, 1):
        rows = np.flatnonzero(res["iter"] == rung)
        scores = res["mean_test_score"][rows]
        keep = fitted.n_candidates_[rung + 1]
        best = set(res["candidate"][rows[np.argsort(-scores, kind="stable")[:keep]]])
        assert set(res["candidate"][res["iter"] == rung + 1]) == best
    assert fitted.best_index_ == np.flatnonzero(res["iter"] == 2)[0]
    # rung_scores_ and training_curves_ line up with the rows.
    for row in range(len(res["params"])):
        rung = list(fitted.rung_epochs_).index(res["n_resources"][row])
        assert fitted.rung_scores_[res["candidate"][row], rung] == res["mean_test_score"][row]
    eliminated = res["candidate"][(res["iter"] == 0)]
    eliminated = [c for c in eliminated if c not in res["candidate"][res["iter"] == 1]]
    assert np.isnan(fitted.training_curves_[eliminated, 1:]).all()
    assert not np.isnan(fitted.training_curves_[eliminated, 0]).any()
    # Epochs per fold: 9 x 1 + 3 x (3 - 1) + 1 x (9 - 3), three folds.
    assert fitted.epochs_trained_ == 3 * (9 + 6 + 6)


def test_cv_results_layout_matches_scikit_learn_halving(digits, fitted):
    X, y = digits
    theirs = _quiet(HalvingRandomSearchCV(
        SGDClassifier(loss="log_loss", random_state=0), {"alpha": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 2, 3, 4]},
        n_candidates=9, factor=3, resource="max_iter", min_resources=1, max_resources=9,
        cv=StratifiedKFold(3), scoring="neg_log_loss", random_state=0,
        error_score=np.nan).fit, X, y)
    ours, ref = fitted.cv_results_, theirs.cv_results_
    keys = {k for k in ours if not k.startswith("param_")}
    ref_keys = {k for k in ref if not k.startswith("param_")}
    assert keys - ref_keys == {"bracket", "candidate"}
    assert ref_keys <= keys
    # scikit-learn adds the resource as a parameter column; we set max_iter ourselves.
    assert "param_max_iter" in ref and "param_max_iter" not in ours
    for key in set(ours) & set(ref):
        if not key.startswith("param"):
            assert np.shape(ours[key]) == np.shape(ref[key]), key
    assert_array_equal(ours["iter"], ref["iter"])
    assert_array_equal(ours["n_resources"], ref["n_resources"])
    for name in ("n_candidates_", "n_resources_", "n_iterations_", "n_possible_iterations_",
                 "n_required_iterations_", "n_remaining_candidates_", "min_resources_",
                 "max_resources_"):
        assert getattr(fitted, name) == getattr(theirs, name), name


def test_a_pipeline_resumes_its_last_step_and_fits_the_others_once(digits):
    X, y = digits
    X = X * 16  # raw pixels, for the scaler to matter
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", _mlp())])
    search = _quiet(EpochHalvingSearchCV(
        pipe, {"mlp__learning_rate_init": RATES[:6]}, max_epochs=4, factor=2,
        cv=StratifiedKFold(3), scoring="neg_log_loss", random_state=0).fit, X, y)
    res = search.cv_results_
    scorer = get_scorer("neg_log_loss")
    final = np.flatnonzero(res["n_resources"] == 4)
    for row in final:
        for k, (train, test) in enumerate(_folds(X, y)):
            fresh = _quiet(Pipeline([("scale", StandardScaler()), (
                "mlp", _mlp(max_iter=4, learning_rate_init=res["params"][row][
                    "mlp__learning_rate_init"]))]).fit, X[train], y[train])
            assert res[f"split{k}_test_score"][row] == scorer(fresh, X[test], y[test])
    assert search.best_estimator_[-1].max_iter == 4
    with pytest.raises(ValueError, match="mlp__max_iter"):
        EpochHalvingSearchCV(pipe, {"mlp__max_iter": [3]}, max_epochs=4).fit(X, y)


def test_candidates_are_scikit_learns_draws(digits):
    X, y = digits
    space = {"learning_rate_init": loguniform(1e-3, 1.0), "momentum": [0.0, 0.9]}
    search = _quiet(_search(param_distributions=space, n_candidates=5, max_epochs=2,
                            factor=2, cv=2).fit, X, y)
    drawn = list(ParameterSampler(space, 5, random_state=np.random.RandomState(0)))
    res = search.cv_results_
    assert [p for p, i in zip(res["params"], res["iter"]) if i == 0] == drawn
    assert search.n_candidates_ == [5, 3]


# -- parallelism -----------------------------------------------------------------


def test_results_do_not_depend_on_n_jobs(digits):
    X, y = digits
    with threadpool_limits(limits=1, user_api="openmp"):
        one = _quiet(_search(max_epochs=4, factor=2, cv=2, rung_cooldown=1).fit, X, y)
    two = _quiet(_search(max_epochs=4, factor=2, cv=2, rung_cooldown=1, n_jobs=2).fit, X, y)
    for key in one.cv_results_:
        if "time" in key:
            continue
        a, b = one.cv_results_[key], two.cv_results_[key]
        if key == "params":
            assert list(a) == list(b)
        else:
            assert_array_equal(np.asarray(a), np.asarray(b), err_msg=key)
    assert_array_equal(one.training_curves_, two.training_curves_)
    assert one.epochs_trained_ == two.epochs_trained_


# -- hyperband -------------------------------------------------------------------


def test_hyperband_runs_its_brackets_and_picks_among_full_fits(digits):
    X, y = digits
    search = _quiet(HyperbandSearchCV(
        _mlp(), {"learning_rate_init": RATES}, max_epochs=4, factor=2, cv=2,
        scoring="neg_log_loss", random_state=0).fit, X, y)
    assert [b["n_candidates"] for b in search.brackets_] == [[4, 2, 1], [3, 1], [3]]
    assert [b["epochs"] for b in search.brackets_] == [[1, 2, 4], [2, 4], [4]]
    res = search.cv_results_
    assert list(np.bincount(res["bracket"])) == [7, 4, 3]
    final = np.flatnonzero(res["n_resources"] == 4)
    assert list(res["bracket"][final]) == [0, 1, 2, 2, 2]
    assert search.best_index_ == final[np.argmax(res["mean_test_score"][final])]
    assert search.best_score_ == np.max(res["mean_test_score"][final])


def test_hyperband_counts_follow_a_grid_smaller_than_its_draws(digits):
    X, y = digits
    with pytest.warns(UserWarning, match="is smaller than n_iter"):
        search = _quiet(HyperbandSearchCV(
            _mlp(), {"learning_rate_init": [0.01, 0.1, 1.0]}, max_epochs=4, factor=2,
            cv=2, random_state=0).fit, X, y)
    # 4 draws wanted in the first bracket, 3 exist: floor(3 / 2**i), at least 1.
    assert search.brackets_[0]["n_candidates"] == [3, 1, 1]
    assert list(np.bincount(search.cv_results_["bracket"])) == [5, 4, 3]


# -- failures and errors ---------------------------------------------------------


def test_a_failing_candidate_fails_stays_failed_and_ranks_last(digits):
    X, y = digits
    grid = [{"learning_rate_init": [1e-2]},
            {"learning_rate_init": [1e-2], "hidden_layer_sizes": [(0,), (3, 0)]}]  # fit raises
    with pytest.warns(FitFailedWarning, match="hidden_layer_sizes must be > 0"):
        search = _quiet(_search(param_distributions=grid, max_epochs=4, factor=2).fit, X, y)
    res = search.cv_results_
    assert search.n_candidates_ == [3, 2]  # a failed candidate survives rung 0
    bad = np.array(["hidden_layer_sizes" in p for p in res["params"]])
    assert bad.sum() == 3 and np.isnan(res["mean_test_score"][bad]).all()
    assert (res["rank_test_score"][bad] == res["rank_test_score"].max()).all()
    # ... and is not fitted again (from scratch) at rung 1.
    assert (res["mean_fit_time"][bad & (res["iter"] == 1)] == 0).all()
    assert "hidden_layer_sizes" not in search.best_params_


@pytest.mark.parametrize("kw, error, match", [
    (dict(param_distributions={"max_iter": [5, 10]}), ValueError, "max_iter"),
    (dict(min_epochs=20), ValueError, "min_epochs=20 is larger than max_epochs=9"),
    (dict(factor=1), InvalidParameterError, "factor"),
    (dict(rung_cooldown=0), InvalidParameterError, "rung_cooldown"),
    (dict(scoring=["accuracy", "neg_log_loss"]), InvalidParameterError, "scoring"),
    (dict(refit="accuracy"), InvalidParameterError, "refit"),
    (dict(param_distributions={"learning_rate_init": [0.1], "solver": ["lbfgs"]}),
     ValueError, "L-BFGS"),
    (dict(param_distributions={"learning_rate_init": loguniform(1e-3, 1)}), TypeError,
     "to draw from distributions, set n_candidates"),
])
def test_bad_parameters_raise_before_fitting(digits, kw, error, match):
    X, y = digits
    with pytest.raises(error, match=match):
        _search(**kw).fit(X, y)


def test_estimator_must_be_an_sklr_mlp(digits):
    X, y = digits
    with pytest.raises(TypeError, match="MLPClassifier or MLPRegressor"):
        EpochHalvingSearchCV(SGDClassifier(), {"alpha": [1e-4]}, max_epochs=3).fit(X, y)
    with pytest.raises(TypeError, match="Pipeline ending in one; got SGDClassifier"):
        EpochHalvingSearchCV(Pipeline([("sgd", SGDClassifier())]), {"sgd__alpha": [1e-4]},
                             max_epochs=3).fit(X, y)


def test_public_names_and_doctests():
    import doctest

    import sklr.model_selection as ms
    from sklr.model_selection import _halving, _halving_hyperband

    assert {"EpochHalvingSearchCV", "HyperbandSearchCV"} <= set(ms.__all__)
    for module in (_halving, _halving_hyperband):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0
