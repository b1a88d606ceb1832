"""Benchmarks: plain scripts that start the real stack and print figures (see docs/BENCHMARKS.md)."""
