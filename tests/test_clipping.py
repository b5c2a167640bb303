"""Gradient clipping (clip_norm, clip_norm_mode, clip_value, clip_convention)
against NumPy references: an independent NumPy backprop gives each
minibatch gradient, NumPy clips it, and the optimizer's functional step
(or plain SGD) applies it."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier, MLPRegressor, optimizers
from sklr._codes import CLIP_SIZE, Activation, Loss
from sklr._kernel import Kernel, clip_array, reg_array, step_table

# ---------------------------------------------------------------------------
# NumPy reference
# ---------------------------------------------------------------------------


def _tensors(params, units):
    """Views of the flat buffer: [W_0 .. W_{L-1}, b_0 .. b_{L-1}] (sklearn's _pack)."""
    L = len(units) - 1
    out, off = [], 0
    for i in range(L):
        n = units[i] * units[i + 1]
        out.append(params[off:off + n].reshape(units[i], units[i + 1]))
        off += n
    for i in range(L):
        out.append(params[off:off + units[i + 1]])
        off += units[i + 1]
    return out


def _gradient(params, units, X, Y, alpha=0.0, out="identity"):
    """Minibatch gradient of a ReLU network with a canonical-link output:
    ((A.T @ delta) + alpha * W) / n for weights, sum(delta) / n for intercepts."""
    L = len(units) - 1
    t = _tensors(params, units)
    Ws, bs = t[:L], t[L:]
    acts = [X]
    for i in range(L):
        z = acts[-1] @ Ws[i] + bs[i]
        if i < L - 1:
            z = np.maximum(z, 0)
        elif out == "softmax":
            z = np.exp(z - z.max(axis=1, keepdims=True))
            z /= z.sum(axis=1, keepdims=True)
        acts.append(z)
    n = X.shape[0]
    delta = acts[-1] - Y
    gW, gb = [None] * L, [None] * L
    for i in range(L - 1, -1, -1):
        gW[i] = (acts[i].T @ delta + alpha * Ws[i]) / n
        gb[i] = delta.sum(axis=0) / n
        if i > 0:
            delta = (delta @ Ws[i].T) * (acts[i] > 0)
    return np.concatenate([g.ravel() for g in gW + gb])


def _clip(grad, units, norm=None, mode="global", convention="pytorch", value=None):
    """Clip a flat gradient as torch / Keras would; returns (clipped, pre-clip norm)."""
    g = grad.copy()
    total = np.sqrt(np.sum(g * g))
    if value is not None:
        np.clip(g, -value, value, out=g)
    if norm is not None:
        parts = _tensors(g, units) if mode == "per_tensor" else [g]
        for part in parts:
            n = np.sqrt(np.sum(part * part))
            if convention == "pytorch":
                coef = min(norm / (n + 1e-6), 1.0)
            else:
                coef = norm / max(n, norm)
            part *= coef
    return g, total


def _reference(params, units, X, Y, batch_size, lr, n_epochs, opt=None, alpha=0.0,
               out="identity", **clip):
    """Params after n_epochs of minibatches in order, and each update's pre-clip norm."""
    p = params.copy()
    state = opt.init_state(p) if opt is not None else None
    norms = []
    for _ in range(n_epochs):
        for start in range(0, X.shape[0], batch_size):
            sl = slice(start, start + batch_size)
            g, n = _clip(_gradient(p, units, X[sl], Y[sl], alpha, out), units, **clip)
            norms.append(n)
            if opt is None:
                p -= lr * g
            else:
                opt.step(p, g, state, lr)
    return p, np.array(norms)


# ---------------------------------------------------------------------------
# The kernel
# ---------------------------------------------------------------------------

UNITS = [6, 8, 5, 2]


@pytest.fixture
def problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, UNITS[0]))
    Y = rng.normal(size=(40, UNITS[-1]))
    n_params = sum(a * b + b for a, b in zip(UNITS[:-1], UNITS[1:]))
    params = rng.uniform(-0.6, 0.6, size=n_params)
    return X, Y, params


def _kernel_run(X, Y, params, units, clip, batch_size, lr, n_epochs, opt=None, alpha=0.0,
                codes=None, n_threads=1, dtype=np.float64):
    opt = opt if opt is not None else optimizers.SGD(momentum=0.0, nesterov=False)
    codes = codes or (Activation.RELU, Activation.IDENTITY, Loss.SQUARED_ERROR)
    X, Y = X.astype(dtype), Y.astype(dtype)
    kernel = Kernel(X, Y, None, units, codes, reg_array(len(units), alpha=alpha),
                    opt._config(), n_threads, clip)
    p = params.astype(dtype)
    state = opt.init_state(p)
    n_steps = -(-X.shape[0] // batch_size)
    norms = []
    for _ in range(n_epochs):
        out = np.full(n_steps, np.nan)
        _, done, flag = kernel.train_epoch(
            p, state, np.arange(X.shape[0], dtype=np.intp), batch_size,
            step_table(np.full(n_steps, lr), np.full(n_steps, opt._momentum())), 0,
            grad_norms=out)
        assert flag == 0 and done == n_steps
        norms.append(out)
    return p, np.concatenate(norms)


CLIPS = [
    dict(norm=0.3),
    dict(norm=0.3, convention="keras"),
    dict(norm=0.1, mode="per_tensor"),
    dict(norm=0.1, mode="per_tensor", convention="keras"),
    dict(value=0.02),
]


def _clip_array(norm=None, mode="global", convention="pytorch", value=None):
    return clip_array(norm=norm, per_tensor=mode == "per_tensor", convention=convention,
                      value=value)


@pytest.mark.parametrize("clip", CLIPS, ids=str)
def test_kernel_matches_numpy_sgd(problem, clip):
    X, Y, params = problem
    expected, norms = _reference(params, UNITS, X, Y, 8, 0.5, 2, alpha=0.1, **clip)
    got, got_norms = _kernel_run(X, Y, params, UNITS, _clip_array(**clip), 8, 0.5, 2,
                                 alpha=0.1)
    # The reference actually clips (otherwise this tests nothing).
    unclipped, _ = _reference(params, UNITS, X, Y, 8, 0.5, 2, alpha=0.1)
    assert not np.allclose(expected, unclipped, rtol=1e-6)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(got_norms, norms, rtol=1e-12)


@pytest.mark.parametrize("clip", CLIPS, ids=str)
def test_kernel_float32(problem, clip):
    X, Y, params = problem
    expected, norms = _reference(params, UNITS, X, Y, 8, 0.5, 2, alpha=0.1, **clip)
    got, got_norms = _kernel_run(X, Y, params, UNITS, _clip_array(**clip), 8, 0.5, 2,
                                 alpha=0.1, dtype=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got_norms, norms, rtol=2e-4)


SOLVERS = ["sgd", "adam", "adamw", "nadam", "adamax", "rmsprop", "adagrad", "adadelta"]


def _opt(name):
    if name == "sgd":
        return optimizers.SGD(momentum=0.9, nesterov=True)
    return optimizers._solver_from_string(name, MLPRegressor())


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("clip", [dict(norm=0.3), dict(norm=0.1, mode="per_tensor"),
                                  dict(value=0.02)], ids=str)
def test_every_optimizer_sees_the_clipped_gradient(problem, name, clip):
    """Every rule gets the clipped gradient: the kernel equals NumPy clipping
    followed by the optimizer's functional step, over several updates."""
    X, Y, params = problem
    lr = 0.05
    expected, _ = _reference(params, UNITS, X, Y, 8, lr, 2, opt=_opt(name), alpha=0.1,
                             **clip)
    got, _ = _kernel_run(X, Y, params, UNITS, _clip_array(**clip), 8, lr, 2, opt=_opt(name),
                         alpha=0.1)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_per_tensor_clips_only_the_tensor_above(problem):
    """With a threshold between the tensors' norms, only the tensors above it
    change; the others take exactly the unclipped step."""
    X, Y, params = problem
    g = _gradient(params, UNITS, X[:8], Y[:8])
    norms = np.array([np.linalg.norm(t) for t in _tensors(g, UNITS)])
    order = np.sort(norms)
    threshold = 0.5 * (order[-1] + order[-2])  # only the largest tensor exceeds it
    above = norms > threshold
    assert above.sum() == 1
    clip = dict(norm=threshold, mode="per_tensor")
    got, _ = _kernel_run(X[:8], Y[:8], params, UNITS, _clip_array(**clip), 8, 0.5, 1)
    plain, _ = _kernel_run(X[:8], Y[:8], params, UNITS, None, 8, 0.5, 1)
    expected, _ = _reference(params, UNITS, X[:8], Y[:8], 8, 0.5, 1, **clip)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    for k, (a, b, p0) in enumerate(zip(_tensors(got, UNITS), _tensors(plain, UNITS),
                                       _tensors(params, UNITS))):
        if above[k]:
            step = np.linalg.norm(a - p0) / 0.5
            assert step == pytest.approx(threshold, rel=1e-5)
            assert not np.allclose(a, b)
        else:
            np.testing.assert_array_equal(a, b)
    # A global clip at the same threshold would have scaled every tensor.
    assert np.linalg.norm(norms) > threshold


def test_softmax_network_matches_numpy():
    X, y = make_classification(60, 5, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=1)
    Y = np.eye(3)[y]
    units = [5, 7, 3]
    params = np.random.RandomState(1).uniform(-0.7, 0.7, size=5 * 7 + 7 * 3 + 7 + 3)
    codes = (Activation.RELU, Activation.SOFTMAX, Loss.LOG_LOSS)
    for clip in CLIPS:
        expected, norms = _reference(params, units, X, Y, 16, 0.3, 2, out="softmax", **clip)
        got, got_norms = _kernel_run(X, Y, params, units, _clip_array(**clip), 16, 0.3, 2,
                                     codes=codes)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(got_norms, norms, rtol=1e-12)


def test_keras_and_pytorch_coefficients_differ_by_the_epsilon(problem):
    """A small threshold makes PyTorch's +1e-6 visible: the two conventions
    differ by about 1e-6 / clip_norm relative."""
    X, Y, params = problem
    runs = {c: _kernel_run(X, Y, params, UNITS, _clip_array(norm=1e-4, convention=c), 8,
                           0.5, 1)[0] for c in ("pytorch", "keras")}
    step = {c: np.linalg.norm(runs[c][:UNITS[0] * UNITS[1]] - params[:UNITS[0] * UNITS[1]])
            for c in runs}
    assert step["pytorch"] < step["keras"]
    np.testing.assert_allclose(runs["pytorch"], runs["keras"], rtol=1e-7)


def test_infinite_norm_is_the_unclipped_path_exactly(problem):
    """clip_norm=inf takes the clipping pass (three sweeps, chunked) but
    must give bit-identical results to the fused pass, for every rule and
    with every regulariser that touches the update."""
    X, Y, params = problem
    for name in SOLVERS:
        for convention in ("pytorch", "keras"):
            for reg in (dict(l1=0.01, layer_lr_decay=0.7, max_norm=1.5), {}):
                runs = []
                for clip in (None, clip_array(norm=np.inf, convention=convention)):
                    opt = _opt(name)
                    p = params.copy()
                    state = opt.init_state(p)
                    kernel = Kernel(X, Y, None, UNITS,
                                    (Activation.RELU, Activation.IDENTITY, Loss.SQUARED_ERROR),
                                    reg_array(len(UNITS), alpha=0.1, **reg), opt._config(), 1,
                                    clip)
                    kernel.train_epoch(p, state, np.arange(40, dtype=np.intp), 8,
                                       step_table(np.full(5, 0.01), np.full(5, opt._momentum())))
                    runs.append(p)
                np.testing.assert_array_equal(runs[0], runs[1])


def test_thread_count_does_not_change_clipped_results():
    """Norms are summed over fixed chunks in a fixed order: one thread and two
    give identical weights. The network is large enough for a parallel
    finishing pass, the batch small enough for one gradient buffer (so the
    gradient itself does not depend on the thread count)."""
    rng = np.random.RandomState(3)
    units = [64, 300, 3]
    X = rng.normal(size=(64, 64))
    Y = rng.normal(size=(64, 3))
    n_params = 64 * 300 + 300 * 3 + 300 + 3
    assert n_params >= 16384 and 32 * n_params < 1_000_000
    params = rng.uniform(-0.1, 0.1, size=n_params)
    for clip in ({"norm": 0.05}, {"norm": 0.01, "mode": "per_tensor"}, {"value": 1e-3}):
        runs = [
            _kernel_run(X, Y, params, units, _clip_array(**clip), 32, 0.1, 3, n_threads=t,
                        opt=optimizers.Adam())
            for t in (1, 2)
        ]
        np.testing.assert_array_equal(runs[0][0], runs[1][0])
        np.testing.assert_array_equal(runs[0][1], runs[1][1])
        expected, norms = _reference(params, units, X, Y, 32, 0.1, 3, opt=optimizers.Adam(),
                                     **clip)
        np.testing.assert_allclose(runs[1][0], expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(runs[1][1], norms, rtol=1e-12)


def test_kernel_validates_the_clip_array(problem):
    X, Y, params = problem
    codes = (Activation.RELU, Activation.IDENTITY, Loss.SQUARED_ERROR)
    reg = reg_array(len(UNITS))
    config = optimizers.SGD()._config()
    for bad, match in [
        (np.zeros(CLIP_SIZE + 1), "fields"),
        (clip_array(norm=-1.0), ">= 0"),
        (clip_array(norm=np.nan), ">= 0"),
        (clip_array(norm=1.0, value=1.0), "exclude"),
    ]:
        with pytest.raises(ValueError, match=match):
            Kernel(X, Y, None, UNITS, codes, reg, config, 1, bad)
    kernel = Kernel(X, Y, None, UNITS, codes, reg, config, 1, clip_array(norm=1.0))
    state = optimizers.SGD().init_state(params.copy())
    with pytest.raises(ValueError, match="grad_norms"):
        kernel.train_epoch(params.copy(), state, np.arange(40, dtype=np.intp), 8,
                           step_table(np.full(5, 0.1), np.full(5, 0.9)), 0,
                           grad_norms=np.empty(4))


# ---------------------------------------------------------------------------
# The estimators
# ---------------------------------------------------------------------------


def _fit_from(est, X, y, params, n_epochs):
    """Train ``est`` for n_epochs from the flat weights ``params`` (no shuffling)."""
    est = clone(est).set_params(max_iter=1, shuffle=False, n_iter_no_change=np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est._params[...] = params
        est._state.optimizer = None  # a fresh optimizer state, as torch's
        est.set_params(warm_start=True, max_iter=n_epochs).fit(X, y)
    return est


@pytest.mark.parametrize("clip", [
    dict(clip_norm=0.3), dict(clip_norm=0.05, clip_norm_mode="per_tensor"),
    dict(clip_norm=0.3, clip_convention="keras"), dict(clip_value=0.02)], ids=str)
def test_estimator_history_and_weights_match_numpy(clip):
    X, y = make_regression(50, 6, n_targets=2, random_state=0)
    X /= 3
    y /= 100
    est = MLPRegressor(hidden_layer_sizes=(8, 5), solver="sgd", momentum=0.0, nesterovs_momentum=False,
                       learning_rate_init=0.2, batch_size=16, alpha=0.01, random_state=0,
                       **clip)
    units = [6, 8, 5, 2]
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    params = np.random.RandomState(0).uniform(-0.5, 0.5, size=n_params)
    est = _fit_from(est, X, y, params, 3)
    ref = dict(norm=clip.get("clip_norm"), mode=clip.get("clip_norm_mode", "global"),
               convention=clip.get("clip_convention", "pytorch"), value=clip.get("clip_value"))
    expected, norms = _reference(params, units, X, y, 16, 0.2, 3, alpha=0.01, **ref)
    np.testing.assert_allclose(est._params, expected, rtol=1e-10, atol=1e-13)
    h = est.history_
    # The first epoch is the set-up fit from other weights; then 3 epochs.
    per_epoch = norms.reshape(3, 4)
    np.testing.assert_allclose(h["grad_norm_mean"][-3:], per_epoch.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(h["grad_norm_max"][-3:], per_epoch.max(axis=1), rtol=1e-12)
    assert per_epoch.max() > (clip.get("clip_norm") or 0)


def test_no_history_keys_without_clipping():
    X, y = make_classification(60, 5, random_state=0)
    clf = MLPClassifier((5,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        assert "grad_norm_mean" not in clf.history_
        clf.set_params(clip_norm=np.inf).fit(X, y)
    assert np.all(clf.history_["grad_norm_max"] >= clf.history_["grad_norm_mean"])
    assert np.all(clf.history_["grad_norm_mean"] > 0)


def test_infinite_clip_norm_records_without_clipping():
    X, y = make_classification(80, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(6,), max_iter=4, random_state=0, solver="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**kw).fit(X, y)
        b = MLPClassifier(clip_norm=np.inf, **kw).fit(X, y)
    np.testing.assert_array_equal(a._params, b._params)
    assert a.loss_curve_ == b.loss_curve_


def test_float32_estimator_clips():
    X, y = make_classification(80, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(6,), max_iter=3, random_state=0, solver="sgd",
              learning_rate_init=0.5, clip_norm=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(**kw).fit(X.astype(np.float32), y)
        b = MLPClassifier(**kw).fit(X, y)
        c = MLPClassifier(**{**kw, "clip_norm": None}).fit(X, y)
    assert a.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(a._params, b._params, rtol=1e-3, atol=1e-4)
    assert not np.allclose(b._params, c._params, rtol=1e-3)
    np.testing.assert_allclose(a.history_["grad_norm_max"], b.history_["grad_norm_max"],
                               rtol=1e-3)


def test_parameter_errors():
    X, y = make_classification(30, 4, random_state=0)
    with pytest.raises(ValueError, match="not both"):
        MLPClassifier(clip_norm=1.0, clip_value=1.0).fit(X, y)
    for clip in (dict(clip_norm=1.0), dict(clip_value=0.1)):
        with pytest.raises(ValueError, match="need a stochastic solver"):
            MLPClassifier(solver="lbfgs", **clip).fit(X, y)
    for bad in (dict(clip_norm=0.0), dict(clip_value=-1.0), dict(clip_norm_mode="per_layer"),
                dict(clip_convention="tf")):
        with pytest.raises(ValueError):
            MLPClassifier(**bad).fit(X, y)


def test_clipping_survives_partial_fit_and_interrupted_epochs():
    """partial_fit appends one record per call; the range test uses the clipped kernel."""
    X, y = make_classification(60, 5, random_state=0)
    clf = MLPClassifier((5,), clip_value=0.01, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.history_["grad_norm_mean"].shape == (3,)
    assert np.all(np.isfinite(clf.history_["grad_norm_max"]))
    auto = MLPClassifier((5,), clip_norm=0.1, learning_rate_init="auto", max_iter=2,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto.fit(X, y)
    assert np.isfinite(auto.learning_rate_init_)
