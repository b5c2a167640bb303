"""RAdam and Rprop against torch.optim itself (Lion has no torch.optim class).

Skipped only when torch is not installed (it is never a dependency of sklr;
``pip install torch==2.13.0`` installs the CPU build used to run these).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

torch = pytest.importorskip("torch")

from sklr import MLPClassifier  # noqa: E402
from sklr.optimizers import RAdam, Rprop  # noqa: E402

STEPS = 20


def _trajectory_torch(make_opt, p0, grads, lrs, betas1=None):
    p = torch.nn.Parameter(torch.tensor(p0))
    opt = make_opt([p])
    for i, g in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = float(lrs[i])
            if betas1 is not None:
                group["betas"] = (float(betas1[i]), group["betas"][1])
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


def _trajectory_sklr(opt, p0, grads, lrs, betas1=None, config=None):
    from sklr import _kernel

    p = p0.copy()
    state = opt.init_state(p)
    config = opt._config() if config is None else config
    for i, g in enumerate(grads):
        mu = opt._momentum() if betas1 is None else betas1[i]
        _kernel.apply_update(p, g, state, config, float(lrs[i]), mu, 1)
    return p


@pytest.fixture(autouse=True)
def _float64_scalars():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _problem(dtype=np.float64):
    rng = np.random.RandomState(42)
    p0 = rng.normal(size=300).astype(dtype)
    grads = [rng.normal(size=300).astype(dtype) for _ in range(STEPS)]
    grads[5][:30] = 0  # exact zeros: sign(0) and Rprop's "no change" case
    lrs = 0.02 * (1 + 0.5 * np.cos(np.arange(STEPS)))  # a rate that changes every step
    return p0, grads, lrs


PAIRS = [
    (RAdam(), lambda ps: torch.optim.RAdam(ps)),
    (RAdam(beta_1=0.8, beta_2=0.95, epsilon=1e-3),
     lambda ps: torch.optim.RAdam(ps, betas=(0.8, 0.95), eps=1e-3)),
    (Rprop(), lambda ps: torch.optim.Rprop(ps)),
    (Rprop(eta_minus=0.3, eta_plus=1.5, step_size_min=0.01, step_size_max=0.05),
     lambda ps: torch.optim.Rprop(ps, etas=(0.3, 1.5), step_sizes=(0.01, 0.05))),
]


@pytest.mark.parametrize("opt, make_torch", PAIRS, ids=lambda x: repr(x) if not callable(x) else "")
def test_matches_torch_optim(opt, make_torch):
    p0, grads, lrs = _problem()
    expected = _trajectory_torch(make_torch, p0, grads, lrs)
    got = _trajectory_sklr(opt, p0, grads, lrs)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)
    assert np.max(np.abs(got - p0)) > 0.05


@pytest.mark.parametrize("opt, make_torch", PAIRS, ids=lambda x: repr(x) if not callable(x) else "")
def test_matches_torch_optim_float32(opt, make_torch):
    p0, grads, lrs = _problem(np.float32)
    expected = _trajectory_torch(make_torch, p0, grads, lrs)
    got = _trajectory_sklr(opt, p0, grads, lrs)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_radam_beta1_schedule_matches_torch():
    p0, grads, lrs = _problem()
    betas1 = np.linspace(0.95, 0.85, STEPS)
    expected = _trajectory_torch(lambda ps: torch.optim.RAdam(ps), p0, grads, lrs, betas1)
    got = _trajectory_sklr(RAdam(), p0, grads, lrs, betas1)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_radam_decoupled_weight_decay_is_the_shared_field():
    """torch's RAdam(decoupled_weight_decay=True) is the estimator's weight_decay."""
    from sklr import _codes

    p0, grads, lrs = _problem()
    config = RAdam()._config()
    config[_codes.CFG_WEIGHT_DECAY] = 0.3
    expected = _trajectory_torch(
        lambda ps: torch.optim.RAdam(ps, weight_decay=0.3, decoupled_weight_decay=True),
        p0, grads, lrs)
    got = _trajectory_sklr(RAdam(), p0, grads, lrs, config=config)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------------------
# An MLPClassifier fit against a torch training loop doing the same arithmetic
# ---------------------------------------------------------------------------

def _initial_weights(X, y, kw):
    """The estimator's initial weights: one epoch at a rate too small to move them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(solver="sgd", momentum=0.0, learning_rate_init=1e-300, max_iter=1,
                            **kw).fit(X, y)
    return [c.copy() for c in est.coefs_], [b.copy() for b in est.intercepts_]


@pytest.mark.parametrize("solver, make_torch, batch_size", [
    (RAdam(), lambda ps, lr: torch.optim.RAdam(ps, lr=lr), 50),
    (Rprop(), lambda ps, lr: torch.optim.Rprop(ps, lr=lr), 150),  # full batch
], ids=["RAdam", "Rprop"])
def test_mlp_fit_matches_a_torch_loop(solver, make_torch, batch_size):
    """One hidden ReLU layer, softmax + log-loss, L2 alpha, minibatches in order:
    scikit-learn's objective written in torch, stepped by torch.optim."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:150] / 16, y[:150]
    alpha, lr, epochs = 1e-3, 0.01, 4
    kw = dict(hidden_layer_sizes=(12,), alpha=alpha, batch_size=batch_size, shuffle=False,
              random_state=0)
    coefs, intercepts = _initial_weights(X, y, kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(solver=solver, learning_rate_init=lr, max_iter=epochs, tol=0.0,
                            **kw).fit(X, y)

    params = [torch.tensor(a, requires_grad=True) for pair in zip(coefs, intercepts) for a in pair]
    opt = make_torch(params, lr)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, X.shape[0], batch_size):
            xb, yb = Xt[start:start + batch_size], yt[start:start + batch_size]
            w0, b0, w1, b1 = params
            logits = torch.relu(xb @ w0 + b0) @ w1 + b1
            data = torch.nn.functional.cross_entropy(logits, yb)
            loss = data + 0.5 * alpha * ((w0**2).sum() + (w1**2).sum()) / xb.shape[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        losses.append(total / X.shape[0])

    np.testing.assert_allclose(est.loss_curve_, losses, rtol=1e-9)
    got = [a for pair in zip(est.coefs_, est.intercepts_) for a in pair]
    for a, b in zip(got, params):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-8, atol=1e-11)
    assert np.max(np.abs(est.coefs_[0] - coefs[0])) > 1e-3
