"""Per-epoch work of a fit, counted in instructions (callgrind).

Wall time on a shared machine moves by tens of percent from minute to
minute; instruction counts do not. This script fits one workload of
``compare_peers.py`` for a given number of epochs, on one thread:

c          (default) the blobs tutorial: 500x2, (50,) relu, SGD momentum 0.9,
           batch 32, float64
a          digits 1797x64 (pixels / 16), (100,), adam, batch 32, float64
b64-small  the MNIST-size problem on 2000 rows: ``make_classification(
           n_samples=2000, n_features=784, n_informative=100, n_classes=10,
           random_state=0)``, (256, 128), adam, batch 200, float64
b32-small  the same in float32

Run it twice under callgrind and divide the difference by the difference in
epochs: what remains is one epoch's instructions, kernel and Python overhead
together, with import and set-up cancelled out::

    for E in 20 220; do
        PYTHONHASHSEED=0 OMP_NUM_THREADS=1 valgrind --tool=callgrind \\
            --callgrind-out-file=/tmp/cg_$E.out python benchmarks/epoch_instructions.py $E
    done
    # per epoch = (total of /tmp/cg_220.out - total of /tmp/cg_20.out) / 200

    # workload a: 2 and 12 epochs; b64-small / b32-small: 1 and 3 epochs
    PYTHONHASHSEED=0 OMP_NUM_THREADS=1 valgrind --tool=callgrind \\
        --callgrind-out-file=/tmp/cg_a_12.out \\
        python benchmarks/epoch_instructions.py 12 --workload a

A fixed ``PYTHONHASHSEED`` matters: with random string hashing, the import
phase alone varies by millions of instructions from run to run.

Importing scikit-learn and sklr under callgrind costs minutes; ``--dumps``
pays it once: in one process, for each workload of ``--workload`` (a comma
list), one untimed warm-up epoch, then a fit of E1 and one of E2 epochs, each
followed by ``callgrind_control --dump`` on this process. Callgrind then
writes one file per dump (``OUT.1``, ``OUT.2``, ...; the script prints which
is which) holding only the instructions since the previous dump, and the
difference of a workload's two fits is ``E2 - E1`` epochs::

    PYTHONHASHSEED=0 OMP_NUM_THREADS=1 valgrind --tool=callgrind \
        --callgrind-out-file=/tmp/cg.out \
        python benchmarks/epoch_instructions.py --workload a,b64-small --dumps 1,3
    python benchmarks/callgrind_breakdown.py /tmp/cg.out.2 /tmp/cg.out.3 --epochs 2

``callgrind_annotate --inclusive=yes /tmp/cg_220.out`` shows where the
instructions go, per function. Run the same commands with another build (its
own virtual environment, or ``SKLR_KERNEL=baseline`` / ``x86-64-v3`` for the
two copies of the kernel of one build) to compare; each run takes a minute or
a few.
"""

import argparse
import os
import subprocess
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier


def workload(name):
    """``(X, y, estimator parameters)`` of a workload of the module docstring."""
    if name == "c":
        X, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2,
                          random_state=2)
        return X[:500], y[:500], dict(
            hidden_layer_sizes=(50,), solver="sgd", learning_rate_init=0.01,
            momentum=0.9, nesterovs_momentum=False, batch_size=32)
    if name == "a":
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y, dict(hidden_layer_sizes=(100,), solver="adam", batch_size=32)
    if name in ("b64-small", "b32-small"):
        X, y = make_classification(n_samples=2000, n_features=784, n_informative=100,
                                   n_classes=10, random_state=0)
        dtype = np.float64 if name == "b64-small" else np.float32
        return X.astype(dtype), y, dict(hidden_layer_sizes=(256, 128), solver="adam",
                                        batch_size=200)
    raise ValueError(f"unknown workload {name!r}")


def main(epochs, name="c"):
    X, y, params = workload(name)
    clf = MLPClassifier(max_iter=epochs, tol=0, n_iter_no_change=10**9, random_state=0,
                        **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == epochs


def dump(label):
    """Ask callgrind to write the instructions counted so far (and zero them)."""
    subprocess.run(["callgrind_control", f"--dump={label}", str(os.getpid())],
                   check=True, capture_output=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Fit a workload for EPOCHS epochs.")
    parser.add_argument("epochs", type=int, nargs="?", default=20)
    parser.add_argument("--workload", default="c",
                        help="c, a, b64-small or b32-small (a comma list with --dumps)")
    parser.add_argument("--dumps", default=None, metavar="E1,E2",
                        help="under callgrind: per workload a warm-up epoch, then fits "
                             "of E1 and E2 epochs, each followed by a dump")
    args = parser.parse_args()
    names = args.workload.split(",")
    if args.dumps is None:
        if len(names) != 1:
            parser.error("several workloads need --dumps")
        main(args.epochs, names[0])
    else:
        counts = [int(e) for e in args.dumps.split(",")]
        number = 0
        for name in names:
            for epochs in [1, *counts]:
                main(epochs, name)
                number += 1
                label = f"{name}-{'warm-up' if number % 3 == 1 else epochs}"
                dump(label)
                print(f"dump {number}: {label} ({epochs} epoch(s))", flush=True)
