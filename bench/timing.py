"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time


def median_ms(action, repeats: int) -> float:
    """Run ``action`` ``repeats`` times after one warm-up; return the median in milliseconds."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
