"""Ultralytics YOLO, the detector of the usual custom-AVA recipe; an optional extra.

Ultralytics is AGPL-3.0, so it is never a dependency of this package: it is
imported only when this backend is chosen, after
``pip install 'slowfast-custom[yolo]'``. Its weights are not downloaded
here either (Ultralytics would try to): pass a local ``.pt`` file.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from slowfast_custom.detection import Detection, keep_valid
from slowfast_custom.errors import UserError

COCO_PERSON = 0  # Ultralytics' COCO models number classes from 0; 0 is "person"
DEFAULT_WEIGHTS = "yolov8n.pt"


def import_ultralytics():
    try:
        import ultralytics
    except ImportError:
        raise UserError("the yolo detector needs Ultralytics, an optional AGPL-3.0 extra: "
                        "pip install 'slowfast-custom[yolo]' from a wheel or git URL, pip install -e '.[yolo]' in a "
                        "clone (docs/install.md); or choose --detector hog / torchvision_frcnn") from None
    return ultralytics


class YoloPersonDetector:
    def __init__(self, model, score_thresh: float, device: str = "cpu") -> None:
        self.model = model
        self.score_thresh = score_thresh
        self.device = device

    def __call__(self, frame_bgr: np.ndarray) -> List[Detection]:
        height, width = frame_bgr.shape[:2]
        # Ultralytics takes numpy frames as BGR, like OpenCV.
        result = self.model.predict(frame_bgr, classes=[COCO_PERSON], conf=self.score_thresh, device=self.device,
                                    verbose=False)[0]
        boxes = result.boxes
        xyxy = np.asarray(boxes.xyxy.cpu() if hasattr(boxes.xyxy, "cpu") else boxes.xyxy, dtype=float).reshape(-1, 4)
        conf = np.asarray(boxes.conf.cpu() if hasattr(boxes.conf, "cpu") else boxes.conf, dtype=float).ravel()
        cls = np.asarray(boxes.cls.cpu() if hasattr(boxes.cls, "cpu") else boxes.cls, dtype=float).ravel()
        dets = [Detection(tuple(b), float(s)) for b, s, c in zip(xyxy.tolist(), conf, cls) if int(c) == COCO_PERSON]
        return keep_valid(dets, width, height, self.score_thresh)


def build(score_thresh: float, weights: str = "", device: str = "cpu") -> YoloPersonDetector:
    ultralytics = import_ultralytics()
    path = Path(weights or DEFAULT_WEIGHTS).expanduser()
    if not path.is_file():
        raise UserError(f"{path}: YOLO weights file not found and this tool never downloads it. Download a COCO "
                        f"model such as {DEFAULT_WEIGHTS} from https://github.com/ultralytics/assets/releases on a "
                        f"machine with internet access and pass its path with --weights")
    return YoloPersonDetector(ultralytics.YOLO(str(path)), score_thresh=score_thresh, device=device)
