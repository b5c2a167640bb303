"""Exceptions and warnings raised by sklr.

Import them from here to catch what sklr raises::

    from sklr.exceptions import DivergenceError
"""

__all__ = ["DivergenceError", "LRFinderWarning", "ScheduleEndWarning"]


class DivergenceError(ValueError):
    """Training produced a non-finite loss or non-finite weights.

    A :class:`ValueError`, so code written for scikit-learn's MLP (which
    raises ``ValueError("Solver produced non-finite parameter weights. ...")``)
    keeps catching it, and its message starts with scikit-learn's sentence.
    The model keeps its last finite weights; a failing ``partial_fit`` leaves
    the model exactly as it was.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr import MLPRegressor
    >>> from sklr.exceptions import DivergenceError
    >>> X = np.array([[1e300], [-1e300]]); y = np.array([1e300, -1e300])
    >>> try:
    ...     MLPRegressor(solver="sgd", max_iter=5).fit(X, y)
    ... except DivergenceError as exc:
    ...     print(str(exc).split(".")[0])
    Solver produced non-finite parameter weights
    """


class ScheduleEndWarning(UserWarning):
    """A schedule's shape ends before the training it drives does.

    Raised as a warning once at the start of a ``fit`` (or of the
    ``partial_fit`` call that starts a plan) when a schedule whose shape has
    an end (a :class:`~sklr.schedules.OneCycle`, a non-periodic
    :class:`~sklr.schedules.CosineAnnealing`, a decay to a final value)
    counted in updates, epochs or rows ends before the fit's planned
    ``max_iter`` epochs do: the rest of the fit would run at its final
    value. PyTorch's ``OneCycleLR`` raises in that case. Schedules in the
    ``'fraction'`` unit span the fit and never warn. Also raised once when
    ``partial_fit`` calls run past the plan of a ``'fraction'`` schedule.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import make_blobs
    >>> from sklr import MLPClassifier
    >>> from sklr.exceptions import ScheduleEndWarning
    >>> from sklr.schedules import OneCycle
    >>> X, y = make_blobs(n_samples=100, random_state=0)
    >>> clf = MLPClassifier(max_iter=5, learning_rate=OneCycle(total=2, unit="step"))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = clf.fit(X, y)
    >>> any(issubclass(w.category, ScheduleEndWarning) for w in caught)
    True
    """


class LRFinderWarning(UserWarning):
    """The learning-rate range test gives no clear answer.

    Raised as a warning by :func:`sklr.find_learning_rate` and by ``fit``
    with ``learning_rate_init='auto'`` when the loss did not clearly fall
    during the sweep (a flat or noisy curve), was still falling at its end,
    or did not fall in a short run at the suggested rate or smaller ones.
    The rate is still returned, but it is a guess: the message says why,
    and ``result.caveat`` (``lr_finder_.caveat``) keeps it.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklr import MLPRegressor, find_learning_rate
    >>> from sklr.exceptions import LRFinderWarning
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(200, 3)), rng.normal(size=200)  # nothing to learn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = find_learning_rate(MLPRegressor(solver="sgd", random_state=0), X, y,
    ...                                 stop=1e-3)
    >>> any(issubclass(w.category, LRFinderWarning) for w in caught)
    True
    """
