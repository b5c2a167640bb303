"""PyTorch scheduler rows of doc/translations.rst as the table writes them.

tests/test_schedules_torch.py checks each schedule against its scheduler at
``lr=1``; these tests take the rows literally, with an initial rate other
than 1 (so every absolute rate is divided by ``lr0``) and with the rows that
file does not cover: ``LambdaLR``, ``ConstantLR``, ``SequentialLR``, a decay
chained with ``ReduceLROnPlateau``, and ``CosineAnnealingWarmRestarts``
stepped at fractional epochs. Checked against PyTorch 2.13; skipped where
PyTorch is not installed.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")

from torch.optim import lr_scheduler  # noqa: E402

from sklr.schedules import (  # noqa: E402
    CosineAnnealing,
    CosineWarmRestarts,
    Cyclic,
    ExponentialDecay,
    Lambda,
    LinearWarmup,
    OneCycle,
    PerEpoch,
    PiecewiseConstant,
    PolynomialDecay,
    Product,
    ReduceOnPlateau,
    Sequence,
)

LR0 = 0.05
RTOL = 1e-12


def _record(make_scheduler, n_epochs, steps_per_epoch=1, per="epoch", lr0=LR0, step_arg=None):
    """The rate in effect at each update of a PyTorch run from ``lr=lr0``.

    ``step_arg(epoch, k, n)``, if given, is passed to ``scheduler.step`` after
    update ``k`` of ``n`` in ``epoch`` (PyTorch's fractional-epoch form).
    """
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=lr0)
    scheduler = make_scheduler(opt)
    rates = []
    for epoch in range(n_epochs):
        for k in range(steps_per_epoch):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            if step_arg is not None:
                scheduler.step(step_arg(epoch, k, steps_per_epoch))
            elif per == "step":
                scheduler.step()
        if per == "epoch" and step_arg is None:
            scheduler.step()
    return np.array(rates)


def _f(i):
    return 1.0 / (1.0 + 0.3 * np.asarray(i, dtype=float)) + 0.1 * np.sin(i)


def test_lambda_lr_row():
    lrs = _record(lambda o: lr_scheduler.LambdaLR(o, _f), 10, per="step")
    assert_allclose(LR0 * Lambda(_f, unit="step").preview(10), lrs, rtol=RTOL)
    # stepped per epoch with 3 updates in each: PerEpoch holds the epoch's value
    lrs = _record(lambda o: lr_scheduler.LambdaLR(o, _f), 8, steps_per_epoch=3)
    assert_allclose(LR0 * PerEpoch(Lambda(_f, unit="epoch")).preview(8, 3), lrs, rtol=RTOL)
    # (as does np.floor inside the function, the Keras page's advice)
    floored = Lambda(lambda t: _f(np.floor(t)), unit="epoch")
    assert_allclose(LR0 * floored.preview(8, 3), lrs, rtol=RTOL)


@pytest.mark.parametrize("factor, total_iters", [(0.25, 3), (0.5, 1)])
def test_constant_lr_row(factor, total_iters):
    lrs = _record(lambda o: lr_scheduler.ConstantLR(o, factor=factor, total_iters=total_iters),
                  8, steps_per_epoch=2)
    ours = PiecewiseConstant(boundaries=[total_iters], multipliers=[factor, 1.0], unit="epoch")
    assert_allclose(LR0 * ours.preview(8, 2), lrs, rtol=RTOL)


def test_sequential_lr_row():
    """``SequentialLR([warm-up, exponential, cosine], milestones=[3, 7])``."""

    def make(o):
        return lr_scheduler.SequentialLR(o, [
            lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=3),
            lr_scheduler.ExponentialLR(o, gamma=0.8),
            lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
        ], milestones=[3, 7])

    lrs = _record(make, 16)
    ours = Sequence([
        (LinearWarmup(warmup=3, start_factor=0.2, unit="epoch"), 3),
        (ExponentialDecay(gamma=0.8, staircase=True, unit="epoch"), 7 - 3),
        CosineAnnealing(period=5, eta_min=0.01 / LR0, periodic=True, unit="epoch"),
    ], unit="epoch")
    assert_allclose(LR0 * ours.preview(16), lrs, rtol=RTOL)


def test_decay_and_reduce_on_plateau_row():
    """An ``ExponentialLR`` and a ``ReduceLROnPlateau`` on one optimizer multiply."""
    rng = np.random.default_rng(0)
    monitored = 1.0 / np.arange(1, 25) + 0.05 * rng.random(24)
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=LR0)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.95)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.0)
    lrs = []
    for value in monitored:
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        decay.step()
        plateau.step(float(value))
    decay_ours = ExponentialDecay(gamma=0.95, staircase=True, unit="epoch")
    plateau_ours = ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0)
    product = Product(decay_ours, plateau_ours)
    assert product._feedback_schedules() == [plateau_ours]
    n = len(monitored)
    ours = LR0 * product.preview(n) * plateau_ours.preview(n, monitored=monitored)
    assert_allclose(ours, lrs, rtol=RTOL)
    assert len(set(np.round(np.array(lrs) / 0.95 ** np.arange(n), 12))) > 1  # it reduced


@pytest.mark.parametrize("T_0, T_mult", [(2, 1), (2, 2), (3, 2)])
def test_cosine_warm_restarts_fractional_epochs_row(T_0, T_mult):
    """PyTorch's documented ``scheduler.step(epoch + k / n)`` after every update."""
    eta_min = 0.005
    n_epochs, n = 10, 4
    lrs = _record(
        lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult,
                                                           eta_min=eta_min),
        n_epochs, steps_per_epoch=n, step_arg=lambda e, k, n: e + (k + 1) / n)
    ours = CosineWarmRestarts(T_0=T_0, T_mult=T_mult, eta_min=eta_min / LR0, unit="epoch")
    assert_allclose(LR0 * ours.preview(n_epochs, n), lrs, rtol=1e-10)


def test_absolute_rates_divided_by_lr0():
    """``eta_min / lr0``, ``min_lr / lr0``: the rows with absolute rates."""
    lrs = _record(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01), 15)
    ours = CosineAnnealing(period=6, eta_min=0.01 / LR0, periodic=True, unit="epoch")
    assert_allclose(LR0 * ours.preview(15), lrs, rtol=RTOL)
    lrs = _record(lambda o: lr_scheduler.PolynomialLR(o, total_iters=6, power=2.0), 9)
    assert_allclose(LR0 * PolynomialDecay(total=6, power=2.0, end_value=0.0,
                                          unit="epoch").preview(9), lrs, rtol=RTOL, atol=1e-15)
    values = np.repeat([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 2)
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=LR0)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=0.01)
    lrs = []
    for value in values:
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        plateau.step(value)
    ours = ReduceOnPlateau(factor=0.5, patience=1, min_value=0.01 / LR0)
    assert_allclose(LR0 * ours.preview(len(values), monitored=values), lrs, rtol=RTOL)
    assert min(lrs) == pytest.approx(0.01)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_row(mode):
    base_lr, max_lr = 0.01, 0.08
    lrs = _record(lambda o: lr_scheduler.CyclicLR(o, base_lr=base_lr, max_lr=max_lr,
                                                  step_size_up=3, mode=mode, gamma=0.9,
                                                  cycle_momentum=False),
                  5, steps_per_epoch=4, per="step", lr0=max_lr)
    ours = Cyclic(base=base_lr / max_lr, max=1.0, step_size=3, mode=mode, gamma=0.9,
                  unit="step")
    assert_allclose(max_lr * ours.preview(5, 4), lrs, rtol=1e-10)


def test_one_cycle_lr_row_with_pytorch_defaults():
    """PyTorch's ``pct_start`` default is 0.3: pass it (sklr's is 0.25)."""
    max_lr, total = 0.08, 40
    lrs = _record(lambda o: lr_scheduler.OneCycleLR(o, max_lr=max_lr, total_steps=total,
                                                    cycle_momentum=False),
                  total, per="step", lr0=max_lr)
    ours = OneCycle(total=total, pct_start=0.3, anneal="cos", div_factor=25,
                    final_div_factor=1e4, three_phase=False, unit="step")
    assert_allclose(max_lr * ours.preview(total), lrs, rtol=1e-10)
    default = OneCycle(total=total, unit="step").preview(total)
    assert np.max(np.abs(max_lr * default - lrs)) > 1e-3
