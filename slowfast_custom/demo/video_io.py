"""Decoding any video PyAV opens and encoding the demo's output, H.264 when the encoder exists.

Frames are BGR ``uint8`` arrays (OpenCV's and the dataset's order). The
output is written under a temporary name and renamed when complete, so an
interrupted run leaves nothing under the final name.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Dict, Iterator, Sequence, Tuple

import av
import cv2
import numpy as np

from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_path, existing_ancestor, temporary_sibling
from slowfast_custom.video.frames import READ_HINT, VideoInfo, open_video

logger = logging.getLogger(__name__)

# Output container (by file extension) -> (PyAV format name, encoders in order of preference).
CONTAINERS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    ".mp4": ("mp4", ("libx264", "mpeg4")),
    ".m4v": ("mp4", ("libx264", "mpeg4")),
    ".mov": ("mov", ("libx264", "mpeg4")),
    ".mkv": ("matroska", ("libx264", "mpeg4")),
    ".avi": ("avi", ("libx264", "mpeg4")),
    ".webm": ("webm", ("libvpx-vp9", "libvpx")),
}


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based decoding order
    time: float  # seconds since the first frame
    image: np.ndarray  # H x W x 3, BGR uint8


def read_frames(info: VideoInfo, max_seconds: float = 0.0) -> Iterator[Frame]:
    """Decode ``info.path`` in order; stop after ``max_seconds`` of video when it is > 0.

    A frame's time is index / fps: its time in the output video, which is
    written frame for frame at that rate. (Timestamps are not used: AVI files
    with B-frames, common for XviD, carry none that can be trusted.)
    """
    container = open_video(info.path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = 0
        frames = container.decode(stream)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.FFmpegError as err:
                raise DataError(info.path, f"cannot decode frame {index} ({err.strerror or err})",
                                hint=READ_HINT) from None
            time = index / float(info.fps)
            if max_seconds > 0 and time >= max_seconds:
                break
            yield Frame(index, time, frame.to_ndarray(format="bgr24"))
            index += 1
    finally:
        container.close()


def check_output_path(path) -> Tuple[str, Tuple[str, ...]]:
    """The container format and encoders for ``path``; UserError if the extension is unknown."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise UserError(f"{path}: cannot tell the video format from the extension {suffix or '(none)'!r}; "
                        f"use one of {', '.join(sorted(CONTAINERS))}")
    return CONTAINERS[suffix]


def available_encoder(candidates: Tuple[str, ...]) -> str:
    """The first encoder of ``candidates`` this PyAV build has."""
    for name in candidates:
        try:
            av.codec.Codec(name, "w")
            return name
        except (av.error.FFmpegError, ValueError):  # ValueError / UnknownCodecError: not in this build
            continue
    raise UserError(f"none of the video encoders {', '.join(candidates)} is in this PyAV build; "
                    "reinstall PyAV from its binary wheel (pip install --force-reinstall av)")


class VideoWriter:
    """Encodes BGR frames of a fixed size into an open container."""

    def __init__(self, container, encoder: str, width: int, height: int, fps: Fraction) -> None:
        self.encoder = encoder
        self.width, self.height = width, height
        self.frames = 0
        self._container = container
        stream = container.add_stream(encoder, rate=fps)
        stream.width, stream.height = width, height
        odd = width % 2 or height % 2
        if encoder == "libx264":
            # 4:2:0 needs even sizes; 4:4:4 keeps the exact input size (not every player shows it).
            stream.pix_fmt = "yuv444p" if odd else "yuv420p"
            stream.options = {"crf": "20", "preset": "veryfast"}
            if odd:
                logger.info("Odd frame size %dx%d: encoding H.264 4:4:4 to keep the input's size", width, height)
        else:
            stream.pix_fmt = "yuv420p"
            stream.bit_rate = int(max(1_000_000, 0.15 * width * height * float(fps)))
        self._stream = stream

    def write(self, image: np.ndarray) -> None:
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame {image.shape[1]}x{image.shape[0]} != video {self.width}x{self.height}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def _flush(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)


@contextlib.contextmanager
def open_writer(path, width: int, height: int, fps: Fraction, write_to=None) -> Iterator[VideoWriter]:
    """A ``VideoWriter`` for ``path``; the file appears under its name only when the block succeeds.

    ``write_to``: a staged temporary name to write instead, which the caller
    renames (with the files that go with the video, see ``fileio.staged_paths``).
    The container format still follows ``path``'s extension.

    H.264 (libx264) for .mp4/.mov/.mkv/.avi, VP9 for .webm; when the preferred
    encoder is missing from the PyAV build, the fallback is named in the log.
    """
    path = Path(path)
    fmt, encoders = check_output_path(path)
    encoder = available_encoder(encoders)
    if encoder != encoders[0]:
        logger.warning("Encoder %s is not in this PyAV build: writing %s with %s instead", encoders[0], path,
                       encoder)
    with (contextlib.nullcontext(Path(write_to)) if write_to is not None else atomic_path(path)) as tmp:
        container = av.open(str(tmp), "w", format=fmt)
        try:
            writer = VideoWriter(container, encoder, width, height, fps)
            yield writer
            writer._flush()
        finally:
            container.close()


def check_writable(path) -> None:
    """UserError naming ``path`` unless a file can be created beside it (checked before any work)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: output path is a folder; give a file name such as {path / 'demo.mp4'}")
    ancestor = existing_ancestor(path)
    if not ancestor.is_dir():  # else the OS's answer is "File exists" (making the folder) or "Not a directory"
        raise UserError(f"{path}: {ancestor} is a file, not a folder; write the output elsewhere")
    try:
        temporary_sibling(path).unlink()
    except OSError as err:
        raise UserError(f"{path}: cannot write the output here ({err.strerror or err})") from None


def encode_images(image_paths: Sequence[Path], path, fps: float) -> int:
    """Encode image files (a dataset's ``frames/<video>/`` folder, in order) into a video; return the count."""
    if not image_paths:
        raise UserError(f"{path}: no frames to encode")
    first = cv2.imread(str(image_paths[0]))
    if first is None:
        raise DataError(image_paths[0], "cannot read image")
    height, width = first.shape[:2]
    with open_writer(path, width, height, Fraction(fps).limit_denominator(1001)) as writer:
        for image_path in image_paths:
            image = cv2.imread(str(image_path))
            if image is None or image.shape[:2] != (height, width):
                raise DataError(image_path, f"cannot read image, or its size is not {width}x{height}")
            writer.write(image)
        return writer.frames
