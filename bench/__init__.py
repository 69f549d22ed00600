"""Benchmarks of the running assistant (`make bench-load`): they report numbers, and fail only on losses."""
