"""Per-epoch training histories over a range of one parameter."""

import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch
from sklearn.utils.parallel import Parallel, delayed

from sklr.exceptions import DivergenceError
from sklr.inspection._common import fitted_history, score_name
from sklr.inspection._seed_bands import seed_statistics

__all__ = ["training_curves"]


def _fit_and_record(estimator, X, y, fit_params, keep_estimator):
    """Fit one configured clone; return its history (and the clone if kept).

    A fit that diverges keeps the epochs before the divergence: a study of
    large learning rates shows where they blow up instead of failing.
    """
    try:
        estimator.fit(X, y, **fit_params)
    except DivergenceError as exc:
        if not hasattr(estimator, "history_"):
            raise
        warnings.warn(
            f"{estimator!r} diverged; its history stops at epoch "
            f"{len(estimator.history_['loss'])}: {exc}",
            UserWarning,
        )
    history = fitted_history(estimator, "training_curves")
    return history, (estimator if keep_estimator else None)


def _accepts(func, name):
    """Whether ``func`` takes a keyword argument ``name``."""
    params = inspect.signature(func).parameters
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _check_seeds(n_seeds, seeds, param_name):
    """The list of random states to fit with, or None for one fit per value."""
    if n_seeds is not None and seeds is not None:
        raise ValueError("Pass n_seeds or seeds, not both.")
    if n_seeds is not None:
        if not isinstance(n_seeds, Integral) or isinstance(n_seeds, bool) or n_seeds < 1:
            raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}.")
        seeds = list(range(int(n_seeds)))
    elif seeds is not None:
        seeds = list(seeds)
        if not seeds or not all(
                isinstance(s, Integral) and not isinstance(s, bool) and 0 <= s < 2**32
                for s in seeds):
            raise ValueError(
                f"seeds must be a non-empty list of ints in [0, 2**32), got {seeds!r}.")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds!r}.")
        seeds = [int(s) for s in seeds]
    else:
        return None
    if param_name == "random_state" or param_name.endswith("__random_state"):
        raise ValueError(
            f"param_name={param_name!r} is what n_seeds and seeds vary; vary another "
            "parameter, or pass the random states as param_range without seeds."
        )
    return seeds


def _with_seed(estimator, seed):
    """``estimator`` with every ``random_state`` parameter (nested too) set to ``seed``."""
    keys = [k for k in estimator.get_params(deep=True)
            if k == "random_state" or k.endswith("__random_state")]
    if not keys:
        raise ValueError(
            f"n_seeds and seeds set the random_state parameters of the estimator, "
            f"and {type(estimator).__name__} has none."
        )
    return estimator.set_params(**dict.fromkeys(keys, seed))


def training_curves(
    estimator,
    X,
    y,
    *,
    param_name,
    param_range,
    X_val=None,
    y_val=None,
    sample_weight=None,
    sample_weight_val=None,
    n_jobs=None,
    verbose=0,
    return_estimators=False,
    n_seeds=None,
    seeds=None,
):
    """Fit once per value of one parameter and collect the per-epoch histories.

    For each ``value`` in ``param_range``, a clone of ``estimator`` with
    ``set_params(**{param_name: value})`` is fitted on ``(X, y)`` and its
    ``history_`` (training loss, learning rate, momentum, wall time and,
    with validation data, validation loss and score per epoch) is kept.
    This is the loop behind the classic "effect of the learning rate"
    studies; :meth:`sklr.inspection.TrainingHistoryDisplay.from_training_curves`
    draws the result as one panel per value.

    A fit that diverges (non-finite loss, as with too large a learning
    rate) does not stop the study: its history ends at the last finite
    epoch, with a warning.

    With ``n_seeds`` (or ``seeds``) every value is fitted once per random
    seed, and the result also holds the per-epoch mean and spread over the
    seeds, which :meth:`~sklr.inspection.TrainingHistoryDisplay.from_training_curves`
    draws as a line with a shaded band: whether the curves of two values
    differ by more than their seeds do is then visible.

    Unlike :func:`sklearn.model_selection.validation_curve`, which keeps
    one cross-validated score per value, this keeps the whole per-epoch
    history of each fit and does no cross-validation.

    Parameters
    ----------
    estimator : estimator
        An unfitted estimator that records ``history_`` when fitted (sklr's
        :class:`~sklr.MLPClassifier` or :class:`~sklr.MLPRegressor`, or a
        :class:`~sklearn.pipeline.Pipeline` ending with one). It is cloned,
        never fitted itself.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Training targets.
    param_name : str
        Name of the parameter to vary, possibly nested
        (``'learning_rate__gamma'``, ``'mlp__learning_rate_init'``).
    param_range : iterable
        Values of the parameter, one fit each: numbers, strings or whole
        objects (schedules, optimizers).
    X_val : {array-like, sparse matrix} of shape (n_val_samples, n_features), default=None
        Validation data, scored after every epoch; passed to ``fit`` as
        ``X_val``, which adds ``'val_loss'`` and ``'val_score'`` to each
        history. Give ``y_val`` with it.
    y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), default=None
        Validation targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Training sample weights, passed to ``fit`` when given.
    sample_weight_val : array-like of shape (n_val_samples,), default=None
        Validation sample weights, passed to ``fit`` when given.
    n_jobs : int, default=None
        Number of fits run in parallel with joblib. ``None`` means 1 unless
        in a :func:`joblib.parallel_backend` context; ``-1`` uses all
        processors.
    verbose : int, default=0
        Verbosity of joblib.
    return_estimators : bool, default=False
        Whether to also return the fitted clones.
    n_seeds : int, default=None
        Fit every value ``n_seeds`` times, with ``random_state`` 0, 1, ...,
        ``n_seeds - 1`` (every ``random_state`` parameter of the estimator,
        nested ones such as a Pipeline step's included: the initial
        weights, the shuffling, the early-stopping split and dropout all
        change with it). The same seeds for every value, so differences
        between values are not seed luck. None fits each value once, with
        the estimator's own ``random_state``.
    seeds : list of int, default=None
        The random states themselves, instead of ``n_seeds`` (distinct ints
        in [0, 2**32)).

    Returns
    -------
    curves : :class:`~sklearn.utils.Bunch`
        With attributes

        param_name : str
            ``param_name``.
        param_range : list
            The values, in the order given.
        histories : list of dict
            The fitted clones' ``history_``, in the order of ``param_range``.
            With seeds, a list (per value) of lists (per seed, in the order
            of ``seeds``) of histories.
        estimators : list of estimator or None
            The fitted clones, in the same order (with seeds, per value a
            list per seed), when ``return_estimators`` is True; None
            otherwise.
        score_name : str or None
            What the histories' ``'score'`` and ``'val_score'`` measure:
            ``'Accuracy'`` for a classifier, ``'R²'`` for a regressor (the
            metric of its ``score``), None for another estimator.
        seeds : list of int or None
            The random states each value was fitted with; None without
            ``n_seeds`` and ``seeds``.
        mean, std, min, max, count : list of dict
            Only with seeds: per value, a dict of history key to one float64
            value per epoch over that value's seeds: the mean, the sample
            standard deviation (``ddof=1``, NaN where fewer than 2 seeds
            have the epoch), the minimum, the maximum, and the number of
            seeds with a value there. Fits that stop early (early stopping,
            divergence) have fewer epochs: each epoch is summarised over the
            fits that reached it, as ``count`` says.

    Raises
    ------
    ValueError
        If ``param_range`` is empty, if only one of ``X_val`` and ``y_val``
        is given, if ``param_name`` is not a parameter of ``estimator``
        (the error of ``set_params``, raised before any fit), or if the
        seeds are invalid, given twice, or the estimator has no
        ``random_state`` to set.
    TypeError
        If the fitted estimator records no ``history_``, or its ``fit``
        does not accept ``X_val``.

    See Also
    --------
    sklr.inspection.TrainingHistoryDisplay.from_training_curves : Plot the result.
    sklearn.model_selection.validation_curve : Cross-validated final scores.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sklr import MLPClassifier
    >>> from sklr.model_selection import training_curves
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", max_iter=5,
    ...                     random_state=0)
    >>> curves = training_curves(clf, X, y, param_name="learning_rate_init",
    ...                          param_range=[0.001, 0.1])
    >>> curves.param_range
    [0.001, 0.1]
    >>> [len(history["loss"]) for history in curves.histories]
    [5, 5]
    >>> bool(curves.histories[1]["loss"][-1] < curves.histories[0]["loss"][-1])
    True

    Over three seeds, the mean training loss per epoch of each rate:

    >>> curves = training_curves(clf, X, y, param_name="learning_rate_init",
    ...                          param_range=[0.001, 0.1], n_seeds=3)
    >>> curves.seeds, [len(h) for h in curves.histories]
    ([0, 1, 2], [3, 3])
    >>> curves.mean[0]["loss"].shape, curves.count[0]["loss"]
    ((5,), array([3., 3., 3., 3., 3.]))
    """
    if not isinstance(param_name, str):
        raise TypeError(f"param_name must be a str, got {param_name!r}.")
    if isinstance(param_range, str):
        raise TypeError(
            f"param_range must be an iterable of values, got the string {param_range!r}; "
            f"use [{param_range!r}] for a single value."
        )
    param_range = list(param_range)
    if not param_range:
        raise ValueError("param_range must hold at least one value, got none.")
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together.")
    if sample_weight_val is not None and X_val is None:
        raise ValueError("sample_weight_val needs X_val and y_val.")

    fit_params = {}
    if sample_weight is not None:
        fit_params["sample_weight"] = sample_weight
    if X_val is not None:
        if not _accepts(estimator.fit, "X_val"):
            raise TypeError(
                f"training_curves got X_val, but {type(estimator).__name__}.fit "
                "does not accept X_val and y_val."
            )
        fit_params.update(X_val=X_val, y_val=y_val)
        if sample_weight_val is not None:
            fit_params["sample_weight_val"] = sample_weight_val

    seeds = _check_seeds(n_seeds, seeds, param_name)
    # Configure every clone here, so that a bad parameter name fails at
    # once (set_params' error), before any fit starts.
    configured = [clone(estimator).set_params(**{param_name: value}) for value in param_range]
    if seeds is not None:
        configured = [_with_seed(clone(est), seed) for est in configured for seed in seeds]

    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_and_record)(est, X, y, fit_params, return_estimators)
        for est in configured
    )
    histories = [history for history, _ in results]
    estimators = [est for _, est in results] if return_estimators else None
    curves = Bunch(
        param_name=param_name,
        param_range=param_range,
        histories=histories,
        estimators=estimators,
        score_name=score_name(estimator),
        seeds=seeds,
    )
    if seeds is not None:
        k = len(seeds)
        curves.histories = [histories[i:i + k] for i in range(0, len(histories), k)]
        if return_estimators:
            curves.estimators = [estimators[i:i + k] for i in range(0, len(estimators), k)]
        stats = [seed_statistics(group) for group in curves.histories]
        for name in ("mean", "std", "min", "max", "count"):
            curves[name] = [s[name] for s in stats]
    return curves
