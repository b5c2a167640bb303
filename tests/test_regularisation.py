"""Regularisation beyond L2: l1, weight_decay, max_norm, dropout, layer_lr_decay."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.utils import check_random_state

from sklr import MLPClassifier, MLPRegressor
from sklr._codes import Activation, Loss
from sklr._kernel import Kernel, dropout_mask, reg_array
from sklr.optimizers import AdamW, SGD


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:120] / 16, y[:120]


def _initial_params(X, y, hidden=(7, 5), activation="tanh"):
    """scikit-learn's Glorot initialisation, replayed from random_state=0."""
    rs = check_random_state(0)
    units = [X.shape[1], *hidden, len(np.unique(y))]
    factor = 6.0
    coefs, intercepts = [], []
    for fi, fo in zip(units[:-1], units[1:]):
        bound = np.sqrt(factor / (fi + fo))
        coefs.append(rs.uniform(-bound, bound, (fi, fo)))
        intercepts.append(rs.uniform(-bound, bound, fo))
    return np.concatenate([c.ravel() for c in coefs + intercepts])


def _step(X, y, **params):
    kw = dict(hidden_layer_sizes=(7, 5), solver=SGD(momentum=0.0, nesterov=False),
              learning_rate_init=0.1, batch_size=X.shape[0], shuffle=False, random_state=0,
              activation="tanh", max_iter=1)
    kw.update(params)
    est = MLPClassifier(**kw).fit(X, y)
    return _initial_params(X, y), est._params.copy(), est


def test_weight_decay_is_decoupled(digits):
    X, y = digits
    p0, p_plain, _ = _step(X, y)
    p0b, p_wd, _ = _step(X, y, weight_decay=0.3)
    np.testing.assert_array_equal(p0, p0b)
    # p1 = p0 (1 - lr wd) - lr g, and - lr g is the plain step.
    np.testing.assert_allclose(p_wd, p0 * (1 - 0.1 * 0.3) + (p_plain - p0), rtol=1e-12, atol=1e-15)


def test_adamw_object_weight_decay_wins(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    a = MLPClassifier(solver=AdamW(weight_decay=0.2), weight_decay=0.9, **kw).fit(X, y)
    b = MLPClassifier(solver=AdamW(weight_decay=0.2), **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


def test_layer_lr_decay_scales_each_layer(digits):
    X, y = digits
    p0, p_plain, est = _step(X, y)
    _, p_decay, _ = _step(X, y, layer_lr_decay=0.5)
    from sklr._network import _layer_views

    units = list(est._layer_units)
    c0, i0 = _layer_views(p0, units)
    c1, i1 = _layer_views(p_plain, units)
    c2, i2 = _layer_views(p_decay, units)
    for k in range(len(c0)):
        np.testing.assert_allclose(c2[k] - c0[k], 0.5**k * (c1[k] - c0[k]), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(i2[k] - i0[k], 0.5**k * (i1[k] - i0[k]), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("solver", ["sgd", "adam", "nadam", "adagrad"])
def test_layer_lr_decay_one_is_identity(digits, solver):
    X, y = digits
    kw = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=3, random_state=0)
    a = MLPClassifier(**kw).fit(X, y)
    b = MLPClassifier(layer_lr_decay=1.0 - 1e-12, **kw).fit(X, y)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)


def test_max_norm_bounds_every_unit(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20, 10), solver="sgd", learning_rate_init=0.5,
                        max_norm=0.8, max_iter=5, random_state=0).fit(X, y)
    for c in est.coefs_:
        assert np.all(np.linalg.norm(c, axis=0) <= 0.8 * (1 + 1e-12))
    # Some unit is at the bound: the constraint was active.
    assert max(np.linalg.norm(c, axis=0).max() for c in est.coefs_) > 0.8 * (1 - 1e-9)
    loose = MLPClassifier(hidden_layer_sizes=(20, 10), solver="sgd", learning_rate_init=0.5,
                          max_norm=1e6, max_iter=5, random_state=0).fit(X, y)
    free = MLPClassifier(hidden_layer_sizes=(20, 10), solver="sgd", learning_rate_init=0.5,
                         max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(loose.loss_curve_, free.loss_curve_)


def test_max_norm_step_matches_numpy(digits):
    X, y = digits
    p0, p_plain, est = _step(X, y)
    _, p_norm, _ = _step(X, y, max_norm=0.3)
    from sklr._network import _layer_views

    units = list(est._layer_units)
    coefs, intercepts = _layer_views(p_plain.copy(), units)
    for c in coefs:
        norms = np.linalg.norm(c, axis=0)
        c *= np.where(norms > 0.3, 0.3 / norms, 1.0)
    expected = np.concatenate([c.ravel() for c in coefs + intercepts])
    np.testing.assert_allclose(p_norm, expected, rtol=1e-12)


def test_l1_loss_and_gradient(digits):
    X, y = digits
    p0, p_plain, est = _step(X, y)
    _, p_l1, est_l1 = _step(X, y, l1=0.01)
    n_coef = sum(a * b for a, b in zip(est._layer_units[:-1], est._layer_units[1:]))
    # Loss of the first (only) step: the plain loss plus l1 * sum|W| / n.
    np.testing.assert_allclose(
        est_l1.loss_, est.loss_ + 0.01 * np.abs(p0[:n_coef]).sum() / X.shape[0], rtol=1e-12
    )
    # Step: - lr * (g + l1 sign(W) / n) on the weights, unchanged on intercepts.
    expected = p_plain.copy()
    expected[:n_coef] -= 0.1 * 0.01 * np.sign(p0[:n_coef]) / X.shape[0]
    np.testing.assert_allclose(p_l1, expected, rtol=1e-12, atol=1e-15)


def test_l1_gradient_finite_differences():
    rng = np.random.RandomState(0)
    units = np.array([4, 6, 3], dtype=np.intp)
    n = 4 * 6 + 6 * 3 + 6 + 3
    params = rng.uniform(-0.5, 0.5, n)
    X = rng.normal(size=(10, 4))
    Y = np.eye(3)[rng.randint(3, size=10)]
    kernel = Kernel(X, Y, None, units, (Activation.TANH, Activation.SOFTMAX, Loss.LOG_LOSS),
                    reg_array(3, l1=0.05, alpha=0.1), None, 1)

    def f(p, grad=None):
        g = np.empty_like(p) if grad is None else grad
        return kernel.loss_grad(p, g)

    grad = np.empty_like(params)
    f(params, grad)
    numeric = np.array([(f(params + e) - f(params - e)) / 2e-6 for e in np.eye(n) * 1e-6])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def _dropout_reference_step(X, Y, p0, units, rates, seed, lr):
    """One full-batch SGD step with the kernel's masks, in NumPy (tanh, softmax)."""
    from sklr._network import _layer_views

    coefs, intercepts = _layer_views(p0.copy(), units)
    n = X.shape[0]
    epoch_seed = seed
    masks = [dropout_mask(epoch_seed, 0, k, n, units[k], rates[k]).astype(float)
             for k in range(len(units) - 1)]
    acts = [X * masks[0] / (1 - rates[0])]
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        z = acts[-1] @ W + b
        if k < len(coefs) - 1:
            a = np.tanh(z)
            acts.append(a * masks[k + 1] / (1 - rates[k + 1]))
        else:
            e = np.exp(z - z.max(1, keepdims=True))
            acts.append(e / e.sum(1, keepdims=True))
    delta = acts[-1] - Y
    grads_W, grads_b = [None] * len(coefs), [None] * len(coefs)
    for k in range(len(coefs) - 1, -1, -1):
        grads_W[k] = (acts[k].T @ delta + 1e-4 * coefs[k]) / n
        grads_b[k] = delta.sum(0) / n
        if k > 0:
            a_pre = acts[k] * (1 - rates[k])  # the activation before dropout
            delta = (delta @ coefs[k].T) * (1 - a_pre**2) * masks[k] / (1 - rates[k])
    new = [W - lr * g for W, g in zip(coefs, grads_W)] + [b - lr * g for b, g in zip(intercepts, grads_b)]
    return np.concatenate([a.ravel() for a in new])


def test_dropout_step_matches_numpy_with_the_same_masks(digits):
    X, y = digits
    rates = [0.2, 0.5, 0.25]
    kw = dict(hidden_layer_sizes=(7, 5), solver=SGD(momentum=0.0, nesterov=False),
              learning_rate_init=0.1, batch_size=X.shape[0], shuffle=False, random_state=0,
              activation="tanh", max_iter=1, input_dropout=rates[0], dropout=rates[1:])
    est = MLPClassifier(**kw).fit(X, y)
    # The epoch's seed is the draw after scikit-learn's initialisation.
    rs = check_random_state(0)
    for shape in [(64, 7), 7, (7, 5), 5, (5, 10), 10]:
        rs.uniform(size=shape)
    seed = int(rs.randint(2**63, dtype=np.uint64))
    Y = est._label_binarizer.transform(y).astype(float)
    expected = _dropout_reference_step(X, Y, _initial_params(X, y), list(est._layer_units),
                                       rates, seed, 0.1)
    np.testing.assert_allclose(est._params, expected, rtol=1e-10, atol=1e-13)


def test_dropout_mask_rate_and_independence():
    m = dropout_mask(7, 3, 1, 2000, 50, 0.3)
    assert abs(m.mean() - 0.7) < 0.01
    other = dropout_mask(7, 4, 1, 2000, 50, 0.3)
    assert abs((m == other).mean() - (0.7**2 + 0.3**2)) < 0.01  # independent steps


def test_dropout_is_reproducible_and_off_at_predict(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(20,), dropout=0.3, input_dropout=0.1, max_iter=4, random_state=3)
    a = MLPClassifier(**kw).fit(X, y)
    b = MLPClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    c = MLPClassifier(hidden_layer_sizes=(20,), max_iter=4, random_state=3).fit(X, y)
    assert not np.allclose(a.loss_curve_, c.loss_curve_)
    # No dropout at predict time (inverted dropout: no rescaling either):
    # the plain forward pass of the trained weights, in NumPy.
    hidden = np.maximum(X @ a.coefs_[0] + a.intercepts_[0], 0.0)
    logits = hidden @ a.coefs_[1] + a.intercepts_[1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_array_equal(a.predict(X), a.classes_[np.argmax(expected, axis=1)])


def test_dropout_threads_and_sparse_agree(digits):
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    X, y = digits
    X = np.tile(X, (4, 1))
    y = np.tile(y, 4)
    kw = dict(hidden_layer_sizes=(300,), dropout=0.3, input_dropout=0.2, batch_size=256,
              max_iter=2, random_state=0)
    many = MLPClassifier(**kw).fit(X, y)
    with threadpool_limits(1, user_api="openmp"):
        one = MLPClassifier(**kw).fit(X, y)
    sparse = MLPClassifier(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(many.loss_curve_, one.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(sparse.loss_curve_, one.loss_curve_, rtol=1e-10)


def test_regularisation_parameter_errors(digits):
    X, y = digits
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        MLPClassifier(hidden_layer_sizes=(5, 5), dropout=[0.1, 0.2, 0.3]).fit(X, y)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        MLPClassifier(hidden_layer_sizes=(5, 5), dropout=[0.1, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)
    with pytest.raises(ValueError, match="max_norm"):
        MLPRegressor(solver="lbfgs", max_norm=1.0).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="l1"):
        MLPClassifier(l1=-1).fit(X, y)


def test_lbfgs_with_l1_decreases_weights(digits):
    X, y = digits
    plain = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0).fit(X, y)
    sparse = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", l1=0.5, max_iter=30, random_state=0).fit(X, y)
    assert sum(np.abs(c).sum() for c in sparse.coefs_) < sum(np.abs(c).sum() for c in plain.coefs_)
