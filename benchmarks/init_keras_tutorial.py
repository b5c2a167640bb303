"""Keras against sklr in the classic learning-rate tutorial: is the gap initialisation?

The setting of the seed tutorial (make_blobs, 3 centres, std 2, 500/500 split,
Dense(50, relu) + softmax, batch 32, 200 epochs, plain SGD) at small learning
rates, where 200 epochs do not reach the plateau and the end point still
depends on the start. For each seed, three runs: Keras 3 with its defaults
(``glorot_uniform`` kernels, zero biases; its own shuffling), sklr with its
default ``init='sklearn'`` (scikit-learn's Glorot-uniform weights *and*
biases) and sklr with ``init='keras'``. Every other setting is the same
(alpha=0, no momentum, every epoch run, shuffling on). Printed: mean and
standard deviation over the seeds of the final test accuracy and training
loss, and Welch's t-test p-value of each sklr variant against Keras.

    KERAS_BACKEND=torch python benchmarks/init_keras_tutorial.py [--seeds 10] [--lr 1e-3 1e-4]

Needs Keras 3 (any backend; torch is what the numbers in the docs used).
"""

import argparse
import os
import time
import warnings

import numpy as np
from scipy import stats
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier

os.environ.setdefault("KERAS_BACKEND", "torch")


def data():
    X, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2, random_state=2)
    return X[:500], y[:500], X[500:], y[500:]


def keras_run(seed, lr, epochs, X, y, X_test, y_test):
    import keras

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(1)  # small matrices: threads only add overhead
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(50, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(X, y, batch_size=32, epochs=epochs, verbose=0).history
    test = model.evaluate(X_test, y_test, verbose=0, return_dict=True)
    return test["accuracy"], hist["loss"][-1]


def sklr_run(seed, lr, epochs, init, X, y, X_test, y_test):
    est = MLPClassifier((50,), solver="sgd", momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                        batch_size=32, max_iter=epochs, n_iter_no_change=np.inf,
                        learning_rate_init=lr, random_state=seed, init=init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X.astype(np.float32), y)
    return est.score(X_test.astype(np.float32), y_test), est.loss_curve_[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3, 1e-4])
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    X, y, X_test, y_test = data()
    print(f"make_blobs tutorial, (50,) relu, SGD, batch 32, {args.epochs} epochs, "
          f"{args.seeds} seeds: final test accuracy and training loss, mean (std)")
    for lr in args.lr:
        tic = time.perf_counter()
        runs = {"Keras defaults": [keras_run(s, lr, args.epochs, X, y, X_test, y_test)
                                   for s in range(args.seeds)]}
        for init in ("sklearn", "keras"):
            runs[f"sklr init={init!r}"] = [
                sklr_run(s, lr, args.epochs, init, X, y, X_test, y_test)
                for s in range(args.seeds)]
        print(f"lr={lr:g} ({time.perf_counter() - tic:.0f} s)")
        reference = np.array(runs["Keras defaults"])
        for name, values in runs.items():
            values = np.array(values)
            line = (f"  {name:22s} accuracy {values[:, 0].mean():.3f} ({values[:, 0].std():.3f})"
                    f"  loss {values[:, 1].mean():.3f} ({values[:, 1].std():.3f})")
            if name != "Keras defaults":
                p_acc = stats.ttest_ind(values[:, 0], reference[:, 0], equal_var=False).pvalue
                p_loss = stats.ttest_ind(values[:, 1], reference[:, 1], equal_var=False).pvalue
                line += f"  vs Keras: p={p_acc:.2g} (accuracy), p={p_loss:.2g} (loss)"
            print(line)


if __name__ == "__main__":
    main()
