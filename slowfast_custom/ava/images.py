"""Byte-level checks of frame images: whether a file is a whole JPEG or PNG, and a JPEG's size, without decoding.

The checker runs these on every frame a clip reads (two small reads per
frame, not a decode), and the frame readers on the bytes they decode.
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


def image_problem(head: bytes, tail: bytes) -> Optional[str]:
    """Why a frame file is not a complete JPEG or PNG, from its first and last bytes; None if it looks whole.

    A truncated JPEG (a killed extraction, a full disk) still decodes, with
    grey where data is missing and only a libjpeg warning naming no file, so
    the end-of-image marker is checked rather than trusting the decoder.
    """
    if not head:
        return "empty file"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
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
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        size = f.seek(0, 2)
        if size > HEAD_BYTES and head[:2] == b"\xff\xd8" and jpeg_size(head) is None:
            f.seek(0)
            head = f.read()  # the frame header lies further in
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read()
    return image_problem(head, tail)


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
