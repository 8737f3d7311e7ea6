"""Benchmarks: one script per figure of docs/performance (run ``python -m benchmarks.<name>``)."""
