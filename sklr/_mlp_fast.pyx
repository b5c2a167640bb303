"""TEMPORARY compatibility layer over :class:`sklr._kernel.Kernel`.

The entry points of the former monolithic kernel module, with their former
signatures, so that callers written against them keep working while they
move to the Kernel (``sklr._kernel``) and the codes (``sklr._codes``).
Delete this module once nothing imports it; ``sklr/__init__.py`` then has to
look for the ``_kernel`` extension instead of ``_mlp_fast``.

Each call builds a Kernel for that call only, so workspaces are allocated per
call, as they were before the Kernel existed; build one Kernel per fit
instead to reuse them.
"""

import numpy as np

from sklr._codes import CFG_N_SLOTS, CFG_SIZE, CFG_WEIGHT_DECAY, REG_ALPHA, SC_N_SLOTS, SC_SIZE
from sklr._kernel import Kernel, apply_update as _apply_update, dropout_mask, reg_array

__all__ = [
    "CONFIG_FIELDS", "SCALAR_FIELDS", "apply_update", "dropout_mask", "loss_grad",
    "reg_array", "train_epoch",
]

CONFIG_FIELDS = ("rule", "convention", "weight_decay") + tuple(
    "slot_%d" % i for i in range(CFG_N_SLOTS))
"""Names of the optimizer config array's fields, in order (``sklr._codes.CFG_*``);
the rule's own slots are named by its class's ``_slots``."""

SCALAR_FIELDS = ("t",) + tuple("slot_%d" % i for i in range(SC_N_SLOTS))
"""Names of the scalar optimizer state array's fields, in order (``sklr._codes.SC_*``)."""

assert CONFIG_FIELDS.index("weight_decay") == CFG_WEIGHT_DECAY
assert len(CONFIG_FIELDS) == CFG_SIZE and len(SCALAR_FIELDS) == SC_SIZE


def _inputs(X, X_data, X_indices, X_indptr, sparse, sample_weight):
    x = (X_data, X_indices, X_indptr) if sparse else X
    sw = None if np.shape(sample_weight)[0] == 0 else sample_weight
    return x, sw


def _with_alpha(reg, alpha):
    reg = np.array(reg, dtype=np.float64)
    reg[REG_ALPHA] = alpha
    return reg


def train_epoch(X, X_data, X_indices, X_indptr, sparse, Y, sample_weight, sample_idx,
                batch_size, params, state_1, state_2, state_3, scalars, config, units,
                hidden_act, out_act, loss, alpha, reg, seed, lr_steps, momentum_steps,
                n_threads):
    """Run every minibatch of one epoch (see ``Kernel.train_epoch``).

    Returns ``(loss_sum, n_steps, flag)``.
    """
    x, sw = _inputs(X, X_data, X_indices, X_indptr, sparse, sample_weight)
    kernel = Kernel(x, Y, sw, units, (hidden_act, out_act, loss), _with_alpha(reg, alpha),
                    config, n_threads)
    state = {"state_1": state_1, "state_2": state_2, "state_3": state_3, "scalars": scalars}
    return kernel.train_epoch(params, state, sample_idx, batch_size, lr_steps,
                              momentum_steps, seed)


def loss_grad(X, X_data, X_indices, X_indptr, sparse, Y, sample_weight, params, grad,
              units, hidden_act, out_act, loss, alpha, reg, n_threads):
    """Full-batch regularised loss; the flat gradient is written to ``grad``."""
    x, sw = _inputs(X, X_data, X_indices, X_indptr, sparse, sample_weight)
    kernel = Kernel(x, Y, sw, units, (hidden_act, out_act, loss), _with_alpha(reg, alpha),
                    None, n_threads)
    return kernel.loss_grad(params, grad)


def apply_update(params, grad, state_1, state_2, state_3, scalars, config, learning_rate,
                 momentum, n_threads):
    """One optimizer step on a flat array (see ``sklr._kernel.apply_update``)."""
    state = {"state_1": state_1, "state_2": state_2, "state_3": state_3, "scalars": scalars}
    _apply_update(params, grad, state, config, learning_rate, momentum, n_threads)
