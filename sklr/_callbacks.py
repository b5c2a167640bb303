"""scikit-learn's callback API (``sklearn.callback``) for sklr's training loops.

scikit-learn 1.9 added callbacks (``est.set_callbacks(ProgressBar(),
ScoringMonitor(...))``). An estimator opts in by inheriting
``sklearn.callback.CallbackSupportMixin`` and, in ``fit``, describing its work
as a tree of tasks: the root task ``fit`` (created by the mixin's
``_init_callback_context``) and one subtask per epoch (``subcontext``), each
announced to the callbacks when it begins and when it ends. The end of a task
carries what callbacks need to judge the model at that point (the data and the
attributes that turn a copy of the estimator into a model fitted up to there),
and a callback may answer ``True`` there to ask the loop to stop.

This module is that bookkeeping, so the estimators only write a few calls:

* :class:`_CallbackSupport`: the mixin for the estimators' base class;
  scikit-learn's ``CallbackSupportMixin``, or an empty class where
  ``sklearn.callback`` is missing (scikit-learn < 1.9): there, as scikit-learn's
  own estimators on those versions, sklr's have no ``set_callbacks``.
* :func:`fit_callbacks`: a context manager around one ``fit`` or
  ``partial_fit``; yields the object the training loop calls
  (``begin_epoch``, ``end_epoch``, ``lbfgs_step``).
* :func:`current_callbacks`: that object from inside the loop, so the methods
  between ``fit`` and the loop keep their signatures.

With no callbacks set (or no ``sklearn.callback``) the yielded object is a
shared do-nothing one: a fit pays one attribute look-up, and each epoch two
method calls that return at once.

The teardown of the callbacks (``teardown`` hooks, even when ``fit`` raises) is
done by scikit-learn's ``_fit_context`` decorator, which the estimators' ``fit``
and ``partial_fit`` already carry.
"""

import contextlib
import re

import scipy

try:
    from sklearn.callback import CallbackSupportMixin as _CallbackSupport
except ImportError:  # scikit-learn < 1.9: no callback API

    class _CallbackSupport:
        """Stand-in for ``sklearn.callback.CallbackSupportMixin`` (scikit-learn < 1.9).

        It adds nothing, so an estimator has no ``set_callbacks`` there, like
        scikit-learn's own estimators on that version, and ``hasattr(est,
        "set_callbacks")`` tells the truth to code that checks for support.
        """

    HAS_CALLBACKS = False
else:
    HAS_CALLBACKS = True


def _scipy_callback_can_stop():
    """scipy >= 1.11: ``minimize`` stops cleanly when its callback raises StopIteration."""
    match = re.match(r"(\d+)\.(\d+)", scipy.__version__)
    return match is not None and (int(match[1]), int(match[2])) >= (1, 11)


_SCIPY_CALLBACK_CAN_STOP = _scipy_callback_can_stop()

# The attribute that holds the running fit's _FitCallbacks on the estimator.
_ATTR = "_sklr_fit_callbacks"


class _NoCallbacks:
    """What the training loop calls when no callback is set: nothing happens."""

    __slots__ = ()

    active = False
    lbfgs_stopped = False

    def begin_epoch(self, task_name=None):
        pass

    def end_epoch(self, reconstruction_attributes=None):
        return False

    def close_epoch(self):
        pass

    def lbfgs_step(self, reconstruction_attributes=None):
        pass

    def __reduce__(self):
        return "NO_CALLBACKS"  # unpickles as this module's singleton


NO_CALLBACKS = _NoCallbacks()


def _detached(attrs):
    """Reconstruction attributes whose fitted copy does not see the running fit.

    scikit-learn builds ``fitted_estimator`` as a shallow copy of the estimator
    with ``attrs`` set on it; the copy would otherwise share this fit's
    _FitCallbacks (and with it the training data).
    """
    if attrs is None:
        return None

    def build():
        values = attrs() if callable(attrs) else attrs
        return {**values, _ATTR: NO_CALLBACKS}

    return build


class _FitCallbacks:
    """The callback tasks of one ``fit``/``partial_fit``: the root and its epochs.

    Created by :func:`fit_callbacks`; sets up the callbacks and begins the
    root task. The training loop brackets each epoch (or L-BFGS iteration)
    with :meth:`begin_epoch` / :meth:`end_epoch`; :func:`fit_callbacks` ends
    the root task when ``fit`` returns.

    The hooks receive the data given to ``fit`` (``X``, ``y`` and
    ``metadata={"sample_weight": ...}``), not the estimator's internal
    encodings of it, so that scorers (``ScoringMonitor``) can be applied as to
    the fitted estimator.
    """

    active = True

    def __init__(self, estimator, X, y, sample_weight, *, task_name, max_subtasks,
                 subtask_name):
        self._estimator = estimator
        self._data = {
            "X": X,
            "y": y,
            "metadata": None if sample_weight is None else {"sample_weight": sample_weight},
        }
        self._max_subtasks = max_subtasks
        self._subtask_name = subtask_name
        self._n_subtasks = 0
        self._epoch_ctx = None
        self.lbfgs_stopped = False
        self._ctx = estimator._init_callback_context(
            task_name=task_name, max_subtasks=max_subtasks
        )
        self._ctx.call_on_fit_task_begin(estimator=estimator, **self._data)

    def begin_epoch(self, task_name=None):
        """Begin the next epoch's task (ending a still open one as empty first).

        ``task_name`` (default: ``fit_callbacks``'s ``subtask_name``) names
        this task and the following ones.
        """
        if task_name is not None:
            self._subtask_name = task_name  # the default for the next ones too
        if self._epoch_ctx is not None:
            self.close_epoch()
        if self._max_subtasks is not None and self._n_subtasks >= self._max_subtasks:
            return  # more epochs than announced: report none rather than fail the fit
        self._n_subtasks += 1
        self._epoch_ctx = self._ctx.subcontext(task_name=self._subtask_name)
        self._epoch_ctx.call_on_fit_task_begin(estimator=self._estimator, **self._data)

    def end_epoch(self, reconstruction_attributes=None):
        """End the open epoch's task; True if a callback asks to stop training.

        Parameters
        ----------
        reconstruction_attributes : dict, callable returning a dict, or None
            The fitted attributes that make a copy of the estimator the model
            as if ``fit`` had stopped after this epoch. A callable is only
            called when a callback asks for ``fitted_estimator``. None: the
            callbacks get no ``fitted_estimator`` (no score is recorded).
        """
        ctx, self._epoch_ctx = self._epoch_ctx, None
        if ctx is None:
            return False
        return bool(ctx.call_on_fit_task_end(
            estimator=self._estimator,
            **self._data,
            reconstruction_attributes=_detached(reconstruction_attributes),
        ))

    def close_epoch(self):
        """End the open epoch's task as an empty one (no data, no model)."""
        ctx, self._epoch_ctx = self._epoch_ctx, None
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self._estimator)

    def lbfgs_step(self, reconstruction_attributes=None):
        """Body of a ``scipy.optimize.minimize`` callback (L-BFGS iterations).

        scipy calls back at the end of each iteration: this ends the
        iteration's task and begins the next one (so the fit must begin the
        first with :meth:`begin_epoch` before ``minimize``; the last one, which
        never runs, is closed empty when the fit ends). When a callback asks
        to stop, raises ``StopIteration``, which ends ``minimize`` (scipy >=
        1.11; older scipy runs on) and sets ``lbfgs_stopped``.
        """
        stop = self.end_epoch(reconstruction_attributes)
        self.begin_epoch()
        if stop and _SCIPY_CALLBACK_CAN_STOP:
            self.lbfgs_stopped = True
            raise StopIteration

    def _end_fit(self, reconstruction_attributes):
        self.close_epoch()
        self._ctx.call_on_fit_task_end(
            estimator=self._estimator,
            **self._data,
            reconstruction_attributes=_detached(reconstruction_attributes),
        )


@contextlib.contextmanager
def fit_callbacks(estimator, X, y, sample_weight=None, *, max_subtasks,
                  task_name="fit", subtask_name="epoch"):
    """Run the body as one callback-reported fit of ``estimator``.

    Use inside ``fit``/``partial_fit`` (which carry ``_fit_context``, the
    decorator that tears the callbacks down), around the actual training,
    *before* anything that snapshots ``estimator.__dict__`` to restore it on
    error: the callback state set up here must survive such a restore.

    Parameters
    ----------
    estimator : estimator with :class:`_CallbackSupport`
    X, y, sample_weight : the data given to ``fit``, passed on to the hooks.
    max_subtasks : int, None or callable returning one of them
        How many epoch tasks the fit may open (None: unknown). A callable is
        only called when callbacks are set.
    task_name : str, default="fit"
        Name of the root task.
    subtask_name : str, default="epoch"
        Default name of the epoch tasks.

    Yields
    ------
    callbacks : object with ``begin_epoch``, ``end_epoch``, ``close_epoch``,
        ``lbfgs_step``, ``active`` and ``lbfgs_stopped``; also returned by
        :func:`current_callbacks` while the body runs. If the body returns
        normally the root task ends with the estimator as it then is (the
        callbacks' ``fitted_estimator``); if it raises, no end is reported.
    """
    state = estimator.__dict__
    if not HAS_CALLBACKS or not state.get("_skl_callbacks"):
        state.pop(_ATTR, None)
        yield NO_CALLBACKS
        return
    if callable(max_subtasks):
        max_subtasks = max_subtasks()
    callbacks = _FitCallbacks(
        estimator, X, y, sample_weight, task_name=task_name,
        max_subtasks=max_subtasks, subtask_name=subtask_name,
    )
    state[_ATTR] = callbacks
    try:
        yield callbacks
        callbacks._end_fit({})
    finally:
        estimator.__dict__.pop(_ATTR, None)


def current_callbacks(estimator):
    """The running fit's callbacks object (the do-nothing one outside a fit)."""
    return estimator.__dict__.get(_ATTR, NO_CALLBACKS)
