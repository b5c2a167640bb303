"""Rows of doc/translations.rst against NumPy transcriptions of the other
framework's formulas: they always run, Keras, H2O, fastai or optax installed
or not. The rows whose framework is installable are also checked against it
(tests/test_translations_keras.py, tests/test_translations_torch.py).
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from sklr.optimizers import NAdam


# -- Keras 3 Nadam ------------------------------------------------------------------
def keras3_nadam(p, grads, rates, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras 3's ``Nadam.update_step`` (keras/src/optimizers/nadam.py), in NumPy.

    ``u_product`` is updated before the step (``_backend_update_step``), with
    ``u_t = beta_1 (1 - 0.5 * 0.96 ** t)`` for the 1-based step t.
    """
    dtype = p.dtype.type
    m, v, u_product = np.zeros_like(p), np.zeros_like(p), 1.0
    out = []
    for t, (g, lr) in enumerate(zip(grads, rates), start=1):
        u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t_1 = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product = u_product * u_t
        u_product_t_1 = u_product * u_t_1
        m = m + (g - m) * dtype(1 - beta_1)
        v = v + (g * g - v) * dtype(1 - beta_2)
        m_hat = (dtype(u_t_1) * m / dtype(1 - u_product_t_1)
                 + dtype(1 - u_t) * g / dtype(1 - u_product))
        v_hat = v / dtype(1 - beta_2**t)
        p = p - m_hat * dtype(lr) / (np.sqrt(v_hat) + dtype(epsilon))
        out.append(p)
    return np.array(out)


def _trajectory(opt, p0, grads, rates):
    p = p0.copy()
    state = opt.init_state(p)
    out = []
    for g, lr in zip(grads, rates):
        opt.step(p, g, state, lr)
        out.append(p.copy())
    return np.array(out)


def _problem(n_steps=40, size=11, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(size).astype(dtype)
    grads = rng.standard_normal((n_steps, size)).astype(dtype)
    grads[::5] *= 1e-3
    rates = 0.02 * (1 + 0.5 * np.cos(np.arange(n_steps)))
    return p0, grads, rates


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.6, 0.95)])
@pytest.mark.parametrize("convention", ["keras", "sklearn"])
def test_nadam_keras_convention_is_keras3(convention, betas):
    p0, grads, rates = _problem()
    expected = keras3_nadam(p0, grads, rates, *betas, epsilon=1e-7)
    opt = NAdam(beta_1=betas[0], beta_2=betas[1], epsilon=1e-7, convention=convention)
    assert_allclose(_trajectory(opt, p0, grads, rates), expected, rtol=1e-12, atol=1e-14)


def test_nadam_keras_convention_float32():
    p0, grads, rates = _problem(dtype=np.float32)
    expected = keras3_nadam(p0, grads, rates)
    ours = _trajectory(NAdam(epsilon=1e-7, convention="keras"), p0, grads, rates)
    assert ours.dtype == np.float32
    assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_nadam_momentum_decay_defaults_per_convention():
    """None means Keras 3's 1.0 with 'keras' and PyTorch's 0.004 with 'pytorch';
    an explicit value (Keras 2's ``schedule_decay``) wins in both."""
    p0, grads, rates = _problem()
    keras_default = _trajectory(NAdam(convention="keras"), p0, grads, rates)
    keras_one = _trajectory(NAdam(momentum_decay=1.0, convention="keras"), p0, grads, rates)
    keras2 = _trajectory(NAdam(momentum_decay=0.004, convention="keras"), p0, grads, rates)
    assert_allclose(keras_default, keras_one, rtol=0, atol=0)
    assert np.max(np.abs(keras2 - keras_default)) > 1e-3
    torch_default = _trajectory(NAdam(), p0, grads, rates)
    torch_explicit = _trajectory(NAdam(momentum_decay=0.004), p0, grads, rates)
    assert_allclose(torch_default, torch_explicit, rtol=0, atol=0)
    assert NAdam().get_params()["momentum_decay"] is None


# -- Keras CosineDecay with warm-up ------------------------------------------------------
def keras_cosine_decay(step, initial_learning_rate, decay_steps, alpha=0.0,
                       warmup_target=None, warmup_steps=0):
    """Keras 3 ``CosineDecay.__call__`` as its docstring and source write it."""
    step = np.asarray(step, dtype=np.float64)
    if warmup_target is None:
        s = np.minimum(step, decay_steps)
        return initial_learning_rate * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * s / decay_steps))
                                        + alpha)
    s = np.minimum(step, decay_steps + warmup_steps)
    warm = (warmup_target - initial_learning_rate) * s / warmup_steps + initial_learning_rate
    decayed = warmup_target * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * (s - warmup_steps)
                                                                / decay_steps)) + alpha)
    return np.where(s < warmup_steps, warm, decayed)


@pytest.mark.parametrize("lr0, target, warmup, decay_steps, alpha", [
    (0.0, 0.1, 5, 10, 0.0), (0.0, 0.1, 5, 10, 0.1), (0.02, 0.5, 3, 8, 0.0),
    (0.2, 0.1, 2, 4, 0.3), (1e-4, 3e-3, 100, 900, 0.01),
])
def test_keras_cosine_decay_warmup_row(lr0, target, warmup, decay_steps, alpha):
    from sklr.schedules import CosineAnnealing, LinearWarmup, Sequence

    n = warmup + decay_steps + 20
    schedule = Sequence([(LinearWarmup(warmup=warmup, start_factor=lr0 / target, unit="step"),
                          warmup),
                         CosineAnnealing(period=decay_steps, eta_min=alpha, unit="step")],
                        unit="step")
    expected = keras_cosine_decay(np.arange(n), lr0, decay_steps, alpha, target, warmup)
    assert_allclose(target * schedule.preview(n), expected, rtol=1e-12, atol=1e-15)
    # per epoch in an estimator's run: 7 updates per epoch, the same values
    assert_allclose(target * schedule.preview(-(-n // 7), 7)[:n], expected, rtol=1e-12,
                    atol=1e-15)


def test_keras_cosine_decay_without_warmup_row():
    from sklr.schedules import CosineAnnealing

    expected = keras_cosine_decay(np.arange(30), 0.1, 20, alpha=0.2)
    ours = 0.1 * CosineAnnealing(period=20, eta_min=0.2, unit="step").preview(30)
    assert_allclose(ours, expected, rtol=1e-12)


# -- Keras' legacy SGD(lr, momentum, decay) ----------------------------------------------
def test_keras_legacy_sgd_decay_row():
    """Keras 2's ``lr / (1 + decay * iterations)``, iterations = updates before this one,
    through a fit: the rate the kernel used at the last update of every epoch."""
    from sklearn.datasets import make_classification

    from sklr import MLPClassifier
    from sklr.schedules import InverseTimeDecay

    X, y = make_classification(n_samples=100, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", alpha=0.0, batch_size=32,
                        max_iter=6, n_iter_no_change=np.inf, learning_rate_init=0.01,
                        learning_rate=InverseTimeDecay(decay=0.05, unit="step"),
                        momentum=0.9, nesterovs_momentum=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    iterations = 4 * np.arange(1, 7) - 1  # ceil(100 / 32) = 4 updates per epoch
    assert_allclose(est.history_["learning_rate"], 0.01 / (1 + 0.05 * iterations), rtol=1e-12)


# -- H2O-3 Deep Learning ---------------------------------------------------------------
# Transcribed from H2O-3's Java source (hex/deeplearning/Neurons.java,
# hex/DataInfo.java, water/fvec/RollupStats.java, hex/ScoreKeeper.java,
# water/util/MathUtils.java); H2O itself needs a JVM and is not installed here.
def h2o_standardize(X):
    """DataInfo's STANDARDIZE: (x - mean) / sigma, sigma from RollupStats (n - 1),
    multiplier 1 for a constant column."""
    sigma = X.std(axis=0, ddof=1)
    return (X - X.mean(axis=0)) * np.where(sigma != 0, 1 / np.where(sigma != 0, sigma, 1), 1.0)


def h2o_approx_sqrt(x):
    """MathUtils.approxSqrt(float): a bit trick, float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.int32)
    return (np.int32(532483686) + (bits >> 1)).astype(np.int32).view(np.float32)


def test_h2o_standardize_row():
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.datasets import load_diabetes, load_digits
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import StandardScaler

    X = load_digits().data  # three constant columns
    n = X.shape[0]
    ours = StandardScaler().fit_transform(X) * np.sqrt((n - 1) / n)
    assert_allclose(ours, h2o_standardize(X), rtol=1e-12, atol=1e-12)
    # a regressor's target: TransformedTargetRegressor's transformer
    Xd, yd = load_diabetes(return_X_y=True)
    reg = TransformedTargetRegressor(LinearRegression(), transformer=StandardScaler()).fit(Xd, yd)
    scaled = reg.transformer_.transform(yd[:, None]).ravel() * np.sqrt((len(yd) - 1) / len(yd))
    assert_allclose(scaled, h2o_standardize(yd[:, None]).ravel(), rtol=1e-12)


def _h2o_manual_rate_example(random_state):
    """The manual-rate model of doc/translations.rst, as written there."""
    from sklr import MLPClassifier
    from sklr.optimizers import SGD
    from sklr.schedules import InverseTimeDecay, LinearDecay, MomentumRamp, Product

    start, stable, ramp = 0.5, 0.99, 1e5
    return MLPClassifier(
        hidden_layer_sizes=(200, 200), batch_size=1, max_iter=10, n_iter_no_change=np.inf,
        alpha=0.0, solver=SGD(nesterov=False, convention="pytorch"),
        momentum=MomentumRamp(start=start, stable=stable, ramp=ramp, unit="sample"),
        learning_rate_init=0.01 * (1 - start),
        learning_rate=Product(InverseTimeDecay(decay=1e-6, unit="sample"),
                              LinearDecay(total=ramp, end_value=(1 - stable) / (1 - start),
                                          unit="sample")),
        layer_lr_decay=0.9, input_dropout=0.2, random_state=random_state)


def test_h2o_example_on_digits_with_and_without_the_scaler():
    """The row's numbers: final training log-loss 0.42-0.47 unscaled, 0.05-0.08 scaled."""
    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    with threadpool_limits(1), warnings.catch_warnings():  # one thread: 1-row batches
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw = _h2o_manual_rate_example(0).fit(X, y)
        scaled = make_pipeline(StandardScaler(), _h2o_manual_rate_example(0)).fit(X, y)
    assert 0.4 < raw.loss_curve_[-1] < 0.5
    assert scaled[-1].loss_curve_[-1] < 0.09


def h2o_manual_sgd(p, grads, rate, rate_annealing, m_start, m_stable, m_ramp):
    """Neurons.bprop with nesterov_accelerated_gradient=True, one row per update:
    rate(n) = rate / (1 + rate_annealing n), r = rate(n) (1 - m), wm = m wm + d,
    w += r wm, with d = -gradient and n the rows seen before the update; m is the
    documented ramp (momentum_start to momentum_stable over momentum_ramp rows)."""
    wm = np.zeros_like(p)
    out = []
    for n, g in enumerate(grads):
        m = m_stable if n >= m_ramp else m_start + (m_stable - m_start) * n / m_ramp
        r = rate / (1 + rate_annealing * n) * (1 - m)
        wm = m * wm + (-g)
        p = p + r * wm
        out.append(p)
    return np.array(out)


@pytest.mark.parametrize("m_start, m_stable, m_ramp", [(0.5, 0.99, 20), (0.9, 0.9, 1e6),
                                                       (0.0, 0.8, 35)])
def test_h2o_nesterov_accelerated_gradient_row(m_start, m_stable, m_ramp):
    from sklr.optimizers import SGD
    from sklr.schedules import InverseTimeDecay, LinearDecay, MomentumRamp, Product

    p0, grads, _ = _problem(n_steps=50)
    rate, annealing = 0.05, 0.01
    expected = h2o_manual_sgd(p0, grads, rate, annealing, m_start, m_stable, m_ramp)
    lr = rate * (1 - m_start) * Product(
        InverseTimeDecay(decay=annealing, unit="sample"),
        LinearDecay(total=m_ramp, end_value=(1 - m_stable) / (1 - m_start), unit="sample"),
    ).preview(1, len(grads), batch_size=1)
    mu = MomentumRamp(start=m_start, stable=m_stable, ramp=m_ramp, unit="sample").preview(
        1, len(grads), batch_size=1)
    opt = SGD(nesterov=False, convention="pytorch")
    p, state, ours = p0.copy(), opt.init_state(p0), []
    for g, lr_t, mu_t in zip(grads, lr, mu):
        opt.step(p, g, state, lr_t, momentum=mu_t)
        ours.append(p.copy())
    assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
    # the old translation (scikit-learn's Nesterov form at H2O's rate) is not it
    old = SGD(momentum=m_start, nesterov=True)
    assert np.max(np.abs(_trajectory(old, p0, grads, np.full(len(grads), rate)) - expected)) > 1e-3


def h2o_adadelta(p, grads, rho, eps, sqrt=np.sqrt):
    """Neurons.computeAdaDeltaRateForWeight, then w += rate * d (d = -gradient)."""
    e_g2, e_dx2 = np.zeros_like(p), np.zeros_like(p)
    out = []
    for g in grads:
        d = -g
        e_g2 = rho * e_g2 + (1 - rho) * d * d
        rate = sqrt((e_dx2 + eps) / (e_g2 + eps))
        e_dx2 = rho * e_dx2 + (1 - rho) * rate * rate * d * d
        p = p + rate * d
        out.append(p)
    return np.array(out)


def test_h2o_adaptive_rate_row():
    """The same rule as Adadelta(rho, epsilon) for the weights, up to H2O's fast square
    root (and float32), which moves the result by far more than rounding."""
    from sklr.optimizers import Adadelta

    p0, grads, _ = _problem(n_steps=60)
    ours = _trajectory(Adadelta(rho=0.99, epsilon=1e-8), p0, grads, np.ones(len(grads)))
    assert_allclose(ours, h2o_adadelta(p0, grads, 0.99, 1e-8), rtol=1e-10, atol=1e-13)
    approx = h2o_adadelta(p0.astype(np.float32), grads.astype(np.float32), np.float32(0.99),
                          np.float32(1e-8), sqrt=h2o_approx_sqrt)
    assert np.max(np.abs(approx - ours) / np.abs(ours - p0).max()) > 1e-3


def test_h2o_fast_square_root_is_up_to_5_percent_off():
    x = np.logspace(-12, 6, 20001).astype(np.float32)
    relative = np.abs(h2o_approx_sqrt(x) / np.sqrt(x.astype(np.float64)) - 1)
    assert 0.03 < relative.max() < 0.05


def h2o_stop_early(scores, k, tolerance, more_is_better=False, lower_bound_0=True):
    """ScoreKeeper.stopEarly over the scoring history: H2O's empty first entry, then
    ``scores``; moving averages of window k over the last 2k scores."""
    history = [np.nan] + list(scores)
    if k == 0 or len(history) - 1 < 2 * k:
        return False
    averages = [np.mean(history[len(history) - 2 * k + i:len(history) - k + i])
                for i in range(k + 1)]
    if np.any(np.isnan(averages)):
        return False
    reference, later = averages[0], averages[1:]
    if lower_bound_0 and reference == 0.0:
        return True
    extreme = max(later) if more_is_better else min(later)
    if np.sign(max(averages)) != np.sign(min(averages)) or np.sign(extreme) != np.sign(reference):
        return False
    ratio = extreme / reference
    return ratio <= 1 + tolerance if more_is_better else ratio >= 1 - tolerance


def h2o_stopping_event(scores, k=5, tolerance=0.0):
    """1-based scoring event at which H2O stops, None if it never does."""
    for event in range(1, len(scores) + 1):
        if h2o_stop_early(scores[:event], k, tolerance):
            return event
    return None


@pytest.mark.parametrize("k", [1, 2, 5])
def test_h2o_stopping_rounds_row(k):
    """The row's account of H2O's rule (``stopping_tolerance=0`` by default)."""
    rng = np.random.default_rng(k)
    # It needs 2k scoring events: a constant metric stops exactly at the 2k-th.
    assert h2o_stopping_event(np.full(40, 0.3), k) == 2 * k
    for _ in range(20):
        event = h2o_stopping_event(0.5 + 0.1 * rng.random(40), k)
        assert event is None or event >= 2 * k
    # Flat from event j on: stops at the 2k-th flat event.
    j = 7
    scores = np.concatenate([1.0 / np.arange(1, j), np.full(40, 0.1)])
    assert h2o_stopping_event(scores, k) == (j - 1) + 2 * k
    # A metric that keeps improving never stops at tolerance 0 ...
    slow = 1.0 / (1.0 + 0.001 * np.arange(60))
    assert h2o_stopping_event(slow, k) is None
    # ... and stops once its relative improvement over k events is below the tolerance.
    assert h2o_stopping_event(slow, k, tolerance=0.02) is not None


def h2o_initial_weights(units, activation, classifier, distribution="UniformAdaptive",
                        scale=1.0, rng=None):
    """H2O-3's ``DeepLearningModelInfo.randomizeWeights`` and ``initializeMembers``,
    transcribed: the laws (not H2O's Java generator, nor its float32 draws)."""
    rng = np.random.default_rng(0) if rng is None else rng
    coefs, intercepts = [], []
    n_hidden = len(units) - 2
    for w in range(len(units) - 1):
        shape = (units[w], units[w + 1])
        if distribution == "UniformAdaptive":
            r = np.sqrt(6.0 / (units[w] + units[w + 1]))
            m = rng.uniform(-r, r, shape)
            if w == len(units) - 2 and classifier:
                m = 4.0 * m  # "Softmax might need an extra factor 4"
        elif distribution == "Uniform":
            m = rng.uniform(-scale, scale, shape)
        else:
            m = rng.standard_normal(shape) * scale
        coefs.append(m)
        b = np.zeros(units[w + 1])  # Tanh, and the output layer: 0
        if w < n_hidden and activation == "relu":  # Rectifier: 0.5, then 1
            b[:] = 0.5 if w == 0 else 1.0
        intercepts.append(b)
    return coefs, intercepts


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("classifier", [True, False])
@pytest.mark.parametrize("distribution, scale, init", [
    ("UniformAdaptive", 1.0, "h2o"),
    ("Uniform", 0.3, "H2O('Uniform', scale=0.3)"),
    ("Normal", 0.2, "H2O('Normal', scale=0.2)"),
], ids=["UniformAdaptive", "Uniform", "Normal"])
def test_h2o_initial_weight_distribution_rows(activation, classifier, distribution, scale,
                                              init):
    """Each row's ``init`` draws H2O's laws (two-sample KS on 120 000 weights) and
    H2O's bias constants, in the estimator."""
    from scipy import stats

    from sklr import MLPClassifier, MLPRegressor
    from sklr.initializers import H2O  # noqa: F401 - the rows' eval

    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 400))
    y = np.arange(40) % 30 if classifier else rng.standard_normal((40, 30))
    Estimator = MLPClassifier if classifier else MLPRegressor
    est = Estimator(hidden_layer_sizes=(300, 200), activation=activation, random_state=0,
                    init=init if init == "h2o" else eval(init),
                    solver="sgd", momentum=0.0, learning_rate_init=1e-300, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)  # a rate of 1e-300 moves no weight: these are the initial ones
    units = [400, 300, 200, 30]
    coefs, intercepts = h2o_initial_weights(units, activation, classifier, distribution, scale)
    for ours, theirs in zip(est.coefs_, coefs):
        assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 1e-3
        if distribution != "Normal":  # the same support, to its edge
            assert_allclose(np.abs(ours).max(), np.abs(theirs).max(), rtol=0.02)
    for ours, theirs in zip(est.intercepts_, intercepts):
        assert_allclose(ours, theirs, rtol=0, atol=1e-250)  # (moved by ~1e-300 g)


def test_h2o_default_is_not_sklearns_default():
    """What the row warns about: without init='h2o' the output layer is 4x
    narrower and the biases are drawn."""
    from sklr.initializers import get_initializer

    units = [20, 50, 2000]
    coefs, intercepts = get_initializer("sklearn").draw(units, 0, classifier=True)
    h2o_coefs, _ = h2o_initial_weights(units, "relu", True)
    assert np.abs(coefs[-1]).max() < np.abs(h2o_coefs[-1]).max() / 3.9
    assert np.unique(intercepts[0]).size == 50


# -- fastai ------------------------------------------------------------------------------
def fastai_combined_cos(pos, pct, start, middle, end):
    """fastai's ``combined_cos`` (``combine_scheds`` of two ``SchedCos``) at ``pos`` in [0, 1]."""
    def sched_cos(a, b, p):
        return a + (1 + np.cos(np.pi * (1 - p))) * (b - a) / 2

    if pos < pct:
        return sched_cos(start, middle, pos / pct)
    return sched_cos(middle, end, (pos - pct) / (1 - pct))


def test_fastai_fit_one_cycle_row():
    """The page's example: the same start, end and shape, the peak one update earlier.

    fastai's ParamScheduler reads ``pos = train_iter / total`` before each update."""
    from sklr.schedules import CyclicMomentum, OneCycle

    n_epoch, lr_max, steps_per_epoch = 30, 1e-2, 16
    total = n_epoch * steps_per_epoch
    cycle = OneCycle(total=total, pct_start=0.25, div_factor=25, final_div_factor=1e5 / 25,
                     unit="step")
    ours = lr_max * cycle.preview(n_epoch, steps_per_epoch)
    theirs = np.array([fastai_combined_cos(i / total, 0.25, lr_max / 25, lr_max, lr_max / 1e5)
                       for i in range(total)])
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    assert np.argmax(ours) == np.argmax(theirs) - 1 == 0.25 * total - 1
    assert ours.max() == pytest.approx(lr_max, rel=1e-12)
    assert ours[-1] == pytest.approx(lr_max / 1e5, rel=1e-9)  # fastai's end value
    assert fastai_combined_cos(1.0, 0.25, lr_max / 25, lr_max, lr_max / 1e5) == pytest.approx(
        lr_max / 1e5, rel=1e-9)
    assert np.max(np.abs(ours - theirs)) < 0.01 * lr_max
    momentum = CyclicMomentum(cycle, base_momentum=0.85, max_momentum=0.95).preview(
        n_epoch, steps_per_epoch)
    moms = np.array([fastai_combined_cos(i / total, 0.25, 0.95, 0.85, 0.95)
                     for i in range(total)])
    assert momentum[0] == pytest.approx(moms[0]) and momentum[-1] == pytest.approx(0.95)
    assert np.argmin(momentum) == np.argmin(moms) - 1
    # final_div_factor=1e5 (fastai's div_final copied) would end 25 times lower
    wrong = OneCycle(total=total, pct_start=0.25, div_factor=25, final_div_factor=1e5,
                     unit="step")
    assert lr_max * wrong.preview(total)[-1] == pytest.approx(lr_max / 25 / 1e5)


# -- optax -------------------------------------------------------------------------------
def optax_radam(p, grads, rates, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """optax ``scale_by_radam`` (eps on the bias-corrected root, switch at ro >= 5)
    followed by ``scale_by_learning_rate``."""
    m, v = np.zeros_like(p), np.zeros_like(p)
    ro_inf = 2.0 / (1 - b2) - 1
    out = []
    for t, (g, lr) in enumerate(zip(grads, rates), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        ro = ro_inf - 2 * t * b2**t / (1 - b2**t)
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        if ro >= threshold:
            r = np.sqrt((ro - 4) * (ro - 2) * ro_inf / ((ro_inf - 4) * (ro_inf - 2) * ro))
            update = r * m_hat / (np.sqrt(v_hat) + eps)
        else:
            update = m_hat
        p = p - lr * update
        out.append(p)
    return np.array(out)


def optax_lion(p, grads, rates, b1=0.9, b2=0.99, weight_decay=1e-3):
    """optax ``lion``: sign((1 - b1) g + b1 m) + weight_decay p, times -lr; then m."""
    m = np.zeros_like(p)
    out = []
    for g, lr in zip(grads, rates):
        update = np.sign((1 - b1) * g + b1 * m) + weight_decay * p
        m = b2 * m + (1 - b2) * g
        p = p - lr * update
        out.append(p)
    return np.array(out)


def test_optax_lion_row():
    from sklr.optimizers import Lion

    p0, grads, rates = _problem()
    expected = optax_lion(p0, grads, rates, 0.8, 0.95, weight_decay=0.3)
    ours = _trajectory(Lion(beta_1=0.8, beta_2=0.95, weight_decay=0.3), p0, grads, rates)
    assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_optax_radam_row():
    """Not reproduced, but the results differ only where eps is not negligible against
    sqrt(v): equal to ~1e-7 with eps=1e-8 and unit gradients, apart with eps=1e-2."""
    from sklr.optimizers import RAdam

    p0, grads, rates = _problem(n_steps=60)
    grads = grads + np.sign(grads)  # every |g| >= 1 (no tiny gradients here)
    close = _trajectory(RAdam(epsilon=1e-8), p0, grads, rates)
    assert_allclose(close, optax_radam(p0, grads, rates, eps=1e-8), rtol=1e-6, atol=1e-7)
    apart = _trajectory(RAdam(epsilon=1e-2), p0, grads, rates)
    assert np.max(np.abs(apart - optax_radam(p0, grads, rates, eps=1e-2))) > 1e-4


def test_h2o_l1_l2_rows_with_one_row_batches():
    """With ``batch_size=1`` sklr's ``l1`` and ``alpha`` change each update of the weights
    by H2O's per-row ``-rate * (l1 * sign(w) + l2 * w)``; the intercepts, which H2O
    penalises too, are not penalised."""
    from sklr import MLPRegressor

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1, 4)), np.array([0.7])
    kw = dict(hidden_layer_sizes=(3,), solver="sgd", momentum=0.0, batch_size=1, max_iter=1,
              learning_rate_init=0.1, random_state=0, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPRegressor(alpha=0.0, **kw).fit(X, y)
        start = MLPRegressor(alpha=0.0, learning_rate_init=1e-300,
                             **{k: v for k, v in kw.items() if k != "learning_rate_init"}
                             ).fit(X, y)
        penalised = MLPRegressor(alpha=0.02, l1=0.03, **kw).fit(X, y)
    for w0, w_plain, w_pen in zip(start.coefs_, plain.coefs_, penalised.coefs_):
        assert_allclose(w_pen - w_plain, -0.1 * (0.03 * np.sign(w0) + 0.02 * w0),
                        rtol=1e-10, atol=1e-15)
    for b_plain, b_pen in zip(plain.intercepts_, penalised.intercepts_):
        assert_allclose(b_pen, b_plain, rtol=1e-12)
