"""asv benchmark suite for sklr (run from ``benchmarks/``: ``asv run -E existing:python --quick``)."""
