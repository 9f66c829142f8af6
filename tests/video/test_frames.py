"""slowfast_custom.video.frames: probing, resumable frame extraction, clips, on 3-second generated videos."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from fractions import Fraction
from pathlib import Path

import pytest

from slowfast_custom.ava.layout import EXTRACT_MARKER
from slowfast_custom.ava.naming import frame_list_from_dir
from slowfast_custom.errors import DataError
from slowfast_custom.video.frames import (
    ExtractJob,
    cut_clip,
    extract_frames,
    extract_many,
    probe,
    remove_stale_temps,
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
    assert json.loads((folder / EXTRACT_MARKER).read_text())["frames"] == 45
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


def test_a_truncated_video_fails_unless_the_window_fits_what_is_there(tmp_path):
    whole = render_test_pattern(tmp_path / "whole.avi", 4, fps=25)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the AVI header still states 100 frames
    assert probe(cut).header_frames == 100 and probe(cut).duration < 3
    out = tmp_path / "frames"
    with pytest.raises(DataError, match=r"cut\.avi: video cut is truncated: its header states 100 frames \(4\.0 s\), "
                       r"the file holds about 50 \(2\.0 s\)\. .* --end-sec 2$"):
        extract_frames(cut, out, "cut", fps=5)
    assert not (out / "cut").exists()
    assert extract_frames(cut, out, "cut", fps=5, end_sec=1.5) == 8  # the part that is there, asked for
    assert extract_frames(whole, out, "whole", fps=5) == 20  # a whole file is not flagged


def test_stale_temporary_folders_are_removed_and_never_listed(videos, tmp_path):
    frames = tmp_path / "frames"
    dead = frames / ".other.999999999.k2j3h4.tmp"  # a pid that cannot be running
    legacy = frames / ".other.abc123.tmp"  # written before temporary names held the pid
    alive = frames / f".other.{os.getpid()}.zz9.tmp"  # a running extraction's
    for folder in (dead, legacy, alive):
        folder.mkdir(parents=True)
        (folder / "other_000001.jpg").write_bytes(b"\xff\xd8 partial")
    assert frame_list_from_dir(frames) == {}  # hidden folders are not videos
    extract_many([ExtractJob(videos / "other.mkv", frames, "other", fps=5)], workers=1)
    assert not dead.exists() and not legacy.exists() and alive.exists()
    assert list(frame_list_from_dir(frames)) == ["other"]
    assert remove_stale_temps(frames) == []


def test_ffmpeg_dies_with_the_tool_that_started_it(tmp_path):
    """kill -9 of a tool must not leave its ffmpeg writing frames (issue 12, case 11)."""
    script = (
        "import os, sys, threading\n"
        "from pathlib import Path\n"
        "from slowfast_custom.video import frames\n"
        # -re: read the input in real time, so this ffmpeg runs for minutes unless killed.
        "args = ['-re', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=600', '-f', 'null', '-']\n"
        "threading.Thread(target=frames._run_ffmpeg, args=(Path('x'), args), daemon=True).start()\n"
        "print(os.getpid(), flush=True)\n"
        "threading.Event().wait()\n"
    )
    tool = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    ffmpeg = None
    try:
        tool.stdout.readline()
        for _ in range(200):  # wait for the child to start
            ffmpeg = _child_pid(tool.pid)
            if ffmpeg:
                break
            time.sleep(0.05)
        assert ffmpeg, "ffmpeg did not start"
        os.kill(tool.pid, signal.SIGKILL)
        tool.wait(10)
        for _ in range(200):
            if not _running(ffmpeg):
                break
            time.sleep(0.05)
        assert not _running(ffmpeg), "ffmpeg outlived the tool that started it"
    finally:
        if tool.poll() is None:
            tool.kill()
        if ffmpeg and _running(ffmpeg):
            os.kill(ffmpeg, signal.SIGKILL)  # leave no orphan when the test fails


def _child_pid(parent: int, marker: str = "testsrc"):
    """The pid of ``parent``'s child whose command line holds ``marker`` (not the ``ffmpeg -version`` probe)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and marker.encode() in cmdline:
            return int(stat.parent.name)
    return None


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited (its new parent may not reap it in a container)
