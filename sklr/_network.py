"""The network's weights: one flat buffer, its layer views, the forward pass.

:class:`_NetworkMixin` is the part of the estimators that is the network
itself: the Glorot initialisation (scikit-learn's draws), the flat parameter
buffer in scikit-learn's pack order whose views are ``coefs_`` and
``intercepts_``, pickling of that buffer, the NumPy forward pass used by
``predict``, and the training objective.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import validate_data

from sklr._compat import ACTIVATIONS, LOSS_FUNCTIONS


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
        """Make ``flat`` the parameter buffer; coefs_/intercepts_ become views."""
        self._params = flat
        self.coefs_, self.intercepts_ = _layer_views(flat, self._layer_units)

    def _flat_params(self):
        """The flat buffer, re-packed if coefs_/intercepts_ were reassigned."""
        flat = getattr(self, "_params", None)
        views = list(self.coefs_) + list(self.intercepts_)
        if flat is None or not all(
            isinstance(v, np.ndarray) and v.base is flat for v in views
        ):
            dtype = self.coefs_[0].dtype
            flat = np.concatenate([np.ravel(v) for v in views]).astype(dtype, copy=False)
            self._set_flat_params(flat)
        return self._params

    def __getstate__(self):
        state = super().__getstate__()
        if "_params" in state:
            # coefs_/intercepts_ are rebuilt as views on unpickling.
            state = dict(state)
            state.pop("coefs_", None)
            state.pop("intercepts_", None)
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

        # Glorot uniform, drawn layer after layer exactly as scikit-learn.
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(self._random_state.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(self._random_state.uniform(-bound, bound, fan_out))
        flat = np.concatenate([c.ravel() for c in coefs + intercepts]).astype(dtype)
        self._set_flat_params(flat)
        self._new_state(plan)

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
            flat = self._state.best_params if self.early_stopping else self._params
        flat = np.array(flat, dtype=self._params.dtype)
        coefs, intercepts = _layer_views(flat, self._layer_units)
        attrs = {"_params": flat, "coefs_": coefs, "intercepts_": intercepts,
                 "n_iter_": self.n_iter_ if n_iter is None else n_iter}
        if loss is not None:
            attrs["loss_"] = loss
        return attrs
