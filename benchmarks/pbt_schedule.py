"""What PBT discovered, as a schedule: replay vs the PBT winner vs the best constant rate.

On digits (pixels scaled to [0, 1]; 30% held out for testing), for each seed:

1. :class:`sklr.model_selection.PopulationSearchCV` trains a population of
   small SGD networks on 75% of the training rows, scored on the other 25%
   (one holdout split), exploring the learning rate (and the momentum with
   ``--momentum``), for ``n_intervals * interval_epochs`` epochs.
2. A grid of constant learning rates, as many as the population, is fitted on
   the same rows for the same epochs and scored on the same holdout: the
   best constant rate (the same training budget as the population).
3. On the same 75%, for ``--refit-seeds`` other initial seeds (none equal to
   the winner's): ``best_params_`` (the winner's schedule) replayed from
   scratch, and the best constant rate.

Reported, over the seeds: the test accuracy of the PBT winner (the network
the search trained), of the schedule replayed on the winner's own seed (equal
to the winner by construction: a check), of the schedule replayed on other
seeds, and of the best constant rate on the same other seeds; and the
holdout accuracy the selections were made on.

Run::

    python benchmarks/pbt_schedule.py --quick        # 2 seeds, 4 x 3 epochs
    python benchmarks/pbt_schedule.py                # 5 seeds, 6 x 5 epochs
    python benchmarks/pbt_schedule.py --momentum --seeds 10
    python benchmarks/pbt_schedule.py --cv 3     # select on 3 folds, refit on all rows

With ``--cv K`` the population is shared by K stratified folds of the
training rows (one network per member and fold), the constant rates are
ranked by their mean score over the same folds, and the replays and constant
refits train on all training rows; the "PBT winner" row is then the
winner's network of the first fold (trained on (K-1)/K of the rows) and the
own-seed replay no longer equals it.
"""

import argparse
import time
import warnings

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import PredefinedSplit, StratifiedKFold, train_test_split

from sklr import MLPClassifier
from sklr.model_selection import PopulationSearchCV

LOW, HIGH = 1e-3, 1.0


def fit(estimator, params, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(estimator).set_params(**params).fit(X, y)


def one_seed(seed, args):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed)
    if args.cv > 1:
        # K folds of the training rows select; the final models train on all of them.
        cv = StratifiedKFold(args.cv, shuffle=True, random_state=seed)
        X_fit, y_fit = X_train, y_train
    else:
        # One holdout split of the training rows: 75% fit, 25% select.
        fold = np.zeros(len(y_train), dtype=int)
        rng = np.random.RandomState(seed)
        fold[rng.permutation(len(y_train))[: len(y_train) * 3 // 4]] = -1
        cv = PredefinedSplit(fold)
        X_fit, y_fit = X_train[fold == -1], y_train[fold == -1]
    splits = list(cv.split(X_train, y_train))
    epochs = args.n_intervals * args.interval_epochs
    estimator = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", batch_size=64,
                              momentum=0.9)
    space = {"learning_rate_init": loguniform(LOW, HIGH)}
    if args.momentum:
        space["momentum"] = uniform(0.5, 0.49)

    tic = time.perf_counter()
    search = PopulationSearchCV(
        estimator, space, population_size=args.population, interval_epochs=args.interval_epochs,
        n_intervals=args.n_intervals, cv=splits, refit=False, random_state=seed,
    ).fit(X_train, y_train)
    pbt_time = time.perf_counter() - tic
    winner = search.members_[search.best_index_][0]  # the first fold's network

    # The constant grid: as many runs (per fold) of as many epochs as the population.
    tic = time.perf_counter()
    rates = np.geomspace(LOW, HIGH, args.population)
    fixed = {"max_iter": epochs, "n_iter_no_change": np.inf, "random_state": seed}
    grid_val = [
        np.mean([fit(estimator, {**fixed, "learning_rate_init": r}, X_train[tr], y_train[tr])
                 .score(X_train[te], y_train[te]) for tr, te in splits])
        for r in rates
    ]
    best_rate = rates[int(np.argmax(grid_val))]
    grid_time = time.perf_counter() - tic

    own = fit(estimator, search.best_params_, X_fit, y_fit)
    seeds = [s for s in range(1000 + seed * 100, 1000 + seed * 100 + args.refit_seeds + 1)
             if s != search.best_params_["random_state"]][: args.refit_seeds]
    replay = [fit(estimator, {**search.best_params_, "random_state": s}, X_fit, y_fit)
              .score(X_test, y_test) for s in seeds]
    constant = [fit(estimator, {**fixed, "learning_rate_init": best_rate, "random_state": s},
                    X_fit, y_fit).score(X_test, y_test) for s in seeds]
    rates_run = winner.history_["learning_rate"]
    return {
        "pbt_winner": winner.score(X_test, y_test),
        "replay_own_seed": own.score(X_test, y_test),
        "replay_other_seeds": float(np.mean(replay)),
        "best_constant_other_seeds": float(np.mean(constant)),
        "pbt_val": search.best_score_,
        "constant_val": float(np.max(grid_val)),
        "best_rate": best_rate,
        "schedule": (f"{rates_run[0]:.3g} -> {rates_run[-1]:.3g} "
                     f"({len(search.best_schedule_.boundaries)} changes)"),
        "pbt_time": pbt_time,
        "grid_time": grid_time,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 4 intervals of 3 epochs")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--n-intervals", type=int, default=None)
    parser.add_argument("--interval-epochs", type=int, default=None)
    parser.add_argument("--refit-seeds", type=int, default=3)
    parser.add_argument("--momentum", action="store_true", help="explore the momentum too")
    parser.add_argument("--cv", type=int, default=0,
                        help="select on K stratified folds of the training rows (final "
                             "models then train on all of them) instead of one 75/25 holdout")
    args = parser.parse_args(argv)
    quick = args.quick
    args.seeds = args.seeds or (2 if quick else 5)
    args.n_intervals = args.n_intervals or (4 if quick else 6)
    args.interval_epochs = args.interval_epochs or (3 if quick else 5)
    if quick:
        args.refit_seeds = min(args.refit_seeds, 2)

    rows = []
    for seed in range(args.seeds):
        row = one_seed(seed, args)
        rows.append(row)
        print(f"seed {seed}: winner {row['pbt_winner']:.4f}, replay (own seed) "
              f"{row['replay_own_seed']:.4f}, replay (other seeds) "
              f"{row['replay_other_seeds']:.4f}, best constant "
              f"{row['best_constant_other_seeds']:.4f} (rate {row['best_rate']:.3g}); "
              f"schedule {row['schedule']}")

    epochs = args.n_intervals * args.interval_epochs
    print(f"\ndigits, population {args.population}, {args.n_intervals} intervals x "
          f"{args.interval_epochs} epochs = {epochs} epochs per network; constant grid of "
          f"{args.population} rates; {args.seeds} seeds, {args.refit_seeds} other init "
          "seeds per refit\n")
    print("| model | test accuracy (mean +- std over seeds) |")
    print("|---|---|")
    for key, label in [
        ("pbt_winner", "PBT winner (the network the search trained)"),
        ("replay_own_seed", "best_params_ replayed from scratch, winner's seed"),
        ("replay_other_seeds", "best_schedule_ replayed from scratch, other seeds"),
        ("best_constant_other_seeds", "best constant rate of the grid, other seeds"),
    ]:
        values = np.array([row[key] for row in rows])
        print(f"| {label} | {values.mean():.4f} +- {values.std():.4f} |")
    n = len(rows)
    for key, label in [("replay_other_seeds", "best_schedule_ (other seeds)"),
                       ("pbt_winner", "PBT winner")]:
        diff = np.array([row[key] - row["best_constant_other_seeds"] for row in rows])
        se = diff.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        wins = int(np.sum(diff > 0)), int(np.sum(diff == 0)), int(np.sum(diff < 0))
        print(f"{label} minus best constant, paired by seed: {diff.mean():+.4f} "
              f"(standard error {se:.4f}); better/equal/worse on {wins[0]}/{wins[1]}/"
              f"{wins[2]} of {n} seeds")
    pbt_val = np.array([row["pbt_val"] for row in rows])
    constant_val = np.array([row["constant_val"] for row in rows])
    print(f"\nselection accuracy (holdout, or mean over the folds): PBT winner "
          f"{pbt_val.mean():.4f}, best "
          f"constant {constant_val.mean():.4f}")
    print(f"wall time per seed (noise on a shared machine): PBT "
          f"{np.mean([r['pbt_time'] for r in rows]):.1f} s, constant grid "
          f"{np.mean([r['grid_time'] for r in rows]):.1f} s")


if __name__ == "__main__":
    main()
