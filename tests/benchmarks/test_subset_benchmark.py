"""slowfast_custom.benchmarks.subset on a tiny setting (the full-size run is tools/benchmark_subset.py)."""

from __future__ import annotations

from slowfast_custom.ava_subset import source as names
from slowfast_custom.benchmarks.subset import FakeAvaSpec, benchmark, write_fake_ava

TINY = FakeAvaSpec(train_videos=4, val_videos=2, first_sec=902, last_sec=911)


def test_generated_annotations_are_reproducible_and_in_ava_formats(tmp_path):
    from slowfast_custom.ava.formats import read_box_csv, read_label_map

    rows, ids = write_fake_ava(tmp_path / "a", TINY)
    write_fake_ava(tmp_path / "b", TINY)
    for name in rows:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert ids["train"][0].startswith("-") and len(ids["val"]) == 2
    assert len(read_box_csv(tmp_path / "a" / names.TRAIN_GT, "gt")) == rows[names.TRAIN_GT]
    assert len(read_box_csv(tmp_path / "a" / names.VAL_DETECTIONS, "predicted")) == rows[names.VAL_DETECTIONS]
    assert len(read_label_map(tmp_path / "a" / names.LABEL_MAP)) == 60
    assert len(read_label_map(tmp_path / "a" / names.FULL_LABEL_MAP)) == 80


def test_benchmark_measures(tmp_path):
    result = benchmark(TINY, work_dir=tmp_path)
    assert result.rows > 100 and result.seconds > 0 and result.rows_per_second > 0
    assert result.peak_rss_growth >= 0
    assert list(tmp_path.iterdir()) == []  # the generated set is removed
