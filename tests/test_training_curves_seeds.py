"""training_curves over several random seeds: the fits, their mean and spread, the bands.

The reference is NumPy over independent fits of clones with each seed as
``random_state``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier
from sklr.inspection._seed_bands import seed_statistics
from sklr.model_selection import training_curves


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=160, centers=3, cluster_std=3.0, random_state=0)
    return X, y


def _clf(**params):
    base = dict(hidden_layer_sizes=(5,), solver="sgd", max_iter=6, random_state=123)
    base.update(params)
    return MLPClassifier(**base)


def _by_hand(est, X, y, param_name, value, seeds, **fit_params):
    """Histories of independent fits, one per seed."""
    return [clone(est).set_params(**{param_name: value, "random_state": s})
            .fit(X, y, **fit_params).history_ for s in seeds]


@pytest.mark.parametrize("how", ["n_seeds", "seeds"])
def test_mean_and_spread_equal_numpy_over_independent_fits(data, how):
    X, y = data
    seeds = [0, 1, 2, 3] if how == "n_seeds" else [7, 11, 5]
    kwargs = {"n_seeds": 4} if how == "n_seeds" else {"seeds": seeds}
    values = [0.01, 0.3]
    curves = training_curves(_clf(), X, y, param_name="learning_rate_init",
                             param_range=values, **kwargs)
    assert curves.seeds == seeds
    assert len(curves.histories) == 2 and all(len(h) == len(seeds) for h in curves.histories)
    for i, value in enumerate(values):
        reference = _by_hand(_clf(), X, y, "learning_rate_init", value, seeds)
        for got, expected in zip(curves.histories[i], reference):
            assert_array_equal(got["loss"], expected["loss"])
        for key in ("loss", "learning_rate"):
            stack = np.vstack([h[key] for h in reference])
            assert_allclose(curves.mean[i][key], np.mean(stack, axis=0), rtol=1e-13)
            assert_allclose(curves.std[i][key], np.std(stack, axis=0, ddof=1),
                            rtol=1e-12, atol=1e-15)
            assert_array_equal(curves.min[i][key], np.min(stack, axis=0))
            assert_array_equal(curves.max[i][key], np.max(stack, axis=0))
            assert_array_equal(curves.count[i][key], np.full(6, len(seeds)))
    # The seeds matter: the runs of one value differ.
    assert np.all(curves.std[0]["loss"] > 0)


def test_fits_that_stop_early_are_summarised_over_those_that_reached_the_epoch(data):
    X, y = data
    est = _clf(early_stopping=True, n_iter_no_change=1, tol=0.02, max_iter=30,
               learning_rate_init=0.1)
    seeds = list(range(6))
    curves = training_curves(est, X, y, param_name="momentum", param_range=[0.9], seeds=seeds)
    runs = curves.histories[0]
    lengths = [len(h["val_score"]) for h in runs]
    assert len(set(lengths)) > 1  # the data must make the stops differ
    for epoch in range(max(lengths)):
        values = [h["val_score"][epoch] for h in runs if len(h["val_score"]) > epoch]
        assert curves.count[0]["val_score"][epoch] == len(values)
        assert_allclose(curves.mean[0]["val_score"][epoch], np.mean(values), rtol=1e-13)
        assert_allclose(curves.max[0]["val_score"][epoch], np.max(values))
        if len(values) > 1:
            assert_allclose(curves.std[0]["val_score"][epoch], np.std(values, ddof=1),
                            rtol=1e-12, atol=1e-15)
        else:
            assert np.isnan(curves.std[0]["val_score"][epoch])


def test_seed_statistics_skips_nan_and_missing_keys():
    stats = seed_statistics([{"a": [1.0, np.nan, 3.0]}, {"a": [2.0, 4.0], "b": [5.0, 6.0]}])
    assert_array_equal(stats["count"]["a"], [2, 1, 1])
    assert_allclose(stats["mean"]["a"], [1.5, 4.0, 3.0])
    assert_allclose(stats["std"]["a"], [np.std([1.0, 2.0], ddof=1), np.nan, np.nan])
    assert_array_equal(stats["count"]["b"], [1, 1, 0])
    assert_array_equal(stats["min"]["b"], [5.0, 6.0, np.nan])


def test_doctests():
    import doctest

    import sklr.inspection._seed_bands as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_pipeline_seeds_reach_the_nested_random_state_and_jobs_keep_order(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), _clf())
    serial = training_curves(pipe, X, y, param_name="mlpclassifier__alpha",
                             param_range=[1e-4, 1e-1], seeds=[3, 4], return_estimators=True)
    parallel = training_curves(pipe, X, y, param_name="mlpclassifier__alpha",
                               param_range=[1e-4, 1e-1], seeds=[3, 4], n_jobs=2)
    for i, alpha in enumerate([1e-4, 1e-1]):
        for j, seed in enumerate([3, 4]):
            fitted = serial.estimators[i][j][-1]
            assert (fitted.random_state, fitted.alpha) == (seed, alpha)
            assert fitted.history_ is serial.histories[i][j]
            assert_array_equal(parallel.histories[i][j]["loss"], serial.histories[i][j]["loss"])
        assert_array_equal(parallel.mean[i]["loss"], serial.mean[i]["loss"])


def test_seed_arguments_are_checked(data):
    X, y = data
    kw = dict(param_name="alpha", param_range=[1e-4])
    for bad, match in [
        (dict(n_seeds=2, seeds=[0, 1]), "not both"),
        (dict(n_seeds=0), "positive int"),
        (dict(n_seeds=True), "positive int"),
        (dict(n_seeds=2.0), "positive int"),
        (dict(seeds=[]), "non-empty"),
        (dict(seeds=[0, -1]), r"\[0, 2\*\*32\)"),
        (dict(seeds=[1, 1]), "distinct"),
    ]:
        with pytest.raises(ValueError, match=match):
            training_curves(_clf(), X, y, **kw, **bad)
    with pytest.raises(ValueError, match="what n_seeds and seeds vary"):
        training_curves(_clf(), X, y, param_name="random_state", param_range=[0], n_seeds=2)
    with pytest.raises(ValueError, match="KNeighborsClassifier has none"):
        training_curves(KNeighborsClassifier(), X, y, param_name="n_neighbors",
                        param_range=[3], n_seeds=2)


def test_without_seeds_the_result_is_unchanged(data):
    X, y = data
    curves = training_curves(_clf(), X, y, param_name="alpha", param_range=[1e-4])
    assert curves.seeds is None and "mean" not in curves
    assert isinstance(curves.histories[0], type(_clf().fit(X, y).history_))


def test_display_draws_the_mean_with_bands(data):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklr.inspection import TrainingHistoryDisplay

    X, y = data
    values = [0.01, 0.3]
    curves = training_curves(_clf(), X[:120], y[:120], X_val=X[120:], y_val=y[120:],
                             param_name="learning_rate_init", param_range=values, n_seeds=3)
    for band in ("std", "minmax", None):
        display = TrainingHistoryDisplay.from_training_curves(curves, band=band)
        for i, value in enumerate(values):
            runs = _by_hand(_clf(), X[:120], y[:120], "learning_rate_init", value, [0, 1, 2],
                            X_val=X[120:], y_val=y[120:])
            lines, bands = display.lines_[i], display.bands_[i]
            assert list(lines) == ["loss", "val_loss"]
            assert set(bands) == (set() if band is None else {"loss", "val_loss"})
            for metric, line in lines.items():
                stack = np.vstack([h[metric] for h in runs])
                assert_allclose(line.get_ydata(), stack.mean(axis=0), rtol=1e-13)
                if band is None:
                    continue
                if band == "std":
                    sd = np.std(stack, axis=0, ddof=1)
                    lower, upper = stack.mean(axis=0) - sd, stack.mean(axis=0) + sd
                else:
                    lower, upper = stack.min(axis=0), stack.max(axis=0)
                (path,) = bands[metric].get_paths()
                vertices = path.vertices
                assert bands[metric].axes is line.axes
                for epoch, (lo, hi) in enumerate(zip(lower, upper), start=1):
                    ys = vertices[np.isclose(vertices[:, 0], epoch), 1]
                    assert_allclose([ys.min(), ys.max()], [lo, hi], rtol=1e-12)
        plt.close("all")
    single = TrainingHistoryDisplay.from_training_curves(
        training_curves(_clf(), X, y, param_name="alpha", param_range=[1e-4, 1e-3]))
    assert single.bands_ == [{}, {}]
    with pytest.raises(ValueError, match="band must be one of"):
        TrainingHistoryDisplay.from_training_curves(curves, band="range")
    plt.close("all")
