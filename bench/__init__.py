"""Benchmarks and reports, never tests: `make bench` (understanding against baselines, speed, training),
`make profile`, `make bench-load` and the urgency-list report. They report numbers and fail only when a
message went unanswered or was lost."""
