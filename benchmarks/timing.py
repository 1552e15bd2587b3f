"""Timing helpers shared by the benchmark scripts (run them as ``python benchmarks/NAME.py``)."""

import statistics
import time


def median_time(fn, repeat):
    """Median wall-clock seconds of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
