"""torchvision's COCO Faster R-CNN R50-FPN, keeping the person class only.

This is the detector closest to upstream's demo (detectron2's
``faster_rcnn_R_50_FPN_3x``). Its weights are never downloaded here: they
come from a file the user gives (``weights``) or from torchvision's cache
(``$TORCH_HOME/hub/checkpoints/``, where ``torchvision`` itself saves them),
and the error says where to put the file when neither has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np
import torch

from slowfast_custom.detection import Detection, keep_valid
from slowfast_custom.errors import UserError

COCO_PERSON = 1  # index of "person" in torchvision's 91 COCO categories


def cached_weights_path() -> Path:
    """Where torchvision keeps the COCO_V1 weights once downloaded."""
    from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights

    url = FasterRCNN_ResNet50_FPN_Weights.COCO_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def resolve_weights(weights: str) -> Path:
    """The weights file to load: ``weights`` if given, else torchvision's cache; UserError when absent."""
    from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights

    url = FasterRCNN_ResNet50_FPN_Weights.COCO_V1.url
    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UserError(f"{path}: Faster R-CNN weights file not found. Download {url} on a machine with "
                            f"internet access and pass its path, or put it at {cached_weights_path()}")
        return path
    path = cached_weights_path()
    if not path.is_file():
        raise UserError(f"torchvision's COCO Faster R-CNN weights are not in its cache ({path}) and this tool "
                        f"never downloads them. Download {url} and put it at {path} (or set TORCH_HOME), or "
                        f"pass its path with --weights; the hog detector needs no download")
    return path


def load_model(weights: Optional[str], **model_kwargs) -> torch.nn.Module:
    """Faster R-CNN R50-FPN with COCO weights from ``weights`` ("" = torchvision's cache).

    ``weights=None`` builds it randomly initialised: a hook for tests, which
    cannot download the real weights.
    """
    from torchvision.models.detection import fasterrcnn_resnet50_fpn

    model = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91, **model_kwargs)
    if weights is not None:
        path = resolve_weights(weights)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except (RuntimeError, OSError, KeyError, ValueError) as err:
            raise UserError(f"{path}: not torchvision's COCO Faster R-CNN R50-FPN weights "
                            f"({str(err).splitlines()[0]})") from None
    return model.eval()


def torch_device(device: str) -> torch.device:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {device!r} requested but no CUDA device is visible; use --device cpu")
    return torch.device(device)


class TorchvisionPersonDetector:
    """Wraps a torchvision detection model (images in, ``[{boxes, labels, scores}]`` out)."""

    def __init__(self, model: torch.nn.Module, score_thresh: float = 0.5, device: str = "cpu") -> None:
        self.device = torch_device(device)
        self.model = model.to(self.device).eval()
        self.score_thresh = score_thresh

    @torch.no_grad()
    def __call__(self, frame_bgr: np.ndarray) -> List[Detection]:
        height, width = frame_bgr.shape[:2]
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        image = torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0).to(self.device)
        out = self.model([image])[0]
        dets = [Detection(tuple(box.tolist()), float(score))
                for box, label, score in zip(out["boxes"].cpu(), out["labels"].cpu(), out["scores"].cpu())
                if int(label) == COCO_PERSON]
        return keep_valid(dets, width, height, self.score_thresh)


def build(score_thresh: float = 0.5, weights: Optional[str] = "", device: str = "cpu",
          **model_kwargs) -> TorchvisionPersonDetector:
    # The model's own threshold is lowered to ours so that no person box we want is dropped early.
    model = load_model(weights, box_score_thresh=min(score_thresh, 0.05), **model_kwargs)
    return TorchvisionPersonDetector(model, score_thresh=score_thresh, device=device)
