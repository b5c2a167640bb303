"""PopulationSearchCV: population-based training that returns a schedule.

The references are independent of the search's bookkeeping: a member is
compared with an uninterrupted ``fit`` of its replay parameters (a different
code path: one call, no pause), the winner's rates with the lineage traced
back by hand through ``history_['donor']``, and exploit with the donor's
arrays.
"""

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, ShuffleSplit, check_cv

from sklr import MLPClassifier, MLPRegressor
from sklr._compat import InvalidParameterError
from sklr.model_selection import PopulationSearchCV
from sklr.schedules import PiecewiseConstant


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _mlp(**kw):
    params = dict(hidden_layer_sizes=(8,), solver="sgd", batch_size=50)
    params.update(kw)
    return MLPClassifier(**params)


SPACE = {"learning_rate_init": loguniform(1e-3, 1), "momentum": uniform(0.5, 0.45)}


def _search(est, space=SPACE, **kw):
    params = dict(population_size=4, interval_epochs=2, n_intervals=3, cv=2, random_state=0)
    params.update(kw)
    return PopulationSearchCV(est, space, **params)


def _replay(est, params, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(est).set_params(**params).fit(X, y)


def _arrays(model):
    """Weights, optimizer state arrays and shuffling random state of a model."""
    out = list(model.coefs_) + list(model.intercepts_)
    opt = model._state.optimizer
    out += [np.asarray(opt[key]) for key in sorted(opt)]
    out.append(model._random_state.get_state()[1])
    return out


def _assert_members_replay(search, est, X, y):
    splits = list(check_cv(search.cv, y, classifier=True).split(X, y))
    for i, params in enumerate(search.cv_results_["params"]):
        for f, (train, _) in enumerate(splits):
            ref = _replay(est, params, X[train], y[train])
            member = search.members_[i][f]
            for a, b in zip(ref.coefs_ + ref.intercepts_, member.coefs_ + member.intercepts_):
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(ref.loss_curve_, member.loss_curve_)
            np.testing.assert_array_equal(ref.history_["learning_rate"],
                                          member.history_["learning_rate"])
            np.testing.assert_array_equal(ref.history_["momentum"], member.history_["momentum"])


def test_members_without_exploit_equal_uninterrupted_fits(digits):
    """quantile_fraction=0: each member is one fit of its own, paused and resumed."""
    X, y = digits
    est = _mlp()
    search = _search(est, quantile_fraction=0).fit(X, y)
    assert np.all(search.history_["donor"] == -1)
    for i, params in enumerate(search.cv_results_["params"]):
        # No exploit: one value per hyperparameter, the member's first draw.
        assert params["learning_rate"].get_params()["boundaries"] == []
        assert params["learning_rate_init"] == search.history_["learning_rate_init"][0, i]
    _assert_members_replay(search, est, X, y)


@pytest.mark.parametrize("est", [
    _mlp(),
    _mlp(solver="adam", dropout=0.2, shuffle=True),
    _mlp(nesterovs_momentum=False, weight_decay=0.0),
], ids=["sgd", "adam-dropout", "sgd-heavy-ball"])
def test_members_with_exploit_equal_uninterrupted_fits_of_their_lineage(digits, est):
    """Every member, replaced or not, is bit for bit the fit of its lineage."""
    X, y = digits
    space = dict(SPACE, weight_decay=loguniform(1e-5, 1e-2))
    if est.solver == "adam":
        space["momentum"] = uniform(0.8, 0.19)  # beta_1
    search = _search(est, space, quantile_fraction=0.5).fit(X, y)
    assert np.any(search.history_["donor"] >= 0)
    # Some lineage changed its values between intervals (a real schedule).
    assert any(len(p["learning_rate"].get_params()["boundaries"]) > 0
               for p in search.cv_results_["params"])
    _assert_members_replay(search, est, X, y)


def _traced_lineage(history, member, key):
    """The values member ``member`` trained with, interval by interval, traced
    back from the end through the donors."""
    n_intervals = history["score"].shape[0]
    values, slot = [], member
    for t in range(n_intervals - 1, -1, -1):
        if t < n_intervals - 1:
            # The slot's networks at the start of interval t+1 came from the donor.
            donor = history["donor"][t, slot]
            slot = slot if donor < 0 else donor
        values.append(history[key][t, slot])
    return values[::-1]


def test_best_schedule_replays_the_winners_rates(digits):
    X, y = digits
    est = _mlp()
    search = _search(est, quantile_fraction=0.5, n_intervals=4).fit(X, y)
    best = search.best_index_
    k = search.interval_epochs
    rates = np.repeat(_traced_lineage(search.history_, best, "learning_rate_init"), k)
    momenta = np.repeat(_traced_lineage(search.history_, best, "momentum"), k)
    model = search.members_[best][0]
    np.testing.assert_allclose(model.history_["learning_rate"], rates, rtol=1e-15)
    np.testing.assert_array_equal(model.history_["momentum"], momenta)
    # best_schedule_ multiplies best_params_['learning_rate_init'].
    base = search.best_params_["learning_rate_init"]
    preview = base * search.best_schedule_.preview(search.n_intervals * k)
    np.testing.assert_allclose(preview, rates, rtol=1e-15)
    np.testing.assert_array_equal(
        search.best_schedules_["momentum"].preview(search.n_intervals * k), momenta)
    # The refit (whole data) and a fit on other seeds run the same rates.
    np.testing.assert_array_equal(search.best_estimator_.history_["learning_rate"],
                                  model.history_["learning_rate"])
    other = _replay(est, {**search.best_params_, "random_state": 123}, X, y)
    np.testing.assert_array_equal(other.history_["learning_rate"],
                                  model.history_["learning_rate"])
    assert not np.array_equal(other.coefs_[0], search.best_estimator_.coefs_[0])


def test_exploit_copies_weights_and_optimizer_state(digits):
    """With factors (1.0,), a member that copied another continues identically."""
    X, y = digits
    est = _mlp(solver="adam")
    search = _search(est, {"learning_rate_init": loguniform(1e-3, 1e-1)},
                     quantile_fraction=0.5, perturbation_factors=(1.0,),
                     resample_probability=0.0, n_intervals=2).fit(X, y)
    donors = search.history_["donor"][0]
    assert np.sum(donors >= 0) == 2
    for i, donor in enumerate(donors):
        if donor < 0:
            continue
        for f in range(search.n_splits_):
            copy, original = search.members_[i][f], search.members_[donor][f]
            assert copy is not original
            assert not np.shares_memory(copy.coefs_[0], original.coefs_[0])
            for a, b in zip(_arrays(copy), _arrays(original)):
                np.testing.assert_array_equal(a, b)
        assert search.cv_results_["mean_test_score"][i] == (
            search.cv_results_["mean_test_score"][donor])
        # The copy trained with the donor's values in both intervals.
        np.testing.assert_array_equal(search.history_["learning_rate_init"][1, i],
                                      search.history_["learning_rate_init"][0, donor])


def test_exploit_replaces_the_worst_with_the_best(digits):
    X, y = digits
    search = _search(_mlp(), population_size=6, quantile_fraction=0.25,
                     n_intervals=3).fit(X, y)
    for t in range(search.n_intervals - 1):
        scores, donors = search.history_["score"][t], search.history_["donor"][t]
        order = np.argsort(-scores, kind="stable")
        q = 2  # ceil(6 * 0.25)
        assert set(np.flatnonzero(donors >= 0)) == set(order[-q:])
        assert set(donors[donors >= 0]) <= set(order[:q])
    assert np.all(search.history_["donor"][-1] == -1)


@pytest.mark.parametrize("factors", [(0.5, 2.0), (0.8, 1.2)])
def test_explore_multiplies_by_the_factors(digits, factors):
    X, y = digits
    space = {"learning_rate_init": loguniform(1e-4, 10),
             "momentum": [0.1, 0.9], "weight_decay": loguniform(1e-6, 1)}
    search = _search(_mlp(), space, population_size=6, quantile_fraction=0.5,
                     perturbation_factors=factors, resample_probability=0.0,
                     n_intervals=4).fit(X, y)
    bounds = {"learning_rate_init": (1e-4, 10), "momentum": (0.1, 0.9),
              "weight_decay": (1e-6, 1)}
    h, n_seen = search.history_, 0
    for t in range(search.n_intervals - 1):
        for i, donor in enumerate(h["donor"][t]):
            for key, (low, high) in bounds.items():
                new = h[key][t + 1, i]
                if donor < 0:
                    assert new == h[key][t, i]
                    continue
                n_seen += 1
                old = h[key][t, donor]
                assert any(np.isclose(new, min(max(old * f, low), high), rtol=1e-14)
                           for f in factors), (key, old, new)
    assert n_seen > 0


def test_resample_draws_from_the_prior(digits):
    X, y = digits
    space = {"learning_rate_init": [0.01, 0.02, 0.04]}
    search = _search(_mlp(), space, population_size=6, quantile_fraction=0.5,
                     resample_probability=1.0, n_intervals=3).fit(X, y)
    assert set(np.unique(search.history_["learning_rate_init"])) <= {0.01, 0.02, 0.04}


def test_reproducible_and_independent_of_n_jobs(digits):
    X, y = digits
    runs = [_search(_mlp(), quantile_fraction=0.5, n_jobs=n_jobs).fit(X, y)
            for n_jobs in (1, 2, 1)]
    first = runs[0]
    for other in runs[1:]:
        for key, value in first.history_.items():
            np.testing.assert_array_equal(value, other.history_[key])
        np.testing.assert_array_equal(first.cv_results_["split1_test_score"],
                                      other.cv_results_["split1_test_score"])
        assert repr(first.best_params_) == repr(other.best_params_)
        for a, b in zip(first.best_estimator_.coefs_, other.best_estimator_.coefs_):
            np.testing.assert_array_equal(a, b)
    different = _search(_mlp(), quantile_fraction=0.5, random_state=1).fit(X, y)
    assert not np.array_equal(different.history_["learning_rate_init"],
                              first.history_["learning_rate_init"])


def test_clone_get_params_and_schedule_objects(digits):
    X, y = digits
    search = _search(_mlp(), population_size=3, n_intervals=2)
    cloned = clone(search)
    assert cloned.get_params()["population_size"] == 3
    assert cloned.get_params()["estimator__hidden_layer_sizes"] == (8,)
    search.fit(X, y)
    schedule = search.best_schedule_
    assert isinstance(schedule, PiecewiseConstant) and schedule.unit == "epoch"
    assert repr(clone(schedule)) == repr(schedule)
    assert set(search.best_schedules_) == {"learning_rate", "momentum"}
    assert search.best_schedules_["learning_rate"] is schedule
    # The fitted search predicts with the refitted winner.
    assert search.score(X, y) == search.best_estimator_.score(X, y)
    assert search.best_estimator_.n_iter_ == search.n_intervals * search.interval_epochs
    results = search.cv_results_
    assert len(results["params"]) == 3
    assert sorted(results["rank_test_score"]) == sorted(
        1 + np.argsort(np.argsort(-results["mean_test_score"], kind="stable"), kind="stable"))
    assert results["rank_test_score"][search.best_index_] == 1


def test_momentum_only_and_regressor(capsys):
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", batch_size=40,
                       learning_rate_init=0.01)
    search = PopulationSearchCV(est, {"momentum": [0.5, 0.9]}, population_size=3,
                                interval_epochs=2, n_intervals=2,
                                cv=ShuffleSplit(1, random_state=0),
                                scoring="neg_mean_squared_error", verbose=1,
                                random_state=0).fit(X, y)
    assert "interval 2/2 (epoch 4)" in capsys.readouterr().out
    assert search.best_schedule_ is None
    assert set(search.best_schedules_) == {"momentum"}
    assert "learning_rate" not in search.best_params_
    assert search.n_splits_ == 1 and len(search.members_[0]) == 1
    np.testing.assert_array_equal(
        search.best_estimator_.history_["learning_rate"], np.full(4, 0.01))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_diverged_members_score_nan_and_are_replaced():
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", batch_size=40)
    search = PopulationSearchCV(est, {"learning_rate_init": [0.01, 1e6]}, population_size=6,
                                interval_epochs=2, n_intervals=2, quantile_fraction=0.5,
                                cv=KFold(2), random_state=0).fit(X, y)
    first = search.history_["score"][0]
    diverged = np.flatnonzero(np.isnan(first))
    assert diverged.size > 0
    # The 3 worst (NaN first) copy finite-scored members only.
    donors = search.history_["donor"][0]
    replaced = np.flatnonzero(donors >= 0)
    assert set(diverged[-3:]) <= set(replaced)  # NaN ties rank by index
    assert np.all(np.isfinite(first[donors[replaced]]))
    assert np.sum(np.isnan(search.history_["score"][1])) == max(0, diverged.size - 3)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_all_diverged_raises():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", batch_size=30)
    search = PopulationSearchCV(est, {"learning_rate_init": [1e6]}, population_size=2,
                                interval_epochs=3, n_intervals=2, cv=2, random_state=0)
    with pytest.raises(ValueError, match="Every member"):
        search.fit(X, y)


@pytest.mark.parametrize("params, error, match", [
    ({"population_size": 1}, InvalidParameterError, "population_size"),
    ({"quantile_fraction": 0.6}, InvalidParameterError, "quantile_fraction"),
    ({"interval_epochs": 0}, InvalidParameterError, "interval_epochs"),
    ({"perturbation_factors": [1.2, -0.8]}, ValueError, "perturbation_factors"),
    ({"param_distributions": {}}, ValueError, "at least one"),
    ({"param_distributions": {"alpha": [0.1]}}, ValueError, "explores"),
    ({"param_distributions": {"learning_rate_init": uniform(0, 1)}}, ValueError, "above 0"),
    ({"param_distributions": {"momentum": uniform(0, 2)}}, ValueError, r"\[0, 1\]"),
    ({"param_distributions": {"momentum": "high"}}, ValueError, "scipy.stats"),
    ({"estimator": LogisticRegression()}, TypeError, "sklr.MLPClassifier"),
    ({"estimator": _mlp(solver="lbfgs")}, ValueError, "stochastic"),
    ({"estimator": _mlp(early_stopping=True)}, ValueError, "early_stopping"),
    ({"estimator": _mlp(learning_rate="invscaling")}, ValueError, "'constant'"),
])
def test_errors(digits, params, error, match):
    X, y = digits
    kw = {"estimator": _mlp(), "param_distributions": SPACE, **params}
    search = PopulationSearchCV(kw.pop("estimator"), kw.pop("param_distributions"), **kw)
    with pytest.raises(error, match=match):
        search.fit(X, y)


def test_members_resume_rather_than_retrain(digits, monkeypatch):
    """Each member x fold trains n_intervals * interval_epochs epochs in all."""
    from sklr import _trainer

    calls = []
    original = _trainer.StochasticTrainer.run_transaction

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_trainer.StochasticTrainer, "run_transaction", counting)
    X, y = digits
    search = _search(_mlp(), quantile_fraction=0.5, n_jobs=1, refit=False).fit(X, y)
    epochs = search.n_intervals * search.interval_epochs
    assert len(calls) == search.population_size * search.n_splits_ * epochs


def test_doctests():
    import doctest

    from sklr.model_selection import _population

    result = doctest.testmod(_population, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_groups_reach_the_splitter(digits):
    from sklearn.model_selection import GroupKFold

    X, y = digits
    groups = np.arange(len(y)) % 3
    search = _search(_mlp(), population_size=2, n_intervals=2, cv=GroupKFold(3),
                     refit=False).fit(X, y, groups=groups)
    assert search.n_splits_ == 3
    epochs = search.n_intervals * search.interval_epochs
    for member in search.members_:
        for model in member:
            # Rows seen: every epoch saw the two groups left for training.
            assert model.t_ == epochs * 200
    assert not hasattr(search, "best_estimator_")
