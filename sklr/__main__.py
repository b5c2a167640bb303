"""``python -m sklr``: train sklr and scikit-learn side by side on digits.

Same data, parameters and random_state for both; prints sklr's per-epoch
history, then a side-by-side table of accuracy, time and trajectory agreement.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

from sklr import MLPClassifier


def _fit_timed(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - tic


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sklr", description=__doc__)
    parser.add_argument("--epochs", type=int, default=40, help="maximum number of epochs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--solver", default="adam", choices=["sgd", "adam"])
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    params = dict(
        hidden_layer_sizes=(100,),
        solver=args.solver,
        batch_size=args.batch_size,
        learning_rate_init=0.001 if args.solver == "adam" else 0.05,
        max_iter=args.epochs,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=args.random_state,
    )
    print(
        f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test rows, "
        f"{X.shape[1]} features, {len(np.unique(y))} classes"
    )
    print("parameters (both libraries):", params)

    # Interleave the two fits twice and keep the faster of each, so that a
    # noisy machine penalises neither library.
    ours, theirs = MLPClassifier(**params), SklearnMLPClassifier(**params)
    t_ours = t_theirs = np.inf
    for _ in range(2):
        t_theirs = min(t_theirs, _fit_timed(theirs, X_train, y_train))
        t_ours = min(t_ours, _fit_timed(ours, X_train, y_train))

    h = ours.history_
    print("\nsklr, per epoch:")
    print(f"{'epoch':>5} {'loss':>10} {'learning rate':>14} {'val score':>10} {'time (ms)':>10}")
    for i in range(len(h["loss"])):
        print(
            f"{i + 1:>5} {h['loss'][i]:>10.6f} {h['learning_rate'][i]:>14.6g} "
            f"{h['val_score'][i]:>10.4f} {1e3 * h['time'][i]:>10.2f}"
        )

    rows = [
        ("test accuracy", ours.score(X_test, y_test), theirs.score(X_test, y_test), "{:.4f}"),
        ("epochs run", ours.n_iter_, theirs.n_iter_, "{}"),
        ("fit time (s)", t_ours, t_theirs, "{:.3f}"),
        ("per-epoch time (ms)", 1e3 * t_ours / ours.n_iter_, 1e3 * t_theirs / theirs.n_iter_, "{:.2f}"),
    ]
    print(f"\n{'':<22}{'sklr':>12}{'scikit-learn':>14}")
    for name, a, b, fmt in rows:
        print(f"{name:<22}{fmt.format(a):>12}{fmt.format(b):>14}")
    print(f"{'speed-up':<22}{t_theirs / t_ours:>11.1f}x")
    diff = np.max(np.abs(np.subtract(ours.loss_curve_, theirs.loss_curve_)))
    print(f"largest |loss_curve_ difference| between the two: {diff:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
