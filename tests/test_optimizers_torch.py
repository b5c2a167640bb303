"""Cross-checks of the PyTorch conventions against torch.optim itself.

Skipped only when torch is not installed (it is never a dependency of sklr;
``pip install torch==2.13.0`` installs the CPU build used to run these).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklr.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop  # noqa: E402

STEPS = 15


def _trajectory_torch(make_opt, p0, grads, lrs, betas1=None):
    p = torch.nn.Parameter(torch.tensor(p0, dtype=torch.float64))
    opt = make_opt([p])
    for i, g in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = float(lrs[i])
            if betas1 is not None:
                if "betas" in group:
                    group["betas"] = (float(betas1[i]), group["betas"][1])
                else:
                    group["momentum"] = float(betas1[i])
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return p.detach().numpy()


def _trajectory_sklr(opt, p0, grads, lrs, betas1=None):
    p = p0.copy()
    state = opt.init_state(p)
    for i, g in enumerate(grads):
        opt.step(p, g, state, lrs[i], momentum=None if betas1 is None else betas1[i])
    return p


@pytest.fixture(autouse=True)
def _float64_scalars():
    # torch keeps scalar state such as NAdam's mu_product in the default
    # dtype (float32); sklr keeps it in float64.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture
def problem():
    rng = np.random.RandomState(42)
    p0 = rng.normal(size=300)
    grads = [rng.normal(size=300) for _ in range(STEPS)]
    lrs = 0.02 * (1 + 0.5 * np.cos(np.arange(STEPS)))  # a rate that changes every step
    return p0, grads, lrs


PAIRS = [
    (SGD(momentum=0.9, nesterov=False, dampening=0.2, convention="pytorch"),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.2)),
    (SGD(momentum=0.9, nesterov=True, convention="pytorch"),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
    (Adam(convention="pytorch"), lambda ps: torch.optim.Adam(ps)),
    (Adam(beta_2=0.99, epsilon=1e-6, amsgrad=True, convention="pytorch"),
     lambda ps: torch.optim.Adam(ps, betas=(0.9, 0.99), eps=1e-6, amsgrad=True)),
    (AdamW(weight_decay=0.05, convention="pytorch"),
     lambda ps: torch.optim.AdamW(ps, weight_decay=0.05)),
    (NAdam(), lambda ps: torch.optim.NAdam(ps)),
    (Adamax(), lambda ps: torch.optim.Adamax(ps)),
    (Adagrad(lr_decay=0.01, initial_accumulator_value=0.1),
     lambda ps: torch.optim.Adagrad(ps, lr_decay=0.01, initial_accumulator_value=0.1)),
    (Adadelta(rho=0.9, epsilon=1e-6, learning_rate=1.0), lambda ps: torch.optim.Adadelta(ps, rho=0.9, eps=1e-6)),
    (RMSprop(rho=0.99, momentum=0.5, centered=True),
     lambda ps: torch.optim.RMSprop(ps, alpha=0.99, momentum=0.5, centered=True)),
    (RMSprop(), lambda ps: torch.optim.RMSprop(ps)),
]


@pytest.mark.parametrize("opt, make_torch", PAIRS, ids=lambda x: repr(x) if not callable(x) else "")
def test_matches_torch_optim(problem, opt, make_torch):
    p0, grads, lrs = problem
    expected = _trajectory_torch(make_torch, p0, grads, lrs)
    got = _trajectory_sklr(opt, p0, grads, lrs)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_adam_beta1_schedule_matches_torch(problem):
    """A momentum schedule drives Adam's beta_1 as OneCycleLR does in PyTorch."""
    p0, grads, lrs = problem
    betas1 = np.linspace(0.95, 0.85, STEPS)
    expected = _trajectory_torch(lambda ps: torch.optim.Adam(ps), p0, grads, lrs, betas1)
    got = _trajectory_sklr(Adam(convention="pytorch"), p0, grads, lrs, betas1)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_sgd_momentum_schedule_matches_torch(problem):
    p0, grads, lrs = problem
    mus = np.linspace(0.95, 0.85, STEPS)
    expected = _trajectory_torch(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), p0, grads, lrs, mus)
    got = _trajectory_sklr(SGD(nesterov=False, convention="pytorch"), p0, grads, lrs, mus)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)
