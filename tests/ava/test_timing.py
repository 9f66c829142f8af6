"""Seconds and frames: keyframe seconds, tracked frames, clip indices and the frame-order rules."""

import numpy as np
import pytest

from slowfast_custom.ava.timing import (
    DEFAULT_SPLIT_DISTANCE_SEC,
    ascending,
    clip_frame_indices,
    format_seconds,
    frame_id_order_problem,
    keyframe_seconds,
    second_to_frame,
    seconds_to_frames,
    split_distance_sec,
    split_overlap_problem,
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



@pytest.mark.parametrize("frames, sampling_rate, fps, target_fps, distance", [
    (32, 2, 30.0, 30, 3),  # SlowFast 32x2: 2.13 s
    (8, 4, 30.0, 30, 2),  # the tiny CPU config: 1.07 s
    (8, 8, 30.0, 30, 3),  # 2.13 s
    (16, 2, 29.97, 30, 2),  # 1.07 s on NTSC frames
    (15, 2, 30.0, 30, 1),  # exactly 1 s: one second apart is enough
])
def test_split_distance_is_the_clip_span_rounded_up(frames, sampling_rate, fps, target_fps, distance):
    step = sampling_rate * fps / target_fps  # how the checker and training give the clip
    assert split_distance_sec(frames, step, fps) == distance
    # keyframes that far apart have clips without a shared frame
    train = set(clip_frame_indices(second_to_frame(10, fps, 0), frames, step, 10**6))
    val = set(clip_frame_indices(second_to_frame(10 + distance, fps, 0), frames, step, 10**6))
    assert not train & val
    assert DEFAULT_SPLIT_DISTANCE_SEC == 3


def test_split_overlap_names_the_seconds_too_close():
    assert split_overlap_problem("cam", [2, 3, 11], [14, 15, 16], 3) is None  # 11 and 14: 3 s apart
    message, train = split_overlap_problem("cam", [2, 12, 13, 15], [14, 15, 16, 20], 3)
    assert train == [12, 13, 15]
    assert message.startswith("video cam is labelled in the train split at seconds 12-13, 15 and in the val split at "
                              "seconds 14-16, less than 3 s apart")
    assert format_seconds([5, 1, 2, 3, 9, 10]) == "1-3, 5, 9-10"
