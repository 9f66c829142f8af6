"""Which seconds of a video get labelled, which frames are tracked, and how keyframe images are named.

A keyframe is the first frame of a whole second (AVA's convention: frame
``second * fps`` of frames extracted from second 0). A label covers the clip
around its keyframe (about +-1 s for SlowFast 32x2), so the first and last
``margin_sec`` seconds are not labelled, as AVA labels 902-1798 of 900-1800.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import List, Mapping, Sequence, Tuple

from slowfast_custom.ava.formats import PathLike, frame_list_from_dir
from slowfast_custom.data.keyframes import second_to_frame
from slowfast_custom.errors import DataError, UserError

DEFAULT_FPS = 30.0  # frame rate of the extracted frames (AVA's recipe)
DEFAULT_MARGIN_SEC = 2  # seconds left unlabelled at each end
DEFAULT_TRACK_FPS = 5.0  # frames per second the tracker sees

_IMAGE_NAME = re.compile(r"^(?P<video>.+)__(?P<second>\d{4,})\.jpg$")
_FRAME_IMAGE_NAME = re.compile(r"^(?P<video>.+)_(?P<number>\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)


def keyframe_seconds(num_frames: int, fps: float = DEFAULT_FPS, margin_sec: int = DEFAULT_MARGIN_SEC) -> List[int]:
    """Seconds ``margin_sec .. duration - margin_sec`` whose keyframe exists (empty for a short video)."""
    if fps <= 0 or margin_sec < 0:
        raise UserError(f"need fps > 0 and margin >= 0, got fps={fps}, margin={margin_sec}")
    last = math.floor(num_frames / fps + 1e-9) - margin_sec
    return [s for s in range(margin_sec, last + 1) if second_to_frame(s, fps, 0) < num_frames]


def tracking_frames(num_frames: int, seconds: Sequence[int], fps: float = DEFAULT_FPS,
                    track_fps: float = DEFAULT_TRACK_FPS) -> List[int]:
    """0-based frame indices to run detection and tracking on, in order.

    Every ``fps / track_fps``-th frame from the start of the video up to the
    last keyframe, plus the keyframes themselves; the seconds before the first
    keyframe let the tracker settle its ids.
    """
    if track_fps <= 0:
        raise UserError(f"tracking rate must be > 0 frames per second, got {track_fps}")
    if not seconds:
        return []
    keyframes = {second_to_frame(s, fps, 0) for s in seconds}
    last = max(keyframes)
    step = max(fps / track_fps, 1.0)
    sampled = {int(round(k * step)) for k in range(int(last / step) + 1)}
    return sorted(i for i in sampled | keyframes if 0 <= i <= last and i < num_frames)


def keyframe_image_name(video: str, second: int) -> str:
    """``<video>__<second, 6 digits>.jpg``: unique across videos and reversible (``parse_keyframe_image_name``)."""
    return f"{video}__{second:06d}.jpg"


def parse_keyframe_image_name(name: str) -> Tuple[str, int]:
    """``(video, second)`` of a name made by ``keyframe_image_name``; ValueError otherwise."""
    match = _IMAGE_NAME.match(name.replace("\\", "/").rsplit("/", 1)[-1])
    if not match:
        raise ValueError(f"{name!r} is not a keyframe image name (<video>__<second>.jpg)")
    return match.group("video"), int(match.group("second"))


def parse_frame_image_name(name: str, fps: float = DEFAULT_FPS) -> Tuple[str, int]:
    """``(video, second)`` of a keyframe named as its frame, ``<video>_<frame number from 1>.jpg``.

    The naming of ``frame_name`` and of the "Custom-ava-dataset" procedure's
    VIA 3 images (frame ``second * fps + 1``). ValueError for other names and
    for frames that are not the first frame of a second.
    """
    match = _FRAME_IMAGE_NAME.match(name.replace("\\", "/").rsplit("/", 1)[-1])
    if not match:
        raise ValueError(f"{name!r} is not a frame image name (<video>_<frame number>.jpg)")
    index = int(match.group("number")) - 1
    second = int(round(index / fps)) if index >= 0 else -1
    if second < 0 or second_to_frame(second, fps, 0) != index:
        raise ValueError(f"{name!r} is frame {index + 1}, not the first frame of a second at {fps:g} fps "
                         f"(frames 1, {second_to_frame(1, fps, 0) + 1}, {second_to_frame(2, fps, 0) + 1}, ...)")
    return match.group("video"), second


def image_sizes_from_frames(frame_dir: PathLike, videos: Sequence[str]) -> Mapping[str, Tuple[int, int]]:
    """``{video: (width, height)}`` from the first frame of each video (all frames of a video share a size)."""
    from slowfast_custom.data.frame_decode import read_frame  # OpenCV: only the image exports need it

    frame_dir = Path(frame_dir)
    sizes = {}
    for video, frames in frame_list_from_dir(frame_dir, videos).items():
        if not frames:
            raise DataError(frame_dir / video, f"no frames of video {video}",
                            hint="Extract its frames first (tools/extract_frames.py)")
        image = read_frame(frame_dir / frames[0])
        sizes[video] = (image.shape[1], image.shape[0])
    return sizes
