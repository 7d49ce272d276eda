"""Benchmarks: each prints timings and ratios measured in the same run (see bench/README.md)."""
