"""AnnealingSearchCV against RandomizedSearchCV at equal budgets.

Both searches tune a small :class:`sklr.MLPClassifier` on digits (pixels
scaled to [0, 1]) over the initial learning rate, the L2 penalty, the
momentum and the learning-rate schedule, with the same distributions, the
same number of candidates, the same 3 folds and the same seeds. For each
budget the script reports, over the seeds, the mean (and standard deviation)
of the best cross-validated accuracy and of the held-out test accuracy of the
refitted best candidate, and how often annealing's best CV score beat,
tied or lost to random search's.

Run::

    python benchmarks/annealing_vs_random.py              # 10/20/40, 5 seeds
    python benchmarks/annealing_vs_random.py --quick      # 10/20, 2 seeds
    python benchmarks/annealing_vs_random.py --budgets 20 60 --seeds 10 --n-jobs 2
    python benchmarks/annealing_vs_random.py --no-adapt-step --n-initial 0.25
                            # steps tied to the temperature, a quarter of starts
"""

import argparse
import time
import warnings

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.model_selection import (
    RandomizedSearchCV,
    StratifiedKFold,
    train_test_split,
)

from sklr import MLPClassifier, schedules
from sklr.model_selection import AnnealingSearchCV


def make_problem(max_iter):
    """Data, estimator and search space shared by both searches."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    estimator = MLPClassifier(
        hidden_layer_sizes=(32,),
        solver="sgd",
        batch_size=64,
        max_iter=max_iter,
        random_state=0,
    )
    space = {
        "learning_rate_init": loguniform(1e-4, 1.0),
        "alpha": loguniform(1e-6, 1e-1),
        "momentum": uniform(0.0, 0.99),
        "learning_rate": [
            schedules.Constant(),
            schedules.StepDecay(step_size=5, gamma=0.5),
            schedules.CosineAnnealing(period=max_iter, unit="epoch"),
            schedules.InverseTimeDecay(decay=0.01, unit="step"),
        ],
    }
    return X_train, X_test, y_train, y_test, estimator, space


def run_one(kind, budget, seed, args, problem):
    X_train, X_test, y_train, y_test, estimator, space = problem
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    common = dict(n_iter=budget, cv=cv, n_jobs=args.n_jobs, random_state=seed)
    if kind == "annealing":
        options = {
            "initial_temperature": args.temperature,
            "cooling": args.cooling,
            "step_scale": args.step_scale,
            "adapt_step": args.adapt_step,
            "n_initial_points": args.n_initial,
            "batch_size": args.batch_size,
        }
        options = {k: v for k, v in options.items() if v is not None}
        search = AnnealingSearchCV(estimator, space, **options, **common)
    else:
        search = RandomizedSearchCV(estimator, space, **common)
    search.fit(X_train, y_train)
    return search.best_score_, search.score(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--max-iter", type=int, default=15, help="MLP epochs")
    # Annealing options; None keeps AnnealingSearchCV's default.
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--cooling", default=None, help="name or float factor")
    parser.add_argument("--step-scale", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--no-adapt-step", dest="adapt_step", action="store_const", const=False,
        default=None, help="adapt_step=False: steps follow the temperature alone",
    )
    parser.add_argument(
        "--n-initial", default=None,
        help="n_initial_points: 'auto', a fraction if < 1, else a count",
    )
    parser.add_argument(
        "--quick", action="store_true", help="budgets 10 20 and 2 seeds"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.budgets, args.seeds = [10, 20], 2
    try:
        args.cooling = float(args.cooling)
    except (TypeError, ValueError):
        pass
    if args.n_initial not in (None, "auto"):
        args.n_initial = float(args.n_initial)
        if args.n_initial >= 1:
            args.n_initial = int(args.n_initial)

    # Short fits stop early; fits with a diverging rate fail (NaN score).
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=FitFailedWarning)
    warnings.filterwarnings("ignore", message="One or more of the test scores")
    problem = make_problem(args.max_iter)
    kinds = ("annealing", "random")
    t_start = time.perf_counter()
    rows = []
    for budget in args.budgets:
        cv_scores = {k: [] for k in kinds}
        test_scores = {k: [] for k in kinds}
        times = {k: 0.0 for k in kinds}
        for seed in range(args.seeds):
            for kind in kinds:
                t0 = time.perf_counter()
                cv_score, test_score = run_one(kind, budget, seed, args, problem)
                times[kind] += time.perf_counter() - t0
                cv_scores[kind].append(cv_score)
                test_scores[kind].append(test_score)
        a, r = np.array(cv_scores["annealing"]), np.array(cv_scores["random"])
        record = (int(np.sum(a > r)), int(np.sum(a == r)), int(np.sum(a < r)))
        for kind in kinds:
            rows.append(
                (
                    budget,
                    kind,
                    np.mean(cv_scores[kind]),
                    np.std(cv_scores[kind]),
                    np.mean(test_scores[kind]),
                    np.std(test_scores[kind]),
                    times[kind],
                    record if kind == "annealing" else None,
                )
            )
    total = time.perf_counter() - t_start

    defaults = AnnealingSearchCV(None, {}).get_params()
    setting = {
        "initial_temperature": args.temperature,
        "cooling": args.cooling,
        "step_scale": args.step_scale,
        "adapt_step": args.adapt_step,
        "n_initial_points": args.n_initial,
        "batch_size": args.batch_size,
    }
    setting = {k: defaults[k] if v is None else v for k, v in setting.items()}
    print(
        f"digits, MLPClassifier(32, sgd, max_iter={args.max_iter}), cv=3, "
        f"{args.seeds} seeds, n_jobs={args.n_jobs}; annealing: "
        + ", ".join(f"{k}={v!r}" for k, v in setting.items())
    )
    header = (
        f"{'budget':>6}  {'search':<10} {'best CV acc':>17}  "
        f"{'test acc of best':>17}  {'time [s]':>8}  {'AS vs RS (W/T/L)':>16}"
    )
    print(header)
    print("-" * len(header))
    for budget, kind, m, s, tm, ts, t, record in rows:
        wtl = "" if record is None else "{}/{}/{}".format(*record)
        print(
            f"{budget:>6}  {kind:<10} {m:>9.4f} ± {s:.4f}  {tm:>9.4f} ± {ts:.4f}  "
            f"{t:>8.1f}  {wtl:>16}"
        )
    print(f"total time: {total:.1f} s")


if __name__ == "__main__":
    main()
