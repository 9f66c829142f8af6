"""Frame-mAP through upstream's evaluator: detections reach it (and its CSV) best score first in each frame."""

import json

import numpy as np
import pytest

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry
from slowfast_custom.engine.evaluation import evaluate, groundtruth_from_rows, score_order

LABELS = [LabelMapEntry(1, "walk"), LabelMapEntry(2, "stand")]
GT_BOX = (0.2, 0.2, 0.6, 0.8)
TIGHT = (0.21, 0.2, 0.6, 0.8)  # IoU 0.975 with the ground truth
LOOSE = (0.0, 0.2, 0.6, 0.8)  # IoU 0.67: a match too, when it comes first


def run_evaluation(tmp_path, first_box, first_score, second_box, second_score):
    """One frame, one ground-truth walk box, two detections in the given (file) order."""
    gt = groundtruth_from_rows([BoxRow("v", 5, GT_BOX, 1, 0)], {1, 2})
    preds = np.array([[first_score, 0.01], [second_score, 0.02]], dtype=np.float32)
    boxes = np.array([[0, *first_box], [0, *second_box]], dtype=np.float32)
    meta = np.array([[0, 5], [0, 5]])
    return evaluate(preds, boxes, meta, ["v"], LABELS, gt, set(), tmp_path, "val", tmp_path / "thresholds.json")


def test_the_best_scored_box_of_a_frame_is_matched_first_whatever_the_file_order(tmp_path):
    # Low score on the loose box first, as a detector may list them: the high-scored tight box must be the hit.
    result = run_evaluation(tmp_path, LOOSE, 0.142, TIGHT, 0.689)
    assert result.per_class_ap["walk"] == pytest.approx(1.0)
    assert result.frame_map == pytest.approx(1.0)
    walk = json.loads((tmp_path / "thresholds.json").read_text())["classes"][0]
    assert walk["threshold"] == pytest.approx(0.689, abs=1e-6) and walk["f1"] == pytest.approx(1.0)
    rows = (tmp_path / "val_detections.csv").read_text().splitlines()
    scores = [float(r.split(",")[-1]) for r in rows]
    assert scores == sorted(scores, reverse=True) and rows[0].endswith(",1,0.6890")
    # The same detections in the other file order give the same result.
    other = run_evaluation(tmp_path / "b", TIGHT, 0.689, LOOSE, 0.142)
    assert other.per_class_ap["walk"] == result.per_class_ap["walk"]


def test_score_order_is_stable_and_descending():
    assert score_order([0.1, 0.5, 0.5, 0.9]) == [3, 1, 2, 0]
    assert score_order([]) == []
