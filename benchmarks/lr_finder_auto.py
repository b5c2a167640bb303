"""learning_rate_init='auto' against a grid over learning_rate_init.

For each optimizer: fit one model per grid value and one with 'auto' (the
range test inside fit, then training at its suggestion), all with the same
epochs, and compare held-out accuracy and wall time. The claim checked: 'auto'
reaches within 1% (absolute accuracy) of the best grid value for a fraction of
the grid's cost.

    python benchmarks/lr_finder_auto.py [--epochs 30] [--seeds 0 1 2]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklr import MLPClassifier

OPTIMIZERS = {
    "sgd": dict(solver="sgd", momentum=0.0),
    "sgd-momentum": dict(solver="sgd", momentum=0.9),
    "adam": dict(solver="adam"),
    "rmsprop": dict(solver="rmsprop"),
    "adagrad": dict(solver="adagrad"),
}


def fit_score(params, X_train, y_train, X_test, y_test):
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            clf = MLPClassifier(**params).fit(X_train, y_train)
        except ValueError:  # diverged: the grid value is too large
            return 0.0, time.perf_counter() - tic, None
    return clf.score(X_test, y_test), time.perf_counter() - tic, clf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--grid", type=float, nargs="+",
                        default=list(np.logspace(-4, 0, 9)))
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(f"digits, (64,) relu, batch 32, {args.epochs} epochs, seeds {args.seeds}; "
          f"grid {len(args.grid)} values {args.grid[0]:g}..{args.grid[-1]:g}")
    print(f"{'optimizer':14s} {'best grid acc':>13s} {'(lr)':>8s} {'auto acc':>9s} "
          f"{'auto lr':>9s} {'gap':>7s} {'auto/grid time':>15s}")
    for name in args.optimizers:
        grid_acc, auto_acc, grid_time, auto_time, best_lrs, auto_lrs = [], [], 0.0, 0.0, [], []
        for seed in args.seeds:
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, test_size=0.3, random_state=seed, stratify=y)
            base = dict(OPTIMIZERS[name], hidden_layer_sizes=(64,), batch_size=32,
                        max_iter=args.epochs, random_state=seed, tol=0.0,
                        n_iter_no_change=args.epochs + 1)
            scores = []
            for lr in args.grid:
                acc, seconds, _ = fit_score(dict(base, learning_rate_init=lr),
                                            X_tr, y_tr, X_te, y_te)
                scores.append(acc)
                grid_time += seconds
            best = int(np.argmax(scores))
            grid_acc.append(scores[best])
            best_lrs.append(args.grid[best])
            acc, seconds, clf = fit_score(dict(base, learning_rate_init="auto"),
                                          X_tr, y_tr, X_te, y_te)
            auto_acc.append(acc)
            auto_time += seconds
            auto_lrs.append(clf.learning_rate_init_ if clf is not None else np.nan)
        gap = np.mean(grid_acc) - np.mean(auto_acc)
        print(f"{name:14s} {np.mean(grid_acc):13.4f} {np.exp(np.mean(np.log(best_lrs))):8.2g} "
              f"{np.mean(auto_acc):9.4f} {np.exp(np.nanmean(np.log(auto_lrs))):9.2g} "
              f"{gap:+7.4f} {auto_time / grid_time:15.3f}")


if __name__ == "__main__":
    main()
