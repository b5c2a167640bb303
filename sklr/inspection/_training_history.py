"""Plot per-epoch training histories: one fit, or one panel per parameter value."""

import math
from collections.abc import Mapping

import numpy as np

from ._common import as_float_vector, check_matplotlib, fitted_history, short_repr
from ._common import score_name as _score_name
from ._seed_bands import curves_to_plot, draw_bands

__all__ = ["TrainingHistoryDisplay"]

# Metrics on another scale than losses and scores: drawn on a twin y axis
# when requested together with them.
_SECONDARY = ("learning_rate", "momentum")
_SCORES = ("score", "val_score")
_AXIS_LABELS = (
    ({"loss", "val_loss"}, "Loss"),
    (set(_SCORES), None),  # the score's name
    ({"learning_rate"}, "Learning rate"),
    ({"momentum"}, "Momentum"),
    ({"time"}, "Epoch time (s)"),
)
_X_LABELS = {"epoch": "Epoch", "time": "Wall time (s)"}
# Largest number of columns the grid picks by itself.
_MAX_COLS = 4


def _axis_label(metrics, score):
    for group, label in _AXIS_LABELS:
        if set(metrics) <= group:
            return label or score or "Score"
    return ", ".join(metrics)


def _grid_columns(n):
    """Columns of a grid of ``n`` panels: few empty cells, close to square.

    Among 1 to ``_MAX_COLS`` columns, the one with the fewest empty cells
    (counted twice) plus rows-columns difference; ties go to more columns.
    4 panels make a 2x2 grid, 5 or 6 a 2x3, 7 or 8 a 2x4.
    """
    def cost(ncols):
        nrows = math.ceil(n / ncols)
        return 2 * (nrows * ncols - n) + abs(nrows - ncols), -ncols

    return min(range(1, min(n, _MAX_COLS) + 1), key=cost)


def _default_title(metrics, x, param_name, score):
    """``'Training and validation accuracy per epoch, one panel per lr'``."""
    if score is None:
        score = "score"
    elif score[1:].islower():  # 'Accuracy' -> 'accuracy', but 'R²' stays
        score = score[0].lower() + score[1:]
    words = {"loss": "training loss", "val_loss": "validation loss",
             "score": f"training {score}", "val_score": f"validation {score}",
             "learning_rate": "learning rate", "time": "epoch time"}
    if list(metrics) in (["loss", "val_loss"], list(_SCORES)):
        what = "training and validation " + ("loss" if metrics[0] == "loss" else score)
    else:
        names = [words.get(m, m) for m in metrics]
        what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    title = what[0].upper() + what[1:] + (" per epoch" if x == "epoch" else " over wall time")
    return title + (f", one panel per {param_name}" if param_name else "")


def _pick_metrics(history, metrics, default, where=""):
    """The metrics to draw for one history.

    Explicit ``metrics`` must all be present; ``None`` means those of
    ``default`` that are present.
    """
    if metrics is None:
        chosen = [m for m in default if m in history]
        if not chosen:
            raise ValueError(
                f"The history{where} has none of the default metrics {list(default)}; "
                f"pass metrics=... from the available keys {sorted(history)}."
            )
        return chosen
    if isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one history key.")
    missing = [m for m in metrics if m not in history]
    if missing:
        raise ValueError(
            f"Metric(s) {missing} not in the history{where}; available keys: "
            f"{sorted(history)}."
        )
    return metrics


def _grid_default(histories):
    """``('score', 'val_score')`` when every history has 'score', else losses."""
    if all("score" in h for h in histories):
        return ("score", "val_score")
    return ("loss", "val_loss")


class TrainingHistoryDisplay:
    """Per-epoch training history visualization.

    Draws the per-epoch values recorded in a fitted estimator's
    ``history_`` (training loss, validation loss and score, training score,
    learning rate, momentum, ...): one line per metric. Given the histories
    of :func:`sklr.model_selection.training_curves`, it draws a grid with
    one panel per parameter value, the classic figure of how the learning
    rate (or momentum, decay, optimizer...) changes training.

    Losses and scores share the main y axis. ``'learning_rate'`` and
    ``'momentum'`` drawn together with other metrics go on a twin y axis on
    the right (``ax_twin_``), in linear scale; draw them alone for a plot
    of their own (then they use the main axis, and e.g.
    ``display.ax_.set_yscale('log')`` is up to you).

    Use :meth:`from_estimator`, :meth:`from_history` or
    :meth:`from_training_curves` to create one; all attributes are stored.

    Parameters
    ----------
    history : dict of str to array-like, or list of such dicts
        One per-epoch history (as ``estimator.history_``), or several (as
        ``training_curves(...).histories``) for a grid of panels.
    estimator_name : str, default=None
        Name added to the legend labels (``'loss (name)'``); None adds
        nothing.
    param_name : str, default=None
        With several histories: the parameter that differs between them,
        for the panel titles.
    param_range : list, default=None
        With several histories: the parameter's value for each, for the
        panel titles (``'param_name=value'``).
    score_name : str, default=None
        What ``'score'`` and ``'val_score'`` measure, for the axis label and
        the title (``'Accuracy'`` for a classifier, ``'R²'`` for a
        regressor: the metric of the estimator's ``score``). None labels
        them ``'Score'``; the ``from_*`` methods fill it in from the
        estimator when they can.
    bands : dict or list of dict, default=None
        Shaded bands around lines: for each history (one dict, or a list
        like ``history``), a dict of metric to ``(lower, upper)`` arrays of
        one value per epoch, drawn in the line's colour. :meth:`from_training_curves`
        fills it from the seeds of ``training_curves(..., n_seeds=k)``.

    Attributes
    ----------
    ax_ : matplotlib Axes or None
        The axes drawn into, for a single history; None for a grid.
    axes_ : ndarray of matplotlib Axes of shape (n_rows, n_cols)
        All axes of the plot (``[[ax_]]`` for a single history). Panels of a
        grid beyond the number of histories are hidden.
    ax_twin_ : matplotlib Axes or None
        For a single history, the twin axis holding learning rate or
        momentum when drawn together with other metrics; None otherwise.
    twin_axes_ : ndarray of object of shape (n_rows, n_cols)
        The twin axis of each panel, or None.
    figure_ : matplotlib Figure
        The figure holding the axes.
    lines_ : dict of str to Line2D, or list of such dicts
        The line of each metric; for a grid, one dict per history.
    bands_ : dict of str to PolyCollection, or list of such dicts
        The band of each metric that has one, like ``lines_``.

    See Also
    --------
    sklr.model_selection.training_curves : Histories over a parameter range.
    ScheduleDisplay : Learning-rate schedules before training.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sklr import MLPClassifier
    >>> from sklr.inspection import TrainingHistoryDisplay
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20,
    ...                     early_stopping=True, random_state=0).fit(X, y)
    >>> display = TrainingHistoryDisplay.from_estimator(clf)  # doctest: +SKIP
    >>> sorted(display.lines_)  # doctest: +SKIP
    ['loss', 'val_loss']
    """

    def __init__(
        self, history, *, estimator_name=None, param_name=None, param_range=None,
        score_name=None, bands=None,
    ):
        self.history = history
        self.estimator_name = estimator_name
        self.param_name = param_name
        self.param_range = param_range
        self.score_name = score_name
        self.bands = bands

    def plot(
        self, ax=None, *, metrics=None, x="epoch", ncols=None, sharey=True, title=None,
        **kwargs,
    ):
        """Plot the history.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            For a single history, the axes to draw into; for several, an
            array of at least as many axes, one panel each. None creates a
            new figure.
        metrics : str or list of str, default=None
            History keys to draw, one line each; each must be present (a
            ValueError lists the available keys). None draws, among those
            present, ``'loss'`` and ``'val_loss'`` for a single history,
            and for several ``'score'`` and ``'val_score'`` when every
            history has ``'score'`` (``record_train_score=True``), else
            ``'loss'`` and ``'val_loss'``.
        x : {'epoch', 'time'}, default='epoch'
            Horizontal axis: the epoch number (1 for the first epoch), or
            the cumulative wall time of the epochs in seconds.
        ncols : int, default=None
            For several histories, the number of columns of the grid.
            None picks at most 4 columns that leave the fewest empty panels
            in a grid close to square: 4 histories make a 2x2 grid, 6 a
            2x3, 8 a 2x4.
        sharey : bool, default=True
            For several histories on a new figure, whether the panels share
            their y axis.
        title : str, default=None
            For several histories, the figure's title (``suptitle``); for a
            single one, the axes' title. None gives a grid on a new figure
            a title that names the metrics and the parameter (such as
            ``'Training and validation accuracy per epoch, one panel per
            momentum'``) and leaves other plots untitled; ``''`` gives no
            title.
        **kwargs : dict
            Keyword arguments passed to every ``Axes.plot`` call.

        Returns
        -------
        display : TrainingHistoryDisplay
            The object, with the attributes listed in the class docstring.
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        if x not in _X_LABELS:
            raise ValueError(f"x must be one of {sorted(_X_LABELS)}, got {x!r}.")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a str or None, got {type(title).__name__}.")
        if isinstance(self.history, Mapping):
            return self._plot_single(ax, metrics, x, title, kwargs)
        return self._plot_grid(ax, metrics, x, ncols, sharey, title, kwargs)

    def _plot_single(self, ax, metrics, x, title, kwargs):
        import matplotlib.pyplot as plt

        if ax is not None and not hasattr(ax, "plot"):
            raise TypeError("For a single history, ax must be one matplotlib Axes or None.")
        names = _pick_metrics(self.history, metrics, ("loss", "val_loss"))
        if ax is None:
            _, ax = plt.subplots()
        lines, twin = _draw_history(
            ax, self.history, names, x, self.estimator_name, self.score_name, kwargs
        )
        _legend(ax, twin)
        if title:
            ax.set_title(title)
        self.ax_ = ax
        self.axes_ = np.array([[ax]], dtype=object)
        self.ax_twin_ = twin
        self.twin_axes_ = np.array([[twin]], dtype=object)
        self.figure_ = ax.figure
        self.lines_ = lines
        self.bands_ = draw_bands(lines, self.bands)
        return self

    def _plot_grid(self, ax, metrics, x, ncols, sharey, title, kwargs):
        histories, values, bands = _check_grid(self.history, self.param_range, self.bands)
        n = len(histories)
        default = _grid_default(histories)
        chosen = [
            _pick_metrics(h, metrics, default, where=f" {i}") for i, h in enumerate(histories)
        ]

        fig, axes = _grid_axes(ax, n, ncols, sharey)
        ncols_used = axes.shape[1]

        all_lines, all_bands, twins = [], [], np.full(axes.shape, None, dtype=object)
        for i, panel in enumerate(axes.flat):
            if i >= n:
                panel.set_visible(False)
                continue
            lines, twin = _draw_history(
                panel, histories[i], chosen[i], x, self.estimator_name, self.score_name,
                kwargs, xlabel=i + ncols_used >= n, ylabel=i % ncols_used == 0,
            )
            twins.flat[i] = twin
            all_lines.append(lines)
            all_bands.append(draw_bands(lines, bands[i]))
            if values is not None:
                prefix = f"{self.param_name}=" if self.param_name else ""
                panel.set_title(prefix + short_repr(values[i]))
        _legend(axes.flat[0], twins.flat[0])
        if title is None and ax is None:
            # The metrics of every panel, in order of first appearance.
            drawn = list(dict.fromkeys(m for names in chosen for m in names))
            title = _default_title(drawn, x, self.param_name, self.score_name)
        if title:
            fig.suptitle(title)

        self.ax_ = None
        self.axes_ = axes
        self.ax_twin_ = None
        self.twin_axes_ = twins
        self.figure_ = fig
        self.lines_ = all_lines
        self.bands_ = all_bands
        return self

    @classmethod
    def from_history(
        cls, history, *, metrics=None, x="epoch", ax=None, name=None, score_name=None,
        title=None, **kwargs,
    ):
        """Plot a history dictionary.

        Parameters
        ----------
        history : dict of str to array-like
            Per-epoch values, as a fitted estimator's ``history_``.
        metrics : str or list of str, default=None
            Keys to draw; see :meth:`plot`.
        x : {'epoch', 'time'}, default='epoch'
            Horizontal axis; see :meth:`plot`.
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Name added to the legend labels.
        score_name : str, default=None
            What ``'score'`` and ``'val_score'`` measure (``'Accuracy'``,
            ``'R²'``), for the axis label; None labels them ``'Score'``.
        title : str, default=None
            Title of the axes; None gives none.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : TrainingHistoryDisplay

        Examples
        --------
        >>> from sklr.inspection import TrainingHistoryDisplay
        >>> history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7]}
        >>> display = TrainingHistoryDisplay.from_history(history)  # doctest: +SKIP
        """
        check_matplotlib(f"{cls.__name__}.from_history")
        if not isinstance(history, Mapping):
            raise TypeError(
                f"history must be a dict of per-epoch arrays, got {type(history).__name__}."
            )
        display = cls(history, estimator_name=name, score_name=score_name)
        return display.plot(ax=ax, metrics=metrics, x=x, title=title, **kwargs)

    @classmethod
    def from_estimator(
        cls, estimator, *, metrics=None, x="epoch", ax=None, name=None, score_name=None,
        title=None, **kwargs,
    ):
        """Plot the ``history_`` of a fitted estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted sklr estimator (or a Pipeline ending with one).
        metrics : str or list of str, default=None
            Keys of ``history_`` to draw; see :meth:`plot`.
        x : {'epoch', 'time'}, default='epoch'
            Horizontal axis; see :meth:`plot`.
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Name added to the legend labels.
        score_name : str, default=None
            What ``'score'`` and ``'val_score'`` measure, for the axis label;
            None takes it from the estimator: ``'Accuracy'`` for a
            classifier, ``'R²'`` for a regressor.
        title : str, default=None
            Title of the axes; None gives none.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : TrainingHistoryDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If it records no ``history_``.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from sklr import MLPClassifier
        >>> from sklr.inspection import TrainingHistoryDisplay
        >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
        >>> clf = MLPClassifier(max_iter=10, random_state=0).fit(X, y)
        >>> TrainingHistoryDisplay.from_estimator(  # doctest: +SKIP
        ...     clf, metrics=["loss", "learning_rate"])
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        history = fitted_history(estimator, f"{cls.__name__}.from_estimator")
        if score_name is None:
            score_name = _score_name(estimator)
        display = cls(history, estimator_name=name, score_name=score_name)
        return display.plot(ax=ax, metrics=metrics, x=x, title=title, **kwargs)

    @classmethod
    def from_training_curves(
        cls, curves, *, metrics=None, x="epoch", ncols=None, axes=None, sharey=True,
        score_name=None, title=None, band="std", **kwargs,
    ):
        """Plot one panel per parameter value of :func:`~sklr.model_selection.training_curves`.

        Parameters
        ----------
        curves : Bunch
            The result of :func:`sklr.model_selection.training_curves` (or
            any object with ``histories``, ``param_name`` and
            ``param_range``).
        metrics : str or list of str, default=None
            Keys to draw in every panel; None draws ``'score'`` and
            ``'val_score'`` when every history has ``'score'``, else
            ``'loss'`` and ``'val_loss'`` (those present).
        x : {'epoch', 'time'}, default='epoch'
            Horizontal axis; see :meth:`plot`.
        ncols : int, default=None
            Columns of the grid; None picks at most 4 that leave the fewest
            empty panels (see :meth:`plot`).
        axes : array of matplotlib Axes, default=None
            At least one axes per value to draw into; None creates a new
            figure.
        sharey : bool, default=True
            Whether the panels of a new figure share their y axis.
        score_name : str, default=None
            What ``'score'`` and ``'val_score'`` measure, for the axis label
            and the title; None takes ``curves.score_name`` (``'Accuracy'``
            for a classifier, ``'R²'`` for a regressor), else ``'Score'``.
        title : str, default=None
            The figure's title; None names the metrics and the parameter
            when the display creates the figure, ``''`` gives none.
        band : {'std', 'minmax'} or None, default='std'
            For curves fitted over several seeds (``n_seeds`` or ``seeds``),
            which shows each metric's per-epoch mean over the seeds as a
            line: the shaded band around it, mean ± standard deviation
            (``'std'``) or minimum to maximum (``'minmax'``); None draws no
            band. Ignored for curves of one fit per value.
        **kwargs : dict
            Keyword arguments passed to every ``Axes.plot`` call.

        Returns
        -------
        display : TrainingHistoryDisplay
            With ``axes_`` of shape ``(n_rows, n_cols)``, one dict of lines
            per value in ``lines_`` (and of bands in ``bands_``); each panel
            is titled ``'param_name=value'``, the figure as ``title`` says.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from sklr import MLPClassifier
        >>> from sklr.inspection import TrainingHistoryDisplay
        >>> from sklr.model_selection import training_curves
        >>> X, y = make_blobs(n_samples=300, centers=3, random_state=0)
        >>> clf = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=10,
        ...                     random_state=0)
        >>> curves = training_curves(clf, X[:200], y[:200], X_val=X[200:],
        ...                          y_val=y[200:], param_name="learning_rate_init",
        ...                          param_range=[1e-3, 1e-2, 1e-1])
        >>> display = TrainingHistoryDisplay.from_training_curves(  # doctest: +SKIP
        ...     curves, metrics=["loss", "val_loss"])
        >>> display.axes_.shape  # doctest: +SKIP
        (1, 3)
        >>> display.figure_.get_suptitle()  # doctest: +SKIP
        'Training and validation loss per epoch, one panel per learning_rate_init'
        >>> display.axes_[0, 0].get_ylabel()  # doctest: +SKIP
        'Loss'
        """
        check_matplotlib(f"{cls.__name__}.from_training_curves")
        histories, bands = curves_to_plot(curves, band)
        if score_name is None:
            score_name = getattr(curves, "score_name", None)
        display = cls(
            histories, param_name=curves.param_name, param_range=curves.param_range,
            score_name=score_name, bands=bands,
        )
        return display.plot(
            ax=axes, metrics=metrics, x=x, ncols=ncols, sharey=sharey, title=title, **kwargs
        )


def _check_grid(history, param_range, bands):
    """The histories, values and bands of a grid, as lists (bands: one per history)."""
    histories = list(history)
    n = len(histories)
    if n == 0:
        raise ValueError("history is an empty list; nothing to plot.")
    for i, item in enumerate(histories):
        if not isinstance(item, Mapping):
            raise TypeError(
                "history must be a dict of per-epoch arrays or a list of such "
                f"dicts; item {i} is a {type(item).__name__}."
            )
    values = None if param_range is None else list(param_range)
    if values is not None and len(values) != n:
        raise ValueError(f"param_range has {len(values)} values for {n} histories.")
    bands = [None] * n if bands is None else list(bands)
    if len(bands) != n:
        raise ValueError(f"bands has {len(bands)} entries for {n} histories.")
    return histories, values, bands


def _grid_axes(ax, n, ncols, sharey):
    """The figure and the 2-D array of axes for ``n`` panels."""
    import matplotlib.pyplot as plt

    if ax is None:
        if ncols is None:
            ncols = _grid_columns(n)
        if not isinstance(ncols, (int, np.integer)) or ncols < 1:
            raise ValueError(f"ncols must be a positive integer, got {ncols!r}.")
        nrows = math.ceil(n / ncols)
        return plt.subplots(
            nrows, ncols, sharey=sharey, squeeze=False,
            figsize=(4.0 * ncols, 3.0 * nrows), layout="constrained",
        )
    axes = np.asarray(ax, dtype=object)
    if axes.ndim == 0:
        raise TypeError(
            f"For {n} histories, ax must be an array of at least {n} Axes "
            "(or None for a new figure)."
        )
    if axes.size < n:
        raise ValueError(f"ax holds {axes.size} Axes for {n} histories.")
    if axes.ndim == 1:
        axes = axes.reshape(1, -1)
    return axes.flat[0].figure, axes


def _legend(ax, twin):
    """One legend on ``ax`` for every labelled line of ``ax`` and its twin."""
    handles = ax.get_legend_handles_labels()[0]
    if twin is not None:
        handles += twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles)


def _draw_history(ax, history, names, x, name, score, kwargs, *, xlabel=True, ylabel=True):
    """Draw the metrics ``names`` of one history into ``ax``.

    Returns the dict of lines and the twin axis (or None).
    """
    from matplotlib.ticker import MaxNLocator

    series = {m: as_float_vector(f"history[{m!r}]", history[m]) for m in names}
    lengths = {len(v) for v in series.values()}
    if len(lengths) > 1:
        raise ValueError(
            f"The metrics {names} have different lengths {sorted(lengths)}; a history "
            "has one value per epoch for every key."
        )
    (n_epochs,) = lengths
    if x == "epoch":
        xs = np.arange(1, n_epochs + 1, dtype=np.float64)
    else:
        if "time" not in history:
            raise ValueError(
                f"x='time' needs the history key 'time'; available keys: {sorted(history)}."
            )
        xs = np.cumsum(as_float_vector("history['time']", history["time"]))
        if len(xs) != n_epochs:
            raise ValueError("history['time'] does not have one value per epoch.")

    primary = [m for m in names if m not in _SECONDARY]
    secondary = [m for m in names if m in _SECONDARY]
    twin = ax.twinx() if primary and secondary else None
    user_color = "color" in kwargs or "c" in kwargs

    lines = {}
    for metric in names:
        target = twin if (twin is not None and metric in _SECONDARY) else ax
        line_kwargs = dict(kwargs)
        if target is twin and not user_color:
            # The twin axis has its own colour cycle: continue the main one.
            line_kwargs["color"] = f"C{len(primary) + secondary.index(metric)}"
        label = metric if name is None else f"{metric} ({name})"
        (lines[metric],) = target.plot(xs, series[metric], label=label, **line_kwargs)

    if xlabel:
        ax.set_xlabel(_X_LABELS[x])
    if x == "epoch":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if ylabel:
        ax.set_ylabel(_axis_label(primary or secondary, score))
    if twin is not None:
        twin.set_ylabel(_axis_label(secondary, score))
    return lines, twin
