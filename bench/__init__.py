"""Benchmarks (not tests): data generators and timed runs with their reference limits."""
