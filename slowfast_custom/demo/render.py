"""The demo's render loop: frames from any ``FrameSource`` in, drawn frames out to a video writer.

For each frame, in order: the people of a keyframe are found (or, between
keyframes, the tracker is fed), every prediction whose clip is complete is
made, and every frame whose prediction is made is drawn and written. A
frame waits only for what it shows: its keyframe's prediction and, with
tracking, the next tracked frame, between which its boxes are interpolated.

Live sources add one rule (``LatencyBudget``): work that could no longer be
shown within ``DEMO.LIVE_MAX_DELAY`` is skipped. For a file every frame's
``captured`` is None and the budget always allows.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from slowfast_custom.demo.clips import ClipScheduler, Keyframe
from slowfast_custom.demo.draw import Label, LabelPolicy, Painter
from slowfast_custom.demo.live import LatencyBudget
from slowfast_custom.demo.people import DetectedPeople, Person, PrecomputedPeople
from slowfast_custom.demo.predictor import ActionPredictor
from slowfast_custom.demo.results import PredictionLog
from slowfast_custom.demo.sources import FrameSource, SourceFrame
from slowfast_custom.demo.video_io import VideoWriter

PeopleSource = Union[DetectedPeople, PrecomputedPeople]


class RenderLoop:
    """One run over a source. ``run(writer, bar)`` returns why reading stopped; the counts and the predictions
    (``log``) are read afterwards."""

    def __init__(self, cfg, source: FrameSource, predictor: ActionPredictor, people: PeopleSource,
                 policy: LabelPolicy, class_names: Sequence[str], ground_truth: Dict[int, List[Person]],
                 stride: float, starting_second: int, size: Tuple[int, int]) -> None:
        """``size``: output width, height; ``ground_truth``: video second -> people drawn as an overlay."""
        info = source.info
        self.source, self.predictor, self.people, self.policy = source, predictor, people, policy
        self.class_names = list(class_names)
        self.ground_truth = ground_truth
        self.starting_second = starting_second
        self.size = size
        self.num_frames = int(cfg.DATA.NUM_FRAMES)
        self.show_ids = bool(cfg.DEMO.TRACK)
        step = cfg.DATA.SAMPLING_RATE * float(info.fps) / cfg.DATA.TARGET_FPS
        self.scheduler = ClipScheduler((k * stride for k in itertools.count()), self.num_frames, step,
                                       float(info.fps))
        self.painter = Painter(*size, self.class_names)
        self.log = PredictionLog(info.path.stem, self.class_names, starting_second)
        self.budget = LatencyBudget(float(cfg.DEMO.LIVE_MAX_DELAY))
        self.person_boxes = 0
        self.boxes_with_labels = 0
        self.skipped_keyframes = 0
        self.latencies: List[float] = []  # live: seconds from a keyframe decoded to its frame written
        # Live: frames written so far. Frames the reader dropped are filled by repeating the next frame taken, so
        # the output video keeps the stream's time, as the predictions' CSV and JSON do.
        self.written = 0
        self._fps = float(info.fps)
        self._newest_captured: Optional[float] = None  # live: when the newest frame taken was decoded
        self._track_labels: Dict[int, List[Label]] = {}  # track id -> the actions of its latest prediction
        self._labelled_from: Optional[Keyframe] = None  # the keyframe ``_track_labels`` is up to date with

    def run(self, writer: VideoWriter, bar) -> str:
        """Render the whole source; return why reading stopped ("" for a file read to its end)."""
        if self.source.live:
            self._warm_up()
        ended = ""
        try:
            for frame in self.source.frames():
                self._take(frame)
                self._predict_ready()
                self._write_ready(writer, self._drawable_until())
                bar.update(1)
        except KeyboardInterrupt:
            ended = self.source.interrupted()
            if ended is None:
                raise
        self.source.close()
        ended = ended or self.source.ended
        self._newest_captured = None  # the clips left are finished from what came; not late any more
        self.scheduler.finish()
        self._predict_ready()
        self._write_ready(writer, math.inf)
        return ended

    def _warm_up(self) -> None:
        # The first forward pass at a frame size sets up kernels and memory (seconds on a CPU): done before the
        # first live prediction, at the stream's size. Not timed: the budget would then expect every prediction
        # to take that long. (Frames that come meanwhile wait in the reader's bounded buffer.)
        info = self.source.info
        blank = self.predictor.scale(np.zeros((info.height, info.width, 3), np.uint8))
        self.predictor([blank] * self.num_frames, [Person((0.25, 0.25, 0.75, 0.75))], info.width, info.height)

    def _take(self, frame: SourceFrame) -> None:
        captured = getattr(frame, "captured", None)
        self._newest_captured = captured
        keyframe = self.scheduler.push(frame.index, frame.time, frame.image, self.predictor.scale(frame.image))
        if keyframe is None:
            self.people.between(frame.image, frame.time)
            return
        keyframe.captured = captured
        if not self.budget.allows(captured, "people", "predict"):
            self._skip(keyframe)  # not even its people are looked for
            self.budget.skipped("people", "predict")
            return
        with self.budget.timing("people"):
            keyframe.people = self.people.keyframe(frame.image, frame.time, keyframe.moment)

    def _skip(self, keyframe: Keyframe) -> None:
        keyframe.skipped, keyframe.people, keyframe.shown = True, [], []
        keyframe.scores = np.zeros((0, len(self.class_names)), dtype=np.float32)
        self.skipped_keyframes += 1

    def _predict_ready(self) -> None:
        info = self.source.info
        for keyframe, clip in self.scheduler.ready():
            if keyframe.skipped:
                continue
            # The keyframe's own age (its clip's look-ahead included), not the newest frame's: what is bounded is
            # the time from the keyframe arriving to its prediction shown.
            if not self.budget.allows(keyframe.captured, "predict"):
                self._skip(keyframe)  # live and behind: a late prediction is worse than none
                self.budget.skipped("predict")
                continue
            # Only predictions with people are timed: an empty one costs nothing and would lower the estimate.
            with self.budget.timing("predict") if keyframe.people else contextlib.nullcontext():
                keyframe.scores = self.predictor(clip, keyframe.people, info.width, info.height)
            keyframe.shown = [self.policy.select(s, self.class_names) for s in keyframe.scores]
            self.person_boxes += len(keyframe.people)
            self.boxes_with_labels += sum(1 for shown in keyframe.shown if shown)
            self.log.add(keyframe)

    def _drawable_until(self) -> float:
        """The last frame time whose people are known: with tracking, that of the newest tracked frame."""
        tracks = self.people.tracks
        return math.inf if tracks is None else tracks.latest

    def _write_ready(self, writer: VideoWriter, until: float) -> None:
        info = self.source.info
        for image, frame_time, keyframe in self.scheduler.writable(until):
            if self.size != (info.width, info.height):
                image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
            for person in self.ground_truth.get(self.starting_second + int(math.floor(frame_time + 1e-6)), []):
                self.painter.ground_truth(image, person)
            if keyframe is not None:
                self._draw_people(image, frame_time, keyframe)
            # One frame per frame time: a frame after a gap of dropped ones also stands for them.
            copies = max(1, int(round(frame_time * self._fps)) + 1 - self.written) if self.source.live else 1
            for _ in range(copies):
                writer.write(image)
            self.written += copies
            if keyframe is not None and keyframe.captured is not None and not keyframe.skipped \
                    and frame_time == keyframe.time:
                self.latencies.append(time.perf_counter() - keyframe.captured)

    def _draw_people(self, image: np.ndarray, frame_time: float, keyframe: Keyframe) -> None:
        """Untracked: the keyframe's boxes until the next keyframe. Tracked: each person where the tracker has
        them at this frame, with the actions of their latest prediction."""
        tracks = self.people.tracks
        if tracks is None:
            for order, (person, shown) in enumerate(zip(keyframe.people, keyframe.shown)):
                self.painter.person(image, person, shown, order, show_id=self.show_ids)
            return
        if keyframe is not self._labelled_from:
            self._labelled_from = keyframe
            self._track_labels.update((p.person_id, shown) for p, shown in zip(keyframe.people, keyframe.shown)
                                      if p.person_id is not None)
        for order, person in enumerate(tracks.at(frame_time)):
            self.painter.person(image, person, self._track_labels.get(person.person_id, []), order, show_id=True)
