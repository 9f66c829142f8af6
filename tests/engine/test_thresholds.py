"""Per-class thresholds that maximise F1: hand-made cases whose optimum is worked out by hand, and the file."""

import json

import numpy as np
import pytest

from slowfast_custom.engine.thresholds import (
    NO_EXAMPLES,
    NO_HITS,
    best_f1_threshold,
    class_thresholds,
    read_thresholds,
    write_thresholds,
)
from slowfast_custom.errors import DataError


def test_best_cut_of_a_hand_made_case():
    # Sorted: 0.9 hit, 0.8 hit, 0.7 miss, 0.6 hit, 0.5 miss, 0.4 miss; 4 ground-truth boxes (one never detected).
    # F1 = 2 TP / (kept + 4) at each cut: .4, .667, .571, .75, .667, .6 -> the cut at 0.6.
    scores = np.array([0.5, 0.9, 0.6, 0.4, 0.8, 0.7])
    hits = np.array([False, True, True, False, True, False])
    best = best_f1_threshold(scores, hits, 4)
    assert best.threshold == 0.6
    assert (best.f1, best.precision, best.recall) == pytest.approx((0.75, 0.75, 0.75))


def test_equal_scores_are_kept_or_dropped_together():
    # Keeping only the hit of the two 0.8s would give F1 1, but no threshold can split equal scores.
    best = best_f1_threshold(np.array([0.8, 0.8]), np.array([True, False]), 1)
    assert best.threshold == 0.8 and best.f1 == pytest.approx(2 / 3)
    # Both 0.7s kept: 2 hits of 3 kept, recall 1 -> F1 .8 beats the cut at 0.9 (F1 .667).
    best = best_f1_threshold(np.array([0.7, 0.9, 0.7]), np.array([False, True, True]), 2)
    assert best.threshold == 0.7 and best.f1 == pytest.approx(0.8)


def test_of_equally_good_cuts_the_highest_wins():
    # 3 boxes: the cut at 0.9 (1 hit, 1 kept) and at 0.5 (2 hits, 5 kept) both give F1 0.5.
    best = best_f1_threshold(np.array([0.9, 0.8, 0.7, 0.6, 0.5]), np.array([1, 0, 0, 0, 1], bool), 3)
    assert best.threshold == 0.9 and best.f1 == pytest.approx(0.5)


def test_nothing_to_calibrate_gives_no_threshold():
    assert best_f1_threshold(np.array([0.9, 0.2]), np.array([False, False]), 0).threshold is None
    assert best_f1_threshold(np.array([0.9, 0.2]), np.array([False, False]), 3).threshold is None
    assert best_f1_threshold(np.zeros(0), np.zeros(0, bool), 2).threshold is None


def test_inconsistent_inputs_are_refused():
    with pytest.raises(ValueError, match="2 scores but 1"):
        best_f1_threshold(np.array([0.1, 0.2]), np.array([True]), 1)
    with pytest.raises(ValueError, match="2 true positives cannot come from 1"):
        best_f1_threshold(np.array([0.1, 0.2]), np.array([True, True]), 1)


def test_class_thresholds_say_why_a_class_falls_back(tmp_path, caplog):
    classes = [(1, "stand"), (2, "walk"), (3, "wave")]
    scores = {1: np.array([0.3, 0.2]), 2: np.array([0.9, 0.1]), 3: np.array([0.4])}
    hits = {1: np.array([False, False]), 2: np.array([True, False]), 3: np.array([False])}
    chosen = class_thresholds(classes, scores, hits, {2: 1, 3: 2}, {"stand": float("nan"), "walk": 1.0, "wave": 0.0})
    stand, walk, wave = chosen
    assert (stand.threshold, stand.support, stand.ap, stand.note) == (None, 0, None, NO_EXAMPLES)
    assert (walk.threshold, walk.f1, walk.support, walk.detections, walk.ap, walk.note) == (0.9, 1.0, 1, 2, 1.0, "")
    assert (wave.threshold, wave.note) == (None, NO_HITS)

    path = tmp_path / "checkpoints" / "thresholds.json"
    with caplog.at_level("INFO"):
        write_thresholds(path, "val_epoch_00002", chosen)
    assert "global threshold for stand, wave" in caplog.text
    data = json.loads(path.read_text())
    assert data["evaluation"] == "val_epoch_00002" and data["classes"][1]["threshold"] == 0.9
    assert read_thresholds(path) == {"stand": None, "walk": 0.9, "wave": None}
    assert [p.name for p in path.parent.iterdir()] == ["thresholds.json"]  # no temporary file left


def test_missing_or_broken_thresholds_file_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"thresholds.json: calibrated thresholds not found. Train with "
                                        r"TRAIN.EVAL_PERIOD > 0"):
        read_thresholds(tmp_path / "thresholds.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"classes": [{"name": "walk", "threshold": 7}]}')
    with pytest.raises(DataError, match=r"bad.json: not a thresholds file \(threshold of 'walk' is 7"):
        read_thresholds(bad)
