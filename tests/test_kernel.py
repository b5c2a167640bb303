"""The Cython kernels on their own: gradients, threads, dtypes, input layouts."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier, MLPRegressor
from sklr._codes import Activation, Loss
from sklr._kernel import Kernel, reg_array, step_table
from sklr._network import _layer_views
from sklr._openmp_helpers import _openmp_effective_n_threads, _openmp_enabled


def _network(rng, units, dtype):
    n_params = sum(a * b for a, b in zip(units[:-1], units[1:])) + sum(units[1:])
    return (rng.uniform(-0.5, 0.5, n_params)).astype(dtype)


def _data(rng, n, units, loss, dtype):
    X = rng.normal(size=(n, units[0])).astype(dtype)
    if loss == "log_loss":
        Y = np.eye(units[-1], dtype=dtype)[rng.randint(units[-1], size=n)]
    elif loss == "binary_log_loss":
        Y = (rng.uniform(size=(n, units[-1])) > 0.5).astype(dtype)
    elif loss == "poisson":
        Y = rng.poisson(1.5, size=(n, units[-1])).astype(dtype)
    else:
        Y = rng.normal(size=(n, units[-1])).astype(dtype)
    return X, Y


OUT_FOR_LOSS = {"log_loss": "softmax", "binary_log_loss": "logistic",
                "squared_error": "identity", "poisson": "exp"}


def _codes(hidden, loss):
    """The Kernel's ``codes`` for a hidden activation and a loss, by their estimator strings."""
    return (Activation[hidden.upper()], Activation[OUT_FOR_LOSS[loss].upper()],
            Loss[loss.upper()])


def _loss_grad(params, X, Y, sw, units, hidden, loss, alpha, n_threads=1, sparse=False, l1=0.0):
    """Full-batch loss and gradient from a loss-only Kernel; an empty ``sw`` is unweighted."""
    dtype = params.dtype
    grad = np.empty_like(params)
    if sparse:
        Xs = sp.csr_matrix(X)
        X = (Xs.data.astype(dtype), Xs.indices.astype(np.intp), Xs.indptr.astype(np.intp))
    kernel = Kernel(X, Y, None if np.shape(sw)[0] == 0 else sw, units, _codes(hidden, loss),
                    reg_array(len(units), l1=l1, alpha=alpha), None, n_threads)
    value = kernel.loss_grad(params, grad)
    return value, grad


@pytest.mark.parametrize("loss", list(OUT_FOR_LOSS))
@pytest.mark.parametrize("hidden", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(loss, hidden, weighted):
    rng = np.random.RandomState(0)
    units = [5, 7, 4, 3]
    params = _network(rng, units, np.float64)
    X, Y = _data(rng, 11, units, loss, np.float64)
    sw = rng.uniform(0.5, 2, 11) if weighted else np.empty(0)
    alpha = 0.3
    _, grad = _loss_grad(params, X, Y, sw, units, hidden, loss, alpha)
    # scikit-learn reports the squared error averaged over outputs but
    # back-propagates y_hat - y, i.e. the gradient of n_outputs x that data
    # term; sklr keeps this for parity, so the reference objective does too.
    scale = units[-1] if loss == "squared_error" else 1
    n_coef = sum(a * b for a, b in zip(units[:-1], units[1:]))
    sw_sum = sw.sum() if weighted else X.shape[0]

    def objective(theta):
        data = _loss_grad(theta, X, Y, sw, units, hidden, loss, 0.0)[0]
        return scale * data + 0.5 * alpha * (theta[:n_coef] ** 2).sum() / sw_sum

    h = 1e-6
    numeric = np.empty_like(params)
    for j in range(params.size):
        e = np.zeros_like(params)
        e[j] = h
        numeric[j] = (objective(params + e) - objective(params - e)) / (2 * h)
    # relu has kinks; with random weights and 11 rows no unit sits on one.
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", list(OUT_FOR_LOSS))
def test_loss_matches_numpy_formula(loss):
    """The kernel's loss against a plain NumPy forward pass written here."""
    rng = np.random.RandomState(1)
    units = [4, 6, 3]
    params = _network(rng, units, np.float64)
    X, Y = _data(rng, 9, units, loss, np.float64)
    sw = rng.uniform(0.5, 2, 9)
    alpha = 0.2
    value, _ = _loss_grad(params, X, Y, sw, units, "tanh", loss, alpha)

    coefs, intercepts = _layer_views(params, units)
    a = np.tanh(X @ coefs[0] + intercepts[0])
    z = a @ coefs[1] + intercepts[1]
    if loss == "log_loss":
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        per_row = -(Y * np.log(p)).sum(1)
    elif loss == "binary_log_loss":
        p = 1 / (1 + np.exp(-z))
        per_row = -(Y * np.log(p) + (1 - Y) * np.log(1 - p)).sum(1)
    elif loss == "poisson":
        mu = np.exp(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(Y > 0, Y * np.log(Y / mu), 0.0)
        per_row = (ylogy - Y + mu).sum(1)
    else:
        per_row = 0.5 * ((Y - z) ** 2).mean(1)
    expected = (sw * per_row).sum() / sw.sum()
    expected += 0.5 * alpha * sum((c**2).sum() for c in coefs) / sw.sum()
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_float32_kernel_close_to_float64():
    rng = np.random.RandomState(2)
    units = [6, 8, 3]
    params = _network(rng, units, np.float64)
    X, Y = _data(rng, 20, units, "log_loss", np.float64)
    v64, g64 = _loss_grad(params, X, Y, np.empty(0), units, "relu", "log_loss", 0.1)
    v32, g32 = _loss_grad(params.astype(np.float32), X.astype(np.float32), Y.astype(np.float32),
                          np.empty(0, np.float32), units, "relu", "log_loss", 0.1)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(v32, v64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


def test_sparse_and_dense_kernels_agree():
    rng = np.random.RandomState(3)
    units = [10, 6, 2]
    params = _network(rng, units, np.float64)
    X, Y = _data(rng, 30, units, "binary_log_loss", np.float64)
    X[rng.uniform(size=X.shape) < 0.6] = 0
    vd, gd = _loss_grad(params, X, Y, np.empty(0), units, "relu", "binary_log_loss", 0.1)
    vs, gs = _loss_grad(params, X, Y, np.empty(0), units, "relu", "binary_log_loss", 0.1, sparse=True)
    np.testing.assert_allclose(vs, vd, rtol=1e-13)
    np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "units",
    [
        [30, 400, 10],  # <= 65536 parameters: the batch is split by rows
        [200, 400, 30],  # more: each matrix product is split by columns
    ],
)
def test_thread_count_does_not_change_results(sparse, units):
    """Threads (row or column split) give the same gradient up to summation order."""
    rng = np.random.RandomState(4)
    params = _network(rng, units, np.float64)
    X, Y = _data(rng, 256, units, "log_loss", np.float64)
    v1, g1 = _loss_grad(params, X, Y, np.empty(0), units, "relu", "log_loss", 0.1, 1, sparse)
    v4, g4 = _loss_grad(params, X, Y, np.empty(0), units, "relu", "log_loss", 0.1, 4, sparse)
    np.testing.assert_allclose(v4, v1, rtol=1e-12)
    np.testing.assert_allclose(g4, g1, rtol=1e-10, atol=1e-14)


def test_fit_with_threads_matches_single_thread():
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    X = X / 16
    kw = dict(hidden_layer_sizes=(300,), batch_size=128, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(1, user_api="openmp"):
            one = MLPClassifier(**kw).fit(X, y)
        many = MLPClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(many.loss_curve_, one.loss_curve_, rtol=1e-10)
    for a, b in zip(many.coefs_, one.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_effective_threads_follow_threadpoolctl():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="openmp"):
        assert _openmp_effective_n_threads() == 1
    assert _openmp_effective_n_threads() >= 1
    # A build without OpenMP (SKLR_NO_OPENMP=1 or no compiler support) is single-threaded.
    assert _openmp_effective_n_threads(3) == (3 if _openmp_enabled() else 1)
    with pytest.raises(ValueError, match="n_threads"):
        _openmp_effective_n_threads(0)


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_read_only_memmap_input(tmp_path, Est):
    X, y = load_digits(return_X_y=True)
    X = X[:200] / 16
    y = y[:200].astype(float) if Est is MLPRegressor else y[:200]
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    assert not Xm.flags.writeable
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = Est(**kw).fit(Xm, y)
        b = Est(**kw).fit(X, y)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(a.predict(Xm), b.predict(X))


def test_kernel_rejects_mismatched_arrays():
    from sklr.optimizers import SGD

    rng = np.random.RandomState(0)
    units = np.array([3, 4, 2], dtype=np.intp)
    params = _network(rng, list(units), np.float64)
    X, Y = _data(rng, 10, list(units), "log_loss", np.float64)
    state = SGD().init_state(params)

    kernel = Kernel(X, Y, None, units, (3, 4, 2), reg_array(3), SGD()._config(), 1)

    def run(lr, mu, state_1=state["state_1"], scalars=state["scalars"]):
        return kernel.train_epoch(
            params, dict(state, state_1=state_1, scalars=scalars),
            np.arange(10, dtype=np.intp), 5, step_table(lr, mu), 0)

    with pytest.raises(ValueError, match="one row per minibatch"):
        run(np.full(1, 0.1), np.full(1, 0.9))
    with pytest.raises(ValueError, match="state_1"):
        run(np.full(2, 0.1), np.full(2, 0.9), state_1=np.zeros(3))
    with pytest.raises(ValueError, match="scalars"):
        run(np.full(2, 0.1), np.full(2, 0.9), scalars=np.zeros(5))
    loss_sum, n_steps, flag = run(np.full(2, 0.1), np.full(2, 0.9))
    assert (n_steps, flag) == (2, 0) and np.isfinite(loss_sum)
    assert state["scalars"][0] == 2  # the update counter advanced


# ---------------------------------------------------------------------------
# The Kernel (sklr._kernel) and the codes (sklr._codes)
# ---------------------------------------------------------------------------


def test_codes_match_the_estimator_strings():
    # The trainer looks the codes up by the estimator's strings
    # (``Activation[name.upper()]``, ``Loss[name.upper()]``): every string the
    # estimators accept or set names a member, with the code the kernels expect.
    activation_codes = {"identity": 0, "logistic": 1, "tanh": 2, "relu": 3, "softmax": 4, "exp": 5}
    loss_codes = {"squared_error": 0, "poisson": 1, "log_loss": 2, "binary_log_loss": 3}
    hidden = MLPClassifier._parameter_constraints["activation"][0].options
    assert set(hidden) | set(OUT_FOR_LOSS.values()) == set(activation_codes)
    assert set(MLPRegressor._parameter_constraints["loss"][0].options) < set(loss_codes)
    assert set(OUT_FOR_LOSS) == set(loss_codes)
    for name, code in activation_codes.items():
        assert Activation[name.upper()] == code
    for name, code in loss_codes.items():
        assert Loss[name.upper()] == code


def _kernel_problem(dtype=np.float64, n=90, units=(6, 9, 3), sparse=False, weighted=False):
    rng = np.random.RandomState(7)
    X, Y = _data(rng, n, list(units), "log_loss", dtype)
    if sparse:
        X[rng.uniform(size=X.shape) < 0.5] = 0
    sw = rng.uniform(0.5, 2, n).astype(dtype) if weighted else None
    params = _network(rng, list(units), dtype)
    return X, Y, sw, np.asarray(units, dtype=np.intp), params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_reused_kernel_matches_a_fresh_kernel_per_epoch(dtype, sparse, weighted):
    """One Kernel trained over several epochs == a fresh Kernel per epoch, the latter
    given CSR input as its (data, indices, indptr) arrays."""
    from sklr.optimizers import NAdam

    X, Y, sw, units, p0 = _kernel_problem(dtype, sparse=sparse, weighted=weighted)
    opt = NAdam()
    config = opt._config()
    codes = (Activation.TANH, Activation.SOFTMAX, Loss.LOG_LOSS)
    reg = reg_array(3, l1=0.01, dropout=[0.1, 0.2], alpha=0.001)
    Xk = sp.csr_matrix(X) if sparse else X
    kernel = Kernel(Xk, Y, sw, units, codes, reg, config, 1)
    assert (kernel.n_samples, kernel.n_params, kernel.dtype) == (90, p0.size, dtype)
    p_kernel, p_fresh = p0.copy(), p0.copy()
    s_kernel, s_fresh = opt.init_state(p0), opt.init_state(p0)
    rng = np.random.RandomState(0)
    if sparse:
        Xs = sp.csr_matrix(X)
        Xa = (Xs.data, Xs.indices.astype(np.intp), Xs.indptr.astype(np.intp))
    else:
        Xa = X
    for epoch in range(3):
        idx = rng.permutation(90).astype(np.intp)
        lr = np.linspace(0.01, 0.02, 5)
        mu = np.full(5, 0.9)
        a = kernel.train_epoch(p_kernel, s_kernel, idx, 20, step_table(lr, mu), epoch)
        fresh = Kernel(Xa, Y, sw, units, codes, reg_array(3, l1=0.01, dropout=[0.1, 0.2],
                                                           alpha=0.001), config, 1)
        b = fresh.train_epoch(p_fresh, s_fresh, idx, 20, step_table(lr, mu), epoch)
        assert a == b and a[1:] == (5, 0)
        np.testing.assert_array_equal(p_kernel, p_fresh)
        for key in ("state_1", "state_2", "scalars"):
            np.testing.assert_array_equal(s_kernel[key], s_fresh[key])
    assert s_kernel["scalars"][0] == 15

    # loss_grad: the same through a loss-only Kernel and through one that has an
    # optimizer config (and CSR input as arrays).
    g1, g2 = np.empty_like(p0), np.empty_like(p0)
    v1 = Kernel(Xk, Y, sw, units, codes, reg_array(3, l1=0.01, alpha=0.001)).loss_grad(p0, g1)
    v2 = Kernel(Xa, Y, sw, units, codes, reg_array(3, l1=0.01, alpha=0.001), config,
                1).loss_grad(p0, g2)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)


def test_kernel_grows_its_workspaces():
    """A larger batch after a smaller one (workspaces grow) gives a fresh Kernel's result."""
    from sklr.optimizers import Adam

    X, Y, _, units, p0 = _kernel_problem()
    opt = Adam()
    args = (X, Y, None, units, (3, 4, 2), reg_array(3), opt._config(), 1)
    idx = np.arange(90, dtype=np.intp)
    warm = Kernel(*args)
    warm.train_epoch(p0.copy(), opt.init_state(p0), idx, 4,
                     step_table(np.full(23, 0.01), np.full(23, 0.9)))
    results = []
    for kernel in (warm, Kernel(*args)):
        p, state = p0.copy(), opt.init_state(p0)
        steps = step_table(np.full(2, 0.01), np.full(2, 0.9))
        results.append((kernel.train_epoch(p, state, idx, 45, steps), p))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_kernel_rejects_bad_inputs():
    from sklr.optimizers import SGD

    X, Y, _, units, p0 = _kernel_problem()
    config, reg = SGD()._config(), reg_array(3)
    with pytest.raises(ValueError, match="float32 or float64"):
        Kernel(X.astype(int), Y, None, units, (3, 4, 2), reg, config)
    with pytest.raises(ValueError, match="X must have shape"):
        Kernel(X[:, :5], Y, None, units, (3, 4, 2), reg, config)
    with pytest.raises(ValueError, match="sample_weight"):
        Kernel(X, Y, np.ones(3), units, (3, 4, 2), reg, config)
    with pytest.raises(ValueError, match="reg must have"):
        Kernel(X, Y, None, units, (3, 4, 2), reg[:-1], config)
    with pytest.raises(ValueError, match="Activation"):
        Kernel(X, Y, None, units, (9, 4, 2), reg, config)
    bad = config.copy()
    bad[0] = 42
    with pytest.raises(ValueError, match="rule"):
        Kernel(X, Y, None, units, (3, 4, 2), reg, bad)
    with pytest.raises(ValueError, match="CSR X has column indices"):
        Xs = sp.csr_matrix(X)
        Kernel((Xs.data, Xs.indices * 2, Xs.indptr), Y, None, units, (3, 4, 2), reg, config)
    kernel = Kernel(X, Y, None, units, (3, 4, 2), reg, None)
    with pytest.raises(ValueError, match="no optimizer config"):
        kernel.train_epoch(p0, SGD().init_state(p0), np.arange(90), 10,
                           step_table(np.ones(9), np.ones(9)))
    kernel = Kernel(X, Y, None, units, (3, 4, 2), reg_array(3, max_norm=2.0), config)
    with pytest.raises(ValueError, match="L1 only"):
        kernel.loss_grad(p0, np.empty_like(p0))
    with pytest.raises(ValueError, match="outside"):
        kernel.train_epoch(p0, SGD().init_state(p0), np.array([0, 90], dtype=np.intp), 10,
                           step_table(np.ones(1), np.ones(1)))
    with pytest.raises(ValueError, match="dtype mismatch"):
        kernel.train_epoch(p0.astype(np.float32), SGD().init_state(p0), np.arange(90), 10,
                           step_table(np.ones(9), np.ones(9)))


def test_allocation_failure_raises_memory_error():
    """A workspace that cannot be allocated raises MemoryError (it used to segfault)."""
    resource = pytest.importorskip("resource")
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import resource
        import numpy as np
        from sklr import MLPRegressor
        from sklr._kernel import Kernel, reg_array, step_table

        rng = np.random.RandomState(0)
        X, y = rng.uniform(size=(100000, 2)), rng.uniform(size=100000)
        # Room for the data and the interpreter, not for the 3 GiB workspace
        # a full-batch pass of 2000 hidden units over 100000 rows needs.
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = 2 * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
        units = np.array([2, 2000, 1], dtype=np.intp)
        kernel = Kernel(X, y[:, None], None, units, (3, 0, 0), reg_array(3))
        params = np.zeros(2 * 2000 + 2000 + 2000 + 1)
        try:
            kernel.loss_grad(params, np.empty_like(params))
        except MemoryError as exc:
            print("kernel:", exc)
        try:
            MLPRegressor(hidden_layer_sizes=(2000,), solver="lbfgs").fit(X, y)
        except MemoryError:
            print("fit: MemoryError")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kernel: sklr could not allocate" in done.stdout
    assert "fit: MemoryError" in done.stdout


def test_ctrl_c_interrupts_an_epoch_between_minibatches():
    """SIGINT stops a long epoch within a fraction of a second, not at its end, and
    the scalar state counts the updates done."""
    signal = pytest.importorskip("signal")
    import subprocess
    import sys
    import textwrap
    import time

    if not hasattr(signal, "SIGINT") or sys.platform == "win32":
        pytest.skip("needs POSIX signals")
    code = textwrap.dedent("""
        import signal, sys
        import numpy as np
        # SIGINT may be ignored when the suite runs as a background job.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from sklr._kernel import Kernel, reg_array, step_table
        from sklr.optimizers import Adam

        rng = np.random.RandomState(0)
        X, Y = rng.normal(size=(500, 100)), np.eye(10)[rng.randint(10, size=500)]
        units = np.array([100, 256, 10], dtype=np.intp)
        params = rng.uniform(-0.05, 0.05, 100 * 256 + 256 * 10 + 256 + 10)
        opt = Adam()
        state = opt.init_state(params)
        kernel = Kernel(X, Y, None, units, (3, 4, 2), reg_array(3), opt._config(), 1)
        n_steps = 100000                       # minutes of work: never finishes here
        idx = rng.randint(500, size=32 * n_steps).astype(np.intp)
        print("ready", flush=True)
        try:
            kernel.train_epoch(params, state, idx, 32,
                               step_table(np.full(n_steps, 1e-4), np.full(n_steps, 0.9)))
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", int(state["scalars"][0]), n_steps,
                  bool(np.isfinite(params).all()), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        elapsed = time.perf_counter() - sent
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert line[0] == "interrupted", (line, proc.stderr.read()[-2000:])
    t, n_steps, finite = int(line[1]), int(line[2]), line[3] == "True"
    assert 0 < t < n_steps and finite
    assert elapsed < 1.0
