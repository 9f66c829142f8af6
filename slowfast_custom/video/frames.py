"""Probe videos, extract their frames as JPEGs and cut clips, with the ffmpeg the set-up installs.

Frames follow AVA's layout: ``<frame_root>/<video_id>/<video_id>_%06d.jpg``,
numbered from 1, at a fixed rate (AVA's recipe: 30 fps, ``-q:v 1``). The
ffmpeg binary is the one shipped in the ``imageio-ffmpeg`` wheel, so no
system package is needed.

Extraction is resumable and never leaves a half-written folder under the
final name: ffmpeg writes into a hidden temporary folder next to it
(``.<video>.<pid>.<random>.tmp``, which no reader lists as a video), renamed
once the frame count is verified. A killed run's folder is removed by the next
extraction into the same frames folder, and its ffmpeg dies with it (Linux). The folder then holds a hidden
``.extract.json`` with the settings and the exact frame count, so a re-run
skips a complete video and redoes one whose frames were deleted or whose
settings changed.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, TypeVar

from slowfast_custom.ava.layout import DEFAULT_FPS, EXTRACT_MARKER
from slowfast_custom.ava.naming import frame_pattern, own_frame_number
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_path, atomic_write_text
from slowfast_custom.processes import die_with_parent

# The fps filter rounds the first and the last frame of the window to the
# nearest output tick; a source whose timestamps do not start at 0 or whose
# frame rate varies (common in AVA's YouTube .webm/.mkv files) can gain or
# lose one frame at each end. Anything further off is an incomplete output.
FRAME_TOLERANCE = 2
# A header's frame count may exceed the readable stream by this share (rounding of variable-rate files)
# before the video counts as truncated.
TRUNCATION_TOLERANCE = 0.02
TMP_SUFFIX = ".tmp"
# An extraction's temporary folder; older versions wrote no pid (then the folder counts as stale).
_TMP_NAME = re.compile(r"\.(?P<video>.+?)\.(?:(?P<pid>\d+)\.)?[^.]+\.tmp")
READ_HINT = "Check that the file plays and is a complete video (mp4, mkv, webm, avi, ...); re-download it if cut short"

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction  # exact average frame rate of the first video stream (30000/1001 for NTSC)
    duration: float  # seconds; 0 when the container does not say
    codec: str
    header_frames: int = 0  # frame count the container's header states (AVI, MP4); 0 when it states none


@dataclass(frozen=True)
class ExtractJob:
    """One video's extraction; the fields are ``extract_frames``'s arguments."""

    video: Path
    frame_root: Path
    video_id: str
    fps: float = DEFAULT_FPS
    start_sec: Optional[float] = None
    end_sec: Optional[float] = None
    quality: int = 1


@dataclass(frozen=True)
class ExtractResult:
    job: ExtractJob
    frames: int  # frames in the folder (0 when failed)
    skipped: bool  # the folder was already complete
    error: Optional[UserError] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary from the ``imageio-ffmpeg`` wheel."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise UserError("imageio-ffmpeg is not installed: pip install imageio-ffmpeg "
                        "(it ships the ffmpeg binary the video tools use)") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def open_video(path: Path, name: str = "video", missing_hint: str = ""):
    """``path`` opened with PyAV, a container with at least one video stream; DataError naming the file if not.

    ``name`` is what the messages call the file, ``missing_hint`` what to do when it is absent or not a file
    (e.g. which option names it).
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"{name} is not a file" if path.exists() else f"{name} not found", hint=missing_hint)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as err:
        raise DataError(path, f"cannot read video ({err.strerror or err})", hint=READ_HINT) from None
    if not container.streams.video:
        container.close()
        raise DataError(path, "has no video stream", hint=READ_HINT)
    return container


def frame_rate(stream, fallback_fps: float) -> Fraction:
    """The stream's exact average frame rate, or ``fallback_fps`` when it states none."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if rate and float(rate) > 0:
        return Fraction(rate)
    return Fraction(fallback_fps).limit_denominator(1001)


def probe(path: Path, fallback_fps: float = DEFAULT_FPS, name: str = "video", missing_hint: str = "") -> VideoInfo:
    """Size, exact frame rate, duration and codec of the first video stream; DataError naming the file if unreadable.

    ``fallback_fps`` is used only when the container states no frame rate; ``name`` and ``missing_hint`` as
    ``open_video`` takes them.
    """
    import av

    path = Path(path)
    with open_video(path, name, missing_hint) as container:
        stream = container.streams.video[0]
        duration = stream_duration(stream)
        if duration is None:
            duration = container.duration / av.time_base if container.duration is not None else 0.0
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            raise DataError(path, "video stream has no frame size", hint=READ_HINT)
        return VideoInfo(path, ctx.width, ctx.height, frame_rate(stream, fallback_fps), float(duration), ctx.name,
                         int(stream.frames or 0))


def stream_duration(stream) -> Optional[float]:
    """The picture's own duration: the container's counts its longest stream, often the audio."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")  # Matroska/WebM keep it as a tag: HH:MM:SS.nnnnnnnnn
    match = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d*)?)", tag or "")
    if match:
        return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
    return None


def frame_window(info: VideoInfo, video_id: str, fps: float, start_sec: Optional[float] = None,
                 end_sec: Optional[float] = None) -> Tuple[float, float, int]:
    """``(start, end, expected frames)`` of a window; DataError when the video is too short for it."""
    start = 0.0 if start_sec is None else float(start_sec)
    end = info.duration if end_sec is None else float(end_sec)
    if start < 0 or end <= start:
        raise UserError(f"bad time window {start:g}-{end:g} s for video {video_id}: need 0 <= start < end")
    check_not_truncated(info, video_id, end_sec)
    if end > info.duration + FRAME_TOLERANCE / fps:
        raise DataError(info.path, f"video {video_id} is {info.duration:.2f} s long, too short for seconds "
                        f"{start:g}-{end:g}", hint="Choose a shorter window (--start-sec/--end-sec) or drop the video")
    end = min(end, info.duration)
    return start, end, int(round((end - start) * fps))


def check_not_truncated(info: VideoInfo, video_id: str, end_sec: Optional[float]) -> None:
    """DataError when the header promises more frames than the file holds and the window needs them.

    A cut-short download keeps its header: an AVI of 795 frames cut to a
    quarter still says 795, while the readable stream (``duration``, from the
    index or the data) ends after about 200. Extracting what is there would
    silently drop the rest of the video from the dataset.
    """
    if not info.header_frames or not info.duration:
        return
    stated = info.header_frames / float(info.fps)
    if stated <= info.duration * (1 + TRUNCATION_TOLERANCE) + FRAME_TOLERANCE / float(info.fps):
        return
    if end_sec is not None and end_sec <= info.duration:
        return  # the window lies in the part that is there (the user chose it with --end-sec)
    readable = int(round(info.duration * float(info.fps)))
    raise DataError(info.path, f"video {video_id} is truncated: its header states {info.header_frames} frames "
                    f"({stated:.1f} s), the file holds about {readable} ({info.duration:.1f} s)",
                    hint="Re-download or re-encode the video, or extract only what is there with "
                    f"--end-sec {math.floor(info.duration)}")


def _settings(job: ExtractJob, video: Path, start: float, end: float) -> dict:
    return {"source": video.name, "source_bytes": video.stat().st_size, "fps": job.fps,
            "start_sec": start, "end_sec": end, "quality": job.quality}


def count_frames(folder: Path, video_id: str) -> Optional[int]:
    """N when ``folder`` holds exactly the non-empty frames 1..N of ``video_id``, else None."""
    numbers = []
    with os.scandir(folder) as entries:
        for entry in entries:
            number = own_frame_number(video_id, entry.name)
            if number is not None:
                if entry.stat().st_size == 0:
                    return None
                numbers.append(number)
    if not numbers or min(numbers) != 1 or max(numbers) != len(numbers) or len(set(numbers)) != len(numbers):
        return None
    return len(numbers)


def frames_complete(folder: Path, video_id: str, settings: dict, expected: int) -> Optional[int]:
    """The frame count when ``folder`` is a finished extraction with ``settings``, else None.

    A folder this module wrote must still hold exactly the frames it recorded;
    one written by hand (no marker) must hold frames 1..N with N within
    ``FRAME_TOLERANCE`` of ``expected``.
    """
    if not folder.is_dir():
        return None
    count = count_frames(folder, video_id)
    if count is None:
        return None
    marker = folder / EXTRACT_MARKER
    if marker.is_file():
        try:
            recorded = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if recorded.get("settings") != settings or recorded.get("frames") != count:
            return None
        return count
    return count if abs(count - expected) <= FRAME_TOLERANCE else None




def _run_ffmpeg(video: Path, args: Sequence[str]) -> None:
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          preexec_fn=die_with_parent)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise DataError(video, f"ffmpeg failed ({lines[-1] if lines else f'exit code {proc.returncode}'})",
                        hint="Check that the video plays; re-download it if it is truncated")


def _extract(job: ExtractJob) -> Tuple[int, bool]:
    """Extract one video; return (frame count, skipped because already complete)."""
    video = Path(job.video)
    info = probe(video)
    start, end, expected = frame_window(info, job.video_id, job.fps, job.start_sec, job.end_sec)
    settings = _settings(job, video, start, end)
    frame_root = Path(job.frame_root)
    folder = frame_root / job.video_id
    done = frames_complete(folder, job.video_id, settings, expected)
    if done is not None:
        return done, True

    frame_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{job.video_id}.{os.getpid()}.", suffix=TMP_SUFFIX, dir=frame_root))
    try:
        # -ss before -i seeks accurately (decodes from the previous keyframe) and
        # restarts timestamps at 0, so frame k is at start + (k - 1) / fps. The fps
        # filter may add a frame for the source's last frame duration; -frames:v
        # caps the count at the window's, so every source gives the same count.
        pattern = tmp / frame_pattern(job.video_id)
        _run_ffmpeg(video, ["-ss", f"{start:.6f}", "-t", f"{end - start:.6f}", "-i", str(video),
                            "-map", "0:v:0", "-vf", f"fps={job.fps:g}", "-q:v", str(job.quality),
                            "-frames:v", str(expected), "-start_number", "1", str(pattern)])
        count = count_frames(tmp, job.video_id)
        if count is None or abs(count - expected) > FRAME_TOLERANCE:
            raise DataError(video, f"ffmpeg wrote {count or 0} frames for video {job.video_id}, expected "
                            f"{expected} ({end - start:g} s at {job.fps:g} fps)",
                            hint="The video may be truncated or have broken timestamps")
        marker = json.dumps({"frames": count, "settings": settings}, sort_keys=True)
        atomic_write_text(tmp / EXTRACT_MARKER, marker + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
        return count, False
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temps(frame_root: Path) -> List[Path]:
    """Remove the hidden temporary folders (``.<video>.<pid>.<random>.tmp``) that killed extractions left in
    ``frame_root``; a folder of a process still running is kept. Returns what was removed."""
    removed: List[Path] = []
    if not frame_root.is_dir():
        return removed
    for entry in frame_root.iterdir():
        match = _TMP_NAME.fullmatch(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group("pid") or 0)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def extract_frames(video: Path, frame_root: Path, video_id: str, *, fps: float = DEFAULT_FPS,
                   start_sec: Optional[float] = None, end_sec: Optional[float] = None, quality: int = 1) -> int:
    """Write ``frame_root/<video_id>/<video_id>_%06d.jpg`` (from 1) for seconds start..end; return the count.

    ``start_sec``/``end_sec`` default to the whole video; ``quality`` is
    ffmpeg's ``-q:v`` (1 is best, AVA's recipe). A folder already complete
    with the same settings is kept as it is.
    """
    job = ExtractJob(Path(video), Path(frame_root), video_id, fps, start_sec, end_sec, quality)
    return _extract(job)[0]


def parallel_map(fn: Callable[[T], R], items: Sequence[T],
                 workers: int) -> List[Tuple[Optional[R], Optional[UserError]]]:
    """``fn`` over ``items`` in threads (the work is in ffmpeg processes); results in order, UserErrors caught."""

    def call(item: T) -> Tuple[Optional[R], Optional[UserError]]:
        try:
            return fn(item), None
        except UserError as err:
            return None, err

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(call, items))


def extract_many(jobs: Sequence[ExtractJob], workers: int, *, raise_errors: bool = True) -> List[ExtractResult]:
    """Run ``jobs`` with up to ``workers`` videos at a time.

    Every job runs even if another fails (finished videos are kept for the
    next run); then, with ``raise_errors``, the failures are raised as one
    error naming each video.
    """
    for frame_root in sorted({Path(job.frame_root) for job in jobs}):
        remove_stale_temps(frame_root)
    results = [ExtractResult(job, *(value or (0, False)), error=error)
               for job, (value, error) in zip(jobs, parallel_map(_extract, jobs, workers))]
    if raise_errors:
        raise_failures([r.error for r in results if r.error is not None])
    return results


def raise_failures(errors: Sequence[UserError]) -> None:
    """Raise the first error, mentioning how many more there were (each on its own line of the message)."""
    if not errors:
        return
    first = errors[0]
    if len(errors) == 1:
        raise first
    rest = "; ".join(str(e) for e in errors[1:])
    if isinstance(first, DataError):
        raise DataError(first.path, f"{first.message} (and {len(errors) - 1} more: {rest})", first.line, first.hint)
    raise UserError(f"{first} (and {len(errors) - 1} more: {rest})")


def cut_clip(video: Path, out_path: Path, *, start_sec: float, end_sec: float) -> bool:
    """Cut seconds start..end of ``video`` to an H.264 ``.mp4``; return False when that clip already exists.

    It re-encodes (libx264, CRF 18, visually lossless) rather than copying
    the stream: a stream copy can only start at a keyframe, so the clip would
    begin up to a GOP (seconds, for YouTube sources) before ``start_sec`` and
    its second 0 would no longer be video second ``start_sec``, which the
    dataset's START_SEC and the demo's STARTING_SECOND assume. Frames are
    extracted from the original, not from this clip, so training never sees
    this second encoding. The clip's ``comment`` tag records the source and
    seconds, so a re-run keeps a finished clip and redoes one cut differently.
    """
    video, out_path = Path(video), Path(out_path)
    # 30 fps only sets how much shorter than end_sec the video may be (FRAME_TOLERANCE frames).
    start, end, _ = frame_window(probe(video), video.stem, DEFAULT_FPS, start_sec, end_sec)
    tag = f"cut of {video.name} ({video.stat().st_size} bytes), seconds {start:g}-{end:g}"
    if out_path.is_file() and _comment(out_path) == tag:
        return False
    with atomic_path(out_path) as tmp:
        _run_ffmpeg(video, ["-ss", f"{start:.6f}", "-t", f"{end - start:.6f}", "-i", str(video),
                            "-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast",
                            "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
                            "-metadata", f"comment={tag}", "-f", "mp4", str(tmp)])
    return True


def _comment(path: Path) -> Optional[str]:
    """The container's ``comment`` tag, or None when the file cannot be read (an unfinished leftover)."""
    import av

    try:
        with av.open(str(path)) as container:
            return container.metadata.get("comment")
    except (av.error.FFmpegError, OSError):
        return None


def render_test_pattern(path: Path, seconds: float, *, fps: float = 25.0, size: Tuple[int, int] = (160, 120)) -> Path:
    """Write a short video of ffmpeg's moving test pattern (for tests and trying the tools).

    H.264, or VP9 for a ``.webm`` path (the codecs of AVA's YouTube files).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = ["libvpx-vp9", "-deadline", "realtime"] if path.suffix == ".webm" else ["libx264", "-preset", "ultrafast"]
    _run_ffmpeg(path, ["-f", "lavfi", "-i", f"testsrc=size={size[0]}x{size[1]}:rate={fps:g}:duration={seconds:g}",
                       "-c:v", *codec, "-pix_fmt", "yuv420p", str(path)])
    return path
