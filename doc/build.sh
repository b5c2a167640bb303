#!/usr/bin/env bash
# Build the HTML documentation from scratch, offline, with every Sphinx
# warning an error (-W), into doc/_build/html.
#
#   doc/build.sh                 # runs examples/plot_*.py for the gallery
#   doc/build.sh --no-examples   # the same pages, without running the examples
#
# Needs sklr importable (installed, or built in place) and the docs extra
# (pip install ".[docs]") in the environment of "python". Extra arguments
# go to sphinx-build (e.g. -j 2).
set -euo pipefail
cd "$(dirname "$0")"

opts=(-W --keep-going -b html)
if [ "${1:-}" = "--no-examples" ]; then
    shift
    opts+=(-D plot_gallery=0)
fi

# From scratch: stale autosummary stubs or gallery pages would hide warnings.
rm -rf _build generated auto_examples sg_execution_times.rst
# Sphinx's own runs of the examples use matplotlib's non-interactive backend.
export MPLBACKEND=Agg
python -m sphinx "${opts[@]}" "$@" . _build/html
echo "HTML in $(pwd)/_build/html/index.html"
