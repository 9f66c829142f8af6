"""Journey: an AVA subset, as the README's commands build it, trained and evaluated.

AVA-format annotation files (AVA's real file names, written by the project's generator) and two real videos
of other sizes and frame rates -> tools/make_subset.py -> train the tiny config on the subset
(tools/run_net.py) -> evaluate the checkpoint (TRAIN.ENABLE False). Checked at each seam: the frames and
frame lists of the cut, the seconds of the annotations, the videos and seconds the evaluation scored.
"""

from __future__ import annotations

import json
import tarfile
from fractions import Fraction

import pytest
import yaml

from slowfast_custom.ava.formats import read_box_csv
from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.ava_subset import source as names

from conftest import TINY_CFG, run_tool
from journey_videos import make_clip

pytestmark = [pytest.mark.journey, pytest.mark.slow]

TRAIN, VAL = "-5KQ66BBWC4", "1j20qq1JyX4"  # AVA's ids, one starting with "-"
SECONDS = 8  # each video; the annotated seconds are 2..5, as AVA's 902..1798 lie inside its 900..1801 cut
FIRST, LAST = 2, 5
OVERRIDES = ["MODEL.NUM_CLASSES", "80", "SOLVER.MAX_EPOCH", "1", "TRAIN.BATCH_SIZE", "2", "TEST.BATCH_SIZE", "2",
             "DATA_LOADER.NUM_WORKERS", "0", "LOG_PERIOD", "5"]


def ok(result) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_ava_subset_to_a_trained_and_evaluated_model(tmp_path):
    sources = tmp_path / "downloads"
    # As a user without AVA's files tries it: the example files tool, with no frame lists (the cut is extracted).
    ok(run_tool("make_ava_files.py", "--out", sources / "ava_annotations", f"--train-ids={TRAIN},4ZpjKfu6Cl8",
                "--val-ids", VAL, "--first-sec", FIRST, "--last-sec", LAST, "--frames-per-video", "0"))
    with tarfile.open(sources / "ava_annotations.tar", "w") as tar:  # as AVA's download is: a tar of a folder
        tar.add(sources / "ava_annotations", arcname="ava_annotations")
    make_clip(sources / "videos" / f"{TRAIN}.mp4", 0, SECONDS, 640, 360, Fraction(25), crop=(64, 108, 640, 360))
    make_clip(sources / "videos" / f"{VAL}.mkv", 30, SECONDS, 480, 360, Fraction(30), crop=(96, 108, 480, 360))

    subset = tmp_path / "AVA"
    out = ok(run_tool("make_subset.py", "--annotations", sources / "ava_annotations.tar", "--videos",
                      sources / "videos", "--out", subset, f"--train-ids={TRAIN}", "--val-ids", VAL,
                      "--start-sec", "0", "--end-sec", SECONDS))
    cfg_file = subset / "SLOWFAST_32x2_R101_subset.yaml"
    assert f"python tools/run_net.py --cfg {cfg_file}" in out
    # The cut's frames: its length at AVA's 30 fps, whatever the source's rate; the frame lists name them all.
    for split, video in (("train", TRAIN), ("val", VAL)):
        frames = sorted((subset / "frames" / video).glob("*.jpg"))
        assert len(frames) == SECONDS * DEFAULT_FPS, video
        lines = (subset / "frame_lists" / f"{split}.csv").read_text().splitlines()[1:]
        assert [line.split(" ")[3] for line in lines] == [f"{video}/{p.name}" for p in frames]
        gt = read_box_csv(subset / "annotations" / (names.TRAIN_GT if split == "train" else names.VAL_GT), "gt")
        assert {r.video_id for r in gt} == {video} and {r.second for r in gt} == set(range(FIRST, LAST + 1))

    # Train the tiny config with the subset's AVA keys, as the README's CPU recipe does.
    ava = yaml.safe_load(cfg_file.read_text())["AVA"]
    ava_overrides = [item for key, value in ava.items() for item in (f"AVA.{key}", repr(value))]
    train_dir = tmp_path / "train"
    common = ["--cfg", TINY_CFG, "DATA.PATH_TO_DATA_DIR", subset, "OUTPUT_DIR", train_dir, *ava_overrides,
              *OVERRIDES]
    ok(run_tool("run_net.py", *common, "TEST.ENABLE", "False"))
    checkpoint = train_dir / "checkpoints" / "checkpoint_epoch_00001.pyth"
    assert checkpoint.is_file()

    # Evaluate that checkpoint on its own.
    ok(run_tool("run_net.py", *common, "TRAIN.ENABLE", "False", "TEST.ENABLE", "True",
                "TEST.CHECKPOINT_FILE_PATH", checkpoint))
    metrics = json.loads((train_dir / "eval" / "test_metrics.json").read_text())
    assert metrics["videos"] == [VAL] and 0 <= metrics["frame_map"] <= 1
    val_gt = read_box_csv(subset / "annotations" / names.VAL_GT, "gt")
    scored = read_box_csv(train_dir / "eval" / "test_detections.csv", "predicted")
    assert {(r.video_id, r.second) for r in scored} == {(r.video_id, r.second) for r in val_gt}
    assert {r.video_id for r in val_gt} == {VAL}
