"""Learning-rate range test: find_learning_rate and learning_rate_init='auto'."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from sklr import MLPClassifier, MLPRegressor, find_learning_rate
from sklr._lr_finder import _minimum, _steep, _suggestions, _valley, smooth_losses


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_smoothing_is_the_bias_corrected_ema():
    rng = np.random.RandomState(0)
    losses = rng.uniform(1, 3, 30)
    beta = 0.9
    # Closed form: a weighted mean with weights beta^(i-j), normalised.
    expected = [
        np.sum((1 - beta) * beta ** (i - np.arange(i + 1)) * losses[: i + 1]) / (1 - beta ** (i + 1))
        for i in range(30)
    ]
    np.testing.assert_allclose(smooth_losses(losses, beta), expected, rtol=1e-12)
    np.testing.assert_array_equal(smooth_losses(losses, 0.0), losses)
    # A constant sequence stays constant: the bias correction removes the
    # pull towards the zero start.
    np.testing.assert_allclose(smooth_losses(np.full(10, 2.5), 0.98), 2.5, rtol=1e-12)


def test_rates_losses_and_smoothing_of_a_run(digits):
    X, y = digits
    result = find_learning_rate(
        MLPClassifier(solver="sgd", random_state=0), X, y, start=1e-5, stop=1e-1, num=40
    )
    n = len(result.losses)
    assert n == 40 and not result.diverged
    expected = 1e-5 * (1e-1 / 1e-5) ** (np.arange(40) / 39)
    np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)
    np.testing.assert_allclose(result.smoothed_losses, smooth_losses(result.losses, 0.98),
                               rtol=1e-12)


@pytest.mark.parametrize("solver, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.9)])
def test_losses_match_scikit_learn_updated_at_each_rate(solver, momentum):
    """Full-batch updates at rates r_k: the loss before update k must equal
    scikit-learn's MLP trained by partial_fit with its rate set to r_k."""
    X, y = load_iris(return_X_y=True)
    X = X / 8.0
    kw = dict(hidden_layer_sizes=(7,), solver=solver, momentum=momentum, random_state=3,
              batch_size=150, shuffle=False)
    result = find_learning_rate(MLPClassifier(**kw), X, y, start=1e-4, stop=1.0, num=25)
    ref = SkMLPClassifier(**kw)
    losses = []
    for k, rate in enumerate(result.learning_rates):
        if k == 0:
            ref.set_params(learning_rate_init=rate)
            ref.partial_fit(X, y, classes=np.unique(y))
        else:
            ref._optimizer.learning_rate = rate
            if solver == "adam":
                ref._optimizer.learning_rate_init = rate
            ref.partial_fit(X, y)
        losses.append(ref.loss_)
    np.testing.assert_allclose(result.losses, losses, rtol=1e-9)


def test_estimator_passed_in_is_not_touched(digits):
    X, y = digits
    est = MLPClassifier(solver="sgd", hidden_layer_sizes=(8,), random_state=0)
    params = est.get_params()
    find_learning_rate(est, X, y, num=20)
    assert not hasattr(est, "coefs_") and est.get_params() == params
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(max_iter=2).fit(X, y)
    coefs = [c.copy() for c in est.coefs_]
    state = pickle.dumps(est)
    find_learning_rate(est, X, y, num=20)
    for a, b in zip(coefs, est.coefs_):
        np.testing.assert_array_equal(a, b)
    assert pickle.dumps(est) == state


def test_stops_when_the_smoothed_loss_diverges(digits):
    X, y = digits
    result = find_learning_rate(
        MLPClassifier(solver="sgd", random_state=0, hidden_layer_sizes=(16,)), X, y,
        start=1e-3, stop=1e4, num=200, smoothing=0.5,
    )
    assert result.diverged and len(result.losses) < 200
    smoothed = result.smoothed_losses
    # It stopped at the first update whose smoothed loss exceeded 4 x the
    # minimum so far, or at a non-finite loss (nothing recorded for it).
    running_min = np.minimum.accumulate(smoothed)
    assert not np.any(smoothed[1:-1] > 4 * running_min[1:-1])
    assert smoothed[-1] > 4 * running_min[-1] or len(result.losses) < 200


def test_random_state_and_reproducibility(digits):
    X, y = digits
    est = MLPClassifier(solver="sgd", hidden_layer_sizes=(8,), random_state=0)
    a = find_learning_rate(est, X, y, num=30)
    b = find_learning_rate(est, X, y, num=30)
    c = find_learning_rate(est, X, y, num=30, random_state=1)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)


def test_suggestion_rules_on_constructed_curves():
    rates = np.logspace(-6, 1, 71)
    x = np.log10(rates)
    # A smooth bowl with its minimum at 1e-1 and the steepest descent at 1e-3.
    curve = 2 - np.tanh(x + 3) - 0.0 * x
    curve = np.where(x > -1, curve[x <= -1].min() + (x + 1) ** 2, curve)
    assert _minimum(rates, curve) == pytest.approx(rates[np.argmin(curve)] / 10)
    assert _steep(rates, curve) == pytest.approx(1e-3, rel=0.13)
    # Valley: the longest decreasing stretch runs from index 0 to the minimum
    # (index 50); the rule picks begin + floor(L/3) + floor(L/6).
    decreasing = np.r_[np.linspace(5, 1, 51), np.linspace(1.1, 9, 20)]
    assert _valley(rates, decreasing) == pytest.approx(rates[0 + int(50 / 3) + int(50 / 6)])
    s = _suggestions(rates, decreasing)
    assert s["sklr"] == pytest.approx(
        min(np.sqrt(s["valley"] * 2 * s["minimum"]), 2 * s["minimum"])
    )
    # A rising curve has no steep descent.
    assert np.isnan(_steep(rates, np.linspace(1, 2, 71)))


def test_digits_sgd_suggestion_in_the_known_good_range(digits):
    """The suggestion trains well; rates 30x below or above it do not."""
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    base = MLPClassifier(solver="sgd", momentum=0.9, hidden_layer_sizes=(32,), batch_size=32,
                         max_iter=10, random_state=0)
    result = find_learning_rate(base, X_tr, y_tr)
    # The good range of this problem (a 19-value grid, 20 epochs) is about
    # 3e-3 to 0.3: accuracy > 95% there, below 90% outside 1e-3 .. 0.5.
    assert 3e-3 < result.suggestion < 0.3

    def accuracy(rate):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                clf = clone(base).set_params(learning_rate_init=rate).fit(X_tr, y_tr)
            except ValueError:  # diverged
                return 0.0
        return clf.score(X_te, y_te)

    good = accuracy(result.suggestion)
    assert good > 0.95
    assert accuracy(result.suggestion / 300) < good - 0.05
    assert accuracy(result.suggestion * 30) < good - 0.05


def test_auto_trains_with_the_suggestion(digits):
    X, y = digits
    kw = dict(solver="sgd", hidden_layer_sizes=(16,), random_state=0, max_iter=3)
    auto = MLPClassifier(learning_rate_init="auto", **kw).fit(X, y)
    assert auto.learning_rate_init_ == auto.lr_finder_.suggestion
    np.testing.assert_allclose(auto.history_["learning_rate"], auto.learning_rate_init_)
    # The test ran from the fit's initial weights: find_learning_rate on the
    # same estimator runs the same test.
    result = find_learning_rate(MLPClassifier(**kw), X, y)
    np.testing.assert_array_equal(auto.lr_finder_.losses, result.losses)
    # And fitting with that rate as a float gives the same model, but for the
    # seed the test drew from random_state (a different minibatch order):
    # its rate is what matters.
    fixed = MLPClassifier(learning_rate_init=result.suggestion, **kw).fit(X, y)
    assert fixed.learning_rate_init_ == auto.learning_rate_init_
    assert fixed.lr_finder_ is None


def test_auto_warm_start_keeps_the_rate_and_clone_keeps_auto(digits):
    X, y = digits
    clf = MLPClassifier(learning_rate_init="auto", solver="adam", hidden_layer_sizes=(8,),
                        random_state=0, max_iter=2, warm_start=True).fit(X, y)
    found = clf.lr_finder_
    clf.fit(X, y)
    assert clf.lr_finder_ is found
    assert clone(clf).get_params()["learning_rate_init"] == "auto"
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.learning_rate_init_ == clf.learning_rate_init_


def test_auto_with_grid_search_and_lbfgs(digits):
    X, y = digits
    search = GridSearchCV(
        MLPClassifier(solver="sgd", hidden_layer_sizes=(8,), random_state=0, max_iter=3),
        {"learning_rate_init": ["auto", 1e-3]}, cv=2,
    ).fit(X[:400], y[:400])
    assert search.cv_results_["params"][0]["learning_rate_init"] == "auto"
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    lbfgs = MLPClassifier(solver="lbfgs", learning_rate_init="auto", max_iter=5,
                          hidden_layer_sizes=(4,)).fit(X[:200], y[:200])
    assert lbfgs.learning_rate_init_ is None and lbfgs.lr_finder_ is None


def test_auto_regressor():
    X, y = make_regression(n_samples=300, n_features=6, noise=1.0, random_state=0)
    reg = MLPRegressor(learning_rate_init="auto", max_iter=5, random_state=0)
    reg.fit(X, y / y.std())
    assert 1e-7 <= reg.learning_rate_init_ <= 10


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(start=1.0, stop=0.1), "greater than start"),
        (dict(num=1), "num"),
        (dict(smoothing=1.0), "smoothing"),
        (dict(diverge_factor=1.0), "diverge_factor"),
        (dict(start=0.0), "start"),
    ],
)
def test_bad_arguments(digits, kwargs, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        find_learning_rate(MLPClassifier(solver="sgd"), X, y, **kwargs)


def test_needs_an_sklr_stochastic_estimator(digits):
    X, y = digits
    with pytest.raises(ValueError, match="stochastic solver"):
        find_learning_rate(MLPClassifier(solver="lbfgs"), X, y)
    with pytest.raises(TypeError, match="sklr MLPClassifier"):
        find_learning_rate(SkMLPClassifier(), X, y)
    with pytest.raises(ValueError, match="NaN"):
        find_learning_rate(MLPClassifier(), np.where(X > 0.5, np.nan, X), y)


def test_auto_with_partial_fit_and_early_stopping(digits):
    X, y = digits
    clf = MLPClassifier(solver="sgd", learning_rate_init="auto", hidden_layer_sizes=(8,),
                        random_state=0)
    clf.partial_fit(X[:500], y[:500], classes=np.unique(y))
    found = clf.lr_finder_
    # The first call's test: on its data, from the initial weights.
    expected = find_learning_rate(
        MLPClassifier(solver="sgd", hidden_layer_sizes=(8,), random_state=0),
        X[:500], y[:500])
    np.testing.assert_array_equal(found.losses, expected.losses)
    clf.partial_fit(X[500:1000], y[500:1000])
    assert clf.lr_finder_ is found  # later calls keep the rate
    np.testing.assert_allclose(clf.history_["learning_rate"], found.suggestion)
    # early_stopping: the test runs on the training part of the split only.
    es = MLPClassifier(solver="sgd", learning_rate_init="auto", hidden_layer_sizes=(8,),
                       random_state=0, early_stopping=True, max_iter=2).fit(X, y)
    assert np.isfinite(es.learning_rate_init_) and len(es.lr_finder_.losses) > 0
