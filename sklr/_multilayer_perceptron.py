"""The estimators: ``MLPClassifier`` and ``MLPRegressor``.

Drop-ins for scikit-learn's: same parameters, fitted attributes and
trajectory (same initialisation, validation split, shuffling, batch order and
update order). This module holds the parameters, the validation of data and
parameters, and the public API; ``_plan`` normalises the parameters into
objects, ``_trainer`` runs the epochs (``_history.TrainingState`` is all the
fit-time state), ``_network`` holds the weights and the forward pass, and the
Cython kernel trains one epoch per call.
"""

import os
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import (
    check_array,
    check_consistent_length,
    check_random_state,
    column_or_1d,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from sklr._callbacks import _CallbackSupport, fit_callbacks
from sklr._checkpoint import Checkpoint, warn_unresumed
from sklr._dynamics import Dynamics
from sklr._compat import (
    Interval,
    Options,
    StrOptions,
    _check_partial_fit_first_call,
    _check_sample_weight,
    _fit_context,
)
from sklr._history import TrainingState
from sklr._labels import encode_labels, indicator
from sklr._lr_finder import find_learning_rate
from sklr._network import _NetworkMixin
from sklr._plan import make_plan
from sklr._threads import blas_single_threaded
from sklr.averaging import WeightAveraging
from sklr._trainer import (
    LBFGSTrainer,
    RangeTest,
    StochasticTrainer,
    _KernelSetup,
    resolved_batch_size,
)
from sklr.exceptions import DivergenceError
from sklr.initializers import _INIT_NAMES, Initializer
from sklr.optimizers import _SOLVERS, LBFGS, Optimizer, _solver_strings
from sklr.schedules import Schedule


def _cast_finite(a, dtype, name):
    """``a`` cast to ``dtype``; a finite value that overflows raises, naming its column."""
    data = a.data if sp.issparse(a) else a
    with np.errstate(over="ignore"):  # an overflow is reported below, by column
        cast = data.astype(dtype)
    overflow = np.isinf(cast) & np.isfinite(data)
    if overflow.any():
        if sp.issparse(a):
            a = a.tocsc()
            cols = np.repeat(np.arange(a.shape[1]), np.diff(a.indptr))
            with np.errstate(over="ignore"):
                bad = np.isinf(a.data.astype(dtype)) & np.isfinite(a.data)
            column, value = int(cols[bad][0]), float(a.data[bad][0])
        else:
            where = np.argwhere(overflow)[0]
            column = int(where[1]) if overflow.ndim == 2 else None
            value = float(data[tuple(where)])
        place = f"{name}[:, {column}]" if column is not None else name
        raise ValueError(
            f"{place} holds {value!r}, which overflows {np.dtype(dtype).name}, the "
            f"dtype of the fitted model (largest {np.finfo(dtype).max:.3g}). Scale the "
            f"data (e.g. StandardScaler), or refit from scratch on {np.dtype(data.dtype).name} "
            "data."
        )
    if sp.issparse(a):
        return a.astype(dtype)
    return cast


def _solver_hint(current, sub):
    example = _SOLVERS[current].__name__ if current in _SOLVERS else "Adam"
    return (
        f"solver={current!r} is a string, so 'solver__{sub}' cannot be set: pass an "
        f"optimizer object, e.g. solver=sklr.optimizers.{example}(), whose "
        f"hyperparameters are then searchable as solver__<name> (or put objects in the "
        f"grid: {{'solver': [sklr.optimizers.{example}(...), ...]}})."
    )


def _schedule_hint(name, example):
    def hint(current, sub):
        return (
            f"{name}={current!r} is not a schedule object, so '{name}__{sub}' cannot be "
            f"set: pass a schedule, e.g. {name}=sklr.schedules.{example}, whose "
            f"parameters are then searchable as {name}__<name>."
        )
    return hint


# Parameters that may hold parameter objects, and what to say when a nested
# key is set on a plain value.
_OBJECT_PARAMS = {
    "solver": _solver_hint,
    "learning_rate": _schedule_hint("learning_rate", "StepDecay()"),
    "momentum": _schedule_hint("momentum", "MomentumRamp()"),
    "averaging": lambda current, sub: (
        f"averaging={current!r} is not an averaging object, so 'averaging__{sub}' cannot "
        "be set: pass one, e.g. averaging=sklr.averaging.EMA(), whose parameters are "
        "then searchable as averaging__<name>."
    ),
    "init": lambda current, sub: (
        f"init={current!r} is a string, so 'init__{sub}' cannot be set: pass an "
        "initializer object, e.g. init=sklr.initializers.VarianceScaling(...) "
        "(sklr.initializers.get_initializer(name) gives the one a string stands for), "
        "whose parameters are then searchable as init__<name>."
    ),
    "record_dynamics": lambda current, sub: (
        f"record_dynamics={current!r} is not a Dynamics object, so "
        f"'record_dynamics__{sub}' cannot be set: pass one, e.g. "
        "record_dynamics=sklr.Dynamics(), whose parameters are then searchable as "
        "record_dynamics__<name>."
    ),
}


class BaseMultilayerPerceptron(_NetworkMixin, _CallbackSupport, BaseEstimator, ABC):
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
        "solver": [StrOptions(_solver_strings()), Optimizer, LBFGS],
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
        "weight_decay": [Interval(Real, 0, None, closed="left"), Schedule],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "layer_lr_decay": [Interval(Real, 0, None, closed="neither")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), Options(Real, {np.inf}), None],
        "clip_norm_mode": [StrOptions({"global", "per_tensor"})],
        "clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "clip_convention": [StrOptions({"pytorch", "keras"})],
        "record_train_score": ["boolean"],
        "averaging": [WeightAveraging, None],
        "use_averaged_weights": ["boolean"],
        "init": [StrOptions(_INIT_NAMES), Initializer],
        "checkpoint": [None, str, os.PathLike, callable, Checkpoint],
        "record_dynamics": ["boolean", Dynamics],
        "scoring": [str, callable, list, tuple, dict, None],
        "restore_best_weights": ["boolean", StrOptions({"auto"})],
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
        clip_norm,
        clip_norm_mode,
        clip_value,
        clip_convention,
        record_train_score,
        averaging=None,
        use_averaged_weights=True,
        init="sklearn",
        checkpoint=None,
        record_dynamics=False,
        scoring=None,
        restore_best_weights="auto",
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
        self.clip_norm = clip_norm
        self.clip_norm_mode = clip_norm_mode
        self.clip_value = clip_value
        self.clip_convention = clip_convention
        self.record_train_score = record_train_score
        self.averaging = averaging
        self.use_averaged_weights = use_averaged_weights
        self.init = init
        self.checkpoint = checkpoint
        self.record_dynamics = record_dynamics
        self.scoring = scoring
        self.restore_best_weights = restore_best_weights

    def _new_state(self, plan):
        """Fresh fit-time state and the attributes scikit-learn resets with it."""
        self._state = TrainingState()
        self._state.best_params = self._params.copy()
        self.history_ = self._state.history
        self.lr_finder_ = None
        self.learning_rate_init_ = (
            None if self.learning_rate_init == "auto" else float(self.learning_rate_init)
        )
        if plan.is_stochastic:
            self.loss_curve_ = []
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    @property
    def _no_improvement_count(self):
        """scikit-learn's stopping counter (its tests read and set it).

        It lives in the training state; set by hand before there is one, it
        waits for the next fit to adopt it.
        """
        if "_state" in self.__dict__:
            return self._state.no_improvement_count
        return self.__dict__.get("_no_improvement_count_set", 0)

    @_no_improvement_count.setter
    def _no_improvement_count(self, value):
        if "_state" in self.__dict__:
            self._state.no_improvement_count = value
        else:
            self.__dict__["_no_improvement_count_set"] = value

    def set_params(self, **params):
        """Set the parameters of this estimator (scikit-learn's ``set_params``).

        Nested keys reach the parameter objects: ``solver__beta_2`` needs an
        optimizer object as ``solver``, ``learning_rate__gamma`` a schedule
        object as ``learning_rate``, ``momentum__stable`` a momentum schedule.
        A nested key on a string or float raises a ``ValueError`` saying
        which object to pass instead.
        """
        for key in params:
            name, nested, sub = key.partition("__")
            if nested and name in _OBJECT_PARAMS:
                current = params.get(name, getattr(self, name, None))
                if not hasattr(current, "set_params"):
                    raise ValueError(_OBJECT_PARAMS[name](current, sub))
        return super().set_params(**params)

    def _find_learning_rate(self, X, y, estimator=None, **kwargs):
        """:func:`sklr.find_learning_rate` on this estimator, or on ``estimator``
        (a Pipeline ending in it), for the displays."""
        return find_learning_rate(self if estimator is None else estimator, X, y, **kwargs)

    def _range_test(self, plan, X, y, sample_weight, **settings):
        """The learning-rate range test from the current weights (not modified)."""
        return RangeTest(self, plan).range_test(X, y, sample_weight, **settings)

    def _callback_max_subtasks(self):
        """Epoch tasks a fit may open: max_iter (L-BFGS: one more, never run)."""
        return self.max_iter + (1 if self.solver == "lbfgs" or isinstance(self.solver, LBFGS)
                                else 0)

    def _fit(self, X, y, sample_weight=None, incremental=False, saved=None, validation=None):
        """Fit; on error put the estimator back as it was (``saved``, or now).

        A diverging ``fit`` is the exception: it keeps its last finite epochs.
        """
        if saved is None:
            saved = self._snapshot()
        try:
            X, y, sample_weight, val, plan = self._prepare_fit(
                X, y, sample_weight, incremental, validation
            )
            # The kernels parallelise with OpenMP and call BLAS from inside
            # their threads: BLAS must not add threads of its own.
            with blas_single_threaded():
                if plan.is_stochastic:
                    StochasticTrainer(self, plan).fit(X, y, sample_weight, incremental, val)
                else:
                    LBFGSTrainer(self, plan).fit(X, y, sample_weight, val)
            if not np.isfinite(self._params).all():
                raise DivergenceError(
                    "Solver produced non-finite parameter weights. The input data may"
                    " contain large values and need to be preprocessed."
                )
            return self
        except DivergenceError:
            if incremental:
                self._restore(saved)
            raise
        except BaseException:
            self._restore(saved)
            raise

    def _snapshot(self):
        """What puts the estimator back as it was: O(parameters), not O(epochs)."""
        attributes = dict(self.__dict__)
        # A stale buffer (coefs_/intercepts_ reassigned) is not saved: restoring
        # the dict restores the assigned arrays themselves.
        params = self._params.copy() if self._params_in_sync() else None
        state = self._state.snapshot() if "_state" in attributes else None
        lengths = {key: len(attributes[key]) for key in ("loss_curve_", "validation_scores_")
                   if isinstance(attributes.get(key), list)}
        return attributes, params, state, lengths

    def _restore(self, saved):
        attributes, params, state, lengths = saved
        self.__dict__.clear()
        self.__dict__.update(attributes)
        if state is not None:
            self._state.restore(state)
        if params is not None:
            self._params[...] = params
            self._set_flat_params(self._params)
        for key, n in lengths.items():
            del getattr(self, key)[n:]

    def _prepare_fit(self, X, y, sample_weight, incremental, validation=None):
        """Validate everything and (first pass) draw the initial weights.

        Returns the training arrays (y in the kernels' 2-D layout), the
        validated validation data (or None) and the normalised plan.
        """
        has_validation = validation is not None and validation[0] is not None
        plan = make_plan(self, incremental, has_validation)
        hidden_layer_sizes = plan.hidden_layer_sizes
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        if not first_pass:
            self._complete_fitted_state(plan)
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
                dtype = self.coefs_[0].dtype
                X = _cast_finite(X, dtype, "X")
                if sample_weight is not None:
                    sample_weight = _cast_finite(sample_weight, dtype, "sample_weight")
        if not is_classifier(self):
            y = _cast_finite(y, X.dtype, "y")

        self.n_outputs_ = y.shape[1]
        val = self._validate_validation_data(*validation, X.dtype) if has_validation else None
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            warn_unresumed(self)
            self._initialize(y, layer_units, X.dtype, plan)
        self._flat_params()
        return X, y, sample_weight, val, plan

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
        X_val = _cast_finite(X_val, dtype, "X_val") if X_val.dtype != dtype else X_val
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

    def _decode_targets(self, Y):
        """Targets as ``score`` takes them, from the kernels' layout."""
        return self._label_binarizer.inverse_transform(Y) if is_classifier(self) else Y

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
            ``history_['val_score']`` (and ``'val_<name>'`` for the metrics
            of ``scoring``). With ``early_stopping=True`` it replaces
            the held-out ``validation_fraction`` (all of X then trains), and
            ``ReduceOnPlateau(monitor='val_loss' | 'val_<name>' | ...)``
            watches it.
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
        'adamw', 'nadam', 'adamax', 'radam', 'rmsprop', 'adagrad', 'adadelta',
        'rprop', 'lion', or an object from :mod:`sklr.optimizers` carrying its
        own hyperparameters (searchable as ``solver__<name>``). String solvers
        read the top-level knobs: 'sgd' ``momentum`` and ``nesterovs_momentum``;
        'adam', 'adamw', 'nadam', 'adamax' and 'radam' ``beta_1``, ``beta_2``
        and ``epsilon``
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
        A schedule in ``unit='fraction'`` (the default of ``OneCycle()``,
        ``CosineAnnealing()`` and the other shapes with an end) spans each
        ``fit``'s ``max_iter`` epochs of updates, and restarts at the next
        ``warm_start`` fit; ``partial_fit`` plans ``max_iter`` calls.
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
        ``validation_fraction`` of the training data held out (or
        ``fit``'s ``X_val``). It watches the first metric of ``scoring``.

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

    weight_decay : float or Schedule, default=0.0
        Decoupled weight decay for any stochastic optimizer: before each
        update ``p *= 1 - lr * weight_decay`` (AdamW's rule; an optimizer
        object with its own ``weight_decay`` parameter, such as ``AdamW`` or
        ``Lion``, keeps its value). A schedule from :mod:`sklr.schedules`
        gives absolute values per update, as a momentum schedule does (fastai
        and optax schedule the decay), and drives the decay of every
        stochastic optimizer; ``history_['weight_decay']`` then records the
        value of each epoch's last update.

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

    clip_norm : float, default=None
        Gradient clipping by L2 norm (stochastic solvers; off by default).
        Before every update the minibatch gradient ``g`` the optimizer sees
        (data term plus the ``alpha`` and ``l1`` terms, divided by the batch
        size or weight sum: PyTorch's ``.grad`` with those penalties in the
        loss) is rescaled when its norm ``n`` exceeds ``clip_norm``:
        ``g *= min(1, clip_norm / (n + 1e-6))`` with
        ``clip_convention='pytorch'``, ``g *= clip_norm / max(n, clip_norm)``
        with ``'keras'``. ``clip_norm_mode`` says which norm. Decoupled
        ``weight_decay`` and ``max_norm`` act on the weights and are not
        clipped. ``np.inf`` clips nothing but records the gradient norms
        in ``history_``, to choose a threshold. Excludes ``clip_value``.

    clip_norm_mode : {'global', 'per_tensor'}, default='global'
        'global': one norm over every weight and intercept (PyTorch
        ``clip_grad_norm_(model.parameters(), clip_norm)``, Keras
        ``global_clipnorm``). 'per_tensor': each weight matrix and each
        intercept vector is clipped by its own norm (Keras ``clipnorm``,
        which clips each variable apart; PyTorch ``clip_grad_norm_`` called
        on each parameter in turn).

    clip_value : float, default=None
        Gradient clipping by value (stochastic solvers; off by default):
        before every update each component of the gradient (as for
        ``clip_norm``) is clamped to ``[-clip_value, clip_value]`` (PyTorch
        ``clip_grad_value_``, Keras ``clipvalue``). Excludes ``clip_norm``,
        as Keras allows one of ``clipnorm``, ``global_clipnorm`` and
        ``clipvalue``.

    clip_convention : {'pytorch', 'keras'}, default='pytorch'
        The factor of norm clipping: 'pytorch' (``clip_grad_norm_``) adds
        1e-6 to the norm, so a clipped gradient ends just below
        ``clip_norm``; 'keras' (``clip_by_global_norm``, ``clipnorm``)
        rescales to ``clip_norm`` exactly. The two differ by about
        ``1e-6 / clip_norm`` relative: noticeable only for small thresholds.

    record_train_score : bool, default=False
        Also score the model on its training data after every epoch and record
        it as ``history_['score']`` (accuracy, or R² for the regressor), so
        train-versus-validation curves need no extra code. Off by default: it
        costs one forward pass over the training data per epoch.

    averaging : EMA, SWA or None, default=None
        Weight averaging from :mod:`sklr.averaging` (stochastic solvers): an
        exponential moving average updated after every update (Keras
        ``use_ema``, PyTorch ``AveragedModel`` with an EMA) or stochastic
        weight averaging of end-of-epoch weights (PyTorch ``swa_utils``).
        Training continues from the raw weights; the average and its count
        resume through ``partial_fit``, ``warm_start`` and pickling. Its
        parameters are searchable as ``averaging__<name>``.

    use_averaged_weights : bool, default=True
        With ``averaging``, or a schedule-free solver (``'sfsgd'``,
        ``'sfadamw'``, whose averaged point x is where the reference
        evaluates): whether the averaged weights are the model's,
        i.e. what ``coefs_``/``intercepts_`` show and what ``predict``,
        ``predict_proba``, ``score`` and the validation scores in
        ``history_`` use (with early stopping, the best epoch is chosen by
        them). False keeps the raw weights in ``coefs_``; the average is
        then ``averaged_coefs_``/``averaged_intercepts_``. Read at ``fit``.

    init : str or Initializer, default='sklearn'
        How the initial weights and biases are drawn from ``random_state``
        (at a ``fit`` without ``warm_start`` or the first ``partial_fit``;
        ``warm_start`` and ``partial_fit`` continue from the current weights
        and never draw again). 'sklearn': scikit-learn's Glorot-uniform
        weights and biases, the same draws in the same order. 'keras': a
        Keras ``Dense`` layer's default (``glorot_uniform`` weights, zero
        biases). 'pytorch': ``torch.nn.Linear``'s default (weights and biases
        from :math:`U(\\pm 1/\\sqrt{\\text{fan-in}})`). 'h2o': H2O's default
        ``initial_weight_distribution='UniformAdaptive'`` with its bias
        constants. 'glorot_uniform', 'glorot_normal', 'he_uniform',
        'he_normal', 'lecun_uniform', 'lecun_normal': the Keras initializer
        of that name (normal laws truncated at two standard deviations, as
        Keras draws them) with zero biases. An object from
        :mod:`sklr.initializers` (``VarianceScaling``, ``H2O``) sets the
        rest (untruncated normals, the bias law); its parameters are
        searchable as ``init__<name>``. Frameworks draw from their own
        generators: the same laws, not the same numbers.
    checkpoint : str, path-like, callable or Checkpoint, default=None
        Save the estimator during ``fit`` (:class:`sklr.Checkpoint`; a path
        or callable alone means ``Checkpoint(path)``, a save after every
        epoch). A path is a template with the fields ``{fit_id}``
        (required: an id per fit, so concurrent fits never share a file)
        and ``{epoch}``, such as ``'ckpt/mlp-{fit_id}-{epoch}.joblib'``;
        files are written atomically with :func:`joblib.dump`. A callable is
        called as ``checkpoint(estimator, epoch)``. Saves come after every
        ``every``-th epoch and at the end of ``fit``. A checkpoint saved
        during ``fit`` resumes it exactly: :func:`sklr.load_checkpoint` (or
        :func:`joblib.load`), then ``fit(X, y)`` with ``warm_start=True`` on
        the same data runs the epochs left of ``max_iter`` on the same
        trajectory. Its parameters are searchable as ``checkpoint__every``.
    record_dynamics : bool or Dynamics, default=False
        Learning-dynamics diagnostics in ``history_`` (stochastic solvers).
        True records, every epoch and for each weight matrix ``coefs_[i]``,
        ``'grad_norm_layer<i>'`` (mean minibatch gradient norm),
        ``'update_ratio_layer<i>'`` (mean ||step|| / ||weights|| of an
        update), ``'weight_norm_layer<i>'`` and, for ReLU hidden layers,
        ``'dead_fraction_layer<i>'``, measured in the training kernel
        (the weights are bit-identical to a fit without them). A
        :class:`~sklr.Dynamics` object adds the sharpness and gradient
        noise-scale probes and sets their cost; its parameters are
        searchable as ``record_dynamics__<name>``. False measures nothing.
        See :class:`~sklr.Dynamics` for the exact definitions and
        :class:`~sklr.inspection.DynamicsDisplay` for the plots.

    scoring : str, callable, list, dict or None, default=None
        What each epoch measures on the validation data (recorded as
        ``history_['val_<name>']``) and, with ``record_train_score=True``, on
        the training data (``history_['<name>']``), as ``scoring`` in
        scikit-learn's ``HistGradientBoosting*``; the first metric is the one
        ``early_stopping`` watches (with ``tol`` and ``n_iter_no_change``)
        and ``restore_best_weights`` picks the best epoch by. None: the
        estimator's ``score`` (accuracy or R²) as ``'val_score'``/``'score'``,
        scikit-learn's behaviour. ``'loss'``: the validation loss
        (``'val_loss'``, recorded anyway). A scorer name
        (``sklearn.metrics.get_scorer_names()``), recorded under that name;
        a callable ``scorer(estimator, X, y)``, recorded as
        ``'val_score'``/``'score'``; a list of names or a dict ``{name:
        scorer name or callable}``, recorded under each name. Scores are
        the scorers' values, greater is better (``'val_neg_log_loss'`` is
        minus the log loss). scikit-learn scorers are computed from the
        epoch's one forward pass; other callables are called on the
        estimator. ``sample_weight_val`` reaches the scorers that accept
        ``sample_weight``.

    restore_best_weights : bool or 'auto', default='auto'
        Whether the fit ends on the weights of its best epoch (Keras'
        ``restore_best_weights``): the best value of the first ``scoring``
        metric on the validation data, or the lowest training loss without
        validation data. 'auto': True with ``early_stopping`` (restoring its
        best validation score, as scikit-learn does), else False (the last
        weights, as scikit-learn). Stochastic solvers only.
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
        stopping only): the first ``scoring`` metric, greater is better
        (minus the validation loss with ``scoring='loss'``).

    best_validation_score_ : float or None
        The best validation score (early stopping only).

    t_ : int
        The number of training samples seen by the solver during fitting.

    coefs_ : list of shape (n_layers - 1,)
        Weight matrices; views into one flat parameter buffer: the weights
        ``predict`` uses (the averaged ones with ``averaging`` and
        ``use_averaged_weights=True``).

    intercepts_ : list of shape (n_layers - 1,)
        Bias vectors; views into the same buffer.

    raw_coefs_, raw_intercepts_ : list of ndarray
        Read-only views of the training weights, which ``partial_fit`` and
        ``warm_start`` continue from (``coefs_``/``intercepts_`` unless
        averaged weights are shown).

    averaged_coefs_, averaged_intercepts_ : list of ndarray
        Read-only views of the averaged weights (fits with ``averaging``,
        the raw weights until averaging starts; a schedule-free solver's x).

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
        ``'score'`` (on the training data) with ``record_train_score=True``;
        ``'val_<name>'`` and ``'<name>'`` likewise for each metric of
        ``scoring``; and
        ``'grad_norm_mean'``, ``'grad_norm_max'`` with ``clip_norm`` or
        ``clip_value``: the L2 norm of the whole minibatch gradient before
        clipping, mean and maximum over the epoch's updates, and
        ``'fraction'`` when a schedule counts in ``unit='fraction'``: the
        fraction of the planned updates reached at the epoch's last update
        (below 1 at the end when the fit stopped early: the schedule's tail
        went unused), and the keys of ``record_dynamics`` (see
        :class:`~sklr.Dynamics`). A
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
        clip_norm=None,
        clip_norm_mode="global",
        clip_value=None,
        clip_convention="pytorch",
        record_train_score=False,
        averaging=None,
        use_averaged_weights=True,
        init="sklearn",
        checkpoint=None,
        record_dynamics=False,
        scoring=None,
        restore_best_weights="auto",
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
            clip_norm=clip_norm,
            clip_norm_mode=clip_norm_mode,
            clip_value=clip_value,
            clip_convention=clip_convention,
            record_train_score=record_train_score,
            averaging=averaging,
            use_averaged_weights=use_averaged_weights,
            init=init,
            checkpoint=checkpoint,
            record_dynamics=record_dynamics,
            scoring=scoring,
            restore_best_weights=restore_best_weights,
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
            encoded = encode_labels(self._label_binarizer, y)
            if encoded is not None:
                return X, indicator(self._label_binarizer, encoded[0])
            return X, self._label_binarizer.transform(y).astype(bool)
        encoded = encode_labels(self._label_binarizer, y)
        if encoded is not None:
            codes, known = encoded
            # warm_start also needs every class of the model in y.
            if known.all() and (not self.warm_start or np.bincount(
                    codes, minlength=len(self.classes_)).all()):
                return X, indicator(self._label_binarizer, codes)
        # The binarizer's path, and the errors of labels the model does not know.
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

    def score(self, X, y, sample_weight=None):
        """Return the mean accuracy on the given test data and labels.

        The number :func:`sklearn.metrics.accuracy_score` gives for ``y`` and
        ``self.predict(X)`` (the score of scikit-learn's classifiers). Labels
        of a 1-D array, all known to the model, are compared without
        re-deriving their type, which costs more than predicting for a small
        network (a search scores every fit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels for `X`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy of ``self.predict(X)`` w.r.t. `y`.
        """
        y_pred = self.predict(X)
        if (sample_weight is None and isinstance(y, np.ndarray) and y.ndim == 1
                and y_pred.ndim == 1 and len(y) == len(y_pred)):
            encoded = encode_labels(self._label_binarizer, y)
            if encoded is not None and encoded[1].all():
                return float(np.average(y == y_pred))
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

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
        """The kernels' target layout of labels the model knows."""
        encoded = encode_labels(self._label_binarizer, y)
        if encoded is not None and encoded[1].all():
            return indicator(self._label_binarizer, encoded[0])
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
        clip_norm=None,
        clip_norm_mode="global",
        clip_value=None,
        clip_convention="pytorch",
        record_train_score=False,
        averaging=None,
        use_averaged_weights=True,
        init="sklearn",
        checkpoint=None,
        record_dynamics=False,
        scoring=None,
        restore_best_weights="auto",
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
            clip_norm=clip_norm,
            clip_norm_mode=clip_norm_mode,
            clip_value=clip_value,
            clip_convention=clip_convention,
            record_train_score=record_train_score,
            averaging=averaging,
            use_averaged_weights=use_averaged_weights,
            init=init,
            checkpoint=checkpoint,
            record_dynamics=record_dynamics,
            scoring=scoring,
            restore_best_weights=restore_best_weights,
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
    plan = make_plan(est, incremental=True)
    trainer = StochasticTrainer(est, plan)
    kernel = _KernelSetup(est, plan, Xv, yv, None)
    n = kernel.n_samples
    batch_size = resolved_batch_size(est, n)
    n_steps = -(-n // batch_size)
    idx = np.random.RandomState(0).permutation(n).astype(np.intp)
    lr, mu = trainer.epoch_rates(np.full(n_steps, batch_size))

    def run():
        with blas_single_threaded():
            trainer.run_epoch(kernel, idx, batch_size, lr, mu, 0)
        return est.loss_

    return run
