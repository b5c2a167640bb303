"""Cross-checks of sklr.schedules against torch.optim.lr_scheduler.

Each test steps a real ``torch.optim.SGD`` with ``lr=1.0`` (so the rate is
the multiplier) through a PyTorch scheduler, recording the rate in effect at
every update, and compares it with ``preview``: ``scheduler.step()`` is
called after every update for ``unit='step'`` and after every epoch for
``unit='epoch'``. Skipped only when PyTorch is not installed.
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
    CyclicMomentum,
    ExponentialDecay,
    InverseTimeDecay,
    LinearDecay,
    LinearWarmup,
    MultiStepDecay,
    OneCycle,
    PolynomialDecay,
    ReduceOnPlateau,
    StepDecay,
)

RTOL = 1e-10


def _record(make_scheduler, n_epochs, steps_per_epoch=1, per="step", momentum=0.0):
    """Rate and momentum in effect at each update of a PyTorch run.

    Parameters
    ----------
    make_scheduler : callable
        Builds the scheduler from the optimizer.
    n_epochs, steps_per_epoch : int
        Shape of the run.
    per : {'step', 'epoch'}
        Whether ``scheduler.step()`` follows every update or every epoch.
    momentum : float
        SGD momentum (the cyclic schedulers overwrite it).

    Returns
    -------
    lrs, momenta : ndarray of shape (n_epochs * steps_per_epoch,)
    """
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=1.0, momentum=momentum)
    scheduler = make_scheduler(opt)
    lrs, momenta = [], []
    for _ in range(n_epochs):
        for _ in range(steps_per_epoch):
            lrs.append(scheduler.get_last_lr()[0])
            momenta.append(opt.param_groups[0]["momentum"])
            opt.step()
            if per == "step":
                scheduler.step()
        if per == "epoch":
            scheduler.step()
    return np.array(lrs, dtype=np.float64), np.array(momenta, dtype=np.float64)


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (4, 0.9)])
def test_step_decay(step_size, gamma):
    make = lambda o: lr_scheduler.StepLR(
        o, step_size=step_size, gamma=gamma
    )  # noqa: E731
    lrs, _ = _record(make, 12, steps_per_epoch=3, per="epoch")
    ours = StepDecay(step_size=step_size, gamma=gamma).preview(12, 3)
    assert_allclose(ours, lrs, rtol=RTOL)
    lrs, _ = _record(make, 5, steps_per_epoch=5, per="step")
    ours = StepDecay(step_size=step_size, gamma=gamma, unit="step").preview(5, 5)
    assert_allclose(ours, lrs, rtol=RTOL)


@pytest.mark.parametrize(
    "milestones, gamma", [([2, 5, 7], 0.5), ([1, 4, 4, 9], 0.3), ([0, 3], 0.1)]
)
def test_multistep_decay(milestones, gamma):
    make = lambda o: lr_scheduler.MultiStepLR(o, milestones, gamma)  # noqa: E731
    lrs, _ = _record(make, 11, steps_per_epoch=3, per="epoch")
    assert_allclose(MultiStepDecay(milestones, gamma).preview(11, 3), lrs, rtol=RTOL)
    lrs, _ = _record(make, 3, steps_per_epoch=4, per="step")
    ours = MultiStepDecay(milestones, gamma, unit="step").preview(3, 4)
    assert_allclose(ours, lrs, rtol=RTOL)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_exponential_decay_gamma(gamma):
    make = lambda o: lr_scheduler.ExponentialLR(o, gamma)  # noqa: E731
    lrs, _ = _record(make, 6, steps_per_epoch=5, per="step")
    assert_allclose(ExponentialDecay(gamma=gamma, unit="step").preview(6, 5), lrs, rtol=RTOL)
    lrs, _ = _record(make, 10, steps_per_epoch=3, per="epoch")
    ours = ExponentialDecay(gamma=gamma, unit="epoch", staircase=True).preview(10, 3)
    assert_allclose(ours, lrs, rtol=RTOL)
    lrs, _ = _record(make, 10, steps_per_epoch=1, per="epoch")
    ours = ExponentialDecay(gamma=gamma, unit="epoch").preview(10)
    assert_allclose(ours, lrs, rtol=RTOL)


@pytest.mark.parametrize("period, eta_min", [(5, 0.0), (7, 0.1), (20, 0.01)])
def test_cosine_annealing_periodic(period, eta_min):
    make = lambda o: lr_scheduler.CosineAnnealingLR(o, period, eta_min)  # noqa: E731
    n = 3 * period + 2  # three half-waves and a bit: past the minimum twice
    lrs, _ = _record(make, n, per="step")
    ours = CosineAnnealing(period, eta_min=eta_min, periodic=True, unit="step").preview(n)
    assert_allclose(ours, lrs, rtol=RTOL)
    lrs, _ = _record(make, n, per="epoch")
    ours = CosineAnnealing(period, eta_min, periodic=True, unit="epoch").preview(n)
    assert_allclose(ours, lrs, rtol=RTOL)


@pytest.mark.parametrize(
    "T_0, T_mult, eta_min",
    [(3, 1, 0.0), (4, 1, 0.1), (2, 2, 0.0), (3, 2, 0.05), (1, 3, 0.0)],
)
def test_cosine_warm_restarts(T_0, T_mult, eta_min):
    make = lambda o: lr_scheduler.CosineAnnealingWarmRestarts(  # noqa: E731
        o, T_0=T_0, T_mult=T_mult, eta_min=eta_min
    )
    lrs, _ = _record(make, 40, per="epoch")
    ours = CosineWarmRestarts(T_0, T_mult, eta_min).preview(40)
    assert_allclose(ours, lrs, rtol=RTOL)
    lrs, _ = _record(make, 8, steps_per_epoch=5, per="step")
    ours = CosineWarmRestarts(T_0, T_mult, eta_min, unit="step").preview(8, 5)
    assert_allclose(ours, lrs, rtol=RTOL)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("step_size", [1, 3, 4])
def test_cyclic(mode, step_size):
    make = lambda o: lr_scheduler.CyclicLR(  # noqa: E731
        o,
        base_lr=0.1,
        max_lr=1.0,
        step_size_up=step_size,
        mode=mode,
        gamma=0.97,
        cycle_momentum=False,
    )
    lrs, _ = _record(make, 10, steps_per_epoch=4, per="step")
    ours = Cyclic(base=0.1, max=1.0, step_size=step_size, mode=mode, gamma=0.97,
                  unit="step")
    assert_allclose(ours.preview(10, 4), lrs, rtol=RTOL)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_momentum_vs_cyclic_lr(mode):
    make = lambda o: lr_scheduler.CyclicLR(  # noqa: E731
        o,
        base_lr=0.2,
        max_lr=0.9,
        step_size_up=3,
        mode=mode,
        gamma=0.95,
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
    )
    lrs, momenta = _record(make, 8, steps_per_epoch=4, per="step", momentum=0.9)
    cycle = Cyclic(base=0.2, max=0.9, step_size=3, mode=mode, gamma=0.95, unit="step")
    assert_allclose(cycle.preview(8, 4), lrs, rtol=RTOL)
    ours = CyclicMomentum(cycle, base_momentum=0.8, max_momentum=0.9).preview(8, 4)
    assert_allclose(ours, momenta, rtol=RTOL)


ONE_CYCLE_CASES = [
    (anneal, three_phase, total, pct_start)
    for anneal in ("cos", "linear")
    for three_phase in (False, True)
    for total, pct_start in ((20, 0.3), (37, 0.25), (10, 0.5))
]


@pytest.mark.parametrize("anneal, three_phase, total, pct_start", ONE_CYCLE_CASES)
def test_one_cycle_and_its_momentum(anneal, three_phase, total, pct_start):
    make = lambda o: lr_scheduler.OneCycleLR(  # noqa: E731
        o,
        max_lr=1.0,
        total_steps=total,
        pct_start=pct_start,
        anneal_strategy=anneal,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=three_phase,
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
    )
    lrs, momenta = _record(make, total, per="step", momentum=0.9)
    cycle = OneCycle(total, pct_start, anneal=anneal, three_phase=three_phase, unit="step")
    assert_allclose(cycle.preview(total), lrs, rtol=RTOL)
    momentum = CyclicMomentum(cycle, base_momentum=0.85, max_momentum=0.95)
    assert_allclose(momentum.preview(total), momenta, rtol=RTOL)


@pytest.mark.parametrize("warmup, start_factor", [(4, 0.25), (5, 0.1), (1, 0.5)])
def test_linear_warmup_vs_linear_lr(warmup, start_factor):
    make = lambda o: lr_scheduler.LinearLR(  # noqa: E731
        o, start_factor=start_factor, end_factor=1.0, total_iters=warmup
    )
    lrs, _ = _record(make, 9, per="epoch")
    ours = LinearWarmup(warmup, start_factor, unit="epoch").preview(9)
    assert_allclose(ours, lrs, rtol=RTOL)
    lrs, _ = _record(make, 3, steps_per_epoch=4, per="step")
    ours = LinearWarmup(warmup, start_factor, unit="step").preview(3, 4)
    assert_allclose(ours, lrs, rtol=RTOL)


@pytest.mark.parametrize("total, end_value", [(4, 0.0), (6, 0.2)])
def test_linear_decay_vs_linear_lr(total, end_value):
    make = lambda o: lr_scheduler.LinearLR(  # noqa: E731
        o, start_factor=1.0, end_factor=end_value, total_iters=total
    )
    lrs, _ = _record(make, 10, per="step")
    assert_allclose(
        LinearDecay(total, end_value, unit="step").preview(10), lrs, rtol=RTOL, atol=1e-15
    )


@pytest.mark.parametrize("total, power", [(5, 1.0), (8, 2.0), (6, 0.5)])
def test_polynomial_decay_vs_polynomial_lr(total, power):
    make = lambda o: lr_scheduler.PolynomialLR(
        o, total_iters=total, power=power
    )  # noqa
    lrs, _ = _record(make, 10, per="epoch")
    ours = PolynomialDecay(total, power, unit="epoch").preview(10)
    assert_allclose(ours, lrs, rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("decay", [0.01, 0.5, 2.0])
def test_inverse_time_decay_vs_lambda_lr(decay):
    make = lambda o: lr_scheduler.LambdaLR(o, lambda i: 1.0 / (1.0 + decay * i))  # noqa
    lrs, _ = _record(make, 4, steps_per_epoch=6, per="step")
    assert_allclose(InverseTimeDecay(decay, unit="step").preview(4, 6), lrs, rtol=RTOL)
    lrs, _ = _record(make, 12, per="epoch")
    ours = InverseTimeDecay(decay, unit="epoch").preview(12)
    assert_allclose(ours, lrs, rtol=RTOL)


_rng = np.random.default_rng(0)
_NOISY = 1.0 / np.arange(1, 41) + 0.05 * _rng.standard_normal(
    40
)  # plateaus, then noise
_STAIRS = np.repeat([1.0, 0.9, 0.9, 0.899, 0.85, 0.85, 0.84999, 0.5], 5)

PLATEAU_CASES = [
    dict(factor=0.5, patience=2, threshold=1e-4, threshold_mode="rel"),
    dict(factor=0.5, patience=2, threshold=0.01, threshold_mode="abs"),
    dict(factor=0.1, patience=0, threshold=0.0, threshold_mode="rel", min_value=1e-4),
    dict(factor=0.5, patience=1, threshold=0.05, threshold_mode="rel", cooldown=2),
    dict(factor=0.5, patience=3, threshold=0.001, threshold_mode="abs", cooldown=1),
    dict(factor=0.3, patience=0, threshold=0.0, threshold_mode="abs", min_value=0.05),
    dict(
        factor=0.5,
        patience=1,
        threshold=0.02,
        threshold_mode="rel",
        cooldown=3,
        min_value=0.1,
    ),
]


@pytest.mark.parametrize("metrics", [_NOISY, _STAIRS], ids=["noisy", "stairs"])
@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("params", PLATEAU_CASES)
def test_reduce_on_plateau(params, mode, metrics):
    params = dict(params)
    min_value = params.pop("min_value", 0.0)
    values = metrics if mode == "min" else 2.0 - metrics
    n = len(values)
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, min_lr=min_value, **params
    )
    lrs = []
    for value in values:
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step(float(value))
    assert min(lrs) > 1e-7  # PyTorch's eps=1e-8 never kicks in here
    monitor = "val_loss" if mode == "min" else "val_score"
    ours = ReduceOnPlateau(min_value=min_value, monitor=monitor, **params)
    assert_allclose(ours.preview(n, monitored=values), lrs, rtol=RTOL)
    assert_allclose(
        ours.preview(n, steps_per_epoch=3, monitored=values),
        np.repeat(lrs, 3),
        rtol=RTOL,
    )
    assert len(set(lrs)) > 1  # the case does reduce


def _torch_plateau_run(values, mode, min_lr, **params):
    """Rate in effect during each epoch of a PyTorch ReduceLROnPlateau run, and
    its (best, num_bad_epochs, cooldown_counter) after each epoch."""
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, mode=mode, min_lr=min_lr, **params)
    lrs, states = [], []
    for value in values:
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step(float(value))
        states.append((float(scheduler.best), scheduler.num_bad_epochs,
                       scheduler.cooldown_counter))
    return np.array(lrs), states


@pytest.mark.parametrize("seed", range(4))
def test_reduce_on_plateau_on_random_walks(seed):
    """Random walks (rounded, so ties happen) through a grid of settings."""
    rng = np.random.default_rng(seed)
    values = np.round(np.cumsum(rng.normal(-0.02, 0.05, 60)) + 3, 2)
    n_reducing = 0
    for patience in (0, 1, 3):
        for threshold_mode, threshold in (("rel", 0.01), ("abs", 0.02), ("rel", 0.0)):
            for cooldown, min_value in ((0, 1e-6), (2, 0.01)):
                for mode, monitor in (("min", "val_loss"), ("max", "val_score")):
                    params = dict(factor=0.5, patience=patience, threshold=threshold,
                                  threshold_mode=threshold_mode, cooldown=cooldown)
                    lrs, states = _torch_plateau_run(values, mode, min_value, **params)
                    # PyTorch skips a reduction smaller than eps=1e-8, which
                    # sklr does not: the floor keeps every rate above it.
                    ours = ReduceOnPlateau(min_value=min_value, monitor=monitor, **params)
                    assert_allclose(ours.preview(60, monitored=values), lrs, rtol=RTOL)
                    state = ours.init_state()
                    for value, expected in zip(values, states):
                        state = ours.update(state, value)
                        assert (state["best"], state["bad_epochs"],
                                state["cooldown_counter"]) == expected
                    n_reducing += lrs.min() < 1
    assert n_reducing >= 24  # most cases reduce


def test_per_epoch_matches_a_scheduler_stepped_once_per_epoch():
    from sklr.schedules import CosineAnnealing, PerEpoch

    steps_per_epoch, n_epochs, t_max = 4, 12, 5
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max)
    lrs = []
    for _ in range(n_epochs):
        for _ in range(steps_per_epoch):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
        sched.step()
    ours = PerEpoch(CosineAnnealing(period=t_max, periodic=True, unit="epoch"))
    np.testing.assert_allclose(ours.preview(n_epochs, steps_per_epoch), lrs, rtol=1e-10, atol=1e-15)


# -- schedules sized by the fit (unit='fraction') ------------------------------


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("n_epochs, steps_per_epoch, pct_start", [(5, 8, 0.3), (13, 3, 0.25)])
def test_one_cycle_in_fractions_is_one_cycle_lr_over_the_fit(
        anneal, three_phase, n_epochs, steps_per_epoch, pct_start):
    """``OneCycle()`` spans the plan: PyTorch's OneCycleLR with total_steps the
    fit's updates, its ``pct_start`` mapped as the translation table says."""
    total = n_epochs * steps_per_epoch
    make = lambda o: lr_scheduler.OneCycleLR(  # noqa: E731
        o, max_lr=1.0, total_steps=total, pct_start=pct_start, anneal_strategy=anneal,
        three_phase=three_phase, cycle_momentum=True, base_momentum=0.85,
        max_momentum=0.95,
    )
    lrs, momenta = _record(make, n_epochs, steps_per_epoch, per="step", momentum=0.9)
    cycle = OneCycle(pct_start=(pct_start * total - 1) / (total - 1), anneal=anneal,
                     three_phase=three_phase)
    assert_allclose(cycle.preview(n_epochs, steps_per_epoch), lrs, rtol=RTOL)
    momentum = CyclicMomentum(cycle, base_momentum=0.85, max_momentum=0.95)
    assert_allclose(momentum.preview(n_epochs, steps_per_epoch), momenta, rtol=RTOL)


@pytest.mark.parametrize("n_epochs, steps_per_epoch", [(4, 5), (1, 9), (30, 1)])
def test_cosine_in_fractions_is_cosine_annealing_lr_over_the_fit(n_epochs, steps_per_epoch):
    total = n_epochs * steps_per_epoch
    make = lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=total - 1)  # noqa: E731
    lrs, _ = _record(make, n_epochs, steps_per_epoch, per="step")
    ours = CosineAnnealing().preview(n_epochs, steps_per_epoch)
    assert_allclose(ours, lrs, rtol=RTOL, atol=1e-15)


def _torch_one_cycle_raises(total_steps, n_updates):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=1.0)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=total_steps)
    try:
        for _ in range(n_updates):
            opt.step()
            scheduler.step()
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("total", [8, 11, 12, 13, 40])
def test_fit_warns_exactly_when_one_cycle_lr_raises(total):
    """A fit of 12 updates warns about ``OneCycle(total, unit='step')`` exactly
    when PyTorch's OneCycleLR with ``total_steps=total`` raises in a run of 12."""
    import warnings

    from sklearn.datasets import load_digits

    from sklr import MLPClassifier
    from sklr.exceptions import ScheduleEndWarning

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    est = MLPClassifier(hidden_layer_sizes=(4,), batch_size=100, max_iter=4,
                        learning_rate=OneCycle(total=total, unit="step"), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    warned = any(issubclass(w.category, ScheduleEndWarning) for w in caught)
    assert warned == _torch_one_cycle_raises(total, 12)
