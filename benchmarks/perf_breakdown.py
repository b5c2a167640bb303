#!/usr/bin/env python
"""Where an epoch's time goes, by what the kernel does, from perf's samples.

``callgrind_breakdown.py`` splits an epoch's *instructions*; this script
splits its *CPU time*, threads and waiting included. For each workload it
starts a child Python under ``perf record -e cpu-clock`` (a software clock:
it needs no hardware counters, so it works in a virtual machine), which
fits the workload for one warm-up epoch and then for ``--epochs`` epochs,
and prints the ``CLOCK_MONOTONIC`` times around that fit; ``perf script
--time`` keeps the samples taken during it. Each sample is one slice of
CPU time of one thread, put in a category by where it was taken:

gemm             in the BLAS library (the matrix products)
bias+act, loss, bias grad, update, penalty, gather, kernel other
                 in the kernel, by source line as ``callgrind_breakdown.py``
                 does (perf resolves the kernel's C line; the generated C
                 names its Cython line)
exp/log          in libm (the softmax's and logistic's exponentials, the
                 log loss)
memcpy           in libc (copying the minibatch's rows, mostly)
synchronisation  in the OpenMP runtime: threads waiting at the end of a
                 parallel region, spinning or going to sleep, and the
                 master starting a region
outside          everything else: Python's per-epoch work (shuffling,
                 schedules, history), numpy, the interpreter

The workloads are those of ``epoch_instructions.py`` (``a``, ``c``,
``b64-small``, ``b32-small``: (b)'s network and batch on 2000 rows, so the
same shares as the 20000-row (b) per minibatch). Run with the threads the
fit would use (default: all the CPUs; ``--threads 1`` for one)::

    python benchmarks/perf_breakdown.py --workload a,b64-small,b32-small
    python benchmarks/perf_breakdown.py --workload b64-small --epochs 20 --threads 1

Needs ``perf`` (``linux-perf``/``linux-tools``) and
``kernel.perf_event_paranoid <= 2``. The kernel must be built with line
information (``setup.py`` compiles with ``-g1``: line tables).
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from callgrind_breakdown import (  # noqa: E402
    BLAS,
    KERNEL_OBJECT,
    REPO_ROOT,
    SourceIndex,
    c_to_source,
    categorise,
)

ORDER = ("gemm", "bias+act", "exp/log", "loss", "bias grad", "update", "penalty",
         "gather", "memcpy", "kernel other", "synchronisation", "outside")

CHILD = """
import sys, time, warnings
sys.path.insert(0, {benchmarks!r})
from sklearn.exceptions import ConvergenceWarning
from epoch_instructions import workload
from sklr import MLPClassifier
X, y, params = workload({name!r})
warnings.simplefilter("ignore", ConvergenceWarning)
MLPClassifier(max_iter=1, random_state=0, **params).fit(X, y)
est = MLPClassifier(max_iter={epochs}, tol=0, n_iter_no_change=10**9, random_state=0,
                    **params)
t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
est.fit(X, y)
t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
assert est.n_iter_ == {epochs}
print("TIMES %.6f,%.6f" % (t0, t1))
"""

SAMPLE = re.compile(r"^\s*(\d+)\s+([0-9a-f]+)\s+\((.*)\)\s*$")


def record(name, epochs, threads, frequency, workdir):
    """Run the child under perf; returns (perf data file, (t0, t1))."""
    data = os.path.join(workdir, f"{name}.data")
    code = CHILD.format(benchmarks=str(Path(__file__).resolve().parent), name=name,
                        epochs=epochs)
    env = dict(os.environ, PYTHONHASHSEED="0")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run(
        # A fixed period (-c, in ns of CPU time for cpu-clock): every sample
        # stands for the same CPU time (-F would let perf adapt the period).
        ["perf", "record", "-q", "-e", "cpu-clock", "-c", str(int(1e9 / frequency)),
         "-k", "CLOCK_MONOTONIC", "-o", data, sys.executable, "-c", code],
        env=env, capture_output=True, text=True, check=True).stdout
    times = next(line.split()[1] for line in out.splitlines() if line.startswith("TIMES"))
    t0, t1 = (float(t) for t in times.split(","))
    return data, (t0, t1)


def samples(data, window):
    """``(tid, dso, c_line or None)`` of each sample taken in ``window``."""
    t0, t1 = window
    text = subprocess.run(
        ["perf", "script", "-i", data, "--time", f"{t0:.6f},{t1:.6f}",
         "-F", "tid,ip,dso,srcline"],
        capture_output=True, text=True, check=True).stdout.splitlines()
    out = []
    i = 0
    while i < len(text):
        match = SAMPLE.match(text[i])
        if not match:
            i += 1
            continue
        tid, _, dso = match.groups()
        line = None
        if i + 1 < len(text) and not SAMPLE.match(text[i + 1]):
            where = text[i + 1].strip()
            if where.startswith("_kernel.c:"):
                line = int(where.split(":")[1])
            i += 1
        out.append((int(tid), dso, line))
        i += 1
    return out


def classify(dso, c_line, mapping, index):
    if BLAS.search(dso):
        return "gemm"
    if "libgomp" in dso or "libomp" in dso:
        return "synchronisation"
    if "libm." in dso or "libmvec" in dso:
        return "exp/log"
    if re.search(r"/libc[.-]", dso):
        return "memcpy"
    if KERNEL_OBJECT.search(dso):
        source = mapping[c_line] if c_line is not None and c_line < len(mapping) else None
        function = index.function(*source) if source else None
        text = index.text(*source) if source else ""
        return categorise(source, function, text, None)
    return "outside"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="a,b64-small,b32-small")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the measured fit (default: a 100, c 200, b 10)")
    parser.add_argument("--threads", type=int, default=0,
                        help="OMP_NUM_THREADS (default: unset, all the CPUs)")
    parser.add_argument("--frequency", type=int, default=4000, help="samples per second")
    parser.add_argument("--c-file", default=str(REPO_ROOT / "sklr" / "_kernel.c"))
    args = parser.parse_args(argv)
    mapping = c_to_source(args.c_file)
    index = SourceIndex(REPO_ROOT)
    defaults = {"a": 100, "c": 200}
    columns = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.workload.split(","):
            epochs = args.epochs or defaults.get(name, 10)
            data, window = record(name, epochs, args.threads, args.frequency, workdir)
            found = samples(data, window)
            counts = collections.Counter(classify(dso, line, mapping, index)
                                         for _, dso, line in found)
            n_threads = len({tid for tid, _, _ in found})
            wall = (window[1] - window[0]) / epochs
            columns.append((name, epochs, wall, n_threads, counts, len(found)))
    print("CPU time per epoch in ms (share of the fit's CPU time); "
          "wall = the fit's wall time per epoch")
    header = f"{'':<17}" + "".join(f"{c[0]:>22}" for c in columns)
    print(header)
    print(f"{'wall, threads':<17}" + "".join(
        f"{c[2] * 1e3:>15.2f} ms, {c[3]:>2}" for c in columns))
    for category in ORDER:
        cells = []
        for name, epochs, wall, n_threads, counts, total in columns:
            share = counts[category] / total if total else 0.0
            # Each sample is 1 / frequency s of one thread's CPU time.
            ms = counts[category] / args.frequency / epochs * 1e3
            cells.append(f"{ms:>13.2f} ({share:5.1%})")
        print(f"{category:<17}" + "".join(f"{c:>22}" for c in cells))
    print(f"{'samples':<17}" + "".join(f"{c[5]:>22}" for c in columns))


if __name__ == "__main__":
    main()
