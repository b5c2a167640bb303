#!/usr/bin/env python
"""Side-by-side training speed of sklr, scikit-learn and PyTorch on CPU.

Speed is only ever reported as a ratio against a peer measured in the same run:
repeats are interleaved (in each repeat every library runs once, in an order
rotated from repeat to repeat), so whatever else the machine is doing hits all
libraries alike, and the medians are compared. Each timed run starts after
``SETTLE`` seconds of rest: the thread pools of the run before keep spinning
for a while after their last call (OpenBLAS's threads about 0.1 s, which the
peak measurement and scikit-learn's NumPy leave behind; libgomp's workers up
to their spin count) and would otherwise share the cores with the next
library's first epoch (seen here: sklr's first epoch after a scikit-learn fit
90 ms slower, and one start in four taking one thread for two epochs).

Workloads
---------
a    digits 1797x64 (pixels / 16), hidden (100,), adam, batch 32, float64,
     20 epochs
b64  synthetic MNIST-size data, ``make_classification(n_samples=20000,
     n_features=784, n_informative=100, n_classes=10, random_state=0)``,
     hidden (256, 128), adam, batch 200, 5 epochs, float64
b32  the same in float32
c    the learning-rate tutorial workload: ``make_blobs(n_samples=1000,
     centers=3, n_features=2, cluster_std=2, random_state=2)``, first 500 rows,
     hidden (50,), sgd with learning_rate_init=0.01 and classical momentum 0.9,
     batch 32, 200 epochs, float64; the whole-fit time matters here

Optimizer workloads, sklr against PyTorch only (scikit-learn has neither
RMSprop nor AdamW): the b data, hidden (256, 128), batch 200, 5 epochs,
float32, with one optimizer each, in PyTorch's conventions on both sides:

opt-sgd      ``optimizers.SGD(momentum=0.9, nesterov=False,
             convention='pytorch')`` / ``torch.optim.SGD(lr, momentum=0.9,
             nesterov=False)``, lr 0.01
opt-rmsprop  ``optimizers.RMSprop()`` / ``torch.optim.RMSprop(lr, alpha=0.99,
             eps=1e-8)``, lr 0.001
opt-adam     ``optimizers.Adam(convention='pytorch')`` / ``torch.optim.Adam(lr,
             betas=(0.9, 0.999), eps=1e-8)``, lr 0.001
opt-adamw    ``optimizers.AdamW(weight_decay=0.01, convention='pytorch')`` /
             ``torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8,
             weight_decay=0.01)``, lr 0.001

(``--workloads b`` selects both b64 and b32, ``--workloads opt`` the four
optimizer workloads; the default stays a,b,c.)

sklr and scikit-learn fit ``MLPClassifier(max_iter=E, tol=0,
n_iter_no_change=10**9, shuffle=True, random_state=0, alpha=1e-4)`` and the
whole ``fit`` is timed, so their times include input validation and
initialisation; per-epoch time = fit time / E.

The PyTorch version is written to do the same arithmetic: ``nn.Sequential`` of
``Linear`` + ``ReLU`` with scikit-learn's Glorot-uniform initialisation (weights
and biases uniform in +-sqrt(6 / (fan_in + fan_out))), softmax cross-entropy
(mean over the batch), the L2 term ``0.5 * alpha * sum ||W||^2 / n_batch`` on
weights only added to the loss (exactly scikit-learn's penalty), one
``torch.randperm`` shuffle per epoch, the same batch slicing, ``torch.optim.Adam
(lr=0.001, betas=(0.9, 0.999), eps=1e-8)`` or ``torch.optim.SGD(lr, momentum,
nesterov=False)`` (PyTorch's momentum buffer equals scikit-learn's velocity for a
constant rate; Adam's epsilon is added after bias correction in PyTorch and
before it in scikit-learn, a negligible difference), the per-batch loss read back
with ``.item()`` as scikit-learn accumulates it. Tensors and the model are
prepared before the clock starts; the training loop alone is timed. In the
optimizer workloads sklr's ``solver`` is the optimizer object above (PyTorch's
convention, so both sides apply the same update) and PyTorch uses the matching
``torch.optim`` class with its default (single-tensor, CPU) implementation; the
L2 term ``alpha=1e-4`` stays in both, AdamW's decoupled decay comes on top.

Arithmetic rate
---------------
Each workload also prints the achieved GFLOP/s of every library, from an
exact count of the floating-point operations of the matrix products of one
epoch (the elementwise work, a few percent of the products on the larger
networks, is not counted). With ``n`` rows per epoch and layers of
``fan_in[i] x fan_out[i]`` weights (``i = 1..L``)::

    FLOP per epoch = 2 n (2 sum_{i=1..L} fan_in[i] fan_out[i]
                            + sum_{i=2..L} fan_in[i] fan_out[i])

one product ``(rows x fan_in) @ (fan_in x fan_out)`` per layer forward, one
for the weight gradient ``a.T @ delta`` per layer, and one for the gradient
with respect to the layer's input ``delta @ W.T``, which layer 1 skips (no
library differentiates with respect to ``X``); a product of ``(m x k)`` by
``(k x p)`` is ``2 m k p`` operations. The minibatch split does not change
the count. For b64/b32 (20000 rows, 784-256-128-10) this is 9.39 (forward)
+ 9.39 (weight gradients) + 1.36 (input gradients of layers 2-3) = 20.14
GFLOP per epoch.

The peak to compare with is measured in the same run, once per repeat,
interleaved with the fits: the matrix products of one minibatch of the
workload (the same shapes and transpositions, the same dtype), called
through ``scipy.linalg.blas`` -- the BLAS library sklr's kernel calls --
on preallocated Fortran-ordered views (no copies), with as many BLAS threads
as the libraries get; the fastest of several blocks of calls gives the
GFLOP/s. ``% peak`` is each library's GFLOP/s over the peak of the same
repeat. The GFLOP/s of the largest single product of the workload (for b,
``(200 x 784) @ (784 x 256)``) is printed beside it. On the tiny digits and
blobs shapes the Python call overhead of ``scipy.linalg.blas`` is a large
part of each product's time, so their peak is understated.

Threads: by default every library uses all the cores this process may run on
(``torch.set_num_threads``; BLAS/OpenMP defaults for the others). ``--threads N``
caps all of them at N (``threadpoolctl.threadpool_limits`` and
``torch.set_num_threads``).

Examples
--------
::

    python benchmarks/compare_peers.py
    python benchmarks/compare_peers.py --quick --repeats 2
    python benchmarks/compare_peers.py --libraries sklearn,torch --workloads a,c
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import threadpoolctl
from sklearn.datasets import load_digits, make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning

REPO_ROOT = Path(__file__).resolve().parent.parent
ALPHA = 1e-4
SETTLE = 0.5  # seconds of rest before each timed run (see the module docstring)
ALL_LIBRARIES = ("sklr", "sklearn", "torch")


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    dataset: str  # key for load_dataset
    hidden: tuple
    solver: str  # 'adam' or 'sgd'
    batch_size: int
    epochs: int
    dtype: str
    learning_rate_init: float = 0.001
    momentum: float = 0.9  # sgd only; classical (not Nesterov) momentum
    whole_fit: bool = False  # the whole-fit time is the headline number
    # Optimizer workloads: sklr gets the object of sklr_optimizer() (PyTorch
    # conventions) and only the libraries in `libraries` run.
    pytorch_optimizer: bool = False
    libraries: tuple = ALL_LIBRARIES


WORKLOADS = {
    "a": Workload(
        "a", "digits 1797x64, hidden (100,), adam, batch 32, float64",
        "digits", (100,), "adam", 32, 20, "float64",
    ),
    "b64": Workload(
        "b64", "synthetic 20000x784, hidden (256, 128), adam, batch 200, float64",
        "mnist_like", (256, 128), "adam", 200, 5, "float64",
    ),
    "b32": Workload(
        "b32", "synthetic 20000x784, hidden (256, 128), adam, batch 200, float32",
        "mnist_like", (256, 128), "adam", 200, 5, "float32",
    ),
    "c": Workload(
        "c", "blobs 500x2, hidden (50,), sgd lr=0.01 momentum=0.9, batch 32, float64",
        "blobs", (50,), "sgd", 32, 200, "float64",
        learning_rate_init=0.01, whole_fit=True,
    ),
}
# The optimizer workloads: (solver, learning rate, title of the optimizer).
OPTIMIZER_WORKLOADS = {
    "opt-sgd": ("sgd", 0.01, "SGD momentum 0.9 (not Nesterov) lr=0.01"),
    "opt-rmsprop": ("rmsprop", 0.001, "RMSprop alpha=0.99 eps=1e-8 lr=0.001"),
    "opt-adam": ("adam", 0.001, "Adam lr=0.001"),
    "opt-adamw": ("adamw", 0.001, "AdamW weight_decay=0.01 lr=0.001"),
}
for _name, (_solver, _lr, _title) in OPTIMIZER_WORKLOADS.items():
    WORKLOADS[_name] = Workload(
        _name,
        f"synthetic 20000x784, hidden (256, 128), {_title}, PyTorch conventions, "
        "batch 200, float32",
        "mnist_like", (256, 128), _solver, 200, 5, "float32",
        learning_rate_init=_lr, pytorch_optimizer=True, libraries=("sklr", "torch"),
    )

WORKLOAD_GROUPS = {
    "a": ["a"],
    "b": ["b64", "b32"],
    "c": ["c"],
    "opt": list(OPTIMIZER_WORKLOADS),
}

# --quick: a smoke test of the script, not a measurement.
QUICK_EPOCHS = {
    "a": 3, "b64": 2, "b32": 2, "c": 20, **dict.fromkeys(OPTIMIZER_WORKLOADS, 2)
}
QUICK_MNIST_SAMPLES = 2000


@lru_cache(maxsize=None)
def load_dataset(dataset, quick=False):
    """Return ``(X, y)`` in float64; callers cast to the workload's dtype."""
    if dataset == "digits":
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y
    if dataset == "mnist_like":
        X, y = make_classification(
            n_samples=QUICK_MNIST_SAMPLES if quick else 20000,
            n_features=784,
            n_informative=100,
            n_classes=10,
            random_state=0,
        )
        return X, y
    if dataset == "blobs":
        X, y = make_blobs(
            n_samples=1000, centers=3, n_features=2, cluster_std=2, random_state=2
        )
        return X[:500], y[:500]
    raise ValueError(f"unknown dataset {dataset!r}")


def get_data(workload, quick):
    X, y = load_dataset(workload.dataset, quick)
    return np.ascontiguousarray(X, dtype=workload.dtype), y


# --------------------------------------------------------------------------
# Arithmetic: the FLOP count of an epoch and the gemm peak of its shapes
# --------------------------------------------------------------------------


def layer_shapes(workload, X, y):
    """``(fan_in, fan_out)`` of each weight layer of the workload's network."""
    n_classes = len(np.unique(y))
    n_outputs = 1 if n_classes == 2 else n_classes  # scikit-learn's binary output
    sizes = [X.shape[1], *workload.hidden, n_outputs]
    return list(zip(sizes[:-1], sizes[1:]))


def epoch_flops(n_rows, shapes):
    """FLOP of one epoch's matrix products, by kind (see the module docstring).

    Returns ``{"forward": ..., "weight_gradients": ..., "input_gradients": ...,
    "total": ...}``: ``2 n fan_in fan_out`` per layer for the forward product
    and for the weight gradient, and for the input gradient of every layer
    but the first.
    """
    products = [2 * n_rows * fan_in * fan_out for fan_in, fan_out in shapes]
    flops = {
        "forward": sum(products),
        "weight_gradients": sum(products),
        "input_gradients": sum(products[1:]),
    }
    flops["total"] = sum(flops.values())
    return flops


class GemmPeak:
    """GFLOP/s of one minibatch's matrix products through scipy's BLAS.

    The products are those the FLOP count counts, on ``batch_size`` rows:
    per layer ``a @ W`` and ``a.T @ delta``, and ``delta @ W.T`` for layers
    after the first, each called as the column-major gemm of the row-major
    product on preallocated arrays (``overwrite_c``, no copies).
    """

    name = "gemm-peak"

    def __init__(self, shapes, batch_size, dtype, n_threads, block_time=0.05, blocks=5):
        from scipy.linalg import blas

        gemm = blas.dgemm if dtype == "float64" else blas.sgemm
        rng = np.random.default_rng(0)

        def array(*shape):
            return rng.uniform(-1, 1, size=shape).astype(dtype)

        # (flops, callable) per product; row-major C = A @ B is the
        # column-major gemm C.T = B.T @ A.T, and a C-ordered matrix's .T is
        # Fortran-ordered.
        self.products = []
        for layer, (fan_in, fan_out) in enumerate(shapes):
            a, w, d = array(batch_size, fan_in), array(fan_in, fan_out), array(
                batch_size, fan_out)
            z, g, e = (np.empty(shape, dtype) for shape in (
                (batch_size, fan_out), (fan_in, fan_out), (batch_size, fan_in)))
            flops = 2 * batch_size * fan_in * fan_out
            self.products.append((flops, f"({batch_size}x{fan_in})@({fan_in}x{fan_out})",
                                  lambda a=a, w=w, z=z: gemm(
                                      1.0, w.T, a.T, beta=0.0, c=z.T, overwrite_c=True)))
            self.products.append((flops, None, lambda a=a, d=d, g=g: gemm(
                1.0, d.T, a.T, trans_b=True, beta=0.0, c=g.T, overwrite_c=True)))
            if layer > 0:
                self.products.append((flops, None, lambda w=w, d=d, e=e: gemm(
                    1.0, w.T, d.T, trans_a=True, beta=0.0, c=e.T, overwrite_c=True)))
        self.batch_flops = sum(flops for flops, _, _ in self.products)
        self.largest = max((p for p in self.products if p[1]), key=lambda p: p[0])
        self.n_threads = n_threads
        self.block_time = block_time
        self.blocks = blocks

    def _rate(self, calls, flops):
        """Best GFLOP/s over ``self.blocks`` blocks of repeated ``calls``."""
        for call in calls:  # warm up: first-call costs, thread wake-up
            call()
        loops, elapsed = 1, 0.0
        while True:  # calibrate one block to about block_time
            tic = time.perf_counter()
            for _ in range(loops):
                for call in calls:
                    call()
            elapsed = time.perf_counter() - tic
            if elapsed >= self.block_time or loops >= 1 << 20:
                break
            loops *= 2
        best = elapsed / loops
        for _ in range(self.blocks - 1):
            tic = time.perf_counter()
            for _ in range(loops):
                for call in calls:
                    call()
            best = min(best, (time.perf_counter() - tic) / loops)
        return flops / best / 1e9

    def measure(self):
        """``{"batch": GFLOP/s of all products, "largest": of the largest one}``."""
        with threadpoolctl.threadpool_limits(limits=self.n_threads, user_api="blas"):
            return {
                "batch": self._rate([c for _, _, c in self.products], self.batch_flops),
                "largest": self._rate([self.largest[2]], self.largest[0]),
            }


# --------------------------------------------------------------------------
# Libraries. Each runner fits once and returns
# {"fit_time": s, "train_accuracy": ..., "final_loss": ..., "n_epochs": ...}.
# --------------------------------------------------------------------------


def import_sklr():
    """Import sklr, from the environment or else from an in-place build here."""
    try:
        import sklr
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
        try:
            import sklr
        except ImportError:
            sys.path.pop(0)
            raise
    return sklr


def sklr_optimizer(workload):
    """sklr's optimizer object of an optimizer workload (PyTorch conventions)."""
    from sklr import optimizers

    return {
        "sgd": lambda: optimizers.SGD(
            momentum=workload.momentum, nesterov=False, convention="pytorch"
        ),
        "rmsprop": lambda: optimizers.RMSprop(),
        "adam": lambda: optimizers.Adam(convention="pytorch"),
        "adamw": lambda: optimizers.AdamW(weight_decay=0.01, convention="pytorch"),
    }[workload.solver]()


def _fit_sklearn_api(MLPClassifier, workload, X, y, epochs, solver=None):
    est = MLPClassifier(
        hidden_layer_sizes=workload.hidden,
        solver=workload.solver if solver is None else solver,
        batch_size=workload.batch_size,
        learning_rate_init=workload.learning_rate_init,
        momentum=workload.momentum,
        nesterovs_momentum=False,
        alpha=ALPHA,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        shuffle=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        est.fit(X, y)
        fit_time = time.perf_counter() - tic
    return {
        "fit_time": fit_time,
        "train_accuracy": float(est.score(X, y)),
        "final_loss": float(est.loss_curve_[-1]),
        "n_epochs": int(est.n_iter_),
    }


class SklearnRunner:
    name = "sklearn"

    def __init__(self):
        import sklearn
        from sklearn.neural_network import MLPClassifier

        self.version = sklearn.__version__
        self.location = sklearn.__file__
        self._cls = MLPClassifier

    def fit(self, workload, X, y, epochs):
        if workload.pytorch_optimizer:  # pragma: no cover - filtered out before
            raise ValueError("scikit-learn does not run the optimizer workloads")
        return _fit_sklearn_api(self._cls, workload, X, y, epochs)


class SklrRunner:
    name = "sklr"

    def __init__(self):
        sklr = import_sklr()
        self.version = getattr(sklr, "__version__", "unknown")
        self.location = sklr.__file__
        self._cls = sklr.MLPClassifier

    def fit(self, workload, X, y, epochs):
        solver = sklr_optimizer(workload) if workload.pytorch_optimizer else None
        return _fit_sklearn_api(self._cls, workload, X, y, epochs, solver=solver)


class TorchRunner:
    name = "torch"

    def __init__(self, n_threads):
        import torch  # ImportError -> the caller skips torch

        self.torch = torch
        self.version = torch.__version__
        self.location = torch.__file__
        self.n_threads = n_threads
        torch.set_num_threads(n_threads)

    def _build(self, n_features, n_classes, workload, dtype):
        torch, nn = self.torch, self.torch.nn
        sizes = [n_features, *workload.hidden, n_classes]
        layers, weights = [], []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear = nn.Linear(fan_in, fan_out, dtype=dtype)
            # scikit-learn's Glorot-uniform init (factor 6 for relu), biases too.
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound)
                linear.bias.uniform_(-bound, bound)
            layers.append(linear)
            weights.append(linear.weight)
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers), weights

    def optimizer(self, workload, parameters):
        """The ``torch.optim`` optimizer doing the workload's update."""
        optim, lr = self.torch.optim, workload.learning_rate_init
        if workload.solver == "adam":
            return optim.Adam(parameters, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        if workload.solver == "adamw":
            return optim.AdamW(
                parameters, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01
            )
        if workload.solver == "sgd":
            return optim.SGD(
                parameters, lr=lr, momentum=workload.momentum, nesterov=False
            )
        if workload.solver == "rmsprop":
            return optim.RMSprop(
                parameters, lr=lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False
            )
        raise ValueError(workload.solver)  # pragma: no cover

    def fit(self, workload, X, y, epochs):
        torch = self.torch
        torch.manual_seed(0)
        dtype = {"float32": torch.float32, "float64": torch.float64}[workload.dtype]
        classes, y_index = np.unique(y, return_inverse=True)
        X_t = torch.from_numpy(np.ascontiguousarray(X))
        y_t = torch.from_numpy(y_index.astype(np.int64))
        n_samples = X_t.shape[0]
        batch_size = min(workload.batch_size, n_samples)

        model, weights = self._build(X_t.shape[1], len(classes), workload, dtype)
        optimizer = self.optimizer(workload, model.parameters())
        cross_entropy = torch.nn.CrossEntropyLoss()  # mean over the batch
        half_alpha = 0.5 * ALPHA

        model.train()
        tic = time.perf_counter()
        for _ in range(epochs):
            permutation = torch.randperm(n_samples)
            accumulated_loss = 0.0
            for start in range(0, n_samples, batch_size):
                index = permutation[start : start + batch_size]
                X_batch, y_batch = X_t[index], y_t[index]
                n_batch = index.shape[0]
                optimizer.zero_grad(set_to_none=True)
                loss = cross_entropy(model(X_batch), y_batch)
                penalty = sum((w * w).sum() for w in weights)
                loss = loss + half_alpha * penalty / n_batch
                loss.backward()
                optimizer.step()
                accumulated_loss += loss.item() * n_batch
        fit_time = time.perf_counter() - tic

        model.eval()
        with torch.no_grad():
            accuracy = (model(X_t).argmax(dim=1) == y_t).double().mean().item()
        return {
            "fit_time": fit_time,
            "train_accuracy": float(accuracy),
            "final_loss": accumulated_loss / n_samples,
            "n_epochs": epochs,
        }


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def make_runners(libraries, n_threads):
    runners = []
    for name in libraries:
        if name == "sklearn":
            runners.append(SklearnRunner())
        elif name == "sklr":
            try:
                runners.append(SklrRunner())
            except (ImportError, AttributeError) as exc:
                sys.exit(
                    f"error: cannot use sklr ({exc!r}). Build it "
                    "(pip install -e . --no-build-isolation) or leave it out: "
                    "--libraries sklearn,torch"
                )
        elif name == "torch":
            try:
                runners.append(TorchRunner(n_threads))
            except ImportError as exc:
                print(f"note: PyTorch is not importable ({exc}); skipping torch.")
        else:
            sys.exit(f"error: unknown library {name!r}; choose from {ALL_LIBRARIES}")
    if not runners:
        sys.exit("error: no library left to run")
    return runners


def describe_optimizers(workload, runners):
    """The optimizer each library runs in an optimizer workload, as text."""
    described = {}
    for runner in runners:
        if runner.name == "sklr":
            described["sklr_solver"] = repr(sklr_optimizer(workload))
        elif runner.name == "torch":
            dummy = [runner.torch.zeros(1, requires_grad=True)]
            described["torch_optimizer"] = " ".join(
                repr(runner.optimizer(workload, dummy)).split()
            )
    return described


def run_workload(workload, runners, repeats, quick, warmup, n_threads):
    """Interleaved repeats of ``workload`` by each runner and of the gemm peak.

    Returns ``(X.shape, raw, arithmetic)``: ``raw`` holds each library's
    results per repeat, ``arithmetic`` the FLOP count, the product shapes and
    the peak measured in each repeat.
    """
    X, y = get_data(workload, quick)
    epochs = workload.epochs
    shapes = layer_shapes(workload, X, y)
    batch = min(workload.batch_size, len(X))
    peak = GemmPeak(shapes, batch, workload.dtype, n_threads)
    arithmetic = {
        "flops_per_epoch": epoch_flops(len(X), shapes),
        "layer_shapes": shapes,
        "peak_threads": n_threads,
        "largest_product": peak.largest[1],
        "peak": [],
    }
    if warmup:
        # One untimed epoch on a slice per library: first-call costs (thread
        # pools, allocators, lazy imports) stay out of the measurements.
        n_warm = min(len(X), 4 * workload.batch_size)
        for runner in runners:
            runner.fit(workload, X[:n_warm], y[:n_warm], 1)
    raw = {runner.name: [] for runner in runners}
    order = [*runners, peak]
    for repeat in range(repeats):
        shift = repeat % len(order)
        for runner in order[shift:] + order[:shift]:
            time.sleep(SETTLE)  # the last run's spinning threads go to sleep
            if runner is peak:
                arithmetic["peak"].append(peak.measure())
                continue
            result = runner.fit(workload, X, y, epochs)
            result["repeat"] = repeat
            raw[runner.name].append(result)
            if result["n_epochs"] != epochs:
                print(
                    f"warning: {runner.name} ran {result['n_epochs']} epochs "
                    f"instead of {epochs} on workload {workload.name}"
                )
    return X.shape, raw, arithmetic


def _stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def arithmetic_rates(raw, epochs, arithmetic):
    """GFLOP/s per library and repeat, and the fraction of the same repeat's peak."""
    flops = arithmetic["flops_per_epoch"]["total"]
    rates = {"peak_batch": _stats([p["batch"] for p in arithmetic["peak"]]),
             "peak_largest": _stats([p["largest"] for p in arithmetic["peak"]])}
    for name, results in raw.items():
        gflops = [flops / (r["fit_time"] / epochs) / 1e9 for r in results]
        fraction = [g / arithmetic["peak"][r["repeat"]]["batch"]
                    for g, r in zip(gflops, results)]
        rates[name] = {"gflops": gflops, "fraction_of_peak": fraction,
                       "gflops_stats": _stats(gflops),
                       "fraction_of_peak_stats": _stats(fraction)}
    return rates


def print_arithmetic(arithmetic, rates, names):
    flops = arithmetic["flops_per_epoch"]
    print(
        f"    FLOP per epoch (matrix products): {flops['total'] / 1e9:.3f} G = forward "
        f"{flops['forward'] / 1e9:.3f} + weight gradients "
        f"{flops['weight_gradients'] / 1e9:.3f} + input gradients "
        f"{flops['input_gradients'] / 1e9:.3f}"
    )
    batch, largest = rates["peak_batch"], rates["peak_largest"]
    print(
        f"    gemm peak (scipy BLAS, {arithmetic['peak_threads']} thread(s)): one "
        f"minibatch's products {batch['median']:.1f} GFLOP/s "
        f"({batch['min']:.1f}..{batch['max']:.1f}); largest product "
        f"{arithmetic['largest_product']} {largest['median']:.1f} "
        f"({largest['min']:.1f}..{largest['max']:.1f})"
    )
    print(f"    {'library':<8} {'GFLOP/s':>8} {'(min..max)':>16} {'% of peak':>10} "
          f"{'(min..max)':>14}")
    for name in names:
        g, f = rates[name]["gflops_stats"], rates[name]["fraction_of_peak_stats"]
        g_range = f"({g['min']:.2f}..{g['max']:.2f})"
        f_range = f"({100 * f['min']:.1f}..{100 * f['max']:.1f})"
        print(f"    {name:<8} {g['median']:8.2f} {g_range:>16} {100 * f['median']:9.1f}% "
              f"{f_range:>14}")


def summarise(raw, epochs, baseline):
    summary = {}
    for name, results in raw.items():
        fit_times = [r["fit_time"] for r in results]
        per_epoch = [t / epochs for t in fit_times]
        summary[name] = {
            "fit_times": fit_times,
            "per_epoch_times": per_epoch,
            "median_fit_time": statistics.median(fit_times),
            "median_per_epoch_time": statistics.median(per_epoch),
            "min_per_epoch_time": min(per_epoch),
            "max_per_epoch_time": max(per_epoch),
            "train_accuracy": [r["train_accuracy"] for r in results],
            "median_train_accuracy": statistics.median(
                r["train_accuracy"] for r in results
            ),
            "final_loss": [r["final_loss"] for r in results],
            "n_epochs": [r["n_epochs"] for r in results],
        }
    ratios = {}
    if baseline in summary:
        reference = summary[baseline]["median_per_epoch_time"]
        for name in summary:
            if name != baseline:
                ratios[f"{name}/{baseline}"] = (
                    summary[name]["median_per_epoch_time"] / reference
                )
    return summary, ratios


def print_table(workload, shape, epochs, summary, ratios, baseline, left_out=()):
    print(f"\n[{workload.name}] {workload.title}")
    print(f"    X: {shape[0]}x{shape[1]}, {epochs} epochs")
    if left_out:
        print(f"    not run on this workload: {', '.join(left_out)}")
    header = (
        f"    {'library':<8} {'epoch median':>13} {'(min..max)':>22} "
        f"{'fit median':>11} {'train acc':>9} {'final loss':>10} "
        f"{'time/' + baseline:>13}"
    )
    print(header)
    reference = summary.get(baseline, {}).get("median_per_epoch_time")
    for name, s in summary.items():
        ratio = (
            f"{s['median_per_epoch_time'] / reference:13.2f}" if reference else "n/a"
        )
        spread = (
            f"({_ms(s['min_per_epoch_time'])}..{_ms(s['max_per_epoch_time'])})"
        )
        fit = f"{s['median_fit_time']:.3f} s"
        if workload.whole_fit:
            fit = "*" + fit
        print(
            f"    {name:<8} {_ms(s['median_per_epoch_time']):>13} {spread:>22} "
            f"{fit:>11} {s['median_train_accuracy']:9.4f} "
            f"{statistics.median(s['final_loss']):10.4f} {ratio:>13}"
        )
    for key, value in ratios.items():
        verdict = ""
        if baseline == "sklr":
            verdict = "(sklr faster)" if value > 1 else "(sklr slower)"
        print(f"    {key} = {value:.2f} {verdict}".rstrip())


def _ms(seconds):
    return f"{seconds * 1e3:.2f} ms"


def load_average():
    try:
        return os.getloadavg()
    except (AttributeError, OSError):  # not available on this platform
        return None


def git_revision():
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=5,
                        help="interleaved repeats per library (default 5)")
    parser.add_argument("--workloads", default="a,b,c",
                        help="comma-separated among a, b (= b64,b32), b64, b32, c, "
                             "opt (= opt-sgd,opt-rmsprop,opt-adam,opt-adamw) and "
                             "each opt-* alone (default a,b,c)")
    parser.add_argument("--libraries", default="sklr,sklearn,torch",
                        help="comma-separated among sklr, sklearn, torch "
                             "(default all; torch is skipped if not importable)")
    parser.add_argument("--json", default=str(REPO_ROOT / "benchmarks" /
                                              "compare_peers.json"),
                        help="output path (default benchmarks/compare_peers.json)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and few epochs: a smoke test, not a "
                             "measurement")
    parser.add_argument("--threads", type=int, default=None,
                        help="cap every library at this many threads "
                             "(default: all available cores)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="skip the untimed warm-up fit per library")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    names = []
    for item in args.workloads.split(","):
        item = item.strip()
        if item in WORKLOAD_GROUPS:
            names.extend(WORKLOAD_GROUPS[item])
        elif item in WORKLOADS:
            names.append(item)
        else:
            parser.error(f"unknown workload {item!r}")
    args.workload_names = list(dict.fromkeys(names))
    args.library_names = [s.strip() for s in args.libraries.split(",") if s.strip()]
    return args


def main(argv=None):
    args = parse_args(argv)
    n_cores = available_cores()
    n_threads = args.threads or n_cores
    runners = make_runners(args.library_names, n_threads)
    names = [r.name for r in runners]
    baseline = "sklr" if "sklr" in names else names[0]
    if baseline != "sklr":
        print(f"note: sklr not run; ratios are against {baseline}.")

    # Imports are done, so threadpoolctl sees every BLAS/OpenMP library.
    limiter = (
        threadpoolctl.threadpool_limits(limits=args.threads) if args.threads else None
    )
    print(
        f"libraries: {', '.join(f'{r.name} {r.version}' for r in runners)}; "
        f"{n_threads} thread(s) of {n_cores} available core(s); "
        f"{args.repeats} interleaved repeat(s){'; QUICK' if args.quick else ''}"
    )

    load = load_average()
    if load is not None and load[0] > 0.5 * n_cores:
        print(
            f"note: 1-minute load average is {load[0]:.2f} on {n_cores} core(s); "
            "multi-threaded timings will be noisy (try --threads 1 to compare "
            "single-threaded speed)."
        )

    report = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "argv": sys.argv[1:] if argv is None else list(argv),
            "quick": args.quick,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "baseline": baseline,
            "cpu_count": os.cpu_count(),
            "available_cores": n_cores,
            "threads": n_threads,
            "load_average_at_start": load,
            "platform": platform.platform(),
            "processor": platform.processor(),
            "python": sys.version,
            "numpy": np.__version__,
            "git_revision": git_revision(),
            "libraries": {
                r.name: {"version": r.version, "location": r.location}
                for r in runners
            },
        },
        "workloads": {},
    }
    try:
        for name in args.workload_names:
            workload = WORKLOADS[name]
            epochs = QUICK_EPOCHS[name] if args.quick else workload.epochs
            workload = replace(workload, epochs=epochs)
            workload_runners = [r for r in runners if r.name in workload.libraries]
            if not workload_runners:
                only = ", ".join(workload.libraries)
                print(f"\n[{name}] skipped: it runs only {only}")
                continue
            shape, raw, arithmetic = run_workload(
                workload, workload_runners, args.repeats, args.quick, args.warmup,
                n_threads,
            )
            summary, ratios = summarise(raw, epochs, baseline)
            rates = arithmetic_rates(raw, epochs, arithmetic)
            left_out = [r.name for r in runners if r not in workload_runners]
            print_table(workload, shape, epochs, summary, ratios, baseline, left_out)
            print_arithmetic(arithmetic, rates, list(raw))
            spec = asdict(workload)
            if workload.pytorch_optimizer:
                spec.update(describe_optimizers(workload, workload_runners))
            report["workloads"][name] = {
                "spec": spec,
                "n_samples": shape[0],
                "n_features": shape[1],
                "results": summary,
                "raw": raw,
                "ratios": ratios,
                "arithmetic": {**arithmetic, "rates": rates},
            }
        report["meta"]["threadpoolctl"] = threadpoolctl.threadpool_info()
    finally:
        if limiter is not None:
            limiter.restore_original_limits()

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwrote {out}")
    print("ratio = library time / baseline time; > 1 means the baseline is faster.")


if __name__ == "__main__":
    main()
