"""The speed and memory of subsetting a generated full-size AVA annotation set (tools/benchmark_subset.py).

``benchmark`` writes the files with ``slowfast_custom.ava_subset.example_files``
(AVA v2.2's size by default: 299 train and 64 val videos, seconds 902-1798,
about a million box rows), runs the subset build on them and measures
seconds, rows per second and the peak growth of the resident memory,
sampled while it runs.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Tuple

from benchmarks.timing import PeakRss
from slowfast_custom.ava_subset.build import SubsetSpec, make_subset
from slowfast_custom.ava_subset.example_files import ExampleSpec, write_example_files


@dataclass(frozen=True)
class BenchmarkResult:
    rows: int  # rows in all annotation files read
    seconds: float
    peak_rss_growth: int  # bytes above the resident memory at the start

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def benchmark(spec: ExampleSpec, work_dir: Optional[Path] = None, train_videos: int = 1,
              val_videos: int = 1) -> BenchmarkResult:
    """Generate ``spec`` (frame lists of 30 rows per video unless set), subset it, and measure the subset build.

    The build runs in a fresh interpreter, so memory freed by an earlier run
    (or by the generator) cannot hide its growth.
    """
    if not spec.frames_per_video:
        spec = replace(spec, frames_per_video=30)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="ava_subset_bench.") as tmp:
        root = Path(tmp) / "annotations"
        rows, ids = write_example_files(root, spec)
        subset = SubsetSpec(annotations=root, out=Path(tmp) / "AVA", train_ids=tuple(ids["train"][:train_videos]),
                            val_ids=tuple(ids["val"][:val_videos]))
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            seconds, growth = pool.submit(_measure, subset).result()
    return BenchmarkResult(sum(rows.values()), seconds, growth)


def _measure(subset: SubsetSpec) -> Tuple[float, int]:
    with PeakRss() as rss:
        start = time.perf_counter()
        make_subset(subset)
        seconds = time.perf_counter() - start
    return seconds, rss.peak - rss.start
