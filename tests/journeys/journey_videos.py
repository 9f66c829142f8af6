"""Real videos for the journey tests: short clips of ../shared/data/vtest.avi (people walking, so HOG finds
them) re-encoded with PyAV at other sizes, aspect ratios and frame rates, as users' own videos are."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import List, Tuple

import av
import cv2
import numpy as np

from conftest import shared_file

SOURCE_FPS = 10  # vtest.avi: 768x576 at 10 fps, 79.5 s
NTSC = Fraction(30000, 1001)  # 29.97 fps, the rate of most camera and phone video


def vtest() -> Path:
    """../shared/data/vtest.avi, or skip the test when it is absent."""
    return shared_file("data", "vtest.avi")


def source_frames(start_sec: float, seconds: float) -> List[np.ndarray]:
    """vtest.avi's BGR frames from ``start_sec`` for ``seconds``."""
    first, count = round(start_sec * SOURCE_FPS), round(seconds * SOURCE_FPS)
    frames = []
    with av.open(str(vtest())) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= first + count:
                break
            if index >= first:
                frames.append(frame.to_ndarray(format="bgr24"))
    return frames


def make_clip(path: Path, start_sec: float, seconds: float, width: int, height: int, fps: Fraction,
              crop: Tuple[int, int, int, int] = (0, 0, 768, 576)) -> Path:
    """``seconds`` of vtest.avi from ``start_sec``, its ``crop`` (x, y, width, height) scaled to ``width`` x
    ``height`` and resampled to ``fps`` (each output frame shows the source frame of its time), as H.264 in
    ``path``. Crop near the camera for small sizes: HOG finds no one under 128 px tall."""
    x, y, w, h = crop
    frames = [frame[y:y + h, x:x + w] for frame in source_frames(start_sec, seconds)]
    count = int(seconds * fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(count):
            source = frames[min(int(index / fps * SOURCE_FPS), len(frames) - 1)]
            image = cv2.resize(source, (width, height), interpolation=cv2.INTER_AREA)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode())
    return path
