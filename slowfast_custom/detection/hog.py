"""OpenCV's HOG people detector (Dalal & Triggs): no weights to download, CPU only.

Its SVM margins are mapped to (0, 1) with a logistic function, so that a
margin of 0 (the detector's own decision boundary) scores 0.5. It finds
upright people at least about 128 px tall; ``upscale`` enlarges the frame
first for smaller people (slower).
"""

from __future__ import annotations

import math
from typing import List

import cv2
import numpy as np

from slowfast_custom.ava.images import MIN_FRAME_SIDE
from slowfast_custom.detection import Detection, keep_valid
from slowfast_custom.errors import UserError


class HogPersonDetector:
    def __init__(self, score_thresh: float, upscale: float = 1.0, nms_iou: float = 0.5,
                 win_stride: int = 8, scale: float = 1.05) -> None:
        self.score_thresh = score_thresh
        self.upscale = upscale
        self.nms_iou = nms_iou
        self.win_stride = win_stride
        self.scale = scale
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, frame_bgr: np.ndarray) -> List[Detection]:
        height, width = frame_bgr.shape[:2]
        min_width, min_height = self._hog.winSize
        if min(width, height) < MIN_FRAME_SIDE:
            raise UserError(f"a {width}x{height} px frame is smaller than {MIN_FRAME_SIDE} px a side, too small to "
                            "find people in; use frames at their full size (re-extract them)")
        # OpenCV's detectMultiScale reads out of bounds on a frame smaller than its window (a crash, not an error):
        # such a frame is enlarged until the window fits.
        upscale = max(self.upscale, min_width / width, min_height / height)
        image = frame_bgr
        if upscale != 1.0:
            image = cv2.resize(frame_bgr, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LINEAR)
            if image.shape[1] < min_width or image.shape[0] < min_height:  # rounding down
                image = cv2.resize(image, (max(image.shape[1], min_width), max(image.shape[0], min_height)))
        stride = (self.win_stride, self.win_stride)
        rects, margins = self._hog.detectMultiScale(image, winStride=stride, padding=stride, scale=self.scale)
        if len(rects) == 0:
            return []
        rects = [list(map(float, r)) for r in np.asarray(rects).reshape(-1, 4)]
        scores = [1.0 / (1.0 + math.exp(-float(m))) for m in np.asarray(margins).ravel()]
        # detectMultiScale groups overlapping windows, but nested boxes of one person survive it.
        keep = cv2.dnn.NMSBoxes(rects, scores, self.score_thresh, self.nms_iou)
        dets = []
        for i in np.asarray(keep).ravel():
            x, y, w, h = (v / upscale for v in rects[i])
            dets.append(Detection((x, y, x + w, y + h), scores[i]))
        return keep_valid(dets, width, height, self.score_thresh)


def build(score_thresh: float, weights: str = "", device: str = "cpu") -> HogPersonDetector:
    # HOG has no weights file and runs on the CPU whatever ``device`` says.
    return HogPersonDetector(score_thresh=score_thresh)
