"""Fits are bit-identical whatever the number of OpenMP threads.

The kernel cuts a minibatch into row blocks, a split matrix product into
column blocks and the finishing pass into parameter ranges whose number and
edges depend on the shapes only, and adds the blocks' partial sums in block
order; only which thread computes a block depends on the thread count. So
every array a fit produces must be *equal* (not close) for 1, 2, 3, 4 and 16
threads. The reference is the one-thread run; a kernel whose sums followed
the thread split (the kernel before issue 13) differs from it in the last
bits (1e-16 in float64, 1e-8 in float32 after a few epochs), which
``assert_array_equal`` catches.

The workloads are chosen to cross the kernel's plans (see
``sklr/_kernel.pyx``): a batch is cut into row blocks when rows x parameters
>= 1e6 and the network has at most 65536 parameters, each product into
column blocks above 65536 parameters; the finishing pass has several
ranges from 16384 parameters on.
"""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import sklr
from sklr import MLPClassifier, MLPRegressor, optimizers
from sklr.averaging import EMA
from sklr import _trainer
from sklr._codes import DIAG_SIZE, Activation, Loss
from sklr._kernel import Kernel, clip_array, reg_array, step_table

THREADS = (2, 3, 4)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _n_params(units):
    return sum(a * b + b for a, b in zip(units[:-1], units[1:]))


# ---------------------------------------------------------------------------
# The kernel, directly: every output of an epoch and of loss_grad
# ---------------------------------------------------------------------------

# name: units, rows, batch size. Batch sizes are not multiples of the block
# counts, and the last batch is smaller (fewer or no blocks).
KERNEL_CASES = {
    # 6009 parameters: batches of 251 rows in 2 row blocks of 125 and 126
    # rows; the last batch (148 rows) is too small to cut.
    "row-blocks": ((40, 120, 9), 650, 251),
    # 22510 parameters: batches of 270 rows in 4 row blocks of 67-68 rows,
    # and a finishing pass in 2 ranges; the last batch (77 rows) uncut.
    "row-blocks-wide": ((64, 300, 10), 617, 270),
    # 90750 parameters: uncut batches whose products are cut by columns
    # (300 columns: 4 blocks, 250: 2); the last batch has 37 rows.
    "column-blocks": ((50, 300, 250, 3), 237, 100),
}


def _kernel_outputs(case, dtype, n_threads, sparse=False, weights=False, dropout=False,
                    l1=0.0, max_norm=None, clip=None, diagnostics=False, ema=False,
                    solver="adam", loss="log_loss"):
    units, n, batch = KERNEL_CASES[case]
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, units[0]))
    if sparse:
        X[rng.uniform(size=X.shape) < 0.7] = 0.0
    X = X.astype(dtype)
    if loss == "log_loss":
        Y = np.eye(units[-1], dtype=dtype)[rng.randint(units[-1], size=n)]
        codes = (Activation.RELU, Activation.SOFTMAX, Loss.LOG_LOSS)
    else:
        Y = rng.normal(size=(n, units[-1])).astype(dtype)
        codes = (Activation.TANH, Activation.IDENTITY, Loss.SQUARED_ERROR)
    sw = rng.uniform(0.5, 2.0, size=n) if weights else None
    params = rng.uniform(-0.2, 0.2, size=_n_params(units)).astype(dtype)
    opt = {"adam": optimizers.Adam(), "sgd": optimizers.SGD(momentum=0.9)}[solver]
    dropout_rates = [0.2] + [0.3] * (len(units) - 2) if dropout else None
    reg = reg_array(len(units), l1=l1, max_norm=max_norm, dropout=dropout_rates, alpha=1e-3)
    kernel = Kernel(sp.csr_matrix(X) if sparse else X, Y, sw, units, codes, reg,
                    opt._config(), n_threads, clip_array(**clip) if clip else None)
    n_steps = -(-n // batch)
    steps = step_table(np.full(n_steps, 0.01), np.full(n_steps, opt._momentum()),
                       ema=np.full(n_steps, 0.9) if ema else None)
    state = opt.init_state(params)
    out = {}
    averaged = params.copy() if ema else None
    for epoch in range(2):
        order = np.random.RandomState(epoch).permutation(n).astype(np.intp)
        norms = np.full(n_steps, np.nan)
        diag = np.full((len(units) - 1, DIAG_SIZE), np.nan) if diagnostics else None
        loss_sum, done, flag = kernel.train_epoch(params, state, order, batch, steps,
                                                  seed=7 + epoch, averaged=averaged,
                                                  grad_norms=norms, diagnostics=diag)
        assert (done, flag) == (n_steps, 0)
        out[f"loss_sum{epoch}"] = np.array(loss_sum)
        out[f"grad_norms{epoch}"] = norms
        if diagnostics:
            out[f"diagnostics{epoch}"] = diag
    out["params"] = params
    for key, value in state.items():
        out[key] = value
    if ema:
        out["averaged"] = averaged
    if not (dropout or max_norm):
        # The full-batch loss and gradient (L-BFGS, the dynamics probes).
        grad_kernel = Kernel(sp.csr_matrix(X) if sparse else X, Y, sw, units, codes,
                             reg_array(len(units), l1=l1, alpha=1e-3), None, n_threads)
        grad = np.empty_like(params)
        out["full_loss"] = np.array(grad_kernel.loss_grad(params, grad))
        out["full_grad"] = grad
    return out


def _assert_same_outputs(case, dtype, threads=THREADS, **options):
    ref = _kernel_outputs(case, dtype, 1, **options)
    for value in ref.values():
        assert np.all(np.isfinite(value) | np.isnan(value))
    for n_threads in threads:
        got = _kernel_outputs(case, dtype, n_threads, **options)
        assert got.keys() == ref.keys()
        for key in ref:
            np.testing.assert_array_equal(
                got[key], ref[key], err_msg=f"{key} with {n_threads} threads")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(KERNEL_CASES))
def test_kernel_epoch_identical_for_any_thread_count(case, dtype):
    _assert_same_outputs(case, dtype, threads=THREADS + (16,))


OPTIONS = {
    "sgd-squared-error": dict(solver="sgd", loss="squared_error"),
    "sparse-weighted": dict(sparse=True, weights=True),
    "dropout-l1-max-norm": dict(dropout=True, l1=1e-3, max_norm=1.5),
    "clip-norm-diagnostics": dict(clip={"norm": 0.05}, diagnostics=True),
    "clip-norm-per-tensor": dict(clip={"norm": 0.05, "per_tensor": True}),
    "clip-value": dict(clip={"value": 1e-3}, diagnostics=True),
    "diagnostics-ema": dict(diagnostics=True, ema=True),
}


@pytest.mark.parametrize("case, dtype", [("row-blocks-wide", np.float32),
                                         ("column-blocks", np.float64)])
@pytest.mark.parametrize("options", list(OPTIONS))
def test_kernel_options_identical_for_any_thread_count(options, case, dtype):
    _assert_same_outputs(case, dtype, **OPTIONS[options])


def test_blocked_gradient_matches_numpy():
    """The blocked sums are the batch's gradient (not merely reproducible):
    loss_grad against NumPy's forward and backward pass on the whole batch."""
    units, n, _ = KERNEL_CASES["row-blocks-wide"]
    out = _kernel_outputs("row-blocks-wide", np.float64, 3, loss="squared_error")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, units[0]))
    Y = rng.normal(size=(n, units[-1]))
    params = out["params"]
    W0 = params[:units[0] * units[1]].reshape(units[0], units[1])
    W1 = params[units[0] * units[1]:units[0] * units[1] + units[1] * units[2]].reshape(
        units[1], units[2])
    b0 = params[-units[1] - units[2]:-units[2]]
    b1 = params[-units[2]:]
    h = np.tanh(X @ W0 + b0)
    z = h @ W1 + b1
    alpha = 1e-3
    loss = (((Y - z) ** 2).sum() / 2 / units[2] + 0.5 * alpha * ((W0 ** 2).sum()
                                                               + (W1 ** 2).sum())) / n
    d1 = z - Y
    d0 = (d1 @ W1.T) * (1 - h ** 2)
    grad = np.concatenate([((X.T @ d0 + alpha * W0) / n).ravel(),
                           ((h.T @ d1 + alpha * W1) / n).ravel(),
                           d0.sum(axis=0) / n, d1.sum(axis=0) / n])
    # scikit-learn's squared error (mean over rows and outputs, halved) and
    # its output delta z - Y (not divided by the number of outputs).
    np.testing.assert_allclose(out["full_loss"], loss, rtol=1e-12)
    np.testing.assert_allclose(out["full_grad"], grad, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("n_threads", [1, 3])
def test_column_blocked_gradient_matches_numpy(n_threads):
    """The same for products cut by columns, whose bias, activation, bias
    gradient and activation derivative are applied block by block by the
    threads that computed the blocks: three weight layers, tanh."""
    units, n, _ = KERNEL_CASES["column-blocks"]
    out = _kernel_outputs("column-blocks", np.float64, n_threads, loss="squared_error")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, units[0]))
    Y = rng.normal(size=(n, units[-1]))
    params = out["params"]
    L = len(units) - 1
    sizes = [units[i] * units[i + 1] for i in range(L)]
    starts = np.cumsum([0] + sizes)
    W = [params[starts[i]:starts[i + 1]].reshape(units[i], units[i + 1]) for i in range(L)]
    bias_start = starts[-1] + np.cumsum([0] + list(units[1:]))
    b = [params[bias_start[i]:bias_start[i + 1]] for i in range(L)]
    acts = [X]
    for i in range(L):
        z = acts[-1] @ W[i] + b[i]
        acts.append(np.tanh(z) if i < L - 1 else z)
    alpha = 1e-3
    loss = (((Y - acts[-1]) ** 2).sum() / 2 / units[-1]
            + 0.5 * alpha * sum((w ** 2).sum() for w in W)) / n
    d = acts[-1] - Y
    coef_grads, bias_grads = [None] * L, [None] * L
    for i in range(L - 1, -1, -1):
        coef_grads[i] = ((acts[i].T @ d + alpha * W[i]) / n).ravel()
        bias_grads[i] = d.sum(axis=0) / n
        if i > 0:
            d = (d @ W[i].T) * (1 - acts[i] ** 2)
    np.testing.assert_allclose(out["full_loss"], loss, rtol=1e-12)
    np.testing.assert_allclose(out["full_grad"], np.concatenate(coef_grads + bias_grads),
                               rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("options", [
    dict(), dict(l1=1e-3), dict(layer_lr_decay=0.7), dict(max_norm=1.5),
    dict(solver=optimizers.AdamW(weight_decay=0.05)), dict(solver="sgd", momentum=0.9),
    dict(activation="logistic", alpha=0.0), dict(averaging=EMA()),
], ids=["adam", "l1", "layer-lr-decay", "max-norm", "adamw", "sgd", "logistic", "ema"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_update_equals_separate_pass(options, dtype):
    """Above 65536 parameters the kernel applies each layer's update inside
    its backward pass (``_backward_fused``), unless something needs the
    whole gradient first: a gradient-norm clip or ``record_dynamics`` keep
    the separate finishing pass. An unreachable clip therefore gives the
    same trajectory by the other route: the weights must be equal, in
    float32 too (both routes cut every product the same way); the loss too,
    up to the order its L1 sum is added in. The last batch of each epoch (4
    rows) is too small to share out and takes the separate pass: the fused
    products after it, which otherwise add onto the zeros their last update
    left (``Net.grad_zero``), must overwrite what it left."""
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=204, n_features=200, n_informative=30,
                               n_classes=4, random_state=0)
    X = X.astype(dtype)
    kw = dict(hidden_layer_sizes=(300, 200), batch_size=100, max_iter=3, random_state=0,
              **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fused = MLPClassifier(**kw).fit(X, y)
        separate = MLPClassifier(clip_norm=1e300, **kw).fit(X, y)
        measured = MLPClassifier(record_dynamics=True, **kw).fit(X, y)
    assert sum(c.size for c in fused.coefs_) > 65536
    assert fused.coefs_[0].dtype == dtype
    for other in (separate, measured):
        for a, b in zip(fused.coefs_ + fused.intercepts_, other.coefs_ + other.intercepts_):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(fused.loss_curve_, other.loss_curve_, rtol=1e-14)


# ---------------------------------------------------------------------------
# Estimators: every fitted array and the history
# ---------------------------------------------------------------------------

def _digits(n=None, dtype=np.float64):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(dtype), y[:n]


def _regression(dtype):
    X, y = make_regression(n_samples=500, n_features=100, noise=1.0, random_state=0)
    return X.astype(dtype), (y / 100).astype(dtype)


# name: estimator, data. Each crosses a cut plan (see the module docstring).
ESTIMATOR_CASES = {
    # 7510 parameters, batches of 137 rows: 2 row blocks (68 and 69 rows);
    # the probes' full-batch gradients (300 rows) in 4.
    "clf-adam-f64-early-stopping-dynamics": lambda: (
        MLPClassifier(hidden_layer_sizes=(100,), batch_size=137, max_iter=4,
                      early_stopping=True, validation_fraction=0.2,
                      record_dynamics=sklr.Dynamics(sharpness_every=2, noise_scale=True,
                                                    probe_size=300, noise_batches=4,
                                                    power_iter=5),
                      random_state=0),
        _digits()),
    # 22510 parameters: 2 row blocks of 125 rows, a finishing pass in 2 ranges.
    "clf-sgd-f32-clipping-dynamics": lambda: (
        MLPClassifier(hidden_layer_sizes=(300,), solver="sgd", batch_size=250, max_iter=3,
                      clip_norm=0.5, record_dynamics=True, random_state=0),
        _digits(dtype=np.float32)),
    # 100150 parameters: column blocks.
    "reg-adam-f32-early-stopping": lambda: (
        MLPRegressor(hidden_layer_sizes=(400, 150), batch_size=110, max_iter=3,
                     early_stopping=True, random_state=0),
        _regression(np.float32)),
    # L-BFGS: full-batch gradients of 1797 rows in 8 row blocks.
    "clf-lbfgs-f64": lambda: (
        MLPClassifier(hidden_layer_sizes=(100,), solver="lbfgs", max_iter=15,
                      random_state=0),
        _digits()),
    # 20401 parameters, 2 row blocks of 80-85 rows, with dropout (masks by
    # row of the batch) and clipping by value.
    "reg-sgd-f64-dropout-clip-value": lambda: (
        MLPRegressor(hidden_layer_sizes=(200,), solver="sgd", batch_size=170, max_iter=3,
                     dropout=0.2, clip_value=0.05, learning_rate_init=0.01,
                     random_state=0),
        _regression(np.float64)),
}


def _fitted(est):
    out = {"coefs": est.coefs_, "intercepts": est.intercepts_,
           "loss": np.array(est.loss_), "n_iter": np.array(est.n_iter_)}
    for name in ("loss_curve_", "t_", "validation_scores_"):
        if getattr(est, name, None) is not None:
            out[name] = np.array(getattr(est, name))
    for key in est.history_.keys():
        if key != "time":
            out["history_" + key] = np.asarray(est.history_[key])
    return out


def _assert_same_fits(got, ref, what):
    assert got.keys() == ref.keys()
    for key in ref:
        if key in ("coefs", "intercepts"):
            for a, b in zip(got[key], ref[key]):
                np.testing.assert_array_equal(a, b, err_msg=f"{key} {what}")
        else:
            np.testing.assert_array_equal(got[key], ref[key], err_msg=f"{key} {what}")


@pytest.mark.parametrize("case", list(ESTIMATOR_CASES))
def test_fit_identical_for_any_thread_count(case, monkeypatch):
    """The estimator's kernel with 1, 2, 3, 4 and 16 threads (the trainer asks
    ``sklr._threads.fit_n_threads``, which caps at the CPU count: patched here
    so that more threads than this machine's cores run too)."""
    fits = {}
    # The threads the machine's load would take away stay (see the next test).
    monkeypatch.setenv("SKLR_ADAPTIVE_THREADS", "0")
    for n_threads in (1, *THREADS):
        monkeypatch.setattr(_trainer, "fit_n_threads", lambda t=n_threads: t)
        est, (X, y) = ESTIMATOR_CASES[case]()
        fits[n_threads] = _fitted(est.fit(X, y))
        assert est.coefs_[0].dtype == X.dtype
    for n_threads in THREADS:
        _assert_same_fits(fits[n_threads], fits[1], f"with {n_threads} threads")


@pytest.mark.parametrize("case", ["clf-adam-f64-early-stopping-dynamics",
                                  "reg-adam-f32-early-stopping"])
def test_fit_identical_when_threads_change_between_epochs(case, monkeypatch):
    """A fit asks ``LoadWatch`` for its threads at every epoch (they follow
    the machine's load): 3, 1, 4, 2, ... threads epoch by epoch give the
    one-thread fit."""
    monkeypatch.setenv("SKLR_ADAPTIVE_THREADS", "0")
    monkeypatch.setattr(_trainer, "fit_n_threads", lambda: 1)
    est, (X, y) = ESTIMATOR_CASES[case]()
    reference = _fitted(est.fit(X, y))

    asked = []
    sequence = iter([3, 1, 4, 2] * 10)

    class Changing(_trainer.LoadWatch):
        def threads(self):
            asked.append(next(sequence))
            return asked[-1]

    monkeypatch.setattr(_trainer, "fit_n_threads", lambda: 4)
    monkeypatch.setattr(_trainer, "LoadWatch", Changing)
    est, (X, y) = ESTIMATOR_CASES[case]()
    _assert_same_fits(_fitted(est.fit(X, y)), reference, "with threads changing")
    assert asked[:3] == [3, 1, 4]


_CHILD = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from sklr import MLPClassifier, _openmp_helpers
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    arrays = {"threads": _openmp_helpers._openmp_effective_n_threads()}
    for dtype in ("float64", "float32"):
        est = MLPClassifier(hidden_layer_sizes=(100,), batch_size=200, max_iter=3,
                            random_state=0).fit((X / 16).astype(dtype), y)
        for i, a in enumerate([*est.coefs_, *est.intercepts_, est.loss_curve_]):
            arrays[f"{dtype}_{i}"] = np.asarray(a)
    np.savez(sys.argv[1], **arrays)
""")


def test_omp_num_threads_gives_identical_fits(tmp_path):
    """End to end, as a user sets it: OMP_NUM_THREADS=1 and =2, in fresh
    processes (the first imports of sklr and of OpenMP read it)."""
    from sklr._openmp_helpers import _openmp_enabled

    if not _openmp_enabled() or (os.cpu_count() or 1) < 2:
        pytest.skip("needs OpenMP and two CPUs")
    root = os.path.dirname(os.path.dirname(sklr.__file__))
    results = {}
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads,
               "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
        path = tmp_path / f"fit_{threads}.npz"
        subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env,
                       check=True, cwd=tmp_path)
        with np.load(path) as saved:
            results[threads] = {key: saved[key] for key in saved.files}
    assert (results["1"].pop("threads"), results["2"].pop("threads")) == (1, 2)
    assert results["1"]["float32_0"].dtype == np.float32
    assert results["1"].keys() == results["2"].keys()
    for key in results["1"]:
        np.testing.assert_array_equal(results["2"][key], results["1"][key], err_msg=key)


def test_grid_search_n_jobs_gives_identical_scores():
    """GridSearchCV(n_jobs=2) fits in worker processes limited to one thread;
    n_jobs=1 fits in this process with all of its threads. The log-loss
    scores see every bit of the weights."""
    X, y = _digits(900)
    grid = {"learning_rate_init": [1e-3, 3e-3], "alpha": [1e-4, 1e-2]}
    est = MLPClassifier(hidden_layer_sizes=(100,), batch_size=200, max_iter=3,
                        random_state=0)
    results = [GridSearchCV(est, grid, cv=3, scoring="neg_log_loss", n_jobs=n_jobs)
               .fit(X, y).cv_results_ for n_jobs in (1, 2)]
    keys = [k for k in results[0] if k.startswith("split") and k.endswith("_score")]
    assert len(keys) == 3
    for key in keys + ["mean_test_score", "std_test_score", "rank_test_score"]:
        np.testing.assert_array_equal(results[1][key], results[0][key], err_msg=key)
