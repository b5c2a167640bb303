"""The Keras rows of doc/translations.rst, each checked against Keras 3 itself.

Keras runs on its torch backend (set here, before Keras is imported) in
float64; the module is skipped where Keras is not installed. Schedules and
optimizer rules are elementwise and agree to rounding (``rtol=1e-12``). Whole
networks agree to ~1e-7 only: Keras 3 multiplies matrices in float32 even
with ``floatx='float64'`` (its type promotion maps 64-bit results to 32-bit),
still far below the differences a wrong translation makes (1e-3 and more).
"""

import os
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "torch"
pytest.importorskip("torch")  # the backend
keras = pytest.importorskip("keras")

from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklr import MLPClassifier  # noqa: E402
from sklr.averaging import EMA  # noqa: E402
from sklr.optimizers import (  # noqa: E402
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    NAdam,
    RMSprop,
)
from sklr.schedules import (  # noqa: E402
    CosineAnnealing,
    CosineWarmRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    Lambda,
    LinearWarmup,
    PiecewiseConstant,
    PolynomialDecay,
    ReduceOnPlateau,
    Sequence,
)

ks = keras.optimizers.schedules
# Keras' torch backend converts tensors through np.array(x) without `copy`.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(autouse=True)
def _float64_keras():
    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
    keras.config.set_floatx(old)


def _keras_rates(schedule, n):
    """A Keras schedule at optimizer steps 0 .. n-1 (Keras passes ``iterations``)."""
    return np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in range(n)])


# -- Learning-rate schedules ----------------------------------------------------
# (id, the Keras schedule, learning_rate_init, learning_rate=) as the table writes them.
SCHEDULE_ROWS = [
    ("ExponentialDecay", lambda: ks.ExponentialDecay(0.1, 3, 0.5),
     0.1, ExponentialDecay(decay_rate=0.5, decay_steps=3, staircase=False, unit="step")),
    ("ExponentialDecay-staircase", lambda: ks.ExponentialDecay(0.1, 3, 0.5, staircase=True),
     0.1, ExponentialDecay(decay_rate=0.5, decay_steps=3, staircase=True, unit="step")),
    ("InverseTimeDecay", lambda: ks.InverseTimeDecay(0.1, 4, 0.5),
     0.1, InverseTimeDecay(decay=0.5 / 4, unit="step")),
    ("PiecewiseConstantDecay", lambda: ks.PiecewiseConstantDecay([3, 7], [0.1, 0.05, 0.01]),
     0.1, PiecewiseConstant(boundaries=[3 + 1, 7 + 1],
                            multipliers=[0.1 / 0.1, 0.05 / 0.1, 0.01 / 0.1], unit="step")),
    ("PolynomialDecay", lambda: ks.PolynomialDecay(0.1, 10, 0.01, power=2.0),
     0.1, PolynomialDecay(total=10, end_value=0.01 / 0.1, power=2.0, cycle=False, unit="step")),
    ("PolynomialDecay-cycle", lambda: ks.PolynomialDecay(0.1, 6, 0.02, power=0.5, cycle=True),
     0.1, PolynomialDecay(total=6, end_value=0.02 / 0.1, power=0.5, cycle=True, unit="step")),
    ("CosineDecay", lambda: ks.CosineDecay(0.1, 10, alpha=0.2),
     0.1, CosineAnnealing(period=10, eta_min=0.2, unit="step")),
    # CosineDecay with warm-up: learning_rate_init is the warm-up target.
    ("CosineDecay-warmup-from-0",
     lambda: ks.CosineDecay(0.0, 10, alpha=0.1, warmup_target=0.1, warmup_steps=5),
     0.1, Sequence([(LinearWarmup(warmup=5, start_factor=0.0 / 0.1, unit="step"), 5),
                    CosineAnnealing(period=10, eta_min=0.1, unit="step")], unit="step")),
    ("CosineDecay-warmup-from-lr0",
     lambda: ks.CosineDecay(0.02, 8, alpha=0.0, warmup_target=0.5, warmup_steps=3),
     0.5, Sequence([(LinearWarmup(warmup=3, start_factor=0.02 / 0.5, unit="step"), 3),
                    CosineAnnealing(period=8, eta_min=0.0, unit="step")], unit="step")),
    ("CosineDecay-warmup-down",
     lambda: ks.CosineDecay(0.2, 4, alpha=0.3, warmup_target=0.1, warmup_steps=2),
     0.1, Sequence([(LinearWarmup(warmup=2, start_factor=0.2 / 0.1, unit="step"), 2),
                    CosineAnnealing(period=4, eta_min=0.3, unit="step")], unit="step")),
    ("CosineDecayRestarts",
     lambda: ks.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5, alpha=0.1),
     0.1, CosineWarmRestarts(T_0=4, T_mult=2.0, decay=0.5, eta_min=0.1, unit="step")),
    ("CosineDecayRestarts-defaults", lambda: ks.CosineDecayRestarts(0.1, 3),
     0.1, CosineWarmRestarts(T_0=3, T_mult=2.0, decay=1.0, eta_min=0.0, unit="step")),
]


@pytest.mark.parametrize("make_keras, lr_init, schedule",
                         [row[1:] for row in SCHEDULE_ROWS], ids=[row[0] for row in SCHEDULE_ROWS])
def test_schedule_rows(make_keras, lr_init, schedule):
    n = 40  # past every horizon: the clamping after it is part of the row
    expected = _keras_rates(make_keras(), n)
    assert_allclose(lr_init * schedule.preview(n), expected, rtol=1e-12, atol=1e-15)


def test_cosine_decay_warmup_mapping_is_not_the_cosine_alone():
    """The warm-up segment matters: without it the mapping is off at every step."""
    expected = _keras_rates(ks.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5), 15)
    alone = 0.1 * CosineAnnealing(period=10, unit="step").preview(15)
    assert np.all(np.abs(alone - expected) > 1e-3)


# -- Optimizers -------------------------------------------------------------------
class _Table(ks.LearningRateSchedule):
    """Keras schedule reading a table of rates: the rate changes at every update."""

    def __init__(self, rates):
        self.rates = np.asarray(rates, dtype=np.float64)

    def __call__(self, step):
        table = keras.ops.convert_to_tensor(self.rates)
        return keras.ops.take(table, keras.ops.cast(step, "int32"))

    def get_config(self):  # pragma: no cover - not serialised here
        return {"rates": self.rates.tolist()}


def _problem(n_steps=30, size=9, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(size)
    grads = rng.standard_normal((n_steps, size))
    grads[::7] *= 1e-3  # small gradients, where the epsilon placement shows
    rates = 0.05 * (1 + 0.5 * np.sin(np.arange(n_steps)))  # a varying rate
    return p0, grads, rates


def _keras_trajectory(make_keras, p0, grads, rates):
    variable = keras.Variable(p0.copy(), dtype="float64")
    opt = make_keras(_Table(rates))
    out = []
    for g in grads:
        opt.apply([keras.ops.convert_to_tensor(g)], [variable])
        out.append(keras.ops.convert_to_numpy(variable).copy())
    return np.array(out)


def _sklr_trajectory(opt, p0, grads, rates):
    p = p0.copy()
    state = opt.init_state(p)
    out = []
    for g, lr in zip(grads, rates):
        opt.step(p, g, state, lr)
        out.append(p.copy())
    return np.array(out)


KO = keras.optimizers
# (id, Keras optimizer from a rate, sklr solver) as the table writes them.
OPTIMIZER_ROWS = [
    ("SGD-momentum", lambda lr: KO.SGD(lr, momentum=0.9),
     SGD(momentum=0.9, nesterov=False, convention="keras")),
    ("SGD-nesterov", lambda lr: KO.SGD(lr, momentum=0.8, nesterov=True),
     SGD(momentum=0.8, nesterov=True, convention="keras")),
    ("Adam", lambda lr: KO.Adam(lr, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
     Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-3, convention="keras")),
    ("Adam-amsgrad", lambda lr: KO.Adam(lr, epsilon=1e-7, amsgrad=True),
     Adam(epsilon=1e-7, amsgrad=True, convention="keras")),
    ("AdamW", lambda lr: KO.AdamW(lr, weight_decay=0.3, beta_1=0.85, epsilon=1e-7),
     AdamW(weight_decay=0.3, beta_1=0.85, epsilon=1e-7, convention="keras")),
    ("Nadam", lambda lr: KO.Nadam(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
     NAdam(beta_1=0.9, beta_2=0.999, epsilon=1e-7, convention="keras")),
    ("Nadam-betas", lambda lr: KO.Nadam(lr, beta_1=0.7, beta_2=0.9, epsilon=1e-3),
     NAdam(beta_1=0.7, beta_2=0.9, epsilon=1e-3, convention="keras")),
    ("Adamax", lambda lr: KO.Adamax(lr, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
     Adamax(beta_1=0.8, beta_2=0.99, epsilon=1e-3, convention="keras")),
    ("RMSprop", lambda lr: KO.RMSprop(lr),
     RMSprop(rho=0.9, epsilon=1e-7, convention="keras")),
    ("RMSprop-momentum-centered", lambda lr: KO.RMSprop(lr, rho=0.8, momentum=0.5,
                                                       centered=True, epsilon=1e-3),
     RMSprop(rho=0.8, epsilon=1e-3, momentum=0.5, centered=True, convention="keras")),
    ("Adagrad", lambda lr: KO.Adagrad(lr),
     Adagrad(initial_accumulator_value=0.1, epsilon=1e-7, convention="keras")),
    ("Adagrad-accumulator", lambda lr: KO.Adagrad(lr, initial_accumulator_value=0.01,
                                                  epsilon=1e-3),
     Adagrad(initial_accumulator_value=0.01, epsilon=1e-3, convention="keras")),
    ("Adadelta", lambda lr: KO.Adadelta(lr, rho=0.9, epsilon=1e-3),
     Adadelta(rho=0.9, epsilon=1e-3)),
    ("Lion", lambda lr: KO.Lion(lr, beta_1=0.8, beta_2=0.95, weight_decay=0.2),
     Lion(beta_1=0.8, beta_2=0.95, weight_decay=0.2)),
]


@pytest.mark.parametrize("make_keras, opt", [row[1:] for row in OPTIMIZER_ROWS],
                         ids=[row[0] for row in OPTIMIZER_ROWS])
def test_optimizer_rows(make_keras, opt):
    p0, grads, rates = _problem()
    expected = _keras_trajectory(make_keras, p0, grads, rates)
    ours = _sklr_trajectory(opt, p0, grads, rates)
    assert_allclose(ours, expected, rtol=1e-11, atol=1e-13)


def test_nadam_float32_matches_keras():
    """Keras 3 ``Nadam`` in float32 too (its scalars in float32, sklr's in float64)."""
    p0, grads, rates = _problem()
    keras.config.set_floatx("float32")
    variable = keras.Variable(p0.astype(np.float32))
    opt = KO.Nadam(0.01)
    expected = []
    for g in grads:
        opt.apply([keras.ops.convert_to_tensor(g.astype(np.float32))], [variable])
        expected.append(keras.ops.convert_to_numpy(variable).copy())
    ours = _sklr_trajectory(NAdam(epsilon=1e-7, convention="keras"), p0.astype(np.float32),
                            grads.astype(np.float32), np.full(len(grads), 0.01))
    assert ours.dtype == np.float32
    assert_allclose(ours, np.array(expected), rtol=2e-5, atol=2e-6)


def test_nadam_keras2_momentum_decay_is_not_keras3():
    """The old claim (Keras's decay is 0.004) is off by ~1e-2 within 30 updates."""
    p0, grads, rates = _problem()
    expected = _keras_trajectory(lambda lr: KO.Nadam(lr, epsilon=1e-7), p0, grads, rates)
    keras2 = _sklr_trajectory(NAdam(epsilon=1e-7, momentum_decay=0.004, convention="keras"),
                              p0, grads, rates)
    assert np.max(np.abs(keras2 - expected)) > 1e-3


# -- Callbacks --------------------------------------------------------------------
def _callback_model(lr):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=KO.SGD(lr), loss="mse")
    return model


_rng = np.random.default_rng(3)
_NOISY = 1.0 / np.arange(1, 31) + 0.03 * _rng.standard_normal(30)
_STAIRS = np.repeat([1.0, 0.9, 0.9, 0.899, 0.85, 0.85, 0.8499, 0.5], 4)


@pytest.mark.parametrize("values", [_NOISY, _STAIRS], ids=["noisy", "stairs"])
@pytest.mark.parametrize("params", [
    dict(factor=0.5, patience=2, min_delta=1e-3, cooldown=0, min_lr=0.0),
    dict(factor=0.1, patience=1, min_delta=0.0, cooldown=2, min_lr=1e-4),
    dict(factor=0.5, patience=3, min_delta=0.02, cooldown=1, min_lr=0.02),
    dict(factor=0.3, patience=0, min_delta=0.0, cooldown=0, min_lr=0.0),
], ids=str)
@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_reduce_lr_on_plateau_row(params, values, monitor):
    lr0 = 0.05
    mode = "min" if monitor == "val_loss" else "max"
    values = values if mode == "min" else 2.0 - values
    callback = keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode=mode, **params)
    model = _callback_model(lr0)
    callback.set_model(model)
    rates = []
    for epoch, value in enumerate(values):
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        callback.on_epoch_end(epoch, {monitor: float(value)})
    ours = ReduceOnPlateau(
        monitor={"val_loss": "val_loss", "val_accuracy": "val_score"}[monitor],
        factor=params["factor"], patience=params["patience"], threshold=params["min_delta"],
        threshold_mode="abs", cooldown=params["cooldown"],
        min_value=params["min_lr"] / lr0, patience_convention="keras",
    )
    assert_allclose(lr0 * ours.preview(len(values), monitored=values), rates,
                    rtol=1e-12, atol=1e-15)
    assert len(set(rates)) > 1  # the case does reduce


def test_learning_rate_scheduler_row():
    """``LearningRateScheduler(lambda epoch: lr0 * f(epoch))`` is ``Lambda(f)``."""
    lr0, n_epochs, steps_per_epoch = 0.2, 12, 3

    def f(t):
        return 0.5 ** np.floor(np.asarray(t) / 4) / (1 + 0.1 * np.floor(t))

    callback = keras.callbacks.LearningRateScheduler(lambda epoch: lr0 * f(epoch))
    model = _callback_model(1.0)
    callback.set_model(model)
    rates = []
    for epoch in range(n_epochs):
        callback.on_epoch_begin(epoch)
        rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        rates += [rate] * steps_per_epoch
    ours = lr0 * Lambda(f, unit="epoch").preview(n_epochs, steps_per_epoch)
    assert_allclose(ours, rates, rtol=1e-12)


# -- The training loop --------------------------------------------------------------
X, Y = make_classification(n_samples=70, n_features=4, n_informative=3, n_redundant=0,
                           n_classes=3, random_state=0)
X_VAL, Y_VAL = X[:25] + 0.1, Y[:25]
UNITS = [4, 5, 3]
BATCH, EPOCHS = 16, 4  # a last partial batch of 6 rows in each epoch


def _sklearn_init(random_state):
    """scikit-learn's initial weights for ReLU layers (``_init_coef`` in order)."""
    rs = np.random.RandomState(random_state)
    weights = []
    for fan_in, fan_out in zip(UNITS[:-1], UNITS[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        weights += [rs.uniform(-bound, bound, (fan_in, fan_out)),
                    rs.uniform(-bound, bound, fan_out)]
    return weights


def _fit_both(keras_optimizer, validation=True, **sklr_params):
    model = keras.Sequential([keras.Input((UNITS[0],)),
                              keras.layers.Dense(UNITS[1], activation="relu"),
                              keras.layers.Dense(UNITS[2], activation="softmax")])
    model.set_weights(_sklearn_init(0))
    model.compile(optimizer=keras_optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0,
                        validation_data=(X_VAL, Y_VAL) if validation else None)
    est = MLPClassifier(hidden_layer_sizes=(UNITS[1],), activation="relu", alpha=0.0,
                        batch_size=BATCH, max_iter=EPOCHS, shuffle=False, random_state=0,
                        n_iter_no_change=np.inf, record_train_score=True, **sklr_params)
    if validation:
        est.fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    else:
        est.fit(X, Y)
    return model, history.history, est


def _assert_same_weights(model, est, rtol=1e-6):
    ours = [w for pair in zip(est.coefs_, est.intercepts_) for w in pair]
    for k, w in zip(model.get_weights(), ours):
        assert_allclose(w, k, rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("nesterov", [False, True])
def test_training_loop_rows(nesterov):
    """``Dense`` + ``fit(batch_size, epochs)`` + ``SGD(momentum, nesterov)`` with a
    per-update schedule, ``alpha=0`` and ``n_iter_no_change=np.inf``; ``History``
    against ``history_``."""
    model, hist, est = _fit_both(
        KO.SGD(ks.ExponentialDecay(0.1, 5, 0.5), momentum=0.9, nesterov=nesterov),
        solver=SGD(momentum=0.9, nesterov=nesterov, convention="keras"),
        learning_rate_init=0.1,
        learning_rate=ExponentialDecay(decay_rate=0.5, decay_steps=5, unit="step"),
    )
    _assert_same_weights(model, est)
    assert_allclose(est.loss_curve_, hist["loss"], rtol=1e-6)  # a running mean in both
    assert_allclose(est.history_["val_loss"], hist["val_loss"], rtol=1e-6)
    assert_allclose(est.history_["val_score"], hist["val_accuracy"])
    # Keras' `accuracy` is the running mean over the epoch's batches, taken
    # before each update; sklr's `score` is the end-of-epoch model's, which
    # Keras' evaluate gives.
    final = model.evaluate(X, Y, batch_size=len(X), verbose=0, return_dict=True)
    assert_allclose(est.history_["score"][-1], final["accuracy"])
    assert not np.allclose(est.history_["score"], hist["accuracy"])


def test_training_loop_alpha_default_is_not_keras():
    """sklr's default ``alpha=1e-4`` (an L2 term) changes the weights Keras trains."""
    model, _, est = _fit_both(KO.SGD(0.1, momentum=0.9), validation=False, solver="sgd",
                              learning_rate_init=0.1, momentum=0.9,
                              nesterovs_momentum=False)
    _assert_same_weights(model, est)
    est.set_params(alpha=1e-4).fit(X, Y)
    ours = np.concatenate([w.ravel() for w in est.coefs_])
    theirs = np.concatenate([w.ravel() for w in model.get_weights()[::2]])
    assert np.max(np.abs(ours - theirs)) > 1e-5


@pytest.mark.parametrize("keras_clip, sklr_clip", [
    (dict(global_clipnorm=0.3), dict(clip_norm=0.3, clip_convention="keras")),
    (dict(clipnorm=0.2), dict(clip_norm=0.2, clip_norm_mode="per_tensor",
                              clip_convention="keras")),
    (dict(clipvalue=0.05), dict(clip_value=0.05)),
], ids=["global_clipnorm", "clipnorm", "clipvalue"])
def test_gradient_clipping_rows(keras_clip, sklr_clip):
    model, hist, est = _fit_both(
        KO.Adam(0.05, epsilon=1e-7, **keras_clip), validation=False,
        solver=Adam(epsilon=1e-7, convention="keras"), learning_rate_init=0.05, **sklr_clip)
    _assert_same_weights(model, est)
    assert_allclose(est.loss_curve_, hist["loss"], rtol=1e-6)
    # The clipping did act: without it the weights differ.
    _, _, unclipped = _fit_both(KO.Adam(0.05, epsilon=1e-7), validation=False,
                                solver=Adam(epsilon=1e-7, convention="keras"),
                                learning_rate_init=0.05)
    assert not np.allclose(unclipped.coefs_[0], est.coefs_[0], rtol=1e-3)


def test_use_ema_row():
    """``use_ema=True, ema_momentum=m``: Keras overwrites the weights with their
    average at the end of ``fit``; sklr's coefs_ are the average. During ``fit``
    Keras scores ``val_loss`` with the raw weights, sklr with the average."""
    model, hist, est = _fit_both(KO.SGD(0.1, momentum=0.5, use_ema=True, ema_momentum=0.8),
                                 solver="sgd", learning_rate_init=0.1, momentum=0.5,
                                 nesterovs_momentum=False, averaging=EMA(momentum=0.8))
    _assert_same_weights(model, est)
    raw = [w for pair in zip(est.raw_coefs_, est.raw_intercepts_) for w in pair]
    assert not np.allclose(raw[0], model.get_weights()[0], rtol=1e-3)
    final = model.evaluate(X_VAL, Y_VAL, batch_size=len(X_VAL), verbose=0, return_dict=True)
    assert_allclose(est.history_["val_loss"][-1], final["loss"], rtol=1e-6)
    assert abs(est.history_["val_loss"][-1] - hist["val_loss"][-1]) > 1e-3


def test_validation_split_row():
    """``validation_split=v`` holds out the last ``floor(n (1 - v))`` rows onwards."""
    v = 0.3
    s = int(np.floor(len(X) * (1 - v)))
    model = keras.Sequential([keras.Input((UNITS[0],)),
                              keras.layers.Dense(UNITS[1], activation="relu"),
                              keras.layers.Dense(UNITS[2], activation="softmax")])
    model.set_weights(_sklearn_init(0))
    model.compile(optimizer=KO.SGD(0.1), loss="sparse_categorical_crossentropy")
    hist = model.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0,
                     validation_split=v).history
    est = MLPClassifier(hidden_layer_sizes=(UNITS[1],), alpha=0.0, solver="sgd",
                        learning_rate_init=0.1, momentum=0.0, batch_size=BATCH,
                        max_iter=EPOCHS, shuffle=False, random_state=0,
                        n_iter_no_change=np.inf)
    est.fit(X[:s], Y[:s], X_val=X[s:], y_val=Y[s:])
    _assert_same_weights(model, est)
    assert_allclose(est.history_["val_loss"], hist["val_loss"], rtol=1e-6)


@pytest.mark.parametrize("make_keras, sklr_params", [
    (lambda: KO.SGD(0.1, momentum=0.9, weight_decay=0.05),
     dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.1,
          weight_decay=0.05)),
    (lambda: KO.RMSprop(0.01, weight_decay=0.2),
     dict(solver=RMSprop(rho=0.9, epsilon=1e-7, convention="keras"), learning_rate_init=0.01,
          weight_decay=0.2)),
], ids=["SGD", "RMSprop"])
def test_weight_decay_option_row(make_keras, sklr_params):
    """Keras' ``weight_decay`` on any optimizer is the estimator's ``weight_decay``."""
    model, _, est = _fit_both(make_keras(), validation=False, **sklr_params)
    _assert_same_weights(model, est)
    undecayed = est.set_params(weight_decay=0.0).fit(X, Y)
    assert not np.allclose(undecayed.coefs_[0], model.get_weights()[0], rtol=1e-3)
