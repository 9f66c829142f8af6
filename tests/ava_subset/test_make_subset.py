"""tools/make_subset.py end to end: a generated AVA annotation set (folder and tar), two 8-second videos,
a re-run, resuming, every bad-input case, and one tiny training epoch on the result."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.example_files import ExampleSpec, write_example_files
from slowfast_custom.ava_subset.ids import join_dash_ids
from slowfast_custom.errors import run_cli
from slowfast_custom.video.frames import render_test_pattern

from conftest import REPO, TINY_CFG, TINY_OVERRIDES, run_tool

TRAIN = ("-5KQ66BBWC4", "4ZpjKfu6Cl8", "5BDj0ow5hnA")
VAL = ("1j20qq1JyX4", "7g37N3eoQ9s")
WINDOW = ["--start-sec", "0", "--end-sec", "8"]  # annotated seconds 2..5 of 8-second videos
BOX_FILES = (names.TRAIN_GT, names.VAL_GT, names.TRAIN_DETECTIONS, names.VAL_DETECTIONS,
             names.TRAIN_EXCLUSIONS, names.VAL_EXCLUSIONS)


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_subset_tool", REPO / "tools" / "make_subset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _load_tool()


def make_subset(*argv: str) -> int:
    return run_cli(TOOL.main, [str(a) for a in argv])


def tree_digest(*roots: Path) -> Dict[str, str]:
    files = [p for root in roots for p in ([root] if root.is_file() else sorted(root.rglob("*"))) if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def rows_of(path: Path, videos) -> List[str]:
    return [line for line in path.read_text().splitlines() if line.split(",")[0] in videos]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ava_inputs")
    spec = ExampleSpec(train_ids=TRAIN, val_ids=VAL, first_sec=2, last_sec=5)
    write_example_files(root / "annotations", spec)
    write_example_files(root / "with_lists" / "annotations", replace(spec, frames_per_video=240))
    with tarfile.open(root / "ava_annotations.tar", "w") as tar:  # the archive keeps its files in a folder
        tar.add(root / "annotations", arcname="ava_annotations")
    render_test_pattern(root / "videos" / f"{TRAIN[0]}.mp4", 8, fps=25)
    render_test_pattern(root / "videos" / f"{VAL[0]}.mkv", 8, fps=30)
    return argparse.Namespace(root=root, folder=root / "annotations", with_lists=root / "with_lists" / "annotations",
                              tar=root / "ava_annotations.tar", videos=root / "videos")


@pytest.fixture(scope="module")
def built(inputs, tmp_path_factory):
    """The tool run as a user would: a tar, the videos, a "-" id given with a space."""
    out = tmp_path_factory.mktemp("subset") / "AVA"
    before = tree_digest(inputs.tar, inputs.videos)
    proc = run_tool("make_subset.py", "--annotations", inputs.tar, "--videos", inputs.videos, "--out", out,
                    "--train-ids", TRAIN[0], f"--val-ids={VAL[0]}", *WINDOW)
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(inputs.tar, inputs.videos) == before  # inputs untouched
    return argparse.Namespace(out=out, stdout=proc.stdout)


def annotation_digest(out: Path) -> Dict[str, str]:
    return {k: v for k, v in tree_digest(out / "annotations", out / "frame_lists").items()}


def test_layout_rows_and_frames(inputs, built):
    out, ann = built.out, built.out / "annotations"
    for name in BOX_FILES:
        keep = {TRAIN[0]} if "train" in name else {VAL[0]}
        assert (ann / name).read_text().splitlines() == rows_of(inputs.folder / name, keep), name
        assert rows_of(inputs.folder / name, keep) or "excluded" in name
    for name in (names.LABEL_MAP, names.FULL_LABEL_MAP):
        assert (ann / name).read_bytes() == (inputs.folder / name).read_bytes()
    classes = json.loads((ann / "ava.json").read_text())
    assert len(classes) == 80 and classes["bend/bow (at the waist)"] == 0

    for split, video in (("train", TRAIN[0]), ("val", VAL[0])):
        lines = (out / "frame_lists" / f"{split}.csv").read_text().splitlines()
        assert lines[0] == "original_vido_id video_id frame_id path labels"
        assert len(lines) == 1 + 240 and lines[1] == f'{video} 0 0 {video}/{video}_000001.jpg ""'
        assert len(list((out / "frames" / video).glob("*.jpg"))) == 240
        assert (out / "videos_15min" / f"{video}.mp4").is_file()
    assert not [p for p in out.rglob(".*") if p.name != ".extract.json"]  # no temporary file left

    assert "train: 1 videos" in built.stdout and "val: 1 videos" in built.stdout
    assert f"python tools/run_net.py --cfg {out / 'SLOWFAST_32x2_R101_subset.yaml'}" in built.stdout


def test_written_config(built):
    from slowfast_custom.config import load_config

    path = built.out / "SLOWFAST_32x2_R101_subset.yaml"
    cfg = load_config(argparse.Namespace(cfg_file=str(path), opts=["NUM_GPUS", "0"], shard_id=0, num_shards=1))
    assert cfg.AVA.FRAME_DIR == str(built.out / "frames") and cfg.DATA.PATH_TO_DATA_DIR == str(built.out)
    assert (cfg.AVA.START_SEC, list(cfg.AVA.VALID_SECONDS), cfg.AVA.FPS) == (0, [2, 5], 30)
    assert cfg.AVA.TRAIN_PREDICT_BOX_LISTS == [names.TRAIN_GT, names.TRAIN_DETECTIONS]  # upstream's recipe
    assert cfg.AVA.TEST_PREDICT_BOX_LISTS == [names.VAL_DETECTIONS]
    assert not cfg.AVA.FULL_TEST_ON_VAL and cfg.MODEL.NUM_CLASSES == 80 and cfg.RESNET.DEPTH == 101


def test_rerun_is_identical_and_resumes(inputs, built, capsys):
    args = ["--annotations", inputs.tar, "--videos", inputs.videos, "--out", built.out,
            f"--train-ids={TRAIN[0]}", f"--val-ids={VAL[0]}", *WINDOW]
    first = annotation_digest(built.out)
    assert make_subset(*args) == 0
    assert "0 videos extracted, 2 already complete" in capsys.readouterr().out
    assert annotation_digest(built.out) == first

    frames = built.out / "frames" / TRAIN[0]
    for p in sorted(frames.glob("*.jpg"))[100:110]:
        p.unlink()
    assert make_subset(*args) == 0
    assert "1 videos extracted, 1 already complete" in capsys.readouterr().out
    assert len(list(frames.glob("*.jpg"))) == 240
    assert annotation_digest(built.out) == first


@pytest.mark.slow
def test_train_one_tiny_epoch(built, tmp_path):
    ava = yaml.safe_load((built.out / "SLOWFAST_32x2_R101_subset.yaml").read_text())["AVA"]
    overrides = [item for key, value in ava.items() for item in (f"AVA.{key}", repr(value))]
    proc = run_tool("run_net.py", "--cfg", TINY_CFG, *TINY_OVERRIDES, *overrides, "MODEL.NUM_CLASSES", "80",
                    "DATA.PATH_TO_DATA_DIR", built.out, "OUTPUT_DIR", tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list((tmp_path / "checkpoints").glob("*.pyth"))


def test_folder_with_frame_lists_and_id_files(inputs, tmp_path, capsys):
    ids = tmp_path / "train_ids.txt"
    ids.write_text(f"# two train videos\n{TRAIN[0]}\n{TRAIN[2]}  # the second\n")
    out = tmp_path / "AVA"
    assert make_subset("--annotations", inputs.with_lists, "--out", out, "--train-ids-file", ids,
                       "--val-ids", f"{VAL[1]},{VAL[0]}", *WINDOW) == 0
    assert "frame lists: filtered from the annotations" in capsys.readouterr().out
    lines = (out / "frame_lists" / "train.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 240
    assert lines[241] == f'{TRAIN[2]} 1 0 {TRAIN[2]}/{TRAIN[2]}_000001.jpg ""'  # video index renumbered
    assert not (out / "frames").exists()


def test_dash_ids_join_their_option():
    assert join_dash_ids(["--train-ids", "-5KQ", "--val-ids", "--out", "x"], ("--train-ids", "--val-ids")) == \
        ["--train-ids=-5KQ", "--val-ids", "--out", "x"]


# ---------------------------------------------------------------------------
# Bad input: one line on stderr naming the file (and line), exit code 2, nothing written
# ---------------------------------------------------------------------------


def fails(capsys, *argv) -> str:
    assert make_subset(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    return err


@pytest.fixture
def ann_copy(inputs, tmp_path) -> Path:
    return Path(shutil.copytree(inputs.with_lists.parent, tmp_path / "in")) / "annotations"


def base_args(annotations: Path, out: Path):
    return ["--annotations", annotations, "--out", out, f"--train-ids={TRAIN[0]}", f"--val-ids={VAL[0]}", *WINDOW]


def test_malformed_rows_of_videos_not_selected_are_no_reason_to_fail(ann_copy, tmp_path, capsys):
    path = ann_copy / names.TRAIN_GT
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + ["4ZpjKfu6Cl8,0003,0.1,0.2,0.3", "4ZpjKfu6Cl8,0003,0.5,0.2,0.3,0.9,-1,0"]
                              + lines[3:]) + "\n")
    assert make_subset(*base_args(ann_copy, tmp_path / "AVA")) == 0, capsys.readouterr().err
    assert not any("4ZpjKfu6Cl8" in line for line in (tmp_path / "AVA" / "annotations" / names.TRAIN_GT).open())


@pytest.mark.parametrize("row, message", [
    ("-5KQ66BBWC4,0003,0.1,0.2,0.3", "ground-truth rows need 7 or 8 columns"),
    ("-5KQ66BBWC4,0003,0.5,0.2,0.3,0.9,12,0", "box (0.5, 0.2, 0.3, 0.9) is empty or inverted"),
])
def test_malformed_row_names_file_and_line(ann_copy, tmp_path, capsys, row, message):
    path = ann_copy / names.TRAIN_GT
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + [row] + lines[3:]) + "\n")
    err = fails(capsys, *base_args(ann_copy, tmp_path / "AVA"))
    assert f"{path}:4: {message}" in err
    assert not (tmp_path / "AVA" / "annotations").exists() or not any((tmp_path / "AVA").rglob("*.csv"))


def test_malformed_row_inside_the_tar(inputs, tmp_path, capsys):
    src = Path(shutil.copytree(inputs.folder, tmp_path / "ava_annotations"))
    with open(src / names.VAL_DETECTIONS, "a") as f:
        f.write(f"{VAL[0]},0004,0.1,0.1,0.5,0.5,,high\n")
    rows = len((src / names.VAL_DETECTIONS).read_text().splitlines())
    tar = tmp_path / "ann.tar"
    with tarfile.open(tar, "w") as t:
        t.add(src, arcname="ava_annotations")
    err = fails(capsys, *base_args(tar, tmp_path / "AVA"))
    assert f"{tar}:ava_annotations/{names.VAL_DETECTIONS}:{rows}: score 'high' is not a number" in err


def test_id_in_neither_split_suggests_the_closest(inputs, tmp_path, capsys):
    err = fails(capsys, "--annotations", inputs.folder, "--out", tmp_path / "AVA", "--train-ids=-5KQ66BBWC",
                f"--val-ids={VAL[0]}", *WINDOW)
    assert "train id -5KQ66BBWC is in neither ava_train_v2.2.csv nor ava_val_v2.2.csv; closest: -5KQ66BBWC4" in err
    assert not (tmp_path / "AVA").exists() or not any((tmp_path / "AVA").rglob("*.csv"))


def test_id_of_the_other_split(inputs, tmp_path, capsys):
    err = fails(capsys, "--annotations", inputs.folder, "--out", tmp_path / "AVA", f"--train-ids={VAL[1]}",
                f"--val-ids={VAL[0]}", *WINDOW)
    assert f"train id {VAL[1]} is a val video" in err and "pass it with --val-ids" in err


def test_skip_missing_builds_and_reports(inputs, tmp_path, capsys):
    assert make_subset("--annotations", inputs.with_lists, "--out", tmp_path / "AVA", "--skip-missing",
                       f"--train-ids={TRAIN[0]},-5KQ66BBWC", f"--val-ids={VAL[0]}", *WINDOW) == 0
    assert "not found: -5KQ66BBWC (closest: -5KQ66BBWC4)" in capsys.readouterr().out


def test_id_in_both_splits(inputs, tmp_path, capsys):
    ids = tmp_path / "val.txt"
    ids.write_text(f"{VAL[0]}\n{TRAIN[0]}\n")
    err = fails(capsys, "--annotations", inputs.folder, "--out", tmp_path / "AVA", f"--train-ids={TRAIN[0]}",
                "--val-ids-file", ids, *WINDOW)
    assert f"video {TRAIN[0]} is in both splits (--train-ids and {ids}:2)" in err


def test_missing_annotation_file_is_named(ann_copy, tmp_path, capsys):
    (ann_copy / names.VAL_DETECTIONS).unlink()
    (ann_copy / names.TRAIN_EXCLUSIONS).unlink()
    err = fails(capsys, *base_args(ann_copy, tmp_path / "AVA"))
    assert f"missing annotation files {names.TRAIN_EXCLUSIONS}, {names.VAL_DETECTIONS}" in err


def test_frame_list_without_a_video_of_the_box_files(ann_copy, tmp_path, capsys):
    path = ann_copy / names.VAL_FRAME_LIST
    path.write_text("".join(line for line in path.read_text().splitlines(True) if not line.startswith(VAL[0])))
    err = fails(capsys, *base_args(ann_copy, tmp_path / "AVA"))
    assert f"{path}: val videos {VAL[0]} have rows in ava_val_v2.2.csv but no frames listed" in err


def test_unreadable_video(inputs, tmp_path, capsys):
    videos = Path(shutil.copytree(inputs.videos, tmp_path / "videos"))
    (videos / f"{VAL[0]}.mkv").write_bytes(b"\x00" * 1000)
    err = fails(capsys, "--videos", videos, *base_args(inputs.folder, tmp_path / "AVA"))
    assert f"{videos / (VAL[0] + '.mkv')}: cannot read video" in err


def test_video_too_short_is_reported_before_any_work(inputs, tmp_path, capsys):
    err = fails(capsys, "--videos", inputs.videos, "--annotations", inputs.folder, "--out", tmp_path / "AVA",
                f"--train-ids={TRAIN[0]}", f"--val-ids={VAL[0]}", "--start-sec", "2", "--end-sec", "12")
    assert f"video {TRAIN[0]} is 8.00 s long, too short for seconds 2-12" in err
    assert f"video {VAL[0]} is 8.00 s long" in err
    assert not (tmp_path / "AVA" / "frames").exists()


def test_output_inside_the_inputs_is_refused(ann_copy, capsys):
    err = fails(capsys, *base_args(ann_copy, ann_copy.parent))
    assert "inputs are never modified" in err
