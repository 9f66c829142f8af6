"""slowfast_custom.video.frames: probing, resumable frame extraction, clips, on 3-second generated videos."""

from __future__ import annotations

import json
import wave
from fractions import Fraction
from pathlib import Path

import pytest

from slowfast_custom.errors import DataError
from slowfast_custom.video.frames import (
    MARKER,
    ExtractJob,
    cut_clip,
    extract_frames,
    extract_many,
    probe,
    render_test_pattern,
)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    render_test_pattern(root / "-dash.mp4", 3, fps=25)
    render_test_pattern(root / "other.mkv", 3, fps=30)
    (root / "broken.webm").write_bytes(b"not a video at all")
    return root


def test_probe(videos):
    info = probe(videos / "-dash.mp4")
    assert (info.width, info.height, info.fps, info.codec) == (160, 120, Fraction(25), "h264")
    assert isinstance(info.fps, Fraction) and info.duration == pytest.approx(3.0, abs=0.05)


def test_probe_names_the_file_it_cannot_use(videos, tmp_path):
    with pytest.raises(DataError, match=r"nope\.mp4: video not found"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(DataError, match=r"video is not a file"):
        probe(tmp_path)
    with pytest.raises(DataError, match=r"broken\.webm: cannot read video"):
        probe(videos / "broken.webm")
    with wave.open(str(tmp_path / "sound.wav"), "wb") as sound:
        sound.setparams((1, 2, 8000, 0, "NONE", "not compressed"))  # mono, 16 bit, 8 kHz
        sound.writeframes(bytes(1600))
    with pytest.raises(DataError, match=r"sound\.wav: has no video stream"):
        probe(tmp_path / "sound.wav")


def test_extract_window_numbering_and_resume(videos, tmp_path):
    frames = tmp_path / "frames"
    count = extract_frames(videos / "-dash.mp4", frames, "-dash", fps=30, start_sec=1, end_sec=2.5)
    folder = frames / "-dash"
    names = sorted(p.name for p in folder.glob("*.jpg"))
    assert count == 45 and len(names) == 45  # 1.5 s at 30 fps, from a 25 fps source
    assert names[0] == "-dash_000001.jpg" and names[-1] == "-dash_000045.jpg"
    assert json.loads((folder / MARKER).read_text())["frames"] == 45
    assert not [p for p in frames.iterdir() if p.name.startswith(".")]  # no temporary folder left

    before = (folder / "-dash_000010.jpg").stat().st_mtime_ns
    assert extract_frames(videos / "-dash.mp4", frames, "-dash", fps=30, start_sec=1, end_sec=2.5) == 45
    assert (folder / "-dash_000010.jpg").stat().st_mtime_ns == before  # complete: kept as it is

    (folder / "-dash_000045.jpg").unlink()  # an incomplete folder is redone
    assert extract_frames(videos / "-dash.mp4", frames, "-dash", fps=30, start_sec=1, end_sec=2.5) == 45
    assert (folder / "-dash_000045.jpg").is_file()

    # Other settings: redone with them.
    assert extract_frames(videos / "-dash.mp4", frames, "-dash", fps=10, start_sec=1, end_sec=2.5) == 15
    assert len(list(folder.glob("*.jpg"))) == 15


def test_a_video_too_short_is_reported_not_half_done(videos, tmp_path):
    with pytest.raises(DataError, match=r"-dash\.mp4: video -dash is 3\.00 s long, too short for seconds 2-5"):
        extract_frames(videos / "-dash.mp4", tmp_path, "-dash", start_sec=2, end_sec=5)
    assert list(tmp_path.iterdir()) == []


def test_extract_many_runs_every_job_then_reports_failures(videos, tmp_path):
    jobs = [ExtractJob(videos / "other.mkv", tmp_path, "other", fps=5),
            ExtractJob(videos / "broken.webm", tmp_path, "broken")]
    results = extract_many(jobs, workers=2, raise_errors=False)
    assert [r.ok for r in results] == [True, False] and results[0].frames == 15
    assert "broken.webm" in str(results[1].error)
    with pytest.raises(DataError, match="broken.webm"):
        extract_many(jobs, workers=2)
    assert extract_many(jobs[:1], workers=1)[0].skipped


def test_cut_clip_is_frame_accurate_and_resumable(videos, tmp_path):
    clip = tmp_path / "clips" / "other.mp4"
    assert cut_clip(videos / "other.mkv", clip, start_sec=1, end_sec=2)
    assert probe(clip).duration == pytest.approx(1.0, abs=0.1)
    assert not cut_clip(videos / "other.mkv", clip, start_sec=1, end_sec=2)
    assert cut_clip(videos / "other.mkv", clip, start_sec=0, end_sec=1)  # other seconds: cut again
    clip.write_bytes(b"half a file")
    assert cut_clip(videos / "other.mkv", clip, start_sec=0, end_sec=1)
