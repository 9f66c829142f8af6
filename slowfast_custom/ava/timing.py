"""Time in an AVA dataset: seconds to frame indices, clip frame indices, labelled seconds, tracked frames, frame order.

A keyframe is the first frame of a whole second: frame index
``round((second - start_sec) * fps)`` (0-based) of frames extracted at
``fps`` from second ``start_sec`` (upstream hard-codes ``(sec - 900) * 30``).
A label covers the clip around its keyframe (about +-1 s for SlowFast 32x2),
so the first and last ``margin_sec`` seconds are not labelled, as AVA labels
902-1798 of 900-1800.

One video may give seconds to both the train and the val split when the clips
around them share no frame: ``split_distance_sec`` is that rule, used by the
writer that splits by time ranges, the dataset checker and training.
"""

from __future__ import annotations

import math
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC, DEFAULT_TRACK_FPS
from slowfast_custom.errors import UserError


def second_to_frame(second: int, fps: float, start_sec: int) -> int:
    """Index of the first frame of ``second`` (upstream: ``(sec - 900) * 30``)."""
    return int(round((second - start_sec) * fps))


def seconds_to_frames(seconds: np.ndarray, fps: float, start_sec: int) -> np.ndarray:
    """``second_to_frame`` of many seconds at once (int64; NumPy rounds halves to even, as ``round`` does)."""
    return np.round((np.asarray(seconds) - start_sec) * fps).astype(np.int64)


def clip_frame_indices(center: int, num_frames: int, step: float, video_len: int) -> List[int]:
    """``num_frames`` indices spaced ``step`` frames apart around ``center``, clamped to the video.

    With an integer step this is upstream's ``get_sequence(center, num_frames * step // 2, step, ...)``;
    a fractional step (frames extracted at another rate than the model's) keeps the clip's span in seconds.
    """
    half = num_frames * step / 2.0
    indices = [int(round(center - half + k * step)) for k in range(num_frames)]
    return [min(max(i, 0), video_len - 1) for i in indices]


def clip_runs_past_ends(center: int, num_frames: int, step: float, video_len: int) -> bool:
    """Whether the clip around ``center`` reaches before the first or after the last frame (which then repeat)."""
    half = num_frames * step / 2.0
    return center - half < 0 or center + half > video_len - 1


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


# ---------------------------------------------------------------------------
# One video in two splits
# ---------------------------------------------------------------------------


def split_distance_sec(clip_frames: int, clip_step: float, fps: float) -> int:
    """Least whole seconds between a train and a val keyframe of one video so that their clips share no frame.

    A clip of ``clip_frames`` frames ``clip_step`` apart at ``fps`` (``DATA.NUM_FRAMES`` and
    ``DATA.SAMPLING_RATE * AVA.FPS / DATA.TARGET_FPS``) spans ``clip_frames * clip_step / fps`` seconds, half
    before its keyframe and half after; keyframes at least one span apart leave each clip's half-span clear of the
    other's, with the rounding of frame indices to spare. SlowFast 32x2 at 30 fps: 2.13 s, so 3 s.
    """
    if clip_frames < 1 or clip_step <= 0 or fps <= 0:
        raise UserError(f"need clip frames >= 1, step > 0 and fps > 0, got {clip_frames}, {clip_step}, {fps}")
    return max(1, math.ceil(clip_frames * clip_step / fps - 1e-9))


# The clip of configs/SLOWFAST_32x2_R101_custom.yaml (32 frames, 2 apart at 30 fps), the model the importers train.
DEFAULT_SPLIT_DISTANCE_SEC = split_distance_sec(32, 2.0, DEFAULT_FPS)


def too_close(train_seconds: Iterable[int], val_seconds: Iterable[int], min_distance: int
              ) -> Tuple[List[int], List[int]]:
    """``(train seconds, val seconds)`` of one video that lie less than ``min_distance`` seconds from a second of
    the other split (the same second in both included); two empty lists when the splits keep apart."""
    train = np.unique(np.fromiter(train_seconds, dtype=np.int64))
    val = np.unique(np.fromiter(val_seconds, dtype=np.int64))
    if not len(train) or not len(val):
        return [], []

    def near(seconds: np.ndarray, others: np.ndarray) -> List[int]:
        at = np.searchsorted(others, seconds)
        after = np.abs(others[np.minimum(at, len(others) - 1)] - seconds)
        before = np.abs(others[np.maximum(at - 1, 0)] - seconds)
        return [int(s) for s in seconds[np.minimum(after, before) < min_distance]]

    return near(train, val), near(val, train)


def format_seconds(seconds: Iterable[int]) -> str:
    """Seconds as runs, e.g. ``12-13, 19``."""
    runs: List[List[int]] = []
    for s in sorted(set(seconds)):
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def split_overlap_problem(video: str, train_seconds: Iterable[int], val_seconds: Iterable[int],
                          min_distance: int) -> Optional[Tuple[str, List[int]]]:
    """Why ``video``'s train and val seconds break the split rule (``split_distance_sec``) and its train seconds
    that do, or None: validation would score frames the model trained on."""
    train, val = too_close(train_seconds, val_seconds, min_distance)
    if not train:
        return None
    return (f"video {video} is labelled in the train split at seconds {format_seconds(train)} and in the val split "
            f"at seconds {format_seconds(val)}, less than {min_distance} s apart, so their clips share frames"), train


SPLIT_OVERLAP_HINT = ("Keep a video's val seconds at least the clip's span from its train seconds "
                      "(tools/import_via.py --val-range VIDEO:FIRST-LAST leaves that gap out), or put the video "
                      "in one split")


# ---------------------------------------------------------------------------
# Frame order within a video
# ---------------------------------------------------------------------------


def frame_id_order_problem(video: str, frame_id: int, previous: Optional[Tuple[int, int]]) -> Optional[str]:
    """Frame ids of a video ascend in a frame list: why ``frame_id`` after ``previous`` (frame id, line) breaks
    that, or None."""
    if previous is not None and frame_id <= previous[0]:
        return f"frames of video {video} are not sorted (frame_id {frame_id} after {previous[0]} on line {previous[1]})"
    return None


def time_order_problem(video: str, frame_id: int, frame_path: str, number: Optional[int],
                       previous: Optional[Tuple[int, int]]) -> Optional[str]:
    """A frame list lists a video's images in time order (ascending image ``number``): why image ``number`` after
    ``previous`` (image number, line) breaks that, or None."""
    if number is None or previous is None or number > previous[0]:
        return None
    return (f"frame_id {frame_id} of video {video} is image {frame_path.rsplit('/', 1)[-1]}, which comes before "
            f"image {previous[0]} on line {previous[1]}: the images are out of time order, so every clip "
            "would be built from shuffled frames")


def ascending(values: np.ndarray, after: int) -> bool:
    """Whether ``values`` (a block of one video's frame ids or image numbers) ascend strictly, starting above
    ``after`` (the video's previous value): the order rule of ``frame_id_order_problem`` on many rows at once."""
    return bool(len(values) == 0 or (values[0] > after and (np.diff(values) > 0).all()))
