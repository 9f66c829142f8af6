"""Seconds and frames: keyframe seconds, tracked frames, clip indices and the frame-order rules."""

import numpy as np
import pytest

from slowfast_custom.ava.timing import (
    ascending,
    clip_frame_indices,
    frame_id_order_problem,
    keyframe_seconds,
    second_to_frame,
    seconds_to_frames,
    time_order_problem,
    tracking_frames,
)
from slowfast_custom.errors import UserError


def test_keyframe_seconds_leave_margins_like_ava():
    assert keyframe_seconds(300, 30.0, 2) == [2, 3, 4, 5, 6, 7, 8]  # a 10 s video
    assert keyframe_seconds(299, 30.0, 2) == [2, 3, 4, 5, 6, 7]
    assert keyframe_seconds(125, 25.0, 0) == [0, 1, 2, 3, 4]  # any frame rate; second 5 would be frame 125
    assert keyframe_seconds(90, 30.0, 2) == []
    with pytest.raises(UserError):
        keyframe_seconds(100, 0.0)


def test_tracking_frames_cover_keyframes_at_the_tracking_rate():
    frames = tracking_frames(300, [2, 3, 4], fps=30.0, track_fps=5.0)
    assert frames[0] == 0 and frames[-1] == 120
    assert {60, 90, 120} <= set(frames)
    assert all(b - a == 6 for a, b in zip(frames, frames[1:]))
    odd = tracking_frames(300, [2, 3], fps=29.97, track_fps=4.0)
    assert {60, 90} <= set(odd) and odd == sorted(set(odd))
    assert tracking_frames(300, [], 30.0, 5.0) == []
    with pytest.raises(UserError, match="tracking rate"):
        tracking_frames(300, [2], 30.0, 0)


def test_second_to_frame_one_rule_for_one_and_many_seconds():
    assert second_to_frame(902, 30.0, 900) == 60
    seconds = np.arange(900, 1000)
    for fps in (30.0, 29.97, 25.0, 12.5):
        assert seconds_to_frames(seconds, fps, 900).tolist() == [second_to_frame(s, fps, 900) for s in seconds]


def test_clip_frame_indices_clamp_to_the_video():
    assert clip_frame_indices(10, 4, 2.0, 100) == [6, 8, 10, 12]
    assert clip_frame_indices(1, 4, 2.0, 100) == [0, 0, 1, 3]
    assert clip_frame_indices(98, 4, 2.0, 100) == [94, 96, 98, 99]


def test_order_rules_agree_on_one_and_many_rows():
    assert frame_id_order_problem("v", 3, None) is None
    assert frame_id_order_problem("v", 3, (2, 7)) is None
    assert frame_id_order_problem("v", 3, (3, 7)) == "frames of video v are not sorted (frame_id 3 after 3 on line 7)"
    assert "image 412 on line 2: the images are out of time order" in time_order_problem(
        "v", 1, "v/v_000007.jpg", 7, (412, 2))
    assert time_order_problem("v", 1, "v/x.jpg", None, (412, 2)) is None
    for values, after in (([1, 2, 3], 0), ([1, 1, 2], 0), ([2, 1], 0), ([1, 2], 1), ([], 5)):
        one_by_one = all(frame_id_order_problem("v", v, (p, 1)) is None for v, p in zip(values, [after] + values))
        assert ascending(np.array(values, np.int64), after) == one_by_one

