"""Image facts the labelling tools need from extracted frames (decoded with OpenCV)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence, Tuple

from slowfast_custom.ava.naming import PathLike, frame_list_from_dir
from slowfast_custom.errors import DataError


def image_sizes_from_frames(frame_dir: PathLike, videos: Sequence[str]) -> Mapping[str, Tuple[int, int]]:
    """``{video: (width, height)}`` from the first frame of each video (all frames of a video share a size)."""
    from slowfast_custom.data.frame_decode import read_frame  # OpenCV, only when frames are read

    frame_dir = Path(frame_dir)
    sizes = {}
    for video, frames in frame_list_from_dir(frame_dir, videos).items():
        if not frames:
            raise DataError(frame_dir / video, f"no frames of video {video}",
                            hint="Extract its frames first (tools/extract_frames.py)")
        image = read_frame(frame_dir / frames[0])
        sizes[video] = (image.shape[1], image.shape[0])
    return sizes
