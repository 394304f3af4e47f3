"""Benchmarks: ``python -m bench --quick|--full`` (see BENCHMARKS.md)."""
