"""torchvision's COCO Faster R-CNN R50-FPN, keeping the person class only.

This is the detector closest to upstream's demo (detectron2's
``faster_rcnn_R_50_FPN_3x``). Its weights come from a file the user gives
(``weights``), else from torch's cache (``torch.hub.get_dir()/checkpoints/``,
``$TORCH_HOME/hub/checkpoints/``), where the first use downloads them as
torchvision itself does: ``torch.hub.load_state_dict_from_url`` with a progress
bar and the sha256 prefix in the file name checked. Offline, the error says
which file to put where.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional
from urllib.error import URLError

import cv2
import numpy as np
import torch

from slowfast_custom.detection import Detection, keep_valid
from slowfast_custom.errors import UserError

COCO_PERSON = 1  # index of "person" in torchvision's 91 COCO categories


def weights_url() -> str:
    """torchvision's URL of the COCO_V1 weights; the file name ends in the first hex digits of its sha256."""
    from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights

    return FasterRCNN_ResNet50_FPN_Weights.COCO_V1.url


def cached_weights_path() -> Path:
    """Where torch's cache keeps the COCO_V1 weights once downloaded."""
    return Path(torch.hub.get_dir()) / "checkpoints" / weights_url().rsplit("/", 1)[-1]


def download_weights() -> Dict[str, torch.Tensor]:
    """Download the weights into torch's cache and load them, as torchvision does on first use.

    A failed download leaves nothing in the cache and raises a one-line UserError naming the file, its URL
    and where to put it by hand.
    """
    url, path = weights_url(), cached_weights_path()
    try:
        return torch.hub.load_state_dict_from_url(url, progress=True, check_hash=True, map_location="cpu",
                                                  weights_only=True)
    except (URLError, OSError, RuntimeError) as err:
        if path.is_file():  # downloaded and hash-checked, but not loadable: the caller says so
            raise
        reason = getattr(err, "reason", None) or str(err).splitlines()[0]
        raise UserError(f"cannot download torchvision's COCO Faster R-CNN weights ({reason}): download {url} "
                        f"and put {path.name} at {path} (torch.hub.get_dir()/checkpoints; TORCH_HOME moves it), "
                        "or pass its path with --weights / DEMO.DETECTOR_WEIGHTS; or use the hog detector, which needs "
                        "no download (DEMO.DETECTOR hog, --detector hog)") from None


def _state_dict(weights: str):
    """(path, state dict) from ``weights``, else from torch's cache, downloading it there on first use."""
    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UserError(f"{path}: Faster R-CNN weights file not found. Pass an existing file, or leave the "
                            f"weights empty to download {weights_url()} into {cached_weights_path().parent}")
        return path, torch.load(path, map_location="cpu", weights_only=True)
    path = cached_weights_path()
    if path.is_file():
        return path, torch.load(path, map_location="cpu", weights_only=True)
    return path, download_weights()


def load_model(weights: Optional[str], **model_kwargs) -> torch.nn.Module:
    """Faster R-CNN R50-FPN with COCO weights from ``weights`` ("" = torch's cache, downloaded on first use).

    ``weights=None`` builds it randomly initialised: a hook for tests of the detector's output handling.
    """
    from torchvision.models.detection import fasterrcnn_resnet50_fpn

    model = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91, **model_kwargs)
    if weights is not None:
        path = Path(weights).expanduser() if weights else cached_weights_path()
        try:
            path, state = _state_dict(weights)
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

    def __init__(self, model: torch.nn.Module, score_thresh: float, device: str = "cpu") -> None:
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


def build(score_thresh: float, weights: Optional[str] = "", device: str = "cpu",
          **model_kwargs) -> TorchvisionPersonDetector:
    # The model's own threshold is lowered to ours so that no person box we want is dropped early.
    model = load_model(weights, box_score_thresh=min(score_thresh, 0.05), **model_kwargs)
    return TorchvisionPersonDetector(model, score_thresh=score_thresh, device=device)
