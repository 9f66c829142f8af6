"""The array index against load_keyframe_index on generated AVA-format files: same keyframes, boxes, labels,
frame paths and errors; its cache is reused, invalidated by any input change, and optional."""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.example_files import ExampleSpec, write_example_files
from slowfast_custom.data import compact_index as ci
from slowfast_custom.data.keyframes import KeyframeSpec, load_keyframe_index
from slowfast_custom.errors import DataError


def fake_ava(root: Path, **spec_values) -> KeyframeSpec:
    """Three train videos of 9 annotated seconds (AVA's formats: predicted negatives with empty actions)."""
    write_example_files(root, ExampleSpec(train_videos=3, val_videos=1, first_sec=902, last_sec=910,
                                          frames_per_video=400))
    values = dict(frame_dir=root / "frames", frame_lists=[root / names.TRAIN_FRAME_LIST],
                  gt_box_files=[root / names.TRAIN_GT], predicted_box_files=[root / names.TRAIN_DETECTIONS],
                  start_sec=900, max_action_id=80)
    return KeyframeSpec(**{**values, **spec_values})


def assert_same(index: ci.CompactIndex, old) -> None:
    assert index.video_names == old.video_names
    assert [list(paths) for paths in index.frame_paths()] == old.frame_paths
    assert [tuple(k) for k in index.keyframes.tolist()] == [tuple(k) for k in old.keyframes]
    for k, (v, s, _, _) in enumerate(old.keyframes):
        assert index.boxes_and_labels(k) == old.boxes_and_labels[v][s]
    assert index.num_boxes == old.num_boxes
    assert index.skipped == old.skipped


@pytest.mark.parametrize("values", [{}, {"score_thresh": 0.7, "valid_seconds": (903, 909)},
                                    {"second_stride": 4, "fps": 25.0}])
def test_vectorised_build_matches_the_row_parser(tmp_path, values):
    spec = fake_ava(tmp_path, **values)
    index = ci._build_fast(spec)  # raises if the generated files were not taken by the fast path
    assert_same(index, load_keyframe_index(spec))
    assert len(index.exception_rows) == 0  # AVA's naming: no path stored


def rewrite(path: Path, edit) -> None:
    path.write_bytes(edit(path.read_bytes()))


def test_frame_paths_off_the_naming_are_stored_as_exceptions(tmp_path):
    spec = fake_ava(tmp_path)
    lines = spec.frame_lists[0].read_bytes().decode().splitlines(keepends=True)
    video = lines[1].split()[0]
    lines[5] = lines[5].replace(f"{video}_000005.jpg", "elsewhere/x.png")
    # The second video's numbering starts at 0, as some extraction tools number.
    second = lines[401].split()[0]
    lines[401:801] = [line.replace(f"_{n + 1:06d}.jpg", f"_{n:06d}.jpg") for n, line in enumerate(lines[401:801])]
    spec.frame_lists[0].write_text("".join(lines))
    index = ci._build_fast(spec)
    old = load_keyframe_index(spec)
    assert_same(index, old)
    assert len(index.exception_rows) == 1
    assert old.frame_paths[0][4].endswith("elsewhere/x.png") and old.frame_paths[1][0].endswith(f"{second}_000000.jpg")
    assert index.frame_paths()[1][-1] == old.frame_paths[1][-1]


def edit_first_row(path: Path, edit) -> None:
    lines = path.read_text().splitlines(keepends=True)
    cols = lines[0].rstrip("\n").split(",")
    edit(cols)
    lines[0] = ",".join(cols) + "\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize("quirk", ["crlf", "spaces", "exponent", "plus_sign", "blank_lines"])
def test_unusual_but_valid_files_give_the_row_parsers_result(tmp_path, quirk):
    spec = fake_ava(tmp_path, score_thresh=0.6)
    gt, pred = spec.gt_box_files[0], spec.predicted_box_files[0]
    if quirk == "crlf":
        rewrite(gt, lambda b: b.replace(b"\n", b"\r\n"))
        rewrite(spec.frame_lists[0], lambda b: b.replace(b"\n", b"\r\n"))
    elif quirk == "spaces":
        rewrite(pred, lambda b: b.replace(b",", b", ", 3))
    elif quirk == "exponent":
        edit_first_row(gt, lambda cols: cols.__setitem__(2, cols[2] + "e0"))
    elif quirk == "plus_sign":
        edit_first_row(gt, lambda cols: cols.__setitem__(1, "+" + cols[1]))
    elif quirk == "blank_lines":
        rewrite(gt, lambda b: b"\n\n" + b.replace(b"\n", b"\n\n", 2))
    assert_same(ci.build_compact_index(spec), load_keyframe_index(spec))


def error_of(build, spec) -> str:
    with pytest.raises(DataError) as err:
        build(spec)
    return str(err.value)


@pytest.mark.parametrize("bad", ["inverted_box", "unknown_video", "action_too_large", "second_past_frames",
                                 "frames_unsorted", "score_text", "score_above_one", "commas_in_frame_list",
                                 "images_out_of_time_order", "path_out_of_the_frames_folder"])
def test_bad_rows_give_the_row_parsers_error_with_file_and_line(tmp_path, bad):
    spec = fake_ava(tmp_path)
    gt, pred, frame_list = spec.gt_box_files[0], spec.predicted_box_files[0], spec.frame_lists[0]
    lines = gt.read_text().splitlines()
    if bad == "inverted_box":
        cols = lines[7].split(",")
        cols[2], cols[4] = cols[4], cols[2]
        lines[7] = ",".join(cols)
    elif bad == "unknown_video":
        lines[9] = "nosuchvideo" + lines[9][lines[9].index(","):]
    elif bad == "action_too_large":
        spec = replace(spec, max_action_id=40)
    elif bad == "second_past_frames":
        lines[3] = lines[3].split(",")[0] + ",2000," + ",".join(lines[3].split(",")[2:])
    elif bad == "frames_unsorted":
        rows = frame_list.read_text().splitlines()
        rows[10], rows[11] = rows[11], rows[10]
        frame_list.write_text("\n".join(rows) + "\n")
    elif bad == "score_text":
        rewrite(pred, lambda b: b.replace(b"\n", b"x\n", 1))
    elif bad == "score_above_one":
        rewrite(pred, lambda b: b.replace(b"\n", b"\n" + b.split(b"\n")[0].rsplit(b",", 1)[0] + b",1.5\n", 1))
    elif bad == "commas_in_frame_list":
        rewrite(frame_list, lambda b: b.replace(b" ", b",", 9))
    elif bad in ("images_out_of_time_order", "path_out_of_the_frames_folder"):
        rows = [r.split(" ") for r in frame_list.read_text().splitlines()]
        if bad == "images_out_of_time_order":  # frame_id in order, the images' paths swapped
            rows[10][3], rows[11][3] = rows[11][3], rows[10][3]
        else:
            rows[12][3] = "../../etc/passwd"
        frame_list.write_text("\n".join(" ".join(r) for r in rows) + "\n")
    gt.write_text("\n".join(lines) + "\n")
    expected = error_of(load_keyframe_index, spec)
    assert ":" in expected and error_of(ci.build_compact_index, spec) == expected


def test_cache_is_reused_and_rebuilt_when_an_input_changes(tmp_path, monkeypatch):
    spec = fake_ava(tmp_path)
    first = ci.load_compact_index(spec)
    cached = list((spec.frame_lists[0].parent / ci.CACHE_DIR_NAME).iterdir())
    assert [p.suffix for p in cached] == [".npz"]  # no temporary file left behind

    builds = []
    real_build = ci.build_compact_index
    monkeypatch.setattr(ci, "build_compact_index", lambda s: builds.append(s) or real_build(s))
    again = ci.load_compact_index(spec)
    assert builds == []
    assert_same(again, load_keyframe_index(spec))
    assert np.array_equal(again.boxes, first.boxes)

    # One row less in the ground truth, same size or not: the file's mtime (and size) change the key.
    gt = spec.gt_box_files[0]
    gt.write_text("".join(gt.read_text().splitlines(keepends=True)[:-1]))
    os.utime(gt, ns=(gt.stat().st_atime_ns, gt.stat().st_mtime_ns + 10**9))
    changed = ci.load_compact_index(spec)
    assert len(builds) == 1 and changed.num_boxes <= first.num_boxes
    assert_same(changed, load_keyframe_index(spec))
    ci.load_compact_index(replace(spec, score_thresh=0.9))  # a config value is part of the key too
    assert len(builds) == 2


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path, monkeypatch):
    spec = fake_ava(tmp_path)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ci, "atomic_open", read_only)
    assert_same(ci.load_compact_index(spec), load_keyframe_index(spec))
    assert not list((spec.frame_lists[0].parent / ci.CACHE_DIR_NAME).glob("*.npz"))


def test_a_stale_or_foreign_cache_file_is_ignored(tmp_path):
    spec = fake_ava(tmp_path)
    key = ci.cache_key(spec)
    path = ci.cache_path(spec, key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz file")
    assert_same(ci.load_compact_index(spec), load_keyframe_index(spec))
    assert ci.CompactIndex.load(path, key) is not None
    assert ci.CompactIndex.load(path, key + "x") is None


def test_upstream_recipe_lists_give_the_row_parsers_result(tmp_path):
    """AVA's recipe lists ava_train_v2.2.csv among the predicted-box files too: read once, as ground truth, and the
    detections' -1 negatives as background boxes, on both paths."""
    spec = fake_ava(tmp_path, score_thresh=0.8)
    spec = replace(spec, predicted_box_files=[spec.gt_box_files[0], spec.predicted_box_files[0]])
    old = load_keyframe_index(spec)
    assert_same(ci.build_compact_index(spec), old)
    assert any(labels == [-1] for per_video in old.boxes_and_labels for keyframe in per_video for _, labels in keyframe)
