"""Exceptions and warnings raised by sklr.

Import them from here to catch what sklr raises::

    from sklr.exceptions import DivergenceError
"""

__all__ = ["DivergenceError"]


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
