"""Frame sizes from image headers, and the one rule on them (slowfast_custom/ava/images.py)."""

from __future__ import annotations

import io

import pytest

from slowfast_custom.ava.images import MIN_FRAME_SIDE, frame_file_size, frame_size_problem, inspect_frame_file


def _image(path, width, height, fmt):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, format=fmt)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("fmt,name", [("JPEG", "f.jpg"), ("PNG", "f.png")])
def test_the_size_comes_from_the_header(tmp_path, fmt, name):
    path = _image(tmp_path / name, 160, 120, fmt)
    assert frame_file_size(path) == (120, 160)
    assert inspect_frame_file(path) == (None, (120, 160))


def test_a_broken_file_has_a_problem_and_no_size(tmp_path):
    path = _image(tmp_path / "f.jpg", 160, 120, "JPEG")
    path.write_bytes(path.read_bytes()[:-40])
    assert inspect_frame_file(path) == ("truncated JPEG (no end-of-image marker)", None)


def test_frames_too_small_for_the_model_are_refused():
    assert frame_size_problem((1, 1)) == (f"a 1x1 px frame is smaller than the {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE} px "
                                          "the model needs")
    assert frame_size_problem((MIN_FRAME_SIDE - 1, 640)) is not None
    assert frame_size_problem((MIN_FRAME_SIDE, MIN_FRAME_SIDE)) is None


def test_every_frame_of_a_video_has_the_first_frame_s_size():
    assert frame_size_problem((120, 160), (120, 160)) is None
    assert frame_size_problem((120, 161), (120, 160), "frame 1") == ("frame is 161x120 px, frame 1 is 160x120 px "
                                                                     "(one size per video)")
