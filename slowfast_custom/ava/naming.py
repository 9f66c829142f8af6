"""Names in an AVA dataset: video ids, frame file names, keyframe image names, and the frames folder's path rules.

* A video id names one folder of ``frames/`` and fills one column of a
  space-separated frame list and of a comma-separated box CSV
  (``video_id_problem``).
* Frame ``n`` (from 1) of a video is ``<video>/<video>_<n, 6 digits>.jpg``
  under the frames folder (``frame_name``, ``frame_relpath``); frame lists
  made by other tools may use other digits or ``.jpeg``/``.png``, whose number
  ``frame_number`` still reads.
* A frame path read from a data file never leaves the frames folder
  (``frame_path_problem``).
* Keyframe images exported for labelling are ``<video>__<second, 6 digits>.jpg``
  (``keyframe_image_name``), or named as their frame (``parse_frame_image_name``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.ava.timing import second_to_frame
from slowfast_custom.errors import DataError

PathLike = Union[str, Path]

# ---------------------------------------------------------------------------
# Video ids
# ---------------------------------------------------------------------------

# Spaces and commas split frame-list and CSV columns; quotes are read as quoting by CSV tools; separators would
# make the id a path. A leading dot makes a hidden folder, which is not a video (an extraction's temp folder).
_BAD_VIDEO_ID = re.compile(r"[\s,\"'/\\]")


def video_id_problem(video_id: str) -> Optional[str]:
    """Why ``video_id`` cannot name a video (see ``_BAD_VIDEO_ID``), or None."""
    if not video_id or _BAD_VIDEO_ID.search(video_id) or video_id.startswith("."):
        return (f"video id {video_id!r} is empty, starts with a dot or has a space, comma, quote or path separator, "
                "which frame lists, box CSVs and frames/<video>/ cannot hold")
    return None


def check_video_id(video_id: str, where: PathLike = "") -> None:
    """DataError unless ``video_id`` can name a video (``video_id_problem``)."""
    problem = video_id_problem(video_id)
    if problem:
        raise DataError(where or video_id, problem, hint="Rename the video (or pass --id)")


def video_id_arg(text: str) -> str:
    """argparse ``type`` for a video id given on a command line (``check_video_id``)."""
    import argparse

    problem = video_id_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def video_id_list_arg(text: str) -> List[str]:
    """argparse ``type`` for comma-separated video ids (empty items ignored)."""
    return [video_id_arg(v) for v in text.split(",") if v]


def parse_video_range(text: str) -> Tuple[str, Tuple[int, int]]:
    """``VIDEO:FIRST-LAST`` (or ``VIDEO:SECOND``) as a video and an inclusive range of its seconds; ValueError
    saying the form otherwise."""
    video, sep, span = text.rpartition(":")
    first, _, last = span.partition("-")
    if not sep or not first.isdigit() or not (last or first).isdigit() or int(last or first) < int(first):
        raise ValueError(f"{text!r} is not VIDEO:FIRST-LAST (whole seconds, FIRST <= LAST), e.g. cam1:14-18")
    problem = video_id_problem(video)
    if problem:
        raise ValueError(problem)
    return video, (int(first), int(last or first))


def video_range_arg(text: str) -> Tuple[str, Tuple[int, int]]:
    """argparse ``type`` for ``VIDEO:FIRST-LAST`` (``parse_video_range``)."""
    import argparse

    try:
        return parse_video_range(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


# ---------------------------------------------------------------------------
# Frame file names
# ---------------------------------------------------------------------------

FRAME_DIGITS = 6  # frame numbers are zero-padded to this width
FRAME_EXT = ".jpg"
FIRST_FRAME = 1  # frame files are numbered from 1 (ffmpeg's default), frame indices from 0
# Any image named ``<video>_<number>.<ext>``: frame lists made by other tools use other widths and extensions.
_FRAME_FILE = re.compile(r"^(?P<video>.*)_(?P<number>\d+)\.(?:jpg|jpeg|png)$", re.IGNORECASE)


def frame_name(video: str, number: int) -> str:
    """File name of frame ``number`` (from 1) of ``video``: ``<video>_000001.jpg``."""
    return f"{video}_{number:0{FRAME_DIGITS}d}{FRAME_EXT}"


def frame_relpath(video: str, number: int) -> str:
    """Path of frame ``number`` (from 1) relative to the frames folder, as frame lists hold it."""
    return f"{video}/{frame_name(video, number)}"


def frame_relpath_parts(video: str) -> Tuple[str, str]:
    """``(prefix, suffix)`` around the ``FRAME_DIGITS`` digits of every ``frame_relpath`` of ``video``
    (for matching many paths at once, as the compact index does on bytes)."""
    path = frame_relpath(video, 0)
    cut = len(path) - len(FRAME_EXT) - FRAME_DIGITS
    return path[:cut], path[cut + FRAME_DIGITS:]


def frame_pattern(video: str) -> str:
    """The printf pattern of ``frame_name`` that ffmpeg numbers its output with (``%`` in the name escaped)."""
    return f"{video.replace('%', '%%')}_%0{FRAME_DIGITS}d{FRAME_EXT}"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def frame_number(frame_path: str) -> Optional[int]:
    """The image number in a frame file name (``<video>_000412.jpg`` -> 412), None for other names."""
    match = _FRAME_FILE.match(_basename(frame_path))
    return int(match.group("number")) if match else None


def own_frame_number(video: str, name: str) -> Optional[int]:
    """``n`` when ``name`` is exactly ``frame_name(video, n)`` (the extraction's own output), else None."""
    if not (name.startswith(video + "_") and name.endswith(FRAME_EXT)):
        return None
    digits = name[len(video) + 1:-len(FRAME_EXT)]
    return int(digits) if len(digits) == FRAME_DIGITS and digits.isascii() and digits.isdigit() else None


# ---------------------------------------------------------------------------
# The frames folder
# ---------------------------------------------------------------------------


def frame_path_problem(frame_path: str) -> Optional[str]:
    """Why a frame list's path column could leave the frames folder (absolute, ``..``), or None."""
    if frame_path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", frame_path):
        return f"frame path {frame_path!r} is absolute"
    if ".." in re.split(r"[/\\]", frame_path):
        return f"frame path {frame_path!r} leads out of the frames folder ('..')"
    return None


FRAME_PATH_HINT = "Frame paths are <video>/<file>.jpg relative to the frames folder"


def check_frame_relpath(path: PathLike, line_no: int, frame_path: str) -> None:
    """DataError unless ``frame_path`` stays inside the frames folder (paths from data files never leave it)."""
    problem = frame_path_problem(frame_path)
    if problem:
        raise DataError(path, problem, line_no, f"{FRAME_PATH_HINT}; rebuild the list with tools/check_dataset.py "
                        "DIR --fix")


def is_video_dir_name(name: str) -> bool:
    """Hidden folders of the frames folder (a running or killed extraction's ``.<video>.*.tmp``) are not videos."""
    return not name.startswith(".")


def video_dirs(frame_dir: PathLike) -> List[str]:
    """The video folders of a frames folder, sorted (``is_video_dir_name``)."""
    return sorted(p.name for p in Path(frame_dir).iterdir() if p.is_dir() and is_video_dir_name(p.name))


def frame_list_from_dir(frame_dir: PathLike, videos: Optional[Iterable[str]] = None) -> Dict[str, List[str]]:
    """Build ``{video: [relative frame path, ...]}`` from ``frames/<video>/``, in image-number order."""
    frame_dir = Path(frame_dir)
    names = sorted(videos) if videos is not None else video_dirs(frame_dir)
    result: Dict[str, List[str]] = {}
    for video in names:
        folder = frame_dir / video
        if not folder.is_dir():
            raise DataError(folder, f"no frames folder for video {video}",
                            hint="Extract its frames first (tools/extract_frames.py)")
        frames = []
        for p in folder.iterdir():
            number = frame_number(p.name)
            if number is not None:
                frames.append((number, f"{video}/{p.name}"))
        frames.sort()
        result[video] = [rel for _, rel in frames]
    return result


# ---------------------------------------------------------------------------
# Keyframe images for labelling
# ---------------------------------------------------------------------------

_KEYFRAME_IMAGE = re.compile(r"^(?P<video>.+)__(?P<second>\d{4,})\.jpg$")


def keyframe_image_name(video: str, second: int) -> str:
    """``<video>__<second, 6 digits>.jpg``: unique across videos and reversible (``parse_keyframe_image_name``)."""
    return f"{video}__{second:06d}.jpg"


def parse_keyframe_image_name(name: str) -> Tuple[str, int]:
    """``(video, second)`` of a name made by ``keyframe_image_name``; ValueError otherwise."""
    match = _KEYFRAME_IMAGE.match(_basename(name))
    if not match:
        raise ValueError(f"{name!r} is not a keyframe image name (<video>__<second>.jpg)")
    return match.group("video"), int(match.group("second"))


def parse_frame_image_name(name: str, fps: float = DEFAULT_FPS) -> Tuple[str, int]:
    """``(video, second)`` of a keyframe named as its frame, ``<video>_<frame number from 1>.jpg``.

    The naming of ``frame_name`` and of the "Custom-ava-dataset" procedure's
    VIA 3 images (frame ``second * fps + 1``). ValueError for other names and
    for frames that are not the first frame of a second.
    """
    match = _FRAME_FILE.match(_basename(name))
    if not match or not match.group("video"):
        raise ValueError(f"{name!r} is not a frame image name (<video>_<frame number>.jpg)")
    index = int(match.group("number")) - FIRST_FRAME
    second = int(round(index / fps)) if index >= 0 else -1
    if second < 0 or second_to_frame(second, fps, 0) != index:
        raise ValueError(f"{name!r} is frame {index + 1}, not the first frame of a second at {fps:g} fps "
                         f"(frames 1, {second_to_frame(1, fps, 0) + 1}, {second_to_frame(2, fps, 0) + 1}, ...)")
    return match.group("video"), second
