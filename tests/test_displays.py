"""Tests for the displays of sklr.inspection."""

import doctest
import sys
import types

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import sklr.inspection._common  # noqa: E402
import sklr.inspection._lr_finder_display  # noqa: E402
import sklr.inspection._schedule  # noqa: E402
import sklr.inspection._training_history  # noqa: E402
from sklr import MLPClassifier, MLPRegressor  # noqa: E402
from sklr.inspection import (  # noqa: E402
    LRFinderDisplay,
    ScheduleDisplay,
    TrainingHistoryDisplay,
)
from sklr.model_selection import training_curves  # noqa: E402
from sklr.schedules import (  # noqa: E402
    CosineAnnealing,
    Cyclic,
    CyclicMomentum,
    MomentumRamp,
    ReduceOnPlateau,
    StepDecay,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=160, centers=3, random_state=0)
    return X[:120], y[:120], X[120:], y[120:]


def _history(n=5, val=True, score=False, seed=0):
    rng = np.random.RandomState(seed)
    history = {
        "loss": np.sort(rng.uniform(0.1, 1.0, n))[::-1].copy(),
        "learning_rate": 0.1 * 0.5 ** np.arange(n),
        "momentum": np.full(n, 0.9),
        "time": rng.uniform(0.01, 0.02, n),
    }
    if val:
        history["val_loss"] = history["loss"] + 0.1
        history["val_score"] = np.linspace(0.5, 0.9, n)
    if score:
        history["score"] = np.linspace(0.6, 1.0, n)
    return history


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------
# TrainingHistoryDisplay
# --------------------------------------------------------------------------


def test_history_default_draws_loss_and_val_loss():
    history = _history(n=6)
    display = TrainingHistoryDisplay.from_history(history)
    assert list(display.lines_) == ["loss", "val_loss"]
    for key, line in display.lines_.items():
        assert_array_equal(line.get_xdata(), np.arange(1, 7))
        assert_array_equal(line.get_ydata(), history[key])
        assert line.axes is display.ax_
    assert display.figure_ is display.ax_.figure
    assert display.axes_.shape == (1, 1) and display.axes_[0, 0] is display.ax_
    assert display.ax_twin_ is None
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Loss"
    assert _legend_texts(display.ax_) == ["loss", "val_loss"]


def test_history_default_without_validation_draws_loss_only():
    display = TrainingHistoryDisplay.from_history(_history(val=False))
    assert list(display.lines_) == ["loss"]


def test_history_metrics_and_name():
    history = _history(score=True)
    display = TrainingHistoryDisplay.from_history(
        history, metrics=["score", "val_score"], name="net", linestyle=":"
    )
    assert_array_equal(display.lines_["val_score"].get_ydata(), history["val_score"])
    assert display.ax_.get_ylabel() == "Score"
    assert _legend_texts(display.ax_) == ["score (net)", "val_score (net)"]
    assert all(line.get_linestyle() == ":" for line in display.lines_.values())
    single = TrainingHistoryDisplay.from_history(history, metrics="val_score")
    assert list(single.lines_) == ["val_score"]


def test_history_missing_metric_lists_available_keys():
    with pytest.raises(ValueError, match=r"\['score'\].*available keys: \['learning_rate'"):
        TrainingHistoryDisplay.from_history(_history(), metrics=["loss", "score"])
    with pytest.raises(ValueError, match="none of the default metrics"):
        TrainingHistoryDisplay.from_history({"time": [1.0]})


def test_history_x_time_is_cumulative():
    history = _history()
    display = TrainingHistoryDisplay.from_history(history, x="time")
    assert_allclose(display.lines_["loss"].get_xdata(), np.cumsum(history["time"]))
    assert display.ax_.get_xlabel() == "Wall time (s)"
    del history["time"]
    with pytest.raises(ValueError, match="x='time' needs the history key 'time'"):
        TrainingHistoryDisplay.from_history(history, x="time")
    with pytest.raises(ValueError, match="x must be one of"):
        TrainingHistoryDisplay.from_history(_history(), x="step")


def test_history_draws_into_given_ax():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    display = TrainingHistoryDisplay.from_history(_history(), ax=ax2)
    assert display.ax_ is ax2 and display.figure_ is fig
    assert len(ax2.get_lines()) == 2 and len(ax1.get_lines()) == 0
    # Two fits on one axes: names keep the legend apart.
    TrainingHistoryDisplay(_history(seed=1), estimator_name="b").plot(ax=ax1, metrics=["loss"])
    TrainingHistoryDisplay(_history(seed=2), estimator_name="c").plot(ax=ax1, metrics=["loss"])
    assert _legend_texts(ax1) == ["loss (b)", "loss (c)"]


def test_history_rate_with_loss_goes_on_twin_axis():
    history = _history()
    display = TrainingHistoryDisplay.from_history(history, metrics=["loss", "learning_rate"])
    twin = display.ax_twin_
    assert twin is not None and twin is not display.ax_
    assert display.lines_["loss"].axes is display.ax_
    assert display.lines_["learning_rate"].axes is twin
    assert_array_equal(display.lines_["learning_rate"].get_ydata(), history["learning_rate"])
    assert display.lines_["loss"].get_color() != display.lines_["learning_rate"].get_color()
    assert display.ax_.get_ylabel() == "Loss"
    assert twin.get_ylabel() == "Learning rate"
    assert _legend_texts(display.ax_) == ["loss", "learning_rate"]

    alone = TrainingHistoryDisplay.from_history(history, metrics=["learning_rate"])
    assert alone.ax_twin_ is None
    assert alone.lines_["learning_rate"].axes is alone.ax_
    assert alone.ax_.get_ylabel() == "Learning rate"


def test_history_unequal_lengths():
    with pytest.raises(ValueError, match="different lengths"):
        TrainingHistoryDisplay.from_history({"loss": [1.0, 0.5], "val_loss": [1.0]})


def test_history_from_estimator(blobs):
    X, y, _, _ = blobs
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=6, random_state=0,
                        early_stopping=True, n_iter_no_change=50).fit(X, y)
    display = TrainingHistoryDisplay.from_estimator(clf)
    assert_array_equal(display.lines_["loss"].get_ydata(), clf.history_["loss"])
    assert_array_equal(display.lines_["val_loss"].get_ydata(), clf.history_["val_loss"])
    assert_array_equal(display.lines_["loss"].get_xdata(), np.arange(1, 7))

    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=3, random_state=0)).fit(X, y)
    display = TrainingHistoryDisplay.from_estimator(pipe, metrics=["loss"])
    assert_array_equal(display.lines_["loss"].get_ydata(), pipe[-1].history_["loss"])


def test_history_from_estimator_errors(blobs):
    X, y, _, _ = blobs
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(MLPClassifier())
    sk = SkMLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="has no history_"):
        TrainingHistoryDisplay.from_estimator(sk)
    with pytest.raises(TypeError, match="dict of per-epoch arrays"):
        TrainingHistoryDisplay.from_history([_history()])


def _curves(values, **history_kwargs):
    histories = [_history(seed=i, **history_kwargs) for i in range(len(values))]
    return Bunch(param_name="learning_rate_init", param_range=list(values),
                 histories=histories, estimators=None)


def test_grid_one_panel_per_value_with_scores():
    curves = _curves([1e-3, 1e-2, 0.1, 1.0], score=True)
    display = TrainingHistoryDisplay.from_training_curves(curves, ncols=2)
    assert display.axes_.shape == (2, 2)
    assert display.ax_ is None
    assert len(display.lines_) == 4
    titles = [ax.get_title() for ax in display.axes_.flat]
    assert titles == ["learning_rate_init=0.001", "learning_rate_init=0.01",
                      "learning_rate_init=0.1", "learning_rate_init=1"]
    for ax, lines, history in zip(display.axes_.flat, display.lines_, curves.histories):
        assert list(lines) == ["score", "val_score"]
        assert lines["score"].axes is ax
        assert_array_equal(lines["score"].get_ydata(), history["score"])
        assert_array_equal(lines["val_score"].get_ydata(), history["val_score"])
    assert display.figure_ is display.axes_[0, 0].figure
    first, last = display.axes_[0, 0], display.axes_[1, 1]
    assert first.get_shared_y_axes().joined(first, last)
    assert _legend_texts(first) == ["score", "val_score"]
    assert first.get_ylabel() == "Score" and last.get_ylabel() == ""
    assert last.get_xlabel() == "Epoch" and first.get_xlabel() == ""


def test_grid_falls_back_to_losses_and_hides_extra_panels():
    curves = _curves([0.1, 0.2, 0.3, 0.4])
    display = TrainingHistoryDisplay.from_training_curves(curves, ncols=3, sharey=False)
    assert display.axes_.shape == (2, 3)
    assert [ax.get_visible() for ax in display.axes_.flat] == [True] * 4 + [False] * 2
    assert all(list(lines) == ["loss", "val_loss"] for lines in display.lines_)
    first, last = display.axes_[0, 0], display.axes_[1, 0]
    assert not first.get_shared_y_axes().joined(first, last)
    default = TrainingHistoryDisplay.from_training_curves(_curves([0.1, 0.2]))
    assert default.axes_.shape == (1, 2)


@pytest.mark.parametrize(
    "n, shape",
    [(1, (1, 1)), (2, (1, 2)), (3, (1, 3)), (4, (2, 2)), (5, (2, 3)), (6, (2, 3)),
     (7, (2, 4)), (8, (2, 4)), (9, (3, 3))],
)
def test_grid_default_shape_leaves_few_empty_panels(n, shape):
    display = TrainingHistoryDisplay.from_training_curves(_curves(np.arange(1, n + 1)))
    assert display.axes_.shape == shape
    visible = [ax.get_visible() for ax in display.axes_.flat]
    assert visible == [True] * n + [False] * (shape[0] * shape[1] - n)


def test_grid_default_title_names_metrics_and_parameter():
    curves = _curves([0.1, 0.2, 0.3, 0.4], score=True)
    display = TrainingHistoryDisplay.from_training_curves(curves)
    assert display.figure_.get_suptitle() == (
        "Training and validation score per epoch, one panel per learning_rate_init"
    )
    curves.score_name = "Accuracy"
    display = TrainingHistoryDisplay.from_training_curves(curves)
    assert display.figure_.get_suptitle() == (
        "Training and validation accuracy per epoch, one panel per learning_rate_init"
    )
    assert display.axes_[0, 0].get_ylabel() == "Accuracy"
    display = TrainingHistoryDisplay.from_training_curves(curves, score_name="R²",
                                                          metrics="val_score")
    assert display.figure_.get_suptitle() == (
        "Validation R² per epoch, one panel per learning_rate_init"
    )
    assert display.axes_[0, 0].get_ylabel() == "R²"
    display = TrainingHistoryDisplay.from_training_curves(
        curves, metrics=["loss", "learning_rate"], x="time"
    )
    assert display.figure_.get_suptitle() == (
        "Training loss and learning rate over wall time, one panel per learning_rate_init"
    )


def test_grid_title_given_or_none():
    curves = _curves([0.1, 0.2], score=True)
    display = TrainingHistoryDisplay.from_training_curves(curves, title="Blobs")
    assert display.figure_.get_suptitle() == "Blobs"
    display = TrainingHistoryDisplay.from_training_curves(curves, title="")
    assert display.figure_.get_suptitle() == ""
    # Axes of the caller's figure: no title unless asked for.
    fig, axes = plt.subplots(1, 2)
    TrainingHistoryDisplay.from_training_curves(curves, axes=axes)
    assert fig.get_suptitle() == ""
    with pytest.raises(TypeError, match="title must be a str"):
        TrainingHistoryDisplay.from_training_curves(curves, title=["a"])


def test_history_title_and_score_name():
    history = _history(score=True)
    display = TrainingHistoryDisplay.from_history(history, metrics="score",
                                                  score_name="Accuracy", title="One fit")
    assert display.ax_.get_ylabel() == "Accuracy"
    assert display.ax_.get_title() == "One fit"
    assert TrainingHistoryDisplay.from_history(history).ax_.get_title() == ""


@pytest.mark.parametrize("Estimator, name", [(MLPClassifier, "Accuracy"),
                                             (MLPRegressor, "R²")])
def test_score_axis_names_the_estimators_metric(blobs, Estimator, name):
    X, y, X_val, y_val = blobs
    est = Estimator(hidden_layer_sizes=(5,), max_iter=3, record_train_score=True,
                    random_state=0)
    curves = training_curves(est, X, y, X_val=X_val, y_val=y_val,
                             param_name="alpha", param_range=[1e-4, 1e-2])
    assert curves.score_name == name
    display = TrainingHistoryDisplay.from_training_curves(curves)
    assert display.axes_[0, 0].get_ylabel() == name
    assert name.lower() in display.figure_.get_suptitle().lower()
    # The history records what ``score`` returns: accuracy or R².
    fitted = clone(est).fit(X, y, X_val=X_val, y_val=y_val)
    assert_allclose(fitted.history_["val_score"][-1], fitted.score(X_val, y_val))
    single = TrainingHistoryDisplay.from_estimator(fitted, metrics=["score", "val_score"])
    assert single.ax_.get_ylabel() == name
    pipe = make_pipeline(StandardScaler(), clone(est)).fit(X, y)
    piped = TrainingHistoryDisplay.from_estimator(pipe, metrics="score")
    assert piped.ax_.get_ylabel() == name


def test_grid_titles_of_objects_and_strings():
    schedule = CosineAnnealing(period=0.5)
    curves = _curves([schedule, "adaptive"])
    curves.param_name = "learning_rate"
    display = TrainingHistoryDisplay.from_training_curves(curves)
    assert [ax.get_title() for ax in display.axes_.flat] == [
        "learning_rate=CosineAnnealing(period=0.5)", "learning_rate=adaptive"
    ]


def test_grid_into_given_axes_and_errors():
    curves = _curves([0.1, 0.2, 0.3])
    fig, axes = plt.subplots(1, 3)
    display = TrainingHistoryDisplay.from_training_curves(curves, axes=axes, metrics="loss")
    assert display.axes_.shape == (1, 3) and display.figure_ is fig
    assert all(display.axes_[0, i] is axes[i] for i in range(3))
    assert all(len(ax.get_lines()) == 1 for ax in axes)
    with pytest.raises(ValueError, match="2 Axes for 3 histories"):
        TrainingHistoryDisplay.from_training_curves(curves, axes=axes[:2])
    with pytest.raises(TypeError, match="array of at least 3 Axes"):
        TrainingHistoryDisplay.from_training_curves(curves, axes=axes[0])
    with pytest.raises(ValueError, match=r"\['score'\] not in the history 1"):
        curves.histories[0]["score"] = np.ones(5)
        TrainingHistoryDisplay.from_training_curves(curves, metrics=["score"])
    with pytest.raises(TypeError, match="training_curves"):
        TrainingHistoryDisplay.from_training_curves([_history()])


def test_grid_from_real_training_curves(blobs):
    X, y, X_val, y_val = blobs
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", max_iter=3, random_state=0)
    curves = training_curves(clf, X, y, X_val=X_val, y_val=y_val,
                             param_name="learning_rate_init", param_range=[0.01, 0.1])
    display = TrainingHistoryDisplay.from_training_curves(curves)
    for lines, history in zip(display.lines_, curves.histories):
        assert list(lines) == ["loss", "val_loss"]
        assert_array_equal(lines["val_loss"].get_ydata(), history["val_loss"])


# --------------------------------------------------------------------------
# ScheduleDisplay
# --------------------------------------------------------------------------


def test_schedule_cosine_against_formula():
    display = ScheduleDisplay.from_schedule(
        CosineAnnealing(period=10, unit="epoch"), n_epochs=12, steps_per_epoch=4, base_rate=0.1
    )
    t = np.arange(48) / 4
    assert_allclose(display.line_.get_xdata(), t)
    expected = 0.1 * (1 + np.cos(np.pi * np.minimum(t, 10) / 10)) / 2
    assert_allclose(display.line_.get_ydata(), expected, rtol=1e-12, atol=1e-15)
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Learning rate"
    assert _legend_texts(display.ax_) == ["CosineAnnealing(period=10, unit='epoch')"]
    assert display.figure_ is display.ax_.figure


def test_schedule_step_decay_in_steps():
    display = ScheduleDisplay.from_schedule(
        StepDecay(step_size=3, gamma=0.5, unit="step"), n_epochs=4, steps_per_epoch=3,
        x_unit="step", name="step decay",
    )
    steps = np.arange(12)
    assert_array_equal(display.line_.get_xdata(), steps)
    assert_allclose(display.line_.get_ydata(), 0.5 ** (steps // 3))
    assert display.ax_.get_xlabel() == "Update (step)"
    assert display.ax_.get_ylabel() == "Learning-rate multiplier"
    assert _legend_texts(display.ax_) == ["step decay"]


def test_schedule_momentum_in_samples():
    display = ScheduleDisplay.from_schedule(
        MomentumRamp(start=0.5, stable=0.9, ramp=400, unit="sample"), n_epochs=3,
        steps_per_epoch=4,
        batch_size=50, x_unit="sample",
    )
    samples = np.arange(12) * 50.0
    assert_array_equal(display.line_.get_xdata(), samples)
    assert_allclose(display.line_.get_ydata(), 0.5 + 0.4 * np.minimum(samples, 400) / 400)
    assert display.ax_.get_xlabel() == "Samples seen"
    assert display.ax_.get_ylabel() == "Momentum"

    cyclic = CyclicMomentum(Cyclic(step_size=2), base_momentum=0.8, max_momentum=0.9)
    display = ScheduleDisplay.from_schedule(cyclic, n_epochs=5)
    assert_allclose(display.line_.get_ydata(), [0.9, 0.85, 0.8, 0.85, 0.9])
    assert display.ax_.get_ylabel() == "Momentum"


def test_schedule_plateau_needs_monitored():
    schedule = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0)
    monitored = [3.0, 2.0, 2.0, 2.0, 2.0, 1.0]
    display = ScheduleDisplay.from_schedule(schedule, n_epochs=6, steps_per_epoch=2,
                                            monitored=monitored)
    assert_allclose(display.line_.get_ydata(), np.repeat([1, 1, 1, 1, 0.5, 0.5], 2))
    with pytest.raises(ValueError, match="monitored"):
        ScheduleDisplay.from_schedule(schedule, n_epochs=6)
    with pytest.raises(ValueError, match="only used by feedback schedules"):
        ScheduleDisplay.from_schedule(CosineAnnealing(), n_epochs=6, monitored=monitored)
    with pytest.raises(TypeError, match="preview method"):
        ScheduleDisplay.from_schedule("cosine", n_epochs=6)
    with pytest.raises(ValueError, match="x_unit must be one of"):
        ScheduleDisplay.from_schedule(CosineAnnealing(), n_epochs=6, x_unit="hour")


def test_schedule_compare_on_one_axes():
    fig, ax = plt.subplots()
    a = ScheduleDisplay.from_schedule(CosineAnnealing(), n_epochs=5, ax=ax, name="cos")
    b = ScheduleDisplay.from_schedule(StepDecay(step_size=2), n_epochs=5, ax=ax, name="step")
    assert a.ax_ is ax and b.ax_ is ax and a.figure_ is fig
    assert len(ax.get_lines()) == 2
    assert _legend_texts(ax) == ["cos", "step"]


def test_schedule_display_direct():
    display = ScheduleDisplay([1.0, 0.5, 0.25]).plot(color="red")
    assert_array_equal(display.line_.get_xdata(), [0, 1, 2])
    assert display.line_.get_color() == "red"
    assert display.ax_.get_legend() is None
    assert display.ax_.get_ylabel() == "Value"
    with pytest.raises(ValueError, match="x has 2 positions for 3 values"):
        ScheduleDisplay([1.0, 0.5, 0.25], x=[0, 1]).plot()
    with pytest.raises(ValueError, match="unit must be one of"):
        ScheduleDisplay([1.0], unit="hour").plot()


def test_schedule_from_estimator(blobs):
    X, y, _, _ = blobs
    clf = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.1,
                        learning_rate=StepDecay(step_size=2, gamma=0.5), batch_size=120,
                        max_iter=6, random_state=0).fit(X, y)
    display = ScheduleDisplay.from_estimator(clf)
    assert_array_equal(display.line_.get_xdata(), np.arange(1, 7))
    assert_array_equal(display.line_.get_ydata(), clf.history_["learning_rate"])
    assert_allclose(display.line_.get_ydata(), 0.1 * 0.5 ** (np.arange(6) // 2))
    assert display.ax_.get_ylabel() == "Learning rate"
    momentum = ScheduleDisplay.from_estimator(clf, metric="momentum")
    assert_array_equal(momentum.line_.get_ydata(), clf.history_["momentum"])
    assert momentum.ax_.get_ylabel() == "Momentum"

    lbfgs = MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3,
                          random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="lbfgs"):
        ScheduleDisplay.from_estimator(lbfgs)
    with pytest.raises(ValueError, match="available keys"):
        ScheduleDisplay.from_estimator(clf, metric="beta")
    with pytest.raises(NotFittedError):
        ScheduleDisplay.from_estimator(MLPClassifier())


# --------------------------------------------------------------------------
# LRFinderDisplay
# --------------------------------------------------------------------------


def _finder_result():
    rates = np.logspace(-6, 0, 40)
    smoothed = 1.0 + (np.log10(rates) + 2.5) ** 2 / 10
    losses = smoothed + 0.05 * np.sin(np.arange(40))
    losses[-1] = 1e4  # divergence spike
    suggestions = {"steep": 3e-4, "minimum": 10**-2.5, "valley": float("nan"), "sklr": 3e-4}
    return types.SimpleNamespace(
        learning_rates=rates, losses=losses, smoothed_losses=smoothed,
        suggestions=suggestions, suggestion=3e-4,
    )


def test_lr_finder_from_result():
    result = _finder_result()
    display = LRFinderDisplay.from_result(result)
    ax = display.ax_
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Learning rate" and ax.get_ylabel() == "Loss"
    assert set(display.lines_) == {"smoothed_loss", "loss"}
    assert_array_equal(display.lines_["smoothed_loss"].get_xdata(), result.learning_rates)
    assert_array_equal(display.lines_["smoothed_loss"].get_ydata(), result.smoothed_losses)
    raw = display.lines_["loss"]
    assert_array_equal(raw.get_ydata(), result.losses)
    assert raw.get_alpha() < 1
    assert raw.get_color() == display.lines_["smoothed_loss"].get_color()
    # NaN suggestions are not drawn; each line sits at its rule's value.
    assert list(display.suggestion_lines_) == ["steep", "minimum", "sklr"]
    for rule, line in display.suggestion_lines_.items():
        assert_allclose(line.get_xdata(), [result.suggestions[rule]] * 2)
    marker = display.suggestion_markers_["minimum"]
    expected_y = np.interp(-2.5, np.log10(result.learning_rates), result.smoothed_losses)
    assert_allclose(marker.get_ydata(), [expected_y])
    # Each legend entry names its rule and how the rule reads the curve:
    # 'minimum' is a tenth of the rate at the lowest loss.
    assert _legend_texts(ax) == [
        "smoothed loss", "loss",
        "steep (steepest descent): 3.00e-04 (suggested)",
        "minimum (lowest loss's rate / 10): 3.16e-03",
        "sklr (lag-free curve: √(95% of the drop · minimum) / 2): 3.00e-04 (suggested)",
    ]
    # The divergence spike of the raw loss does not set the y range.
    assert ax.get_ylim()[1] < 2 * result.smoothed_losses.max()
    assert display.figure_ is ax.figure
    assert ax.get_title() == "Learning-rate range test"
    assert ax.get_yscale() == "linear"


def test_lr_finder_legend_of_unknown_rule():
    rates = np.logspace(-4, -1, 10)
    display = LRFinderDisplay(rates, np.linspace(2.0, 1.0, 10),
                              suggestions={"mine": 1e-3}, suggestion=1e-2).plot()
    assert _legend_texts(display.ax_) == [
        "loss", "mine: 1.00e-03", "suggestion: 1.00e-02 (suggested)"
    ]


def _diverging_result():
    """A range test whose smoothed loss falls from 1e4 to 1e3, then explodes."""
    rates = np.logspace(-7, 1, 60)
    smoothed = np.concatenate([np.full(30, 1e4), np.geomspace(1e4, 1e3, 25),
                               [3e3, 1e4, 1e5, 1e6, 3e6]])
    losses = smoothed * (1 + 0.2 * np.sin(np.arange(60)))
    losses[-1] = 3e8
    return types.SimpleNamespace(learning_rates=rates, losses=losses,
                                 smoothed_losses=smoothed, suggestions={}, suggestion=None)


@pytest.mark.parametrize("show_raw", [True, False])
def test_lr_finder_loss_axis_shows_the_descent_not_the_divergence(show_raw):
    result = _diverging_result()
    ax = LRFinderDisplay.from_result(result, show_raw=show_raw).ax_
    bottom, top = ax.get_ylim()
    # The whole descent, from the starting level down to the lowest loss
    # drawn, is inside the axes...
    assert top >= 1e4
    lowest = result.losses.min() if show_raw else result.smoothed_losses.min()
    assert bottom <= lowest
    # ...and the explosion after the minimum does not set the scale.
    assert top < 2e4
    assert bottom > lowest - 0.2 * (top - lowest)


def test_lr_finder_log_scale():
    result = _diverging_result()
    ax = LRFinderDisplay.from_result(result, yscale="log").ax_
    assert ax.get_yscale() == "log"
    bottom, top = ax.get_ylim()
    assert 0 < bottom <= result.losses.min()
    assert 1e4 <= top < 1e5
    with pytest.raises(ValueError, match="yscale must be 'linear' or 'log'"):
        LRFinderDisplay.from_result(result, yscale="symlog")


def test_lr_finder_regression_spike_leaves_the_axes():
    """A real regression range test: the loss explodes by orders of magnitude."""
    lr_finder = pytest.importorskip("sklr._lr_finder")
    from sklearn.datasets import make_regression

    from sklr import MLPRegressor

    X, y = make_regression(n_samples=300, n_features=5, noise=10, random_state=0)
    result = lr_finder.find_learning_rate(
        MLPRegressor(hidden_layer_sizes=(10,), solver="sgd"), X, y, random_state=0
    )
    smoothed = result.smoothed_losses
    assert result.diverged and smoothed.max() > 20 * smoothed.min()  # the premise
    ax = result.plot().ax_
    bottom, top = ax.get_ylim()
    i_min = int(np.argmin(smoothed))
    assert bottom <= result.losses.min()
    assert smoothed[: i_min + 1].max() <= top < 2 * smoothed[0]


def test_lr_finder_title():
    result = _finder_result()
    assert LRFinderDisplay.from_result(result, title="digits").ax_.get_title() == "digits"
    assert LRFinderDisplay.from_result(result, title="").ax_.get_title() == ""
    fig, ax = plt.subplots()
    ax.set_title("mine")
    LRFinderDisplay.from_result(result, ax=ax)
    assert ax.get_title() == "mine"
    with pytest.raises(TypeError, match="title must be a str"):
        LRFinderDisplay.from_result(result, title=1)


def test_lr_finder_options_and_given_ax():
    result = _finder_result()
    fig, ax = plt.subplots()
    display = LRFinderDisplay.from_result(result, ax=ax, show_raw=False,
                                          show_suggestions=False, color="k")
    assert display.ax_ is ax and display.figure_ is fig
    assert list(display.lines_) == ["smoothed_loss"]
    assert display.lines_["smoothed_loss"].get_color() == "k"
    assert display.suggestion_lines_ == {}
    assert len(ax.get_lines()) == 1
    assert _legend_texts(ax) == ["smoothed loss"]


def test_lr_finder_raw_only_and_lone_suggestion():
    rates = np.logspace(-4, -1, 10)
    losses = np.linspace(2.0, 1.0, 10)
    display = LRFinderDisplay(rates, losses, suggestion=1e-2).plot()
    assert list(display.lines_) == ["loss"]
    assert_array_equal(display.lines_["loss"].get_ydata(), losses)
    assert display.ax_.get_xscale() == "log"
    assert _legend_texts(display.ax_) == ["loss", "suggestion: 1.00e-02 (suggested)"]
    # Without a smoothed loss the raw loss sets the y range.
    assert display.ax_.get_ylim()[0] <= 1.0 and display.ax_.get_ylim()[1] >= 2.0
    nothing = LRFinderDisplay(rates, losses, suggestions={"valley": np.nan}).plot()
    assert nothing.suggestion_lines_ == {}


def test_lr_finder_invalid_data():
    with pytest.raises(ValueError, match="losses has 2 values for 3 learning rates"):
        LRFinderDisplay([1e-3, 1e-2, 1e-1], [1.0, 2.0]).plot()
    with pytest.raises(ValueError, match="must be positive"):
        LRFinderDisplay([0.0, 1e-2], [1.0, 2.0]).plot()
    with pytest.raises(TypeError, match="learning_rates and losses"):
        LRFinderDisplay.from_result(types.SimpleNamespace(losses=[1.0]))


def test_lr_finder_from_estimator(blobs):
    lr_finder = pytest.importorskip("sklr._lr_finder")
    X, y, _, _ = blobs
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", random_state=0)
    display = LRFinderDisplay.from_estimator(clf, X, y, num=30, random_state=0)
    result = lr_finder.find_learning_rate(clf, X, y, num=30, random_state=0)
    assert_array_equal(display.lines_["smoothed_loss"].get_xdata(), result.learning_rates)
    assert_array_equal(display.lines_["smoothed_loss"].get_ydata(), result.smoothed_losses)
    assert display.ax_.get_xscale() == "log"
    assert "sklr" in display.suggestion_lines_ or np.isnan(result.suggestions["sklr"])
    # LRFinderResult.plot goes through LRFinderDisplay.from_result.
    fig, ax = plt.subplots()
    via_result = result.plot(ax=ax, show_raw=False)
    assert isinstance(via_result, LRFinderDisplay) and via_result.ax_ is ax
    assert list(via_result.lines_) == ["smoothed_loss", "lag_free_loss"]
    assert_array_equal(via_result.lines_["lag_free_loss"].get_ydata(), result.lag_free_losses)
    from sklearn.linear_model import SGDClassifier

    with pytest.raises(TypeError, match="needs an sklr MLPClassifier"):
        LRFinderDisplay.from_estimator(SGDClassifier(), X, y)
    assert_array_equal(via_result.lines_["smoothed_loss"].get_ydata(), result.smoothed_losses)


# --------------------------------------------------------------------------
# Without matplotlib, and doctests
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draw",
    [
        lambda: TrainingHistoryDisplay.from_history(_history()),
        lambda: TrainingHistoryDisplay(_history()).plot(),
        lambda: ScheduleDisplay.from_schedule(CosineAnnealing(), n_epochs=3),
        lambda: ScheduleDisplay([1.0]).plot(),
        lambda: LRFinderDisplay.from_result(_finder_result()),
        lambda: LRFinderDisplay.from_estimator(MLPClassifier(), [[0.0]], [0]),
    ],
)
def test_clear_import_error_without_matplotlib(monkeypatch, draw):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"requires matplotlib: pip install 'sklr\[plot\]'"):
        draw()


@pytest.mark.parametrize(
    "module",
    [
        sklr.inspection._common,
        sklr.inspection._lr_finder_display,
        sklr.inspection._schedule,
        sklr.inspection._training_history,
    ],
)
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
