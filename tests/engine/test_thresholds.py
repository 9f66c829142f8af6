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


def test_a_threshold_is_never_below_the_floor():
    # Hits scored 0.0002 and 0.0001 and a miss at 0.9: max F1 alone cuts at 0.0001 (F1 0.8).
    scores, hits = np.array([0.9, 0.0002, 0.0001]), np.array([False, True, True])
    assert best_f1_threshold(scores, hits, 2).threshold == 0.0001
    floored = best_f1_threshold(scores, hits, 2, floor=0.25)
    assert (floored.threshold, floored.f1) == (0.25, 0.0)  # no hit at or above it
    # A hit above the floor: the best cut among those at or above it.
    best = best_f1_threshold(np.array([0.9, 0.5, 0.1]), np.array([False, True, True]), 2, floor=0.3)
    assert best.threshold == 0.5 and best.f1 == pytest.approx(0.5)  # 1 hit of 2 kept, of 2 boxes


def test_floor_is_the_prevalence_and_notes_say_floored_or_chance():
    # 8 person boxes; walk holds 2 (prevalence 0.25, chance F1 0.4), jump 4 (0.5, chance F1 0.667).
    classes = [(1, "walk"), (2, "jump")]
    scores = {1: np.array([0.9, 0.0002, 0.0001]), 2: np.array([0.8, 0.7, 0.6, 0.55, 0.52, 0.51])}
    hits = {1: np.array([False, True, True]), 2: np.array([True, False, True, False, False, False])}
    walk, jump = class_thresholds(classes, scores, hits, {1: 2, 2: 4}, {"walk": 0.3, "jump": 0.5}, num_boxes=8,
                                  floor_factor=1.0)
    assert (walk.prevalence, walk.floor, walk.threshold) == (0.25, 0.25, 0.25)
    assert walk.note.startswith("raised to the floor") and "0.0001" in walk.note
    assert walk.chance_f1 == pytest.approx(0.4) and "no better than chance (0.400" in walk.note
    # jump: best cut 0.6 (2 hits of 3 kept, 4 boxes): F1 4/7 = 0.571 < chance 0.667.
    assert jump.threshold == 0.6 and jump.f1 == pytest.approx(4 / 7) and jump.floor == 0.5
    assert jump.note == "F1 no better than chance (0.667: flagging every box)"
    # No floor asked for: max F1 alone, as before.
    free = class_thresholds(classes, scores, hits, {1: 2, 2: 4}, {}, num_boxes=8, floor_factor=0.0)[0]
    assert free.threshold == 0.0001 and "floor" not in free.note
