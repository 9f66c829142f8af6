"""Byte-level checks of frame images: whether a file is a whole JPEG or PNG, and its size, without decoding.

The checker runs these on every frame a clip reads (two small reads per
frame, not a decode), and the frame readers on the bytes they decode.
``frame_size_problem`` is the one rule on frame sizes: at least
``MIN_FRAME_SIDE`` pixels a side, and one size per video.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

# Start-of-frame markers of every JPEG coding process (baseline, progressive, lossless, arithmetic).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SOS, _TEM = 0xDA, 0x01

# An image's end marker sits in its last bytes (JPEG's EOI may be followed by a little padding).
TAIL_BYTES = 32
HEAD_BYTES = 16384  # enough for a JPEG's frame header unless a large EXIF block comes first
# The model upscales every frame to its crop (DATA.TRAIN_JITTER_SCALES / DATA.TEST_CROP_SIZE, 224-320 px): a
# frame with a side under 32 px is magnified 7x or more, so a person in it is a few pixels of blur (and the
# HOG detector's window alone is 64x128). Such frames are a broken extraction, not a video to train on.
MIN_FRAME_SIDE = 32
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_problem(head: bytes, tail: bytes) -> Optional[str]:
    """Why a frame file is not a complete JPEG or PNG, from its first and last bytes; None if it looks whole.

    A truncated JPEG (a killed extraction, a full disk) still decodes, with
    grey where data is missing and only a libjpeg warning naming no file, so
    the end-of-image marker is checked rather than trusting the decoder.
    """
    if not head:
        return "empty file"
    if head[:8] == _PNG_SIGNATURE:
        return None if b"IEND" in tail else "truncated PNG (no IEND chunk)"
    if head[:2] != b"\xff\xd8":
        return "not a JPEG or PNG image"
    if jpeg_size(head) is None:
        return "JPEG without a frame header"
    if b"\xff\xd9" not in tail:
        return "truncated JPEG (no end-of-image marker)"
    return None


def frame_file_problem(path: Path) -> Optional[str]:
    """``image_problem`` of a file on disk, reading only its first and last bytes (the checker's cheap test)."""
    return inspect_frame_file(path)[0]


def inspect_frame_file(path: Path) -> Tuple[Optional[str], Optional[Tuple[int, int]]]:
    """(``image_problem``, (height, width) or None) of a file on disk from its first and last bytes."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        size = f.seek(0, 2)
        if size > HEAD_BYTES and head[:2] == b"\xff\xd8" and jpeg_size(head) is None:
            f.seek(0)
            head = f.read()  # the frame header lies further in
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read()
    problem = image_problem(head, tail)
    return problem, None if problem else image_size(head)


def image_size(head: bytes) -> Optional[Tuple[int, int]]:
    """(height, width) of a JPEG (its frame header) or PNG (its IHDR chunk) from its first bytes; None if neither."""
    if head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR" and len(head) >= 24:
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
    return jpeg_size(head)


def frame_file_size(path: Path) -> Optional[Tuple[int, int]]:
    """(height, width) of a frame file from its header (no decode); None if it has none (``image_problem``
    says why)."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        size = image_size(head)
        if size is None and head[:2] == b"\xff\xd8" and len(head) == HEAD_BYTES:
            size = jpeg_size(head + f.read())  # the frame header lies further in
    return size


def frame_size_problem(size: Tuple[int, int], first: Optional[Tuple[int, int]] = None,
                       first_name: str = "the video's first frame") -> Optional[str]:
    """Why a frame of (height, width) ``size`` cannot be trained on; None if it can.

    ``first``: the size of the video's first frame (``first_name``): every frame of a video has its size, since
    a clip stacks frames and its boxes are fractions of one frame size.
    """
    height, width = size
    if first is not None and size != first:
        return f"frame is {width}x{height} px, {first_name} is {first[1]}x{first[0]} px (one size per video)"
    if min(height, width) < MIN_FRAME_SIDE:
        return (f"a {width}x{height} px frame is smaller than the {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE} px the model "
                "needs")
    return None


def jpeg_size(data: bytes) -> Optional[Tuple[int, int]]:
    """(height, width) from a JPEG's frame header; None if ``data`` is not a JPEG that has one."""
    if data[:2] != b"\xff\xd8":
        return None
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == _TEM or 0xD0 <= marker <= 0xD8:  # markers without a length field
            pos += 2
            continue
        if marker in _SOF_MARKERS:
            if pos + 9 > end:
                return None
            return int.from_bytes(data[pos + 5:pos + 7], "big"), int.from_bytes(data[pos + 7:pos + 9], "big")
        if marker == _SOS:
            return None
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return None
