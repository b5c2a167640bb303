"""Multilayer perceptrons trained by the Cython kernels of ``_mlp_fast``.

The estimators are drop-ins for scikit-learn's ``MLPClassifier`` and
``MLPRegressor``: same parameters, fitted attributes and trajectory (same
initialisation, validation split, shuffling, batch order and update order).
Python validates, draws the epoch's permutation, evaluates the schedules into
per-step arrays and crosses into Cython once per epoch.
"""

import time
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import (
    check_array,
    check_consistent_length,
    check_random_state,
    column_or_1d,
    gen_batches,
)
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from sklr import _mlp_fast
from sklr._callbacks import _CallbackSupport, current_callbacks, fit_callbacks
from sklr._compat import (
    ACTIVATIONS,
    LOSS_FUNCTIONS,
    Interval,
    Options,
    StrOptions,
    _check_optimize_result,
    _check_partial_fit_first_call,
    _check_sample_weight,
    _fit_context,
    _get_additional_lbfgs_options_dict,
)
from sklr._openmp_helpers import _openmp_effective_n_threads
from sklr._threads import blas_single_threaded
from sklr.optimizers import (
    LBFGS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    NAdam,
    Optimizer,
    RMSprop,
)
from sklr.schedules import Adaptive, Schedule, StepPositions, _check_schedule

_SOLVER_STRINGS = {
    "lbfgs", "sgd", "adam", "adagrad", "adadelta", "rmsprop", "adamw", "nadam", "adamax",
}

# Codes shared with _mlp_fast.pyx.
_ACTIVATION_CODES = {
    "identity": 0,
    "logistic": 1,
    "tanh": 2,
    "relu": 3,
    "softmax": 4,
    "exp": 5,
}
_LOSS_CODES = {"squared_error": 0, "poisson": 1, "log_loss": 2, "binary_log_loss": 3}

_HISTORY_KEYS = ("loss", "learning_rate", "momentum", "time")
_VALIDATION_KEYS = ("val_loss", "val_score")


# scikit-learn's own message, first, so that code matching it keeps working.
_NON_FINITE_MESSAGE = (
    "Solver produced non-finite parameter weights. The input data may"
    " contain large values and need to be preprocessed."
)


class _DivergenceError(ValueError):
    """Raised when an epoch produced a non-finite loss or weights.

    ``epoch`` (1-based, within the fit) and ``where`` (in the epoch) when known.
    """

    def __init__(self, message, epoch=None, where=None):
        super().__init__(message)
        self.epoch = epoch
        self.where = where


def _layer_views(flat, layer_units):
    """Coefficient and intercept views into a flat buffer in sklearn's pack order."""
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        end = start + fan_in * fan_out
        coefs.append(flat[start:end].reshape(fan_in, fan_out))
        start = end
    for fan_out in layer_units[1:]:
        end = start + fan_out
        intercepts.append(flat[start:end])
        start = end
    return coefs, intercepts


class BaseMultilayerPerceptron(_CallbackSupport, BaseEstimator, ABC):
    """Base class for MLP classification and regression.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions(_SOLVER_STRINGS), Optimizer],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"}), Schedule],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both"), Schedule],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "layer_lr_decay": [Interval(Real, 0, None, closed="neither")],
        "record_train_score": ["boolean"],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        l1,
        weight_decay,
        max_norm,
        input_dropout,
        dropout,
        layer_lr_decay,
        record_train_score,
    ):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.l1 = l1
        self.weight_decay = weight_decay
        self.max_norm = max_norm
        self.input_dropout = input_dropout
        self.dropout = dropout
        self.layer_lr_decay = layer_lr_decay
        self.record_train_score = record_train_score

    # ------------------------------------------------------------------
    # Parameters: the flat buffer and its views
    # ------------------------------------------------------------------

    def _set_flat_params(self, flat):
        """Make ``flat`` the parameter buffer; coefs_/intercepts_ become views."""
        self._params = flat
        self.coefs_, self.intercepts_ = _layer_views(flat, self._layer_units)

    # Drop-in: coefs_/intercepts_ are the truth. They may be reassigned (or
    # set by hand on an unfitted estimator, as scikit-learn's own tests do);
    # the flat buffer is then stale and is re-packed from them (and
    # _layer_units re-derived) before any use. In-place edits of the views
    # write to the buffer and need nothing.

    def _params_in_sync(self):
        """Whether coefs_/intercepts_ are exactly the views ``_set_flat_params`` made.

        Same buffer is not enough (a reordered or strided view of it is not
        in sync): shape, strides and start address must match.
        """
        flat = self.__dict__.get("_params")
        units = self.__dict__.get("_layer_units")
        coefs = self.__dict__.get("coefs_")
        intercepts = self.__dict__.get("intercepts_")
        if flat is None or units is None or coefs is None or intercepts is None:
            return False
        expected_coefs, expected_intercepts = _layer_views(flat, units)
        if len(coefs) != len(expected_coefs) or len(intercepts) != len(expected_intercepts):
            return False
        pairs = zip(list(coefs) + list(intercepts), expected_coefs + expected_intercepts)
        return all(
            isinstance(v, np.ndarray) and v.base is flat and v.dtype == e.dtype
            and v.shape == e.shape and v.strides == e.strides
            and v.ctypes.data == e.ctypes.data
            for v, e in pairs
        )

    def _flat_params(self):
        """The flat buffer, re-packed if coefs_/intercepts_ were reassigned or set by hand."""
        if not self._params_in_sync():
            coefs = [np.asarray(c) for c in self.coefs_]
            intercepts = [np.asarray(b) for b in self.intercepts_]
            well_formed = (
                coefs and len(intercepts) == len(coefs)
                and all(c.ndim == 2 for c in coefs) and all(b.ndim == 1 for b in intercepts)
            )
            units = [coefs[0].shape[0]] + [c.shape[1] for c in coefs] if well_formed else []
            if not well_formed or (
                [c.shape[0] for c in coefs[1:]] != units[1:-1]
                or [b.shape[0] for b in intercepts] != units[1:]
            ):
                raise ValueError(
                    "coefs_ and intercepts_ do not form a network: expected one 2-D "
                    "coefs_[i] of shape (n_units[i], n_units[i + 1]) and one 1-D "
                    "intercepts_[i] of shape (n_units[i + 1],) per layer, got shapes "
                    f"{[c.shape for c in coefs]} and {[b.shape for b in intercepts]}."
                )
            # The model's dtype if it has one, else the weights' (float32 or 64).
            old = self.__dict__.get("_params")
            dtype = old.dtype if old is not None else np.result_type(*coefs, *intercepts)
            if dtype not in (np.float32, np.float64):
                dtype = np.float64
            self._layer_units = np.asarray(units, dtype=np.intp)
            flat = np.concatenate([v.ravel() for v in coefs + intercepts]).astype(dtype)
            self._set_flat_params(flat)
        return self._params

    def __getstate__(self):
        state = super().__getstate__()
        if "_params" in state:
            state = dict(state)
            if self._params_in_sync():
                # coefs_/intercepts_ are rebuilt as views on unpickling.
                state.pop("coefs_", None)
                state.pop("intercepts_", None)
            else:
                # Reassigned coefs_/intercepts_ are the weights; the buffer is
                # stale (re-packed from them at the next fit).
                state.pop("_params")
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_params" in state:
            self._set_flat_params(self._params)

    # ------------------------------------------------------------------
    # Forward pass for prediction (NumPy, as scikit-learn)
    # ------------------------------------------------------------------

    def _forward_pass_fast(self, X, check_input=True):
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        activation = X
        hidden_activation = ACTIVATIONS[self.activation]
        for i in range(self.n_layers_ - 1):
            activation = safe_sparse_dot(activation, self.coefs_[i])
            activation += self.intercepts_[i]
            if i != self.n_layers_ - 2:
                hidden_activation(activation)
        ACTIVATIONS[self.out_activation_](activation)
        return activation

    def _objective(self, X, y, sample_weight, y_pred=None):
        """The training objective (data loss + L2 term) on (X, y), as a float.

        ``y_pred``: the network's output on X when already computed.
        """
        if y_pred is None:
            y_pred = self._forward_pass_fast(X, check_input=False)
        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        loss = LOSS_FUNCTIONS[loss_name](y, y_pred, sample_weight)
        sq = sum(np.dot(c.ravel(), c.ravel()) for c in self.coefs_)
        sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        penalty = (0.5 * self.alpha) * sq
        if self.l1 > 0:
            penalty += self.l1 * sum(np.abs(c).sum() for c in self.coefs_)
        return float(loss + penalty / sw_sum)

    # ------------------------------------------------------------------
    # Initialisation
    # ------------------------------------------------------------------

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self._layer_units = np.asarray(layer_units, dtype=np.intp)

        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        # Glorot uniform, drawn layer after layer exactly as scikit-learn.
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(self._random_state.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(self._random_state.uniform(-bound, bound, fan_out))
        flat = np.concatenate([c.ravel() for c in coefs + intercepts]).astype(dtype)
        self._set_flat_params(flat)
        self._best_params = flat.copy()

        # Global counters that schedules are indexed by.
        self._n_updates = 0
        self._n_epochs = 0
        self._history = {}
        self._opt_state = None
        self._plateau_states = None
        self.lr_finder_ = None
        self.learning_rate_init_ = (
            None if self.learning_rate_init == "auto" else float(self.learning_rate_init)
        )

        if self._optimizer()._is_stochastic:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _optimizer(self):
        """The optimizer object: ``solver`` itself, or the one a string names.

        String solvers read the top-level knobs (scikit-learn's meaning):
        'sgd' its ``momentum`` and ``nesterovs_momentum``, the Adam family
        ('adam', 'adamw', 'nadam', 'adamax') ``beta_1``, ``beta_2`` and
        ``epsilon`` ('adamw' also ``weight_decay`` when it is > 0, else
        AdamW's 0.01); 'rmsprop', 'adagrad' and 'adadelta' use their classes'
        defaults (pass an object to change them).
        """
        solver = self.solver
        if isinstance(solver, Optimizer):
            return solver
        momentum = 0.0 if isinstance(self.momentum, Schedule) else self.momentum
        adam_family = dict(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        factories = {
            "lbfgs": lambda: LBFGS(),
            "sgd": lambda: SGD(momentum=momentum, nesterov=self.nesterovs_momentum),
            "adam": lambda: Adam(**adam_family),
            "adamw": lambda: AdamW(**adam_family, **(
                {"weight_decay": self.weight_decay} if self.weight_decay > 0 else {})),
            "nadam": lambda: NAdam(**adam_family),
            "adamax": lambda: Adamax(**adam_family),
            "rmsprop": lambda: RMSprop(),
            "adagrad": lambda: Adagrad(),
            "adadelta": lambda: Adadelta(),
        }
        return factories[solver]()

    def _new_optimizer_state(self):
        """Fresh optimizer state (scikit-learn builds a new optimizer per fit)."""
        opt = self._optimizer()
        state = opt.init_state(self._params)
        state["lr"] = opt._learning_rate(self.learning_rate_init_)
        return state

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------

    def _validate_hyperparameters(self, incremental, has_validation=False):
        """Checks beyond ``_parameter_constraints``: nested objects and combinations."""
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(
                "hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes
            )
        if isinstance(self.learning_rate, Schedule):
            _check_schedule(self.learning_rate, "learning_rate")
        if isinstance(self.momentum, Schedule):
            _check_schedule(self.momentum, "momentum")
            if self.momentum._feedback_schedules():
                raise ValueError(
                    "momentum cannot be a feedback schedule (Adaptive, ReduceOnPlateau); "
                    "use them as learning_rate."
                )
        if isinstance(self.learning_rate, Schedule):
            for plateau in self._plateaus():
                if plateau.monitor != "loss" and not (self.early_stopping or has_validation):
                    raise ValueError(
                        f"{type(plateau).__name__}(monitor={plateau.monitor!r}) needs "
                        "validation data: pass fit(X, y, X_val=..., y_val=...), set "
                        "early_stopping=True (which holds out validation_fraction of "
                        "the data) or use monitor='loss'."
                    )
        if isinstance(self.solver, Optimizer):
            self.solver._validate_params()
        rates = np.atleast_1d(np.asarray(self.dropout, dtype=np.float64))
        if rates.ndim != 1 or rates.size not in (1, len(hidden_layer_sizes)):
            raise ValueError(
                "dropout must be a float or one rate per hidden layer "
                f"({len(hidden_layer_sizes)}), got {self.dropout!r}."
            )
        if np.any(~np.isfinite(rates)) or np.any(rates < 0) or np.any(rates >= 1):
            raise ValueError(f"dropout rates must be in [0, 1), got {self.dropout!r}.")
        if not self._optimizer()._is_stochastic:
            unsupported = [
                name for name, value, default in [
                    ("weight_decay", self.weight_decay, 0.0),
                    ("max_norm", self.max_norm, None),
                    ("input_dropout", self.input_dropout, 0.0),
                    ("dropout", float(np.max(rates)), 0.0),
                    ("layer_lr_decay", self.layer_lr_decay, 1.0),
                ] if value != default
            ]
            if unsupported:
                raise ValueError(
                    f"{', '.join(unsupported)} need a stochastic solver; solver='lbfgs' "
                    "supports alpha and l1 only."
                )
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.early_stopping and self.validation_fraction == 0 and not has_validation:
            raise ValueError(
                "early_stopping=True needs a validation set: validation_fraction "
                "must be > 0, got 0."
            )
        return hidden_layer_sizes

    def _callback_max_subtasks(self):
        """Epoch tasks a fit may open: max_iter (L-BFGS: one more, never run)."""
        return self.max_iter + (0 if self._optimizer()._is_stochastic else 1)

    def _callback_fitted_attributes(self, flat=None, loss=None, n_iter=None):
        """Fitted attributes of the model as if fit stopped now (for callbacks).

        ``flat``: the weights (L-BFGS's iterate); default the current ones, or
        the best ones with early_stopping, which fit would end with.
        """
        if flat is None:
            flat = self._best_params if self.early_stopping else self._params
        flat = np.array(flat, dtype=self._params.dtype)
        coefs, intercepts = _layer_views(flat, self._layer_units)
        attrs = {"_params": flat, "coefs_": coefs, "intercepts_": intercepts,
                 "n_iter_": self.n_iter_ if n_iter is None else n_iter}
        if loss is not None:
            attrs["loss_"] = loss
        return attrs

    def _fit(self, X, y, sample_weight=None, incremental=False, saved=None, validation=None):
        """Fit; on error put the estimator back as it was (``saved``, or now).

        A diverging ``fit`` is the exception: it keeps its last finite epochs.
        """
        if saved is None:
            saved = self._snapshot()
        try:
            return self._fit_unsafe(X, y, sample_weight, incremental, validation)
        except _DivergenceError:
            if incremental:
                self._restore(saved)
            else:
                # fit keeps its last finite epochs; the record must match them.
                self._publish_history()
            raise
        except BaseException:
            self._restore(saved)
            raise

    def _snapshot(self):
        """Everything needed to put the estimator back as it was."""
        state = dict(self.__dict__)
        arrays = {}
        # A stale buffer (coefs_/intercepts_ reassigned) is not saved: restoring
        # the dict restores the assigned arrays themselves.
        if "_params" in state and self._params_in_sync():
            arrays["_params"] = self._params.copy()
        if state.get("_opt_state"):
            arrays["_opt_state"] = {k: np.copy(v) for k, v in self._opt_state.items()}
        hist = state.get("_history")
        if hist is not None:
            state["_history"] = {k: list(v) for k, v in hist.items()}
        for key in ("loss_curve_", "validation_scores_"):
            if isinstance(state.get(key), list):
                state[key] = list(state[key])
        return state, arrays

    def _restore(self, saved):
        state, arrays = saved
        self.__dict__.clear()
        self.__dict__.update(state)
        if "_params" in arrays:
            self._params[...] = arrays["_params"]
            self._set_flat_params(self._params)
        if "_opt_state" in arrays:
            for k, v in arrays["_opt_state"].items():
                if isinstance(self._opt_state[k], np.ndarray):
                    self._opt_state[k][...] = v
                else:
                    self._opt_state[k] = v.item() if np.ndim(v) == 0 else v

    def _fit_unsafe(self, X, y, sample_weight, incremental, validation=None):
        X, y, sample_weight, val = self._prepare_fit(
            X, y, sample_weight, incremental, validation
        )
        # The kernels parallelise with OpenMP and call BLAS from inside their
        # threads: BLAS must not add threads of its own.
        with blas_single_threaded():
            if self._optimizer()._is_stochastic:
                self._fit_stochastic(X, y, sample_weight, incremental, val)
            else:
                self._fit_lbfgs(X, y, sample_weight, val)

        if not np.isfinite(self._params).all():
            raise _DivergenceError(_NON_FINITE_MESSAGE)
        self._publish_history()
        return self

    def _prepare_fit(self, X, y, sample_weight, incremental, validation=None):
        """Validate everything and (first pass) draw the initial weights.

        Returns the training arrays (y in the kernels' 2-D layout) and the
        validated validation data (or None).
        """
        has_validation = validation is not None and validation[0] is not None
        hidden_layer_sizes = self._validate_hyperparameters(incremental, has_validation)
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        if not first_pass:
            self._complete_fitted_state()
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        if not first_pass:
            expected = [n_features] + hidden_layer_sizes + [self.n_outputs_]
            if y.shape[1] != self.n_outputs_ or list(self._layer_units) != expected:
                raise ValueError(
                    "The network was fitted with layer sizes %s; the data and "
                    "hidden_layer_sizes now give %s. Set warm_start=False (or call "
                    "fit instead of partial_fit) to start afresh."
                    % (list(map(int, self._layer_units)), [n_features]
                       + hidden_layer_sizes + [y.shape[1]])
                )
            if self.coefs_[0].dtype != X.dtype:
                X = X.astype(self.coefs_[0].dtype)
                if sample_weight is not None:
                    sample_weight = sample_weight.astype(X.dtype)

        self.n_outputs_ = y.shape[1]
        val = self._validate_validation_data(*validation, X.dtype) if has_validation else None
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        self._flat_params()
        return X, y, sample_weight, val

    def _complete_fitted_state(self):
        """Derive the private state a continued fit needs from the public attributes.

        Drop-in: scikit-learn continues training (partial_fit, warm_start)
        from hand-set ``coefs_``/``intercepts_`` and fitted attributes; its
        own tests do. Re-packs the flat buffer (and ``_layer_units``) from
        coefs_/intercepts_ when stale, then fills in only what is missing,
        as ``_initialize`` would have set it or as the public attributes
        imply (counters from ``loss_curve_``/``t_``, history from
        ``loss_curve_``/``validation_scores_``, a fresh optimizer state).
        """
        self._flat_params()
        units = self._layer_units
        d = self.__dict__
        self.n_layers_ = len(units)
        d.setdefault("n_outputs_", int(units[-1]))
        if is_classifier(self) and "_label_binarizer" not in d and "classes_" in d:
            if self.__dict__.get("out_activation_") == "logistic" and units[-1] > 1:
                targets = np.eye(int(units[-1]), dtype=int)  # multilabel indicator
            else:
                targets = self.classes_
            self._label_binarizer = LabelBinarizer().fit(targets)
        if "out_activation_" not in d:
            if not is_classifier(self):
                self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
            elif self._label_binarizer.y_type_ == "multiclass":
                self.out_activation_ = "softmax"
            else:
                self.out_activation_ = "logistic"
        d.setdefault("n_iter_", 0)
        d.setdefault("t_", 0)
        best = d.get("_best_params")
        if best is None or best.shape != self._params.shape or best.dtype != self._params.dtype:
            self._best_params = self._params.copy()
        opt_state = d.get("_opt_state")
        if opt_state and any(
            opt_state[k].dtype != self._params.dtype
            or opt_state[k].size not in (0, self._params.size)
            for k in ("state_1", "state_2", "state_3")
        ):
            opt_state = None  # made for other weights: start a fresh one
        self._opt_state = opt_state
        d.setdefault("_plateau_states", None)
        d.setdefault("lr_finder_", None)
        if "learning_rate_init_" not in d:
            self.learning_rate_init_ = (
                None if self.learning_rate_init == "auto" else float(self.learning_rate_init)
            )
        if self._optimizer()._is_stochastic:
            d.setdefault("loss_curve_", [])
            d.setdefault("_no_improvement_count", 0)
            if self.early_stopping:
                d.setdefault("validation_scores_", [])
                if "best_validation_score_" not in d:
                    scores = [v for v in self.validation_scores_ or [] if np.isfinite(v)]
                    self.best_validation_score_ = max(scores, default=-np.inf)
                d.setdefault("best_loss_", None)
            else:
                if "best_loss_" not in d:
                    losses = [v for v in self.loss_curve_ if np.isfinite(v)]
                    self.best_loss_ = min(losses, default=np.inf)
                d.setdefault("validation_scores_", None)
                d.setdefault("best_validation_score_", None)
        losses = list(d.get("loss_curve_") or [])
        if "_n_epochs" not in d:
            self._n_epochs = len(losses)
        if "_n_updates" not in d:
            # Updates per epoch from the samples per epoch (exact when every
            # epoch saw the same number of samples).
            per_epoch = self.t_ // self._n_epochs if self._n_epochs else 0
            batch = 200 if self.batch_size == "auto" else self.batch_size
            steps = -(-per_epoch // max(1, min(batch, per_epoch))) if per_epoch else 0
            self._n_updates = steps * self._n_epochs
        if "_history" not in d:
            nan = [np.nan] * len(losses)
            self._history = {"loss": losses, "learning_rate": nan, "momentum": list(nan),
                             "time": list(nan)}
            scores = d.get("validation_scores_")
            if scores is not None and len(scores) == len(losses):
                self._history.update(val_score=list(scores), val_loss=list(nan))

    def _range_test(self, X, y, sample_weight, **settings):
        """The learning-rate range test from the current weights (not modified).

        Draws one seed from ``_random_state`` for its minibatch order, so
        ``find_learning_rate`` and ``fit`` with 'auto' run the same test.
        """
        from sklr._lr_finder import _DEFAULTS, _range_test

        settings = {**_DEFAULTS, **settings}
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        step = self._minibatch_stepper(X, y, sample_weight, seed, settings["num"])
        return _range_test(step, **settings)

    def _find_learning_rate(self, X, y, sample_weight):
        """learning_rate_init='auto': run the range test, keep its suggestion."""
        result = self._range_test(X, y, sample_weight)
        if not np.isfinite(result.suggestion):
            raise ValueError(
                "learning_rate_init='auto': the learning-rate range test found no "
                "suggestion (the loss did not decrease over its rates); pass a float "
                "or run sklr.find_learning_rate and inspect its plot."
            )
        self.lr_finder_ = result
        self.learning_rate_init_ = float(result.suggestion)
        if self.verbose:
            print("learning_rate_init='auto': the range test suggests %.6g" % result.suggestion)

    def _minibatch_stepper(self, X, y, sample_weight, random_state, num):
        """One minibatch update at a time on a private copy of the weights.

        For the learning-rate range test: returns ``step(learning_rate)``
        which trains a copy of the current weights with a fresh optimizer
        state on the next minibatch (reshuffled every pass over the data,
        as ``fit`` does), through the same kernel as ``fit``, and returns
        that minibatch's loss before the update (NaN once non-finite).
        The estimator itself is not modified. Must run with BLAS
        single-threaded.
        """
        opt = self._optimizer()
        if not opt._is_stochastic:
            raise ValueError(
                "The learning-rate range test needs a stochastic solver, got "
                f"solver={self.solver!r}."
            )
        params = self._params.copy()
        state = opt.init_state(params)
        arrays = [state[k] for k in ("state_1", "state_2", "state_3", "scalars")]
        dense, csr, is_sparse, Y, sw = self._kernel_inputs(X, y, sample_weight)
        n_samples = Y.shape[0]
        batch_size = self._resolved_batch_size(n_samples)
        batches = list(gen_batches(n_samples, batch_size))
        if isinstance(self.momentum, Schedule):
            n_epochs = -(-num // len(batches))
            positions = StepPositions.grid(n_epochs, len(batches), batch_size)
            momenta = self.momentum.values(positions)[:num]
        else:
            momenta = np.full(num, opt._momentum())
        hidden, out, loss_code = self._codes()
        config = self._kernel_config(opt)
        reg = self._reg_array()
        n_threads = _openmp_effective_n_threads()
        rng = check_random_state(random_state)
        dropout_on = self._uses_dropout()
        queue = []
        done = [0]

        def step(learning_rate):
            if not queue:
                perm = rng.permutation(n_samples).astype(np.intp)
                queue.extend(perm[b] for b in batches)
            idx = queue.pop(0)
            k = done[0]
            done[0] += 1
            seed = int(rng.randint(2**63, dtype=np.uint64)) if dropout_on else 0
            loss_sum, _, flag = _mlp_fast.train_epoch(
                dense, *csr, is_sparse, Y, sw, idx, idx.shape[0], params, *arrays,
                config, self._layer_units, hidden, out, loss_code, float(self.alpha),
                reg, seed, np.array([learning_rate], dtype=np.float64),
                np.array([momenta[min(k, num - 1)]], dtype=np.float64), n_threads,
            )
            if flag or not np.isfinite(loss_sum):
                return np.nan
            return loss_sum / idx.shape[0]

        return step

    def _publish_history(self):
        self.history_ = {k: np.asarray(v, dtype=np.float64) for k, v in self._history.items()}

    def _kernel_inputs(self, X, y, sample_weight):
        """Arrays in the layout the kernels take."""
        dtype = self._params.dtype
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=dtype)
            dense = np.empty((0, 0), dtype=dtype)
            csr = (
                np.ascontiguousarray(X.data, dtype=dtype),
                np.ascontiguousarray(X.indices, dtype=np.intp),
                np.ascontiguousarray(X.indptr, dtype=np.intp),
            )
            is_sparse = True
        else:
            dense = np.ascontiguousarray(X, dtype=dtype)
            csr = (
                np.empty(0, dtype=dtype),
                np.empty(0, dtype=np.intp),
                np.zeros(1, dtype=np.intp),
            )
            is_sparse = False
        Y = np.ascontiguousarray(y, dtype=dtype)
        sw = (
            np.empty(0, dtype=dtype)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, dtype=dtype)
        )
        return dense, csr, is_sparse, Y, sw

    def _codes(self):
        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        return (
            _ACTIVATION_CODES[self.activation],
            _ACTIVATION_CODES[self.out_activation_],
            _LOSS_CODES[loss_name],
        )

    def _reg_array(self):
        """The kernels' regularisation array (see _mlp_fast.reg_array)."""
        n_hidden = self.n_layers_ - 2
        rates = np.broadcast_to(np.asarray(self.dropout, dtype=np.float64), (n_hidden,))
        return _mlp_fast.reg_array(
            self.n_layers_, l1=self.l1, max_norm=self.max_norm,
            layer_lr_decay=self.layer_lr_decay,
            dropout=np.concatenate([[self.input_dropout], rates]),
        )

    def _uses_dropout(self):
        return self.input_dropout > 0 or np.any(np.asarray(self.dropout) > 0)

    def _kernel_config(self, opt):
        """The optimizer's config; ``weight_decay`` applies unless the optimizer has its own."""
        config = opt._config()
        if self.weight_decay > 0 and not isinstance(opt, AdamW):
            config[_mlp_fast.CONFIG_FIELDS.index("weight_decay")] = self.weight_decay
        return config

    def _fit_lbfgs(self, X, y, sample_weight, val=None):
        dense, csr, is_sparse, Y, sw = self._kernel_inputs(X, y, sample_weight)
        hidden, out, loss = self._codes()
        n_threads = _openmp_effective_n_threads()
        params = self._params
        grad = np.empty_like(params)
        reg = self._reg_array()

        def fun(x):
            params[...] = x
            value = _mlp_fast.loss_grad(
                dense, *csr, is_sparse, Y, sw, params, grad, self._layer_units,
                hidden, out, loss, float(self.alpha), reg, n_threads,
            )
            return value, grad.astype(np.float64)

        iprint = 1 if (self.verbose is True or self.verbose >= 1) else -1
        losses, times = [], []
        t0 = [time.perf_counter()]

        val_metrics, train_scores = [], []
        train_labels = self._decode_targets(y) if self.record_train_score else None

        callbacks = current_callbacks(self)

        def callback(intermediate_result):
            now = time.perf_counter()
            losses.append(float(intermediate_result.fun))
            if val is not None or train_labels is not None:
                params[...] = intermediate_result.x
            if val is not None:
                val_metrics.append(self._validation_metrics(val))
            if train_labels is not None:
                train_scores.append(self._history_score(X, train_labels, sample_weight))
            times.append(now - t0[0])
            callbacks.lbfgs_step(lambda: self._callback_fitted_attributes(
                intermediate_result.x, loss=float(intermediate_result.fun), n_iter=len(losses)))
            t0[0] = time.perf_counter()

        callbacks.begin_epoch("iteration")  # scipy reports iterations at their end

        opt_res = scipy.optimize.minimize(
            fun,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_get_additional_lbfgs_options_dict("iprint", iprint),
            },
        )
        if callbacks.lbfgs_stopped:  # a callback ended it: no ConvergenceWarning
            self.n_iter_ = min(opt_res.nit, self.max_iter)
        else:
            self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        self.loss_ = opt_res.fun
        params[...] = opt_res.x
        # warm_start refits append, as the stochastic solvers do.
        nan = [np.nan] * len(losses)
        record = {"loss": losses, "learning_rate": nan, "momentum": nan, "time": times}
        if val is not None:
            record["val_score"] = [score for score, _ in val_metrics]
            record["val_loss"] = [loss for _, loss in val_metrics]
        if train_labels is not None:
            record["score"] = train_scores
        history = self._history
        n_recorded = len(history.get("loss", ()))
        for key in record:
            history.setdefault(key, [np.nan] * n_recorded)
        for key, values in history.items():
            values.extend(record.get(key, nan))

    def _validate_validation_data(self, X_val, y_val, sample_weight_val, dtype):
        """``fit``'s X_val/y_val/sample_weight_val in the training layout.

        Returns ``(X_val, Y_val, y_val_labels, sample_weight_val)``: the
        kernels' target layout (binarized labels for the classifier) and the
        targets ``score`` takes.
        """
        if y_val is None:
            raise ValueError("X_val was given without y_val: pass both or neither.")
        X_val = validate_data(
            self, X_val, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32),
            reset=False,
        )
        X_val = X_val.astype(dtype, copy=False)
        y_labels = self._validate_validation_targets(y_val, X_val)
        Y_val = self._encode_targets(y_labels)
        if Y_val.ndim == 1:
            Y_val = Y_val.reshape(-1, 1)
        if Y_val.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {Y_val.shape[1]} outputs; the training targets have "
                f"{self.n_outputs_}."
            )
        if X_val.shape[0] < 1:
            raise ValueError("The validation set X_val is empty.")
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=dtype, ensure_non_negative=True
            )
        return X_val, Y_val, y_labels, sample_weight_val

    def _validation_metrics(self, val):
        """(score, loss) of the current weights on the validation set.

        One forward pass for both, and the score computed as ``score`` does
        but without re-validating arrays that were validated once per fit
        (scikit-learn's metric checks cost more than the pass itself on
        small data).
        """
        X_val, y_val, y_val_labels, sw_val = val
        out = self._forward_pass_fast(X_val, check_input=False)
        return (
            self._score_output(out, y_val_labels, sw_val),
            self._objective(X_val, y_val, sw_val, y_pred=out),
        )

    def _history_score(self, X, y_labels, sample_weight):
        """``score`` on validated arrays (the per-epoch training score)."""
        out = self._forward_pass_fast(X, check_input=False)
        return self._score_output(out, y_labels, sample_weight)

    def _split_validation(self, X, y, sample_weight):
        """scikit-learn's early-stopping split, same random draws."""
        should_stratify = is_classifier(self) and self.n_outputs_ == 1
        stratify = y if should_stratify else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = parts[:4]
        sw_train, sw_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return X_train, y_train, sw_train, (X_val, y_val, self._decode_targets(y_val), sw_val)

    def _decode_targets(self, Y):
        """Targets as ``score`` takes them, from the kernels' layout."""
        return self._label_binarizer.inverse_transform(Y) if is_classifier(self) else Y

    def _resolved_batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _is_adaptive(self):
        """scikit-learn's 'adaptive' rule (the string with 'sgd', or Adaptive())."""
        if isinstance(self.learning_rate, Schedule):
            return any(isinstance(f, Adaptive) for f in self.learning_rate._feedback_schedules())
        return self.learning_rate == "adaptive" and isinstance(self._optimizer(), SGD)

    def _plateaus(self):
        """The learning rate's plateau-style feedback schedules (with update())."""
        if not isinstance(self.learning_rate, Schedule):
            return []
        return [f for f in self.learning_rate._feedback_schedules() if hasattr(f, "update")]

    def _plateau_scale(self):
        states = getattr(self, "_plateau_states", None) or []
        return float(np.prod([st["scale"] for st in states])) if states else 1.0

    def _update_plateaus(self, monitored):
        """After an epoch: feed each plateau schedule its monitored value (pure update)."""
        plateaus = self._plateaus()
        if len(getattr(self, "_plateau_states", None) or []) != len(plateaus):
            self._plateau_states = [p.init_state() for p in plateaus]
        self._plateau_states = [
            p._update(st, monitored[p.monitor]) for p, st in zip(plateaus, self._plateau_states)
        ]

    def _epoch_rates(self, batch_sizes, opt):
        """Learning rate and momentum (or Adam's beta_1) of each update.

        Schedules are indexed by the global update, epoch and sample counters,
        so partial_fit and warm_start continue them where they stopped.
        """
        n_steps = len(batch_sizes)
        base = self._opt_state["lr"]
        positions = None
        if isinstance(self.learning_rate, Schedule) or isinstance(self.momentum, Schedule):
            positions = StepPositions._for_epoch(
                self._n_updates, self._n_epochs, self.t_, batch_sizes
            )
        if isinstance(self.learning_rate, Schedule):
            # Validated once per fit (_validate_hyperparameters): evaluate only.
            lr = base * self._plateau_scale() * self.learning_rate._evaluate(positions)
            if not np.all(np.isfinite(lr)) or np.any(lr < 0):
                raise ValueError("The learning-rate schedule gave negative or non-finite rates.")
        else:
            lr = np.full(n_steps, base)
        if isinstance(self.momentum, Schedule):
            mu = self.momentum._evaluate(positions)
            upper = 1.0 if isinstance(opt, (SGD, RMSprop)) else np.nextafter(1, 0)
            if not np.all((mu >= 0) & (mu <= upper)):
                raise ValueError(
                    "The momentum schedule gave values outside [0, 1] (or beta_1 >= 1 "
                    f"for {type(opt).__name__}): min {mu.min()}, max {mu.max()}."
                )
        else:
            mu = np.full(n_steps, opt._momentum())
        return (np.ascontiguousarray(lr, dtype=np.float64),
                np.ascontiguousarray(mu, dtype=np.float64))

    def _after_epoch_rate(self, opt):
        """scikit-learn's 'invscaling' string: the rate changes at epoch ends."""
        if (
            not isinstance(self.learning_rate, Schedule)
            and self.learning_rate == "invscaling"
            and isinstance(opt, SGD)
        ):
            self._opt_state["lr"] = (
                float(self.learning_rate_init_) / (self.t_ + 1) ** self.power_t
            )

    def _trigger_stopping(self, msg):
        """Stop, or (adaptive rate) divide the rate by 5 and go on."""
        if not self._is_adaptive():
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if self._opt_state["lr"] <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._opt_state["lr"] /= 5.0
        if self.verbose:
            print(msg + " Setting learning rate to %f" % self._opt_state["lr"])
        return False

    def _fit_stochastic(self, X, y, sample_weight, incremental, val=None):
        if self.early_stopping and val is None:
            X_train, y_train, sw_train, val = self._split_validation(X, y, sample_weight)
        else:
            X_train, y_train, sw_train = X, y, sample_weight

        if self.learning_rate_init != "auto":
            self.learning_rate_init_ = float(self.learning_rate_init)
        elif getattr(self, "lr_finder_", None) is None:
            self._find_learning_rate(X_train, y_train, sw_train)
        # String solvers start a new optimizer at each fit, as scikit-learn
        # does; an optimizer object keeps its state across warm_start refits.
        if self._opt_state is None or (not incremental and isinstance(self.solver, str)):
            self._opt_state = self._new_optimizer_state()
        train_labels = self._decode_targets(y_train) if self.record_train_score else None

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        batch_size = self._resolved_batch_size(n_samples)
        batch_sizes = np.array(
            [s.stop - s.start for s in gen_batches(n_samples, batch_size)], dtype=np.intp
        )
        dense, csr, is_sparse, Y, sw = self._kernel_inputs(X_train, y_train, sw_train)
        hidden, out, loss_code = self._codes()
        n_threads = _openmp_effective_n_threads()
        opt = self._optimizer()
        config = self._kernel_config(opt)
        reg = self._reg_array()
        dropout_on = self._uses_dropout()
        history = self._history
        keys = _HISTORY_KEYS + (_VALIDATION_KEYS if val is not None else ())
        keys += ("score",) if self.record_train_score else ()
        # Every key has one entry per epoch: a key new to this call (a first
        # warm-start refit with X_val, say) is NaN for the earlier epochs.
        n_recorded = len(history.get("loss", ()))
        for key in keys:
            history.setdefault(key, [np.nan] * n_recorded)

        callbacks = current_callbacks(self)
        # Best validation score of this call and its weights (X_val without
        # early_stopping): restored if training diverges.
        best_val = [-np.inf, self._params.copy()] if val is not None else None
        try:
            self.n_iter_ = 0
            for it in range(self.max_iter):
                callbacks.begin_epoch()
                tic = time.perf_counter()
                if self.shuffle:
                    # sklearn.utils.shuffle(sample_idx, random_state=...) draws
                    # exactly this (a shuffled arange, then indexing), without
                    # its ~0.1 ms of validation per epoch.
                    perm = np.arange(n_samples)
                    self._random_state.shuffle(perm)
                    sample_idx = sample_idx[perm]
                lr_steps, mu_steps = self._epoch_rates(batch_sizes, opt)
                # Dropout draws its seed from random_state only when it is on,
                # so scikit-learn's random stream is untouched otherwise.
                seed = int(self._random_state.randint(2**63, dtype=np.uint64)) if dropout_on else 0
                try:
                    self._run_kernel_epoch(
                        dense, csr, is_sparse, Y, sw, sample_idx, batch_size,
                        hidden, out, loss_code, config, reg, seed, lr_steps, mu_steps,
                        n_threads,
                    )
                except _DivergenceError as exc:
                    if val is None:
                        raise
                    self._stop_diverged(exc, n_samples, len(batch_sizes), lr_steps, mu_steps,
                                        tic, best_val)
                    break
                self.n_iter_ += 1
                self.t_ += n_samples
                self._n_epochs += 1
                self._n_updates += len(batch_sizes)
                self.loss_curve_.append(self.loss_)
                record = {
                    "loss": self.loss_,
                    "learning_rate": lr_steps[-1],
                    "momentum": mu_steps[-1],
                }
                if val is not None:
                    record["val_score"], record["val_loss"] = self._validation_metrics(val)
                if train_labels is not None:
                    record["score"] = self._history_score(X_train, train_labels, sw_train)
                self._update_no_improvement_count(record.get("val_score"))
                if val is not None and not self.early_stopping and (
                    record["val_score"] > best_val[0]
                ):  # for _stop_diverged (early_stopping keeps _best_params)
                    best_val[:] = [record["val_score"], self._params.copy()]
                self._after_epoch_rate(opt)
                if self._plateaus():
                    self._update_plateaus(record)
                record["time"] = time.perf_counter() - tic
                for key, values in history.items():
                    values.append(record.get(key, np.nan))
                if self.verbose:
                    print(self._epoch_line(record))

                stop = False
                if self._no_improvement_count > self.n_iter_no_change:
                    if self.early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    stop = self._trigger_stopping(msg)
                    if not stop:
                        self._no_improvement_count = 0
                # A callback (e.g. one judging a validation score) may end the fit.
                stop = callbacks.end_epoch(self._callback_fitted_attributes) or stop
                if stop or incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")

        if self.early_stopping:
            self._params[...] = self._best_params

    def _stop_diverged(self, exc, n_samples, n_steps, lr_steps, mu_steps, tic, best_val):
        """Divergence with validation data: end the fit on the best-validation weights.

        scikit-learn's early stopping scores non-finite epochs as NaN and ends
        on its best-validation weights, a usable model. sklr stops at the
        first such epoch: records it (NaN loss, loss_curve_ and
        validation_scores_ entries, as scikit-learn), restores the weights of
        the best validation score (``_best_params`` with early_stopping, else
        the best of this call, ``best_val``) and warns.
        """
        self.n_iter_ += 1
        self.t_ += n_samples
        self._n_epochs += 1
        self._n_updates += n_steps
        self.loss_ = np.nan
        self.loss_curve_.append(np.nan)
        self._update_no_improvement_count(np.nan)
        record = {"learning_rate": lr_steps[-1], "momentum": mu_steps[-1],
                  "time": time.perf_counter() - tic}
        for key, values in self._history.items():
            values.append(record.get(key, np.nan))
        if self.early_stopping:
            score, params = self.best_validation_score_, self._best_params
        else:
            score, params = best_val
        self._params[...] = params
        restored = (
            "the weights with the best validation score (%g) were restored" % score
            if np.isfinite(score) else
            "no epoch had a validation score yet: the weights from before this "
            "fit's first epoch were restored"
        )
        warnings.warn(
            "Training diverged at epoch %d (%s): the loss or weights became "
            "non-finite. Training stopped and %s. The learning rate may be too "
            "large or the input data may contain large values and need to be "
            "preprocessed." % (exc.epoch, exc.where, restored),
            ConvergenceWarning,
        )

    def _run_kernel_epoch(
        self, dense, csr, is_sparse, Y, sw, sample_idx, batch_size,
        hidden, out, loss_code, config, reg, seed, lr_steps, mu_steps, n_threads,
    ):
        """One epoch in Cython; on divergence restore the epoch's start and raise."""
        state = self._opt_state
        arrays = ("state_1", "state_2", "state_3", "scalars")
        backup = [self._params.copy()] + [state[k].copy() for k in arrays]
        loss_sum, n_steps, flag = _mlp_fast.train_epoch(
            dense, *csr, is_sparse, Y, sw,
            np.ascontiguousarray(sample_idx, dtype=np.intp), batch_size,
            self._params, *(state[k] for k in arrays), config, self._layer_units,
            hidden, out, loss_code, float(self.alpha), reg, seed, lr_steps, mu_steps,
            n_threads,
        )
        if flag or not np.isfinite(self._params).all():
            self._params[...] = backup[0]
            for k, saved in zip(arrays, backup[1:]):
                state[k][...] = saved
            where = "update %d of the epoch" % n_steps if flag else "the end of the epoch"
            raise _DivergenceError(
                _NON_FINITE_MESSAGE + " The loss or weights became non-finite at "
                "epoch %d (%s); the learning rate may also be too large. The model "
                "keeps its last finite weights." % (self.n_iter_ + 1, where),
                epoch=self.n_iter_ + 1, where=where,
            )
        self.loss_ = loss_sum / Y.shape[0]

    def _epoch_line(self, record):
        """The ``verbose`` line of one epoch (scikit-learn's prefix, then more)."""
        line = "Iteration %d, loss = %.8f" % (self.n_iter_, record["loss"])
        line += ", learning_rate = %.6g, momentum = %.6g" % (
            record["learning_rate"], record["momentum"])
        for key in ("score", "val_loss", "val_score"):
            if key in record:
                line += ", %s = %.6f" % (key, record[key])
        return line + ", time = %.3fs" % record["time"]

    def _update_no_improvement_count(self, val_score):
        """scikit-learn's stopping bookkeeping (validation score or training loss)."""
        if self.early_stopping:
            self.validation_scores_.append(val_score)
            if val_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if val_score > self.best_validation_score_:
                self.best_validation_score_ = val_score
                self._best_params = self._params.copy()
            return
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if self.loss_curve_[-1] < self.best_loss_:
            self.best_loss_ = self.loss_curve_[-1]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        X_val : {array-like, sparse matrix} of shape (n_val_samples, n_features), \
                default=None
            Validation data, scored after every epoch (every iteration with
            'lbfgs') and recorded as ``history_['val_loss']`` and
            ``history_['val_score']``. With ``early_stopping=True`` it replaces
            the held-out ``validation_fraction`` (all of X then trains), and
            ``ReduceOnPlateau(monitor='val_loss' | 'val_score')`` watches it.
            As in scikit-learn's ``HistGradientBoostingClassifier``.

        y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), \
                default=None
            Targets of ``X_val``; required with it. Classifier labels must
            have been seen in training.

        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Non-negative weights of the validation samples.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        if X_val is None and (y_val is not None or sample_weight_val is not None):
            raise ValueError("y_val and sample_weight_val need X_val: pass X_val and y_val.")
        with fit_callbacks(self, X, y, sample_weight, max_subtasks=self._callback_max_subtasks):
            return self._fit(
                X, y, sample_weight=sample_weight, incremental=False,
                validation=(X_val, y_val, sample_weight_val),
            )

    def _check_solver(self):
        if self.solver == "lbfgs" or isinstance(self.solver, LBFGS):
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape(n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith
        hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function for the hidden layer.

    solver : str or Optimizer, default='adam'
        The solver for weight optimization: 'lbfgs' (quasi-Newton, through
        scipy, with loss and gradient from sklr's kernels), 'sgd' (stochastic
        gradient descent), 'adam' (Kingma and Ba), or one of sklr's
        'adamw', 'nadam', 'adamax', 'rmsprop', 'adagrad', 'adadelta', or an
        object from :mod:`sklr.optimizers` carrying its own hyperparameters
        (searchable as ``solver__<name>``). String solvers read the top-level
        knobs: 'sgd' ``momentum`` and ``nesterovs_momentum``; 'adam',
        'adamw', 'nadam' and 'adamax' ``beta_1``, ``beta_2`` and ``epsilon``
        ('adamw' also ``weight_decay`` when > 0); the others use their
        classes' defaults. An object's own values win over these knobs. A
        string solver starts a new optimizer at each ``fit`` as scikit-learn
        does; an object's state persists across ``warm_start`` refits.

    alpha : float, default=0.0001
        Strength of the L2 regularization term, divided by the sample size
        (or the sum of sample weights) of each batch when added to the loss.

    batch_size : int, default='auto'
        Size of minibatches for stochastic optimizers; 'auto' means
        ``min(200, n_samples)``. Values larger than n_samples are clipped.

    learning_rate : {'constant', 'invscaling', 'adaptive'} or Schedule, default='constant'
        Shape of the learning rate over training; ``learning_rate_init`` is
        its scale. The strings mean what they mean in scikit-learn (used by
        SGD only). A schedule object from :mod:`sklr.schedules` gives, for
        every update, a multiplier of ``learning_rate_init`` for every
        stochastic solver; it is indexed by the global update, epoch and
        sample counters, so ``partial_fit`` and ``warm_start`` continue it.
        Its own parameters are searchable as ``learning_rate__<name>``.
        ``ReduceOnPlateau`` (alone or in a ``Product``) is fed the monitored
        value after every epoch.

    learning_rate_init : float or 'auto', default=0.001
        The initial learning rate (the scale of every schedule). 'auto' runs
        a learning-rate range test (:func:`sklr.find_learning_rate` with its
        defaults, on the training data, from the fit's initial weights)
        before the first epoch and trains with its suggestion; the rate and
        the test are then the fitted attributes ``learning_rate_init_`` and
        ``lr_finder_``. Warm-start refits keep the rate found first. With
        'lbfgs' (no learning rate) 'auto' does nothing.

    power_t : float, default=0.5
        The exponent of the 'invscaling' string schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Whether to shuffle samples in each iteration ('sgd', 'adam').

    random_state : int, RandomState instance, default=None
        Determines weight and bias initialization, the train-validation split
        when early stopping is used, and batch sampling, exactly as in
        scikit-learn.

    tol : float, default=1e-4
        Tolerance for the optimization.

    verbose : bool, default=False
        Whether to print progress messages to stdout.

    warm_start : bool, default=False
        Reuse the solution of the previous call to fit as initialization.

    momentum : float or Schedule, default=0.9
        Momentum for gradient descent update, in [0, 1] (the 'sgd' string
        solver). A schedule from :mod:`sklr.schedules` (``MomentumRamp``,
        ``CyclicMomentum``, ``Lambda``, ...) gives absolute values per update
        and drives the momentum of SGD and RMSprop, or ``beta_1`` of the Adam
        family, whatever the solver.

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum ('sgd' with momentum > 0).

    early_stopping : bool, default=False
        Whether to use early stopping on a validation score, with
        ``validation_fraction`` of the training data held out.

    validation_fraction : float, default=0.1
        The proportion of training data to set aside as validation set for
        early stopping. Must be in [0, 1) (and > 0 with early stopping).

    beta_1 : float, default=0.9
        Exponential decay rate for the first moment in adam, in [0, 1).

    beta_2 : float, default=0.999
        Exponential decay rate for the second moment in adam, in [0, 1).

    epsilon : float, default=1e-8
        Value for numerical stability in adam.

    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement.

    max_fun : int, default=15000
        Maximum number of loss function calls ('lbfgs' only).

    l1 : float, default=0.0
        Strength of an L1 penalty on the weights, scaled like ``alpha``:
        ``l1 * sum(|W|) / n_batch`` is added to each batch loss. (H2O's
        ``l1`` is per sample and not divided by the batch: the same number
        means a different strength.)

    weight_decay : float, default=0.0
        Decoupled weight decay for any stochastic optimizer: before each
        update ``p *= 1 - lr * weight_decay`` (AdamW's rule; an optimizer
        object with its own ``weight_decay``, such as ``AdamW``, wins).

    max_norm : float, default=None
        Maximum L2 norm of each unit's incoming weights, enforced after every
        update by rescaling (H2O's ``max_w2 = max_norm ** 2``).

    input_dropout : float, default=0.0
        Inverted dropout rate of the inputs during training (off at predict).
        Masks come from ``random_state``.

    dropout : float or array-like of shape (n_hidden_layers,), default=0.0
        Inverted dropout rate of each hidden layer's outputs during training
        (H2O's ``hidden_dropout_ratios``).

    layer_lr_decay : float, default=1.0
        Layer k (from the input, k = 0) trains at rate ``lr * layer_lr_decay
        ** k`` (H2O's ``rate_decay``).

    record_train_score : bool, default=False
        Also score the model on its training data after every epoch and record
        it as ``history_['score']`` (accuracy, or R² for the regressor), so
        train-versus-validation curves need no extra code. Off by default: it
        costs one forward pass over the training data per epoch.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        The current loss computed with the loss function.

    best_loss_ : float or None
        The minimum loss reached by the solver throughout fitting (None with
        early stopping).

    loss_curve_ : list of shape (`n_iter_`,)
        The loss at the end of each training epoch (stochastic solvers).

    validation_scores_ : list of shape (`n_iter_`,) or None
        The score at each epoch on the held-out validation set (early
        stopping only).

    best_validation_score_ : float or None
        The best validation score (early stopping only).

    t_ : int
        The number of training samples seen by the solver during fitting.

    coefs_ : list of shape (n_layers - 1,)
        Weight matrices; views into one flat parameter buffer.

    intercepts_ : list of shape (n_layers - 1,)
        Bias vectors; views into the same buffer.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (only when X has string feature
        names).

    n_iter_ : int
        The number of iterations the solver has run in the last call.

    n_layers_ : int
        Number of layers.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation function.

    history_ : dict of ndarray
        Per-epoch record of the fit (``partial_fit`` and ``warm_start`` append):
        ``'loss'``, ``'learning_rate'`` (absolute rate of the epoch's last
        update; for 'adam' before bias correction), ``'momentum'`` (SGD
        momentum, or Adam's ``beta_1``), ``'time'`` (seconds), and
        ``'val_loss'``, ``'val_score'`` when a validation set is used
        (``early_stopping``'s split or ``fit(X_val=..., y_val=...)``), and
        ``'score'`` (on the training data) with ``record_train_score=True``. A
        key new to a warm-start refit is NaN for the earlier epochs. For
        'lbfgs' one entry per L-BFGS iteration, with NaN rate and momentum.
"""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    __doc__ = (
        """Multi-layer Perceptron classifier trained by sklr's Cython kernels.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`: same
    parameters, defaults, fitted attributes and, for the same integer
    ``random_state``, the same training trajectory (``loss_curve_``). Beyond
    it, ``learning_rate`` accepts a schedule object and every fit records a
    per-epoch ``history_``.

    Parameters
    ----------"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.
"""
        + _ATTRIBUTES_DOC
        + """
    See Also
    --------
    MLPRegressor : Multi-layer Perceptron regressor.
    sklearn.neural_network.MLPClassifier : The reference implementation.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklr import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=300, random_state=0).fit(X / 8, y)
    >>> clf.predict(X[:3] / 8)
    array([0, 0, 0])
    >>> sorted(clf.history_)
    ['learning_rate', 'loss', 'momentum', 'time']
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        l1=0.0,
        weight_decay=0.0,
        max_norm=None,
        input_dropout=0.0,
        dropout=0.0,
        layer_lr_decay=1.0,
        record_train_score=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            l1=l1,
            weight_decay=weight_decay,
            max_norm=max_norm,
            input_dropout=input_dropout,
            dropout=dropout,
            layer_lr_decay=layer_lr_decay,
            record_train_score=record_train_score,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray, shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _validate_validation_targets(self, y_val, X_val):
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        check_consistent_length(X_val, y_val)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        multilabel = self._label_binarizer.y_type_.startswith("multilabel")
        if multilabel != type_of_target(y_val).startswith("multilabel"):
            raise ValueError(
                "y_val must be of the same kind as y: the model was fitted on "
                f"{self._label_binarizer.y_type_!r} targets, y_val is "
                f"{type_of_target(y_val)!r}."
            )
        if not multilabel:
            known = set(self.classes_.tolist())
            unseen = [c for c in unique_labels(y_val).tolist() if c not in known]
            if unseen:
                raise ValueError(
                    f"y_val has labels not seen in training: {unseen}. The model "
                    f"knows {self.classes_.tolist()}."
                )
        return y_val

    def _encode_targets(self, y):
        return self._label_binarizer.transform(y).astype(bool)

    def _score_output(self, out, y, sample_weight):
        """accuracy_score of the labels the network output ``out`` predicts."""
        if not np.isfinite(out).all():
            return np.nan
        pred = self._label_binarizer.inverse_transform(
            out.ravel() if self.n_outputs_ == 1 else out
        )
        correct = pred == y if pred.ndim == 1 else np.all(pred == y, axis=1)
        return float(np.average(correct, weights=sample_weight))

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(
            X, y, sample_weight=sample_weight, score_function=accuracy_score
        )

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        A call that raises leaves the fitted model exactly as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit. Required for the first
            call and may be omitted in the subsequent calls.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        with fit_callbacks(self, X, y, sample_weight, task_name="partial_fit", max_subtasks=1):
            saved = self._snapshot()
            try:
                if _check_partial_fit_first_call(self, classes):
                    self._label_binarizer = LabelBinarizer()
                    if type_of_target(y).startswith("multilabel"):
                        self._label_binarizer.fit(y)
                    else:
                        self._label_binarizer.fit(classes)
            except BaseException:
                self._restore(saved)
                raise
            return self._fit(X, y, sample_weight=sample_weight, incremental=True, saved=saved)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class in the
            model, where classes are ordered as they are in `self.classes_`.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of the sample for each class in the
            model, where classes are ordered as they are in `self.classes_`.
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = (
        """Multi-layer Perceptron regressor trained by sklr's Cython kernels.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor` (same
    parameters, attributes and trajectory), with schedule objects accepted by
    ``learning_rate`` and a per-epoch ``history_``.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss function to use; 'poisson' uses an exponential output.
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """
    See Also
    --------
    MLPClassifier : Multi-layer Perceptron classifier.
    sklearn.neural_network.MLPRegressor : The reference implementation.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklr import MLPRegressor
    >>> X, y = make_regression(n_samples=200, random_state=1)
    >>> reg = MLPRegressor(max_iter=500, random_state=1).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """
    )

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        l1=0.0,
        weight_decay=0.0,
        max_norm=None,
        input_dropout=0.0,
        dropout=0.0,
        layer_lr_decay=1.0,
        record_train_score=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            l1=l1,
            weight_decay=weight_decay,
            max_norm=max_norm,
            input_dropout=input_dropout,
            dropout=dropout,
            layer_lr_decay=layer_lr_decay,
            record_train_score=record_train_score,
        )

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _validate_validation_targets(self, y_val, X_val):
        y_val = check_array(y_val, ensure_2d=False, dtype="numeric", input_name="y_val")
        check_consistent_length(X_val, y_val)
        return self._check_targets(y_val, "y_val")

    def _encode_targets(self, y):
        return y

    def _score_output(self, out, y, sample_weight):
        """r2_score (uniform average over outputs) of the network output ``out``."""
        if not np.isfinite(out).all() or out.shape[0] < 2:
            return np.nan
        y = np.asarray(y).reshape(out.shape)
        weight = 1.0 if sample_weight is None else sample_weight[:, None]
        numerator = np.sum(weight * (y - out) ** 2, axis=0)
        denominator = np.sum(
            weight * (y - np.average(y, axis=0, weights=sample_weight)) ** 2, axis=0
        )
        scores = np.ones(y.shape[1])
        valid = (denominator != 0) & (numerator != 0)
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[(numerator != 0) & (denominator == 0)] = 0.0
        return float(np.mean(scores))

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(
            X, y, sample_weight=sample_weight, score_function=r2_score
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        return X, self._check_targets(y, "y")

    def _check_targets(self, y, name):
        """A single-column y as 1-D; poisson's targets must be non-negative."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                f"loss='poisson' requires non-negative targets {name}; got a minimum "
                f"of {np.min(y)}."
            )
        return y

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single iteration over the given data.

        A call that raises leaves the fitted model exactly as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : ndarray of shape (n_samples,)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        with fit_callbacks(self, X, y, sample_weight, task_name="partial_fit", max_subtasks=1):
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)


def make_epoch_runner(estimator, X, y):
    """A zero-argument callable that runs one epoch of the Cython kernel.

    For benchmarks: separates kernel time from ``fit``'s Python overhead. The
    estimator is fitted for one epoch to initialise it; each call of the
    returned function then runs one more epoch (fixed permutation, constant
    rate) with no validation.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        An unfitted estimator with a stochastic solver.
    X, y : array-like
        Training data.

    Returns
    -------
    run : callable
        ``run()`` trains one epoch in place and returns the epoch's mean loss.
    """
    est = estimator.set_params(max_iter=1, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    Xv, yv = est._validate_input(X, y, incremental=True, reset=False)
    if yv.ndim == 1:
        yv = yv.reshape(-1, 1)
    dense, csr, is_sparse, Y, sw = est._kernel_inputs(Xv, yv, None)
    n = Y.shape[0]
    batch_size = est._resolved_batch_size(n)
    n_steps = -(-n // batch_size)
    idx = np.random.RandomState(0).permutation(n).astype(np.intp)
    opt = est._optimizer()
    lr, mu = est._epoch_rates(np.full(n_steps, batch_size), opt)
    hidden, out, loss_code = est._codes()
    n_threads = _openmp_effective_n_threads()
    config = est._kernel_config(opt)
    reg = est._reg_array()

    def run():
        with blas_single_threaded():
            est._run_kernel_epoch(
            dense, csr, is_sparse, Y, sw, idx, batch_size,
                hidden, out, loss_code, config, reg, 0, lr, mu, n_threads,
            )
        return est.loss_

    return run
