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
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from sklr import MLPClassifier, MLPRegressor, find_learning_rate
from sklr._lr_finder import _range_test, smooth_losses

# Short sweeps that end while the loss still falls are legitimate here (these
# tests check the losses, not the answer): LRFinderWarning is tested in
# test_lr_finder_robust.py.
pytestmark = pytest.mark.filterwarnings("ignore::sklr.exceptions.LRFinderWarning")


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
@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_losses_match_scikit_learn_updated_at_each_rate(solver, momentum, task):
    """Full-batch updates at rates r_k: the loss before update k must equal
    scikit-learn's MLP trained by partial_fit with its rate set to r_k."""
    if task == "classifier":
        X, y = load_iris(return_X_y=True)
        ours, theirs, first = MLPClassifier, SkMLPClassifier, dict(classes=np.unique(y))
    else:
        X, y = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
        y = y / y.std()
        ours, theirs, first = MLPRegressor, SkMLPRegressor, {}
    X = X / 8.0
    kw = dict(hidden_layer_sizes=(7,), solver=solver, momentum=momentum, random_state=3,
              batch_size=150, shuffle=False)
    result = find_learning_rate(ours(**kw), X, y, start=1e-4, stop=1.0, num=25)
    ref = theirs(**kw)
    losses = []
    for k, rate in enumerate(result.learning_rates):
        if k == 0:
            ref.set_params(learning_rate_init=rate)
            ref.partial_fit(X, y, **first)
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
    # This run stops on the factor (the other way, a non-finite loss, is
    # test_divergence_stops_on_the_factor_or_a_non_finite_loss): at the
    # first update whose smoothed loss exceeds 4 x the minimum before it,
    # which is the last one recorded.
    running_min = np.minimum.accumulate(smoothed)
    assert not np.any(smoothed[1:-1] > 4 * running_min[:-2])
    assert smoothed[-1] > 4 * running_min[-2]


def test_divergence_stops_on_the_factor_or_a_non_finite_loss():
    # Without smoothing, minimum 0.5 at the second update: 1.9 < 4 * 0.5
    # goes on, 2.1 > 2 stops, and is recorded.
    result = _scripted([1.0, 0.5, 0.6, 1.9, 2.1, 0.1, 0.1], start=1e-3, stop=1.0,
                       diverge_factor=4.0)
    assert result.diverged
    np.testing.assert_array_equal(result.losses, [1.0, 0.5, 0.6, 1.9, 2.1])
    # A non-finite loss stops the test and is not recorded.
    result = _scripted([1.0, 0.9, np.nan, 0.1], start=1e-3, stop=1.0, diverge_factor=4.0)
    assert result.diverged
    np.testing.assert_array_equal(result.losses, [1.0, 0.9])
    np.testing.assert_allclose(result.learning_rates, [1e-3, 1e-2], rtol=1e-12)
    # Neither (3.5 < 4 * 0.9): all of it.
    result = _scripted([1.0, 0.9, 3.5, 0.1], start=1e-3, stop=1.0, diverge_factor=4.0)
    assert not result.diverged and len(result.losses) == 4


def test_random_state_and_reproducibility(digits):
    X, y = digits
    est = MLPClassifier(solver="sgd", hidden_layer_sizes=(8,), random_state=0)
    a = find_learning_rate(est, X, y, num=30)
    b = find_learning_rate(est, X, y, num=30)
    c = find_learning_rate(est, X, y, num=30, random_state=1)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)


def _scripted(losses, *, start, stop, smoothing=0.0, diverge_factor=100.0):
    """The range test driven by a fixed loss sequence instead of a model.

    With smoothing=0 the smoothed curve is the loss sequence itself."""
    feed = iter(losses)
    return _range_test(lambda rate: next(feed), start=start, stop=stop, num=len(losses),
                       smoothing=smoothing, diverge_factor=diverge_factor)


def test_rules_on_a_bowl():
    # 81 rates 10^(-7 + i/10), i = 0..80. The loss falls in a straight line
    # from 5 (i=0) to 1 (i=60), then rises to 3 (i=80).
    i = np.arange(81)
    losses = np.where(i <= 60, 5 - i / 15, 1 + (i - 60) / 10)
    result = _scripted(losses, start=1e-7, stop=10.0)
    assert not result.diverged and len(result.losses) == 81
    np.testing.assert_allclose(result.smoothed_losses, losses, rtol=1e-15)
    s = result.suggestions
    # minimum: the lowest loss is at i=60, rate 1e-1; divided by 10.
    assert s["minimum"] == pytest.approx(1e-2, rel=1e-12)
    # valley: the longest decreasing stretch is i = 0..60 (the rising part
    # can only end a shorter one: 1.1 at i=61 follows i = 0..58); span 60,
    # index 0 + 20 + 10 = 30, rate 1e-4.
    assert s["valley"] == pytest.approx(1e-4, rel=1e-12)
    # sklr: the lag-free curve's minimum is at the corner, up to one update
    # (its running median is 1.1 at i = 59, 60, 61 and the running mean of
    # those ties at 59 and 60); it makes 95% of its drop of about 3.9 once
    # within 0.2 of the bottom, about three updates before on the slope of
    # 1/15 per update: twice the rule's rate is a rate of i = 56 .. 60.
    assert result.learning_rates[56] <= 2 * s["sklr"] <= result.learning_rates[60]
    assert result.suggestion == s["sklr"] and result.caveat is None


def test_rules_without_a_valley():
    # The loss only rises (no decreasing stretch): 11 rates 10^(-7 + 0.8 i).
    result = _scripted(np.linspace(1.0, 2.0, 11), start=1e-7, stop=10.0)
    s = result.suggestions
    assert np.isnan(s["valley"]) and np.isnan(s["steep"])
    # The lowest loss is the first, at 1e-7: minimum 1e-8, sklr 1e-7 / 2,
    # with a caveat: the loss never fell.
    assert s["minimum"] == pytest.approx(1e-8, rel=1e-12)
    assert s["sklr"] == pytest.approx(5e-8, rel=1e-12)
    assert result.caveat.startswith("the loss did not clearly fall")
    # One update recorded (the second loss is not finite): the same.
    one = _scripted([1.0, np.nan, 0.5], start=1e-7, stop=10.0)
    assert one.suggestions["minimum"] == pytest.approx(1e-8, rel=1e-12)
    assert one.suggestions["sklr"] == pytest.approx(5e-8, rel=1e-12)
    assert np.isnan(one.suggestions["valley"]) and np.isnan(one.suggestions["steep"])
    assert one.caveat.startswith("the loss did not clearly fall")
    # No update recorded: every rule gives NaN...
    none = _scripted([np.inf, 1.0], start=1e-7, stop=10.0)
    assert none.diverged and len(none.losses) == 0
    assert all(np.isnan(v) for v in none.suggestions.values())


def test_auto_without_any_finite_loss_raises():
    # ... and learning_rate_init='auto' says why: targets so large that the
    # first squared error overflows.
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    with pytest.raises(ValueError, match="recorded no finite loss"):
        MLPRegressor(learning_rate_init="auto", max_iter=1).fit(X, y * 1e200)


def test_steep_is_the_start_of_the_steepest_update_before_the_last_5_percent():
    # 41 rates 10^(-6 + i/5). Without smoothing: a gentle fall of 0.05 per
    # update, a step of 1.05 from i=19 to i=20, and a step of 3 from i=38
    # to 39 inside the last 5% (41 // 20 = 2 updates left out: i = 39, 40).
    i = np.arange(41)
    losses = 10 - 0.05 * i - 1.0 * (i >= 20) - 3.0 * (i >= 39)
    s = _scripted(losses, start=1e-6, stop=1e2).suggestions
    assert s["steep"] == pytest.approx(10 ** (-6 + 19 / 5), rel=1e-12)
    # A rising curve has no steep descent.
    assert np.isnan(_scripted(np.linspace(1, 2, 41), start=1e-6, stop=1e2).suggestions["steep"])


def test_steep_discounts_the_moving_average_warm_up():
    # 41 rates 10^(-6 + i/5), smoothing beta = 0.9. Losses: 3 for i = 0..2,
    # 2 for i = 3..13, 1 from i = 14 on. Update i moves the bias-corrected
    # average s by w_i (loss_i - s_{i-1}), w_i = 0.1 / (1 - 0.9^(i+1)).
    #   i = 3: s_2 = 3 exactly, step w_3 (2 - 3) = -0.291 (w_3 = 0.291).
    #   i = 14: 2 < s_13 < 3, so |1 - s_13| < 2 and the step is smaller
    #           than w_14 * 2 = 0.252 (w_14 = 0.126).
    #   Every other step is smaller than both (the average moving towards
    #   a constant loss: i = 4..13 from above 2 towards 2, then towards 1).
    # Unscaled, the noise of the start wins (i = 3, rate 10^-5.6). Scaled by
    # 1 - 0.9^(i+1), step i is 0.1 (loss_i - s_{i-1}): -0.1 at i = 3, and
    # 0.1 (1 - s_13) < -0.1 at i = 14: the fall to 1 wins, at the rate of
    # its start, i = 13: 10^-3.4.
    losses = np.r_[[3.0] * 3, [2.0] * 11, [1.0] * 27]
    result = _scripted(losses, start=1e-6, stop=1e2, smoothing=0.9)
    assert result.suggestions["steep"] == pytest.approx(10**-3.4, rel=1e-12)


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
    """'auto' on a regressor runs the range test on the regressor (its
    squared-error losses: test_losses_match_scikit_learn_updated_at_each_rate)
    and trains with its suggestion."""
    X, y = make_regression(n_samples=300, n_features=6, noise=1.0, random_state=0)
    y = y / y.std()
    kw = dict(max_iter=5, random_state=0)
    reg = MLPRegressor(learning_rate_init="auto", **kw).fit(X, y)
    result = find_learning_rate(MLPRegressor(**kw), X, y)
    np.testing.assert_array_equal(reg.lr_finder_.losses, result.losses)
    assert reg.learning_rate_init_ == result.suggestion == reg.lr_finder_.suggestion
    np.testing.assert_array_equal(reg.history_["learning_rate"], result.suggestion)
    # A rate inside the sweep's falling part: the smoothed loss at it is
    # below the sweep's start.
    at = np.searchsorted(result.learning_rates, result.suggestion)
    assert result.smoothed_losses[at] < result.smoothed_losses[0]


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
