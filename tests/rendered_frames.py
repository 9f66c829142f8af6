"""Frames the annotation tests render: solid coloured rectangles ("people") moving over a dark background."""

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from slowfast_custom.ava.naming import frame_name
from slowfast_custom.detection import Detection

COLOURS = ((0, 0, 255), (0, 255, 0), (255, 0, 0))  # BGR, one per person


def person_box(person: int, t: int, width: int, height: int) -> Tuple[int, int, int, int]:
    """Pixel box of ``person`` at frame ``t``: people walk right at different heights and sizes."""
    w, h = width // 8 + 4 * person, height // 3 + 6 * person
    x = (5 + 37 * person + t) % (width - w - 2)
    y = 8 + 25 * person
    return x, y, x + w, y + h


def write_video_frames(frame_root: Path, video: str, seconds: int = 6, fps: int = 10, size=(160, 120),
                       people: int = 2) -> int:
    """Write ``frame_root/<video>/<video>_%06d.jpg``; return the frame count."""
    width, height = size
    folder = Path(frame_root) / video
    folder.mkdir(parents=True, exist_ok=True)
    n = seconds * fps
    for t in range(n):
        frame = np.full((height, width, 3), 30, np.uint8)
        for p in range(people):
            x1, y1, x2, y2 = person_box(p, t, width, height)
            cv2.rectangle(frame, (x1, y1), (x2 - 1, y2 - 1), COLOURS[p], -1)
        cv2.imwrite(str(folder / frame_name(video, t + 1)), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return n


class ColourDetector:
    """Finds the rendered people by colour: a stand-in detector with known answers."""

    def __init__(self, colours: Sequence[Tuple[int, int, int]] = COLOURS, score: float = 0.9) -> None:
        self.colours = colours
        self.score = score
        self.calls = 0

    def __call__(self, frame_bgr: np.ndarray) -> List[Detection]:
        self.calls += 1
        dets = []
        for colour in self.colours:
            lo = np.clip(np.array(colour) - 80, 0, 255).astype(np.uint8)
            hi = np.clip(np.array(colour) + 80, 0, 255).astype(np.uint8)
            mask = cv2.inRange(frame_bgr, lo, hi)
            ys, xs = np.nonzero(mask)
            if len(xs) > 20:
                dets.append(Detection((float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)),
                                      self.score))
        return dets


def frame_counts(frame_root: Path) -> Dict[str, int]:
    return {p.name: len(list(p.glob("*.jpg"))) for p in Path(frame_root).iterdir() if p.is_dir()}
