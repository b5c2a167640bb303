"""What a fit measures after every epoch, and what it watches: ``scoring``.

``scoring`` (as in scikit-learn's ``HistGradientBoosting*``: None, ``'loss'``,
a scorer name, a callable scorer, or a list or dict of them) names the metrics
a fit records on its validation data (``history_['val_<name>']``) and, with
``record_train_score=True``, on its training data (``history_['<name>']``).
The first one is the *monitor*: what ``early_stopping`` watches and what
``restore_best_weights`` picks the best epoch by.

Every metric of one epoch on one data set comes from ONE forward pass. A
scikit-learn scorer (``get_scorer(name)``, ``make_scorer(...)``: any
``_BaseScorer``) asks the estimator for ``predict``, ``predict_proba`` or
``predict_log_proba`` through scikit-learn's ``_get_response_values``; it is
handed a stand-in whose methods return what that pass gave (the estimator's
own methods, applied to the cached output), so it gives exactly what
``get_scorer(name)(estimator, X, y)`` gives. Any other callable is called on
the estimator itself, which runs its own forward pass.
"""

import inspect
import re
from collections.abc import Mapping
from numbers import Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring, get_scorer

from sklr._compat import _BaseScorer

#: The two quantities every fit's record holds under fixed names.
LOSS, SCORE = "loss", "score"
#: Keys of the training record a metric's name may not take (with the
#: per-layer keys of record_dynamics, '<statistic>_layer<i>').
_RESERVED = frozenset({"learning_rate", "momentum", "time", "weight_decay", "fraction",
                       "grad_norm_mean", "grad_norm_max", "sharpness", "sharpness_limit",
                       "noise_scale", "noise_scale_trace", "noise_scale_grad_sq"})
_LAYER_KEY = re.compile(r".+_layer\d+")


def _scorer(value, name):
    """A scorer from a scorer name or a callable (scikit-learn's checks)."""
    if isinstance(value, str):
        try:
            return get_scorer(value)
        except ValueError as exc:
            raise ValueError(
                f"scoring: {value!r} is neither 'loss' nor a scorer name of "
                "sklearn.metrics.get_scorer_names()."
            ) from exc
    if not callable(value):
        raise ValueError(
            f"scoring[{name!r}] must be a scorer name or a callable scorer(estimator, "
            f"X, y), got {value!r}."
        )
    return check_scoring(None, scoring=value)  # rejects bare metric functions


def _parse(scoring):
    """(names in order, {name: scorer}) for a ``scoring`` parameter."""
    if scoring is None:
        return [SCORE], {}
    if isinstance(scoring, str):
        return [scoring], ({} if scoring == LOSS else {scoring: _scorer(scoring, scoring)})
    if callable(scoring):
        return [SCORE], {SCORE: _scorer(scoring, SCORE)}
    if isinstance(scoring, (list, tuple)):
        if (not scoring or not all(isinstance(s, str) for s in scoring)
                or len(set(scoring)) != len(scoring)):
            raise ValueError(
                "scoring as a list must hold unique strings (scorer names or 'loss'), "
                f"got {scoring!r}; name callables with a dict."
            )
        items = [(s, s) for s in scoring]
    elif isinstance(scoring, Mapping):
        if not scoring or not all(isinstance(k, str) for k in scoring):
            raise ValueError(
                f"scoring as a dict must map names (str) to scorers, got {scoring!r}."
            )
        items = list(scoring.items())
    else:
        raise ValueError(f"scoring must be None, a str, a callable, a list or a dict; "
                         f"got {scoring!r}.")
    scorers = {}
    for name, value in items:
        if (name == LOSS) != (isinstance(value, str) and value == LOSS):
            raise ValueError(
                f"scoring: {{{name!r}: {value!r}}}: 'loss' names the fit's own loss "
                "(recorded as 'val_loss'), under that name only."
            )
        if name in _RESERVED or name.startswith("val_") or _LAYER_KEY.fullmatch(name):
            raise ValueError(
                f"scoring: the name {name!r} is taken by the training record (the "
                "training metric is recorded as '<name>' and the validation one as "
                "'val_<name>'); choose another."
            )
        if name != LOSS:
            scorers[name] = _scorer(value, name)
    return [name for name, _ in items], scorers


class _Output:
    """The estimator's response methods on one cached network output.

    Only for the data ``X`` it was built for. The subclasses have exactly
    the response methods of their estimator (scorers choose among them by
    name) and compute them as the estimator does.
    """

    def __init__(self, est, X, out):
        self._est, self._X, self._out = est, X, out

    def __sklearn_tags__(self):
        return self._est.__sklearn_tags__()

    def _output(self, X):
        if X is not self._X:
            raise RuntimeError("sklr: a scorer asked for predictions on other data.")
        return self._out


class _ClassifierOutput(_Output):
    def __init__(self, est, X, out):
        super().__init__(est, X, out)
        self.classes_ = est.classes_

    def predict(self, X):
        out = self._output(X)
        return self._est._label_binarizer.inverse_transform(
            out.ravel() if self._est.n_outputs_ == 1 else out)

    def predict_proba(self, X):
        out = self._output(X)
        if self._est.n_outputs_ == 1:
            p = out.ravel()
            return np.vstack([1 - p, p]).T
        return out

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


class _RegressorOutput(_Output):
    def predict(self, X):
        out = self._output(X)
        return out.ravel() if out.shape[1] == 1 else out


def _accepts_sample_weight(scorer):
    if isinstance(scorer, _BaseScorer):
        return scorer._accept_sample_weight()
    try:
        params = inspect.signature(scorer).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return True
    return "sample_weight" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class Scoring:
    """The metrics one fit records, and the monitor (the first of them).

    Parameters
    ----------
    scoring : None, str, callable, list of str or dict
        The estimator's ``scoring`` parameter. None: the estimator's
        ``score`` (accuracy or R²), recorded as ``'val_score'``/``'score'``,
        exactly as without ``scoring``. ``'loss'``: the validation loss.
        A scorer name: that scorer, as ``'val_<name>'``. A callable: as
        ``'val_score'``/``'score'`` in place of the estimator's score. A
        list of names or a dict ``{name: scorer name or callable}``: each;
        the first one is the monitor.

    Attributes
    ----------
    names : list of str
        The metrics in order; ``names[0]`` is the monitor.
    scorers : dict
        The scorers to call (every name but ``'loss'`` and the estimator's
        own score).
    """

    def __init__(self, scoring):
        self.names, self.scorers = _parse(scoring)
        self.own_score = SCORE not in self.scorers

    @property
    def monitor_key(self):
        """The validation key early stopping watches."""
        return "val_" + self.names[0]

    def validation_keys(self):
        return ("val_loss", "val_score") + tuple(
            "val_" + n for n in self.scorers if n != SCORE)

    def train_keys(self):
        return (SCORE,) + tuple(n for n in self.scorers if n != SCORE)

    def direction(self, key):
        """'min' for the losses, 'max' for the scores this fit records, else None."""
        if key in (LOSS, "val_loss"):
            return "min"
        name = key[4:] if key.startswith("val_") else key
        return "max" if name == SCORE or name in self.scorers else None

    def monitored(self, record, validation=True):
        """The monitor's value in a record, greater is better (a loss negated).

        Without validation data: minus the training loss.
        """
        key = self.monitor_key if validation else LOSS
        value = record.get(key, np.nan)
        return -value if self.direction(key) == "min" else value

    def evaluate(self, est, data, prefix):
        """The metrics of the current weights on ``data``, from one forward pass.

        ``data`` is ``(X, Y, y_labels, sample_weight)``: validated arrays,
        ``Y`` in the kernels' layout (for the loss; None for the training
        record, which has its own loss) and ``y_labels`` as ``score`` takes
        them. Keys are ``prefix + name``.
        """
        X, Y, labels, sw = data
        out = est._forward_pass_fast(X, check_input=False)
        record = {}
        if self.own_score:
            record[prefix + SCORE] = est._score_output(out, labels, sw)
        if Y is not None:
            record[prefix + LOSS] = est._objective(X, Y, sw, y_pred=out)
        if not self.scorers:
            return record
        finite = bool(np.isfinite(out).all())
        stand_in = (_ClassifierOutput if is_classifier(est) else _RegressorOutput)(est, X, out)
        y = labels
        if not is_classifier(est) and y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        for name, scorer in self.scorers.items():
            record[prefix + name] = (
                _call(scorer, est, stand_in, X, y, sw) if finite else np.nan)
        return record


def _call(scorer, est, stand_in, X, y, sample_weight):
    """One scorer: a scikit-learn scorer on the stand-in, anything else on ``est``."""
    kwargs = {}
    if sample_weight is not None and _accepts_sample_weight(scorer):
        kwargs["sample_weight"] = sample_weight
    target = stand_in if isinstance(scorer, _BaseScorer) else est
    value = scorer(target, X, y, **kwargs)
    if not isinstance(value, (Real, np.number)) or isinstance(value, bool):
        raise TypeError(
            f"scoring: the scorer {scorer!r} returned {value!r}; a scorer must return "
            "one number (name several scorers with a list or a dict)."
        )
    return float(value)


def check_monitors(feedback, scoring, has_validation, record_train_score):
    """Each feedback schedule's monitor is one this fit records, with a known mode."""
    for schedule in feedback:
        monitor = getattr(schedule, "monitor", None)
        if monitor is None:
            continue
        name = type(schedule).__name__
        if monitor.startswith("val_") and not has_validation:
            raise ValueError(
                f"{name}(monitor={monitor!r}) needs validation data: pass fit(X, y, "
                "X_val=..., y_val=...), set early_stopping=True (which holds out "
                "validation_fraction of the data) or use monitor='loss'."
            )
        if (monitor != LOSS and not monitor.startswith("val_")
                and scoring.direction(monitor) == "max" and not record_train_score):
            raise ValueError(
                f"{name}(monitor={monitor!r}) watches a metric of the training data, "
                "recorded with record_train_score=True only."
            )
        resolve = getattr(schedule, "_resolve_mode", None)
        if resolve is not None:
            resolve(scoring.direction)  # raises if mode='auto' cannot tell
