"""A small AVA-format dataset of rendered stick figures whose actions differ only over time.

Every figure is drawn from the same template with a random colour, size,
position and a random (static) arm angle, so no single frame tells its
action; only the motion does:

* ``stand``: the figure does not move;
* ``walk``: it moves sideways, turning at the frame edges;
* ``jump``: it bounces up and down;
* ``wave``: the arms swing through the same range of angles other figures hold still.

The output is the layout the plugin trains on (``frames/``,
``frame_lists/``, ``annotations/``): JPEG frames at ``fps``, ground-truth box
CSVs with person ids, predicted-box CSVs with scores (ground truth jittered,
plus low-scored distractors that the score threshold must drop), an
``item { name id }`` label map, an empty exclusion file and ``ava.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from slowfast_custom.ava import layout
from slowfast_custom.ava.formats import (
    BoxRow,
    LabelMapEntry,
    read_box_csv,
    write_box_csv,
    write_class_names_json,
    write_exclusions,
    write_frame_list,
    write_label_map,
)
from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.ava.naming import frame_name
from slowfast_custom.fileio import atomic_path, atomic_write_text

ACTIONS = ("stand", "walk", "jump", "wave")
SUMMARY_NAME = "synthetic.json"
SPLIT_FILES = {"train": (layout.TRAIN_LIST, layout.TRAIN_GT), "val": (layout.VAL_LIST, layout.VAL_GT)}


@dataclass(frozen=True)
class SyntheticSpec:
    train_videos: int = 40
    val_videos: int = 8
    seconds: int = 10  # length of each video
    fps: int = int(DEFAULT_FPS)
    width: int = 160
    height: int = 120
    max_people: int = 3  # 1..max_people figures per video
    seed: int = 0
    jpeg_quality: int = 90
    # Annotated seconds are 1 .. seconds - 2 (a clip needs frames on both sides of its keyframe).


@dataclass
class _Figure:
    action: str
    color: Tuple[int, int, int]
    height: float
    x: float  # centre x at t=0
    y: float  # feet y at t=0
    speed: float  # px/frame (walk), bounce amplitude (jump)
    period: float  # frames per cycle (jump, wave)
    phase: float
    arm: float  # static arm angle in degrees (0: down, 180: up)

    def pose(self, t: int, width: int) -> Tuple[float, float, float]:
        """Centre x, feet y and arm angle at frame t."""
        x, y, arm = self.x, self.y, self.arm
        if self.action == "walk":
            half = self.height * 0.3
            lo, hi = half + 1, width - half - 1
            span = hi - lo
            pos = (self.x - lo + self.speed * t) % (2 * span)  # bounce between the edges
            x = lo + (pos if pos <= span else 2 * span - pos)
        elif self.action == "jump":
            y = self.y - abs(math.sin(math.pi * t / self.period + self.phase)) * self.speed
        elif self.action == "wave":
            arm = 100 + 80 * math.sin(2 * math.pi * t / self.period + self.phase)
        return x, y, arm


def _random_figure(rng: np.random.Generator, action: str, spec: SyntheticSpec) -> _Figure:
    height = rng.uniform(0.38, 0.55) * spec.height
    return _Figure(
        action=action,
        color=tuple(int(c) for c in rng.integers(40, 256, size=3)),
        height=height,
        x=rng.uniform(0.2, 0.8) * spec.width,
        y=rng.uniform(height + 0.2 * spec.height, spec.height - 2),
        speed=rng.uniform(1.0, 1.8) * rng.choice([-1, 1]) if action == "walk" else rng.uniform(6, 12),
        period=rng.uniform(12, 22),
        phase=rng.uniform(0, 2 * math.pi),
        arm=rng.uniform(20, 180),
    )


def _draw(frame: np.ndarray, fig: _Figure, x: float, y: float, arm: float) -> Tuple[float, float, float, float]:
    """Draw the figure with its feet at (x, y); return its box in pixels (x1, y1, x2, y2)."""
    h = fig.height
    head_r = h * 0.11
    neck = (x, y - h + 2 * head_r)
    hip = (x, y - h * 0.45)
    shoulder = (x, y - h * 0.78)
    arm_len = h * 0.32
    thick = max(2, int(round(h / 11)))
    pts = []

    def line(a, b):
        cv2.line(frame, (int(round(a[0])), int(round(a[1]))), (int(round(b[0])), int(round(b[1]))), fig.color, thick,
                 cv2.LINE_AA)
        pts.extend([a, b])

    cv2.circle(frame, (int(round(x)), int(round(y - h + head_r))), int(round(head_r)), fig.color, -1, cv2.LINE_AA)
    pts.extend([(x - head_r, y - h), (x + head_r, y - h)])
    line(neck, hip)
    for side in (-1, 1):
        line(hip, (x + side * h * 0.18, y))  # legs
    for side in (-1, 1):  # both arms at `arm`, mirrored
        rad = math.radians(arm)
        line(shoulder, (shoulder[0] + side * arm_len * math.sin(rad), shoulder[1] + arm_len * math.cos(rad)))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    pad = thick / 2 + 1
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def _background(rng: np.random.Generator, spec: SyntheticSpec) -> np.ndarray:
    base = rng.integers(0, 90, size=3)
    small = rng.integers(-25, 25, size=(6, 8, 3))
    bg = cv2.resize(small.astype(np.float32), (spec.width, spec.height), interpolation=cv2.INTER_CUBIC)
    return np.clip(bg + base, 0, 255).astype(np.uint8)


def _norm_box(box, spec: SyntheticSpec) -> Tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    clip = lambda v: min(max(v, 0.0), 1.0)  # noqa: E731
    return (clip(x1 / spec.width), clip(y1 / spec.height), clip(x2 / spec.width), clip(y2 / spec.height))


def render_video(out_dir: Path, video: str, spec: SyntheticSpec, rng: np.random.Generator
                 ) -> Tuple[List[str], List[BoxRow]]:
    """Write one video's frames; return its relative frame paths and one GT row per annotated person-second."""
    n_people = int(rng.integers(1, spec.max_people + 1))
    figures = [_random_figure(rng, str(rng.choice(ACTIONS)), spec) for _ in range(n_people)]
    background = _background(rng, spec)
    frame_dir = out_dir / video
    frame_dir.mkdir(parents=True, exist_ok=True)
    frames, rows = [], []
    keyframes = {s * spec.fps: s for s in range(1, spec.seconds - 1)}
    for t in range(spec.seconds * spec.fps):
        frame = background.copy()
        boxes = [_draw(frame, fig, *fig.pose(t, spec.width)) for fig in figures]
        noise = rng.integers(-6, 7, size=frame.shape, dtype=np.int16)
        frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        name = frame_name(video, t + 1)
        with atomic_path(frame_dir / name) as tmp:
            ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg_quality])
            tmp.write_bytes(data.tobytes())
        frames.append(f"{video}/{name}")
        if t in keyframes:
            for person_id, (fig, box) in enumerate(zip(figures, boxes)):
                rows.append(BoxRow(video, keyframes[t], _norm_box(box, spec), ACTIONS.index(fig.action) + 1, person_id))
    return frames, rows


def predicted_rows(gt: List[BoxRow], rng: np.random.Generator) -> List[BoxRow]:
    """Detector-like boxes: each person once per second, jittered, scored 0.85-1; plus distractors scored < 0.5."""
    out = []
    seen = set()
    for row in gt:
        key = (row.video_id, row.second, row.person_id)
        if key in seen:
            continue
        seen.add(key)
        x1, y1, x2, y2 = row.box
        w, h = x2 - x1, y2 - y1
        j = rng.uniform(-0.03, 0.03, size=4) * np.array([w, h, w, h])
        box = (max(0.0, x1 + j[0]), max(0.0, y1 + j[1]), min(1.0, x2 + j[2]), min(1.0, y2 + j[3]))
        out.append(BoxRow(row.video_id, row.second, box, None, score=float(rng.uniform(0.85, 1.0))))
        if rng.random() < 0.3:
            cx, cy = rng.uniform(0.1, 0.7, size=2)
            out.append(BoxRow(row.video_id, row.second, (cx, cy, cx + 0.2, cy + 0.25), None,
                              score=float(rng.uniform(0.05, 0.45))))
    return out


def make_synthetic_dataset(root: Path, spec: SyntheticSpec = SyntheticSpec()) -> Dict:
    """Write the dataset under ``root``; return a summary (videos, keyframes and boxes per split)."""
    root = Path(root)
    rng = np.random.default_rng(spec.seed)
    ann = layout.annotations_dir(root)
    ann.mkdir(parents=True, exist_ok=True)
    summary: Dict = {"spec": asdict(spec), "actions": list(ACTIONS)}
    for split, count in (("train", spec.train_videos), ("val", spec.val_videos)):
        lists: Dict[str, List[str]] = {}
        gt: List[BoxRow] = []
        for i in range(count):
            video = f"synth_{split}_{i:03d}"
            lists[video], rows = render_video(layout.frames_dir(root), video, spec, rng)
            gt.extend(rows)
        write_frame_list(layout.frame_lists_dir(root) / SPLIT_FILES[split][0], lists)
        write_box_csv(ann / SPLIT_FILES[split][1], gt, "gt")
        summary[split] = {"videos": count, "keyframes": len({(r.video_id, r.second) for r in gt}), "boxes": len(gt)}
    # Predicted boxes start from the rounded coordinates actually written, as a detector's would.
    val_gt = read_box_csv(ann / layout.VAL_GT, "gt")
    write_box_csv(ann / "ava_val_predicted_boxes.csv", predicted_rows(val_gt, rng), "predicted")
    entries = [LabelMapEntry(i + 1, name) for i, name in enumerate(ACTIONS)]
    write_label_map(ann / layout.LABEL_MAP, entries)
    write_exclusions(ann / layout.VAL_EXCLUSIONS, [])
    write_exclusions(ann / layout.TRAIN_EXCLUSIONS, [])
    write_class_names_json(ann / layout.CLASS_NAMES, entries)
    atomic_write_text(root / "README.txt", __doc__)
    # Written last: its presence with the same spec means the dataset is complete.
    atomic_write_text(root / SUMMARY_NAME, json.dumps(summary, indent=1) + "\n")
    return summary


def existing_summary(root: Path, spec: SyntheticSpec) -> Optional[Dict]:
    """The summary of a complete dataset made from ``spec`` under ``root``, or None."""
    path = Path(root) / SUMMARY_NAME
    if not path.is_file():
        return None
    summary = json.loads(path.read_text())
    return summary if summary.get("spec") == asdict(spec) else None

