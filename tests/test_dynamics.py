"""record_dynamics: the kernel's per-layer statistics, the sharpness and
gradient-noise-scale probes, and DynamicsDisplay.

References are independent of the code under test: scikit-learn's own
backpropagation (``_backprop``) gives gradients, the weights before and after
each update come from running the kernel one minibatch at a time, dead units
from scikit-learn's forward pass, Hessians from closed forms or dense finite
differences of scikit-learn's gradient, noise statistics from per-sample
gradients.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import InvalidParameterError

from sklr import Dynamics, MLPClassifier, MLPRegressor, optimizers
from sklr._codes import (
    DIAG_DEAD_FRACTION,
    DIAG_GRAD_NORM,
    DIAG_SIZE,
    DIAG_UPDATE_RATIO,
    DIAG_WEIGHT_NORM,
    Activation,
    Loss,
)
from sklr._dynamics import noise_scale, stability_limit, top_eigenvalue
from sklr._kernel import Kernel, clip_array, dropout_mask, reg_array, step_table

# ---------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------


def _tensors(params, units):
    """[W_0 .. W_{L-1}], [b_0 .. b_{L-1}]: views of a flat buffer (sklearn's _pack order)."""
    L = len(units) - 1
    Ws, bs, off = [], [], 0
    for i in range(L):
        n = units[i] * units[i + 1]
        Ws.append(params[off:off + n].reshape(units[i], units[i + 1]))
        off += n
    for i in range(L):
        bs.append(params[off:off + units[i + 1]])
        off += units[i + 1]
    return Ws, bs


def _sk_network(params, units, hidden, out, loss, alpha):
    """A scikit-learn MLP holding the flat weights ``params`` (float64 copies)."""
    ref = SkMLPRegressor(activation=hidden, alpha=alpha)
    Ws, bs = _tensors(np.asarray(params, dtype=np.float64).copy(), units)
    ref.coefs_, ref.intercepts_ = Ws, bs
    ref.n_layers_ = len(units)
    ref.out_activation_ = out
    ref.loss = loss
    return ref


def _sk_gradient(params, units, X, Y, hidden="relu", out="softmax", loss="log_loss",
                 alpha=0.0, sw=None):
    """scikit-learn's minibatch gradient (its _backprop) as a flat float64 vector."""
    ref = _sk_network(params, units, hidden, out, loss, alpha)
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    L = len(units) - 1
    acts = [X] + [None] * L
    deltas = [None] * L
    cg = [np.empty_like(W) for W in ref.coefs_]
    ig = [np.empty_like(b) for b in ref.intercepts_]
    _, cg, ig = ref._backprop(X, Y, sw, acts, deltas, cg, ig)
    return np.concatenate([g.ravel() for g in cg + ig])


def _sk_hidden(params, units, X, hidden):
    """scikit-learn's forward pass: the hidden layers' activations."""
    ref = _sk_network(params, units, hidden, "identity", "squared_error", 0.0)
    acts = [np.asarray(X, dtype=np.float64)] + [None] * (len(units) - 1)
    return ref._forward_pass(acts)[1:-1]


def _layer_norms(flat, units):
    return np.array([np.linalg.norm(W) for W in _tensors(np.asarray(flat, np.float64),
                                                         units)[0]])


# ---------------------------------------------------------------------------
# The kernel's per-layer statistics against a one-update-at-a-time reference
# ---------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(momentum=0.9, nesterov=False),
    "adam": lambda: optimizers.Adam(),
    "rmsprop": lambda: optimizers.RMSprop(),
    "adamw": lambda: optimizers.AdamW(weight_decay=0.01),
}


def _problem(dtype, units, n, seed=0, n_dead=2, lonely_row=None):
    """Data, one-hot targets and weights whose first ``n_dead`` units of the
    first hidden layer are dead (bias -100: zero gradient, they stay dead)
    and, with ``lonely_row``, whose next unit is alive on that row only."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, units[0])).astype(dtype)
    Y = np.eye(units[-1], dtype=dtype)[rng.randint(units[-1], size=n)]
    n_params = sum(a * b for a, b in zip(units[:-1], units[1:])) + sum(units[1:])
    params = rng.uniform(-0.3, 0.3, n_params).astype(dtype)
    Ws, bs = _tensors(params, units)
    bs[0][:n_dead] = -100.0
    if lonely_row is not None:
        X[lonely_row, 0] = 100.0
        Ws[0][:, n_dead] = 0.0
        Ws[0][0, n_dead] = 1.0
        bs[0][n_dead] = -50.0
    return X, Y, params


def _reference_epoch(kernel, params, state, sample_idx, batch, steps, units, X, Y, hidden,
                     alpha):
    """Run the epoch one minibatch per call; the per-layer statistics from references."""
    L = len(units) - 1
    grads, ratios = [], []
    alive = [np.zeros(units[i + 1], dtype=bool) for i in range(L - 1)]
    for k, start in enumerate(range(0, len(sample_idx), batch)):
        idx = sample_idx[start:start + batch]
        before = params.copy()
        g = _sk_gradient(before, units, X[idx], Y[idx], hidden, alpha=alpha)
        grads.append(np.array([np.linalg.norm(W) for W in _tensors(g, units)[0]]))
        for i, a in enumerate(_sk_hidden(before, units, X[idx], hidden)):
            alive[i] |= (a > 0).any(axis=0)
        kernel.train_epoch(params, state, idx, len(idx), steps[k:k + 1])
        step = _layer_norms(params.astype(np.float64) - before.astype(np.float64), units)
        ratios.append(step / _layer_norms(before, units))
    dead = [1.0 - a.mean() for a in alive]
    return (np.mean(grads, axis=0), np.mean(ratios, axis=0), _layer_norms(params, units),
            dead)


MODES = ["plain", "layer_lr_decay", "clip_inf", "clip"]
# Networks and batches that take each path of the kernel with two threads:
# rows split over threads with the finishing pass in two blocks, and matrix
# products split by columns (see doc/development.rst).
THREADED = [((64, 240, 10), 150, 64), ((64, 1100, 10), 40, 16)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", list(OPTIMIZERS))
@pytest.mark.parametrize("hidden", ["relu", "tanh"])
@pytest.mark.parametrize("mode", MODES)
def test_kernel_statistics_match_references(dtype, solver, hidden, mode):
    _check_kernel_statistics(dtype, solver, hidden, mode, (5, 7, 6, 3), 150, 64, 1)


@pytest.mark.parametrize("problem", THREADED)
@pytest.mark.parametrize("mode", ["plain", "clip"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_kernel_statistics_with_threads(problem, mode, solver):
    units, n, batch = problem
    _check_kernel_statistics(np.float64, solver, "relu", mode, units, n, batch, 2)


def _check_kernel_statistics(dtype, solver, hidden, mode, units, n, batch, n_threads):
    sample_idx = np.random.RandomState(1).permutation(n).astype(np.intp)
    # One unit alive on a single row, in the second half of the second
    # minibatch: the rows of the second thread when two threads split it.
    X, Y, params = _problem(dtype, units, n, lonely_row=sample_idx[batch + batch - 2])
    alpha = 1e-3
    reg = reg_array(len(units), alpha=alpha,
                    layer_lr_decay=0.5 if mode == "layer_lr_decay" else 1.0)
    clip = {"clip_inf": clip_array(norm=np.inf), "clip": clip_array(norm=0.05)}.get(mode)
    opt = OPTIMIZERS[solver]()
    codes = (Activation[hidden.upper()], Activation.SOFTMAX, Loss.LOG_LOSS)
    kernel = Kernel(X, Y, None, units, codes, reg, opt._config(), n_threads, clip)
    n_steps = -(-n // batch)
    steps = step_table(np.full(n_steps, 0.05), np.full(n_steps, 0.9))

    ref_params, ref_state = params.copy(), opt.init_state(params)
    grad, ratio, wnorm, dead = _reference_epoch(
        kernel, ref_params, ref_state, sample_idx, batch, steps, units, X, Y, hidden, alpha)

    diag = np.full((len(units) - 1, DIAG_SIZE), -1.0)
    state = opt.init_state(params)
    _, done, flag = kernel.train_epoch(params, state, sample_idx, batch, steps,
                                       diagnostics=diag)
    assert (done, flag) == (n_steps, 0)
    # Measuring does not change the trajectory: bit-identical weights and state.
    np.testing.assert_array_equal(params, ref_params)
    for key in ("state_1", "state_2", "state_3", "scalars"):
        np.testing.assert_array_equal(state[key], ref_state[key])

    rtol = 1e-9 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(diag[:, DIAG_GRAD_NORM], grad, rtol=rtol)
    np.testing.assert_allclose(diag[:, DIAG_UPDATE_RATIO], ratio, rtol=1e-9)
    np.testing.assert_allclose(diag[:, DIAG_WEIGHT_NORM], wnorm, rtol=1e-9)
    assert np.isnan(diag[-1, DIAG_DEAD_FRACTION])
    if hidden == "relu":
        np.testing.assert_allclose(diag[:-1, DIAG_DEAD_FRACTION], dead)
        assert diag[0, DIAG_DEAD_FRACTION] >= 2 / units[1]
    else:
        assert np.isnan(diag[:, DIAG_DEAD_FRACTION]).all()


def test_dead_fraction_is_measured_before_dropout():
    """Dropout zeroes units at random; a dead unit is one whose ReLU is 0 on
    every row. A unit alive on one row only, where dropout drops it, is alive."""
    units, n, batch, seed, rate = (6, 12, 3), 80, 20, 3, 0.9
    # A row where dropout drops hidden unit 3 (the masks are a function of
    # the epoch's seed, the update, the layer, the row and the unit).
    masks = [dropout_mask(seed, k, 1, batch, units[1], rate) for k in range(n // batch)]
    k, r = next((k, r) for k in range(n // batch) for r in range(batch) if not masks[k][r, 3])
    X, Y, params = _problem(np.float64, units, n, n_dead=3, lonely_row=k * batch + r)
    opt = optimizers.SGD(momentum=0.0)
    codes = (Activation.RELU, Activation.SOFTMAX, Loss.LOG_LOSS)
    reg = reg_array(len(units), dropout=[0.0, rate])
    kernel = Kernel(X, Y, None, units, codes, reg, opt._config(), 1)
    diag = np.empty((2, DIAG_SIZE))
    # lr 0: the weights stay, so one forward pass at them is the reference.
    kernel.train_epoch(params, opt.init_state(params), np.arange(n), batch,
                       step_table(np.zeros(4), np.zeros(4)), seed=seed, diagnostics=diag)
    (hidden,) = _sk_hidden(params, units, X, "relu")
    assert (hidden[:, 3] > 0).sum() == 1
    assert diag[0, DIAG_DEAD_FRACTION] == pytest.approx(1 - (hidden > 0).any(axis=0).mean())
    assert diag[0, DIAG_DEAD_FRACTION] == pytest.approx(3 / 12)
    assert diag[0, DIAG_UPDATE_RATIO] == 0.0


def test_kernel_rejects_a_diagnostics_array_of_the_wrong_shape():
    units = (4, 5, 2)
    X, Y, params = _problem(np.float64, units, 10, n_dead=0)
    opt = optimizers.SGD()
    kernel = Kernel(X, Y, None, units, (Activation.RELU, Activation.SOFTMAX, Loss.LOG_LOSS),
                    reg_array(3), opt._config(), 1)
    with pytest.raises(ValueError, match="diagnostics must have shape"):
        kernel.train_epoch(params, opt.init_state(params), np.arange(10), 5,
                           step_table([0.1, 0.1], [0.9, 0.9]),
                           diagnostics=np.empty((3, DIAG_SIZE)))
    # The kernel is usable afterwards, and loss_grad does not measure.
    grad = np.empty_like(params)
    kernel.loss_grad(params, grad)
    kernel.train_epoch(params, opt.init_state(params), np.arange(10), 5,
                       step_table([0.1, 0.1], [0.9, 0.9]))


# ---------------------------------------------------------------------------
# The estimator: history keys and values, parity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_history_matches_references_epoch_by_epoch(dtype, solver, activation):
    """One update per epoch (batch_size = n): the epoch's values are those of
    the update, computed from the weights before and after partial_fit."""
    X, y = make_classification(n_samples=60, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    X = X.astype(dtype)
    Y = LabelBinarizer().fit(y).transform(y)
    clf = MLPClassifier(hidden_layer_sizes=(9, 7), activation=activation, solver=solver,
                        alpha=0.01, batch_size=60, learning_rate_init=0.05,
                        random_state=0, record_dynamics=True)
    units = [6, 9, 7, 3]
    clf.partial_fit(X, y, classes=np.unique(y))
    for epoch in range(1, 4):
        before = np.concatenate([W.ravel() for W in clf.coefs_]
                                + [b.ravel() for b in clf.intercepts_])
        g = _sk_gradient(before, units, X, Y, activation, alpha=0.01)
        hidden = _sk_hidden(before, units, X, activation)
        clf.partial_fit(X, y)
        after = [W.astype(np.float64) for W in clf.coefs_]
        h = clf.history_
        rtol = 1e-9 if dtype == np.float64 else 2e-4
        for i, (W0, W1) in enumerate(zip(_tensors(before, units)[0], after)):
            gW = np.linalg.norm(_tensors(g, units)[0][i])
            assert h[f"grad_norm_layer{i}"][epoch] == pytest.approx(gW, rel=rtol)
            ratio = np.linalg.norm(W1 - W0) / np.linalg.norm(W0)
            assert h[f"update_ratio_layer{i}"][epoch] == pytest.approx(ratio, rel=1e-6)
            assert h[f"weight_norm_layer{i}"][epoch] == pytest.approx(np.linalg.norm(W1),
                                                                      rel=1e-9)
        if activation == "relu":
            for i, a in enumerate(hidden):
                dead = 1 - (a > 0).any(axis=0).mean()
                assert h[f"dead_fraction_layer{i}"][epoch] == pytest.approx(dead)
            assert "dead_fraction_layer2" not in h
        else:
            assert not any(k.startswith("dead_fraction") for k in h)
    assert "grad_norm_mean" not in h and "sharpness" not in h and "noise_scale" not in h


CONFIGS = [
    dict(solver="sgd"),
    dict(solver="adam", clip_norm=1.0),
    dict(solver="rmsprop", layer_lr_decay=0.7, weight_decay=1e-3),
    dict(solver="sgd", dropout=0.2, max_norm=1.0),
    dict(solver="adamw", averaging=None, batch_size=7),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_recording_leaves_the_trajectory_bit_identical(config, dtype):
    X, y = make_classification(n_samples=120, n_features=8, random_state=0)
    X = X.astype(dtype)
    fits = []
    for record in (False, True, Dynamics(sharpness_every=1, noise_scale=True)):
        clf = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=4, random_state=0,
                            record_dynamics=record, **config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(clf.fit(X, y))
    for other in fits[1:]:
        for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, other.coefs_ + other.intercepts_):
            np.testing.assert_array_equal(a, b)
        assert other.loss_curve_ == fits[0].loss_curve_
    assert "sharpness" in fits[2].history_ and "grad_norm_layer0" not in fits[0].history_


def test_update_ratio_responds_to_the_learning_rate():
    """For plain SGD the step is lr x gradient: the ratio scales with the rate."""
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    ratios = []
    for lr in (1e-4, 1e-3):
        reg = MLPRegressor(hidden_layer_sizes=(10,), solver="sgd", momentum=0.0,
                           learning_rate_init=lr, batch_size=100, max_iter=1,
                           random_state=0, record_dynamics=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X / 10, y / 100)
        ratios.append(reg.history_["update_ratio_layer0"][0])
    assert ratios[1] / ratios[0] == pytest.approx(10, rel=1e-6)


def test_record_dynamics_parameter_validation():
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="record_dynamics need a stochastic solver"):
        MLPClassifier(solver="lbfgs", record_dynamics=True).fit(X, y)
    with pytest.raises(InvalidParameterError, match="probe_size"):
        MLPClassifier(record_dynamics=Dynamics(probe_size=1), max_iter=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="record_dynamics"):
        MLPClassifier(record_dynamics="yes").fit(X, y)
    clf = MLPClassifier(record_dynamics=Dynamics(sharpness_every=3))
    params = clf.get_params(deep=True)
    assert params["record_dynamics__sharpness_every"] == 3
    clf.set_params(record_dynamics__noise_scale=True)
    assert clone(clf).record_dynamics == Dynamics(sharpness_every=3, noise_scale=True)
    with pytest.raises(ValueError, match="not a Dynamics object"):
        MLPClassifier(record_dynamics=True).set_params(record_dynamics__probe_size=10)


# ---------------------------------------------------------------------------
# Sharpness
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("eigenvalues,top", [([5.0, 3.0, 1.0, -0.5, 0.1], 5.0),
                                             ([-10.0, 4.0, 1.0, -2.0], 4.0),
                                             ([-3.0, -1.0, -2.0], -1.0)])
def test_power_iteration_finds_the_largest_eigenvalue(eigenvalues, top):
    rng = np.random.RandomState(0)
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    H = Q @ np.diag(eigenvalues) @ Q.T
    value, vector = top_eigenvalue(lambda v: H @ v, rng.normal(size=len(eigenvalues)),
                                   max_iter=5000, tol=1e-14)
    assert value == pytest.approx(top, rel=1e-9)
    np.testing.assert_allclose(H @ vector, top * vector, atol=1e-5)


def test_sharpness_of_a_linear_least_squares_problem():
    """No hidden layer: the loss is quadratic, its Hessian [X 1]^T [X 1] / n
    plus alpha / n on the weights (scikit-learn's L2 scaling)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4)) * np.array([3.0, 1.0, 0.5, 0.2])
    y = X @ rng.normal(size=4) + rng.normal(size=80)
    alpha = 0.5
    reg = MLPRegressor(hidden_layer_sizes=(), solver="sgd", momentum=0.0, alpha=alpha,
                       learning_rate_init=0.01, batch_size=16, max_iter=2, random_state=0,
                       record_dynamics=Dynamics(sharpness_every=1, probe_size=200,
                                                power_iter=500, power_tol=1e-12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    A = np.hstack([X, np.ones((80, 1))])
    H = A.T @ A / 80 + np.diag([alpha / 80] * 4 + [0.0])
    top = np.linalg.eigvalsh(H)[-1]
    np.testing.assert_allclose(reg.history_["sharpness"], [top, top], rtol=1e-7)
    # Plain SGD is stable below 2 / lr.
    np.testing.assert_allclose(reg.history_["sharpness_limit"], 2 / 0.01)


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_sharpness_matches_a_dense_finite_difference_hessian(kind):
    X, y = make_classification(n_samples=30, n_features=3, n_informative=3, n_redundant=0,
                               n_classes=3, n_clusters_per_class=1, random_state=1)
    dynamics = Dynamics(sharpness_every=3, power_iter=3000, power_tol=1e-12)
    if kind == "regressor":
        est = MLPRegressor(hidden_layer_sizes=(4,), activation="tanh", alpha=0.1,
                           solver="adam", learning_rate_init=0.05, max_iter=3,
                           random_state=0, record_dynamics=dynamics)
        Y, out, loss = y.reshape(-1, 1).astype(float), "identity", "squared_error"
    else:
        est = MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", alpha=0.1,
                            solver="adam", learning_rate_init=0.05, max_iter=3,
                            random_state=0, record_dynamics=dynamics)
        Y, out, loss = LabelBinarizer().fit_transform(y), "softmax", "log_loss"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    units = [3, 4, Y.shape[1]]
    w = np.concatenate([W.ravel() for W in est.coefs_] + [b.ravel() for b in est.intercepts_])
    h = 1e-5
    H = np.empty((w.size, w.size))
    for j in range(w.size):
        e = np.zeros(w.size)
        e[j] = h
        H[:, j] = (_sk_gradient(w + e, units, X, Y, "tanh", out, loss, 0.1)
                   - _sk_gradient(w - e, units, X, Y, "tanh", out, loss, 0.1)) / (2 * h)
    top = np.linalg.eigvalsh((H + H.T) / 2)[-1]
    sharpness = est.history_["sharpness"]
    assert np.isnan(sharpness[:2]).all()
    assert sharpness[2] == pytest.approx(top, rel=1e-5)
    # Adam has no scalar stability limit.
    assert np.isnan(est.history_["sharpness_limit"][2])


@pytest.mark.parametrize("solver", [
    optimizers.SGD(momentum=0.0),
    optimizers.SGD(momentum=0.9, nesterov=False),
    optimizers.SGD(momentum=0.9, nesterov=True),
    optimizers.SGD(momentum=0.5, nesterov=False, dampening=0.3, convention="pytorch"),
    optimizers.SGD(momentum=0.8, nesterov=True, convention="pytorch"),
])
def test_stability_limit_separates_converging_from_diverging_steps(solver):
    """On f(p) = a p^2 / 2 the update is stable just below the limit and
    unstable just above it (the optimizer's own step, many iterations)."""
    a = 3.0
    limit = stability_limit(solver, 1.0, solver.momentum, False, 1.0)  # sharpness x lr
    finals = []
    for factor in (0.97, 1.03):
        lr = factor * limit / a
        p = np.array([1.0])
        state = solver.init_state(p)
        for _ in range(400):
            solver.step(p, a * p, state, learning_rate=lr)
        finals.append(abs(p[0]))
    assert finals[0] < 1e-2 and finals[1] > 1e2


def test_stability_limit_is_nan_without_a_scalar_limit():
    sgd = optimizers.SGD()
    assert np.isnan(stability_limit(optimizers.Adam(), 0.1, 0.9, False, 1.0))
    assert np.isnan(stability_limit(sgd, 0.1, 0.9, True, 1.0))
    assert np.isnan(stability_limit(sgd, 0.1, 0.9, False, 0.5))


# ---------------------------------------------------------------------------
# Gradient noise scale
# ---------------------------------------------------------------------------


def test_noise_scale_estimates_are_unbiased_on_synthetic_gradients():
    """Per-sample gradients ~ N(G, Sigma): averaged over many draws, the
    estimates of tr(Sigma) and |G|^2 match the truth."""
    rng = np.random.RandomState(0)
    G = np.array([1.0, -2.0, 0.5, 0.0, 1.5])
    A = rng.normal(size=(5, 5))
    Sigma = A @ A.T
    m, b, trials = 8, 4, 4000
    L = np.linalg.cholesky(Sigma)
    traces, grads = [], []
    for _ in range(trials):
        samples = G + rng.normal(size=(m * b, 5)) @ L.T
        batches = samples.reshape(m, b, 5).mean(axis=1)
        small = np.mean(np.sum(batches ** 2, axis=1))
        big = np.sum(samples.mean(axis=0) ** 2)
        _, trace, grad_sq = noise_scale(small, big, b, m * b)
        traces.append(trace)
        grads.append(grad_sq)
    for est, truth in ((traces, np.trace(Sigma)), (grads, G @ G)):
        se = np.std(est) / np.sqrt(trials)
        assert abs(np.mean(est) - truth) < 4 * se
    # At the exact expectations E|G_b|^2 = |G|^2 + tr(Sigma) / b, the estimate is exact.
    trace = np.trace(Sigma)
    b_simple, _, _ = noise_scale(G @ G + trace / b, G @ G + trace / (m * b), b, m * b)
    assert b_simple == pytest.approx(trace / (G @ G), rel=1e-12)


@pytest.mark.parametrize("noise_batches", [4, 24])
def test_noise_scale_matches_per_sample_gradients(noise_batches):
    """The probe's minibatch gradients are means of scikit-learn's per-sample
    gradients (data term only); the recorded trace and |G|^2 are their
    sample-variance forms."""
    X, y = make_regression(n_samples=24, n_features=3, random_state=0)
    y = y / 100
    reg = MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", alpha=0.3, solver="sgd",
                       learning_rate_init=0.01, batch_size=8, max_iter=2, random_state=0,
                       record_dynamics=Dynamics(noise_scale=True, probe_size=24,
                                                noise_batches=noise_batches))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    units = [3, 5, 1]
    w = np.concatenate([W.ravel() for W in reg.coefs_] + [b.ravel() for b in reg.intercepts_])
    per_sample = np.array([_sk_gradient(w, units, X[i:i + 1], y[i:i + 1, None], "tanh",
                                        "identity", "squared_error", 0.0)
                           for i in range(24)])
    b = 24 // noise_batches
    chunks = per_sample.reshape(noise_batches, b, -1).mean(axis=1)
    spread = np.sum((chunks - chunks.mean(axis=0)) ** 2) / (noise_batches - 1)
    trace = b * spread
    grad_sq = np.sum(chunks.mean(axis=0) ** 2) - spread / noise_batches
    h = reg.history_
    assert h["noise_scale_trace"][-1] == pytest.approx(trace, rel=1e-9)
    assert h["noise_scale_grad_sq"][-1] == pytest.approx(grad_sq, rel=1e-9)
    if noise_batches == 24:  # one row per batch: the per-sample covariance itself
        assert trace == pytest.approx(np.trace(np.cov(per_sample.T)), rel=1e-9)
    expected = trace / grad_sq if grad_sq > 0 else np.inf
    assert h["noise_scale"][-1] == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------------------
# DynamicsDisplay
# ---------------------------------------------------------------------------


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=200, n_features=10, n_informative=6,
                               n_classes=3, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(12, 8), solver="sgd", learning_rate_init=0.05,
                        max_iter=6, random_state=0,
                        record_dynamics=Dynamics(sharpness_every=2, noise_scale=True,
                                                 probe_size=100))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def test_display_draws_every_recorded_panel(plt, fitted):
    from sklr.inspection import DynamicsDisplay

    display = DynamicsDisplay.from_estimator(fitted)
    assert list(display.panel_axes_) == ["grad_norm", "update_ratio", "weight_norm",
                                         "dead_fraction", "sharpness", "noise_scale"]
    assert display.axes_.shape == (2, 3)
    h = fitted.history_
    for panel in ("grad_norm", "update_ratio", "weight_norm"):
        lines = display.lines_[panel]
        assert list(lines) == ["layer 0", "layer 1", "layer 2"]
        np.testing.assert_array_equal(lines["layer 1"].get_ydata(), h[f"{panel}_layer1"])
        assert display.panel_axes_[panel].get_yscale() == "log"
    assert list(display.lines_["dead_fraction"]) == ["layer 0", "layer 1"]
    # Sharpness on the epochs it was measured (2, 4, 6), against 2 (1 + mu) / lr.
    sharp = display.lines_["sharpness"]
    np.testing.assert_array_equal(sharp["sharpness"].get_xdata(), [2, 4, 6])
    np.testing.assert_allclose(sharp["stability limit"].get_ydata(),
                               2 * (1 + 0.9) / (0.05 * (1 + 2 * 0.9)))
    # The rule-of-thumb band brackets 1e-3 on the update-ratio panel.
    lo, hi = display.band_.get_extents().y0, display.band_.get_extents().y1
    ax = display.panel_axes_["update_ratio"]
    y0, y1 = ax.transData.inverted().transform([(0, lo), (0, hi)])[:, 1]
    assert y0 < 1e-3 < y1
    assert display.figure_._suptitle.get_text() == "Learning dynamics (MLPClassifier)"


def test_display_panels_and_errors(plt, fitted):
    from sklr.inspection import DynamicsDisplay

    fig, axes = plt.subplots(1, 2)
    display = DynamicsDisplay.from_history(fitted.history_, panels=["update_ratio", "sharpness"],
                                           ax=axes)
    assert display.panel_axes_["sharpness"] is axes[1]
    assert display.figure_ is fig and fig._suptitle is None
    with pytest.raises(ValueError, match="Unknown panel"):
        DynamicsDisplay.from_history(fitted.history_, panels="loss")
    with pytest.raises(ValueError, match="ax holds 1 Axes for 2 panels"):
        DynamicsDisplay.from_history(fitted.history_, panels=["grad_norm", "sharpness"],
                                     ax=axes[0])
    plain = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                          activation="tanh", record_dynamics=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(*make_classification(n_samples=50, random_state=0))
    with pytest.raises(ValueError, match="have no data"):
        DynamicsDisplay.from_estimator(plain, panels=["dead_fraction"])
    assert list(DynamicsDisplay.from_estimator(plain).panel_axes_) == [
        "grad_norm", "update_ratio", "weight_norm"]
    with pytest.raises(ValueError, match="record_dynamics=True"):
        DynamicsDisplay.from_history({"loss": [1.0, 0.5]})
    with pytest.raises(NotFittedError):
        DynamicsDisplay.from_estimator(MLPClassifier())
