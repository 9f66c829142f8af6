"""benchmarks.subset on a tiny setting (the full-size run is tools/benchmark_subset.py)."""

from __future__ import annotations

from benchmarks.subset import benchmark
from slowfast_custom.ava_subset.example_files import ExampleSpec

TINY = ExampleSpec(train_videos=4, val_videos=2, first_sec=902, last_sec=911)


def test_benchmark_measures(tmp_path):
    result = benchmark(TINY, work_dir=tmp_path)
    assert result.rows > 100 and result.seconds > 0 and result.rows_per_second > 0
    assert result.peak_rss_growth >= 0
    assert list(tmp_path.iterdir()) == []  # the generated set is removed
