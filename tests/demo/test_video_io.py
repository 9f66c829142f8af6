"""Decoding and encoding videos: sizes, frame rates, containers, fallbacks, and nothing half-written."""

import logging

import numpy as np
import pytest

from slowfast_custom.demo import video_io
from slowfast_custom.demo.video_io import check_writable, open_writer, read_frames
from slowfast_custom.errors import UserError
from slowfast_custom.video.frames import probe


def write_video(path, n=12, size=(64, 48), fps=10):
    width, height = size
    with open_writer(path, width, height, video_io.Fraction(fps)) as writer:
        for i in range(n):
            writer.write(np.full((height, width, 3), (20 * i) % 256, np.uint8))
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi", ".webm"])
def test_round_trip_keeps_count_size_and_rate(tmp_path, suffix):
    path = write_video(tmp_path / f"v{suffix}")
    info = probe(path)
    assert (info.width, info.height, info.fps) == (64, 48, 10)
    frames = list(read_frames(info))
    assert len(frames) == 12
    assert [round(f.time, 3) for f in frames] == [round(i / 10, 3) for i in range(12)]
    assert abs(float(frames[5].image.mean()) - 100) < 6


def test_h264_is_the_default_and_odd_sizes_are_kept(tmp_path):
    info = probe(write_video(tmp_path / "odd.mp4", size=(65, 49)))
    assert info.codec == "h264" and (info.width, info.height) == (65, 49)


def test_missing_encoder_falls_back_and_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(video_io.CONTAINERS, ".mp4", ("mp4", ("no_such_encoder", "mpeg4")))
    with caplog.at_level(logging.WARNING):
        info = probe(write_video(tmp_path / "v.mp4"))
    assert info.codec == "mpeg4"
    assert "no_such_encoder is not in this PyAV build" in caplog.text


def test_max_seconds_stops_early(tmp_path):
    assert len(list(read_frames(probe(write_video(tmp_path / "v.mp4")), max_seconds=0.5))) == 5


def test_an_interrupted_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with open_writer(tmp_path / "v.mp4", 64, 48, video_io.Fraction(10)) as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_unwritable_or_unknown_outputs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    # The OS says "File exists" (making the folder) or "Not a directory": the message names the file in the way.
    with pytest.raises(UserError, match=r"file/out\.mp4: .*file is a file, not a folder"):
        check_writable(blocker / "out.mp4")
    with pytest.raises(UserError, match=r"file/sub/out\.mp4: .*/file is a file, not a folder"):
        check_writable(blocker / "sub" / "out.mp4")
    with pytest.raises(UserError, match="is a folder"):
        check_writable(tmp_path)
    with pytest.raises(UserError, match=r"extension '\.gif'"):
        video_io.check_output_path(tmp_path / "out.gif")
    assert list(tmp_path.iterdir()) == [blocker]
