"""Which actions are shown (upstream's thresholds, top-k) and where boxes and labels are drawn."""

import numpy as np
import pytest

from slowfast_custom.config import get_cfg
from slowfast_custom.demo.draw import PALETTE, LabelPolicy, Painter
from slowfast_custom.demo.people import Person
from slowfast_custom.errors import UserError

NAMES = ["walk", "wave", "jump", "stand"]  # "walk" is one of upstream's common classes


def policy(*overrides):
    cfg = get_cfg()
    cfg.merge_from_list(list(overrides))
    return LabelPolicy.from_cfg(cfg)


def test_thres_mode_uses_the_common_and_uncommon_thresholds():
    scores = np.array([0.6, 0.5, 0.2, 0.35])
    # walk (common) needs 0.7; wave and stand (uncommon) 0.3.
    assert policy().select(scores, NAMES) == [(1, 0.5), (3, 0.35)]
    assert policy("DEMO.COMMON_CLASS_THRES", 0.55).select(scores, NAMES)[0] == (0, 0.6)
    assert policy("DEMO.TOPK", 1).select(scores, NAMES) == [(1, 0.5)]


def test_top_k_mode_shows_the_best_whatever_their_score():
    scores = np.array([0.1, 0.05, 0.2, 0.01])
    assert policy("DEMO.VIS_MODE", "top-k", "DEMO.TOPK", 2).select(scores, NAMES) == [(2, 0.2), (0, 0.1)]


def test_calibrated_mode_uses_each_classs_own_threshold_else_the_global_one():
    cfg = get_cfg()
    cfg.merge_from_list(["DEMO.VIS_MODE", "calibrated", "DEMO.TOPK", "4"])
    calibrated = LabelPolicy.from_cfg(cfg, {"walk": 0.55, "wave": 0.6, "jump": None, "stand": 0.1})
    scores = np.array([0.6, 0.5, 0.35, 0.2])
    # walk 0.6 >= its 0.55 (the global common one is 0.7); wave 0.5 < its 0.6; jump has none: the uncommon 0.3.
    assert calibrated.select(scores, NAMES) == [(0, 0.6), (2, 0.35), (3, 0.2)]
    assert policy("DEMO.TOPK", 4).select(scores, NAMES) == [(1, 0.5), (2, 0.35)]  # "thres": global ones only


def test_unknown_mode_is_an_error():
    with pytest.raises(UserError, match="DEMO.VIS_MODE 'best'"):
        policy("DEMO.VIS_MODE", "best")


def test_box_edges_in_the_person_colour_and_nothing_inside():
    image = np.zeros((120, 160, 3), np.uint8)
    painter = Painter(160, 120, NAMES)
    painter.person(image, Person((0.25, 0.5, 0.75, 0.9)), [(1, 0.5)], order=0, show_id=False)
    assert tuple(image[84, 40]) == PALETTE[0]  # left edge
    assert tuple(image[84, 80]) == (0, 0, 0)  # inside
    assert image[50:60, 40:70].any()  # the label above the box


def test_labels_of_a_box_at_the_top_stay_in_the_frame():
    image = np.zeros((120, 160, 3), np.uint8)
    painter = Painter(160, 120, NAMES)
    painter.person(image, Person((0.0, 0.0, 0.5, 1.0), person_id=3), [(0, 0.9), (1, 0.8)], order=0, show_id=True)
    assert tuple(image[60, 0]) == PALETTE[3]  # coloured by track id
    assert image[2:20, 5:60].any()  # labels inside the box, at its top


def test_ground_truth_box_is_drawn_with_its_action_names():
    image = np.zeros((120, 160, 3), np.uint8)
    Painter(160, 120, NAMES).ground_truth(image, Person((0.1, 0.1, 0.9, 0.9), actions=(2,)))
    assert tuple(image[60, 16]) == (255, 255, 255)
    assert image[95:108, 20:60].any()
