"""Person detectors behind one interface, for pre-labelling keyframes and for the demo.

A detector is any callable ``detector(frame_bgr) -> List[Detection]`` that
returns person boxes in pixels of the frame it was given. ``build_detector``
makes one by name; each backend lives in its own module and is imported only
when asked for, so the optional ones (``yolo``: Ultralytics, AGPL) never load
unless chosen:

* ``hog``: OpenCV's HOG + linear SVM people detector; no download, CPU only.
* ``torchvision_frcnn``: torchvision's COCO Faster R-CNN R50-FPN (the
  closest to upstream's detectron2 demo detector), person class only.
* ``yolo``: Ultralytics YOLO (``pip install 'slowfast-custom[yolo]'``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import List, Optional, Protocol, Tuple

import numpy as np

from slowfast_custom.errors import UserError


@dataclass(frozen=True)
class Detection:
    box: Tuple[float, float, float, float]  # pixels x1,y1,x2,y2 in the given frame
    score: float  # in [0, 1]


class PersonDetector(Protocol):
    def __call__(self, frame_bgr: np.ndarray) -> List[Detection]: ...


# name -> module with ``build(score_thresh, weights, device) -> PersonDetector``
BACKENDS = {
    "hog": "slowfast_custom.detection.hog",
    "torchvision_frcnn": "slowfast_custom.detection.torchvision_frcnn",
    "yolo": "slowfast_custom.detection.yolo",
}


def build_detector(name: str, *, score_thresh: Optional[float] = None, weights: str = "",
                   device: str = "cpu") -> PersonDetector:
    """The person detector ``name`` (see ``BACKENDS``), keeping boxes scored at least ``score_thresh``
    (None: ``slowfast_custom.config.DETECTOR_SCORE_THRESH``, the default of the demo and of detect-and-track).

    ``weights`` is a local weights file for the backends that need one (empty:
    the backend's default location, named in the error when it is missing).
    """
    if name not in BACKENDS:
        raise UserError(f"unknown detector {name!r}; choose one of {', '.join(BACKENDS)}")
    if score_thresh is None:
        from slowfast_custom.config import DETECTOR_SCORE_THRESH  # here: the config module loads torch

        score_thresh = DETECTOR_SCORE_THRESH
    if not 0.0 <= score_thresh <= 1.0:
        raise UserError(f"detector score threshold must be in [0, 1], got {score_thresh}")
    module = importlib.import_module(BACKENDS[name])
    return module.build(score_thresh=score_thresh, weights=weights, device=device)


def clip_box(box, width: int, height: int) -> Tuple[float, float, float, float]:
    """``box`` (x1, y1, x2, y2 in pixels) clipped to a ``width`` x ``height`` frame."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return (min(max(x1, 0.0), width), min(max(y1, 0.0), height), min(max(x2, 0.0), width), min(max(y2, 0.0), height))


def keep_valid(detections: List[Detection], width: int, height: int, score_thresh: float) -> List[Detection]:
    """Clip to the frame, drop empty boxes and those scored below ``score_thresh``; best score first."""
    kept = []
    for det in detections:
        box = clip_box(det.box, width, height)
        if det.score >= score_thresh and box[2] - box[0] >= 1 and box[3] - box[1] >= 1:
            kept.append(Detection(box, float(det.score)))
    return sorted(kept, key=lambda d: -d.score)
