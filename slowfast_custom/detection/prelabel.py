"""Detect and track people on extracted frames; keep the boxes of the keyframes, with person ids.

For each video the detector runs on ``track_fps`` frames per second (plus
the keyframes) and a fresh ``PersonTracker`` links the detections; the
boxes of the keyframes are kept. Outputs, in ``out_dir``:

* ``tracks.csv``: ``video_id,second,x1,y1,x2,y2,person_id,score`` with a
  header (``read_tracks_csv``), the input of ``tools/export_via.py``;
* ``predicted_boxes.csv``: the same boxes as an AVA predicted-box CSV
  (``video_id,second,x1,y1,x2,y2,,score``), e.g. for the demo or validation;
* ``tracks/<video>.csv`` (with ``tracks/<video>.json``, the frame count it was
  made from) and ``settings.json``: per-video results, so that an interrupted
  run resumes with the videos not yet done (same settings and frames only).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from slowfast_custom.ava.formats import Box, BoxRow, read_tracks_csv, write_box_csv, write_tracks_csv
from slowfast_custom.ava.images import frame_file_problem
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC, DEFAULT_TRACK_FPS, PREDICTED, TRACKS
from slowfast_custom.ava.naming import PathLike, check_video_id, frame_list_from_dir
from slowfast_custom.ava.timing import keyframe_seconds, second_to_frame, tracking_frames
from slowfast_custom.data.frame_decode import read_frame, unreadable_frame
from slowfast_custom.detection import PersonDetector
from slowfast_custom.detection.tracking import PersonTracker
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_write_text, read_text

logger = logging.getLogger(__name__)

SETTINGS = "settings.json"


@dataclass(frozen=True)
class TrackingSpec:
    fps: float = DEFAULT_FPS  # frame rate of the extracted frames
    track_fps: float = DEFAULT_TRACK_FPS  # frames per second given to the detector and tracker
    margin_sec: int = DEFAULT_MARGIN_SEC  # unlabelled seconds at each end of a video


@dataclass
class PrelabelSummary:
    videos: int
    done: int  # videos processed by this run (the others were complete)
    keyframes: int
    boxes: int
    persons: int  # distinct (video, person id)
    frames_tracked: int  # by this run
    seconds: float  # wall time of this run
    files: Dict[str, str]


def normalise_box(box: Sequence[float], width: int, height: int) -> Optional[Box]:
    """A pixel box as AVA writes it (clipped to [0, 1], 3 decimals); None when nothing is left."""
    x1, y1, x2, y2 = (round(min(max(v / s, 0.0), 1.0), 3) for v, s in zip(box, (width, height, width, height)))
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2, y2)


def _frames_to_track(num_frames: int, spec: TrackingSpec) -> Tuple[Dict[int, int], List[int]]:
    """``({keyframe index: second}, frame indices to detect and track on)`` of a video of ``num_frames``."""
    seconds = keyframe_seconds(num_frames, spec.fps, spec.margin_sec)
    second_of = {second_to_frame(s, spec.fps, 0): s for s in seconds}
    return second_of, tracking_frames(num_frames, seconds, spec.fps, spec.track_fps)


def check_frames_to_track(frame_paths: Sequence[Path], spec: TrackingSpec) -> None:
    """DataError naming the first frame tracking would read that is not a whole image (its header and end
    marker are read, not decoded): found before anything is written, not after an hour of detection."""
    for index in _frames_to_track(len(frame_paths), spec)[1]:
        problem = frame_file_problem(frame_paths[index]) if Path(frame_paths[index]).is_file() else "missing"
        if problem:
            raise unreadable_frame(str(frame_paths[index]), problem)


def track_video(video: str, frame_paths: Sequence[Path], detector: PersonDetector, tracker: PersonTracker,
                spec: TrackingSpec = TrackingSpec()) -> Tuple[List[BoxRow], int]:
    """``(rows, frames tracked)``: the keyframe boxes of one video as ``BoxRow`` with person id and score."""
    second_of, indices = _frames_to_track(len(frame_paths), spec)
    rows: List[BoxRow] = []
    for index in indices:
        frame = read_frame(frame_paths[index])  # a truncated frame would lose its boxes without a word
        tracks = tracker.update(frame, detector(frame))
        if index in second_of:
            height, width = frame.shape[:2]
            for track in tracks:
                box = normalise_box(track.box, width, height)
                if box is not None:
                    rows.append(BoxRow(video, second_of[index], box, None, track.track_id, round(track.score, 4)))
    return rows, len(indices)


def _done_frames(stamp: Path) -> Optional[int]:
    """The frame count a video's results were made from, or None when unknown (then they are redone)."""
    try:
        return int(json.loads(read_text(stamp))["frames"])
    except (OSError, ValueError, KeyError, TypeError, DataError):
        return None


def _settings_text(spec: TrackingSpec, detector_settings: Mapping) -> str:
    return json.dumps({"tracking": asdict(spec), "detector": dict(detector_settings)}, sort_keys=True, indent=1) + "\n"


def detect_and_track(
    frame_dir: PathLike,
    videos: Optional[Sequence[str]],
    out_dir: PathLike,
    *,
    detector: PersonDetector,
    make_tracker: Callable[[], PersonTracker] = PersonTracker,
    spec: TrackingSpec = TrackingSpec(),
    detector_settings: Mapping = (),
    overwrite: bool = False,
) -> PrelabelSummary:
    """Detect and track every video of ``frame_dir`` (or ``videos``); write the files of the module doc.

    ``detector_settings`` (e.g. name and threshold) is recorded with ``spec``:
    a video already done with the same settings is skipped unless
    ``overwrite``; different settings redo every video.
    """
    start = time.time()
    frame_dir, out_dir = Path(frame_dir), Path(out_dir)
    for video in videos or ():
        check_video_id(video)
    frames = frame_list_from_dir(frame_dir, videos)
    if not frames:
        raise DataError(frame_dir, "no video folders found", hint="Extract the frames first (tools/extract_frames.py)")
    empty = [video for video, paths in frames.items() if not paths]
    if empty:
        # Tracking it would record 0 boxes as done, and reruns would keep them after its frames are extracted.
        raise DataError(frame_dir / empty[0], f"no frames in the folder of video {empty[0]}"
                        + (f" (and {len(empty) - 1} more: {', '.join(empty[1:])})" if len(empty) > 1 else ""),
                        hint="Extract its frames (tools/extract_frames.py), or name the videos to track with --videos")
    per_video = out_dir / "tracks"
    for paths in frames.values():
        check_frames_to_track([frame_dir / p for p in paths], spec)
    settings = _settings_text(spec, detector_settings)
    settings_path = out_dir / SETTINGS
    if overwrite or not settings_path.is_file() or read_text(settings_path) != settings:
        # Results made with other settings must not pass for done ones if this run is interrupted.
        for stale in [*per_video.glob("*.csv"), *per_video.glob("*.json")] if per_video.is_dir() else []:
            stale.unlink()
        atomic_write_text(settings_path, settings)

    all_rows: List[BoxRow] = []
    done = tracked = 0
    for video, paths in frames.items():
        path, stamp = per_video / f"{video}.csv", per_video / f"{video}.json"
        if path.is_file() and _done_frames(stamp) == len(paths):
            all_rows.extend(read_tracks_csv(path))
            continue
        rows, n = track_video(video, [frame_dir / p for p in paths], detector, make_tracker(), spec)
        write_tracks_csv(path, rows)
        # Written last: the video counts as done only for this many frames (re-extracted frames redo it).
        atomic_write_text(stamp, json.dumps({"frames": len(paths)}) + "\n")
        logger.info("%s: %d frames tracked, %d boxes on %d keyframes", video, n, len(rows),
                    len({r.second for r in rows}))
        all_rows.extend(rows)
        done += 1
        tracked += n

    files = {"tracks": str(out_dir / TRACKS), "predicted_boxes": str(out_dir / PREDICTED)}
    write_tracks_csv(files["tracks"], all_rows)
    write_box_csv(files["predicted_boxes"], [BoxRow(r.video_id, r.second, r.box, None, score=r.score)
                                             for r in all_rows], "predicted")
    return PrelabelSummary(
        videos=len(frames), done=done, keyframes=len({(r.video_id, r.second) for r in all_rows}), boxes=len(all_rows),
        persons=len({(r.video_id, r.person_id) for r in all_rows}), frames_tracked=tracked,
        seconds=time.time() - start, files=files)
