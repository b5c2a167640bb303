"""Tests of sklr.model_selection.AnnealingSearchCV."""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import loguniform, multivariate_normal, norm, poisson, randint, uniform
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, RandomizedSearchCV

from sklr import MLPClassifier, optimizers, schedules
from sklr._compat import InvalidParameterError
from sklr.model_selection import AnnealingSearchCV
from sklr.model_selection._annealing_cooling import (
    _acceptance_probability,
    _metropolis,
    _next_log_gain,
    _round_temperatures,
    _StepLength,
)
from sklr.model_selection._annealing_space import (
    _Categorical,
    _Continuous,
    _fold,
    _Integer,
    _n_starting_points,
    _SearchSpace,
)
from sklr.model_selection._annealing_state import _Walk

X_TINY = np.arange(24, dtype=np.float64).reshape(12, 2)
Y_TINY = np.tile([0, 1], 6)


class Objective(BaseEstimator):
    """Fits nothing; its score is a known function of its parameters.

    ``shape='quadratic'``: ``-(log10 C + 2)^2 - (log10 gamma - 1)^2``, minus
    0.5 unless ``kind == 'good'``; maximum 0 at C=1e-2, gamma=10, 'good'.
    ``shape='flat'``: always 0.5. ``shape='fold'``: the sum of the first
    column of the test fold (depends only on the fold). ``shape='fail'``:
    fit raises for C > 1.
    """

    def __init__(self, C=1.0, gamma=1.0, kind="good", n=1, shape="quadratic"):
        self.C = C
        self.gamma = gamma
        self.kind = kind
        self.n = n
        self.shape = shape

    def fit(self, X, y=None):
        if self.shape == "fail" and self.C > 1:
            raise ValueError("C too large")
        return self

    def score(self, X, y=None):
        if self.shape == "flat":
            return 0.5
        if self.shape == "fold":
            return float(np.sum(X[:, 0]))
        penalty = 0.0 if self.kind == "good" else 0.5
        return float(
            -((math.log10(self.C) + 2) ** 2)
            - (math.log10(self.gamma) - 1) ** 2
            - penalty
        )


SPACE = {
    "C": loguniform(1e-6, 1e2),
    "gamma": loguniform(1e-3, 1e3),
    "kind": ["bad", "good", "worse"],
}


def _search(estimator=None, space=None, **kwargs):
    kwargs.setdefault("cv", 2)
    return AnnealingSearchCV(
        Objective() if estimator is None else estimator,
        SPACE if space is None else space,
        **kwargs,
    )


@pytest.mark.parametrize(
    "n_iter, batch_size, n_initial_points, n_start",
    [
        (1, 1, 0.25, 1),
        (7, 1, 0.25, 2),
        (10, 3, 0.25, 3),
        (10, 4, 1, 1),
        (5, 8, 3, 3),
        (12, 4, 0.5, 6),
        (4, 2, 10, 4),
        (9, 2, 1.0, 9),
        # 'auto': a quarter of n_iter, at least d + 1 = 4, at most n_iter.
        (10, 1, "auto", 4),
        (40, 2, "auto", 10),
        (3, 1, "auto", 3),
    ],
)
def test_number_of_candidates_and_rounds(n_iter, batch_size, n_initial_points, n_start):
    search = _search(
        n_iter=n_iter,
        batch_size=batch_size,
        n_initial_points=n_initial_points,
        random_state=0,
    )
    search.fit(X_TINY, Y_TINY)
    res = search.cv_results_
    assert len(res["params"]) == n_iter
    for key in (
        "iter",
        "parent_index",
        "temperature",
        "step_scale",
        "current_score",
        "acceptance_probability",
        "accepted",
        "mean_test_score",
        "rank_test_score",
        "param_C",
    ):
        assert len(res[key]) == n_iter, key
    # Round 0 holds the starting points, every later round batch_size
    # candidates except possibly the last.
    expected = [0] * n_start
    k = 1
    while len(expected) < n_iter:
        expected += [k] * min(batch_size, n_iter - len(expected))
        k += 1
    assert_array_equal(res["iter"], expected)
    assert np.all(res["parent_index"][:n_start] == -1)
    assert np.all(res["parent_index"][n_start:] >= 0)
    assert np.all(np.isnan(res["temperature"][:n_start]))
    assert np.all(np.isnan(res["step_scale"][:n_start]))
    assert np.all(res["step_scale"][n_start:] > 0)
    assert np.all(res["accepted"][:n_start])


def test_proposals_stay_in_the_support():
    marker = object()
    space = {
        "C": loguniform(1e-3, 1e1),
        "gamma": uniform(-1.0, 2.0),
        "n": randint(2, 6),
        "kind": ["a", None, marker],
        "ordered": [1, 2, 4, 8, 16],
        "real": norm(0, 1),
        "count": poisson(3),
    }

    class Free(BaseEstimator):
        def __init__(self, C=1, gamma=0, n=1, kind=None, ordered=1, real=0, count=0):
            self.C, self.gamma, self.n, self.kind = C, gamma, n, kind
            self.ordered, self.real, self.count = ordered, real, count

        def fit(self, X, y=None):
            return self

        def score(self, X, y=None):  # rewards the extremes of C and n
            return abs(math.log10(self.C) + 1) + abs(self.n - 3.5)

    search = _search(
        Free(), space, n_iter=150, batch_size=5, step_scale=3.0, random_state=0,
        initial_temperature=1.0,
    )
    search.fit(X_TINY, Y_TINY)
    params = search.cv_results_["params"]
    C = np.array([p["C"] for p in params])
    g = np.array([p["gamma"] for p in params])
    n = np.array([p["n"] for p in params])
    count = np.array([p["count"] for p in params])
    assert np.all((C >= 1e-3) & (C <= 1e1))
    assert np.all((g >= -1.0) & (g <= 1.0))
    assert all(type(p["n"]) is int for p in params)
    assert np.all((n >= 2) & (n <= 5))
    assert set(n) == {2, 3, 4, 5}  # the whole support is reachable
    assert all(type(p["count"]) is int for p in params)
    assert np.all(count >= 0)
    assert all(np.isfinite(p["real"]) for p in params)
    assert all(p["ordered"] in (1, 2, 4, 8, 16) for p in params)
    assert all(any(p["kind"] is v for v in ("a", None, marker)) for p in params)
    # Big steps fold at the bounds instead of piling up outside them.
    assert C.min() < 2e-3 and C.max() > 5.0


def test_categorical_schedules_and_ordered_lists():
    sched = [
        schedules.Constant(),
        schedules.StepDecay(step_size=10, gamma=0.5),
        schedules.CosineAnnealing(period=20, unit="epoch"),
    ]
    space = {"kind": sched, "n": [1, 2, 3, 4, 5, 6, 7, 8], "C": [3.0, 2.0, 1.0]}
    search = _search(
        space=space, n_iter=40, random_state=1, initial_temperature=10.0,
        cooling=0.8,
    )
    search.fit(X_TINY, Y_TINY)
    params = search.cv_results_["params"]
    assert all(any(p["kind"] is s for s in sched) for p in params)
    assert {id(p["kind"]) for p in params} == {id(s) for s in sched}
    assert all(p["n"] in range(1, 9) for p in params)
    assert all(p["C"] in (1.0, 2.0, 3.0) for p in params)
    # Ordered lists move to nearby positions once the steps are short: with
    # sigma * W = sigma * 7 < 0.2, every move of n is by one position.
    res = search.cv_results_
    rows = np.flatnonzero(res["step_scale"] * 7 < 0.2)
    assert len(rows) >= 5
    steps = [
        abs(params[i]["n"] - params[res["parent_index"][i]]["n"]) for i in rows
    ]
    assert max(steps) == 1 and min(steps) == 0


def test_reproducible_with_random_state():
    a = _search(n_iter=15, batch_size=2, random_state=3).fit(X_TINY, Y_TINY)
    b = _search(n_iter=15, batch_size=2, random_state=3).fit(X_TINY, Y_TINY)
    c = _search(n_iter=15, batch_size=2, random_state=4).fit(X_TINY, Y_TINY)
    assert a.cv_results_["params"] == b.cv_results_["params"]
    for key in (
        "mean_test_score",
        "accepted",
        "temperature",
        "step_scale",
        "parent_index",
    ):
        assert_array_equal(a.cv_results_[key], b.cv_results_[key])
    assert a.cv_results_["params"] != c.cv_results_["params"]
    # A RandomState instance is consumed: two fits differ.
    rs = np.random.RandomState(0)
    search = _search(n_iter=5, random_state=rs)
    first = search.fit(X_TINY, Y_TINY).cv_results_["params"]
    assert search.fit(X_TINY, Y_TINY).cv_results_["params"] != first


def test_n_jobs_does_not_change_the_search():
    X, y = load_iris(return_X_y=True)
    space = {"C": loguniform(1e-3, 1e2), "fit_intercept": [True, False]}
    est = LogisticRegression(max_iter=200)
    kw = dict(n_iter=9, batch_size=3, cv=3, random_state=0)
    one = AnnealingSearchCV(est, space, n_jobs=1, **kw).fit(X, y)
    two = AnnealingSearchCV(est, space, n_jobs=2, **kw).fit(X, y)
    assert one.cv_results_["params"] == two.cv_results_["params"]
    assert_allclose(
        one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"]
    )
    assert_array_equal(one.cv_results_["accepted"], two.cv_results_["accepted"])
    assert_array_equal(one.cv_results_["step_scale"], two.cv_results_["step_scale"])


@pytest.mark.parametrize("batch_size", [1, 3])
def test_acceptance_rule_rederived_from_cv_results(batch_size):
    search = _search(
        n_iter=60, batch_size=batch_size, initial_temperature=1.0, random_state=0
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    score = res["mean_test_score"]
    parent = res["parent_index"]
    n_worse_accepted = n_worse_rejected = 0
    state = None  # row of the current point of the walk
    for k in range(res["iter"].max() + 1):
        rows = np.flatnonzero(res["iter"] == k)
        if k == 0:
            state = rows[np.argmax(score[rows])]
            continue
        for i in rows:
            assert parent[i] == state
            assert res["current_score"][i] == score[state]
            delta = score[state] - score[i]
            if delta <= 0:
                assert res["acceptance_probability"][i] == 1.0
                assert res["accepted"][i]
            else:
                T = res["temperature"][i]
                assert_allclose(
                    res["acceptance_probability"][i], np.exp(-delta / T), rtol=1e-13
                )
                n_worse_accepted += res["accepted"][i]
                n_worse_rejected += not res["accepted"][i]
        accepted = rows[res["accepted"][rows]]
        if len(accepted):
            state = accepted[np.argmax(score[accepted])]
    assert n_worse_accepted > 0 and n_worse_rejected > 0


def test_extreme_temperatures():
    hot = _search(n_iter=30, initial_temperature=1e6, random_state=0)
    assert hot.fit(X_TINY, Y_TINY).cv_results_["accepted"].all()
    cold = _search(n_iter=30, initial_temperature=1e-12, random_state=0)
    res = cold.fit(X_TINY, Y_TINY).cv_results_
    worse = res["mean_test_score"] < res["current_score"]
    assert worse.any()
    assert not res["accepted"][worse].any()


def _expected_temperatures(T0, cooling, K):
    out = []
    for k in range(1, K + 1):
        f = (k - 1) / max(K - 1, 1)
        if cooling == "exponential":
            out.append(T0 * 0.1**f)
        elif cooling == "linear":
            out.append(T0 * (1 - 0.9 * f))
        elif cooling == "log":
            out.append(T0 / (1 + math.log(k)))
        else:
            out.append(T0 * cooling ** (k - 1))
    return np.array(out)


@pytest.mark.parametrize("cooling", ["exponential", "linear", "log", 0.7])
@pytest.mark.parametrize("n_iter, batch_size", [(13, 1), (11, 3)])
def test_temperature_follows_cooling(cooling, n_iter, batch_size):
    search = _search(
        n_iter=n_iter,
        batch_size=batch_size,
        initial_temperature=0.3,
        cooling=cooling,
        random_state=0,
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    K = res["iter"].max()
    per_round = np.array(
        [res["temperature"][res["iter"] == k] for k in range(1, K + 1)], dtype=object
    )
    for k, temps in enumerate(per_round, start=1):
        assert np.all(temps == temps[0])  # one temperature per round
    got = np.array([t[0] for t in per_round], dtype=float)
    assert_allclose(got, _expected_temperatures(0.3, cooling, K), rtol=1e-12)
    assert got[0] == 0.3
    assert np.all(np.diff(got) < 0)


def test_step_size_shrinks_with_temperature():
    # Without the success rule the steps follow the temperature alone.
    space = {"C": loguniform(1e-6, 1e6), "n": randint(0, 1001)}
    search = _search(
        Objective(shape="flat"), space, n_iter=81, random_state=0, step_scale=0.5,
        cooling=0.94, n_initial_points=1, adapt_step=False,
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    assert res["accepted"].all()  # flat: every move is accepted
    assert_allclose(res["step_scale"][1:], 0.5 * 0.94 ** np.arange(80), rtol=1e-12)
    params, parent = res["params"], res["parent_index"]
    log_steps = np.array(
        [abs(np.log10(params[i]["C"] / params[parent[i]]["C"])) for i in range(1, 81)]
    )
    n_steps = np.array(
        [abs(params[i]["n"] - params[parent[i]]["n"]) for i in range(1, 81)]
    )
    # Early (r from 1 to 0.4) vs late rounds (r from 0.018 to 0.008): with
    # step_scale=0.5 the C steps go from ~6 decades down to ~0.1.
    assert log_steps[:15].mean() > 10 * log_steps[-15:][log_steps[-15:] > 0].mean()
    assert n_steps[:15].mean() > 10 * n_steps[-15:][n_steps[-15:] > 0].mean()
    # At the end (sigma * W <= 0.5 * 0.018 * 1000 = 9) no step spans 5% of
    # the range, while the first ones span a large part of it.
    assert n_steps[-15:].max() <= 50
    assert n_steps[:15].max() > 200


def _expected_step_scales(res, step_scale, T0):
    """sigma_k rederived from cv_results_ by the documented 1/5th rule."""
    log_gain, out = 0.0, []
    for k in range(1, res["iter"].max() + 1):
        rows = np.flatnonzero(res["iter"] == k)
        ratio = res["temperature"][rows[0]] / T0
        out += [min(step_scale, step_scale * ratio * math.exp(log_gain))] * len(rows)
        n_success = int(np.sum(res["acceptance_probability"][rows] == 1.0))
        n_fail = len(rows) - n_success
        log_gain = min(max(log_gain + n_success / 3 - n_fail / 12, -math.log(10)),
                       math.log(10))
    return np.array(out)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_step_scale_follows_the_success_rule(batch_size):
    search = _search(
        n_iter=61, batch_size=batch_size, initial_temperature=1.0, step_scale=0.3,
        n_initial_points=4, random_state=0,
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    sigma = res["step_scale"][4:]
    assert_allclose(sigma, _expected_step_scales(res, 0.3, 1.0), rtol=1e-12)
    # The factor g_k = sigma_k / (s r_k) moved both ways in this walk.
    gain = sigma / (0.3 * res["temperature"][4:])
    assert gain.max() > 1.2 and gain.min() < 0.8


def test_steps_lengthen_on_a_plateau():
    # Every proposal ties: each succeeds, so g grows by e^(1/3) per proposal
    # up to 10, and the steps stay long while the temperature falls.
    space = {"C": loguniform(1e-6, 1e6), "n": randint(0, 1001)}
    kw = dict(n_iter=41, random_state=0, cooling=0.9, n_initial_points=1)
    res = _search(Objective(shape="flat"), space, **kw).fit(X_TINY, Y_TINY).cv_results_
    k = np.arange(40)
    expected = np.minimum(0.5, 0.5 * 0.9**k * np.exp(np.minimum(k / 3, math.log(10))))
    assert_allclose(res["step_scale"][1:], expected, rtol=1e-12)
    assert res["step_scale"][-1] == pytest.approx(0.5 * 0.9**39 * 10)
    fixed = _search(Objective(shape="flat"), space, adapt_step=False, **kw)
    fixed_res = fixed.fit(X_TINY, Y_TINY).cv_results_

    def late_n_steps(r):
        p, parent = r["params"], r["parent_index"]
        return np.mean([abs(p[i]["n"] - p[parent[i]]["n"]) for i in range(21, 41)])

    assert late_n_steps(res) > 3 * late_n_steps(fixed_res)


def test_steps_shorten_when_every_proposal_is_worse():
    # The walk starts at the maximum of a one-parameter objective and,
    # nearly frozen, never leaves it: every proposal fails, so g shrinks by
    # e^(-1/12) per proposal down to 1/10.
    search = _search(
        space={"C": loguniform(1e-6, 1e2)}, n_iter=41, n_initial_points=1,
        initial_params={"C": 1e-2}, initial_temperature=1e-12, cooling=0.95,
        random_state=0,
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    assert not res["accepted"][1:].any()
    k = np.arange(40)
    expected = 0.5 * 0.95**k * np.exp(-np.minimum(k / 12, math.log(10)))
    assert_allclose(res["step_scale"][1:], expected, rtol=1e-12)
    assert res["step_scale"][-1] == pytest.approx(0.5 * 0.95**39 / 10)


def test_starting_points_are_a_latin_hypercube():
    space = {
        "C": loguniform(1e-6, 1e2),
        "gamma": loguniform(1e-3, 1e3),
        "n": randint(0, 6),
        "kind": ["bad", "good", "worse"],
    }
    m = 12
    for seed in range(3):
        search = _search(space=space, n_iter=m, n_initial_points=m, random_state=seed)
        params = search.fit(X_TINY, Y_TINY).cv_results_["params"]
        for name in ("C", "gamma"):
            u = space[name].cdf([p[name] for p in params])
            assert sorted(np.floor(u * m).astype(int)) == list(range(m))
        # 12 slices over 6 integers and 3 list values: each value equally
        # often.
        assert sorted(p["n"] for p in params) == sorted(list(range(6)) * 2)
        kinds = [p["kind"] for p in params]
        assert all(kinds.count(v) == 4 for v in space["kind"])


def _best_random(seed, n_iter):
    rs = RandomizedSearchCV(Objective(), SPACE, n_iter=n_iter, cv=2, random_state=seed)
    return rs.fit(X_TINY, Y_TINY).best_score_


def test_finds_the_optimum_and_beats_random_search():
    n_iter, seeds = 40, range(10)
    annealing = [
        _search(n_iter=n_iter, random_state=s).fit(X_TINY, Y_TINY).best_score_
        for s in seeds
    ]
    random = [_best_random(s, n_iter) for s in seeds]
    # Maximum 0; -0.25 means within ~0.35 decade of both optima, 'good'
    # kind (random search: about -0.5 at this budget).
    assert np.mean(annealing) > -0.25
    assert np.mean(annealing) > np.mean(random)


def test_best_params_is_argmax_of_mean_test_score():
    search = _search(n_iter=25, batch_size=2, initial_temperature=1.0, random_state=2)
    search.fit(X_TINY, Y_TINY)
    res = search.cv_results_
    i = int(np.argmax(res["mean_test_score"]))
    assert search.best_index_ == i
    assert search.best_params_ == res["params"][i]
    assert search.best_score_ == res["mean_test_score"][i]
    assert res["rank_test_score"][i] == 1


def test_initial_params_start_the_walk():
    search = _search(
        n_iter=6, n_initial_points=2, initial_params={"C": 0.5, "kind": "bad"},
        random_state=0,
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    params = res["params"]
    assert params[0]["C"] == 0.5 and params[0]["kind"] == "bad"
    assert 1e-3 <= params[0]["gamma"] <= 1e3  # not named: drawn
    assert params[1]["C"] != 0.5  # the other starting point is random
    # The walk starts from the better of the two.
    assert res["parent_index"][2] == np.argmax(res["mean_test_score"][:2])


def test_folds_are_the_same_in_every_round():
    # A shuffling splitter without a random_state gives new folds on every
    # split() call; the search must reuse the first ones.
    search = _search(
        Objective(shape="fold"), n_iter=8, cv=KFold(3, shuffle=True), random_state=0
    )
    res = search.fit(X_TINY, Y_TINY).cv_results_
    for s in range(3):
        assert np.unique(res[f"split{s}_test_score"]).size == 1


def test_failed_fits_are_never_accepted():
    space = {"C": loguniform(1e-2, 1e2)}
    search = _search(
        Objective(shape="fail"), space, n_iter=30, batch_size=3,
        initial_temperature=1e6, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (FitFailedWarning, UserWarning))
        res = search.fit(X_TINY, Y_TINY).cv_results_
    failed = np.isnan(res["mean_test_score"]) & (res["iter"] > 0)
    assert failed.any()
    assert not res["accepted"][failed].any()
    assert np.all(res["acceptance_probability"][failed] == 0)
    assert res["accepted"][~failed].all()  # T0 = 1e6: the others all are
    assert search.best_params_["C"] <= 1


def test_a_batch_whose_fits_all_fail_is_proposed_again():
    # With batch_size=1 one failing candidate makes scikit-learn raise "All
    # the fits failed"; the search drops it, warns and proposes again.
    space = {"C": loguniform(1e-2, 1e2)}
    search = _search(
        Objective(shape="fail"), space, n_iter=20, initial_temperature=1e6,
        n_initial_points=1, random_state=0,
    )
    with pytest.warns(FitFailedWarning, match="left out of cv_results_"):
        search.fit(X_TINY, Y_TINY)
    res = search.cv_results_
    assert len(res["params"]) == 20
    assert all(p["C"] <= 1 for p in res["params"])
    assert res["accepted"].all()
    # A model that always fails still raises, after n_iter dropped candidates.
    always = _search(
        Objective(shape="fail"), {"C": loguniform(10, 100)}, n_iter=3,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        with pytest.raises(ValueError, match="giving up"):
            always.fit(X_TINY, Y_TINY)


def test_works_as_a_sklearn_search():
    X, y = load_iris(return_X_y=True)
    search = AnnealingSearchCV(
        LogisticRegression(max_iter=300),
        {"C": loguniform(1e-3, 1e2)},
        n_iter=6,
        cv=3,
        random_state=0,
        return_train_score=True,
    ).fit(X, y)
    assert search.best_estimator_.C == search.best_params_["C"]
    assert_array_equal(search.predict(X), search.best_estimator_.predict(X))
    assert search.predict_proba(X).shape == (150, 3)
    assert 0.9 < search.score(X, y) <= 1.0
    assert "mean_train_score" in search.cv_results_
    assert_array_equal(search.classes_, [0, 1, 2])
    cloned = clone(search)
    assert cloned.get_params()["n_iter"] == 6
    assert not hasattr(cloned, "cv_results_")
    assert not hasattr(search, "_annealing_columns")


def test_multimetric_anneals_on_the_refit_metric():
    X, y = load_iris(return_X_y=True)
    kw = dict(n_iter=5, cv=3, random_state=0)
    scoring = {"acc": "accuracy", "nll": "neg_log_loss"}
    space = {"C": loguniform(1e-3, 1e2)}
    est = LogisticRegression(max_iter=300)
    search = AnnealingSearchCV(est, space, scoring=scoring, refit="nll", **kw)
    res = search.fit(X, y).cv_results_
    later = res["iter"] > 0
    parents = res["parent_index"][later]
    assert_array_equal(res["current_score"][later], res["mean_test_nll"][parents])
    assert search.best_index_ == np.argmax(res["mean_test_nll"])
    for refit in (False, lambda results: 0):
        with pytest.raises(ValueError, match="refit must be one of the scorer"):
            AnnealingSearchCV(est, space, scoring=scoring, refit=refit, **kw).fit(X, y)


def test_sklr_mlp_with_schedule_and_optimizer_objects():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    space = {
        "learning_rate_init": loguniform(1e-3, 1e-1),
        "alpha": loguniform(1e-6, 1e-2),
        "momentum": uniform(0.5, 0.49),
        "learning_rate": [
            schedules.Constant(),
            schedules.StepDecay(step_size=10, gamma=0.5),
            schedules.CosineAnnealing(period=20, unit="epoch"),
        ],
        "solver": ["sgd", optimizers.Adam(beta_1=0.8)],
    }
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    search = AnnealingSearchCV(est, space, n_iter=6, batch_size=2, cv=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert search.predict(X).shape == (150,)
    assert search.best_estimator_.learning_rate in space["learning_rate"]
    # Nested keys of a schedule object.
    est = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=20, solver="sgd", random_state=0,
        learning_rate=schedules.StepDecay(step_size=5),
    )
    nested = AnnealingSearchCV(
        est, {"learning_rate__gamma": uniform(0.1, 0.8)}, n_iter=3, cv=2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nested.fit(X, y)
    gamma = nested.best_params_["learning_rate__gamma"]
    assert nested.best_estimator_.learning_rate.gamma == gamma


def test_callbacks_see_one_task_per_round():
    class Recorder:
        def __init__(self):
            self.begin, self.end = [], []

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, **kwargs):
            self.begin.append(context.task_name)

        def on_fit_task_end(self, estimator, context, **kwargs):
            self.end.append(context.task_name)

    rec = Recorder()
    search = _search(n_iter=7, batch_size=2, n_initial_points=2, random_state=0)
    search.set_callbacks(rec)
    search.fit(X_TINY, Y_TINY)
    assert rec.begin.count("annealing-round") == 4  # 2 + 2 + 2 + 1
    assert rec.end.count("annealing-round") == 4
    assert rec.begin.count("search") == rec.end.count("search") == 1


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"initial_temperature": -1.0}, InvalidParameterError, "initial_temperature"),
        ({"initial_temperature": 0.0}, InvalidParameterError, "initial_temperature"),
        ({"cooling": 1.5}, InvalidParameterError, "cooling"),
        ({"cooling": "fast"}, InvalidParameterError, "cooling"),
        ({"batch_size": 0}, InvalidParameterError, "batch_size"),
        ({"n_iter": 0}, InvalidParameterError, "n_iter"),
        ({"step_scale": 0}, InvalidParameterError, "step_scale"),
        ({"adapt_step": "yes"}, InvalidParameterError, "adapt_step"),
        ({"n_initial_points": "all"}, InvalidParameterError, "n_initial_points"),
        ({"n_initial_points": 0}, InvalidParameterError, "n_initial_points"),
        ({"n_initial_points": 1.5}, InvalidParameterError, "n_initial_points"),
        ({"param_distributions": [SPACE]}, InvalidParameterError, "param_distrib"),
        ({"param_distributions": {}}, ValueError, "must not be empty"),
        ({"param_distributions": {"C": []}}, ValueError, "empty list"),
        ({"param_distributions": {"C": "abc"}}, TypeError, "scipy.stats"),
        ({"param_distributions": {"C": 3.0}}, TypeError, "scipy.stats"),
        (
            {"param_distributions": {"C": multivariate_normal([0, 0])}},
            TypeError,
            "scipy.stats",
        ),
        ({"initial_params": {"D": 1.0}}, ValueError, "not in param_distributions"),
        ({"initial_params": {"C": 1e5}}, ValueError, "outside the support"),
        ({"initial_params": {"kind": "best"}}, ValueError, "listed values"),
    ],
)
def test_invalid_parameters(params, error, match):
    space = params.pop("param_distributions", SPACE)
    params.setdefault("n_iter", 3)
    search = _search(space=space, **params)
    with pytest.raises(error, match=match):
        search.fit(X_TINY, Y_TINY)


def test_rvs_only_objects_are_rejected():
    class OnlyRvs:
        def rvs(self, random_state=None):
            return 1.0

    search = _search(space={"C": OnlyRvs()}, n_iter=3)
    with pytest.raises(TypeError, match="only provide rvs"):
        search.fit(X_TINY, Y_TINY)


# Unit tests of the pieces of the search, against hand-computed values.


class FixedDraws:
    """A stand-in for a RandomState that returns given draws."""

    def __init__(self, uniform=(), normal=(), integers=()):
        self.uniform, self.normal = list(uniform), list(normal)
        self.integers = list(integers)

    def random_sample(self, size=None):
        if size is None:
            return self.uniform.pop(0)
        return np.array([self.uniform.pop(0) for _ in range(size)])

    def standard_normal(self):
        return self.normal.pop(0)

    def randint(self, n):
        return self.integers.pop(0)


@pytest.mark.parametrize(
    "T0, cooling, n_rounds, expected",
    [
        # T0 * 0.1^((k-1)/(K-1)): T0, T0/sqrt(10), T0/10 at k = 1, 3, 5.
        (0.01, "exponential", 5, [0.01, 0.01 * 10**-0.25, 0.01 / math.sqrt(10),
                                  0.01 * 10**-0.75, 0.001]),
        (3.0, "exponential", 1, [3.0]),
        # T0 (1 - 0.9 (k-1)/(K-1)) with K = 4: 2, 1.4, 0.8, 0.2.
        (2.0, "linear", 4, [2.0, 1.4, 0.8, 0.2]),
        (2.0, "linear", 1, [2.0]),
        # T0 / (1 + ln k): 1, 1/1.6931..., 1/2.0986...
        (1.0, "log", 3, [1.0, 1 / (1 + math.log(2)), 1 / (1 + math.log(3))]),
        (0.5, "log", 2, [0.5, 0.5 / 1.6931471805599454]),
        # T0 c^(k-1).
        (4.0, 0.5, 4, [4.0, 2.0, 1.0, 0.5]),
        (1.0, "exponential", 0, []),
    ],
)
def test_round_temperatures(T0, cooling, n_rounds, expected):
    assert_allclose(_round_temperatures(T0, cooling, n_rounds), expected, rtol=1e-13)


@pytest.mark.parametrize(
    "current, score, temperature, expected",
    [
        (1.0, 1.5, 0.25, 1.0),  # better: always accepted
        (1.0, 1.0, 0.25, 1.0),  # a tie too
        (1.0, 0.5, 0.25, math.exp(-2)),  # Delta = 0.5, T = 0.25
        (0.0, -3.0, 1.5, math.exp(-2)),
        (0.75, 0.5, 0.125, math.exp(-2)),
        (-2.0, -3.0, 4.0, math.exp(-0.25)),
        (1.0, float("nan"), 0.25, 0.0),  # a failed candidate never
        (float("nan"), 0.5, 0.25, 1.0),  # anything beats a failed point
        (float("nan"), float("nan"), 0.25, 0.0),
    ],
)
def test_acceptance_probability(current, score, temperature, expected):
    assert _acceptance_probability(current, score, temperature) == pytest.approx(
        expected, rel=1e-15, abs=0
    )


def test_metropolis_compares_one_draw_per_candidate():
    # p = [1, e^-2 = 0.1353..., e^-2, 0] for Delta = [-0.5, 0.5, 0.5, nan].
    rng = FixedDraws(uniform=[0.999, 0.2, 0.13, 0.0])
    probabilities, accepted = _metropolis(
        1.0, np.array([1.5, 0.5, 0.5, np.nan]), 0.25, rng
    )
    assert_allclose(probabilities, [1.0, math.exp(-2), math.exp(-2), 0.0])
    assert_array_equal(accepted, [True, False, True, False])


@pytest.mark.parametrize(
    "log_gain, n_success, n_proposals, expected",
    [
        (0.0, 1, 1, 1 / 3),  # one success: g *= e^(1/3)
        (0.0, 0, 1, -1 / 12),  # one failure: g *= e^(-1/12)
        (0.0, 1, 5, 0.0),  # exactly a fifth succeed: g is steady
        (0.5, 2, 10, 0.5),
        (0.0, 3, 4, 3 / 3 - 1 / 12),
        (0.0, 0, 6, -0.5),
        (2.0, 5, 5, math.log(10)),  # 2 + 5/3, clipped at ln 10
        (-2.2, 0, 3, -math.log(10)),  # -2.2 - 1/4, clipped at -ln 10
    ],
)
def test_one_fifth_success_rule(log_gain, n_success, n_proposals, expected):
    assert _next_log_gain(log_gain, n_success, n_proposals) == pytest.approx(
        expected, rel=1e-14, abs=1e-15
    )


def test_step_length():
    steps = _StepLength(0.5, adapt=True)
    assert steps.sigma(1.0) == 0.5
    assert steps.sigma(0.2) == pytest.approx(0.1)
    steps.update([1.0])  # one success: g = e^(1/3) = 1.39561...
    assert steps.sigma(0.2) == pytest.approx(0.1 * 1.3956124250860895, rel=1e-14)
    assert steps.sigma(0.9) == 0.5  # 0.45 g > s: capped at step_scale
    # Only p == 1 counts as a success: 1 success, 4 failures, g is steady.
    steps.update([1.0, 0.999, 0.0, 0.5, 0.1])
    assert steps.log_gain == pytest.approx(1 / 3, rel=1e-14)
    steps.update([0.0, 0.0])  # two failures: ln g = 1/3 - 2/12 = 1/6
    assert steps.sigma(0.2) == pytest.approx(0.1 * math.exp(1 / 6), rel=1e-14)
    fixed = _StepLength(0.5, adapt=False)
    fixed.update([1.0, 1.0, 1.0])
    assert fixed.sigma(0.2) == pytest.approx(0.1)


def test_walk_bookkeeping():
    states = [{"C": 1}, {"C": 2}, {"C": 3}]
    walk = _Walk(states, np.array([0.2, np.nan, 0.7]))
    assert (walk.state, walk.score, walk.row, walk.n_done) == ({"C": 3}, 0.7, 2, 3)
    # Accepted: rows 3 and 5; the walk moves to the better one, row 5.
    proposals = [{"C": 4}, {"C": 5}, {"C": 6}]
    walk.add_round(
        1, 0.5, 0.25, proposals, np.array([0.1, 0.9, 0.3]), [0.45, 1.0, 0.67],
        np.array([True, False, True]),
    )
    assert (walk.state, walk.score, walk.row, walk.n_done) == ({"C": 6}, 0.3, 5, 6)
    # Nothing accepted: the walk stays.
    walk.add_round(
        2, 0.25, 0.125, [{"C": 7}], np.array([0.0]), [0.3], np.array([False])
    )
    assert (walk.state, walk.row, walk.n_done) == ({"C": 6}, 5, 7)
    cols = walk.columns()
    assert_array_equal(cols["iter"], [0, 0, 0, 1, 1, 1, 2])
    assert_array_equal(cols["parent_index"], [-1, -1, -1, 2, 2, 2, 5])
    assert_array_equal(cols["temperature"], [np.nan] * 3 + [0.5] * 3 + [0.25])
    assert_array_equal(cols["step_scale"], [np.nan] * 3 + [0.25] * 3 + [0.125])
    assert_array_equal(cols["current_score"], [np.nan] * 3 + [0.7] * 3 + [0.3])
    assert_array_equal(
        cols["acceptance_probability"], [1, 1, 1, 0.45, 1.0, 0.67, 0.3]
    )
    assert_array_equal(cols["accepted"], [1, 1, 1, 1, 0, 1, 0])
    assert cols["accepted"].dtype == bool and cols["iter"].dtype == np.intp
    # Only failed starting points: the walk starts at the first.
    walk = _Walk(states, np.array([np.nan, np.nan, np.nan]))
    assert walk.row == 0 and math.isnan(walk.score)


@pytest.mark.parametrize(
    "value, low, high, expected",
    [
        (0.3, 0.0, 1.0, 0.3),
        (1.25, 0.0, 1.0, 0.75),  # mirrored at 1
        (-0.25, 0.0, 1.0, 0.25),  # mirrored at 0
        (2.5, 0.0, 1.0, 0.5),  # folded twice
        (12, 0, 10, 8),
        (-1.0, 0.0, math.inf, 1.0),
        (5.0, -math.inf, 3.0, 1.0),
        (7.0, 2.0, 2.0, 2.0),
    ],
)
def test_fold(value, low, high, expected):
    assert _fold(value, low, high) == pytest.approx(expected, abs=1e-15)


def test_moves_of_each_kind_of_dimension():
    # Continuous: a step of sigma z in quantile space, i.e. in log10 C of
    # sigma z log10(1e0 / 1e-4) for loguniform: -2 + 0.25 * 1 * 4 = -1.
    dim = _Continuous("C", loguniform(1e-4, 1.0))
    assert dim.move(1e-2, 0.25, FixedDraws(normal=[1.0])) == pytest.approx(0.1)
    dim = _Continuous("u", uniform(0.0, 1.0))
    assert dim.move(0.3, 0.2, FixedDraws(normal=[0.5])) == pytest.approx(0.4)
    assert dim.move(0.9, 0.2, FixedDraws(normal=[1.0])) == pytest.approx(0.9)
    # Integer on [0, 10]: +-(1 + floor(sigma * 10 * |z|)) = +-3, folded.
    dim = _Integer.from_dist("n", randint(0, 11))
    assert dim.move(6, 0.4, FixedDraws(uniform=[0.3], normal=[-0.5])) == 9
    assert dim.move(9, 0.4, FixedDraws(uniform=[0.3], normal=[-0.5])) == 8
    assert dim.move(6, 0.4, FixedDraws(uniform=[0.7], normal=[-0.5])) == 3
    assert dim.move(6, 0.0, FixedDraws(uniform=[0.7], normal=[2.0])) == 5
    # Categorical: another element, uniformly (randint(n - 1) skips k).
    dim = _Categorical("kind", ["a", "b", "c", "d"])
    assert [dim.move(1, 0.1, FixedDraws(integers=[i])) for i in range(3)] == [0, 2, 3]


def test_search_space_proposals_and_starting_points():
    space = _SearchSpace({"b": ["x", "y", "z"], "a": uniform(0.0, 1.0)})
    assert [dim.name for dim in space.dims] == ["a", "b"]
    # Each coordinate moves with probability max(ratio, 1/d) = 0.5: the
    # draws 0.7, 0.2 move "b" only, to randint(2) = 1 -> position 2.
    rng = FixedDraws(uniform=[0.7, 0.2], integers=[1])
    state = {"a": 0.5, "b": 0}
    assert space.propose(state, 0.1, 0.3, rng) == {"a": 0.5, "b": 2}
    # Neither moves: one chosen by randint(d) = 0 does.
    rng = FixedDraws(uniform=[0.9, 0.9], integers=[0], normal=[1.0])
    assert space.propose(state, 0.1, 0.3, rng) == {"a": pytest.approx(0.8), "b": 0}
    assert space.params({"a": 0.25, "b": 1}) == {"a": 0.25, "b": "y"}
    # Latin hypercube: each fifth of each prior holds one starting point.
    points = space.starting_points(3, np.random.RandomState(0), {"b": "z"})
    assert points[0]["b"] == 2
    points = space.starting_points(5, np.random.RandomState(0))
    assert sorted(int(p["a"] * 5) for p in points) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "n_initial_points, n_iter, n_dims, expected",
    [
        ("auto", 10, 3, 4),  # max(ceil(10 / 4), 3 + 1)
        ("auto", 40, 1, 10),  # max(10, 2)
        ("auto", 3, 5, 3),  # capped at n_iter
        (0.25, 7, 2, 2),  # ceil(1.75)
        (1.0, 9, 2, 9),
        (10, 4, 1, 4),
        (1, 10, 3, 1),
    ],
)
def test_n_starting_points(n_initial_points, n_iter, n_dims, expected):
    assert _n_starting_points(n_initial_points, n_iter, n_dims) == expected
