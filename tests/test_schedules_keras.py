"""Cross-checks of ReduceOnPlateau(patience_convention='keras') against Keras.

Keras 3's ``keras.callbacks.ReduceLROnPlateau`` drives a real Keras SGD
optimizer with ``learning_rate=1.0`` (so its rate is the multiplier); the
callback is called at the end of every epoch with that epoch's value, as
``model.fit`` does. Keras thresholds are absolute (``min_delta``), so the
comparison is with ``threshold_mode='abs'``. Beyond the rates of the
translation table's cases (tests/test_translations_keras.py), this compares
the counters after every epoch on random walks through a grid of settings.
Keras runs on its torch backend; skipped without Keras or torch.
"""

import os
import sys
import types

import numpy as np
import pytest
from numpy.testing import assert_allclose

if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "torch"
pytest.importorskip("torch")  # the backend
keras = pytest.importorskip("keras")

from sklr.schedules import ReduceOnPlateau  # noqa: E402

# Keras keeps the rate as a float32 variable.
RTOL = 1e-6

# Keras' PyTorch backend converts its variables with np.array(x), which
# NumPy 2 warns about; nothing to do with sklr.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _keras_plateau_run(values, monitor, mode, **params):
    """Rate in effect during each epoch of a Keras ReduceLROnPlateau run, and
    its (best, wait, cooldown_counter) after each epoch."""
    callback = keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode=mode, **params)
    optimizer = keras.optimizers.SGD(learning_rate=1.0)
    # The callback reads and sets model.optimizer.learning_rate, nothing else.
    callback.set_model(types.SimpleNamespace(optimizer=optimizer))
    callback.on_train_begin()
    rates, states = [], []
    for epoch, value in enumerate(values):
        rates.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
        callback.on_epoch_end(epoch, {monitor: float(value)})
        states.append((float(callback.best), callback.wait, callback.cooldown_counter))
    return np.array(rates), states


def _check_ours(values, monitor, rates, states, factor, patience, min_delta, cooldown,
                min_lr):
    schedule = ReduceOnPlateau(
        factor=factor, patience=patience, threshold=min_delta, threshold_mode="abs",
        cooldown=cooldown, min_value=min_lr, monitor=monitor, patience_convention="keras",
    )
    assert_allclose(schedule.preview(len(values), monitored=values), rates, rtol=RTOL)
    # The counters too: they decide later epochs even where the rate is at
    # its floor and cannot show it.
    state = schedule.init_state()
    for value, expected in zip(values, states):
        state = schedule.update(state, value)
        assert (state["best"], state["bad_epochs"], state["cooldown_counter"]) == expected


@pytest.mark.parametrize("seed", range(4))
def test_random_walks(seed):
    """Random walks (rounded, so ties happen) through a grid of settings."""
    rng = np.random.default_rng(seed)
    values = np.round(np.cumsum(rng.normal(-0.02, 0.05, 60)) + 3, 2)
    n_reducing = 0
    for patience in (0, 1, 3):
        for min_delta in (0.0, 0.02):
            for cooldown, min_lr in ((0, 0.0), (2, 0.01)):
                for mode, monitor in (("min", "val_loss"), ("max", "val_score")):
                    params = dict(factor=0.5, patience=patience, min_delta=min_delta,
                                  cooldown=cooldown, min_lr=min_lr)
                    rates, states = _keras_plateau_run(values, monitor, mode, **params)
                    _check_ours(values, monitor, rates, states, **params)
                    n_reducing += rates.min() < 1
    assert n_reducing >= 16  # most cases reduce
