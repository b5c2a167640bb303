"""Optimizers against plain NumPy references of their equations, and in the estimators."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklr import MLPClassifier, optimizers
from sklr.optimizers import (
    LBFGS, SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop,
)
from sklr.schedules import StepDecay


# ---------------------------------------------------------------------------
# NumPy references, written from the equations (float64, or the input dtype)
# ---------------------------------------------------------------------------

def ref_sgd(p, grads, lrs, mus, nesterov, dampening, convention):
    b = np.zeros_like(p)
    for t, (g, lr, mu) in enumerate(zip(grads, lrs, mus), start=1):
        if convention == "sklearn":
            b = mu * b - lr * g
            p = p + (mu * b - lr * g if nesterov else b)
        else:
            b = g.copy() if t == 1 else mu * b + (1 - dampening) * g
            p = p - lr * (g + mu * b if nesterov else b)
    return p


def ref_adam(p, grads, lrs, b1s, b2, eps, amsgrad, convention, wd=0.0):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, (g, lr, b1) in enumerate(zip(grads, lrs, b1s), start=1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        if convention == "sklearn":
            p = p - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(vv) + eps)
        else:
            p = p - lr / (1 - b1**t) * m / (np.sqrt(vv) / np.sqrt(1 - b2**t) + eps)
    return p


def ref_adagrad(p, grads, lrs, eps, init, lr_decay, convention):
    s = np.full_like(p, init)
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        s = s + g * g
        if convention == "pytorch":
            p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        else:
            p = p - lr * g / np.sqrt(s + eps)
    return p


def ref_adadelta(p, grads, lrs, rho, eps):
    v = np.zeros_like(p)
    u = np.zeros_like(p)
    for g, lr in zip(grads, lrs):
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d
    return p


def ref_rmsprop(p, grads, lrs, mus, rho, eps, centered, convention):
    v = np.zeros_like(p)
    gbar = np.zeros_like(p)
    b = np.zeros_like(p)
    for g, lr, mu in zip(grads, lrs, mus):
        v = rho * v + (1 - rho) * g * g
        gbar = rho * gbar + (1 - rho) * g
        s = v - gbar**2 if centered else v
        d = np.sqrt(s) + eps if convention == "pytorch" else np.sqrt(s + eps)
        if mu > 0:
            if convention == "pytorch":
                b = mu * b + g / d
                p = p - lr * b
            else:
                b = mu * b + lr * g / d
                p = p - b
        else:
            p = p - lr * g / d
    return p


def ref_nadam(p, grads, lrs, b1, b2, eps, psi):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    prod = 1.0
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2**t)) + eps
        p = p - lr * ((1 - mu) / (1 - prod) * g + mu_next / (1 - prod * mu_next) * m) / denom
    return p


def ref_adamax(p, grads, lrs, b1, b2, eps, convention):
    m = np.zeros_like(p)
    u = np.zeros_like(p)
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        m = b1 * m + (1 - b1) * g
        if convention == "pytorch":
            u = np.maximum(b2 * u, np.abs(g) + eps)
            p = p - lr / (1 - b1**t) * m / u
        else:
            u = np.maximum(b2 * u, np.abs(g))
            p = p - lr / (1 - b1**t) * m / (u + eps)
    return p


def _problem(dtype, n=257, steps=12, seed=0):
    rng = np.random.RandomState(seed)
    p0 = rng.normal(size=n).astype(dtype)
    grads = [rng.normal(size=n).astype(dtype) for _ in range(steps)]
    # A rate that changes every step: conventions must agree under it too.
    lrs = 0.05 * (1 + 0.5 * np.sin(np.arange(steps)))
    return p0, grads, lrs


def _run(opt, p0, grads, lrs, mus=None):
    p = p0.copy()
    state = opt.init_state(p)
    for i, (g, lr) in enumerate(zip(grads, lrs)):
        opt.step(p, g, state, lr, momentum=None if mus is None else mus[i])
    return p


CASES = [
    ("sgd-sklearn", SGD(momentum=0.9, nesterov=False), lambda p, g, lr, mus: ref_sgd(p, g, lr, mus, False, 0, "sklearn")),
    ("sgd-sklearn-nesterov", SGD(momentum=0.7, nesterov=True), lambda p, g, lr, mus: ref_sgd(p, g, lr, mus, True, 0, "sklearn")),
    ("sgd-pytorch", SGD(momentum=0.9, nesterov=False, dampening=0.1, convention="pytorch"), lambda p, g, lr, mus: ref_sgd(p, g, lr, mus, False, 0.1, "pytorch")),
    ("sgd-pytorch-nesterov", SGD(momentum=0.8, nesterov=True, convention="pytorch"), lambda p, g, lr, mus: ref_sgd(p, g, lr, mus, True, 0, "pytorch")),
    ("adam-sklearn", Adam(), lambda p, g, lr, mus: ref_adam(p, g, lr, mus, 0.999, 1e-8, False, "sklearn")),
    ("adam-pytorch-amsgrad", Adam(beta_2=0.99, epsilon=1e-6, amsgrad=True, convention="pytorch"), lambda p, g, lr, mus: ref_adam(p, g, lr, mus, 0.99, 1e-6, True, "pytorch")),
    ("adam-sklearn-amsgrad", Adam(amsgrad=True), lambda p, g, lr, mus: ref_adam(p, g, lr, mus, 0.999, 1e-8, True, "sklearn")),
    ("adamw", AdamW(weight_decay=0.1, convention="pytorch"), lambda p, g, lr, mus: ref_adam(p, g, lr, mus, 0.999, 1e-8, False, "pytorch", wd=0.1)),
    ("adagrad-pytorch", Adagrad(epsilon=1e-10, initial_accumulator_value=0.1, lr_decay=0.05), lambda p, g, lr, mus: ref_adagrad(p, g, lr, 1e-10, 0.1, 0.05, "pytorch")),
    ("adagrad-keras", Adagrad(epsilon=1e-7, initial_accumulator_value=0.1, convention="keras"), lambda p, g, lr, mus: ref_adagrad(p, g, lr, 1e-7, 0.1, 0.0, "keras")),
    ("adadelta", Adadelta(rho=0.95, epsilon=1e-6), lambda p, g, lr, mus: ref_adadelta(p, g, lr, 0.95, 1e-6)),
    ("rmsprop-pytorch", RMSprop(rho=0.9, momentum=0.5, centered=True), lambda p, g, lr, mus: ref_rmsprop(p, g, lr, mus, 0.9, 1e-8, True, "pytorch")),
    ("rmsprop-pytorch-plain", RMSprop(), lambda p, g, lr, mus: ref_rmsprop(p, g, lr, mus, 0.99, 1e-8, False, "pytorch")),
    ("rmsprop-keras", RMSprop(rho=0.9, epsilon=1e-7, momentum=0.3, convention="keras"), lambda p, g, lr, mus: ref_rmsprop(p, g, lr, mus, 0.9, 1e-7, False, "keras")),
    ("nadam-pytorch", NAdam(), lambda p, g, lr, mus: ref_nadam(p, g, lr, 0.9, 0.999, 1e-8, 0.004)),
    ("nadam-keras", NAdam(convention="keras", momentum_decay=0.004), lambda p, g, lr, mus: ref_nadam(p, g, lr, 0.9, 0.999, 1e-8, 0.004)),
    ("adamax-pytorch", Adamax(), lambda p, g, lr, mus: ref_adamax(p, g, lr, 0.9, 0.999, 1e-8, "pytorch")),
    ("adamax-keras", Adamax(convention="keras", epsilon=1e-7), lambda p, g, lr, mus: ref_adamax(p, g, lr, 0.9, 0.999, 1e-7, "keras")),
]


@pytest.mark.parametrize("name, opt, ref", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_matches_numpy_reference(name, opt, ref, dtype):
    p0, grads, lrs = _problem(dtype)
    mus = np.full(len(grads), opt._momentum())
    got = _run(opt, p0, grads, lrs)
    expected = ref(p0.astype(np.float64), [g.astype(np.float64) for g in grads], lrs, mus)
    assert got.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("opt, ref", [
    (SGD(momentum=0.0, convention="pytorch", nesterov=False), lambda p, g, lr, mus: ref_sgd(p, g, lr, mus, False, 0, "pytorch")),
    (Adam(), lambda p, g, lr, mus: ref_adam(p, g, lr, mus, 0.999, 1e-8, False, "sklearn")),
])
def test_momentum_override_per_step(opt, ref):
    """A per-step momentum (a momentum schedule) replaces momentum / beta_1."""
    p0, grads, lrs = _problem(np.float64)
    mus = np.linspace(0.85, 0.95, len(grads))
    got = _run(opt, p0, grads, lrs, mus)
    np.testing.assert_allclose(got, ref(p0, grads, lrs, mus), rtol=1e-10)


def test_sgd_conventions_agree_at_constant_rate_and_differ_otherwise():
    p0, grads, _ = _problem(np.float64)
    const = np.full(len(grads), 0.05)
    a = _run(SGD(momentum=0.9, nesterov=False), p0, grads, const)
    b = _run(SGD(momentum=0.9, nesterov=False, convention="pytorch"), p0, grads, const)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    steps = 0.05 * 0.5 ** np.arange(len(grads))
    a = _run(SGD(momentum=0.9, nesterov=False), p0, grads, steps)
    b = _run(SGD(momentum=0.9, nesterov=False, convention="pytorch"), p0, grads, steps)
    assert np.max(np.abs(a - b)) > 1e-3


def test_step_runs_in_parallel_blocks_identically():
    rng = np.random.RandomState(0)
    p0 = rng.normal(size=50_000)
    grads = [rng.normal(size=p0.size) for _ in range(3)]
    opt = Adam(amsgrad=True)
    results = []
    for n_threads in (1, 2):
        p = p0.copy()
        state = opt.init_state(p)
        for g in grads:
            opt.step(p, g, state, 0.01, n_threads=n_threads)
        results.append(p)
    np.testing.assert_array_equal(results[0], results[1])


def test_functional_api_validation():
    p = np.zeros(4)
    state = SGD().init_state(p)
    with pytest.raises(ValueError, match="writeable C-contiguous"):
        SGD().step(np.zeros(8)[::2], np.zeros(4), state, 0.1)
    with pytest.raises(ValueError, match="1-D float32 or float64"):
        SGD().init_state(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="grad"):
        SGD().step(p, np.zeros(3), state, 0.1)
    # L-BFGS is a solver without an update rule: not an Optimizer, no state.
    assert not isinstance(LBFGS(), optimizers.Optimizer)
    assert not hasattr(LBFGS(), "init_state")
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=2.0).init_state(p)


# ---------------------------------------------------------------------------
# In the estimators
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]




@pytest.mark.parametrize("solver", ["sgd", "adam", "adagrad", "adadelta", "rmsprop", "adamw", "nadam", "adamax"])
def test_every_string_solver_learns(digits, solver):
    X, y = digits
    lr = {"sgd": 0.1, "adagrad": 0.05, "adamax": 0.02}.get(solver, 0.005)
    # Adadelta runs at rate 1.0 whatever learning_rate_init, and starts slowly.
    batch_size = 16 if solver == "adadelta" else 32
    est = MLPClassifier(hidden_layer_sizes=(20,), solver=solver, learning_rate_init=lr,
                        batch_size=batch_size, max_iter=15, random_state=0).fit(X, y)
    assert est.loss_curve_[-1] < 0.7 * est.loss_curve_[0]
    assert est.score(X, y) > 0.8


@pytest.mark.parametrize("string, obj", [
    ("sgd", SGD(momentum=0.9, nesterov=True)),
    ("adam", Adam()),
    ("nadam", NAdam()),
    ("rmsprop", RMSprop()),
])
def test_string_equals_default_object(digits, string, obj):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0, learning_rate_init=0.01)
    a = MLPClassifier(solver=string, **kw).fit(X, y)
    b = MLPClassifier(solver=obj, **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


def test_object_values_win_over_top_level_knobs(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0, learning_rate_init=0.01)
    a = MLPClassifier(solver=Adam(beta_1=0.5, beta_2=0.9), beta_1=0.99, beta_2=0.9999, **kw).fit(X, y)
    b = MLPClassifier(solver="adam", beta_1=0.5, beta_2=0.9, **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(a.history_["momentum"], 0.5)


def test_optimizer_learning_rate_overrides_scale(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=3, random_state=0)
    a = MLPClassifier(solver=Adadelta(), learning_rate_init=123.0, **kw).fit(X, y)
    b = MLPClassifier(solver=Adadelta(learning_rate=None), learning_rate_init=1.0, **kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(a.history_["learning_rate"], 1.0)


@pytest.mark.parametrize("opt", [SGD(convention="pytorch"), Adam(amsgrad=True), AdamW(), NAdam(),
                                 Adamax(), Adagrad(), Adadelta(), RMSprop(momentum=0.5, centered=True)],
                         ids=lambda o: type(o).__name__)
def test_partial_fits_equal_one_fit(digits, opt):
    """State persists: k partial fits of one epoch equal one fit of k epochs (shuffle=False)."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), solver=opt, shuffle=False, random_state=0, batch_size=64,
              learning_rate=StepDecay(step_size=1, gamma=0.8), learning_rate_init=0.01)
    full = MLPClassifier(max_iter=3, **kw).fit(X, y)
    inc = MLPClassifier(**kw)
    for _ in range(3):
        inc.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(inc.history_["loss"], full.loss_curve_, rtol=1e-12)
    for a, b in zip(inc.coefs_, full.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_object_solver_state_persists_across_warm_start(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), shuffle=False, random_state=0, learning_rate_init=0.01)
    full = MLPClassifier(solver=Adam(), max_iter=4, **kw).fit(X, y)
    warm = MLPClassifier(solver=Adam(), max_iter=2, warm_start=True, **kw)
    warm.fit(X, y)
    warm.fit(X, y)
    np.testing.assert_allclose(warm.history_["loss"], full.loss_curve_, rtol=1e-12)
    # The string restarts its optimizer, as scikit-learn does, so it differs.
    sk_style = MLPClassifier(solver="adam", max_iter=2, warm_start=True, **kw)
    sk_style.fit(X, y)
    sk_style.fit(X, y)
    assert np.abs(sk_style.loss_curve_[-1] - full.loss_curve_[-1]) > 1e-10


def test_grid_search_over_optimizer_params_and_classes(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0, solver=Adam())
    params = est.get_params(deep=True)
    assert "solver__beta_2" in params and "solver__amsgrad" in params
    grid = [
        {"solver": [Adam()], "solver__beta_2": [0.9, 0.999]},
        {"solver": [RMSprop()], "solver__rho": [0.8]},
        {"solver": ["sgd"]},
    ]
    search = GridSearchCV(est, grid, cv=2).fit(X, y)
    seen = [repr(p["solver"]) for p in search.cv_results_["params"]]
    assert seen == ["Adam()", "Adam()", "RMSprop()", "'sgd'"]
    assert search.cv_results_["params"][2]["solver__rho"] == 0.8
    # Nothing leaks between classes: the RMSprop candidate never had beta_2.
    assert "beta_2" not in RMSprop().get_params()


@pytest.mark.parametrize("opt", [SGD(), Adam(amsgrad=True), AdamW(weight_decay=0.3), NAdam(convention="keras"),
                                 Adamax(), Adagrad(lr_decay=0.1), Adadelta(rho=0.5), RMSprop(centered=True), LBFGS()],
                         ids=lambda o: type(o).__name__)
def test_clone_pickle_and_repr(opt):
    again = pickle.loads(pickle.dumps(opt))
    assert again == opt and repr(again) == repr(opt)
    cloned = clone(opt)
    assert cloned == opt and cloned is not opt


def test_invalid_optimizer_parameters_raise(digits):
    X, y = digits
    with pytest.raises(ValueError, match="beta_2"):
        MLPClassifier(solver=Adam(beta_2=1.5), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="convention"):
        MLPClassifier(solver=SGD(convention="jax"), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        MLPClassifier(solver=object(), max_iter=1).fit(X, y)


def test_lbfgs_object_is_lbfgs(digits):
    X, y = digits
    a = MLPClassifier(hidden_layer_sizes=(8,), solver=LBFGS(), max_iter=10, random_state=0).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10, random_state=0).fit(X, y)
    assert a.loss_ == b.loss_
    assert not hasattr(a, "partial_fit")


def test_public_names():
    assert set(optimizers.__all__) >= {"SGD", "Adam", "AdamW", "NAdam", "Adamax", "Adagrad",
                                       "Adadelta", "RMSprop", "LBFGS", "Optimizer"}


def test_adamw_string_reads_weight_decay(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0, solver="adamw")
    a = MLPClassifier(weight_decay=0.5, **kw).fit(X, y)
    b = MLPClassifier(solver=AdamW(weight_decay=0.5), **{k: v for k, v in kw.items() if k != "solver"}).fit(X, y)
    c = MLPClassifier(**kw).fit(X, y)  # AdamW's default 0.01
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert a.loss_curve_[-1] != c.loss_curve_[-1]


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_sklearn_rate_strings_apply_to_sgd_objects(digits, learning_rate):
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=8, random_state=0, learning_rate=learning_rate,
              learning_rate_init=0.1, n_iter_no_change=1, tol=0.5)
    a = MLPClassifier(solver="sgd", **kw).fit(X, y)
    b = MLPClassifier(solver=SGD(momentum=0.9, nesterov=True), **kw).fit(X, y)
    np.testing.assert_array_equal(a.history_["learning_rate"], b.history_["learning_rate"])
    assert a.history_["learning_rate"][-1] < 0.1


@pytest.mark.parametrize("module", ["sklr.optimizers", "sklr._multilayer_perceptron"])
def test_docstring_examples(module):
    import doctest
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_top_level_exports():
    import sklr

    assert sklr.optimizers is optimizers
    assert set(sklr.__all__) >= {"MLPClassifier", "MLPRegressor", "optimizers", "schedules"}


def test_config_follows_parameter_changes():
    """The validated-config cache never serves a stale or invalid config."""
    opt = Adam(beta_2=0.99)
    first = opt._config()
    opt.set_params(beta_2=0.9)
    assert opt._config()[_fields_index("beta_2")] == 0.9
    opt.beta_2 = 0.95  # direct assignment, as scikit-learn allows for params
    assert opt._config()[_fields_index("beta_2")] == 0.95
    opt.beta_2 = 2.0
    with pytest.raises(ValueError, match="beta_2"):
        opt._config()
    first[0] = -1  # callers get copies
    assert Adam(beta_2=0.99)._config()[0] != -1


def _fields_index(name):
    """Position of Adam's config slot ``name`` (each rule lays out its own slots)."""
    from sklr._codes import CFG_SLOTS

    return CFG_SLOTS + Adam._slots.index(name)


ALL_OPTIMIZERS = [SGD(), Adam(amsgrad=True), AdamW(weight_decay=0.2), NAdam(), Adamax(),
                  Adagrad(lr_decay=0.1), Adadelta(), RMSprop(centered=True, momentum=0.5)]


@pytest.mark.parametrize("opt", ALL_OPTIMIZERS, ids=lambda o: type(o).__name__)
def test_config_layout(opt):
    """Shared fields first, then the slots the rule's class names, in order."""
    from sklr import _codes
    from sklr._codes import Rule

    config = opt._config()
    assert config.shape == (_codes.CFG_SIZE,)
    assert Rule(int(config[_codes.CFG_RULE])).name.lower() == opt._rule
    assert len(opt._slots) <= _codes.CFG_N_SLOTS
    values = opt._fields()
    for i, name in enumerate(opt._slots):
        assert config[_codes.CFG_SLOTS + i] == float(values.get(name, 0.0))
    assert not config[_codes.CFG_SLOTS + len(opt._slots):].any()
    assert config[_codes.CFG_WEIGHT_DECAY] == getattr(opt, "weight_decay", 0.0)
    scalars = opt.init_state(np.zeros(3))["scalars"]
    assert scalars.shape == (_codes.SC_SIZE,) and scalars[_codes.SC_T] == 0


@pytest.mark.parametrize("opt", ALL_OPTIMIZERS, ids=lambda o: type(o).__name__)
def test_weight_decay_slot_applies_to_every_rule(opt):
    """The shared weight-decay field (the estimator's ``weight_decay``) shrinks the
    parameters by (1 - lr * wd) before any rule's step."""
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


def test_functional_step_rejects_a_bad_config():
    from sklr import _kernel

    rng = np.random.RandomState(1)
    a, g = rng.normal(size=40), rng.normal(size=40)
    opt = ALL_OPTIMIZERS[0]
    with pytest.raises(ValueError, match="config"):
        _kernel.apply_update(a, g, opt.init_state(a), np.zeros(3), 0.1, 0.9, 1)
