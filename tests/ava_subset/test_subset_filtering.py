"""slowfast_custom.ava_subset.filtering and .source: streaming filters and finding AVA's files."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.filtering import (
    GT_BOXES,
    PREDICTED_BOXES,
    filter_box_file,
    filter_exclusions,
    filter_frame_list,
)
from slowfast_custom.ava_subset.source import AnnotationSource
from slowfast_custom.benchmarks.subset import FakeAvaSpec, write_fake_ava
from slowfast_custom.errors import DataError, UserError

GT = ("-a,0902,0.1,0.2,0.5,0.6,12,0\r\n"
      "-a,0902,0.1,0.2,0.5,0.6,80,0\r\n"
      "\r\n"
      "b,0902,0.1,0.2,0.5,0.6,3,1\r\n"
      "-a,0903,0.2,0.2,0.5,0.6,12,1\r\n")


def lines(text: str):
    return io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8", newline=None)


def test_box_filter_keeps_rows_as_written_and_counts():
    out = io.StringIO()
    stats, seen = filter_box_file(lines(GT), Path("gt.csv"), GT_BOXES, {"-a"}, out, max_action_id=80)
    assert out.getvalue().splitlines() == ["-a,0902,0.1,0.2,0.5,0.6,12,0", "-a,0902,0.1,0.2,0.5,0.6,80,0",
                                           "-a,0903,0.2,0.2,0.5,0.6,12,1"]
    assert seen == {"-a", "b"} and list(stats.videos) == ["-a"]
    assert (len(stats.keyframes), len(stats.boxes), stats.actions) == (2, 2, {12: 2, 80: 1})


def test_box_filter_checks_kept_rows_only_and_action_ids():
    """Rows of videos the subset drops are never a reason to fail; kept rows are validated in full."""
    out = io.StringIO()
    _, seen = filter_box_file(lines("-a,0902,0.1,0.2,0.5,0.6,12,0\nb,0902,0.1\nc,09x2,,,\n"), Path("gt.csv"),
                              GT_BOXES, {"-a"}, out)
    assert out.getvalue() == "-a,0902,0.1,0.2,0.5,0.6,12,0\n" and seen == {"-a", "b", "c"}
    with pytest.raises(DataError, match=r"^gt\.csv:2: ground-truth rows need 7 or 8 columns"):
        filter_box_file(lines("b,0902,0.1\n-a,0902,0.1\n"), Path("gt.csv"), GT_BOXES, {"-a"}, io.StringIO())
    with pytest.raises(DataError, match=r"^det\.csv:1: score 1.5 is outside \[0, 1\]"):
        filter_box_file(lines("-a,0902,0.1,0.2,0.5,0.6,-1,1.5\n"), Path("det.csv"), PREDICTED_BOXES, {"-a"},
                        io.StringIO())
    with pytest.raises(DataError, match=r"^gt\.csv:2: action_id 80 is not in the label map \(largest id 60\)"):
        filter_box_file(lines(GT), Path("gt.csv"), GT_BOXES, {"-a"}, io.StringIO(), max_action_id=60)


def test_exclusions_and_frame_lists():
    out = io.StringIO()
    filter_exclusions(lines("-a,0902\nb,0903\n"), Path("ex.csv"), {"-a"}, out)
    assert out.getvalue() == "-a,0902\n"
    frame_list = ('original_vido_id video_id frame_id path labels\n'
                  'b 0 0 b/b_000001.jpg ""\n-a 1 0 -a/-a_000001.jpg ""\n-a 1 1 -a/-a_000002.jpg ""\n')
    rows = filter_frame_list(lines(frame_list), Path("train.csv"), {"-a"})
    assert rows.videos == {"-a": ["-a/-a_000001.jpg", "-a/-a_000002.jpg"]} and rows.lines == {"-a": [3, 4]}
    with pytest.raises(DataError, match=r"^train\.csv:3: frames of video -a are not sorted"):
        filter_frame_list(lines('-a 1 1 -a/x.jpg ""\nb 0 0 b/b.jpg ""\n-a 1 0 -a/y.jpg ""\n'), Path("train.csv"),
                          {"-a"})


@pytest.fixture(scope="module")
def ava_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ava") / "ava"
    write_fake_ava(root / "annotations", FakeAvaSpec(train_videos=2, val_videos=1, first_sec=902, last_sec=903))
    return root


def test_source_finds_frame_lists_beside_the_annotations_folder(ava_folder, tmp_path):
    root = Path(shutil.copytree(ava_folder, tmp_path / "ava"))
    (root / "frame_lists").mkdir()
    (root / "frame_lists" / "train.csv").write_text("")
    with AnnotationSource(root / "annotations") as source:  # AVA's ava/annotations + ava/frame_lists
        assert source.has(names.TRAIN_FRAME_LIST) and not source.has(names.VAL_FRAME_LIST)
        assert source.display(names.TRAIN_GT) == str(root / "annotations" / names.TRAIN_GT)
    with AnnotationSource(root) as source:  # the parent folder: found one level down
        assert source.local_path(names.TRAIN_GT) == (root / "annotations" / names.TRAIN_GT).resolve()
        assert source.has(names.TRAIN_FRAME_LIST)


def test_source_reads_a_tar_in_place(ava_folder, tmp_path):
    tar = tmp_path / "ava_annotations.tar"
    with tarfile.open(tar, "w") as t:
        for path in sorted((ava_folder / "annotations").rglob("*")):
            if path.name != names.VAL_EXCLUSIONS:
                t.add(path, arcname=path.relative_to(ava_folder / "annotations").as_posix(), recursive=False)
    with pytest.raises(UserError, match=rf"^{tar}: missing annotation file {names.VAL_EXCLUSIONS}$"):
        AnnotationSource(tar)
    with tarfile.open(tar, "a") as t:
        t.add(ava_folder / "annotations" / names.VAL_EXCLUSIONS, arcname=names.VAL_EXCLUSIONS)
    with AnnotationSource(tar) as source:
        assert source.display(names.TRAIN_GT) == f"{tar}:{names.TRAIN_GT}"
        with source.open_text(names.TRAIN_GT) as f:
            assert "".join(f) == (ava_folder / "annotations" / names.TRAIN_GT).read_text()
        assert source.local_files() == [tar.resolve()]


def test_source_rejects_other_files(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(UserError, match="not a tar archive or a folder"):
        AnnotationSource(tmp_path / "x.csv")
    with pytest.raises(UserError, match="annotations not found"):
        AnnotationSource(tmp_path / "nope.tar")
