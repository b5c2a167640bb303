#!/usr/bin/env python
"""Where an epoch's instructions go, by kernel function, from two callgrind runs.

``epoch_instructions.py`` fits a workload for a given number of epochs; two
runs under callgrind with different epoch counts differ by exactly the
epochs in between (import and set-up cancel). This script reads both
callgrind files and splits that difference by what the instructions do:

gemm            BLAS calls (every instruction under a call from the kernel
                into the BLAS library: the matrix products)
bias+act        the bias add after each forward product, the activations and
                their derivatives (and dropout)
loss            the output loss and the output delta (y_hat - y)
bias grad       the column sums of delta (intercept gradients)
update          finishing the gradient (L2/L1 terms, scaling) and the
                optimizer rule over the flat parameters (``_finish_range``,
                ``_optim.pxd``), max-norm, EMA, clipping
penalty         the sum of squared weights for the L2 term of the loss
gather          copying the minibatch's rows (``_train_epoch``'s own code
                and its ``memcpy`` calls; its calls into Python, the signal
                check between minibatches, count as kernel other)
kernel other    the rest of the kernel's code (loop control, plans)
outside         everything outside the compiled kernel: Python per-epoch
                work (shuffling, schedules, history, validation), the
                interpreter

Attribution is by source line, so it holds for inlined code too: the kernel
is compiled with ``-g1`` (line tables, see ``setup.py``), and callgrind records the C
line of every instruction, inlined or not; each C line of the generated
``_kernel.c`` belongs to the ``.pyx``/``.pxd`` line named by the comment
Cython writes above it, and that line to its enclosing function. The
threads' synchronisation does not show here (run the fits with
``OMP_NUM_THREADS=1``: callgrind runs threads one at a time, so spinning
would be counted as work); ``contention.py`` measures it.

Usage (the commands of ``epoch_instructions.py``, then)::

    python benchmarks/callgrind_breakdown.py /tmp/cg_a_2.out /tmp/cg_a_12.out \\
        --epochs 10 --c-file sklr/_kernel.c

``--epochs`` is the difference in epochs between the two runs;
``--c-file`` the generated C file the kernel was compiled from (by default
``sklr/_kernel.c`` of this checkout; it must be the one of the build that
ran).
"""

import argparse
import collections
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BLAS = re.compile(r"openblas|cython_blas|libblas|mkl", re.I)
KERNEL_OBJECT = re.compile(r"/_kernel\.cpython[^/]*\.so$|/_kernel\.[^/]*\.(so|pyd)$")

CATEGORIES = ("gemm", "bias+act", "loss", "bias grad", "update", "penalty", "gather",
              "kernel other", "outside")
ACTIVATION_FUNCTIONS = {"_activate", "_activation_derivative", "_logistic",
                        "_dropout_forward", "_dropout_derivative", "_kept", "_mix",
                        "_bias_act_block", "_derivative_block"}
# Column-blocked products apply their bias gradients block by block.
BIAS_GRAD_FUNCTIONS = {"_bias_grad_block"}
UPDATE_FUNCTIONS = {"_finish_range", "_finish_grad", "_finish_clipped", "_finish_chunk",
                    "_clip_update_chunk", "_clip_coef", "_apply_max_norm", "_ema_range",
                    "_ema_pass"}


# --------------------------------------------------------------------------
# Source maps: C line -> (.pyx/.pxd file, line) -> enclosing function
# --------------------------------------------------------------------------


def c_to_source(c_file):
    """For each line of the generated C file, the Cython source line it implements."""
    marker = re.compile(r'/\* "([^"]+\.p(?:yx|xd))":(\d+)')
    current, mapping = None, [None]
    with open(c_file) as f:
        for line in f:
            match = marker.search(line)
            if match:
                current = (match.group(1), int(match.group(2)))
            mapping.append(current)
    return mapping


class SourceIndex:
    """Enclosing function and text of a line of a Cython source file."""

    header = re.compile(r"^\s*(?:cdef|cpdef|def)\s+(?:[\w\[\]:, ]*?\s)?\*?(\w+)\s*\(")

    def __init__(self, root):
        self.root = Path(root)
        self._files = {}

    def _load(self, name):
        if name not in self._files:
            path = self.root / name
            lines = path.read_text().splitlines() if path.exists() else []
            owners, owner = [], None
            for text in lines:
                match = self.header.match(text)
                if match and not text.lstrip().startswith(("cdef class", "cdef struct")):
                    owner = match.group(1)
                owners.append(owner)
            self._files[name] = (lines, owners)
        return self._files[name]

    def function(self, name, line):
        lines, owners = self._load(name)
        return owners[line - 1] if 0 < line <= len(owners) else None

    def text(self, name, line):
        lines, _ = self._load(name)
        return lines[line - 1] if 0 < line <= len(lines) else ""


def categorise(source, function, text, callee_object):
    """The category of instructions at a source line (see the module docstring)."""
    if callee_object is not None and BLAS.search(callee_object):
        return "gemm"
    if source is None:
        return "kernel other"
    if function in ACTIVATION_FUNCTIONS:
        return "bias+act"
    if function == "_output_loss":
        return "loss"
    if function in BIAS_GRAD_FUNCTIONS:
        return "bias grad"
    if function == "_forward_backward_rows":
        if "+ b[j]" in text:
            return "bias+act"
        if "y_in[" in text or "sw_in[" in text:
            return "loss"
        if "gb[j]" in text:
            return "bias grad"
        return "kernel other"
    if function in UPDATE_FUNCTIONS or source[0].endswith("_optim.pxd"):
        return "update"
    if function in ("_sum_squares", "_sum_abs"):
        return "penalty"
    if function == "_train_epoch" and (callee_object is None or "libc" in callee_object):
        return "gather"
    return "kernel other"


# --------------------------------------------------------------------------
# Callgrind files
# --------------------------------------------------------------------------


def read_callgrind(path):
    """Costs of the kernel's source lines, by (C line, callee object or None).

    Returns ``(total, costs)``: ``total`` is the run's instruction count,
    ``costs[(c_line, None)]`` the instructions executed at that line of the
    kernel's C file (inlined code included), ``costs[(c_line, object)]`` the
    inclusive cost of calls from that line into another shared object.
    """
    names = {"ob": {}, "fl": {}, "fn": {}}
    costs = collections.Counter()
    total = None
    ob = fl = fi = cob = None
    pending_call = False
    last_line = 0
    kernel_files = set()

    def resolve(kind, value):
        value = value.strip()
        match = re.match(r"\((\d+)\)\s*(.*)", value)
        if not match:
            return value
        key, name = match.groups()
        table = names["fl" if kind in ("fl", "fi", "fe", "cfi", "cfl") else
                      "ob" if kind in ("ob", "cob") else "fn"]
        if name:
            table[key] = name
        return table.get(key, "")

    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line:
                continue
            head = line[0]
            if head.isdigit() or head in "+-*":
                parts = line.split()
                pos = parts[0]
                if pos == "*":
                    number = last_line
                elif pos[0] in "+-":
                    number = last_line + int(pos)
                else:
                    number = int(pos)
                last_line = number
                ir = int(parts[1]) if len(parts) > 1 else 0
                in_kernel = ob is not None and KERNEL_OBJECT.search(ob)
                if in_kernel and fi in kernel_files:
                    if pending_call:
                        # A call's inclusive cost; without cob= the callee is in
                        # this object, whose own lines are counted where they run.
                        if cob is not None and not KERNEL_OBJECT.search(cob):
                            costs[(number, cob)] += ir
                    else:
                        costs[(number, None)] += ir
                if pending_call:
                    pending_call, cob = False, None
                continue
            key, _, value = line.partition("=")
            if key in ("ob", "fl", "fi", "fe", "fn", "cob", "cfi", "cfl", "cfn"):
                name = resolve(key, value)
                if key == "ob":
                    ob = name
                elif key == "fl":
                    fl = fi = name
                elif key in ("fi", "fe"):
                    fi = name
                elif key == "fn":
                    fi = fl
                elif key == "cob":
                    cob = name
                if key in ("fl", "fi", "fe") and os.path.basename(name) == "_kernel.c":
                    kernel_files.add(name)
            elif key == "calls":
                pending_call = True
            elif key in ("totals", "summary") or line.startswith(("totals:", "summary:")):
                total = int(line.split(":", 1)[1].split()[0])
    if total is None:
        raise ValueError(f"{path}: no totals line")
    return total, costs


def breakdown(path, c_file, index):
    """``(total, {category: Ir}, {function: Ir})`` of one callgrind file."""
    total, costs = read_callgrind(path)
    mapping = c_to_source(c_file)
    by_category = collections.Counter()
    by_function = collections.Counter()
    for (c_line, callee), ir in costs.items():
        source = mapping[c_line] if c_line < len(mapping) else None
        function = index.function(*source) if source else None
        text = index.text(*source) if source else ""
        by_category[categorise(source, function, text, callee)] += ir
        label = function or "?"
        if callee is not None:
            label += f" -> {os.path.basename(callee)}"
        by_function[label] += ir
    by_category["outside"] = total - sum(by_category.values())
    return total, by_category, by_function


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("short", help="callgrind file of the run with fewer epochs")
    parser.add_argument("long", help="callgrind file of the run with more epochs")
    parser.add_argument("--epochs", type=float, required=True,
                        help="difference in epochs between the two runs")
    parser.add_argument("--c-file", default=str(REPO_ROOT / "sklr" / "_kernel.c"))
    parser.add_argument("--top", type=int, default=12, help="functions to list")
    args = parser.parse_args(argv)
    index = SourceIndex(REPO_ROOT)
    t0, cat0, fn0 = breakdown(args.short, args.c_file, index)
    t1, cat1, fn1 = breakdown(args.long, args.c_file, index)
    per_epoch = (t1 - t0) / args.epochs
    print(f"instructions per epoch: {per_epoch / 1e6:.2f} M")
    print(f"{'category':<14} {'M per epoch':>12} {'share':>7}")
    for name in CATEGORIES:
        value = (cat1[name] - cat0[name]) / args.epochs
        print(f"{name:<14} {value / 1e6:12.3f} {100 * value / per_epoch:6.1f}%")
    print("\ntop kernel functions (M per epoch; '-> lib' = calls into lib):")
    diffs = {k: (fn1[k] - fn0.get(k, 0)) / args.epochs for k in fn1}
    for name, value in sorted(diffs.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"    {name:<48} {value / 1e6:10.3f}")


if __name__ == "__main__":
    main()
