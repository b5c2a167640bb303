#!/usr/bin/env python
"""sklr fits on a machine that is not idle: contention benchmarks.

A multi-threaded fit is only as fast as its slowest thread at each
synchronisation point. When another process holds a core, one of the fit's
threads is descheduled, and the others wait for it at the next barrier;
OpenMP runtimes wait by spinning first (libgomp: ``GOMP_SPINCOUNT``
iterations, 300000 by default, several milliseconds), so the waiting thread
burns the CPU time that the descheduled one needs. This script measures that
cost on the issue's workload, ``make_classification(n_samples=40000,
n_features=100, random_state=0)`` in float32, ``MLPClassifier(
hidden_layer_sizes=(128,), batch_size=256, max_iter=3)`` (adam, ``tol=0``,
``n_iter_no_change=10**9``, ``random_state=0``), with ``--threads`` OpenMP
threads (default 2):

alone       one fit, nothing else running (from this script)
sequential  two fits one after the other (two processes, the second starts
            when the first is done); makespan = the sum of the two
concurrent  the same two fits started at the same moment; makespan = from
            the first start to the last end
busy        one fit beside ``--busy`` busy-loop processes (default 2)

and reports, per wait policy, ``concurrent / sequential`` (makespans; the
goal is <= 1: running two fits at once should cost no more than running
them one after the other) and ``busy / alone`` (fit times; on ``C`` cores a
fit of ``T`` threads beside ``B`` busy loops gets ``C / (T + B)`` of a core
per thread when ``T + B > C``, so its fair slowdown is ``(T + B) / C``: 2 for
the defaults on 2 cores). Each fit also reports its CPU time (all threads,
``time.process_time``), which spinning inflates, and its voluntary context
switches (``sleeps``: ``getrusage``'s ``ru_nvcsw``, all threads), each one a
thread that stopped waiting by spinning and slept; waking it costs latency,
which is what a too short spin loses on an idle machine.

The fits run in persistent worker processes (``multiprocessing`` with the
``spawn`` start method): each worker sets its wait policy's environment
variables *before* importing sklr -- the OpenMP runtime reads them once, when
it is loaded -- builds the data, runs one untimed warm-up fit, then fits on
command, so process start and imports stay out of the timings. Policies
(``--policies``, comma-separated):

default     none set: what sklr does by itself (``GOMP_SPINCOUNT=30000``
            while its kernel loads, see ``sklr/_dispatch.py``, and the
            threads of each epoch chosen from the machine's load,
            ``sklr._threads.LoadWatch``)
fixed       ``SKLR_ADAPTIVE_THREADS=0``: the default spin count, all the
            threads at every epoch (sklr before it watched the load)
spin300k    ``GOMP_SPINCOUNT=300000``: libgomp's own default, i.e. sklr
            before it chose a spin count (about 10 ms of spinning at
            ~31 ns per iteration)
spin30k     ``GOMP_SPINCOUNT=30000``
spin10k     ``GOMP_SPINCOUNT=10000``
spin1k      ``GOMP_SPINCOUNT=1000``
passive     ``OMP_WAIT_POLICY=passive`` (sleep at once in the kernel)
one-thread  ``OMP_NUM_THREADS=1`` (no synchronisation at all)

Repeats are interleaved: in each repeat every policy runs every case once,
in an order rotated from repeat to repeat, and medians and ranges over the
repeats are reported. On a machine that other work shares, the numbers move
with that work; run it on an idle machine for the reference measurement::

    python benchmarks/contention.py                                  # all
    python benchmarks/contention.py --policies default,spin300k --repeats 7
    python benchmarks/contention.py --quick                          # smoke test
    python benchmarks/contention.py --rows 160000 --epochs 1 --busy 3
    python benchmarks/contention.py --workload b64 --rows 20000 --epochs 1

``--workload b64`` (or ``b32``) runs the MNIST-size network of
``compare_peers.py`` instead (784 features, 10 classes, (256, 128), batch
200), whose products are split by columns over the threads: seven parallel
regions per minibatch instead of one.
"""

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

POLICIES = {
    "default": {},
    "fixed": {"SKLR_ADAPTIVE_THREADS": "0"},
    "spin300k": {"GOMP_SPINCOUNT": "300000"},
    "spin30k": {"GOMP_SPINCOUNT": "30000"},
    "spin10k": {"GOMP_SPINCOUNT": "10000"},
    "spin1k": {"GOMP_SPINCOUNT": "1000"},
    "passive": {"OMP_WAIT_POLICY": "passive"},
    "one-thread": {"OMP_NUM_THREADS": "1"},
}
# Variables of other policies that a policy must not inherit from the shell.
_POLICY_VARIABLES = {name for env in POLICIES.values() for name in env}

# Workloads: features, informative features, classes, hidden layers, batch
# size, dtype (``--workload``; the rows and epochs come from the options).
WORKLOADS = {
    "issue": dict(n_features=100, n_informative=2, n_classes=2, hidden=(128,),
                  batch_size=256, dtype="float32"),
    "b64": dict(n_features=784, n_informative=100, n_classes=10, hidden=(256, 128),
                batch_size=200, dtype="float64"),
    "b32": dict(n_features=784, n_informative=100, n_classes=10, hidden=(256, 128),
                batch_size=200, dtype="float32"),
}

# The child of a busy loop: pure Python, holds one core until killed.
BUSY_LOOP = "while True:\n    pass\n"


# --------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------


def _worker(conn, env, workload, rows, epochs, threads):
    """Fit on command; runs in a spawned process (sets ``env`` before sklr)."""
    for name in _POLICY_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(env)
    if "OMP_NUM_THREADS" not in env:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    import warnings

    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    import sklr

    spec = WORKLOADS[workload]
    X, y = make_classification(n_samples=rows, n_features=spec["n_features"],
                               n_informative=spec["n_informative"],
                               n_classes=spec["n_classes"], random_state=0)
    X = X.astype(spec["dtype"])

    def fit(n_rows, n_epochs):
        clf = sklr.MLPClassifier(
            hidden_layer_sizes=spec["hidden"], batch_size=spec["batch_size"],
            max_iter=n_epochs, tol=0.0,
            n_iter_no_change=10**9, random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sleeps = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
            cpu, start = time.process_time(), time.perf_counter()
            clf.fit(X[:n_rows], y[:n_rows])
            end = time.perf_counter()
            cpu = time.process_time() - cpu
            sleeps = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - sleeps
        return {"start": start, "end": end, "wall": end - start, "cpu": cpu,
                "sleeps": sleeps, "n_iter": clf.n_iter_}

    fit(min(rows, 4096), 1)  # warm-up: thread pool, allocator, lazy imports
    conn.send({"ready": True, "sklr": sklr.__file__, "env": env})
    while True:
        command = conn.recv()
        if command == "stop":
            break
        conn.send(fit(rows, epochs))


class Worker:
    """A worker process with one wait policy."""

    def __init__(self, context, policy, workload, rows, epochs, threads):
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker,
            args=(child, POLICIES[policy], workload, rows, epochs, threads),
            daemon=True,
        )
        self.process.start()
        self.info = self.conn.recv()

    def start_fit(self):
        self.conn.send("fit")

    def result(self):
        return self.conn.recv()

    def fit(self):
        self.start_fit()
        return self.result()

    def close(self):
        self.conn.send("stop")
        self.process.join(timeout=30)


def start_busy_loops(n):
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(n)]


def stop_busy_loops(processes):
    for process in processes:
        process.kill()
        process.wait()


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


def run_cases(workers, busy, settle, alone_only=False):
    """One repeat of every case (or of ``alone`` only) with a policy's two workers."""
    first, second = workers
    alone = first.fit()
    if alone_only:
        return {"alone": alone}
    a, b = first.fit(), second.fit()  # sequential: one after the other
    sequential = {"makespan": a["wall"] + b["wall"], "fits": [a, b]}
    first.start_fit()
    second.start_fit()
    a, b = first.result(), second.result()
    concurrent = {
        "makespan": max(a["end"], b["end"]) - min(a["start"], b["start"]),
        "start_skew": abs(a["start"] - b["start"]),
        "fits": [a, b],
    }
    loops = start_busy_loops(busy)
    try:
        time.sleep(settle)  # let the busy loops get going
        beside_busy = first.fit()
    finally:
        stop_busy_loops(loops)
    return {"alone": alone, "sequential": sequential, "concurrent": concurrent,
            "busy": beside_busy}


def _stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}


def summarise(results):
    """Medians and ranges of the times and ratios of each policy."""
    summary = {}
    reference = next(iter(results))
    for policy, repeats in results.items():
        alone = [r["alone"]["wall"] for r in repeats]
        # Alone time over the first policy's in the same repeat.
        ratio = [a / r["alone"]["wall"] for a, r in zip(alone, results[reference])]
        summary[policy] = {
            "alone_wall": _stats(alone),
            "alone_cpu": _stats([r["alone"]["cpu"] for r in repeats]),
            "alone_sleeps": _stats([r["alone"]["sleeps"] for r in repeats]),
            "alone_over_reference": {**_stats(ratio), "reference": reference},
        }
        if "busy" not in repeats[0]:  # --alone-only
            continue
        busy = [r["busy"]["wall"] for r in repeats]
        seq = [r["sequential"]["makespan"] for r in repeats]
        conc = [r["concurrent"]["makespan"] for r in repeats]
        summary[policy].update({
            "sequential_makespan": _stats(seq),
            "concurrent_makespan": _stats(conc),
            "concurrent_cpu": _stats(
                [sum(f["cpu"] for f in r["concurrent"]["fits"]) for r in repeats]),
            "busy_wall": _stats(busy),
            "busy_cpu": _stats([r["busy"]["cpu"] for r in repeats]),
            "busy_sleeps": _stats([r["busy"]["sleeps"] for r in repeats]),
            # Ratios within each repeat, then their median and range.
            "concurrent_over_sequential": _stats([c / s for c, s in zip(conc, seq)]),
            "busy_over_alone": _stats([b / a for b, a in zip(busy, alone)]),
        })
    return summary


def _fmt(stats, scale=1.0, digits=2):
    return (f"{stats['median'] * scale:.{digits}f} "
            f"({stats['min'] * scale:.{digits}f}..{stats['max'] * scale:.{digits}f})")


def print_summary(summary, threads, busy, n_cores):
    fair = max(1.0, (threads + busy) / n_cores)
    print(f"\nmedian (min..max) over repeats; times in seconds; fair busy/alone "
          f"slowdown = {fair:.2f}")
    for policy, s in summary.items():
        print(f"\n[{policy}] {POLICIES[policy] or 'environment unchanged'}")
        print(f"    alone       wall {_fmt(s['alone_wall'])}   cpu {_fmt(s['alone_cpu'])}"
              f"   sleeps {_fmt(s['alone_sleeps'], digits=0)}")
        reference = s["alone_over_reference"]
        if reference["reference"] != policy:
            print(f"    alone / alone of {reference['reference']} = {_fmt(reference)}")
        if "busy_wall" not in s:
            continue
        print(f"    sequential  makespan {_fmt(s['sequential_makespan'])}")
        print(f"    concurrent  makespan {_fmt(s['concurrent_makespan'])}   cpu of both "
              f"{_fmt(s['concurrent_cpu'])}")
        print(f"    busy        wall {_fmt(s['busy_wall'])}   cpu {_fmt(s['busy_cpu'])}"
              f"   sleeps {_fmt(s['busy_sleeps'], digits=0)}")
        print(f"    concurrent / sequential = {_fmt(s['concurrent_over_sequential'])}"
              f"   (goal <= 1)")
        print(f"    busy / alone            = {_fmt(s['busy_over_alone'])}"
              f"   (fair {fair:.2f})")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--policies", default=",".join(POLICIES),
                        help=f"comma-separated among {', '.join(POLICIES)} (default all)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workload", default="issue", choices=list(WORKLOADS),
                        help="'issue' (default): 100 float32 features, (128,), batch "
                             "256; 'b64'/'b32': 784 features, 10 classes, (256, 128), "
                             "batch 200, adam, in float64/float32")
    parser.add_argument("--rows", type=int, default=40000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2,
                        help="OMP_NUM_THREADS of each fit (default 2)")
    parser.add_argument("--busy", type=int, default=2,
                        help="busy-loop processes beside a fit (default 2)")
    parser.add_argument("--settle", type=float, default=0.2,
                        help="seconds between starting the busy loops and the fit")
    parser.add_argument("--alone-only", action="store_true",
                        help="only the 'alone' case: idle speed of each policy, "
                             "against the first one")
    parser.add_argument("--quick", action="store_true",
                        help="8000 rows, 1 epoch, 2 repeats: a smoke test")
    parser.add_argument("--json", default=None, help="write the raw results here")
    args = parser.parse_args(argv)
    args.policy_names = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = set(args.policy_names) - set(POLICIES)
    if unknown:
        parser.error(f"unknown policies {sorted(unknown)}; choose from {list(POLICIES)}")
    if args.quick:
        args.rows, args.epochs, args.repeats = 8000, 1, 2
    return args


def main(argv=None):
    args = parse_args(argv)
    n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    spec = WORKLOADS[args.workload]
    print(f"{args.rows} x {spec['n_features']} {spec['dtype']}, {spec['hidden']}, batch "
          f"{spec['batch_size']}, {args.epochs} epoch(s), "
          f"{args.threads} thread(s) per fit, {args.busy} busy loop(s), {n_cores} "
          f"core(s); {args.repeats} interleaved repeat(s); load average {load}")
    if load is not None and load[0] > 0.5:
        print("note: the machine is not idle; the numbers move with the other work.")
    context = multiprocessing.get_context("spawn")
    workers = {}
    try:
        for policy in args.policy_names:
            workers[policy] = [Worker(context, policy, args.workload, args.rows,
                                      args.epochs, args.threads) for _ in range(2)]
        results = {policy: [] for policy in args.policy_names}
        names = list(args.policy_names)
        for repeat in range(args.repeats):
            shift = repeat % len(names)
            for policy in names[shift:] + names[:shift]:
                results[policy].append(run_cases(workers[policy], args.busy, args.settle,
                                                 args.alone_only))
            print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)
    finally:
        for pair in workers.values():
            for worker in pair:
                worker.close()
    summary = summarise(results)
    print_summary(summary, args.threads, args.busy, n_cores)
    if args.json:
        report = {"args": vars(args), "cores": n_cores, "load_average": load,
                  "platform": platform.platform(),
                  "sklr": next(iter(workers.values()))[0].info["sklr"],
                  "results": results, "summary": summary}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
