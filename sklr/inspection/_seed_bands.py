"""Mean and spread over random seeds: the statistics of ``training_curves(n_seeds=...)``
and the shaded bands :class:`~sklr.inspection.TrainingHistoryDisplay` draws from them."""

import warnings
from collections.abc import Mapping

import numpy as np

__all__ = ["seed_statistics", "curves_to_plot", "draw_bands"]

_BANDS = ("std", "minmax")
# Opacity of a band, drawn in its line's colour.
_BAND_ALPHA = 0.2


def seed_statistics(histories):
    """Per-epoch mean, standard deviation, minimum, maximum and count over histories.

    Parameters
    ----------
    histories : list of dict of str to array-like
        The histories of fits that differ only in their random seed.

    Returns
    -------
    statistics : dict
        ``'mean'``, ``'std'``, ``'min'``, ``'max'`` and ``'count'``, each a
        dict of history key to a float64 array with one value per epoch (as
        many epochs as the longest history). Epoch ``e`` of a key is
        summarised over the histories that recorded a finite or infinite
        value there (NaN, or a history that stopped earlier, is left out);
        ``'count'`` is how many did. ``'std'`` is the sample standard
        deviation (``ddof=1``), NaN where the count is below 2; the others
        are NaN where it is 0.

    Examples
    --------
    >>> from sklr.inspection._seed_bands import seed_statistics
    >>> stats = seed_statistics([{"loss": [1.0, 0.5]}, {"loss": [3.0]}])
    >>> stats["mean"]["loss"], stats["count"]["loss"]
    (array([2. , 0.5]), array([2., 1.]))
    """
    keys = list(dict.fromkeys(key for history in histories for key in history))
    columns = [{key: np.asarray(h[key], dtype=np.float64) for key in h} for h in histories]
    n_epochs = max((len(v) for c in columns for v in c.values()), default=0)
    out = {name: {} for name in ("mean", "std", "min", "max", "count")}
    for key in keys:
        stack = np.full((len(columns), n_epochs), np.nan)
        for row, column in zip(stack, columns):
            if key in column:
                row[: len(column[key])] = column[key]
        count = np.sum(~np.isnan(stack), axis=0)
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            # All-NaN epochs and single values: NaN, as documented.
            warnings.simplefilter("ignore", RuntimeWarning)
            out["mean"][key] = np.nanmean(stack, axis=0)
            out["std"][key] = np.nanstd(stack, axis=0, ddof=1)
            out["min"][key] = np.nanmin(stack, axis=0)
            out["max"][key] = np.nanmax(stack, axis=0)
        out["std"][key][count < 2] = np.nan
        out["count"][key] = count.astype(np.float64)
    return out


def curves_to_plot(curves, band):
    """What the display draws from a ``training_curves`` result.

    Returns ``(histories, bands)``: the per-value histories (the seed means
    when ``curves`` has seeds) and, with seeds and a ``band``, one dict per
    value of key to ``(lower, upper)``; otherwise None.
    """
    try:
        histories = curves.histories
        curves.param_name, curves.param_range
    except AttributeError as exc:
        raise TypeError(
            "curves must be the result of sklr.model_selection.training_curves "
            "(with histories, param_name and param_range)."
        ) from exc
    if isinstance(histories, Mapping):
        raise TypeError("curves.histories must be a list of history dicts.")
    if band is not None and band not in _BANDS:
        raise ValueError(f"band must be one of {list(_BANDS)} or None, got {band!r}.")
    if getattr(curves, "seeds", None) is None:
        return list(histories), None
    mean = list(curves.mean)
    if band is None:
        return mean, None
    if band == "std":
        bands = [{k: (m[k] - s[k], m[k] + s[k]) for k in m} for m, s in zip(mean, curves.std)]
    else:
        bands = [{k: (lo[k], hi[k]) for k in lo} for lo, hi in zip(curves.min, curves.max)]
    return mean, bands


def draw_bands(lines, bands):
    """Shade ``bands[metric]`` = ``(lower, upper)`` under each drawn line of ``lines``.

    Each band is drawn on its line's axes, at its x values, in its colour.
    Returns the dict of metric to the ``PolyCollection`` drawn.
    """
    drawn = {}
    for metric, line in lines.items():
        if bands is None or metric not in bands:
            continue
        lower, upper = (np.asarray(v, dtype=np.float64) for v in bands[metric])
        xs = np.asarray(line.get_xdata(), dtype=np.float64)
        if lower.shape != xs.shape or upper.shape != xs.shape:
            raise ValueError(
                f"The band of {metric!r} has {lower.shape[0]} and {upper.shape[0]} values "
                f"for a line of {xs.shape[0]} epochs."
            )
        drawn[metric] = line.axes.fill_between(
            xs, lower, upper, color=line.get_color(), alpha=_BAND_ALPHA, linewidth=0
        )
    return drawn
