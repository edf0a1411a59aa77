"""Benchmark sections. Each compares our code with a baseline measured in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One measurement: ours vs a baseline, and the goal the issue set for the ratio."""

    name: str
    ours_s: float
    baseline_name: str
    baseline_s: float
    goal: str = ""
    extra: str = ""

    @property
    def ratio(self) -> float:
        return self.ours_s / self.baseline_s if self.baseline_s else float("inf")

    def render(self) -> str:
        text = (
            f"{self.name:<44} {self.ours_s * 1000:10.2f} ms  vs {self.baseline_name:<34} "
            f"{self.baseline_s * 1000:10.2f} ms  ratio {self.ratio:6.2f}"
        )
        if self.goal:
            text += f"  (goal {self.goal})"
        if self.extra:
            text += f"  {self.extra}"
        return text


def timings(fn: Callable[[], object], repeat: int = 5) -> list[float]:
    """Wall time of each of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best wall time: the least disturbed by the rest of the machine."""
    return min(timings(fn, repeat))


def median_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time: for work whose cost varies between calls (I/O, subprocesses)."""
    return statistics.median(timings(fn, repeat))
