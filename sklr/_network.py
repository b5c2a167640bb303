"""The network's weights: one flat buffer, its layer views, the forward pass.

:class:`_NetworkMixin` is the part of the estimators that is the network
itself: the initial draw (``init``, by default scikit-learn's), the flat
parameter buffer in scikit-learn's pack order whose views are ``coefs_`` and
``intercepts_``, pickling of that buffer, the NumPy forward pass used by
``predict``, and the training objective.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from sklr._compat import ACTIVATIONS, LOSS_FUNCTIONS
from sklr._history import TrainingState
from sklr.initializers import get_initializer


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


class _NetworkMixin:
    """Weights, initialisation and forward pass of the multilayer perceptron."""

    def _set_flat_params(self, flat):
        """Make ``flat`` the parameter buffer; coefs_/intercepts_ become views.

        Views of ``flat``, or of the averaged weights when the fit shows them
        (``averaging`` with ``use_averaged_weights``).
        """
        self._params = flat
        self.coefs_, self.intercepts_ = _layer_views(self._shown_params(), self._layer_units)
        # The views made here: while coefs_/intercepts_ hold exactly these
        # objects, they are in sync with the buffer (an O(layers) check).
        self._views = tuple(self.coefs_) + tuple(self.intercepts_)

    def _shown_params(self):
        """The buffer predict uses: the averaged weights when shown, else ``_params``."""
        flat = self._params
        state = self.__dict__.get("_state")
        average = getattr(state, "average", None)
        if (average is not None and getattr(state, "average_shown", False)
                and average.shape == flat.shape and average.dtype == flat.dtype):
            return average
        return flat

    def _read_only_views(self, flat):
        coefs, intercepts = _layer_views(flat.view(), self._layer_units)
        for v in coefs + intercepts:
            v.flags.writeable = False
        return coefs, intercepts

    def _averaged_views(self):
        check_is_fitted(self)
        average = getattr(self.__dict__.get("_state"), "average", None)
        if average is None:
            raise AttributeError(
                "averaged_coefs_ and averaged_intercepts_ exist when the estimator was "
                "fitted with averaging (sklr.averaging.EMA or SWA) or a schedule-free "
                "solver (its averaged point x)."
            )
        return self._read_only_views(average)

    @property
    def raw_coefs_(self):
        """Read-only views of the training (raw) weight matrices.

        Training continues from these; ``coefs_`` is them unless the fit
        shows averaged weights (``averaging``, ``use_averaged_weights``).
        """
        check_is_fitted(self)
        return self._read_only_views(self._flat_params())[0]

    @property
    def raw_intercepts_(self):
        """Read-only views of the training (raw) bias vectors."""
        check_is_fitted(self)
        return self._read_only_views(self._flat_params())[1]

    @property
    def averaged_coefs_(self):
        """Read-only views of the averaged weight matrices (``averaging``)."""
        return self._averaged_views()[0]

    @property
    def averaged_intercepts_(self):
        """Read-only views of the averaged bias vectors (``averaging``)."""
        return self._averaged_views()[1]

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
        views = self.__dict__.get("_views")
        if views is not None and len(views) == len(coefs) + len(intercepts) and all(
            a is b for a, b in zip(views, list(coefs) + list(intercepts))
        ):
            return True
        flat = self._shown_params()
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
            state = self.__dict__.get("_state")
            if getattr(state, "average", None) is not None:
                # Weights set by hand: training and averaging restart from them.
                state.average, state.n_averaged, state.best_average = None, 0, None
            self._set_flat_params(flat)
        return self._params

    def __getstate__(self):
        state = super().__getstate__()
        if "_params" in state:
            state = dict(state)
            state.pop("_views", None)  # rebuilt with the views on unpickling
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

    def _initialize(self, y, layer_units, dtype, plan):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self._layer_units = np.asarray(layer_units, dtype=np.intp)
        self.out_activation_ = self._out_activation()

        # ``init`` (default 'sklearn': scikit-learn's Glorot-uniform draws, in
        # its order, from the same random_state).
        coefs, intercepts = get_initializer(self.init, self.activation).draw(
            layer_units, self._random_state, activation=self.activation,
            classifier=is_classifier(self),
        )
        flat = np.concatenate([c.ravel() for c in coefs + intercepts]).astype(dtype)
        self._set_flat_params(flat)
        self._new_state(plan)
        self._set_flat_params(flat)  # views of the new state's buffers

    def _out_activation(self):
        if not is_classifier(self):
            return "exp" if self.loss == "poisson" else "identity"
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _callback_fitted_attributes(self, flat=None, loss=None, n_iter=None):
        """Fitted attributes of the model as if fit stopped now (for callbacks).

        ``flat``: the weights (L-BFGS's iterate); default the current ones, or
        the best ones with early_stopping, which fit would end with.
        """
        if flat is None:
            state = self._state
            if self.early_stopping:
                shown = (getattr(state, "average_shown", False)
                         and getattr(state, "best_average", None) is not None)
                flat = state.best_average if shown else state.best_params
            else:
                flat = self._shown_params()
        flat = np.array(flat, dtype=self._params.dtype)
        coefs, intercepts = _layer_views(flat, self._layer_units)
        attrs = {"_params": flat, "coefs_": coefs, "intercepts_": intercepts,
                 "n_iter_": self.n_iter_ if n_iter is None else n_iter}
        if loss is not None:
            attrs["loss_"] = loss
        return attrs

    def _complete_fitted_state(self, plan):
        """Derive the private state a continued fit needs from the public attributes.

        Drop-in: scikit-learn continues training (partial_fit, warm_start)
        from hand-set ``coefs_``/``intercepts_`` and fitted attributes; its
        own tests do. Re-packs the flat buffer (and ``_layer_units``) from
        coefs_/intercepts_ when stale, then fills in only what is missing,
        as ``_initialize`` would have set it or as the public attributes
        imply (counters from ``loss_curve_``/``t_``, the record from
        ``loss_curve_``/``validation_scores_``, a fresh optimizer state).
        """
        self._flat_params()
        units = self._layer_units
        d = self.__dict__
        self.n_layers_ = len(units)
        d.setdefault("n_outputs_", int(units[-1]))
        if is_classifier(self) and "_label_binarizer" not in d and "classes_" in d:
            if d.get("out_activation_") == "logistic" and units[-1] > 1:
                targets = np.eye(int(units[-1]), dtype=int)  # multilabel indicator
            else:
                targets = self.classes_
            self._label_binarizer = LabelBinarizer().fit(targets)
        if "out_activation_" not in d:
            self.out_activation_ = self._out_activation()
        d.setdefault("n_iter_", 0)
        d.setdefault("t_", 0)
        d.setdefault("lr_finder_", None)
        if "learning_rate_init_" not in d:
            self.learning_rate_init_ = (
                None if self.learning_rate_init == "auto" else float(self.learning_rate_init)
            )
        if plan.is_stochastic:
            d.setdefault("loss_curve_", [])
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
        state = d.get("_state")
        if state is None:
            state = self._state = TrainingState.from_public_attributes(self)
            self.history_ = state.history
        params = self._params
        best = state.best_params
        if best is None or best.shape != params.shape or best.dtype != params.dtype:
            state.best_params = params.copy()
        if state.optimizer and any(
            state.optimizer[k].dtype != params.dtype
            or state.optimizer[k].size not in (0, params.size)
            for k in ("state_1", "state_2", "state_3")
        ):
            state.optimizer = None  # made for other weights: start a fresh one
