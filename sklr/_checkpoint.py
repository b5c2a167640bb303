"""Checkpoints: save the estimator during ``fit`` and resume an interrupted fit exactly.

:class:`Checkpoint` is the configuration (the estimator parameter
``checkpoint``); :class:`FitCheckpoints` is what one ``fit`` or
``partial_fit`` call does with it: save at the end of an epoch, after the
epoch's transaction committed, and at the end of the call. A file is the
estimator pickled with :func:`joblib.dump` (written to a temporary file in
the same directory, then renamed over the target, so a reader never sees a
partial file). A checkpoint saved during ``fit`` carries a small *resume
record*: what the interrupted call kept in local variables (its epoch count,
the shuffling random state, the row order, the validation split's random
state, the best validation weights), so that ``warm_start=True`` finishes
that call on the same trajectory as if it had never stopped.
"""

import os
import re
import string
import uuid
import warnings
from numbers import Integral

import joblib
import numpy as np

from sklr._compat import Interval
from sklr._param_object import ParamObject

__all__ = ["Checkpoint", "FitCheckpoints", "load_checkpoint", "warn_unresumed"]

# The fields of a path template, and the pattern each stands for in a file name.
_FIELDS = {"epoch": r"\s*(?P<epoch>\d+)", "fit_id": r"(?P<fit_id>[0-9a-f]+)"}


def _template_fields(template):
    """The field names of a path template; ValueError for anything else."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"checkpoint path {template!r} is not a valid template: {exc}") from exc
    fields = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in _FIELDS or conversion:
            raise ValueError(
                f"checkpoint path {template!r}: unknown field {{{name}}}; the fields are "
                "{epoch} (the epoch count, e.g. {epoch:04d}) and {fit_id} (an id drawn "
                "for each fit)."
            )
        if name == "fit_id" and spec:
            raise ValueError(f"checkpoint path {template!r}: {{fit_id}} takes no format spec.")
        fields.append(name)
    try:
        template.format(epoch=1, fit_id="0")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"checkpoint path {template!r} is not a valid template: {exc}") from exc
    return fields


class Checkpoint(ParamObject):
    """Save the estimator during ``fit``: every ``every`` epochs and at the end.

    Pass it (or just its ``path``) as the ``checkpoint`` parameter of
    :class:`~sklr.MLPClassifier` or :class:`~sklr.MLPRegressor`. Its
    parameters are searchable (``checkpoint__every``).

    Parameters
    ----------
    path : str, path-like or callable
        Where to save. A string is a template formatted with two fields:
        ``{fit_id}`` (required), a random 12-digit hexadecimal id drawn at
        the start of each fresh fit and kept by ``warm_start`` and
        ``partial_fit`` (and so by a resumed fit), which keeps the files of
        concurrent fits apart (:class:`~sklearn.model_selection.GridSearchCV`
        with ``n_jobs > 1`` fits many clones at once); and ``{epoch}``
        (optional), the number of epochs in ``history_`` (counted over
        ``partial_fit`` and ``warm_start`` calls; L-BFGS iterations), which
        accepts a format spec such as ``{epoch:04d}``. Without ``{epoch}``
        each save replaces the previous one of the same fit. Missing
        directories are created. Each file is written with
        :func:`joblib.dump` to a temporary file in the same directory, then
        renamed over the target (:func:`os.replace`), so an interrupted
        write never leaves a partial checkpoint.
        A callable is called as ``path(estimator, epoch)`` instead, with the
        estimator as a file would hold it (do not modify it); it may save it
        its own way (the estimator pickles only if the callable does: use a
        module-level function).
    every : int, default=1
        Save after every ``every``-th epoch (the epoch count of ``{epoch}``).
        ``fit`` also saves when it ends (the final model: after early
        stopping restored its best weights), or when it is interrupted by
        Ctrl-C (the last complete epoch, resumable). ``partial_fit`` saves on
        the ``every`` rule only. ``solver='lbfgs'`` saves at the end only.
    keep : int, default=None
        Keep only the ``keep`` most recent files this fit wrote, deleting
        older ones; None keeps them all. Only with a path template.

    See Also
    --------
    load_checkpoint : Load a checkpoint (the newest of a template's files).

    Notes
    -----
    A checkpoint saved during ``fit`` resumes that fit exactly: load it
    (:func:`load_checkpoint` or :func:`joblib.load`), then call
    ``fit(X, y)`` with ``warm_start=True`` on the same data. The call runs
    the epochs left of its ``max_iter`` (and stops early as the
    uninterrupted fit would) with the saved shuffling random state, row
    order, validation split, optimizer state and schedule positions, so
    weights, ``loss_curve_`` and ``history_`` end as those of a fit that
    never stopped. ``partial_fit`` continues any checkpoint from its
    weights, optimizer state and schedule positions (the checkpoints of a
    ``partial_fit`` loop continue that loop exactly), and
    ``warm_start=False`` starts afresh.

    An error while saving (a full disk, an unwritable directory, a callable
    that raises) stops the fit and propagates; the estimator is then left
    as it was before the call, as for any error in ``fit``.

    Examples
    --------
    >>> from sklr import Checkpoint, MLPClassifier
    >>> clf = MLPClassifier(checkpoint=Checkpoint("ckpt/mlp-{fit_id}-{epoch}.joblib",
    ...                                           every=10, keep=2))
    >>> clf.get_params()["checkpoint__every"]
    10
    """

    _parameter_constraints = {
        "path": [str, os.PathLike, callable],
        "every": [Interval(Integral, 1, None, closed="left")],
        "keep": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, path, every=1, keep=None):
        self.path = path
        self.every = every
        self.keep = keep

    def _validate_params(self):
        super()._validate_params()
        if callable(self.path):
            if self.keep is not None:
                raise ValueError(
                    f"Checkpoint(keep={self.keep!r}) needs a path template: with a "
                    "callable the callable decides what to keep."
                )
            return
        path = os.fspath(self.path)
        if "fit_id" not in _template_fields(path):
            raise ValueError(
                f"checkpoint path {path!r} has no {{fit_id}} field: concurrent fits "
                "(GridSearchCV(n_jobs>1), cross_validate) would write the same files. "
                "Add one, e.g. 'mlp-{fit_id}-{epoch}.joblib'; or pass a callable."
            )


def as_checkpoint(value):
    """The estimator's ``checkpoint`` parameter as a validated Checkpoint, or None."""
    if value is None:
        return None
    if not isinstance(value, Checkpoint):
        value = Checkpoint(value)
    value._validate_params()
    return value


def atomic_dump(obj, path):
    """``joblib.dump(obj, path)`` through a temporary file and :func:`os.replace`."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # A new name of our own ('x' mode), with the permissions the umask gives
    # any new file (tempfile.mkstemp would make it private to the user).
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            joblib.dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _log(state):
    """The fit's checkpoint log in its TrainingState: id, files written, resume record."""
    log = getattr(state, "checkpoint", None)
    if log is None:
        log = state.checkpoint = {"fit_id": uuid.uuid4().hex[:12], "files": [], "resume": None}
    return log


def warn_unresumed(est):
    """Warn when a fresh fit discards the interrupted fit a loaded checkpoint holds."""
    log = getattr(est.__dict__.get("_state"), "checkpoint", None)
    record = log.get("resume") if log else None
    if record is not None:
        warnings.warn(
            f"This estimator is a checkpoint saved during a fit (after epoch "
            f"{record['n_iter']} of that fit), and fit with warm_start=False starts "
            "afresh. To finish the interrupted fit, set warm_start=True before fit.",
            UserWarning,
        )


def _rng(state):
    rng = np.random.RandomState()
    rng.set_state(state)
    return rng


class FitCheckpoints:
    """What one ``fit`` or ``partial_fit`` call does about checkpoints.

    Built at the start of the call, before the validation split (whose
    random draws a resumed call replays). Consumes the resume record of a
    loaded checkpoint: a ``warm_start`` fit (``incremental=False`` on a
    fitted estimator) continues the interrupted call; ``partial_fit`` drops
    it. Without ``checkpoint`` and without a record every method is a no-op.

    Parameters
    ----------
    est : BaseMultilayerPerceptron
        The estimator, after ``_prepare_fit``.
    incremental : bool
        Whether this is a ``partial_fit`` call.
    stochastic : bool, default=True
        False for L-BFGS (end save only, nothing to resume).
    pausable : bool, default=False
        Keep the loop's state after every epoch even without ``checkpoint``,
        so that :meth:`pause` can leave a resume record (``sklr._pause``).
    """

    def __init__(self, est, incremental, stochastic=True, pausable=False):
        self.est = est
        self.incremental = incremental
        self.config = as_checkpoint(est.checkpoint)
        log = getattr(est._state, "checkpoint", None)
        record = log["resume"] if log else None
        if log:
            log["resume"] = None  # consumed by this call, whatever it is
        self.resume = record if (stochastic and not incremental) else None
        if self.resume is not None:
            # The random state at the start of the interrupted call: the
            # validation split draws again exactly what it drew then.
            est._random_state = _rng(self.resume["start_rng"])
        tracked = self.config is not None or pausable
        self.start_rng = (est._random_state.get_state()
                          if tracked and stochastic and not incremental else None)
        self.last = None
        self.interrupted_saved = False

    def resume_loop(self, sample_idx, best_val):
        """The loop's start: ``(sample_idx, best_val)``, the interrupted call's if resuming.

        Sets ``n_iter_`` (epochs already run by the call) and the shuffling
        random state.
        """
        est = self.est
        record = self.resume
        if record is not None:
            if len(record["sample_idx"]) != len(sample_idx):
                raise ValueError(
                    f"This checkpoint was saved during a fit on {len(record['sample_idx'])} "
                    f"training rows; this fit has {len(sample_idx)}. Resuming (warm_start=True) "
                    "needs the data of the interrupted fit. fit with warm_start=False starts "
                    "afresh; partial_fit continues from the checkpoint's weights."
                )
            est.n_iter_ = record["n_iter"]
            est._random_state = _rng(record["rng"])
            sample_idx, best_val = record["sample_idx"], record["best_val"]
        self.remember(sample_idx, best_val)
        return sample_idx, best_val

    def remember(self, sample_idx, best_val):
        """The loop's state after a committed epoch (what a resume record holds)."""
        if self.start_rng is not None:
            self.last = {
                "n_iter": self.est.n_iter_,
                "rng": self.est._random_state.get_state(),
                "start_rng": self.start_rng,
                "sample_idx": sample_idx,
                "best_val": best_val,
            }

    def end_epoch(self, sample_idx, best_val, done):
        """After a committed epoch: save when due (``done``: the call ends now)."""
        self.remember(sample_idx, best_val)
        if self.config is None:
            return
        if self.epoch() % self.config.every:
            return
        if self.incremental:
            self.save(resumable=False)
        elif not done:  # fit's end save comes after the loop
            self.save(resumable=True)

    def interrupted(self):
        """Ctrl-C ended ``fit``: save the last complete epoch, resumable."""
        if self.config is not None and not self.incremental and self.last is not None:
            self.save(resumable=True)
            self.interrupted_saved = True

    def pause(self):
        """Leave the resume record of the last committed epoch in the estimator.

        The call then returns as if interrupted, without a warning; a
        ``warm_start`` fit on the same data continues it exactly.
        """
        _log(self.est._state)["resume"] = self.last

    def end_fit(self):
        """``fit`` ended (not ``partial_fit``): save the final model."""
        if (self.config is not None and not self.incremental and not self.interrupted_saved
                and np.isfinite(self.est._params).all()):
            self.save(resumable=False)

    def epoch(self):
        return self.est._state.history.n_epochs

    def save(self, resumable):
        """Save the estimator as it is now (with the resume record if ``resumable``)."""
        est = self.est
        log = _log(est._state)
        epoch = self.epoch()
        target = self.config.path
        if resumable:
            log["resume"] = self.last
        try:
            if callable(target):
                target(est, epoch)
                return
            path = os.fspath(target).format(epoch=epoch, fit_id=log["fit_id"])
            files = log["files"]
            new = not files or files[-1] != path
            if new:
                files.append(path)  # the saved copy lists itself
            try:
                atomic_dump(est, path)
            except BaseException:
                if new:
                    files.pop()
                raise
            keep = self.config.keep
            while keep is not None and len(files) > keep:
                old = files.pop(0)
                if old != path:
                    try:
                        os.remove(old)
                    except FileNotFoundError:
                        pass
        finally:
            log["resume"] = None


def _template_regex(template):
    """A regex matching the file names of a template (named groups for its fields)."""
    parts, seen = [], set()
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append("(?P=%s)" % name if name in seen else _FIELDS[name])
            seen.add(name)
    return re.compile("".join(parts))


def load_checkpoint(path, *, fit_id=None):
    """Load a checkpoint saved by an estimator's ``checkpoint`` parameter.

    Parameters
    ----------
    path : str or path-like
        A checkpoint file, or the path template given to
        :class:`Checkpoint` (with its ``{fit_id}`` and ``{epoch}`` fields):
        then the file with the largest epoch among those matching it.
    fit_id : str, default=None
        With a template, the fit whose checkpoint to load (the ``{fit_id}``
        part of its file names). Needed when files of several fits match.

    Returns
    -------
    estimator : MLPClassifier or MLPRegressor
        The estimator as saved (the same object :func:`joblib.load` gives).
        One saved during ``fit`` resumes that fit with ``warm_start=True``:
        ``est.set_params(warm_start=True).fit(X, y)`` on the same data runs
        the remaining epochs of its ``max_iter`` on the trajectory of the
        uninterrupted fit. See :class:`Checkpoint`.

    Raises
    ------
    FileNotFoundError
        If no file matches.
    ValueError
        If the files of several fits match a template and ``fit_id`` is None.
    TypeError
        If the file holds something other than an sklr estimator.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn.datasets import load_iris
    >>> from sklr import MLPClassifier, load_checkpoint
    >>> X, y = load_iris(return_X_y=True)
    >>> template = os.path.join(tempfile.mkdtemp(), "mlp-{fit_id}-{epoch}.joblib")
    >>> clf = MLPClassifier(max_iter=5, checkpoint=template, random_state=0)
    >>> clf = clf.fit(X, y)  # doctest: +SKIP
    >>> load_checkpoint(template).n_iter_  # doctest: +SKIP
    5
    """
    path = os.fspath(path)
    if fit_id is not None and not isinstance(fit_id, str):
        raise TypeError(f"fit_id must be a str or None, got {type(fit_id).__name__}.")
    if not os.path.isfile(path) and _template_fields(path):
        path = _newest_match(path, fit_id)
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"No checkpoint file {path!r}.")
    est = joblib.load(path)
    if not hasattr(est, "_state") or not hasattr(est, "history_"):
        raise TypeError(
            f"{path!r} holds a {type(est).__name__}, not an sklr estimator checkpoint."
        )
    return est


def _newest_match(template, fit_id):
    """The file of a template with the largest epoch (of the one matching fit)."""
    folder = os.path.dirname(template) or "."
    regex = _template_regex(os.path.basename(template))
    found = {}
    names = os.listdir(folder) if os.path.isdir(folder) else []
    for name in names:
        match = regex.fullmatch(name)
        if match is None or name.endswith(".tmp"):
            continue
        fields = match.groupdict()
        if fit_id is not None and fields.get("fit_id") != fit_id:
            continue
        epoch = int(fields["epoch"]) if "epoch" in fields else 0
        found.setdefault(fields.get("fit_id"), []).append(
            (epoch, os.path.getmtime(os.path.join(folder, name)), name))
    if not found:
        raise FileNotFoundError(
            f"No checkpoint file matches {template!r}"
            + (f" with fit_id={fit_id!r}." if fit_id is not None else ".")
        )
    if len(found) > 1:
        newest = sorted(found, key=lambda k: max(f[1] for f in found[k]), reverse=True)
        raise ValueError(
            f"Checkpoints of {len(found)} fits match {template!r} (fit ids, newest first: "
            f"{newest}); pass fit_id=... to choose one."
        )
    (files,) = found.values()
    return os.path.join(folder, max(files)[2])
