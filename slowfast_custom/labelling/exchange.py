"""What the round trips through outside labelling tools share: keyframe images placed, VIA regions read back.

``via`` (VIA 2), ``via3`` (VIA 3) and ``cvat`` build on this module; it
imports none of them, so they need not import each other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from slowfast_custom.ava.formats import BoxRow
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.ava.naming import PathLike, frame_list_from_dir, video_dirs
from slowfast_custom.ava.timing import keyframe_seconds, second_to_frame
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_path, read_text
from slowfast_custom.labelling.images import image_sizes_from_frames

logger = logging.getLogger(__name__)

IMAGES = "images"  # the folder of keyframe images beside an exported project


def pixel_rect(box: Sequence[float], width: int, height: int) -> Tuple[float, float, float, float]:
    """``(x, y, width, height)`` in pixels, with VIA's 3 decimals, of a normalised ``x1, y1, x2, y2`` box."""
    x1, y1, x2, y2 = box
    return round(x1 * width, 3), round(y1 * height, 3), round((x2 - x1) * width, 3), round((y2 - y1) * height, 3)


def _place_image(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a copy across file systems)."""
    if target.is_file() and os.path.samefile(source, target):
        return
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


@dataclass
class ExportSummary:
    project: Path
    images: int
    regions: int
    videos: int


@dataclass(frozen=True)
class ExportedKeyframe:
    """A keyframe image placed for labelling and the tracked boxes on it."""

    video: str
    second: int
    image: str  # file name in the images folder
    width: int
    height: int
    boxes: Tuple[BoxRow, ...]  # by person id


def labelled_seconds(frame_dir: PathLike, frame_counts: Mapping[str, int], fps: float, margin_sec: int
                     ) -> Dict[str, List[int]]:
    """``{video: keyframe seconds}`` of the videos long enough to label (``frame_counts``: frames per video).
    Each shorter one is named in a warning with what it needs; none long enough is an error."""
    found = {video: keyframe_seconds(count, fps, margin_sec) for video, count in frame_counts.items()}
    # the app calls the option --margin, export_via.py and detect_and_track.py --margin-sec
    need = f"at least {2 * margin_sec} s ({margin_sec} s left unlabelled at each end, --margin/--margin-sec)"
    for video in sorted(v for v, seconds in found.items() if not seconds):
        logger.warning("video %s: %.1f s of frames is too short to label, it needs %s; it is left out",
                       video, frame_counts[video] / fps, need)
    if found and not any(found.values()):
        raise DataError(frame_dir, f"no video is long enough to label: each needs {need}",
                        hint="Label longer videos, or lower the margin")
    return {video: seconds for video, seconds in found.items() if seconds}


def place_keyframes(frame_dir: PathLike, tracks: Sequence[BoxRow], image_dir: PathLike,
                    image_name: Callable[[str, int, int], str], *, videos: Optional[Sequence[str]] = None,
                    fps: float = DEFAULT_FPS, margin_sec: int = DEFAULT_MARGIN_SEC
                    ) -> Tuple[List[ExportedKeyframe], List[str]]:
    """Link each keyframe's frame into ``image_dir`` as ``image_name(video, second, frame index)``.

    Keyframes are the video's labelled seconds (``keyframe_seconds``) plus any
    second that has a tracked box; ``tracks`` are rows of ``read_tracks_csv``.
    Returns the keyframes in video and second order, and the videos that have any (a video too short to
    label is left out with a warning, see ``labelled_seconds``).
    """
    frame_dir, image_dir = Path(frame_dir), Path(image_dir)
    by_second: Dict[Tuple[str, int], List[BoxRow]] = defaultdict(list)
    for row in tracks:
        by_second[(row.video_id, row.second)].append(row)
    if videos is None:
        videos = video_dirs(frame_dir) if frame_dir.is_dir() else []
        missing = sorted({r.video_id for r in tracks} - set(videos))
        if missing:
            raise UserError(f"the tracks name videos without frames in {frame_dir}: {', '.join(missing)}")
    if not videos:
        raise UserError(f"{frame_dir}: no videos to export; extract frames first (tools/extract_frames.py)")
    frames = frame_list_from_dir(frame_dir, videos)
    sizes = image_sizes_from_frames(frame_dir, videos)
    image_dir.mkdir(parents=True, exist_ok=True)
    labelled = labelled_seconds(frame_dir, {video: len(frames[video]) for video in videos}, fps, margin_sec)
    keyframes: List[ExportedKeyframe] = []
    exported: List[str] = []
    for video in videos:
        seconds = set(labelled.get(video, ())) | {s for v, s in by_second if v == video}
        if not seconds:
            continue
        exported.append(video)
        width, height = sizes[video]
        for second in sorted(seconds):
            index = second_to_frame(second, fps, 0)
            if index >= len(frames[video]):
                raise DataError(frame_dir / video, f"second {second} (frame {index + 1}) of video {video} has a "
                                f"tracked box but no frame", hint="Extract all frames, or check --fps")
            name = image_name(video, second, index)
            _place_image(frame_dir / frames[video][index], image_dir / name)
            rows = tuple(sorted(by_second.get((video, second), []), key=lambda r: r.person_id or 0))
            keyframes.append(ExportedKeyframe(video, second, name, width, height, rows))
    return keyframes, exported


@dataclass(frozen=True)
class ViaRegion:
    image: str  # file name as VIA holds it
    index: int  # 0-based position among the image's regions (VIA numbers them from 1)
    shape: Mapping
    attributes: Mapping
    file: str = ""  # the VIA file it was read from
    line: Optional[int] = None  # its line there (CSV files)
    mid: str = ""  # VIA 3: the metadata id of the region

    @property
    def where(self) -> str:
        return f"image {self.image}, " + (f"metadata {self.mid}" if self.mid else f"region {self.index + 1}")

    def error(self, message: str, hint: str = "") -> DataError:
        """A DataError naming the VIA file (and line), the image and the region."""
        return DataError(self.file or self.image, f"{self.where}: {message}", self.line, hint)


def read_via_json(path: PathLike) -> object:
    """The parsed JSON of a VIA file; DataError naming the file when it is missing or not JSON."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "VIA file not found")
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise DataError(path, f"not valid JSON ({err.msg})", err.lineno) from None


def is_via3_project(data: object) -> bool:
    """Whether parsed JSON is a VIA 3 project (``project``, ``attribute``, ``file``, ``view``, ``metadata``)."""
    return isinstance(data, Mapping) and {"project", "attribute", "file", "view", "metadata"} <= set(data)




# A box imported without a person id takes the id of the track it overlaps at least this much (IoU) at its
# keyframe: a labeller's nudge of a tracked box keeps well above it, two people side by side stay below it.
TRACK_MATCH_IOU = 0.5


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``x1, y1, x2, y2`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def match_tracks(boxes: Sequence[Tuple[str, int, Sequence[float]]], tracks: Sequence[BoxRow],
                 min_iou: float = TRACK_MATCH_IOU) -> Dict[int, BoxRow]:
    """``{index in boxes: track row}``: each ``(video, second, box)`` paired with a tracked box of its keyframe.

    Greedy by IoU, best pairs first, each track row used once; pairs under
    ``min_iou`` are left out.
    """
    by_key: Dict[Tuple[str, int], List[BoxRow]] = defaultdict(list)
    for row in tracks:
        if row.person_id is not None:
            by_key[(row.video_id, row.second)].append(row)
    pairs = []
    for index, (video, second, box) in enumerate(boxes):
        for n, row in enumerate(by_key.get((video, second), [])):
            overlap = iou(box, row.box)
            if overlap >= min_iou:
                pairs.append((-overlap, index, n, row))
    matched: Dict[int, BoxRow] = {}
    used = set()
    for _, index, n, row in sorted(pairs, key=lambda p: p[:3]):
        key = (row.video_id, row.second, n)
        if index not in matched and key not in used:
            matched[index] = row
            used.add(key)
    return matched
