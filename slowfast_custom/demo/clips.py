"""Streaming a video through the demo: keyframes, their clips, and when each frame can be written.

A prediction is made every ``stride`` seconds, on a clip centred on that
moment: ``NUM_FRAMES`` frames ``SAMPLING_RATE`` frames apart at
``DATA.TARGET_FPS``, i.e. ``SAMPLING_RATE * fps / TARGET_FPS`` frames apart in
a video of ``fps``, so 10, 30 and 60 fps inputs give the model the same span
in seconds (``clip_frame_indices``, shared with the dataset). Frames are
decoded once, in order; a frame is held back until the prediction it shows
is made, which needs the frames up to half a clip after its keyframe. Each
prediction is shown from its keyframe until the next one.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, Iterator, List, Optional, Tuple

import numpy as np

from slowfast_custom.ava.timing import clip_frame_indices
from slowfast_custom.demo.people import TIME_EPSILON, Person


@dataclass
class Keyframe:
    """One prediction: its moment, its frame, its people and (once predicted) their scores."""

    number: int  # 0, 1, 2, ... in time order
    moment: float  # the prediction moment asked for, in seconds since the first frame
    time: float  # the keyframe's own time (the frame nearest ``moment``)
    index: int  # frame index
    people: List[Person] = field(default_factory=list)
    scores: Optional[np.ndarray] = None  # [len(people), num_classes] once predicted
    shown: List[List[Tuple[int, float]]] = field(default_factory=list)  # per person: (class, score) to draw
    captured: Optional[float] = None  # live input: perf_counter() when its frame was decoded
    skipped: bool = False  # live input: not predicted, the demo was too far behind

    @property
    def done(self) -> bool:
        return self.scores is not None


class ClipScheduler:
    """Feed frames in order with ``push``; take complete clips with ``ready`` and frames to write with ``writable``.

    ``keyframe_times`` are the prediction moments in seconds (increasing);
    the frame nearest each (the first whose time is at most half a frame
    before it) is its keyframe.
    """

    def __init__(self, keyframe_times: Iterator[float], num_frames: int, step: float, fps: float) -> None:
        self.num_frames = num_frames
        self.step = step
        self._half_frame = 0.5 / fps
        self._times = keyframe_times
        self._next_time: Optional[float] = next(self._times, None)
        self._scaled: Dict[int, np.ndarray] = {}
        self._pending: Deque[Keyframe] = deque()  # keyframes whose clip is not complete yet
        self._out: Deque[Tuple[np.ndarray, float, Optional[Keyframe]]] = deque()
        self._current: Optional[Keyframe] = None
        self._last_index = -1
        self._finished = False
        self.keyframes = 0

    def push(self, index: int, time: float, image: np.ndarray, scaled: np.ndarray) -> Optional[Keyframe]:
        """Add the next decoded frame (full size and model size); return a new Keyframe if it is one."""
        if index != self._last_index + 1:
            raise ValueError(f"frames must be pushed in order: got {index} after {self._last_index}")
        self._last_index = index
        self._scaled[index] = scaled
        new = None
        if self._next_time is not None and time >= self._next_time - self._half_frame:
            new = Keyframe(self.keyframes, self._next_time, time, index)
            self.keyframes += 1
            self._pending.append(new)
            self._current = new
            # Moments that fall on this same frame (a stride shorter than a frame) are one keyframe.
            while self._next_time is not None and self._next_time - self._half_frame <= time:
                self._next_time = next(self._times, None)
        self._out.append((image, time, self._current))
        self._forget_old_frames()
        return new

    def finish(self) -> None:
        """The video ended: clips reaching past its last frame repeat the last frame (as the dataset does)."""
        self._finished = True

    def clip_indices(self, keyframe: Keyframe) -> List[int]:
        return clip_frame_indices(keyframe.index, self.num_frames, self.step, self._last_index + 1)

    def ready(self) -> Iterator[Tuple[Keyframe, List[np.ndarray]]]:
        """Keyframes whose clip is complete, in order, with the clip's model-size frames."""
        while self._pending:
            keyframe = self._pending[0]
            furthest = clip_frame_indices(keyframe.index, self.num_frames, self.step, 1 << 62)[-1]
            if furthest > self._last_index and not self._finished:
                return
            self._pending.popleft()
            yield keyframe, [self._scaled[i] for i in self.clip_indices(keyframe)]

    def writable(self, until: float = math.inf) -> Iterator[Tuple[np.ndarray, float, Optional[Keyframe]]]:
        """(image, time, keyframe shown) of frames whose prediction is made, in order; None before the first.
        ``until``: only frames up to this time (what else the frame shows is known up to it)."""
        while self._out and (self._out[0][2] is None or self._out[0][2].done) \
                and self._out[0][1] <= until + TIME_EPSILON:
            yield self._out.popleft()

    @property
    def held_frames(self) -> int:
        return len(self._out)

    def _forget_old_frames(self) -> None:
        # The oldest frame any clip can still need: that of the oldest pending keyframe,
        # or of a keyframe that could come with the next frame.
        centre = self._pending[0].index if self._pending else self._last_index + 1
        oldest = clip_frame_indices(centre, self.num_frames, self.step, 1 << 62)[0]
        for index in [i for i in self._scaled if i < oldest]:
            del self._scaled[index]
