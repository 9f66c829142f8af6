"""Where the demo's person boxes come from: a detector (optionally tracked) or an AVA box CSV.

Boxes are kept as fractions of the frame (x1, y1, x2, y2 in [0, 1]), as AVA's
CSVs store them, so they do not depend on the frame size they are drawn at.

With a tracker, every frame the tracker saw (``DEMO.TRACK_FPS``) is kept in a
``TrackHistory``, from which each written frame gets its people's boxes,
interpolated between the tracked frames before and after it: boxes follow the
people between predictions without a detection on every frame.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from slowfast_custom.ava.formats import Box, BoxKind, BoxRow, iter_box_csv
from slowfast_custom.errors import DataError

logger = logging.getLogger(__name__)

# Seconds within which two frame times are the same frame (times are index / fps, computed two ways).
TIME_EPSILON = 1e-6


@dataclass(frozen=True)
class Person:
    box: Box  # x1, y1, x2, y2 as fractions of the frame width and height
    score: float = 1.0  # the detector's score (1.0 for ground truth)
    person_id: Optional[int] = None  # track id, or the ground truth's person id; None when untracked
    actions: Tuple[int, ...] = ()  # ground truth only: 1-based action ids


def normalise_box(box_px: Sequence[float], width: int, height: int) -> Optional[Box]:
    """A pixel box as fractions of the frame, clipped to it; None when nothing of it is inside."""
    x1, y1, x2, y2 = (float(v) for v in box_px)
    x1, x2 = (min(max(v / width, 0.0), 1.0) for v in (x1, x2))
    y1, y2 = (min(max(v / height, 0.0), 1.0) for v in (y1, y2))
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2, y2)


def boxes_in_pixels(people: Sequence[Person], width: int, height: int) -> np.ndarray:
    """``[K, 4]`` float32 pixel boxes of ``people`` in a frame of ``width`` x ``height``."""
    scale = np.array([width, height, width, height], dtype=np.float32)
    return np.array([p.box for p in people], dtype=np.float32).reshape(-1, 4) * scale


class TrackHistory:
    """The tracked people of the frames the tracker saw, in time order; ``at(time)`` gives them at any time
    between two of those frames, each box linearly interpolated between its two tracked boxes."""

    def __init__(self) -> None:
        self._samples: Deque[Tuple[float, Dict[int, Person]]] = deque()

    def add(self, time: float, people: Sequence[Person]) -> None:
        self._samples.append((time, {p.person_id: p for p in people if p.person_id is not None}))

    @property
    def latest(self) -> float:
        """The time of the last tracked frame (-inf before the first): frames up to it can be drawn."""
        return self._samples[-1][0] if self._samples else -math.inf

    def at(self, time: float) -> List[Person]:
        """The people tracked at ``time``: those of the last tracked frame at or before it, moved towards their
        box in the next tracked frame (a person missing there keeps the box). Times must not decrease between
        calls: older tracked frames are forgotten."""
        while len(self._samples) >= 2 and self._samples[1][0] <= time + TIME_EPSILON:
            self._samples.popleft()
        if not self._samples or self._samples[0][0] > time + TIME_EPSILON:
            return []
        start, before = self._samples[0]
        if len(self._samples) < 2:
            return list(before.values())
        end, after = self._samples[1]
        weight = (time - start) / (end - start)
        people = []
        for person_id, person in before.items():
            later = after.get(person_id)
            if later is not None:
                box = tuple(a + weight * (b - a) for a, b in zip(person.box, later.box))
                person = Person(box, person.score, person_id)  # type: ignore[arg-type]
            people.append(person)
        return people


class DetectedPeople:
    """Person boxes from a ``slowfast_custom.detection`` detector, with track ids when a tracker is given.

    The tracker also sees ``track_fps`` frames per second between keyframes,
    which keeps ids stable when people move far between two predictions, and
    whose boxes ``tracks`` holds for drawing every frame.
    """

    def __init__(self, detector, tracker=None, track_fps: float = 5.0) -> None:
        self.detector = detector
        self.tracker = tracker
        self.tracks: Optional[TrackHistory] = TrackHistory() if tracker is not None else None
        self._track_period = 1.0 / track_fps if track_fps > 0 else float("inf")
        self._next_track = 0.0

    def keyframe(self, image: np.ndarray, time: float, moment: float) -> List[Person]:
        return self._detect(image, time)

    def between(self, image: np.ndarray, time: float) -> None:
        if self.tracker is not None and time + TIME_EPSILON >= self._next_track:
            self._detect(image, time)

    def _detect(self, image: np.ndarray, time: float) -> List[Person]:
        height, width = image.shape[:2]
        detections = self.detector(image)
        if self.tracker is not None:
            self._next_track = time + self._track_period
            found = [(t.box, t.score, t.track_id) for t in self.tracker.update(image, detections)]
        else:
            found = [(d.box, d.score, None) for d in detections]
        people = []
        for box_px, score, track_id in found:
            box = normalise_box(box_px, width, height)
            if box is not None:
                people.append(Person(box, float(score), None if track_id is None else int(track_id)))
        if self.tracks is not None:
            self.tracks.add(time, people)
        return people


def rows_of_video(path: Path, kind: BoxKind, video_id: str, starting_second: int,
                  duration: float) -> Dict[int, List[BoxRow]]:
    """The validated rows of ``video_id`` in an AVA box CSV, by second.

    A DataError names the file (and line) when a row is malformed, when the
    file has boxes of other videos only, or when none of the video's seconds
    falls inside the video (a wrong DEMO.STARTING_SECOND).
    """
    by_second: Dict[int, List[BoxRow]] = defaultdict(list)
    others: Dict[str, int] = {}
    for row in iter_box_csv(path, kind):
        if row.video_id == video_id:
            by_second[row.second].append(row)
        else:
            others.setdefault(row.video_id, row.line)
    if not by_second and others:
        names = ", ".join(sorted(others)[:5]) + (" ..." if len(others) > 5 else "")
        raise DataError(path, f"no rows for video {video_id!r}, only for {names}", others[min(others)],
                        hint="The first column must be the input video's file name without its extension")
    if by_second and duration > 0:
        inside = [s for s in by_second if 0 <= s - starting_second <= duration]
        if not inside:
            first, last = min(by_second), max(by_second)
            raise DataError(path, f"seconds {first}-{last} of video {video_id!r} are outside the video "
                            f"({duration:.1f} s long, first frame = second {starting_second})",
                            by_second[first][0].line,
                            hint="Set DEMO.STARTING_SECOND to the second of the video's first frame (AVA cuts: 900)")
        if len(inside) < len(by_second):
            logger.warning("%s: %d of %d seconds of video %s are outside the video and are not shown", path,
                           len(by_second) - len(inside), len(by_second), video_id)
    return dict(by_second)


class PrecomputedPeople:
    """Person boxes from an AVA predicted-box CSV (``DEMO.PREDS_BOXES``) for keyframes at whole seconds.

    Boxes scored below ``score_thresh`` are dropped, as the dataset's test
    split drops them (``AVA.DETECTION_SCORE_THRESH``). A box listed once per
    action (an AVA detection output) is one person.
    """

    tracks: Optional[TrackHistory] = None  # the CSV's boxes carry no person id to follow between keyframes

    def __init__(self, path, video_id: str, starting_second: int, duration: float, score_thresh: float) -> None:
        self.path = Path(path)
        self.starting_second = starting_second
        self._by_second: Dict[int, List[Person]] = {}
        for second, rows in rows_of_video(self.path, "predicted", video_id, starting_second, duration).items():
            best: Dict[Box, float] = {}
            for row in rows:
                score = 1.0 if row.score is None else row.score
                if score >= score_thresh:
                    best[row.box] = max(score, best.get(row.box, score))
            self._by_second[second] = [Person(box, score) for box, score in best.items()]

    def keyframe(self, image: np.ndarray, time: float, moment: float) -> List[Person]:
        """The boxes of the CSV second at ``moment`` seconds into the video."""
        return list(self._by_second.get(self.starting_second + int(round(moment)), []))

    def between(self, image: np.ndarray, time: float) -> None:
        """Nothing to do between keyframes (the interface of ``DetectedPeople``)."""


def read_ground_truth(path, video_id: str, starting_second: int, duration: float) -> Dict[int, List[Person]]:
    """Ground-truth people of ``video_id`` by second (``DEMO.GT_BOXES``), with their action ids."""
    people: Dict[int, List[Person]] = {}
    for second, rows in rows_of_video(Path(path), "gt", video_id, starting_second, duration).items():
        boxes: Dict[Box, Tuple[Optional[int], List[int]]] = {}
        for row in rows:
            person_id, actions = boxes.setdefault(row.box, (row.person_id, []))
            if row.action_id is not None and row.action_id not in actions:
                actions.append(row.action_id)
        people[second] = [Person(box, 1.0, pid, tuple(sorted(actions))) for box, (pid, actions) in boxes.items()]
    return people
