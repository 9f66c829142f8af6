"""Videos of any container -> frames and a frame list, through the shared extractor."""

import cv2
import numpy as np
import pytest

from slowfast_custom.ava.formats import read_frame_list
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.video.extract import collect_videos

from conftest import run_tool


def render_avi(path, seconds=2, fps=12, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for t in range(seconds * fps):
        frame = np.full((size[1], size[0], 3), 40, np.uint8)
        cv2.rectangle(frame, (t, 10), (t + 10, 30), (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def test_tool_extracts_at_30_fps_and_lists_frames(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    render_avi(videos / "clip_a.avi")
    render_avi(videos / "clip_b.avi", seconds=1)
    (videos / "notes.txt").write_text("not a video")
    out = tmp_path / "data"
    result = run_tool("extract_frames.py", videos, "--out", out, "--workers", "2")
    assert result.returncode == 0, result.stderr
    listed = read_frame_list(out / "frame_lists" / "all.csv")
    assert sorted(listed) == ["clip_a", "clip_b"]
    assert abs(len(listed["clip_a"]) - 60) <= 2 and abs(len(listed["clip_b"]) - 30) <= 2
    assert listed["clip_a"][0] == "clip_a/clip_a_000001.jpg" and (out / "frames" / listed["clip_a"][-1]).is_file()
    again = run_tool("extract_frames.py", videos / "clip_b.avi", "--out", out)
    assert again.returncode == 0 and "already complete" in again.stdout


def test_window_and_id(tmp_path):
    render_avi(tmp_path / "long.avi", seconds=3)
    out = tmp_path / "data"
    result = run_tool("extract_frames.py", tmp_path / "long.avi", "--out", out, "--id", "part2", "--start-sec", "1",
                      "--end-sec", "2")
    assert result.returncode == 0, result.stderr
    assert abs(len(read_frame_list(out / "frame_lists" / "all.csv")["part2"]) - 30) <= 2


def test_collect_videos_errors(tmp_path):
    with pytest.raises(DataError, match="video or folder not found"):
        collect_videos([tmp_path / "nope.mp4"])
    with pytest.raises(UserError, match="no videos found"):
        collect_videos([tmp_path])
    (tmp_path / "my clip.mp4").write_bytes(b"")
    with pytest.raises(DataError, match="video id 'my clip'.*space"):
        collect_videos([tmp_path])
