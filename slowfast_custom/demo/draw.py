"""Drawing people and their actions on a frame, and choosing which actions to show.

Which actions a box shows follows upstream's demo (``DEMO.VIS_MODE``):
``thres`` shows every class scored at least ``DEMO.COMMON_CLASS_THRES`` for
the frequent classes named in ``DEMO.COMMON_CLASS_NAMES`` and at least
``DEMO.UNCOMMON_CLASS_THRES`` for the others; ``top-k`` shows the best
``DEMO.TOPK`` whatever their score; ``calibrated`` is ``thres`` with each class's own
threshold chosen on the validation split (``engine/thresholds.py``) where it has
one. All show at most ``DEMO.TOPK``, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import FrozenSet, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

from slowfast_custom.demo.people import Person
from slowfast_custom.errors import UserError

# Distinct BGR colours for people (by track id, else by their order in the keyframe).
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (0, 200, 255), (255, 120, 0), (60, 220, 60), (220, 60, 220), (0, 80, 255),
    (255, 220, 0), (140, 0, 255), (0, 255, 180), (180, 130, 255), (40, 160, 160),
)
GT_COLOR = (255, 255, 255)
VIS_MODES = ("thres", "top-k", "calibrated")

Label = Tuple[int, float]  # (0-based class index, score)


@dataclass(frozen=True)
class LabelPolicy:
    mode: str
    common_thres: float
    uncommon_thres: float
    common_names: FrozenSet[str]
    topk: int
    calibrated: Mapping[str, float] = field(default_factory=dict)  # class name -> its own threshold

    @classmethod
    def from_cfg(cls, cfg, calibrated: Optional[Mapping[str, Optional[float]]] = None) -> "LabelPolicy":
        """``calibrated``: class name -> threshold (None: the global one), required by ``DEMO.VIS_MODE calibrated``."""
        demo = cfg.DEMO
        if demo.VIS_MODE not in VIS_MODES:
            raise UserError(f"DEMO.VIS_MODE {demo.VIS_MODE!r}: use {', '.join(map(repr, VIS_MODES))}")
        if demo.TOPK < 1:
            raise UserError(f"DEMO.TOPK must be >= 1, got {demo.TOPK}")
        if demo.VIS_MODE == "calibrated" and calibrated is None:
            raise ValueError("DEMO.VIS_MODE calibrated needs the calibrated thresholds")
        own = {} if demo.VIS_MODE != "calibrated" else {n: t for n, t in calibrated.items() if t is not None}
        return cls(demo.VIS_MODE, float(demo.COMMON_CLASS_THRES), float(demo.UNCOMMON_CLASS_THRES),
                   frozenset(demo.COMMON_CLASS_NAMES), int(demo.TOPK), own)

    def threshold(self, name: str) -> float:
        """The score class ``name`` must reach to be shown (``thres`` and ``calibrated`` modes)."""
        if name in self.calibrated:
            return self.calibrated[name]
        return self.common_thres if name in self.common_names else self.uncommon_thres

    def select(self, scores: np.ndarray, class_names: Sequence[str]) -> List[Label]:
        """The classes to show for one person, best first."""
        order = np.argsort(-scores, kind="stable")
        if self.mode == "top-k":
            return [(int(i), float(scores[i])) for i in order[: self.topk]]
        shown = []
        for i in order:
            if scores[i] >= self.threshold(class_names[i]):
                shown.append((int(i), float(scores[i])))
        return shown[: self.topk]


def person_color(person: Person, order: int) -> Tuple[int, int, int]:
    return PALETTE[(person.person_id if person.person_id is not None else order) % len(PALETTE)]


class Painter:
    """Draws boxes with text for one output size; sizes of lines and text follow the frame's."""

    def __init__(self, width: int, height: int, class_names: Sequence[str]) -> None:
        self.width, self.height = width, height
        self.class_names = list(class_names)
        short = min(width, height)
        self.thickness = max(2, int(round(short / 240)))
        self.font = cv2.FONT_HERSHEY_SIMPLEX
        self.font_scale = max(0.3, short / 1000)
        self.text_thickness = 1 if self.font_scale < 0.8 else 2
        (_, text_h), self._baseline = cv2.getTextSize("Ag", self.font, self.font_scale, self.text_thickness)
        self._line_height = text_h + self._baseline + 2

    def box_px(self, person: Person) -> Tuple[int, int, int, int]:
        """The box in pixels of the output frame."""
        x1, y1, x2, y2 = person.box
        x1, x2 = (min(round(v * self.width), self.width - 1) for v in (x1, x2))
        y1, y2 = (min(round(v * self.height), self.height - 1) for v in (y1, y2))
        return x1, y1, x2, y2

    def person(self, image: np.ndarray, person: Person, labels: Sequence[Label], order: int,
               show_id: bool) -> None:
        color = person_color(person, order)
        x1, y1, x2, y2 = self.box_px(person)
        cv2.rectangle(image, (x1, y1), (x2, y2), color, self.thickness)
        lines = [f"id {person.person_id}"] if show_id and person.person_id is not None else []
        lines += [f"{self.class_names[c]} {s:.2f}" for c, s in labels]
        if not lines:
            return
        width, height = self._block_size(lines)
        # Above the box; where there is no room, below it; else inside it, at its top.
        if y1 - height >= 0:
            top = y1 - height
        elif y2 + height <= self.height:
            top = y2
        else:
            top = y1
        self._text_block(image, lines, x1, top, color)

    def ground_truth(self, image: np.ndarray, person: Person) -> None:
        x1, y1, x2, y2 = self.box_px(person)
        cv2.rectangle(image, (x1, y1), (x2, y2), GT_COLOR, max(1, self.thickness // 2))
        names = [self.class_names[a - 1] if 0 < a <= len(self.class_names) else str(a) for a in person.actions]
        lines = ["GT: " + ", ".join(names)] if names else ["GT"]
        self._text_block(image, lines, x1, y2 - self._block_size(lines)[1], GT_COLOR)  # inside, at the bottom

    def _block_size(self, lines: Sequence[str]) -> Tuple[int, int]:
        sizes = [cv2.getTextSize(t, self.font, self.font_scale, self.text_thickness) for t in lines]
        return max(w for (w, _), _ in sizes) + 4, self._line_height * len(lines)

    def _text_block(self, image: np.ndarray, lines: Sequence[str], x: int, y: int, color) -> None:
        """Lines on a filled background of ``color`` from (x, y) down, moved inside the frame where needed."""
        block_w, block_h = self._block_size(lines)
        top = min(max(y, 0), max(0, self.height - block_h))
        left = min(max(x, 0), max(0, self.width - block_w))
        cv2.rectangle(image, (left, top), (left + block_w, top + block_h), color, -1)
        text_color = (0, 0, 0) if sum(color) > 380 else (255, 255, 255)
        for k, text in enumerate(lines):
            baseline_y = top + (k + 1) * self._line_height - self._baseline - 1
            cv2.putText(image, text, (left + 2, baseline_y), self.font, self.font_scale, text_color,
                        self.text_thickness, cv2.LINE_AA)
