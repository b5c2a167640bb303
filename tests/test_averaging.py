"""Weight averaging (sklr.averaging): EMA in the kernel, SWA per epoch, resumption."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier, MLPRegressor
from sklr._codes import Activation, Loss
from sklr._kernel import Kernel, reg_array, step_table
from sklr.averaging import EMA, SWA
from sklr.optimizers import SGD, Adam
from sklr.schedules import Constant, CosineAnnealing, LinearDecay, PerEpoch, Sequence

DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(dtype, n=60, n_features=5):
    X, y = make_regression(n_samples=n, n_features=n_features, random_state=0)
    return X.astype(dtype), (y / np.std(y)).astype(dtype)


def _keras_ema(raw, momentum, dtype):
    """Keras 3 BaseOptimizer's EMA over the weights after each update, in ``dtype``."""
    average = np.zeros_like(raw[0])
    for iterations, var in enumerate(raw):
        m = dtype(float(iterations != 0)) * dtype(momentum)
        average = m * average + (dtype(1) - m) * var
    return average


# -- the kernel's EMA pass ------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("units, n_threads", [((5, 7, 1), 1), ((5, 4000, 1), 2)])
def test_kernel_ema_matches_replayed_updates(dtype, units, n_threads):
    """EMA after every update == Keras's formula over the replayed raw weights (exact)."""
    X, y = _data(dtype)
    Y = y.reshape(-1, 1)
    opt = SGD(momentum=0.9)
    kernel = Kernel(X, Y, None, units, (Activation.RELU, Activation.IDENTITY,
                                        Loss.SQUARED_ERROR),
                    reg_array(len(units), alpha=1e-4), opt._config(), n_threads)
    rng = np.random.RandomState(0)
    p0 = (rng.uniform(-0.3, 0.3, kernel.n_params)).astype(dtype)
    idx = rng.permutation(60).astype(np.intp)
    batch, n_steps = 8, 8
    lr = np.full(n_steps, 0.01)
    mu = np.full(n_steps, 0.9)
    # Replay: one update per call, recording the raw weights after each.
    p, state, raw = p0.copy(), opt.init_state(p0), []
    for k in range(n_steps):
        kernel.train_epoch(p, state, idx[k * batch:(k + 1) * batch], batch,
                           step_table(lr[k:k + 1], mu[k:k + 1]))
        raw.append(p.copy())
    # One call with the EMA pass: not averaged before update 3, copy at 3, then m.
    momentum = 0.75
    steps = np.array([-1, -1, 0] + [momentum] * (n_steps - 3))
    q, averaged = p0.copy(), np.full_like(p0, np.nan)
    kernel.train_epoch(q, opt.init_state(p0), idx, batch, step_table(lr, mu, ema=steps), 0,
                       averaged)
    np.testing.assert_array_equal(q, raw[-1])  # the average does not touch training
    np.testing.assert_array_equal(averaged, _keras_ema(raw[2:], momentum, dtype))


def test_kernel_average_checks_its_arrays():
    X, y = _data(np.float64)
    kernel = Kernel(X, y.reshape(-1, 1), None, (5, 3, 1),
                    (Activation.RELU, Activation.IDENTITY, Loss.SQUARED_ERROR),
                    reg_array(3), SGD()._config())
    p = np.zeros(kernel.n_params)
    idx = np.arange(60, dtype=np.intp)
    with pytest.raises(ValueError, match="one row per minibatch"):
        kernel.train_epoch(p, SGD().init_state(p), idx, 10,
                           step_table(np.ones(2), np.ones(2), ema=np.zeros(2)), 0, p.copy())
    with pytest.raises(ValueError, match="averaged"):
        kernel.train_epoch(p, SGD().init_state(p), idx, 10,
                           step_table(np.ones(6), np.ones(6), ema=np.zeros(6)), 0, np.zeros(3))


def test_ema_steps_start_and_copy():
    ema = EMA(momentum=0.5, start_step=5)
    np.testing.assert_array_equal(ema._ema_steps(0, 4, 0), [-1, -1, -1, -1])
    np.testing.assert_array_equal(ema._ema_steps(4, 4, 0), [-1, 0, 0.5, 0.5])
    np.testing.assert_array_equal(ema._ema_steps(8, 2, 3), [0.5, 0.5])


# -- the estimators -------------------------------------------------------------


def _regressor(**params):
    base = dict(hidden_layer_sizes=(6,), solver=Adam(), learning_rate_init=0.01,
                shuffle=False, random_state=0, tol=0.0, n_iter_no_change=10**6)
    base.update(params)
    return MLPRegressor(**base)


def _epoch_raw_weights(est, X, y, n_epochs):
    raw = []
    for _ in range(n_epochs):
        est.partial_fit(X, y)
        raw.append(np.concatenate([a.ravel() for a in est.raw_coefs_ + est.raw_intercepts_]))
    return raw


def _flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ema_one_update_per_epoch_against_keras_and_raw_training(dtype):
    X, y = _data(dtype)
    est = _regressor(batch_size=60, averaging=EMA(momentum=0.8, start_step=2))
    raw = _epoch_raw_weights(est, X, y, 7)
    plain = _epoch_raw_weights(_regressor(batch_size=60), X, y, 7)
    np.testing.assert_array_equal(raw[-1], plain[-1])  # averaging does not change training
    expected = _keras_ema(raw[2:], 0.8, dtype)
    np.testing.assert_array_equal(_flat(est.averaged_coefs_ + est.averaged_intercepts_),
                                  expected)
    assert est._state.n_averaged == 5
    assert est.coefs_[0].dtype == dtype


def test_ema_against_torch_averaged_model():
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    X, y = _data(np.float64)
    est = _regressor(batch_size=60, averaging=EMA(momentum=0.9))
    raw = _epoch_raw_weights(est, X, y, 6)
    model = torch.nn.Linear(raw[0].size, 1, dtype=torch.float64)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    for w in raw:  # update_parameters after every optimizer step
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(w).reshape(1, -1))
        ema.update_parameters(model)
    expected = ema.module.weight.detach().numpy().ravel()
    np.testing.assert_allclose(_flat(est.averaged_coefs_ + est.averaged_intercepts_),
                               expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("frequency", [1, 2])
def test_swa_against_running_mean(dtype, frequency):
    X, y = _data(dtype)
    est = _regressor(batch_size=16, averaging=SWA(start_epoch=2, frequency=frequency))
    raw = _epoch_raw_weights(est, X, y, 8)
    chosen = [w for e, w in enumerate(raw, 1) if e > 2 and (e - 2) % frequency == 0]
    expected = np.mean(np.array(chosen, dtype=np.float64), axis=0)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(_flat(est.coefs_ + est.intercepts_), expected, rtol=rtol,
                               atol=rtol)
    assert est._state.n_averaged == len(chosen)


def test_swa_against_torch_averaged_model():
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import AveragedModel

    X, y = _data(np.float64)
    swa_start = 3
    est = _regressor(batch_size=16, averaging=SWA(start_epoch=swa_start))
    raw = _epoch_raw_weights(est, X, y, 8)
    model = torch.nn.Linear(raw[0].size, 1, dtype=torch.float64)
    swa_model = AveragedModel(model)
    for epoch, w in enumerate(raw):  # PyTorch's documented loop, epoch from 0
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(w).reshape(1, -1))
        if epoch >= swa_start:
            swa_model.update_parameters(model)
    expected = swa_model.module.weight.detach().numpy().ravel()
    np.testing.assert_allclose(_flat(est.coefs_ + est.intercepts_), expected,
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("averaging", [None, EMA(0.9), SWA(1)])
def test_averaging_does_not_change_training(averaging):
    X, y = _data(np.float64)
    a = _regressor(batch_size=16, max_iter=5, averaging=averaging).fit(X, y)
    b = _regressor(batch_size=16, max_iter=5).fit(X, y)
    np.testing.assert_array_equal(_flat(a.raw_coefs_), _flat(b.coefs_))
    assert a.loss_curve_ == b.loss_curve_


# -- predict uses the averaged weights exactly when asked ---------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("averaging", [EMA(0.9), SWA(2)])
def test_predict_uses_averaged_weights_when_asked(dtype, averaging):
    X, y = make_classification(n_samples=80, n_features=6, n_classes=3, n_informative=4,
                               random_state=0)
    X = X.astype(dtype)
    X_val, y_val = X[:30], y[:30]
    params = dict(hidden_layer_sizes=(8,), max_iter=6, batch_size=20, random_state=0,
                  averaging=averaging)
    shown = MLPClassifier(**params).fit(X, y, X_val=X_val, y_val=y_val)
    hidden = MLPClassifier(use_averaged_weights=False, **params).fit(X, y, X_val=X_val,
                                                                       y_val=y_val)
    avg = _flat(shown.averaged_coefs_ + shown.averaged_intercepts_)
    raw = _flat(shown.raw_coefs_ + shown.raw_intercepts_)
    assert not np.array_equal(avg, raw)
    # Same training, same average; only what the model shows differs.
    np.testing.assert_array_equal(_flat(hidden.averaged_coefs_), _flat(shown.averaged_coefs_))
    np.testing.assert_array_equal(_flat(shown.coefs_ + shown.intercepts_), avg)
    np.testing.assert_array_equal(_flat(hidden.coefs_ + hidden.intercepts_), raw)

    def forward(coefs, intercepts):
        a = X
        for i, (w, b) in enumerate(zip(coefs, intercepts)):
            a = a @ w + b
            if i < len(coefs) - 1:
                a = np.maximum(a, 0)
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(shown.predict_proba(X),
                               forward(shown.averaged_coefs_, shown.averaged_intercepts_),
                               rtol=rtol)
    np.testing.assert_allclose(hidden.predict_proba(X),
                               forward(shown.raw_coefs_, shown.raw_intercepts_), rtol=rtol)
    # The recorded validation score is the score predict gives.
    assert shown.history_["val_score"][-1] == shown.score(X_val, y_val)
    assert hidden.history_["val_score"][-1] == hidden.score(X_val, y_val)
    assert shown.history_["val_score"][-1] != hidden.history_["val_score"][-1] or (
        shown.score(X, y) == hidden.score(X, y))


def test_raw_and_averaged_views_are_read_only():
    X, y = _data(np.float64)
    est = _regressor(max_iter=3, averaging=EMA()).fit(X, y)
    with pytest.raises(ValueError):
        est.raw_coefs_[0][0, 0] = 1.0
    with pytest.raises(ValueError):
        est.averaged_intercepts_[0][0] = 1.0
    plain = _regressor(max_iter=3).fit(X, y)
    with pytest.raises(AttributeError, match="averaging"):
        plain.averaged_coefs_
    np.testing.assert_array_equal(_flat(plain.raw_coefs_), _flat(plain.coefs_))
    assert not hasattr(_regressor(), "raw_coefs_")


def test_no_averaging_clears_an_earlier_average():
    X, y = _data(np.float64)
    est = _regressor(max_iter=3, averaging=EMA()).fit(X, y)
    est.set_params(averaging=None, warm_start=True).fit(X, y)
    assert est._state.average is None
    np.testing.assert_array_equal(_flat(est.coefs_), _flat(est.raw_coefs_))


def test_lbfgs_rejects_averaging():
    X, y = _data(np.float64)
    with pytest.raises(ValueError, match="averaging"):
        MLPRegressor(solver="lbfgs", averaging=EMA()).fit(X, y)


def test_set_params_nested_key_needs_an_object():
    est = MLPRegressor(averaging=EMA())
    est.set_params(averaging__momentum=0.5)
    assert est.averaging.momentum == 0.5
    with pytest.raises(ValueError, match="averaging=sklr.averaging.EMA"):
        MLPRegressor().set_params(averaging__momentum=0.5)


# -- resumption ---------------------------------------------------------------------


def _state_of(est):
    return (_flat(est.coefs_ + est.intercepts_), _flat(est.raw_coefs_),
            est._state.n_averaged)


def _assert_same(a, b):
    for x, y in zip(_state_of(a), _state_of(b)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("averaging", [EMA(0.7, start_step=5), SWA(start_epoch=1)])
def test_resumption_warm_start_partial_fit_and_pickle(dtype, averaging):
    X, y = _data(dtype)
    params = dict(batch_size=16, averaging=averaging)
    full = _regressor(max_iter=4, **params).fit(X, y)

    warm = _regressor(max_iter=2, **params).fit(X, y)
    warm = pickle.loads(pickle.dumps(warm))  # pickled in the middle
    warm.set_params(warm_start=True).fit(X, y)
    _assert_same(full, warm)

    partial = _regressor(**params)
    for _ in range(2):
        partial.partial_fit(X, y)
    partial = pickle.loads(pickle.dumps(partial))
    for _ in range(2):
        partial.partial_fit(X, y)
    _assert_same(full, partial)
    assert full._state.n_averaged == (16 - 5 if isinstance(averaging, EMA) else 3)


def test_failed_partial_fit_leaves_the_average():
    X, y = _data(np.float64)
    est = _regressor(batch_size=16, averaging=EMA(0.5))
    est.partial_fit(X, y)
    before = _state_of(est)
    with pytest.raises(ValueError):
        est.partial_fit(X[:, :3], y)
    for a, b in zip(before, _state_of(est)):
        np.testing.assert_array_equal(a, b)
    assert est.coefs_[0].base is est._state.average


def test_clone_and_refit_start_afresh():
    X, y = _data(np.float64)
    est = _regressor(max_iter=3, averaging=SWA()).fit(X, y)
    first = _state_of(est)
    est.fit(X, y)
    for a, b in zip(first, _state_of(est)):
        np.testing.assert_array_equal(a, b)
    assert clone(est).averaging == SWA()


def test_early_stopping_keeps_the_best_average():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=40,
                        n_iter_no_change=3, random_state=0, averaging=EMA(0.9))
    est.fit(X, y)
    np.testing.assert_array_equal(_flat(est.coefs_), _flat(est._state.best_average[
        :sum(c.size for c in est.coefs_)]))
    np.testing.assert_array_equal(_flat(est.raw_coefs_), _flat(est._state.best_params[
        :sum(c.size for c in est.coefs_)]))


# -- SWALR is a schedule ------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_as_a_schedule_matches_torch(strategy):
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import SWALR

    lr0, swa_lr, swa_start, anneal_epochs, n_epochs = 0.1, 0.02, 4, 3, 12
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr0)
    swa_scheduler = SWALR(opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                          anneal_strategy=strategy)
    expected = []
    for epoch in range(n_epochs):  # PyTorch's documented loop (constant rate before)
        expected.append(opt.param_groups[0]["lr"])
        opt.step()  # the epoch's training (no gradient: nothing moves)
        if epoch >= swa_start:
            swa_scheduler.step()
    anneal = (CosineAnnealing(period=anneal_epochs, eta_min=swa_lr / lr0, unit="epoch")
              if strategy == "cos" else
              LinearDecay(total=anneal_epochs, end_value=swa_lr / lr0, unit="epoch"))
    # The anneal starts (local time 0, multiplier 1) at epoch swa_start, held per epoch.
    schedule = PerEpoch(Sequence([(Constant(), swa_start), anneal], unit="epoch"))
    values = lr0 * schedule.preview(n_epochs, steps_per_epoch=3)
    np.testing.assert_allclose(values[::3], expected, rtol=1e-12)
    np.testing.assert_array_equal(values[1::3], values[::3])


def test_public_names_and_doctests():
    import doctest

    import sklr
    import sklr.averaging

    assert "averaging" in sklr.__all__
    assert set(sklr.averaging.__all__) == {"EMA", "SWA", "WeightAveraging"}
    result = doctest.testmod(sklr.averaging, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
