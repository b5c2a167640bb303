"""Plot the learning-dynamics diagnostics of ``record_dynamics``."""

import math
import re
from collections.abc import Mapping

import numpy as np

from ._common import check_matplotlib, fitted_history

__all__ = ["DynamicsDisplay"]

# Panel name -> (y label, log scale). Per-layer panels read '<name>_layer<i>'.
_PANELS = {
    "grad_norm": ("Gradient norm", True),
    "update_ratio": ("Update / weight norm", True),
    "weight_norm": ("Weight norm", True),
    "dead_fraction": ("Dead ReLU fraction", False),
    "sharpness": ("Sharpness", True),
    "noise_scale": ("Gradient noise scale", True),
}
_PER_LAYER = ("grad_norm", "update_ratio", "weight_norm", "dead_fraction")
# The update/weight rule of thumb: a line at 1e-3, a band half a decade each side.
UPDATE_RATIO_TARGET = 1e-3
UPDATE_RATIO_BAND = (10 ** -3.5, 10 ** -2.5)


def _layers(history, name):
    """The layer indices i of the keys '<name>_layer<i>', in order."""
    pattern = re.compile(re.escape(name) + r"_layer(\d+)$")
    return sorted(int(m.group(1)) for m in map(pattern.match, history) if m)


def _available(history):
    """The panels the history has data for, in display order."""
    out = []
    for name in _PANELS:
        if name in _PER_LAYER:
            if _layers(history, name):
                out.append(name)
        elif name in history:
            out.append(name)
    return out


def _grid_shape(n, ncols):
    if ncols is None:
        ncols = n if n <= 3 else (2 if n == 4 else 3)
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int or None, got {ncols!r}.")
    return math.ceil(n / ncols), ncols


class DynamicsDisplay:
    """Learning-dynamics visualization: the diagnostics of ``record_dynamics``.

    One panel per statistic recorded in a fitted estimator's ``history_``
    (see :class:`sklr.Dynamics` for the definitions), per epoch:

    - ``'grad_norm'``, ``'update_ratio'``, ``'weight_norm'``: one line per
      weight matrix (``coefs_[i]``, labelled ``layer i``), log scale. The
      update ratio panel shades the rule-of-thumb band around 1e-3 (from
      10^-3.5 to 10^-2.5, dashed line at 1e-3): far above it the learning
      rate is too high for that layer, far below too low;
    - ``'dead_fraction'``: one line per ReLU hidden layer, from 0 to 1;
    - ``'sharpness'``: the top Hessian eigenvalue (markers, on the epochs
      where it was measured) against the stability limit of the epoch's
      learning rate (dashed; :math:`2/\\eta` for plain SGD): the "edge of
      stability" (Cohen et al., 2021) is a sharpness that climbs to the
      limit and hovers there;
    - ``'noise_scale'``: the gradient noise scale, an estimate of the
      critical batch size (McCandlish et al., 2018).

    Use :meth:`from_estimator` or :meth:`from_history` to create one.

    Parameters
    ----------
    history : dict of str to array-like
        Per-epoch values, as a fitted estimator's ``history_`` with
        ``record_dynamics``.
    estimator_name : str, default=None
        Name shown in the default title; None shows none.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes of shape (n_rows, n_cols)
        The axes of the grid; cells beyond the panels are hidden.
    panel_axes_ : dict of str to matplotlib Axes
        The axes of each panel drawn, by panel name.
    lines_ : dict of str to dict of str to Line2D
        For each panel, its lines by label (``'layer 0'``, ...,
        ``'sharpness'``, ``'stability limit'``, ``'noise scale'``).
    band_ : matplotlib Polygon or None
        The shaded rule-of-thumb band of the update-ratio panel.
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    sklr.Dynamics : What is recorded, and how.
    TrainingHistoryDisplay : Losses, scores and rates per epoch.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklr import MLPClassifier
    >>> from sklr.inspection import DynamicsDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=5, record_dynamics=True).fit(X / 16, y)  # doctest: +SKIP
    >>> display = DynamicsDisplay.from_estimator(clf)  # doctest: +SKIP
    """

    def __init__(self, history, *, estimator_name=None):
        self.history = history
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, panels=None, ncols=None, title=None, **kwargs):
        """Plot the diagnostics.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            Axes to draw into, one per panel (a single Axes for a single
            panel); None creates a new figure with a grid.
        panels : str or list of str, default=None
            Panels to draw, among ``'grad_norm'``, ``'update_ratio'``,
            ``'weight_norm'``, ``'dead_fraction'``, ``'sharpness'`` and
            ``'noise_scale'``; each must be in the history. None draws all
            that are.
        ncols : int, default=None
            Columns of a new grid; None: up to 3 panels in a row, 4 in a
            2x2 grid, more in rows of 3.
        title : str, default=None
            The figure's title; None gives a new figure ``'Learning
            dynamics'`` (with the estimator's name) and an existing one none;
            ``''`` gives none.
        **kwargs : dict
            Keyword arguments passed to every ``Axes.plot`` call of the
            data lines.

        Returns
        -------
        display : DynamicsDisplay
            The object, with the attributes listed in the class docstring.
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        history = self.history
        if not isinstance(history, Mapping):
            raise TypeError(
                f"history must be a dict of per-epoch arrays, got {type(history).__name__}."
            )
        names = self._pick_panels(panels)
        if ax is None:
            nrows, ncols = _grid_shape(len(names), ncols)
            fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows),
                                     squeeze=False, layout="constrained")
        else:
            axes = np.asarray(ax, dtype=object).reshape(1, -1) if not hasattr(
                ax, "plot") else np.array([[ax]], dtype=object)
            if axes.size < len(names):
                raise ValueError(f"ax holds {axes.size} Axes for {len(names)} panels.")
            fig = axes.flat[0].figure
        self.lines_, self.panel_axes_, self.band_ = {}, {}, None
        for i, panel in enumerate(axes.flat):
            if i >= len(names):
                panel.set_visible(False)
                continue
            self.panel_axes_[names[i]] = panel
            self.lines_[names[i]] = self._draw(panel, names[i], kwargs)
        if title is None and ax is None:
            title = "Learning dynamics" + (
                f" ({self.estimator_name})" if self.estimator_name else "")
        if title:
            fig.suptitle(title)
        self.axes_ = axes
        self.figure_ = fig
        return self

    def _pick_panels(self, panels):
        available = _available(self.history)
        if panels is None:
            if not available:
                raise ValueError(
                    "The history has no learning-dynamics keys: fit with "
                    "record_dynamics=True (or a sklr.Dynamics object); available keys: "
                    f"{sorted(self.history)}."
                )
            return available
        panels = [panels] if isinstance(panels, str) else list(panels)
        if not panels:
            raise ValueError("panels must name at least one panel.")
        unknown = [p for p in panels if p not in _PANELS]
        if unknown:
            raise ValueError(f"Unknown panel(s) {unknown}; choose among {list(_PANELS)}.")
        missing = [p for p in panels if p not in available]
        if missing:
            raise ValueError(
                f"Panel(s) {missing} have no data in the history (recorded: "
                f"{available}); sharpness and noise_scale need "
                "record_dynamics=Dynamics(sharpness_every=..., noise_scale=True), "
                "dead_fraction a ReLU network."
            )
        return panels

    def _draw(self, ax, name, kwargs):
        history = self.history
        label, log = _PANELS[name]
        lines = {}
        if name in _PER_LAYER:
            for i in _layers(history, name):
                y = np.asarray(history[f"{name}_layer{i}"], dtype=np.float64)
                (lines[f"layer {i}"],) = ax.plot(np.arange(1, y.size + 1), y,
                                                 label=f"layer {i}", **kwargs)
        else:
            y = np.asarray(history[name], dtype=np.float64)
            epochs = np.arange(1, y.size + 1)
            shown = np.isfinite(y)
            text = name.replace("_", " ")
            (lines[text],) = ax.plot(epochs[shown], y[shown], marker="o", markersize=3,
                                     label=text, **kwargs)
            if name == "sharpness" and "sharpness_limit" in history:
                limit = np.asarray(history["sharpness_limit"], dtype=np.float64)
                ok = np.isfinite(limit)
                if ok.any():
                    (lines["stability limit"],) = ax.plot(
                        epochs[ok], limit[ok], linestyle="--", color="0.3",
                        label="stability limit")
        if name == "update_ratio":
            self.band_ = ax.axhspan(*UPDATE_RATIO_BAND, color="tab:green", alpha=0.12,
                                    label="rule of thumb ≈ 1e-3")
            ax.axhline(UPDATE_RATIO_TARGET, color="tab:green", linestyle=":", linewidth=1)
        if name == "dead_fraction":
            ax.set_ylim(-0.02, 1.02)
        values = np.concatenate([line.get_ydata() for line in lines.values()]) if lines else []
        values = np.asarray(values, dtype=np.float64)
        if log and np.any(values[np.isfinite(values)] > 0):
            ax.set_yscale("log")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(label)
        if lines:
            ax.legend(fontsize="small")
        return lines

    @classmethod
    def from_history(cls, history, *, panels=None, ax=None, name=None, ncols=None,
                     title=None, **kwargs):
        """Plot the diagnostics of a history dictionary.

        Parameters
        ----------
        history : dict of str to array-like
            Per-epoch values, as a fitted estimator's ``history_``.
        panels : str or list of str, default=None
            Panels to draw; see :meth:`plot`.
        ax : matplotlib Axes or array-like of Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Name shown in the default title.
        ncols : int, default=None
            Columns of a new grid; see :meth:`plot`.
        title : str, default=None
            The figure's title; see :meth:`plot`.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : DynamicsDisplay

        Examples
        --------
        >>> from sklr.inspection import DynamicsDisplay
        >>> history = {"update_ratio_layer0": [3e-3, 2e-3, 1e-3],
        ...            "update_ratio_layer1": [1e-2, 5e-3, 2e-3]}
        >>> display = DynamicsDisplay.from_history(history)  # doctest: +SKIP
        """
        check_matplotlib(f"{cls.__name__}.from_history")
        display = cls(history, estimator_name=name)
        return display.plot(ax=ax, panels=panels, ncols=ncols, title=title, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, panels=None, ax=None, name=None, ncols=None,
                       title=None, **kwargs):
        """Plot the diagnostics in the ``history_`` of a fitted estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A sklr estimator fitted with ``record_dynamics`` (or a Pipeline
            ending with one).
        panels : str or list of str, default=None
            Panels to draw; see :meth:`plot`.
        ax : matplotlib Axes or array-like of Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Name shown in the default title; None uses the estimator's class
            name.
        ncols : int, default=None
            Columns of a new grid; see :meth:`plot`.
        title : str, default=None
            The figure's title; see :meth:`plot`.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : DynamicsDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If it records no ``history_``.
        ValueError
            If the history holds no diagnostics (fitted without
            ``record_dynamics``).
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        history = fitted_history(estimator, f"{cls.__name__}.from_estimator")
        if name is None:
            final = estimator[-1] if hasattr(estimator, "steps") else estimator
            name = type(final).__name__
        display = cls(history, estimator_name=name)
        return display.plot(ax=ax, panels=panels, ncols=ncols, title=title, **kwargs)
