"""Interleaved A/B timing: on a shared or throttling machine, only ratios taken side by side mean anything.

Each repeat runs every variant once, alternating their order between
repeats, so a slow spell on the machine hits all variants alike; the result
keeps every repeat, its median, and the per-repeat ratios to the baseline.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping


@dataclass
class Rates:
    """Items per second of each variant in each repeat."""

    per_repeat: Dict[str, List[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.per_repeat[name])

    def ratio(self, name: str, baseline: str) -> float:
        """Median over repeats of ``name``'s rate divided by ``baseline``'s in the same repeat."""
        return statistics.median(a / b for a, b in zip(self.per_repeat[name], self.per_repeat[baseline]))

    def as_dict(self) -> Dict[str, Dict[str, object]]:
        return {name: {"median": round(self.median(name), 4), "repeats": [round(r, 4) for r in rates]}
                for name, rates in self.per_repeat.items()}


def interleaved_rates(variants: Mapping[str, Callable[[int], float]], items: int, repeats: int) -> Rates:
    """Run each ``variant(repeat)`` (which processes ``items`` items) ``repeats`` times, alternating order."""
    rates = Rates({name: [] for name in variants})
    names = list(variants)
    for repeat in range(repeats):
        for name in (names if repeat % 2 == 0 else names[::-1]):
            start = time.perf_counter()
            variants[name](repeat)
            rates.per_repeat[name].append(items / (time.perf_counter() - start))
    return rates


class PeakRss:
    """Samples this process's resident memory every few milliseconds in a thread."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self._process, self._interval = psutil.Process(), interval
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
