"""Rows of doc/translations.rst against NumPy transcriptions of the other
framework's formulas: they always run, Keras, H2O, fastai or optax installed
or not. The rows whose framework is installable are also checked against it
(tests/test_translations_keras.py, tests/test_translations_torch.py).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

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
        m_hat = dtype(u_t_1) * m / dtype(1 - u_product_t_1) + dtype(1 - u_t) * g / dtype(1 - u_product)
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
