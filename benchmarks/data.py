"""A dataset of textured full-HD JPEG frames in AVA's own layout, for timing clip loaders.

Upstream's ``Ava`` reads only AVA's layout: 30 fps frames whose frame 0 is
video second 900 and keyframes at seconds 902-1798. This writes one video
laid out that way with ``keyframes`` annotated seconds from 902, every frame
a different crop of a panning 1/f-noise texture with moving "people"
(JPEGs of about 180 KB at 1920x1080, like AVA's, not flat images that decode
unrealistically fast), plus frame lists and box CSVs that both upstream's
loader and the plugin's read (``AVA.START_SEC 900``).

One box of every keyframe touches the right edge of the frame, as people at
the border do, so the equivalence checks cover upstream's box clipping.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from slowfast_custom.ava.formats import (
    BoxRow,
    LabelMapEntry,
    write_box_csv,
    write_class_names_json,
    write_exclusions,
    write_frame_list,
    write_label_map,
)
from slowfast_custom.ava.naming import frame_relpath
from slowfast_custom.fileio import atomic_path, atomic_write_text

SUMMARY_NAME = "benchmark_data.json"
ACTIONS = ("stand", "walk", "sit", "talk")
# Octaves of the background texture: (cells across the frame, amplitude in grey levels). With the
# default frame size and JPEG quality this gives frames of about 180 KB.
_OCTAVES = ((4, 60.0), (16, 30.0), (64, 14.0), (256, 5.5))
_PAN_PX_PER_FRAME = 2


@dataclass(frozen=True)
class FramesSpec:
    width: int = 1920
    height: int = 1080
    keyframes: int = 8  # annotated seconds 902, 903, ...
    fps: int = 30
    first_second: int = 900  # video second of frame 0 (AVA: 900)
    lead_seconds: int = 2  # seconds before the first keyframe (AVA: 2, keyframes start at 902)
    tail_frames: int = 64  # frames after the last keyframe: half a 32x2 clip and then some
    jpeg_quality: int = 90
    seed: int = 0

    @property
    def video(self) -> str:
        return f"bench_{self.width}x{self.height}"

    @property
    def num_frames(self) -> int:
        return (self.lead_seconds + self.keyframes - 1) * self.fps + self.tail_frames

    @property
    def first_keyframe_second(self) -> int:
        return self.first_second + self.lead_seconds

    def frame_name(self, t: int) -> str:
        return frame_relpath(self.video, t + 1)


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    image = np.full((height, width, 3), 110.0, np.float32)
    for cells, amplitude in _OCTAVES:
        small = rng.normal(0, 1, size=(max(2, cells * height // width), cells, 3)).astype(np.float32)
        image += cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC) * amplitude
    return image


def _people(spec: FramesSpec, t: int) -> List[Tuple[float, float, float, float]]:
    """Two boxes in pixels at frame t: one walking across, one standing at the right edge."""
    w, h = spec.width, spec.height
    walker_x = 0.15 * w + (t * 3) % int(0.5 * w)
    return [(walker_x, 0.30 * h, walker_x + 0.12 * w, 0.85 * h), (0.84 * w, 0.25 * h, float(w), 0.95 * h)]


_WORKER: Dict[str, object] = {}


def _init_worker(spec: FramesSpec) -> None:
    rng = np.random.default_rng(spec.seed)
    pan = spec.num_frames * _PAN_PX_PER_FRAME
    _WORKER["texture"] = _texture(rng, spec.height, spec.width + pan)
    _WORKER["spec"] = spec


def _render(t: int, out_dir: str) -> int:
    spec: FramesSpec = _WORKER["spec"]  # type: ignore[assignment]
    texture: np.ndarray = _WORKER["texture"]  # type: ignore[assignment]
    x0 = t * _PAN_PX_PER_FRAME
    frame = texture[:, x0:x0 + spec.width] * (1.0 + 0.03 * np.sin(t / 7.0))
    for i, (x1, y1, x2, y2) in enumerate(_people(spec, t)):
        p1, p2 = (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1)
        colour = (40.0 + 90 * i, 180.0 - 60 * i, 120.0)
        cv2.rectangle(frame, p1, p2, colour, -1)
        cv2.rectangle(frame, p1, p2, (20.0, 20.0, 20.0), 6)
        head = (int((x1 + x2) / 2), int(y1 + 0.1 * (y2 - y1)))
        cv2.circle(frame, head, int(0.2 * (x2 - x1)), (200.0, 170.0, 150.0), -1)
    ok, data = cv2.imencode(".jpg", np.clip(frame, 0, 255).astype(np.uint8),
                            [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg_quality])
    path = Path(out_dir) / spec.frame_name(t)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    return len(data)


def _rows(spec: FramesSpec) -> List[BoxRow]:
    rows = []
    for k in range(spec.keyframes):
        second = spec.first_keyframe_second + k
        t = (second - spec.first_second) * spec.fps
        for person, (x1, y1, x2, y2) in enumerate(_people(spec, t)):
            box = (x1 / spec.width, y1 / spec.height, x2 / spec.width, y2 / spec.height)
            rows.append(BoxRow(spec.video, second, box, (k + person) % len(ACTIONS) + 1, person))
    return rows


def complete_summary(summary_path: Path, spec) -> Optional[Dict]:
    """The summary a generator wrote last into ``summary_path``, if it made the data from this ``spec``."""
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if summary.get("spec") == asdict(spec):
            return summary
    return None


def make_frames_dataset(root: Path, spec: FramesSpec = FramesSpec(), workers: Optional[int] = None) -> Dict:
    """Write the dataset under ``root`` (or reuse a complete one made from ``spec``); return its summary."""
    root = Path(root)
    summary_path = root / SUMMARY_NAME
    summary = complete_summary(summary_path, spec)
    if summary is not None:
        return summary
    (root / "frames" / spec.video).mkdir(parents=True, exist_ok=True)
    workers = workers or min(8, os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(spec,)) as pool:
        sizes = list(pool.map(_render, range(spec.num_frames), [str(root / "frames")] * spec.num_frames,
                              chunksize=8))
    frames = [spec.frame_name(t) for t in range(spec.num_frames)]
    for split in ("train", "val"):
        write_frame_list(root / "frame_lists" / f"{split}.csv", {spec.video: frames})
    ann = root / "annotations"
    rows = _rows(spec)
    write_box_csv(ann / "ava_train_v2.2.csv", rows, "gt")
    write_box_csv(ann / "ava_val_v2.2.csv", rows, "gt")
    predicted = [BoxRow(r.video_id, r.second, r.box, None, score=0.95) for r in rows]
    write_box_csv(ann / "ava_val_predicted_boxes.csv", predicted, "predicted")
    entries = [LabelMapEntry(i + 1, name) for i, name in enumerate(ACTIONS)]
    write_label_map(ann / "ava_action_list_v2.2_for_activitynet_2019.pbtxt", entries)
    write_exclusions(ann / "ava_val_excluded_timestamps_v2.2.csv", [])
    write_class_names_json(ann / "ava.json", entries)
    summary = {"spec": asdict(spec), "video": spec.video, "frames": spec.num_frames,
               "mean_jpeg_kb": round(float(np.mean(sizes)) / 1024, 1), "keyframes": spec.keyframes}
    atomic_write_text(summary_path, json.dumps(summary, indent=1) + "\n")  # last: marks the dataset complete
    return summary
