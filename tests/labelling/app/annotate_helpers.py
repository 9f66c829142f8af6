"""A tiny labelling dataset made on the fly: keyframe images and a project of known person tracks."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

from slowfast_custom.ava.formats import LabelMapEntry, frame_name
from slowfast_custom.labelling.app.project import PROJECT_NAME, PersonBox, Project

FPS = 2  # frames per second of the fixture (few files; the app reads any rate)
SECONDS = 10
# stand and walk exclude each other (AVA's pose classes); talk goes with either.
ACTIONS = [LabelMapEntry(1, "stand", "PERSON_MOVEMENT"), LabelMapEntry(2, "walk", "PERSON_MOVEMENT"),
           LabelMapEntry(3, "talk", "PERSON_INTERACTION")]
# video -> person -> (first second, last second, box): alpha's persons 2 and 3 are one person the tracker split.
TRACKS: Dict[str, Dict[int, Tuple[int, int, Tuple[float, float, float, float]]]] = {
    "alpha": {1: (1, 8, (0.1, 0.2, 0.3, 0.9)), 2: (1, 4, (0.5, 0.2, 0.7, 0.9)), 3: (5, 8, (0.55, 0.2, 0.75, 0.9))},
    "beta": {1: (2, 6, (0.4, 0.1, 0.6, 0.8))},
}
KEYFRAMES = list(range(1, SECONDS - 1))


def write_frames(dataset: Path, video: str) -> None:
    folder = dataset / "frames" / video
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, SECONDS * FPS + 1):
        image = np.full((48, 64, 3), (40 * number) % 255, np.uint8)
        cv2.putText(image, str(number), (4, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        cv2.imwrite(str(folder / frame_name(video, number)), image)


def tracked_boxes() -> List[PersonBox]:
    return [PersonBox(0, video, second, person, box)
            for video, people in TRACKS.items() for person, (first, last, box) in people.items()
            for second in range(first, last + 1)]


def make_dataset(root: Path) -> Path:
    """``root`` with frames/ of both videos and a new project of ``TRACKS``; return the dataset folder."""
    for video in TRACKS:
        write_frames(root, video)
    Project.create(root / PROJECT_NAME, FPS, ACTIONS, {v: KEYFRAMES for v in TRACKS}, tracked_boxes())
    return root
