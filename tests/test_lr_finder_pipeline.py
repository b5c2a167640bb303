"""find_learning_rate and learning_rate_init='auto' with a Pipeline (issue 10 §5)."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier, MLPRegressor, find_learning_rate


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X * [10.0, 1.0, 5.0, 0.1] + 3.0, y  # unscaled columns: the scaler matters


def _clf():
    return MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", batch_size=16, random_state=0)


def test_pipeline_runs_the_test_on_the_final_step_after_the_others(iris):
    """The result equals the test run by hand on the network, with X
    transformed by a scaler fitted on X."""
    X, y = iris
    result = find_learning_rate(make_pipeline(StandardScaler(), _clf()), X, y, num=60)
    by_hand = find_learning_rate(_clf(), StandardScaler().fit(X).transform(X), y, num=60)
    np.testing.assert_array_equal(result.learning_rates, by_hand.learning_rates)
    np.testing.assert_array_equal(result.losses, by_hand.losses)
    assert result.suggestions == by_hand.suggestions
    assert result.suggestion == by_hand.suggestion
    # ... and differs from the test on unscaled X (the steps did run).
    assert not np.array_equal(find_learning_rate(_clf(), X, y, num=60).losses, result.losses)


def test_pipeline_steps_see_y_and_nest(iris):
    X, y = iris
    # Nested, with a step that needs y to fit (SelectKBest scores the
    # columns against y): X goes through the steps as Pipeline.fit sends it.
    inner = Pipeline([("select", SelectKBest(f_classif, k=2)), ("net", _clf())])
    nested = make_pipeline(StandardScaler(), inner)
    result = find_learning_rate(nested, X, y, num=40)
    Xt = SelectKBest(f_classif, k=2).fit_transform(StandardScaler().fit_transform(X), y)
    assert Xt.shape[1] == 2
    np.testing.assert_array_equal(result.losses, find_learning_rate(_clf(), Xt, y, num=40).losses)
    # A one-step Pipeline is its estimator.
    one = find_learning_rate(Pipeline([("net", _clf())]), X, y, num=40)
    np.testing.assert_array_equal(one.losses, find_learning_rate(_clf(), X, y, num=40).losses)


@pytest.mark.filterwarnings("ignore::sklr.exceptions.LRFinderWarning")  # num=20: too short
def test_pipeline_passed_in_is_not_fitted(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), _clf())
    params = pipe.get_params(deep=True)
    find_learning_rate(pipe, X, y, num=20)
    assert not hasattr(pipe[0], "mean_") and not hasattr(pipe[-1], "coefs_")
    assert pipe.get_params(deep=True).keys() == params.keys()


def test_pipeline_not_ending_in_an_sklr_network_raises(iris):
    X, y = iris
    with pytest.raises(TypeError, match="or a Pipeline ending in one, got LinearRegression"):
        find_learning_rate(make_pipeline(StandardScaler(), LinearRegression()), X, y)


def test_auto_inside_a_pipeline_fit():
    """Pipeline.fit hands the network the scaled X: 'auto' runs the test
    on it, the same test find_learning_rate runs on the Pipeline."""
    X, y = load_diabetes(return_X_y=True)
    kw = dict(solver="sgd", max_iter=20, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPRegressor(learning_rate_init="auto", **kw))
    pipe.fit(X, y)
    net = pipe[-1]
    result = find_learning_rate(make_pipeline(StandardScaler(), MLPRegressor(**kw)), X, y)
    np.testing.assert_array_equal(net.lr_finder_.losses, result.losses)
    assert net.learning_rate_init_ == result.suggestion == net.lr_finder_.suggestion
    np.testing.assert_array_equal(net.history_["learning_rate"], result.suggestion)
    assert pipe.score(X, y) > 0.3


def test_display_from_a_pipeline(iris):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklr.inspection import LRFinderDisplay

    X, y = iris
    pipe = make_pipeline(StandardScaler(), _clf())
    display = LRFinderDisplay.from_estimator(pipe, X, y, num=40)
    result = find_learning_rate(pipe, X, y, num=40)
    np.testing.assert_array_equal(display.lines_["loss"].get_ydata(), result.losses)
    np.testing.assert_array_equal(display.lines_["lag_free_loss"].get_ydata(),
                                  result.lag_free_losses)
    with pytest.raises(TypeError, match="or a Pipeline ending in one"):
        LRFinderDisplay.from_estimator(make_pipeline(StandardScaler(), LinearRegression()),
                                       X, y)
    plt.close("all")
