"""Plot learning-rate and momentum schedules."""

import inspect

import numpy as np

from ._common import as_float_vector, check_matplotlib, fitted_history, short_repr

__all__ = ["ScheduleDisplay"]

_X_LABELS = {"epoch": "Epoch", "step": "Update (step)", "sample": "Samples seen",
             "fraction": "Fraction of the planned updates"}
_HISTORY_LABELS = {"learning_rate": "Learning rate", "momentum": "Momentum"}


def _is_momentum_schedule(schedule):
    from sklr.schedules import CyclicMomentum, MomentumRamp

    return isinstance(schedule, (CyclicMomentum, MomentumRamp))


class ScheduleDisplay:
    """Learning-rate or momentum schedule visualization.

    Draws one value per optimizer update (or per epoch) against time:
    a schedule's values before training (:meth:`from_schedule`), or the
    rate a fitted estimator recorded (:meth:`from_estimator`). Several
    displays drawn into one ``ax`` with different ``name`` compare
    schedules in one legend.

    Parameters
    ----------
    values : array-like of shape (n_points,)
        Values to draw.
    x : array-like of shape (n_points,), default=None
        Position of each value, in ``unit``; None means ``0, 1, 2, ...``.
    unit : {'epoch', 'step', 'sample', 'fraction'}, default='epoch'
        Unit of ``x``, for the axis label: fractional epochs, update index,
        training rows seen or fraction of the fit's planned updates.
    name : str, default=None
        Legend label of the line; None draws no legend.
    ylabel : str, default=None
        Label of the y axis; None means ``'Value'``.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The drawn line.
    ax_ : matplotlib Axes
        The axes drawn into.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    TrainingHistoryDisplay : Per-epoch history of a fit, with the rate.

    Examples
    --------
    >>> from sklr.inspection import ScheduleDisplay
    >>> from sklr.schedules import CosineAnnealing
    >>> schedule = CosineAnnealing(period=10, unit="epoch")
    >>> display = ScheduleDisplay.from_schedule(  # doctest: +SKIP
    ...     schedule, n_epochs=12, steps_per_epoch=5, base_rate=0.1)
    >>> display.line_.get_ydata()[:3]  # doctest: +SKIP
    array([0.1       , 0.09990134, 0.09960574])
    """

    def __init__(self, values, *, x=None, unit="epoch", name=None, ylabel=None):
        self.values = values
        self.x = x
        self.unit = unit
        self.name = name
        self.ylabel = ylabel

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the values.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Legend label, overriding the display's ``name``.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : ScheduleDisplay
            The object, with ``line_``, ``ax_`` and ``figure_`` stored.
        """
        check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if self.unit not in _X_LABELS:
            raise ValueError(f"unit must be one of {sorted(_X_LABELS)}, got {self.unit!r}.")
        values = as_float_vector("values", self.values)
        if self.x is None:
            xs = np.arange(values.shape[0], dtype=np.float64)
        else:
            xs = as_float_vector("x", self.x)
            if xs.shape != values.shape:
                raise ValueError(
                    f"x has {xs.shape[0]} positions for {values.shape[0]} values."
                )
        name = self.name if name is None else name
        if ax is None:
            _, ax = plt.subplots()
        (self.line_,) = ax.plot(xs, values, label=name, **kwargs)
        ax.set_xlabel(_X_LABELS[self.unit])
        ax.set_ylabel(self.ylabel if self.ylabel is not None else "Value")
        if name is not None:
            ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_schedule(
        cls,
        schedule,
        *,
        n_epochs,
        steps_per_epoch=1,
        batch_size=1,
        base_rate=1.0,
        monitored=None,
        x_unit="epoch",
        ax=None,
        name=None,
        **kwargs,
    ):
        """Plot a schedule's values over a fresh run with constant batches.

        Draws ``base_rate * schedule.preview(n_epochs, steps_per_epoch,
        batch_size)``: one point per update, at fractional epoch ``k /
        steps_per_epoch`` for the ``k``-th update (``x_unit='epoch'``), at
        ``k`` (``'step'``), at ``k * batch_size`` rows seen (``'sample'``)
        or at ``k / (n - 1)`` of the ``n = n_epochs * steps_per_epoch``
        updates (``'fraction'``). The run is the plan of a ``fit`` with
        ``max_iter=n_epochs``, so schedules counting in ``'fraction'`` span
        it.

        Parameters
        ----------
        schedule : Schedule
            A learning-rate schedule (values are multipliers of the rate) or
            a momentum schedule (values are momenta; keep ``base_rate=1``).
        n_epochs : int
            Number of epochs.
        steps_per_epoch : int, default=1
            Updates per epoch: ``ceil(n_samples / batch_size)`` for a fit.
        batch_size : int, default=1
            Rows per update (matters for schedules counted in samples).
        base_rate : float, default=1.0
            Factor of the values, e.g. the estimator's
            ``learning_rate_init`` to draw rates instead of multipliers.
        monitored : array-like of shape (n_epochs,), default=None
            Monitored value per epoch, for feedback schedules such as
            :class:`~sklr.schedules.ReduceOnPlateau` (required by them).
        x_unit : {'epoch', 'step', 'sample', 'fraction'}, default='epoch'
            Unit of the horizontal axis.
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Legend label; None uses a short repr of the schedule.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : ScheduleDisplay

        Examples
        --------
        >>> from sklr.inspection import ScheduleDisplay
        >>> from sklr.schedules import OneCycle
        >>> ScheduleDisplay.from_schedule(  # doctest: +SKIP
        ...     OneCycle(), n_epochs=10, steps_per_epoch=10,
        ...     base_rate=0.01)
        """
        check_matplotlib(f"{cls.__name__}.from_schedule")
        if x_unit not in _X_LABELS:
            raise ValueError(f"x_unit must be one of {sorted(_X_LABELS)}, got {x_unit!r}.")
        if not callable(getattr(schedule, "preview", None)):
            raise TypeError(
                "schedule must be a schedule object with a preview method (see "
                f"sklr.schedules), got {schedule!r}."
            )
        preview_kwargs = {}
        if monitored is not None:
            if "monitored" not in inspect.signature(schedule.preview).parameters:
                raise ValueError(
                    f"monitored is only used by feedback schedules such as "
                    f"ReduceOnPlateau; {type(schedule).__name__} takes none."
                )
            preview_kwargs["monitored"] = monitored
        values = float(base_rate) * np.asarray(
            schedule.preview(
                n_epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size,
                **preview_kwargs,
            ),
            dtype=np.float64,
        )
        step = np.arange(values.shape[0], dtype=np.float64)
        x = {"epoch": step / steps_per_epoch, "step": step, "sample": step * batch_size,
             "fraction": step / max(values.shape[0] - 1, 1)}[x_unit]
        if _is_momentum_schedule(schedule):
            ylabel = "Momentum"
        elif base_rate == 1:
            ylabel = "Learning-rate multiplier"
        else:
            ylabel = "Learning rate"
        name = short_repr(schedule, max_length=50) if name is None else name
        display = cls(values, x=x, unit=x_unit, name=name, ylabel=ylabel)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, metric="learning_rate", ax=None, name=None, **kwargs):
        """Plot the learning rate (or momentum) a fitted estimator recorded.

        Draws ``estimator.history_[metric]``: the value in effect at the
        last update of each epoch, at epochs ``1, 2, ...``.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted sklr estimator with a stochastic solver (or a Pipeline
            ending with one).
        metric : {'learning_rate', 'momentum'}, default='learning_rate'
            History key to draw.
        ax : matplotlib Axes, default=None
            Axes to draw into; None creates a new figure.
        name : str, default=None
            Legend label; None draws no legend.
        **kwargs : dict
            Keyword arguments passed to ``Axes.plot``.

        Returns
        -------
        display : ScheduleDisplay

        Raises
        ------
        ValueError
            If the history has no finite value for ``metric`` (solver
            ``'lbfgs'`` records none).

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from sklr import MLPClassifier
        >>> from sklr.inspection import ScheduleDisplay
        >>> from sklr.schedules import StepDecay
        >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
        >>> clf = MLPClassifier(solver="sgd", learning_rate=StepDecay(step_size=5),
        ...                     max_iter=15, random_state=0).fit(X, y)
        >>> ScheduleDisplay.from_estimator(clf)  # doctest: +SKIP
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        history = fitted_history(estimator, f"{cls.__name__}.from_estimator")
        if metric not in history:
            raise ValueError(
                f"The history has no {metric!r}; available keys: {sorted(history)}."
            )
        values = as_float_vector(f"history[{metric!r}]", history[metric])
        if not np.any(np.isfinite(values)):
            raise ValueError(
                f"The estimator recorded no {metric!r} (all NaN): solver='lbfgs' "
                "has no learning rate or momentum."
            )
        x = np.arange(1, values.shape[0] + 1, dtype=np.float64)
        ylabel = _HISTORY_LABELS.get(metric, metric)
        display = cls(values, x=x, unit="epoch", name=name, ylabel=ylabel)
        return display.plot(ax=ax, **kwargs)
