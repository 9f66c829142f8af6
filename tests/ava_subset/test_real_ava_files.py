"""AVA's own files as AVA publishes them, through the seed's first workflow: make_subset (folder and tar), the
checker, one training epoch with upstream's recipe lists (ground truth + the include_negative detections) and
evaluation on the 60-class map.

The annotation set comes from ``write_example_files``, which reproduces the real files' quirks: 4-digit seconds
902-1798, one row per action with person ids, all 80 ids in the ground truth beside the 60-id ``item`` map and the
80-id ``label`` map, ``-1`` negatives in ``*_include_negative_v2.2.csv`` and empty actions in the val detections,
excluded timestamps, ids starting with ``-``.
"""

from __future__ import annotations

import argparse
import json
import math
import tarfile
from pathlib import Path

import pytest
import yaml

from slowfast_custom.ava import formats as af
from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.example_files import ACTION_NAMES, EVAL_IDS, ExampleSpec, write_example_files
from slowfast_custom.video.frames import render_test_pattern

from conftest import SHARED, TINY_CFG, TINY_OVERRIDES, run_tool, tiny_cfg

TRAIN = ("-5KQ66BBWC4", "4ZpjKfu6Cl8")  # the second one is not selected
VAL = ("1j20qq1JyX4", "7g37N3eoQ9s")
WINDOW = ["--start-sec", "900", "--end-sec", "908"]  # AVA's cut starts at 900; annotated seconds 902..905 used


@pytest.fixture(scope="module")
def ava(tmp_path_factory):
    root = tmp_path_factory.mktemp("ava")
    folder = root / "ava_annotations"
    write_example_files(folder, ExampleSpec(train_ids=TRAIN, val_ids=VAL))  # every second 902-1798
    with tarfile.open(root / "ava_annotations.tar", "w") as tar:
        tar.add(folder, arcname="ava_annotations")
    # Long enough for the 900-908 cut; 2 fps keeps it small (extraction resamples to 30 fps).
    render_test_pattern(root / "videos" / f"{TRAIN[0]}.mp4", 910, fps=2)
    render_test_pattern(root / "videos" / f"{VAL[0]}.mkv", 910, fps=2)
    return argparse.Namespace(folder=folder, tar=root / "ava_annotations.tar", videos=root / "videos", root=root)


@pytest.fixture(scope="module")
def subset(ava, tmp_path_factory):
    out = tmp_path_factory.mktemp("subset") / "AVA"
    proc = run_tool("make_subset.py", "--annotations", ava.tar, "--videos", ava.videos, "--out", out,
                    f"--train-ids={TRAIN[0]}", f"--val-ids={VAL[0]}", *WINDOW)
    assert proc.returncode == 0, proc.stderr
    return out


def test_generated_files_have_the_real_files_quirks(ava):
    det = (ava.folder / names.TRAIN_DETECTIONS).read_text().splitlines()
    assert names.TRAIN_DETECTIONS.startswith("person_box_67091280_iou90/")
    assert any(line.split(",")[6] == "-1" for line in det)
    assert any(line.split(",")[6] == "" for line in (ava.folder / names.VAL_DETECTIONS).read_text().splitlines())
    gt = af.read_box_csv(ava.folder / names.TRAIN_GT, "gt")
    assert {r.second for r in gt} == set(range(902, 1799))
    assert (ava.folder / names.TRAIN_GT).read_text().startswith(f"{TRAIN[0]},0902,")
    assert {r.action_id for r in gt} - set(EVAL_IDS)  # ids the evaluation map leaves out are in the data
    assert {r.person_id for r in gt} == {0, 1}
    for name in (names.TRAIN_DETECTIONS, names.VAL_DETECTIONS):
        assert af.read_box_csv(ava.folder / name, "predicted")
    evaluated = af.read_label_map(ava.folder / names.LABEL_MAP)
    full = af.read_label_map(ava.folder / names.FULL_LABEL_MAP)
    assert [e.id for e in evaluated] == list(EVAL_IDS) and len(full) == 80
    assert full[63].label_type == "PERSON_INTERACTION" and full[63].name == "fight/hit (a person)"
    assert "item {" in (ava.folder / names.LABEL_MAP).read_text()
    assert "label_type: PERSON_MOVEMENT" in (ava.folder / names.FULL_LABEL_MAP).read_text()


def test_evaluation_ids_and_names_match_avas_published_map():
    """AVA's 60 evaluated classes, as in the published ActivityNet label map (../shared/fixtures)."""
    path = SHARED / "fixtures" / "ava_action_list_v2.1_for_activitynet_2018.pbtxt"
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    published = af.read_label_map(path)
    assert [e.id for e in published] == list(EVAL_IDS)
    assert [e.name for e in published] == [ACTION_NAMES[i - 1] for i in EVAL_IDS]


def test_subset_keeps_negatives_and_the_recipe_lists(ava, subset):
    ann = subset / "annotations"
    kept = (ann / names.TRAIN_DETECTIONS).read_text().splitlines()
    assert kept and all(line.startswith(f"{TRAIN[0]},") for line in kept)
    assert any(line.split(",")[6] == "-1" for line in kept)
    config = yaml.safe_load((subset / "SLOWFAST_32x2_R101_subset.yaml").read_text())
    assert config["AVA"]["TRAIN_PREDICT_BOX_LISTS"] == [names.TRAIN_GT, names.TRAIN_DETECTIONS]
    assert config["AVA"]["VALID_SECONDS"] == [902, 905] and config["MODEL"]["NUM_CLASSES"] == 80


def test_folder_and_tar_give_the_same_subset(ava, subset, tmp_path):
    out = tmp_path / "AVA"
    proc = run_tool("make_subset.py", "--annotations", ava.folder, "--videos", ava.videos, "--out", out,
                    f"--train-ids={TRAIN[0]}", f"--val-ids={VAL[0]}", *WINDOW)
    assert proc.returncode == 0, proc.stderr
    for rel in (names.TRAIN_GT, names.TRAIN_DETECTIONS, names.VAL_DETECTIONS, names.VAL_EXCLUSIONS, "ava.json"):
        assert (out / "annotations" / rel).read_bytes() == (subset / "annotations" / rel).read_bytes(), rel


def subset_overrides(subset: Path):
    ava = yaml.safe_load((subset / "SLOWFAST_32x2_R101_subset.yaml").read_text())["AVA"]
    return [item for key, value in ava.items() for item in (f"AVA.{key}", repr(value))]


def test_checker_reports_no_errors_on_the_subset(subset):
    proc = run_tool("check_dataset.py", subset, "--cfg", subset / "SLOWFAST_32x2_R101_subset.yaml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert proc.stdout.rstrip().endswith("0 errors, 0 warnings")
    # AVA's 20 ids outside the evaluation map: one information line per file, not errors.
    info = [line for line in proc.stdout.splitlines() if ": info: " in line and "not in the label map" in line]
    assert info and all("trained (MODEL.NUM_CLASSES 80), not evaluated" in line for line in info)


def test_negatives_train_as_background(subset, tmp_path):
    """Boxes with action -1 are kept as boxes with all-zero label vectors, as upstream trains them."""
    from slowfast_custom.data.custom_ava import Customava

    cfg = tiny_cfg(subset, tmp_path, *subset_overrides(subset), "MODEL.NUM_CLASSES", "80")
    dataset = Customava(cfg, "train")
    found = 0
    for idx in range(len(dataset)):
        labels = dataset._index.keyframe_labels(idx)
        if [-1] in labels:
            _, label_arrs, _, _ = dataset[idx]
            assert label_arrs[labels.index([-1])].sum() == 0
            assert all(label_arrs[i].sum() == len(set(line)) for i, line in enumerate(labels) if -1 not in line)
            found += 1
    assert found


@pytest.mark.slow
def test_one_epoch_with_the_recipe_lists_then_evaluation(subset, tmp_path):
    proc = run_tool("run_net.py", "--cfg", TINY_CFG, *TINY_OVERRIDES, *subset_overrides(subset),
                    "MODEL.NUM_CLASSES", "80", "DATA.PATH_TO_DATA_DIR", subset, "OUTPUT_DIR", tmp_path,
                    "TRAIN.EVAL_PERIOD", "1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "not in ava_action_list_v2.2_for_activitynet_2019.pbtxt" in proc.stdout  # trained, not evaluated
    metrics = json.loads((tmp_path / "eval" / "val_epoch_00001_metrics.json").read_text())
    assert set(metrics["per_class_ap"]) <= {ACTION_NAMES[i - 1] for i in EVAL_IDS}
    assert len((tmp_path / "eval" / "val_epoch_00001_per_class_ap.csv").read_text().splitlines()) == 1 + 60
    # Ground truth of the evaluated seconds only: 902-905 (AVA.VALID_SECONDS) on upstream's 4 s validation
    # stride (FULL_TEST_ON_VAL False) leaves second 904; the other 893 annotated seconds have no frames here.
    assert math.isfinite(metrics["frame_map"]) and metrics["num_gt_frames"] == 1
