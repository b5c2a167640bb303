"""The per-epoch record of a fit (``history_``) and the fit-time state.

:class:`History` is append-only with a cheap rollback (``truncate``), so
``partial_fit`` pays O(1) per call for its record and its error snapshot,
whatever the number of earlier calls. :class:`TrainingState` is every piece
of state a fit changes besides the weights and the public fitted attributes:
counters, optimizer arrays, feedback-schedule states, the history and the
best weights, in ONE object, so snapshot, restore, resume and pickling copy a
single thing.
"""

from collections.abc import Mapping

import numpy as np


class History(Mapping):
    """Per-epoch record: a read-only mapping of key to a float64 array.

    Every key holds one value per recorded epoch (NaN where a key was not
    recorded, e.g. a key that is new to a warm-start refit). Values are
    views of growing buffers: reading is O(1), appending amortised O(1).
    """

    def __init__(self):
        self._columns = {}
        self._n = 0

    def __getitem__(self, key):
        view = self._columns[key][: self._n]
        view.flags.writeable = False
        return view

    def __iter__(self):
        return iter(self._columns)

    def __len__(self):
        return len(self._columns)

    def __repr__(self):
        return "History(%s)" % ", ".join(
            f"{key}={np.array2string(self[key], threshold=6)}" for key in self
        )

    @property
    def n_epochs(self):
        """Number of recorded epochs."""
        return self._n

    def add_keys(self, keys):
        """Make sure each key exists (NaN for the epochs already recorded)."""
        for key in keys:
            if key not in self._columns:
                self._columns[key] = np.full(max(8, 2 * self._n), np.nan)

    def append(self, record):
        """Record one epoch: a dict of key to float (missing keys are NaN)."""
        self.add_keys(record)
        n = self._n
        for key, column in self._columns.items():
            if column.shape[0] <= n:
                grown = np.full(2 * column.shape[0], np.nan)
                grown[:n] = column[:n]
                self._columns[key] = column = grown
            column[n] = record.get(key, np.nan)
        self._n = n + 1

    def truncate(self, n_epochs, keys):
        """Roll back to ``n_epochs`` epochs and the keys ``keys`` (a rollback)."""
        for key in list(self._columns):
            if key not in keys:
                del self._columns[key]
            else:
                self._columns[key][n_epochs:] = np.nan
        self._n = n_epochs

    def __getstate__(self):
        # Pickle only what was recorded.
        return {"_columns": {k: v[: self._n].copy() for k, v in self._columns.items()},
                "_n": self._n}

    def __setstate__(self, state):
        self._n = state["_n"]
        self._columns = {}
        for key, values in state["_columns"].items():
            column = np.full(max(8, 2 * self._n), np.nan)
            column[: self._n] = values
            self._columns[key] = column


class TrainingState:
    """Everything a fit changes besides the weights and the public attributes.

    Attributes
    ----------
    n_updates, n_epochs : int
        Global counters the schedules are indexed by (with ``t_``, the rows
        seen, kept on the estimator as scikit-learn does).
    optimizer : dict or None
        The optimizer's arrays (``state_1..3``, ``scalars``) and ``'lr'``,
        the base rate of the optimizer's life (scikit-learn's
        ``'invscaling'`` and ``'adaptive'`` rules change it).
    feedback : list of dict or None
        One state per feedback schedule of ``learning_rate``.
    history : History
        The per-epoch record (``history_`` is this object).
    best_params : ndarray or None
        Best-validation weights (early stopping).
    no_improvement_count : int
        scikit-learn's stopping counter.
    average : ndarray or None
        The averaged weights (``averaging``; None without), the raw ones
        until averaging starts.
    n_averaged : int
        Points averaged so far (updates for EMA, epochs for SWA).
    average_shown : bool
        Whether ``coefs_``/``intercepts_`` view ``average`` (the fit's
        ``use_averaged_weights``).
    best_average : ndarray or None
        ``average`` at the best validation score (early stopping).
    checkpoint : dict or None
        The fit's checkpoint log (``sklr._checkpoint``): its ``fit_id``, the
        files it wrote and, in a checkpoint saved during ``fit``, the record
        that resumes that call. None until the first save.
    plan_start, planned_steps : int, int or None
        The plan of updates that the ``'fraction'`` unit spans: global
        index of its first update and number of updates (``max_iter``
        epochs of updates), set by each ``fit`` and by the ``partial_fit``
        call that finds no plan; None before any.
    """

    # Defaults for states pickled before weight averaging existed.
    average = None
    n_averaged = 0
    average_shown = False
    best_average = None
    checkpoint = None
    # ... and before the 'fraction' unit existed.
    plan_start = 0
    planned_steps = None

    def __init__(self):
        self.n_updates = 0
        self.n_epochs = 0
        self.optimizer = None
        self.feedback = None
        self.history = History()
        self.best_params = None
        self.no_improvement_count = 0
        self.average = None
        self.n_averaged = 0
        self.average_shown = False
        self.best_average = None

    @classmethod
    def from_public_attributes(cls, est):
        """The state a fit would have left, rebuilt from public fitted attributes.

        For estimators whose ``coefs_``/``intercepts_`` and fitted attributes
        were set by hand (scikit-learn continues training from them): counters
        from ``loss_curve_`` and ``t_``, the record from ``loss_curve_`` and
        ``validation_scores_``, no optimizer state (a fresh one starts).
        """
        d = est.__dict__
        state = cls()
        state.no_improvement_count = d.pop("_no_improvement_count_set", 0)
        losses = list(d.get("loss_curve_") or [])
        state.n_epochs = len(losses)
        # Updates per epoch from the samples per epoch (exact when every
        # epoch saw the same number of samples).
        per_epoch = est.t_ // state.n_epochs if state.n_epochs else 0
        batch = 200 if est.batch_size == "auto" else est.batch_size
        steps = -(-per_epoch // max(1, min(batch, per_epoch))) if per_epoch else 0
        state.n_updates = steps * state.n_epochs
        scores = d.get("validation_scores_")
        with_scores = scores is not None and len(scores) == len(losses)
        for i, loss in enumerate(losses):
            state.history.append(
                {"loss": loss, "val_score": scores[i]} if with_scores else {"loss": loss})
        return state

    def snapshot(self):
        """A token that :meth:`restore` puts this state back from.

        Costs O(parameters), not O(epochs): the history is append-only, so
        its length and keys suffice.
        """
        arrays = None
        if self.optimizer is not None:
            # Floats are immutable; empty arrays have nothing to restore.
            arrays = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                      for k, v in self.optimizer.items()
                      if not isinstance(v, np.ndarray) or v.size}
        average = getattr(self, "average", None)
        if average is not None:
            arrays = dict(arrays or {}, _average=average.copy())
        return (dict(self.__dict__), arrays,
                self.history.n_epochs, tuple(self.history._columns))

    def restore(self, token):
        attributes, arrays, n_epochs, keys = token
        self.__dict__.clear()
        self.__dict__.update(attributes)
        if arrays is not None:
            arrays = dict(arrays)
            saved_average = arrays.pop("_average", None)
            if saved_average is not None:
                # In place: coefs_/intercepts_ may be views of it.
                self.average[...] = saved_average
            for key, saved in arrays.items():
                if isinstance(self.optimizer.get(key), np.ndarray):
                    self.optimizer[key][...] = saved
                else:
                    self.optimizer[key] = saved
        self.history.truncate(n_epochs, keys)
