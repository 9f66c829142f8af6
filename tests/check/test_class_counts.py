"""Boxes per class and split in the checker's report: the counts, classes without training boxes, NUM_CLASSES."""

from collections import Counter

import pytest

from slowfast_custom.ava.formats import read_box_csv
from slowfast_custom.check.class_counts import class_box_counts, class_count_findings

from conftest import TINY_CFG, copy_of_dataset, run_tool

TRAIN_GT = "annotations/ava_train_v2.2.csv"
VAL_GT = "annotations/ava_val_v2.2.csv"
LABEL_MAP = "annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt"


@pytest.fixture
def data(tiny_dataset, tmp_path):
    return copy_of_dataset(tiny_dataset, tmp_path / "data")


def csv_counts(path):
    """Boxes per action id, counted from the file's text (independently of the readers)."""
    return Counter(int(line.split(",")[6]) for line in path.read_text().splitlines() if line.strip())


def test_counts_are_those_of_the_files(data):
    counts = class_box_counts(data / LABEL_MAP, {"train": [data / TRAIN_GT], "val": [data / VAL_GT]})
    assert counts.boxes == {"train": csv_counts(data / TRAIN_GT), "val": csv_counts(data / VAL_GT)}
    lines = counts.table().splitlines()
    assert lines[0].split() == ["id", "class", "train", "val"]
    assert lines[1].split() == ["1", "stand", str(csv_counts(data / TRAIN_GT)[1]), str(csv_counts(data / VAL_GT)[1])]


def test_checker_prints_counts_and_warns_about_a_class_without_training_boxes(data):
    """The seam the user meets: the tool's output, after every train box of 'walk' is relabelled 'stand'."""
    gt = data / TRAIN_GT
    rows = [line.split(",") for line in gt.read_text().splitlines()]
    gt.write_text("\n".join(",".join(r[:6] + (["1"] if r[6] == "2" else [r[6]]) + r[7:]) for r in rows) + "\n")
    train = csv_counts(gt)
    assert train[2] == 0 and train[1] > 0
    result = run_tool("check_dataset.py", data, "--cfg", TINY_CFG)
    assert result.returncode == 0, result.stdout + result.stderr  # a warning, not an error
    out = result.stdout
    assert "ground-truth boxes per class and split" in out
    val = csv_counts(data / VAL_GT)
    for action_id, name in enumerate(("stand", "walk", "jump", "wave"), start=1):
        assert f"{action_id:>5}  {name:<5}{train[action_id]:>8}{val[action_id]:>8}" in out
    assert "warning: class walk (id 2) has no training boxes. The model cannot learn it" in out
    assert out.count("has no training boxes") == 1
    assert out.rstrip().endswith("0 errors, 1 warnings")


def test_num_classes_above_every_id_is_a_warning(data):
    files = {"train": [data / TRAIN_GT], "val": [data / VAL_GT]}
    findings = class_count_findings(data / LABEL_MAP, files, 6)
    assert [f.message for f in findings if f.severity == "warning"] == [
        "MODEL.NUM_CLASSES is 6, but the label map and the boxes use ids up to 4: the head's outputs 5-6 are never "
        "trained"]
    assert not [f for f in class_count_findings(data / LABEL_MAP, files, 4) if f.severity == "warning"]
    # Ids trained but outside the (evaluation) label map count as used, as AVA's 80 trained / 60 evaluated.
    (data / TRAIN_GT).write_text((data / TRAIN_GT).read_text() + "synth_train_000,0001,0.1,0.1,0.2,0.2,6,9\n")
    assert not [f for f in class_count_findings(data / LABEL_MAP, files, 6) if f.severity == "warning"]
    assert read_box_csv(data / TRAIN_GT, "gt")[-1].action_id == 6


def test_classes_without_validation_boxes_are_one_information_line(data):
    val = data / VAL_GT
    val.write_text("".join(line + "\n" for line in val.read_text().splitlines() if line.split(",")[6] != "3"))
    findings = class_count_findings(data / LABEL_MAP, {"train": [data / TRAIN_GT], "val": [val]}, 4)
    info = [f.message for f in findings if f.kind == "class without validation boxes"]
    missing = [n for i, n in enumerate(("stand", "walk", "jump", "wave"), 1) if csv_counts(val)[i] == 0]
    assert "jump" in missing and info == [f"classes without validation boxes, so without AP ({len(missing)}): "
                                          f"{', '.join(missing)}"]
