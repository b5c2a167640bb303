"""learning_rate_init='auto' against a grid over learning_rate_init.

For each problem, optimizer and seed: fit one model per grid value and one
with 'auto' (the range test inside fit, then training at its suggestion), all
with the same epochs, and compare held-out scores (accuracy on digits, R² on
the regression problems) and wall time. Two references: the grid value with
the best mean score over the seeds (what a grid search would pick: "grid")
and, per seed, the best of the grid (an oracle that also picks the luckiest
fit: "oracle"). The claims checked: on digits 'auto' reaches within 1%
(absolute accuracy) of the grid; on the regression problems within 2% of the
grid's R² on average (the relative gap 1 - mean(auto R²) / mean(grid R²),
averaged over the problems), for a fraction of the grid's cost.

The regression problems: ``load_diabetes`` as shipped (X already scaled, y in
its own units, 25..346), ``make_regression`` (standard normal X, y with a
standard deviation of about 100) and ``make_friedman1`` (uniform X, through a
Pipeline with a StandardScaler). MLPRegressor's defaults otherwise (one
hidden layer of 100, batch size min(200, n)).

    python benchmarks/lr_finder_auto.py [--task classification regression]
        [--epochs 30] [--regression-epochs 100] [--seeds 0 1 2]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, make_friedman1, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier, MLPRegressor
from sklr.exceptions import LRFinderWarning

OPTIMIZERS = {
    "sgd": dict(solver="sgd", momentum=0.0),
    "sgd-momentum": dict(solver="sgd", momentum=0.9),
    "adam": dict(solver="adam"),
    "rmsprop": dict(solver="rmsprop"),
    "adagrad": dict(solver="adagrad"),
}


def digits(seed):
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=seed, stratify=y)


def diabetes(seed):
    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=seed)


def regression(seed):
    X, y = make_regression(n_samples=1000, n_features=20, n_informative=10, noise=10.0,
                           random_state=seed)
    return train_test_split(X, y, test_size=0.3, random_state=seed)


def friedman1(seed):
    X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=seed)
    return train_test_split(X, y, test_size=0.3, random_state=seed)


# name: (data, estimator class, scale X in a Pipeline, fixed parameters)
PROBLEMS = {
    "digits": (digits, MLPClassifier, False, dict(hidden_layer_sizes=(64,), batch_size=32)),
    "diabetes": (diabetes, MLPRegressor, False, {}),
    "make_regression": (regression, MLPRegressor, False, {}),
    "make_friedman1": (friedman1, MLPRegressor, True, {}),
}
TASKS = {"classification": ["digits"],
         "regression": ["diabetes", "make_regression", "make_friedman1"]}


def fit_score(model, X_train, y_train, X_test, y_test):
    """Held-out score, seconds, the fitted network (None if it diverged)."""
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", LRFinderWarning)  # counted by the caller
        try:
            model.fit(X_train, y_train)
        except ValueError:  # diverged: the grid value is too large (score 0)
            return 0.0, time.perf_counter() - tic, None
    net = model[-1] if hasattr(model, "steps") else model
    return model.score(X_test, y_test), time.perf_counter() - tic, net


def run_problem(name, optimizer, seeds, epochs, grid):
    data, cls, scale, fixed = PROBLEMS[name]
    row = dict(grid=[], auto=[], auto_lr=[], grid_time=0.0, auto_time=0.0, caveats=0)
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = data(seed)
        base = dict(OPTIMIZERS[optimizer], **fixed, max_iter=epochs, random_state=seed,
                    tol=0.0, n_iter_no_change=epochs + 1)

        def model(rate):
            net = cls(**base, learning_rate_init=rate)
            return make_pipeline(StandardScaler(), net) if scale else net

        scores = []
        for rate in grid:
            score, seconds, _ = fit_score(model(rate), X_tr, y_tr, X_te, y_te)
            scores.append(score)
            row["grid_time"] += seconds
        row["grid"].append(scores)
        score, seconds, net = fit_score(model("auto"), X_tr, y_tr, X_te, y_te)
        row["auto"].append(score)
        row["auto_time"] += seconds
        row["auto_lr"].append(net.learning_rate_init_ if net is not None else np.nan)
        row["caveats"] += net is not None and net.lr_finder_.caveat is not None
    return row


def report(name, rows, score_name, grid):
    print(f"\n{name}: held-out {score_name}")
    print(f"{'optimizer':14s} {'grid':>7s} {'(lr)':>8s} {'oracle':>7s} {'auto':>7s} "
          f"{'auto lr':>9s} {'gap':>7s} {'rel. gap':>8s} {'vs oracle':>9s} {'unclear':>7s} "
          f"{'auto/grid time':>15s}")
    totals = np.zeros(3)  # grid, oracle, auto: sums of the per-optimizer means
    for optimizer, row in rows.items():
        scores = np.array(row["grid"])  # (seeds, grid values)
        best = int(np.argmax(scores.mean(axis=0)))
        means = np.array([scores[:, best].mean(), scores.max(axis=1).mean(),
                          np.mean(row["auto"])])
        totals += means
        ref, oracle, auto = means
        print(f"{optimizer:14s} {ref:7.4f} {grid[best]:8.2g} {oracle:7.4f} {auto:7.4f} "
              f"{np.exp(np.nanmean(np.log(row['auto_lr']))):9.2g} {ref - auto:+7.4f} "
              f"{100 * (1 - auto / ref):+7.2f}% {100 * (1 - auto / oracle):+8.2f}% "
              f"{row['caveats']:7d} {row['auto_time'] / row['grid_time']:15.3f}")
    ref, oracle, auto = totals / len(rows)
    print(f"{'all':14s} {ref:7.4f} {'':8s} {oracle:7.4f} {auto:7.4f} {'':9s} {ref - auto:+7.4f} "
          f"{100 * (1 - auto / ref):+7.2f}% {100 * (1 - auto / oracle):+8.2f}%")
    return ref - auto, 1 - auto / ref, 1 - auto / oracle


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--epochs", type=int, default=30, help="digits")
    parser.add_argument("--regression-epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--grid", type=float, nargs="+",
                        default=list(np.logspace(-4, 0, 9)))
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    args = parser.parse_args()
    print(f"seeds {args.seeds}; grid {len(args.grid)} values {args.grid[0]:g}..{args.grid[-1]:g}; "
          f"digits: (64,) relu, batch 32, {args.epochs} epochs; regression: MLPRegressor "
          f"defaults, {args.regression_epochs} epochs")
    print("grid: mean score of the grid value best on average over the seeds (lr); oracle: "
          "mean over seeds of each seed's best grid score; auto: mean score with 'auto';\n"
          "gap: grid - auto; rel. gap: 1 - auto / grid; vs oracle: 1 - auto / oracle; "
          "unclear: fits whose range test warned (LRFinderWarning)")
    for task in args.task:
        gaps = {}
        for name in TASKS[task]:
            epochs = args.epochs if task == "classification" else args.regression_epochs
            rows = {opt: run_problem(name, opt, args.seeds, epochs, args.grid)
                    for opt in args.optimizers}
            gaps[name] = report(name, rows, "accuracy" if task == "classification" else "R²",
                                args.grid)
        if task == "regression":
            absolute, relative, oracle = np.mean(list(gaps.values()), axis=0)
            print(f"\nregression, averaged over the problems: gap {absolute:+.4f} R², "
                  f"relative gap {100 * relative:+.2f}% (claim: within 2%); against the "
                  f"oracle {100 * oracle:+.2f}%")


if __name__ == "__main__":
    main()
