"""make_subset on a folder in PySlowFast's DATASET.md layout: every per-video CSV it holds (LFB's predicted boxes
among them) is kept, filtered to the chosen videos exactly like AVA's own files; files it cannot read as AVA rows are
reported, not copied; the written config names the person boxes the folder has."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from slowfast_custom.ava.layout import TRAIN_PREDICTED, VAL_PREDICTED
from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.example_files import ExampleSpec, write_example_files

from conftest import run_tool

TRAIN = ("-5KQ66BBWC4", "4ZpjKfu6Cl8")
VAL = ("1j20qq1JyX4", "7g37N3eoQ9s")
WINDOW = ["--start-sec", "0", "--end-sec", "8"]


def lfb_rows(videos, score_column=True):
    """Predicted-box rows as the LFB release writes them: no action (empty column), a detector score."""
    return "".join(f"{v},{s:04d},0.1,0.2,0.3,0.4,,0.{90 + s}\n" if score_column else f"{v},{s:04d}\n"
                   for v in videos for s in range(2, 6))


def independent_filter(path: Path, videos) -> str:
    """The rows of ``videos``, by a plain string filter (the first column), in file order."""
    return "".join(line for line in path.read_text().splitlines(keepends=True) if line.split(",")[0] in videos)


def make_source(root: Path, recipe_detections: bool = True) -> Path:
    ann = root / "annotations"
    write_example_files(ann, ExampleSpec(train_ids=TRAIN, val_ids=VAL, first_sec=2, last_sec=5))
    (ann / TRAIN_PREDICTED).write_text(lfb_rows(TRAIN))
    (ann / VAL_PREDICTED).write_text(lfb_rows(VAL))
    (ann / "ava_val_excluded_timestamps_extra.csv").write_text(lfb_rows(VAL, score_column=False))
    (ann / "README.txt").write_text("downloaded from the LFB release\n")
    (ann / "notes.csv").write_text("this,is,not,an,AVA,row\n")
    if not recipe_detections:
        shutil.rmtree(ann / Path(names.TRAIN_DETECTIONS).parent)
    return ann


def test_every_per_video_csv_is_kept_and_filtered_like_avas_files(tmp_path):
    ann = make_source(tmp_path / "src")
    out = tmp_path / "AVA"
    proc = run_tool("make_subset.py", "--annotations", ann, "--out", out, "--train-ids", TRAIN[0],
                    "--val-ids", VAL[0], *WINDOW)
    # No frames exist (no --videos, no frame lists): the tool stops before writing, after reading every file.
    assert proc.returncode == 2 and "pass --videos DIR to extract them" in proc.stderr, proc.stderr
    frames = tmp_path / "AVA" / "frames"
    for video in (TRAIN[0], VAL[0]):
        (frames / video).mkdir(parents=True)
        for n in range(1, 8 * 30 + 1):
            (frames / video / f"{video}_{n:06d}.jpg").write_bytes(b"")
    proc = run_tool("make_subset.py", "--annotations", ann, "--out", out, "--train-ids", TRAIN[0],
                    "--val-ids", VAL[0], *WINDOW)
    assert proc.returncode == 0, proc.stderr
    kept = {TRAIN_PREDICTED: {TRAIN[0]}, VAL_PREDICTED: {VAL[0]}, "ava_val_excluded_timestamps_extra.csv": {VAL[0]},
            names.TRAIN_DETECTIONS: {TRAIN[0]}, names.VAL_DETECTIONS: {VAL[0]}, names.TRAIN_GT: {TRAIN[0]},
            names.VAL_GT: {VAL[0]}}
    for name, videos in kept.items():
        expected = independent_filter(ann / name, videos)
        assert expected and (out / "annotations" / name).read_text() == expected, name
    assert not (out / "annotations" / "README.txt").exists() and not (out / "annotations" / "notes.csv").exists()
    assert "not copied (not a per-video CSV of AVA's formats): README.txt, notes.csv" in proc.stdout
    assert f"also kept, filtered to these videos: {TRAIN_PREDICTED}, ava_val_excluded_timestamps_extra.csv, " \
           f"{VAL_PREDICTED}" in proc.stdout
    config = yaml.safe_load((out / "SLOWFAST_32x2_R101_subset.yaml").read_text())
    assert config["AVA"]["TEST_PREDICT_BOX_LISTS"] == [names.VAL_DETECTIONS]  # the recipe's, as before
    text = (out / "SLOWFAST_32x2_R101_subset.yaml").read_text()
    assert f"the subset also holds {TRAIN_PREDICTED}, {VAL_PREDICTED}" in text


def test_a_folder_with_only_lfbs_boxes_trains_on_them(tmp_path):
    ann = make_source(tmp_path / "src", recipe_detections=False)
    out = tmp_path / "AVA"
    for video in (TRAIN[0], VAL[0]):
        (out / "frames" / video).mkdir(parents=True)
        for n in range(1, 8 * 30 + 1):
            (out / "frames" / video / f"{video}_{n:06d}.jpg").write_bytes(b"")
    proc = run_tool("make_subset.py", "--annotations", ann, "--out", out, "--train-ids", TRAIN[0],
                    "--val-ids", VAL[0], *WINDOW)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((out / "SLOWFAST_32x2_R101_subset.yaml").read_text())
    assert config["AVA"]["TEST_PREDICT_BOX_LISTS"] == [VAL_PREDICTED]
    assert config["AVA"]["TRAIN_PREDICT_BOX_LISTS"] == [names.TRAIN_GT, TRAIN_PREDICTED]
    assert f"person boxes in the config: {TRAIN_PREDICTED}, {VAL_PREDICTED}" in proc.stdout


def test_without_any_val_person_boxes_the_source_is_refused(tmp_path):
    ann = make_source(tmp_path / "src", recipe_detections=False)
    (ann / VAL_PREDICTED).unlink()
    proc = run_tool("make_subset.py", "--annotations", ann, "--out", tmp_path / "AVA", "--train-ids", TRAIN[0],
                    "--val-ids", VAL[0], *WINDOW)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"missing annotation file {names.VAL_DETECTIONS} (or {VAL_PREDICTED})" in proc.stderr
