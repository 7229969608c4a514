"""Benchmark harness: `main.py bench` measures speed, quality and memory the same way every time."""
