"""Schedule-free SGD and AdamW: NumPy transcription, reference package, estimator."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklr import MLPClassifier
from sklr.optimizers import ScheduleFreeAdamW, ScheduleFreeSGD

RATES = [0.05 * (1 + 0.5 * np.sin(i)) for i in range(20)]


def _numpy_sf(params, grads, rates, momentum, weight_decay=0.0, warmup_steps=0, r=0.0,
              weight_lr_power=2.0, adaptive=False, beta_2=0.999, eps=1e-8):
    """The reference equations in float64 (y, z, v; lr_max, weight_sum)."""
    y = params.astype(np.float64).copy()
    z = y.copy()
    v = np.zeros_like(y)
    lr_max, weight_sum = 0.0, 0.0
    for k, (g, lr) in enumerate(zip(grads, rates)):
        g = g.astype(np.float64).copy()
        sched = (k + 1) / warmup_steps if k < warmup_steps else 1.0
        lr_t = lr * sched
        lr_max = max(lr_max, lr_t)
        weight = (k + 1) ** r * lr_max ** weight_lr_power
        weight_sum += weight
        c = weight / weight_sum if weight_sum else 0.0
        if adaptive:
            v = beta_2 * v + (1 - beta_2) * g * g
            g = g / (np.sqrt(v / (1 - beta_2 ** (k + 1))) + eps)
        g = g + weight_decay * y
        y = y + c * (z - y) + lr_t * (momentum * (1 - c) - 1) * g
        z = z - lr_t * g
    x = (y - (1 - momentum) * z) / momentum
    return y, z, x


CASES = [
    (ScheduleFreeSGD, dict(), False),
    (ScheduleFreeSGD, dict(momentum=0.8, weight_decay=0.01, warmup_steps=5, r=1.0,
                           weight_lr_power=1.5), False),
    (ScheduleFreeAdamW, dict(), True),
    (ScheduleFreeAdamW, dict(beta_1=0.85, beta_2=0.99, epsilon=1e-6, weight_decay=0.05,
                             warmup_steps=7, r=0.5), True),
]


def _run(cls, kwargs, dtype, n=37, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.normal(size=n)
    grads = [rng.normal(size=n) for _ in RATES]
    opt = cls(**kwargs)
    p = p0.astype(dtype)
    state = opt.init_state(p)
    for g, lr in zip(grads, RATES):
        opt.step(p, g.astype(dtype), state, learning_rate=lr, n_threads=1)
    return opt, p0, grads, p, state


def _ref_kwargs(kwargs, adaptive):
    out = {k: v for k, v in kwargs.items() if k not in ("beta_1", "beta_2", "epsilon")}
    if adaptive:
        out["momentum"] = kwargs.get("beta_1", 0.9)
        out["beta_2"] = kwargs.get("beta_2", 0.999)
        out["eps"] = kwargs.get("epsilon", 1e-8)
    else:
        out["momentum"] = kwargs.get("momentum", 0.9)
    return out


@pytest.mark.parametrize("cls, kwargs, adaptive", CASES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-4)])
def test_matches_numpy_transcription(cls, kwargs, adaptive, dtype, rtol):
    opt, p0, grads, p, state = _run(cls, kwargs, dtype)
    y, z, x = _numpy_sf(p0, grads, RATES, adaptive=adaptive, **_ref_kwargs(kwargs, adaptive))
    atol = 0 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(p, y, rtol=rtol, atol=atol)
    np.testing.assert_allclose(state["state_1"], z, rtol=rtol, atol=atol)
    np.testing.assert_allclose(opt.eval_params(p, state), x, rtol=rtol * 10, atol=atol * 10)
    assert opt.eval_params(p, state).dtype == dtype
    assert state["scalars"][0] == len(RATES)


@pytest.mark.parametrize("cls, kwargs, adaptive", CASES)
def test_threads_agree(cls, kwargs, adaptive):
    _, _, grads, p1, _ = _run(cls, kwargs, np.float64, n=5000)
    rng = np.random.default_rng(0)
    opt = cls(**kwargs)
    p = rng.normal(size=5000)
    state = opt.init_state(p)
    for g, lr in zip(grads, RATES):
        opt.step(p, g, state, learning_rate=lr, n_threads=4)
    np.testing.assert_array_equal(p, p1)


@pytest.mark.parametrize("cls, kwargs, adaptive", CASES)
def test_matches_schedulefree_package(cls, kwargs, adaptive):
    schedulefree = pytest.importorskip("schedulefree")
    torch = pytest.importorskip("torch")
    _, p0, grads, p, state = _run(cls, kwargs, np.float64)
    ref = _ref_kwargs(kwargs, adaptive)
    t = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    common = dict(weight_decay=ref.get("weight_decay", 0.0),
                  warmup_steps=ref.get("warmup_steps", 0), r=ref.get("r", 0.0),
                  weight_lr_power=ref.get("weight_lr_power", 2.0), foreach=False)
    if adaptive:
        opt = schedulefree.AdamWScheduleFree([t], lr=1.0, betas=(ref["momentum"], ref["beta_2"]),
                                             eps=ref["eps"], **common)
    else:
        opt = schedulefree.SGDScheduleFree([t], lr=1.0, momentum=ref["momentum"], **common)
    opt.train()
    for g, lr in zip(grads, RATES):
        opt.param_groups[0]["lr"] = lr
        t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(state["state_1"], opt.state[t]["z"].numpy(), rtol=1e-10,
                               atol=1e-13)
    x = ScheduleFreeSGD().eval_params(p, state)
    opt.eval()
    np.testing.assert_allclose(x, t.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_eval_params_before_any_update():
    p = np.array([1.0, 2.0])
    opt = ScheduleFreeAdamW()
    x = opt.eval_params(p, opt.init_state(p))
    np.testing.assert_array_equal(x, p)
    assert x is not p


@pytest.mark.parametrize("solver", ["sfsgd", "sfadamw"])
def test_estimator_fits_digits(solver):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    lr = 0.5 if solver == "sfsgd" else 0.0025
    clf = MLPClassifier(hidden_layer_sizes=(32,), solver=solver, learning_rate_init=lr,
                        max_iter=15, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert np.isfinite(clf.loss_curve_).all()


def test_estimator_object_solver_weight_decay():
    # the object's weight_decay (added at y) shrinks the weights
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    norms = []
    for wd in (0.0, 0.1):
        clf = MLPClassifier(hidden_layer_sizes=(16,),
                            solver=ScheduleFreeAdamW(weight_decay=wd),
                            learning_rate_init=0.005, max_iter=5, random_state=0).fit(X, y)
        assert np.isfinite(clf.loss_curve_).all()
        norms.append(sum(np.sum(c ** 2) for c in clf.coefs_))
    assert norms[1] < norms[0]


def _x_from_formula(clf):
    """x = (y - (1 - beta) z) / beta from the raw weights y and the state's z."""
    y = np.concatenate([c.ravel() for c in clf.raw_coefs_]
                       + [b.ravel() for b in clf.raw_intercepts_])
    z = clf._state.optimizer["state_1"]
    beta = clf.solver.beta_1 if isinstance(clf.solver, ScheduleFreeAdamW) else 0.9
    return (y - (1 - beta) * z) / beta


def _unpack(clf, flat):
    from sklr._network import _layer_views

    return _layer_views(flat, clf._layer_units)


@pytest.mark.parametrize("solver", ["sfsgd", ScheduleFreeAdamW(beta_1=0.8)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_estimator_shows_averaged_point_x(solver, dtype):
    # The model is x (the reference evaluates after optimizer.eval()); the
    # weights it trains are y.
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    lr = 0.3 if solver == "sfsgd" else 0.003
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=lr,
                        max_iter=4, random_state=0).fit(X, y)
    x = _x_from_formula(clf)
    coefs, intercepts = _unpack(clf, x.astype(dtype))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for a, b in zip(clf.coefs_ + clf.intercepts_, coefs + intercepts):
        np.testing.assert_allclose(a, b, **tol)
    for a, b in zip(clf.averaged_coefs_, coefs):
        np.testing.assert_allclose(a, b, **tol)
    # x and y differ after training, and predict_proba is the network at x
    assert not np.allclose(clf.coefs_[0], clf.raw_coefs_[0])
    hidden = np.maximum(X @ coefs[0] + intercepts[0], 0)
    logits = hidden @ coefs[1] + intercepts[1]
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), proba, **tol)


def test_estimator_raw_y_with_use_averaged_weights_false():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    kw = dict(hidden_layer_sizes=(16,), solver="sfsgd", learning_rate_init=0.3, max_iter=3,
              random_state=0)
    shown = MLPClassifier(**kw).fit(X, y)
    raw = MLPClassifier(use_averaged_weights=False, **kw).fit(X, y)
    # the same training either way
    np.testing.assert_array_equal(raw.loss_curve_, shown.loss_curve_)
    for a, b in zip(raw.coefs_, shown.raw_coefs_):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(raw.averaged_coefs_, shown.coefs_):
        np.testing.assert_array_equal(a, b)


def test_validation_scores_use_x():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, y_tr, X_val, y_val = X[:1200], y[:1200], X[1200:], y[1200:]
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver="sfsgd", learning_rate_init=0.3,
                        max_iter=3, random_state=0)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    # the recorded score of the last epoch is the score of the shown x ...
    assert clf.history_["val_score"][-1] == pytest.approx(clf.score(X_val, y_val), abs=1e-12)
    # ... and differs from what y scores
    y_model = MLPClassifier(**{**clf.get_params(), "use_averaged_weights": False})
    y_model.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert not np.allclose(y_model.history_["val_loss"], clf.history_["val_loss"])


def test_partial_fit_refreshes_x_and_resumes_exactly():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    kw = dict(hidden_layer_sizes=(16,), solver="sfadamw", learning_rate_init=0.003,
              random_state=0, shuffle=False)
    clf = MLPClassifier(**kw)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
        x = _x_from_formula(clf)
        np.testing.assert_allclose(np.concatenate([c.ravel() for c in clf.coefs_]),
                                   x[:sum(c.size for c in clf.coefs_)], rtol=1e-12)
    one = MLPClassifier(max_iter=3, **kw)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one.fit(X, y)
    for a, b in zip(one.coefs_ + one.intercepts_, clf.coefs_ + clf.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_pickle_keeps_showing_x():
    import pickle

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="sfsgd", learning_rate_init=0.3,
                        max_iter=2, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.raw_coefs_[0], clf.raw_coefs_[0])
    assert not np.array_equal(back.coefs_[0], back.raw_coefs_[0])


def test_averaging_with_schedule_free_is_an_error():
    from sklr.averaging import EMA

    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(solver="sfsgd", averaging=EMA(), max_iter=1)
    with pytest.raises(ValueError, match="schedule-free solver averages"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("first", [dict(solver="sfsgd", learning_rate_init=0.3),
                                   dict(solver="adam", averaging="ema")])
def test_warm_start_to_lbfgs_shows_the_lbfgs_weights(first):
    # L-BFGS has no averaged point: after a warm start from an averaged or
    # schedule-free fit, coefs_ are the weights it trained.
    from sklr.averaging import EMA

    if first.get("averaging") == "ema":
        first = {**first, "averaging": EMA()}
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0,
                            warm_start=True, **first).fit(X, y)
        clf.set_params(solver="lbfgs", averaging=None, max_iter=5).fit(X, y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, clf.raw_coefs_ + clf.raw_intercepts_):
        np.testing.assert_array_equal(a, b)
