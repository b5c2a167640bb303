"""Plot a learning-rate range test (loss against learning rate)."""

import math

import numpy as np

from ._common import as_float_vector, check_matplotlib

__all__ = ["LRFinderDisplay"]

# How each rule of sklr.find_learning_rate reads the curve, for the legend.
_RULES = {
    "steep": "steepest descent",
    "minimum": "lowest loss's rate / 10",
    "valley": "fastai's valley",
    "sklr": "lag-free curve: √(95% of the drop · minimum) / 2",
}
_DEFAULT_TITLE = "Learning-rate range test"


def _finite_suggestions(suggestions, suggestion):
    """Rule name -> value for the finite, positive suggestions.

    A ``suggestion`` equal to none of the rules' values is added as
    ``'suggestion'``.
    """
    rules = {}
    for rule, value in (suggestions or {}).items():
        if value is not None and math.isfinite(float(value)) and float(value) > 0:
            rules[str(rule)] = float(value)
    if suggestion is not None and math.isfinite(float(suggestion)) and float(suggestion) > 0:
        if not any(np.isclose(v, float(suggestion), rtol=1e-12, atol=0) for v in rules.values()):
            rules["suggestion"] = float(suggestion)
    return rules


class LRFinderDisplay:
    """Learning-rate range test visualization.

    Draws the loss recorded while the learning rate grows geometrically
    (:func:`sklr.find_learning_rate`), on a logarithmic rate axis: the
    smoothed loss, the raw loss faintly behind it, and a vertical line per
    suggested rate with a legend entry naming the rule, how it reads the
    curve and the value (``'minimum'`` is a tenth of the rate at the lowest
    loss, not that rate itself). The recommended rate (``suggestion``) is
    drawn solid and marked ``(suggested)``; the other rules are dashed.
    With ``lag_free_losses`` (what the ``'sklr'`` rule reads) that curve is
    drawn dotted, and the ``'sklr'`` and recommended markers sit on it.

    The y range runs from the lowest loss drawn to a little above the
    highest loss before the minimum of the main curve: the whole descent
    shows, while the divergence at the end of the test (often thousands of
    times the starting loss, for a regression) leaves through the top
    instead of flattening the curve. ``display.ax_.set_ylim`` changes it.

    Use :meth:`from_result` or :meth:`from_estimator` to create one.

    Parameters
    ----------
    learning_rates : array-like of shape (n_points,)
        Learning rates tried, positive and increasing.
    losses : array-like of shape (n_points,)
        Training loss after each of them.
    smoothed_losses : array-like of shape (n_points,), default=None
        Smoothed loss; None draws the raw loss only.
    suggestions : dict of str to float, default=None
        Suggested learning rate of each rule (``'steep'``, ``'minimum'``,
        ``'valley'``, ``'sklr'``, ...); NaN values are not drawn.
    suggestion : float, default=None
        The recommended rate (one of the suggestions' values, or another).
    lag_free_losses : array-like of shape (n_points,), default=None
        The loss smoothed without lag
        (:attr:`sklr.LRFinderResult.lag_free_losses`); None draws none.

    Attributes
    ----------
    lines_ : dict of str to Line2D
        ``'smoothed_loss'``, ``'loss'`` and ``'lag_free_loss'``: the curves
        drawn.
    suggestion_lines_ : dict of str to Line2D
        Vertical line of each drawn suggestion, by rule name.
    suggestion_markers_ : dict of str to Line2D
        Marker of each drawn suggestion on the loss curve, by rule name.
    ax_ : matplotlib Axes
        The axes drawn into.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    sklr.find_learning_rate : Run the range test.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.inspection import LRFinderDisplay
    >>> rates = np.logspace(-5, 0, 50)
    >>> losses = 1 + (np.log10(rates) + 2) ** 2 / 10
    >>> display = LRFinderDisplay(rates, losses, suggestion=1e-2,
    ...                           suggestions={"minimum": 1e-2})
    >>> display.plot()  # doctest: +SKIP
    >>> [t.get_text() for t in display.ax_.get_legend().get_texts()]  # doctest: +SKIP
    ["loss", "minimum (lowest loss's rate / 10): 1.00e-02 (suggested)"]
    >>> display.ax_.get_title()  # doctest: +SKIP
    'Learning-rate range test'
    """

    def __init__(
        self, learning_rates, losses, smoothed_losses=None, suggestions=None, *, suggestion=None,
        lag_free_losses=None,
    ):
        self.learning_rates = learning_rates
        self.losses = losses
        self.smoothed_losses = smoothed_losses
        self.suggestions = suggestions
        self.suggestion = suggestion
        self.lag_free_losses = lag_free_losses

    def plot(
        self, ax=None, *, show_raw=True, show_suggestions=True, yscale="linear", title=None,
        show_lag_free=True, **kwargs,
    ):
        """Plot the range test.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        show_raw : bool, default=True
            Whether to draw the raw loss (faintly) behind the smoothed one.
            Without ``smoothed_losses`` the raw loss is always drawn.
        show_suggestions : bool, default=True
            Whether to draw the suggested rates.
        yscale : {'linear', 'log'}, default='linear'
            Scale of the loss axis; 'log' (for positive losses) shows a
            descent over orders of magnitude, as a regression on unscaled
            targets makes.
        title : str, default=None
            Title of the axes. None sets ``'Learning-rate range test'`` on
            axes the display creates and leaves given axes as they are;
            ``''`` sets none.
        show_lag_free : bool, default=True
            Whether to draw ``lag_free_losses`` (when given).
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot`` for the main curve
            (the smoothed loss, or the raw loss without one).

        Returns
        -------
        display : LRFinderDisplay
            The object, with the attributes listed in the class docstring.
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        rates = as_float_vector("learning_rates", self.learning_rates)
        losses = as_float_vector("losses", self.losses)
        smoothed = lag_free = None
        if self.smoothed_losses is not None:
            smoothed = as_float_vector("smoothed_losses", self.smoothed_losses)
        if self.lag_free_losses is not None and show_lag_free:
            lag_free = as_float_vector("lag_free_losses", self.lag_free_losses)
        for label, arr in (("losses", losses), ("smoothed_losses", smoothed),
                           ("lag_free_losses", lag_free)):
            if arr is not None and arr.shape != rates.shape:
                raise ValueError(
                    f"{label} has {arr.shape[0]} values for {rates.shape[0]} learning rates."
                )
        if rates.size == 0:
            raise ValueError("There is no learning rate to plot.")
        if not np.all(rates > 0):
            raise ValueError("learning_rates must be positive (they are drawn on a log axis).")
        if yscale not in ("linear", "log"):
            raise ValueError(f"yscale must be 'linear' or 'log', got {yscale!r}.")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a str or None, got {type(title).__name__}.")

        new_axes = ax is None
        if new_axes:
            _, ax = plt.subplots(figsize=(7.0, 5.5), layout="constrained")
            if title is None:
                title = _DEFAULT_TITLE
        lines = {}
        if smoothed is None:
            main = losses
            (lines["loss"],) = ax.plot(rates, losses, **{"label": "loss", **kwargs})
        else:
            main = smoothed
            (lines["smoothed_loss"],) = ax.plot(
                rates, smoothed, **{"label": "smoothed loss", **kwargs}
            )
            if show_raw:
                (lines["loss"],) = ax.plot(
                    rates, losses, color=lines["smoothed_loss"].get_color(),
                    alpha=0.3, linewidth=1.0, label="loss", zorder=1.5,
                )
        if lag_free is not None:
            color = (lines.get("smoothed_loss") or lines["loss"]).get_color()
            (lines["lag_free_loss"],) = ax.plot(
                rates, lag_free, color=color, linestyle=":", linewidth=1.5,
                label="lag-free loss ('sklr' reads it)",
            )
        ax.set_xscale("log")
        ax.set_yscale(yscale)
        _fit_ylim(ax, main, losses if "loss" in lines else None, yscale)
        ax.set_xlabel("Learning rate")
        ax.set_ylabel("Loss")
        if title:
            ax.set_title(title)

        self.suggestion_lines_, self.suggestion_markers_ = {}, {}
        if show_suggestions:
            self._draw_suggestions(ax, rates, main, lag_free)
        if new_axes:
            # Below the axes: the suggestions' lines cross the whole height.
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small")
        else:
            ax.legend()
        self.lines_ = lines
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _draw_suggestions(self, ax, rates, main, lag_free):
        rules = _finite_suggestions(self.suggestions, self.suggestion)
        for i, (rule, value) in enumerate(rules.items()):
            recommended = self.suggestion is not None and bool(
                np.isclose(value, float(self.suggestion), rtol=1e-12, atol=0)
            )
            # Each marker on the curve its rule reads.
            on = lag_free if lag_free is not None and (rule == "sklr" or recommended) else main
            ok = np.isfinite(on)
            log_rates, curve = np.log(rates[ok]), on[ok]
            order = np.argsort(log_rates)
            color = f"C{i + 1}"
            how = f" ({_RULES[rule]})" if rule in _RULES else ""
            label = f"{rule}{how}: {value:.2e}" + (" (suggested)" if recommended else "")
            self.suggestion_lines_[rule] = ax.axvline(
                value, color=color, linestyle="-" if recommended else "--",
                linewidth=1.5 if recommended else 1.0, label=label,
            )
            if curve.size:
                y = np.interp(np.log(value), log_rates[order], curve[order])
                (self.suggestion_markers_[rule],) = ax.plot(
                    [value], [y], marker="*" if recommended else "o",
                    markersize=12 if recommended else 7, color=color, linestyle="none",
                )

    @classmethod
    def from_result(
        cls, result, *, ax=None, show_raw=True, show_suggestions=True, yscale="linear",
        title=None, show_lag_free=True, **kwargs,
    ):
        """Plot the result of :func:`sklr.find_learning_rate`.

        Parameters
        ----------
        result : LRFinderResult
            Object with ``learning_rates`` and ``losses``, and optionally
            ``smoothed_losses``, ``suggestions`` and ``suggestion``.
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        show_raw : bool, default=True
            Whether to draw the raw loss behind the smoothed one.
        show_suggestions : bool, default=True
            Whether to draw the suggested rates.
        yscale : {'linear', 'log'}, default='linear'
            Scale of the loss axis; see :meth:`plot`.
        title : str, default=None
            Title of the axes; see :meth:`plot`.
        show_lag_free : bool, default=True
            Whether to draw the result's ``lag_free_losses``.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot`` for the main curve.

        Returns
        -------
        display : LRFinderDisplay

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from sklr import MLPClassifier, find_learning_rate  # doctest: +SKIP
        >>> from sklr.inspection import LRFinderDisplay
        >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
        >>> result = find_learning_rate(  # doctest: +SKIP
        ...     MLPClassifier(solver="sgd", random_state=0), X, y)
        >>> LRFinderDisplay.from_result(result)  # doctest: +SKIP
        """
        check_matplotlib(f"{cls.__name__}.from_result")
        try:
            rates, losses = result.learning_rates, result.losses
        except AttributeError as exc:
            raise TypeError(
                "result must have learning_rates and losses, as the result of "
                "sklr.find_learning_rate."
            ) from exc
        display = cls(
            rates,
            losses,
            getattr(result, "smoothed_losses", None),
            getattr(result, "suggestions", None),
            suggestion=getattr(result, "suggestion", None),
            lag_free_losses=getattr(result, "lag_free_losses", None),
        )
        return display.plot(
            ax=ax, show_raw=show_raw, show_suggestions=show_suggestions, yscale=yscale,
            title=title, show_lag_free=show_lag_free, **kwargs,
        )

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, ax=None, show_raw=True, show_suggestions=True,
        yscale="linear", title=None, show_lag_free=True, **finder_kwargs,
    ):
        """Run a learning-rate range test on an estimator and plot it.

        Parameters
        ----------
        estimator : estimator
            An sklr estimator with a stochastic solver, or a
            :class:`~sklearn.pipeline.Pipeline` ending in one (see
            :func:`sklr.find_learning_rate`); it is cloned, not fitted.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets.
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        show_raw : bool, default=True
            Whether to draw the raw loss behind the smoothed one.
        show_suggestions : bool, default=True
            Whether to draw the suggested rates.
        yscale : {'linear', 'log'}, default='linear'
            Scale of the loss axis; see :meth:`plot`.
        title : str, default=None
            Title of the axes; see :meth:`plot`.
        show_lag_free : bool, default=True
            Whether to draw the lag-free loss the ``'sklr'`` rule reads.
        **finder_kwargs : dict
            Keyword arguments of :func:`sklr.find_learning_rate` (``start``,
            ``stop``, ``num``, ``smoothing``, ``diverge_factor``, ``confirm``,
            ``random_state``).

        Returns
        -------
        display : LRFinderDisplay

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from sklr import MLPClassifier
        >>> from sklr.inspection import LRFinderDisplay
        >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
        >>> LRFinderDisplay.from_estimator(  # doctest: +SKIP
        ...     MLPClassifier(solver="sgd"), X, y, random_state=0)
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        # The network runs the test (sklr.find_learning_rate on the estimator
        # given, a Pipeline's final step), so the displays need not import
        # the range-test module, which imports them for LRFinderResult.plot.
        final = estimator
        while hasattr(final, "steps"):  # a Pipeline
            final = final.steps[-1][1]
        if not hasattr(final, "_find_learning_rate"):
            raise TypeError(
                f"{cls.__name__}.from_estimator needs an sklr MLPClassifier or "
                f"MLPRegressor, or a Pipeline ending in one, got {type(estimator).__name__}."
            )
        result = final._find_learning_rate(X, y, estimator=estimator, **finder_kwargs)
        return cls.from_result(
            result, ax=ax, show_raw=show_raw, show_suggestions=show_suggestions,
            yscale=yscale, title=title, show_lag_free=show_lag_free,
        )


def _fit_ylim(ax, main, raw, yscale):
    """Fit the loss axis to the descent of ``main``, not to the divergence.

    From the lowest value drawn (``main``, and ``raw`` when drawn) to the
    highest value of ``main`` up to its minimum, plus a margin; values
    after the minimum may leave through the top.
    """
    ok = np.isfinite(main)
    if not ok.any():
        return
    finite = main[ok]
    i_min = int(np.argmin(finite))
    low = float(finite[i_min])
    if raw is not None and np.isfinite(raw).any():
        low = min(low, float(np.nanmin(np.where(np.isfinite(raw), raw, np.nan))))
    high = float(finite[: i_min + 1].max())
    if yscale == "log":
        if low <= 0:
            return  # matplotlib's own limits; the non-positive values are masked.
        if high <= low:
            high = low * 2.0
        ratio = (high / low) ** 0.05
        ax.set_ylim(low / ratio, high * ratio**2)
        return
    if high <= low:
        # The minimum is the first value: nothing descends, show the rise
        # up to the divergence test's usual 4x.
        high = low + 3.0 * max(abs(low), 1e-12)
    pad = 0.05 * (high - low)
    ax.set_ylim(low - pad, high + 2 * pad)
