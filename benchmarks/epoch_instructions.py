"""Per-epoch work of a small fit, counted in instructions (callgrind).

Wall time on a shared machine moves by tens of percent from minute to
minute; instruction counts do not. This script fits workload (c) of
``compare_peers.py`` (the blobs tutorial: 500x2, (50,) relu, SGD momentum
0.9, batch 32, float64, one thread) for a given number of epochs. Run it
twice under callgrind and divide the difference by the difference in epochs:
what remains is one epoch's instructions, kernel and Python overhead
together, with import and set-up cancelled out::

    for E in 20 220; do
        PYTHONHASHSEED=0 OMP_NUM_THREADS=1 valgrind --tool=callgrind \\
            --callgrind-out-file=/tmp/cg_$E.out python benchmarks/epoch_instructions.py $E
    done
    # per epoch = (total of /tmp/cg_220.out - total of /tmp/cg_20.out) / 200

A fixed ``PYTHONHASHSEED`` matters: with random string hashing, the import
phase alone varies by millions of instructions from run to run.

``callgrind_annotate /tmp/cg_120.out`` shows where the instructions go. Run
the same commands with another build (its own virtual environment) to
compare two commits; each run takes a minute or two.
"""

import sys
import warnings

from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier


def main(epochs):
    X, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2,
                      random_state=2)
    X, y = X[:500], y[:500]
    clf = MLPClassifier(hidden_layer_sizes=(50,), solver="sgd", learning_rate_init=0.01,
                        momentum=0.9, nesterovs_momentum=False, batch_size=32,
                        max_iter=epochs, tol=0, n_iter_no_change=10**9, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == epochs


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
