"""The thread budget of a process-parallel search, measured.

Runs the same ``GridSearchCV`` with joblib's ``multiprocessing`` backend
(whose workers, unlike loky's, get no thread limit from joblib) in two
configurations, interleaved ``--repeats`` times:

``budget``   sklr's default: each fit in a worker runs one OpenMP thread;
``all``      the budget switched off (the kernel gets every thread OpenMP
             allows, as before the budget; the backend forks its workers,
             which inherit the switch): ``n_jobs`` workers run
             ``n_jobs x cores`` threads.

For each it prints the kernel thread counts the fits reported (read inside
the workers by the scorer) and the wall time; the ratio all / budget is
the cost of oversubscription. Quote the machine and its load with it: on a
busy machine wall times are noise.

    python benchmarks/thread_budget.py --n-jobs 2 --repeats 3
"""

import argparse
import os
import statistics
import time

import joblib
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV


def _scorer(estimator, X, y):
    """Accuracy, with the kernel thread count of this worker's fits in the tens of thousands."""
    import sklr._trainer

    return estimator.score(X, y) + 1e4 * sklr._trainer.fit_n_threads()


def run(n_jobs, budget):
    import sklr._threads
    import sklr._trainer
    from sklr import MLPClassifier
    from sklr._openmp_helpers import _openmp_effective_n_threads

    X, y = make_classification(n_samples=4000, n_features=100, n_informative=20,
                               random_state=0)
    grid = {"learning_rate_init": [1e-3, 3e-3, 1e-2, 3e-2]}
    est = MLPClassifier(hidden_layer_sizes=(256,), batch_size=256, max_iter=5,
                        random_state=0)
    # refit=False: no fit in this process. After a fit that ran OpenMP
    # threads here, a forked worker that runs several threads deadlocks in
    # GCC's OpenMP runtime (not fork-safe), which the budget also prevents.
    search = GridSearchCV(est, grid, cv=2, scoring=_scorer, n_jobs=n_jobs, refit=False)
    sklr._trainer.fit_n_threads = (
        sklr._threads.fit_n_threads if budget else _openmp_effective_n_threads)
    try:
        start = time.perf_counter()
        with joblib.parallel_backend("multiprocessing", n_jobs=n_jobs):
            search.fit(X, y)
        wall = time.perf_counter() - start
    finally:
        sklr._trainer.fit_n_threads = sklr._threads.fit_n_threads
    used = sorted({int(s // 1e4) for s in search.cv_results_["mean_test_score"]})
    return wall, used


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, n_jobs={args.n_jobs}")
    times = {"budget": [], "all": []}
    for _ in range(args.repeats):
        for name, budget in (("budget", True), ("all", False)):
            wall, used = run(args.n_jobs, budget)
            times[name].append(wall)
            print(f"  {name:7s} kernel threads per fit {used}  wall {wall:6.2f} s", flush=True)
    budget, every = (statistics.median(times[k]) for k in ("budget", "all"))
    print(f"median wall: budget {budget:.2f} s, all cores per fit {every:.2f} s, "
          f"ratio all/budget {every / budget:.2f}")


if __name__ == "__main__":
    main()
