"""Helpers shared by the displays and by :func:`sklr.model_selection.training_curves`."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["as_float_vector", "check_matplotlib", "fitted_history", "score_name", "short_repr"]


def check_matplotlib(caller):
    """Raise a clear ImportError when matplotlib cannot be imported.

    Call it before any computation, so that a missing plotting dependency
    is reported before, say, a learning-rate range test runs.

    Parameters
    ----------
    caller : str
        Name of the function or method that needs matplotlib, for the message.

    Raises
    ------
    ImportError
        If ``import matplotlib`` fails.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib: pip install 'sklr[plot]' "
            "(or pip install matplotlib)."
        ) from exc


def fitted_history(estimator, caller):
    """Return the per-epoch ``history_`` of a fitted estimator.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted sklr estimator, or a fitted Pipeline ending with one.
    caller : str
        Name of the caller, for the messages.

    Returns
    -------
    history : dict of str to ndarray
        The estimator's ``history_``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the fitted estimator records no ``history_``.
    """
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    check_is_fitted(final)
    history = getattr(final, "history_", None)
    if history is None:
        raise TypeError(
            f"{caller} needs an estimator that records a per-epoch history_ "
            "(such as sklr.MLPClassifier or sklr.MLPRegressor); the fitted "
            f"{type(final).__name__} has no history_ attribute."
        )
    return history


def score_name(estimator):
    """What ``estimator.score`` measures, for axis labels.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A classifier, a regressor, or a Pipeline ending with one.

    Returns
    -------
    name : str or None
        ``'Accuracy'`` for a classifier, ``'R²'`` for a regressor (the
        metrics of their ``score`` method, and so of the history's
        ``'score'`` and ``'val_score'``), None for anything else (also for
        an object that is not a scikit-learn estimator).

    Examples
    --------
    >>> from sklr import MLPClassifier, MLPRegressor
    >>> from sklr.inspection._common import score_name
    >>> score_name(MLPClassifier()), score_name(MLPRegressor()), score_name(None)
    ('Accuracy', 'R²', None)
    """
    if not hasattr(estimator, "__sklearn_tags__"):
        return None
    if is_classifier(estimator):
        return "Accuracy"
    if is_regressor(estimator):
        return "R²"
    return None


def short_repr(value, max_length=40):
    """A short text for a parameter value, for titles and legends.

    Floats print with ``%g``, strings without quotes, other objects with
    their ``repr`` (whitespace collapsed), cut to ``max_length`` characters.

    Parameters
    ----------
    value : object
        The value to describe.
    max_length : int, default=40
        Longest text returned.

    Returns
    -------
    text : str
        The description.

    Examples
    --------
    >>> from sklr.inspection._common import short_repr
    >>> short_repr(0.001), short_repr("adam"), short_repr(None)
    ('0.001', 'adam', 'None')
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
    elif isinstance(value, Integral):
        text = str(int(value))
    elif isinstance(value, Real):
        text = "nan" if math.isnan(value) else f"{float(value):g}"
    else:
        text = " ".join(repr(value).split())
    if len(text) > max_length:
        text = text[: max_length - 3] + "..."
    return text


def as_float_vector(name, values):
    """``values`` as a 1-D float64 array, or a ValueError naming ``name``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}.")
    return arr
