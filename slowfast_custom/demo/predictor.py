"""The action model on one clip: every person of the clip in one batched forward pass.

Preprocessing is the dataset's test split (upstream's
``Ava._images_and_boxes_preprocessing_cv2`` with ``split == "test"``): the
short side scaled to ``DATA.TEST_CROP_SIZE``, no crop, ``/255``, normalised
by ``DATA.MEAN``/``DATA.STD``, BGR to RGB unless ``AVA.BGR``, then split into
pathways by ``pack_pathway_output``. A model fed differently at demo time
than at test time gives quietly worse labels, so the same upstream
functions are used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Mapping, Sequence

import cv2
import numpy as np
import torch
from slowfast.datasets import cv2_transform
from slowfast.datasets.utils import pack_pathway_output

from slowfast_custom.ava.timing import clip_frame_indices
from slowfast_custom.data.custom_ava import clip_to_tensor, scaled_size
from slowfast_custom.demo.people import Person, boxes_in_pixels
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.errors import DataError


def num_outputs(model: torch.nn.Module, default: int) -> int:
    """Classes the model's head predicts (its last projection layer), or ``default``."""
    model = model.module if hasattr(model, "module") else model
    projection = getattr(getattr(model, "head", None), "projection", None)
    return int(projection.out_features) if isinstance(projection, torch.nn.Linear) else default


class ActionPredictor:
    """Scores ``[K, num_classes]`` (sigmoid) for K people of a clip of frames."""

    def __init__(self, cfg, model: torch.nn.Module, precision: StepPrecision) -> None:
        """``precision``: autocast and memory format, as the training step's (``StepPrecision``)."""
        self.cfg = cfg
        self.precision = precision
        self.model = self._prepare(model)
        self.device = precision.device
        self.size = int(cfg.DATA.TEST_CROP_SIZE)
        self.bgr = bool(cfg.AVA.BGR)

    def _prepare(self, model):
        return self.precision.prepare_model(model.eval())

    def scale(self, image: np.ndarray) -> np.ndarray:
        """A decoded frame at model size (short side ``TEST_CROP_SIZE``); done once per frame, clips share it."""
        return cv2_transform.scale(self.size, image).astype(np.uint8, copy=False)

    def clip_tensor(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """``C x T x H x W`` float tensor from scaled BGR frames, as the test split makes it."""
        return clip_to_tensor(list(frames), self.cfg.DATA.MEAN, self.cfg.DATA.STD, self.bgr)

    def model_boxes(self, people: Sequence[Person], width: int, height: int) -> np.ndarray:
        """People's boxes in pixels of the model input, for a source frame of ``width`` x ``height``."""
        boxes = cv2_transform.scale_boxes(self.size, boxes_in_pixels(people, width, height), height, width)
        scaled_h, scaled_w = scaled_size(height, width, self.size)
        return cv2_transform.clip_boxes_to_image(boxes, scaled_h, scaled_w)

    @torch.inference_mode()
    def __call__(self, frames: Sequence[np.ndarray], people: Sequence[Person], width: int,
                 height: int) -> np.ndarray:
        """Scores of ``people`` (boxes as fractions of a ``width`` x ``height`` source frame) on ``frames``."""
        if not people:
            return np.zeros((0, self.cfg.MODEL.NUM_CLASSES), dtype=np.float32)
        inputs = [x.unsqueeze(0) for x in pack_pathway_output(self.cfg, self.clip_tensor(frames))]
        boxes = torch.from_numpy(self.model_boxes(people, width, height))
        # Upstream's head takes N x 5 rows [batch index, x1, y1, x2, y2]: one clip, so index 0.
        boxes = torch.cat([torch.zeros(len(people), 1), boxes], dim=1)
        return self.scores(inputs, boxes)

    def scores(self, inputs: Sequence[torch.Tensor], boxes: torch.Tensor) -> np.ndarray:
        """The model on a batch of one clip (pathways ``1 x C x T x H x W``) and its boxes ``N x 5``."""
        inputs = [x.to(self.device) for x in inputs]
        with self.precision.autocast():
            scores = self.model(self.precision.prepare_inputs(inputs), boxes.to(self.device))
        return scores.float().cpu().numpy()

    def describe(self) -> str:
        return self.precision.describe().replace(" + grad scaling", "")


class OnnxActionPredictor(ActionPredictor):
    """The same preprocessing, the model an exported ONNX file run by onnxruntime on the CPU."""

    def __init__(self, cfg, model) -> None:
        """``model``: a ``slowfast_custom.deploy.runtime.OnnxActionModel``."""
        super().__init__(cfg, model, StepPrecision(torch.device("cpu")))

    def _prepare(self, model):
        return model  # an onnxruntime session: nothing to move or convert

    def scores(self, inputs: Sequence[torch.Tensor], boxes: torch.Tensor) -> np.ndarray:
        return self.model([x.numpy() for x in inputs], boxes.numpy())

    def describe(self) -> str:
        return f"onnxruntime {self.model.path.name} on the CPU"

def predict_on_frames(predictor: ActionPredictor, frame_paths: Sequence[Path],
                      keyframes: Mapping[int, Sequence[Person]], step: float) -> Dict[int, np.ndarray]:
    """Scores of the people of each keyframe (``{frame index: people}``) on a video's extracted frames, as the
    demo makes them: the clip of ``clip_frame_indices`` around the keyframe, ``step`` frames apart. Each frame is
    read and scaled once."""
    scaled: Dict[int, np.ndarray] = {}
    size = None
    scores = {}
    for index in sorted(keyframes):
        clip = clip_frame_indices(index, predictor.cfg.DATA.NUM_FRAMES, step, len(frame_paths))
        for i in clip:
            if i not in scaled:
                image = cv2.imread(str(frame_paths[i]))
                if image is None:
                    raise DataError(frame_paths[i], "cannot read the frame", hint="Re-extract the video's frames "
                                    "(tools/extract_frames.py)")
                size = image.shape[1], image.shape[0]
                scaled[i] = predictor.scale(image)
        scores[index] = predictor([scaled[i] for i in clip], keyframes[index], *size)
        for i in [i for i in scaled if i < clip[0]]:  # keyframes come in order: earlier frames are done
            del scaled[i]
    return scores
