"""Keyframe seconds, tracked frames and reversible keyframe image names."""

import pytest

from slowfast_custom.errors import DataError, UserError
from slowfast_custom.labelling.keyframes import (
    image_sizes_from_frames,
    keyframe_image_name,
    keyframe_seconds,
    parse_keyframe_image_name,
    tracking_frames,
)

from rendered_frames import write_video_frames


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


@pytest.mark.parametrize("video, second", [("vtest", 2), ("a__0001", 17), ("-5KQ66BBWC4", 1798), ("x_y", 0)])
def test_image_names_are_reversible(video, second):
    name = keyframe_image_name(video, second)
    assert parse_keyframe_image_name(name) == (video, second)
    assert parse_keyframe_image_name("some/folder/" + name) == (video, second)


def test_unparsable_image_name():
    with pytest.raises(ValueError, match="not a keyframe image name"):
        parse_keyframe_image_name("vtest_000061.jpg")


def test_image_sizes_from_frames(tmp_path):
    write_video_frames(tmp_path, "v1", seconds=1, size=(161, 97))
    assert image_sizes_from_frames(tmp_path, ["v1"]) == {"v1": (161, 97)}
    with pytest.raises(DataError, match="no frames folder for video v2"):
        image_sizes_from_frames(tmp_path, ["v2"])
