"""RAdam, Rprop and Lion: against NumPy transcriptions of their published
equations (the functional API), and in the estimators."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklr import MLPClassifier, MLPRegressor, optimizers
from sklr import schedules as S
from sklr.optimizers import Lion, RAdam, Rprop

# ---------------------------------------------------------------------------
# NumPy references, written from the equations (PyTorch's documented
# algorithm for RAdam and Rprop, the paper's Algorithm 2 for Lion). They run
# in the dtype of their inputs: Python-float scalars do not promote float32
# arrays (NEP 50).
# ---------------------------------------------------------------------------


def ref_radam(p, grads, lrs, b1s, b2, eps):
    """Liu et al. 2020 as torch.optim.RAdam documents it."""
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    for t, (g, lr, b1) in enumerate(zip(grads, lrs, b1s), start=1):
        lr, b1 = float(lr), float(b1)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            l_t = math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
            p = p - lr * m_hat * l_t * r_t
        else:
            p = p - lr * m_hat
    return p


def ref_rprop(p, grads, lrs, eta_minus, eta_plus, smin, smax):
    """Rprop without backtracking as torch.optim.Rprop documents it; the step
    sizes start at the first rate, later rates are not used."""
    prev = np.zeros_like(p)
    step = np.full_like(p, lrs[0])
    for g in grads:
        s = g * prev
        factor = np.where(s > 0, eta_plus, np.where(s < 0, eta_minus, 1.0)).astype(p.dtype)
        step = np.clip(step * factor, smin, smax).astype(p.dtype)
        g = np.where(s < 0, 0, g).astype(p.dtype)
        p = p - np.sign(g) * step
        prev = g
    return p


def ref_lion(p, grads, lrs, b1s, b2, wd):
    """Chen et al. 2023, Algorithm 2."""
    m = np.zeros_like(p)
    for g, lr, b1 in zip(grads, lrs, b1s):
        lr, b1 = float(lr), float(b1)
        c = b1 * m + (1 - b1) * g
        p = p - lr * (np.sign(c) + wd * p)
        m = b2 * m + (1 - b2) * g
    return p


CASES = [
    ("radam", RAdam(), lambda p, g, lr, mus: ref_radam(p, g, lr, mus, 0.999, 1e-8)),
    ("radam-b2", RAdam(beta_1=0.8, beta_2=0.95, epsilon=1e-3),
     lambda p, g, lr, mus: ref_radam(p, g, lr, mus, 0.95, 1e-3)),
    ("rprop", Rprop(), lambda p, g, lr, mus: ref_rprop(p, g, lr, 0.5, 1.2, 1e-6, 50.0)),
    # Bounds that the steps reach, both of them.
    ("rprop-clipped", Rprop(eta_minus=0.3, eta_plus=1.5, step_size_min=0.02, step_size_max=0.09),
     lambda p, g, lr, mus: ref_rprop(p, g, lr, 0.3, 1.5, 0.02, 0.09)),
    ("lion", Lion(), lambda p, g, lr, mus: ref_lion(p, g, lr, mus, 0.99, 0.0)),
    ("lion-wd", Lion(beta_1=0.5, beta_2=0.9, weight_decay=0.7),
     lambda p, g, lr, mus: ref_lion(p, g, lr, mus, 0.9, 0.7)),
]


def _problem(dtype, n=257, steps=20, seed=0):
    rng = np.random.RandomState(seed)
    p0 = rng.normal(size=n).astype(dtype)
    grads = [rng.normal(size=n).astype(dtype) for _ in range(steps)]
    # Some gradients exactly zero: sign(0) = 0 and Rprop's "no change" case.
    grads[3][:20] = 0
    grads[4][10:30] = 0
    lrs = 0.05 * (1 + 0.5 * np.sin(np.arange(steps)))  # a rate that changes every step
    return p0, grads, lrs


def _run(opt, p0, grads, lrs, mus=None):
    p = p0.copy()
    state = opt.init_state(p)
    for i, (g, lr) in enumerate(zip(grads, lrs)):
        opt.step(p, g, state, lr, momentum=None if mus is None else mus[i])
    return p


@pytest.mark.parametrize("name, opt, ref", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_matches_numpy_reference(name, opt, ref, dtype):
    p0, grads, lrs = _problem(dtype)
    mus = np.full(len(grads), opt._momentum())
    got = _run(opt, p0, grads, lrs)
    expected = ref(p0, grads, lrs, mus)
    assert got.dtype == dtype and expected.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * 1e-2)
    # The reference is not trivially satisfied: the parameters moved.
    assert np.max(np.abs(got - p0)) > 0.05


def test_radam_switches_from_momentum_to_adaptive_steps():
    """rho_t > 5 from the 6th update with beta_2=0.999: the steps before are
    plain momentum steps lr * m_hat, whatever the size of the gradient."""
    p0, grads, lrs = _problem(np.float64)
    opt = RAdam()
    p = p0.copy()
    state = opt.init_state(p)
    m = np.zeros_like(p)
    for t in range(1, 8):
        before = p.copy()
        opt.step(p, 1e3 * grads[t], state, 0.01)
        m = 0.9 * m + 0.1 * 1e3 * grads[t]
        plain = before - 0.01 * m / (1 - 0.9**t)
        if t <= 5:
            np.testing.assert_allclose(p, plain, rtol=1e-13)
        else:  # adaptive: steps of order lr, not lr * |g|
            assert np.max(np.abs(p - before)) < 0.1 < np.max(np.abs(plain - before))


@pytest.mark.parametrize("opt, ref", [
    (RAdam(), lambda p, g, lr, mus: ref_radam(p, g, lr, mus, 0.999, 1e-8)),
    (Lion(weight_decay=0.1), lambda p, g, lr, mus: ref_lion(p, g, lr, mus, 0.99, 0.1)),
], ids=["RAdam", "Lion"])
def test_per_update_momentum_drives_beta_1(opt, ref):
    """A per-update momentum (the estimator's momentum schedule) is beta_1."""
    p0, grads, lrs = _problem(np.float64)
    mus = np.linspace(0.5, 0.95, len(grads))
    got = _run(opt, p0, grads, lrs, mus)
    np.testing.assert_allclose(got, ref(p0, grads, lrs, mus), rtol=1e-12)
    assert np.max(np.abs(got - _run(opt, p0, grads, lrs))) > 1e-3


def test_rprop_reads_only_the_first_learning_rate():
    p0, grads, lrs = _problem(np.float64)
    a = _run(Rprop(), p0, grads, lrs)
    b = _run(Rprop(), p0, grads, np.full(len(lrs), lrs[0]))
    np.testing.assert_array_equal(a, b)
    c = _run(Rprop(), p0, grads, 2 * lrs)  # another first rate: another run
    assert np.max(np.abs(a - c)) > 1e-2


def test_rprop_first_step_and_bounds():
    p = np.zeros(3)
    state = Rprop(step_size_max=0.5).init_state(p)
    Rprop(step_size_max=0.5).step(p, np.array([1.0, 0.0, -2.0]), state, learning_rate=3.0)
    # The initial step size is clipped before it is used; no step where g = 0.
    np.testing.assert_array_equal(p, [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(state["state_2"], 0.5)
    np.testing.assert_array_equal(state["state_1"], [1.0, 0.0, -2.0])
    # A sign change: the step shrinks, the parameter stays, the gradient kept is 0.
    Rprop(step_size_max=0.5).step(p, np.array([-1.0, 1.0, -1.0]), state, learning_rate=3.0)
    np.testing.assert_array_equal(p, [-0.5, -0.5, 1.0])
    np.testing.assert_array_equal(state["state_2"], [0.25, 0.5, 0.5])
    np.testing.assert_array_equal(state["state_1"], [0.0, 1.0, -1.0])


def test_lion_sign_of_zero_is_zero():
    p = np.array([1.0, -2.0])
    state = Lion().init_state(p)
    Lion().step(p, np.zeros(2), state, learning_rate=0.1)
    np.testing.assert_array_equal(p, [1.0, -2.0])
    Lion(weight_decay=0.5).step(p, np.zeros(2), state, learning_rate=0.1)
    np.testing.assert_allclose(p, [0.95, -1.9], rtol=1e-15)


def test_step_runs_in_parallel_blocks_identically():
    rng = np.random.RandomState(0)
    p0 = rng.normal(size=50_000)
    grads = [rng.normal(size=p0.size) for _ in range(8)]
    for opt in (RAdam(), Rprop(), Lion(weight_decay=0.1)):
        results = []
        for n_threads in (1, 2):
            p = p0.copy()
            state = opt.init_state(p)
            for g in grads:
                opt.step(p, g, state, 0.01, n_threads=n_threads)
            results.append(p)
        np.testing.assert_array_equal(results[0], results[1])


NEW = [RAdam(beta_2=0.99), Rprop(eta_plus=1.3), Lion(weight_decay=0.2)]


@pytest.mark.parametrize("opt", NEW, ids=lambda o: type(o).__name__)
def test_config_layout(opt):
    from sklr import _codes
    from sklr._codes import Rule

    config = opt._config()
    assert Rule(int(config[_codes.CFG_RULE])).name.lower() == opt._rule
    values = opt._fields()
    for i, name in enumerate(opt._slots):
        assert config[_codes.CFG_SLOTS + i] == float(values[name])
    assert not config[_codes.CFG_SLOTS + len(opt._slots):].any()
    assert config[_codes.CFG_WEIGHT_DECAY] == getattr(opt, "weight_decay", 0.0)


@pytest.mark.parametrize("opt", NEW, ids=lambda o: type(o).__name__)
def test_weight_decay_slot_applies_before_the_rule(opt):
    from sklr import _codes, _kernel

    rng = np.random.RandomState(0)
    p0, g = rng.normal(size=50), rng.normal(size=50)
    config = opt._config()
    config[_codes.CFG_WEIGHT_DECAY] = 0.0
    plain, state = p0 * (1 - 0.1 * 0.3), opt.init_state(p0)
    _kernel.apply_update(plain, g, state, config, 0.1, opt._momentum(), 1)
    config[_codes.CFG_WEIGHT_DECAY] = 0.3
    decayed, state = p0.copy(), opt.init_state(p0)
    _kernel.apply_update(decayed, g, state, config, 0.1, opt._momentum(), 1)
    np.testing.assert_allclose(decayed, plain, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("opt, match", [
    (Rprop(eta_minus=1.0), "eta_minus"),
    (Rprop(eta_plus=1.0), "eta_plus"),
    (Rprop(step_size_min=1.0, step_size_max=0.5), "step_size_min"),
    (Lion(beta_2=1.0), "beta_2"),
    (Lion(weight_decay=-1.0), "weight_decay"),
    (RAdam(epsilon=0.0), "epsilon"),
])
def test_invalid_parameters_raise(opt, match):
    with pytest.raises(ValueError, match=match):
        opt.init_state(np.zeros(2))


def test_radam_has_no_convention():
    assert "convention" not in RAdam().get_params()
    with pytest.raises(TypeError):
        RAdam(convention="pytorch")


# ---------------------------------------------------------------------------
# In the estimators
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _full_batch(X):
    # Rprop is a full-batch method: one update per epoch on all the data.
    return X.shape[0]


@pytest.mark.parametrize("solver, kw", [
    ("radam", dict(learning_rate_init=0.01, batch_size=32, max_iter=15)),
    (RAdam(beta_2=0.99), dict(learning_rate_init=0.01, batch_size=32, max_iter=15)),
    ("lion", dict(learning_rate_init=0.002, batch_size=32, max_iter=15)),
    (Lion(beta_2=0.98, weight_decay=0.1), dict(learning_rate_init=0.002, batch_size=32, max_iter=15)),
    ("rprop", dict(learning_rate_init=0.01, batch_size=300, max_iter=80)),
    (Rprop(eta_plus=1.1), dict(learning_rate_init=0.01, batch_size=300, max_iter=80)),
], ids=lambda x: repr(x) if not isinstance(x, dict) else "")
def test_every_new_solver_learns(digits, solver, kw):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(hidden_layer_sizes=(20,), solver=solver, random_state=0,
                            **kw).fit(X, y)
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]
    assert est.score(X, y) > 0.8


@pytest.mark.parametrize("string, obj", [("radam", RAdam()), ("lion", Lion()), ("rprop", Rprop())])
def test_string_equals_default_object(digits, string, obj):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=4, random_state=0, learning_rate_init=0.005)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(solver=string, **kw).fit(X, y)
        b = MLPClassifier(solver=obj, **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


def test_radam_string_reads_top_level_knobs_lion_and_rprop_do_not(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=3, random_state=0, learning_rate_init=0.005)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(solver="radam", beta_1=0.5, beta_2=0.9, epsilon=1e-4, **kw).fit(X, y)
        b = MLPClassifier(solver=RAdam(beta_1=0.5, beta_2=0.9, epsilon=1e-4), **kw).fit(X, y)
        np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
        # Lion's beta_2 default (0.99) is not the estimator's (0.999): the
        # string means Lion(), whatever the top-level knobs.
        c = MLPClassifier(solver="lion", beta_1=0.5, beta_2=0.9, **kw).fit(X, y)
        d = MLPClassifier(solver=Lion(), **kw).fit(X, y)
    np.testing.assert_array_equal(c.loss_curve_, d.loss_curve_)


def test_rprop_estimator_rate_is_the_initial_step(digits):
    """Full batch: a schedule changes nothing after the first update; the
    first update's rate (learning_rate_init x schedule) is the initial step."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), solver=Rprop(), batch_size=_full_batch(X), max_iter=6,
              random_state=0, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        const = MLPClassifier(**kw).fit(X, y)
        decayed = MLPClassifier(learning_rate=S.StepDecay(step_size=1, gamma=0.3),
                                **{**kw, "learning_rate_init": 0.01}).fit(X, y)
        other = MLPClassifier(**{**kw, "learning_rate_init": 0.03}).fit(X, y)
        own = MLPClassifier(**{**kw, "solver": Rprop(learning_rate=0.03),
                               "learning_rate_init": 123.0}).fit(X, y)
    assert decayed.history_["learning_rate"][-1] < 0.01  # the schedule did run
    np.testing.assert_array_equal(const.loss_curve_, decayed.loss_curve_)
    for p, q in zip(const.coefs_, decayed.coefs_):
        np.testing.assert_array_equal(p, q)
    assert np.abs(const.loss_curve_[-1] - other.loss_curve_[-1]) > 1e-6
    np.testing.assert_array_equal(other.loss_curve_, own.loss_curve_)


def test_lion_weight_decay_is_the_shared_field(digits):
    """Lion's own weight_decay and the estimator's (through 'lion') are the same decay."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=3, random_state=0, learning_rate_init=0.002)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(solver=Lion(weight_decay=0.5), **kw).fit(X, y)
        b = MLPClassifier(solver="lion", weight_decay=0.5, **kw).fit(X, y)
        c = MLPClassifier(solver=Lion(), **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert np.abs(a.loss_curve_[-1] - c.loss_curve_[-1]) > 1e-8


def test_lion_momentum_schedule_drives_beta_1(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=3, random_state=0, learning_rate_init=0.002)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(solver=Lion(beta_1=0.6), **kw).fit(X, y)
        b = MLPClassifier(solver=Lion(), momentum=S.MomentumRamp(start=0.6, stable=0.6, ramp=1),
                          **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(b.history_["momentum"], 0.6)


def _assert_same(a, b):
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-12)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-14)


def _resume_kw(opt):
    batch_size = 250 if isinstance(opt, Rprop) else 50
    return dict(hidden_layer_sizes=(8,), solver=opt, learning_rate=S.CosineAnnealing(period=20, unit="epoch"),
                learning_rate_init=0.01, shuffle=False, batch_size=batch_size, random_state=0)


RESUMABLE = [RAdam(), Rprop(), Lion(weight_decay=0.1)]


@pytest.mark.parametrize("opt", RESUMABLE, ids=lambda o: type(o).__name__)
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_two_resumed_epochs_equal_one_fit_of_two(digits, opt, how):
    X, y = digits[0][:250], digits[1][:250].astype(float)
    kw = _resume_kw(opt)
    full = MLPRegressor(max_iter=2, **kw).fit(X, y)
    inc = MLPRegressor(max_iter=1, warm_start=how == "warm_start", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            if how == "partial_fit":
                inc.partial_fit(X, y)
            else:
                inc.fit(X, y)
    _assert_same(inc, full)


@pytest.mark.parametrize("opt", RESUMABLE, ids=lambda o: type(o).__name__)
def test_pickled_fitted_estimator_continues_identically(digits, opt):
    X, y = digits[0][:250], digits[1][:250]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(max_iter=2, **_resume_kw(opt)).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    for model in (est, again):
        model.partial_fit(X, y)
    _assert_same(again, est)
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("opt", [RAdam(beta_2=0.99), Rprop(step_size_max=3.0),
                                 Lion(weight_decay=0.1)], ids=lambda o: type(o).__name__)
def test_clone_pickle_and_repr(opt):
    again = pickle.loads(pickle.dumps(opt))
    assert again == opt and repr(again) == repr(opt)
    cloned = clone(opt)
    assert cloned == opt and cloned is not opt
    assert type(opt).__name__ in repr(opt)


def test_grid_search_over_lion_beta_2(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=4, batch_size=16, random_state=0,
              learning_rate_init=0.003)
    est = MLPClassifier(solver=Lion(), **kw)
    assert "solver__beta_2" in est.get_params(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(est, {"solver__beta_2": [0.5, 0.9, 0.99]}, cv=2).fit(X, y)
        assert list(search.cv_results_["param_solver__beta_2"]) == [0.5, 0.9, 0.99]
        assert len(set(search.cv_results_["mean_test_score"])) > 1  # beta_2 reached the fits
        best = search.best_params_["solver__beta_2"]
        direct = MLPClassifier(solver=Lion(beta_2=best), **kw).fit(X, y)
    assert search.best_estimator_.solver == Lion(beta_2=best)
    np.testing.assert_array_equal(search.best_estimator_.loss_curve_, direct.loss_curve_)
    assert est.solver == Lion()  # the search cloned; the original is untouched


def test_public_names_and_solver_strings():
    from sklr.optimizers import _solver_strings

    assert {"RAdam", "Rprop", "Lion"} <= set(optimizers.__all__)
    assert {"radam", "rprop", "lion"} <= _solver_strings()
    for name in ("RAdam", "Rprop", "Lion"):
        assert getattr(optimizers, name).__doc__.count(".. math::") >= 1


def test_optimizer_with_its_own_weight_decay_keeps_it():
    """Lion(weight_decay=...) and AdamW keep their value whatever the estimator's."""
    from sklr._plan import Plan
    from sklr._codes import CFG_WEIGHT_DECAY
    from sklr import MLPClassifier
    from sklr.optimizers import SGD, AdamW, Lion

    for solver, expected in [(Lion(weight_decay=0.2), 0.2), (AdamW(weight_decay=0.03), 0.03),
                             (Lion(), 0.0), (SGD(), 0.1)]:
        est = MLPClassifier(solver=solver, weight_decay=0.1)
        assert Plan(est, [4]).kernel_config()[CFG_WEIGHT_DECAY] == expected
