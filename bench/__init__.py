"""Benchmarks for kyr-bot: ``bench/run.py`` (throughput, latency, memory), ``bench/check_speed.py``."""
