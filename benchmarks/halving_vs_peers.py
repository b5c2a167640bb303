"""EpochHalvingSearchCV against RandomizedSearchCV and HalvingRandomSearchCV.

Three searches tune the same :class:`sklr.MLPClassifier` over the same space
(initial rate, L2 penalty, momentum -- ranges ``--space narrow`` (default)
or ``wide``, see ``SPACES`` -- and a schedule among a constant rate,
a one-cycle and a cosine decay, both counted in ``unit='fraction'`` so they
span whatever ``max_iter`` a fit is given), with the same 3 folds, on:

- ``digits``: scikit-learn's digits, pixels scaled to [0, 1], 25% held out;
- ``classification``: ``make_classification`` (8,000 rows, 40 features, 20
  informative, 5 classes), standardised, 25% held out.

The searches and their budgets, in epochs per CV fold (refits excluded):

- ``random``: ``RandomizedSearchCV``, ``n_random`` candidates of
  ``max_epochs`` epochs each;
- ``sklr-halving``: ``EpochHalvingSearchCV`` with ``factor=3``,
  ``min_epochs=1``, ``n_halving`` candidates (by default as many as fit in a
  third of ``random``'s epochs); survivors resume their fits;
- ``sklr-cooldown``: the same with ``rung_cooldown=1`` (each rung but the
  last is scored after one epoch whose rate decays linearly to 0), with as
  many candidates as fit in a third of ``random``'s epochs, cooldowns
  included;
- ``sk-halving``: scikit-learn's ``HalvingRandomSearchCV(resource='max_iter',
  factor=3, min_resources=1)``, which retrains every rung from scratch, with
  as many candidates as bring its epochs closest to ``sklr-halving``'s.

Epochs are counted exactly (``n_iter_no_change`` is set so that no fit stops
early). For each problem the script prints, over the seeds, the mean (std)
of the best CV accuracy and of the held-out accuracy of the refitted best
candidate, the epochs per fold, the wall time as a ratio to ``random``'s in
the same run (the machine may be shared: absolute seconds mean little), and
how often ``sklr-halving``'s held-out accuracy beat, tied or lost to the
others'.

Run::

    python benchmarks/halving_vs_peers.py                  # 10 seeds, 27 epochs
    python benchmarks/halving_vs_peers.py --quick          # 2 seeds, 9 epochs, digits
    python benchmarks/halving_vs_peers.py --seeds 3 --problems digits --n-jobs 2
    python benchmarks/halving_vs_peers.py --space wide     # rates up to 3
"""

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklr import MLPClassifier, schedules
from sklr.model_selection import EpochHalvingSearchCV
from sklr.model_selection._halving_rungs import halving_bracket

SEARCHES = ("random", "sklr-halving", "sklr-cooldown", "sk-halving")


def load(problem):
    if problem == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        X, y = make_classification(
            n_samples=8000, n_features=40, n_informative=20, n_classes=5,
            n_clusters_per_class=2, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    if problem != "digits":
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test, y_train, y_test


# Upper ends of the initial rate and of the momentum. In the "wide" space,
# rates up to 3 with momentum up to 0.95 (an effective step of up to 60)
# train in CV but some best candidates collapse when refitted on all the
# training rows (more updates per epoch): one held-out score of 0.74 after a
# CV score of 0.965 decides a 10-seed mean. "narrow" is the range users
# search for SGD with momentum.
SPACES = {"narrow": (0.5, 0.9), "wide": (3.0, 0.95)}


def estimator_and_space(max_epochs, space="narrow"):
    estimator = MLPClassifier(
        hidden_layer_sizes=(32,), solver="sgd", batch_size=64, max_iter=max_epochs,
        n_iter_no_change=10**6, random_state=0)
    max_rate, max_momentum = SPACES[space]
    space = {
        "learning_rate_init": loguniform(1e-3, max_rate),
        "alpha": loguniform(1e-6, 1e-1),
        "momentum": uniform(0.0, max_momentum),
        "learning_rate": [schedules.Constant(), schedules.OneCycle(),
                          schedules.CosineAnnealing()],
    }
    return estimator, space


def sk_epochs(n, max_epochs):
    """Epochs per fold of HalvingRandomSearchCV(min_resources=1, factor=3): it
    retrains each rung, so a candidate of rung i costs its n_resources."""
    bracket = halving_bracket(n, 1, max_epochs, 3)
    # scikit-learn's rungs start at min_resources: 1, 3, 9, ...
    return sum(c * 3**i for i, c in enumerate(bracket.n_candidates))


def halving_epochs(n, max_epochs, cooldown=0):
    """Epochs per fold of EpochHalvingSearchCV (factor 3, min_epochs 1), with
    ``cooldown`` epochs at each rung but the last."""
    bracket = halving_bracket(n, 1, max_epochs, 3)
    return bracket.epochs_per_fold() + cooldown * sum(bracket.n_candidates[:-1])


def most_within(budget, cost):
    n = 1
    while cost(n + 1) <= budget:
        n += 1
    return n


def budgets(args):
    """Candidates of each search, and their epochs per fold."""
    third = args.n_random * args.max_epochs / 3
    n_halving = args.n_halving or most_within(third, lambda n: halving_epochs(n, args.max_epochs))
    n_cooldown = most_within(third, lambda n: halving_epochs(n, args.max_epochs, 1))
    ours = halving_epochs(n_halving, args.max_epochs)
    n_sk = min(range(1, 4 * n_halving), key=lambda n: abs(sk_epochs(n, args.max_epochs) - ours))
    return {"random": args.n_random, "sklr-halving": n_halving, "sklr-cooldown": n_cooldown,
            "sk-halving": n_sk}


def run_one(kind, n, seed, args, data):
    X_train, X_test, y_train, y_test = data
    estimator, space = estimator_and_space(args.max_epochs, args.space)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    common = dict(cv=cv, n_jobs=args.n_jobs, random_state=seed, error_score=np.nan)
    if kind == "random":
        search = RandomizedSearchCV(estimator, space, n_iter=n, **common)
    elif kind.startswith("sklr"):
        search = EpochHalvingSearchCV(
            estimator, space, n_candidates=n, factor=3, min_epochs=1,
            rung_cooldown=1 if kind == "sklr-cooldown" else None,
            return_train_score=False, **common)
    else:
        search = HalvingRandomSearchCV(
            estimator, space, n_candidates=n, factor=3, resource="max_iter",
            min_resources=1, max_resources=args.max_epochs, return_train_score=False,
            **common)
    start = time.perf_counter()
    # sklr's fits run BLAS single-threaded; so does the scoring of all three
    # searches here (threaded BLAS on the small products of predict only
    # adds waiting on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    if kind == "random":
        epochs = n * args.max_epochs
    elif kind.startswith("sklr"):
        epochs = search.epochs_trained_ / 3
    else:
        epochs = int(np.sum(search.cv_results_["n_resources"]))
    return {"cv": search.best_score_, "test": search.score(X_test, y_test),
            "epochs": epochs, "seconds": seconds}


def report(problem, results, n_by_kind):
    print(f"\n{problem}")
    print(f"{'search':<15}{'candidates':>11}{'epochs/fold':>13}{'best CV':>16}"
          f"{'held-out':>16}{'time / random':>15}")
    random_time = np.mean([r["seconds"] for r in results["random"]])
    for kind in SEARCHES:
        rows = results[kind]
        cv = np.array([r["cv"] for r in rows])
        test = np.array([r["test"] for r in rows])
        epochs = np.mean([r["epochs"] for r in rows])
        ratio = np.mean([r["seconds"] for r in rows]) / random_time
        print(f"{kind:<15}{n_by_kind[kind]:>11}{epochs:>13.0f}"
              f"{cv.mean():>10.4f} ({cv.std():.3f})"
              f"{test.mean():>10.4f} ({test.std():.3f}){ratio:>15.2f}")
    for name in ("sklr-halving", "sklr-cooldown"):
        ours = np.array([r["test"] for r in results[name]])
        for other in ("random", "sk-halving"):
            theirs = np.array([r["test"] for r in results[other]])
            diff = ours - theirs
            sem = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.nan
            print(f"{name} vs {other}, held-out: {np.sum(ours > theirs)} wins, "
                  f"{np.sum(ours == theirs)} ties, {np.sum(ours < theirs)} losses; "
                  f"paired difference {diff.mean():+.4f} (standard error {sem:.4f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds, max_epochs=9, 18 random candidates, digits only")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--n-random", type=int, default=None,
                        help="RandomizedSearchCV's candidates (default 27; quick 18)")
    parser.add_argument("--n-halving", type=int, default=None,
                        help="EpochHalvingSearchCV's candidates (default: within 1/3 "
                             "of random's epochs)")
    parser.add_argument("--problems", default=None,
                        help="comma-separated: digits, classification (default both; "
                             "quick: digits)")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--space", choices=sorted(SPACES), default="narrow",
                        help="ranges of the initial rate and momentum (see SPACES)")
    args = parser.parse_args()
    args.seeds = args.seeds or (2 if args.quick else 10)
    args.max_epochs = args.max_epochs or (9 if args.quick else 27)
    args.n_random = args.n_random or (18 if args.quick else 27)
    args.problems = args.problems or ("digits" if args.quick else "digits,classification")
    n_by_kind = budgets(args)
    print(f"max_epochs={args.max_epochs}, seeds={args.seeds}, space={args.space}, "
          f"n_jobs={args.n_jobs}, candidates={n_by_kind}")
    # Start joblib's worker processes before any timing: the first search
    # would otherwise pay their start and imports.
    Parallel(n_jobs=args.n_jobs)(delayed(abs)(i) for i in range(4))
    for problem in args.problems.split(","):
        data = load(problem)
        results = {kind: [] for kind in SEARCHES}
        for seed in range(args.seeds):
            for kind in SEARCHES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", FitFailedWarning)
                    warnings.simplefilter("ignore", UserWarning)
                    results[kind].append(run_one(kind, n_by_kind[kind], seed, args, data))
        report(problem, results, n_by_kind)


if __name__ == "__main__":
    main()
