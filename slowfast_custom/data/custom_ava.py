"""``Customava``: upstream's AVA dataset for videos of any length and frame rate.

Registered in upstream's ``DATASET_REGISTRY``, so ``TRAIN.DATASET customava``
resolves through upstream's own ``build_dataset`` (which looks up
``name.capitalize()``). It is a thin adapter: the config is turned into a
``KeyframeSpec`` and everything else is upstream's ``Ava`` (its augmentation
and box handling) or the pure functions in ``keyframes.py``, with the index
kept as arrays (``compact_index.py``) and frames read from a frame store at
the model's resolution when one was prepared (``frame_store.py``).

Evaluation clips are full frames with the short side scaled (upstream's test
transform), so videos of different aspect ratios give clips of different
widths; ``clip_sizes`` tells the loader each clip's size without reading its
pixels, so that a batch only holds clips of one size (``engine/loader.py``).
"""

from __future__ import annotations

import logging
import math
from functools import cached_property
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from slowfast.datasets import cv2_transform
from slowfast.datasets import utils as upstream_utils
from slowfast.datasets.ava_dataset import Ava
from slowfast.datasets.build import DATASET_REGISTRY

from slowfast_custom.ava.images import frame_file_size, frame_size_problem, jpeg_size
from slowfast_custom.ava.timing import clip_frame_indices, split_distance_sec
from slowfast_custom.data.compact_index import load_compact_index
from slowfast_custom.data.frame_decode import FrameDecoder, frame_decoder_from_cfg, read_frame
from slowfast_custom.data.frame_store import frame_store_from_cfg, stored_videos
from slowfast_custom.data.keyframes import KeyframeSpec, check_split_overlap
from slowfast_custom.errors import DataError

logger = logging.getLogger(__name__)


def keyframe_spec_from_cfg(cfg, split: str) -> KeyframeSpec:
    """The files and timing of ``split`` ("train", "val" or "test") as the config names them."""
    ava = cfg.AVA
    ann = Path(ava.ANNOTATION_DIR)
    is_train = split == "train"
    return KeyframeSpec(
        frame_dir=Path(ava.FRAME_DIR),
        frame_lists=[Path(ava.FRAME_LIST_DIR) / f for f in (ava.TRAIN_LISTS if is_train else ava.TEST_LISTS)],
        gt_box_files=[ann / f for f in ava.TRAIN_GT_BOX_LISTS] if is_train else [],
        predicted_box_files=[ann / f for f in (ava.TRAIN_PREDICT_BOX_LISTS if is_train
                                               else ava.TEST_PREDICT_BOX_LISTS)],
        fps=float(ava.FPS),
        start_sec=int(ava.START_SEC),
        valid_seconds=tuple(ava.VALID_SECONDS) if ava.VALID_SECONDS else None,
        score_thresh=float(ava.DETECTION_SCORE_THRESH),
        second_stride=int(ava.VAL_SECOND_STRIDE) if split == "val" and not ava.FULL_TEST_ON_VAL else 1,
        max_action_id=int(ava.MAX_ACTION_ID or cfg.MODEL.NUM_CLASSES),
    )


def load_frames(paths: List[str]) -> List[np.ndarray]:
    """Read frames as BGR uint8 arrays; a missing, truncated or unreadable frame is a DataError naming it."""
    return [read_frame(path) for path in paths]


def frame_size(path: str) -> Tuple[int, int]:
    """(height, width) of a frame, from its JPEG header when it has one (no decoding), else decoded."""
    try:
        with open(path, "rb") as f:
            size = jpeg_size(f.read())
    except OSError:
        size = None  # read_frame names the frame in its error
    return size if size is not None else read_frame(path).shape[:2]


def check_frame_sizes(video_names: Sequence[str], image_paths: Sequence[Sequence[str]], keyframes: np.ndarray) -> None:
    """DataError naming the first frame training cannot use for its size (``frame_size_problem``): a video's
    first frame and each keyframe's centre frame are compared, from their headers (one small read each, no
    decode). ``keyframes``: rows (video index, second index, second, centre frame). A frame that cannot be
    read is left to the frame reader, which names it."""
    centers: Dict[int, set] = {}
    for video_idx, center in keyframes[:, [0, 3]].tolist():
        centers.setdefault(int(video_idx), set()).add(int(center))
    for video_idx, video_centers in sorted(centers.items()):
        paths, video = image_paths[video_idx], video_names[video_idx]
        hint = f"Re-extract the frames of {video}, or run tools/check_dataset.py on the dataset"
        first = _header_size(paths[0])
        if first is None:
            continue
        problem = frame_size_problem(first)
        if problem:
            raise DataError(paths[0], f"video {video}: {problem}", hint=hint)
        for center in sorted(video_centers):
            size = _header_size(paths[center])
            if size is not None and size != first:
                first_name = f"the video's first frame {Path(paths[0]).name}"
                raise DataError(paths[center], str(frame_size_problem(size, first, first_name)), hint=hint)


def _header_size(path: str) -> Optional[Tuple[int, int]]:
    try:
        return frame_file_size(Path(path))
    except OSError:
        return None


def clip_to_tensor(frames: List[np.ndarray], mean, std, bgr: bool) -> torch.Tensor:
    """``C x T x H x W`` float32 model input from same-size HWC BGR frames (uint8 or float).

    As upstream: /255, then mean/std per channel in the frames' BGR order, then
    RGB order unless ``bgr``; computed as ``x * a + b`` in one pass per channel.
    """
    clip = np.stack(frames)  # T H W C, BGR
    std = np.asarray(std, dtype=np.float32)
    a = 1.0 / (255.0 * std)
    b = -np.asarray(mean, dtype=np.float32) / std
    order = [0, 1, 2] if bgr else [2, 1, 0]
    out = np.empty((3,) + clip.shape[:3], dtype=np.float32)
    for dst, src in enumerate(order):
        np.multiply(clip[..., src], a[src], out=out[dst], casting="unsafe")
        out[dst] += b[src]
    return torch.from_numpy(out)


def scaled_size(height: int, width: int, short_side: int) -> Tuple[int, int]:
    """``(height, width)`` of a frame scaled so its short side is ``short_side``, rounded as upstream's
    ``cv2_transform.scale`` rounds it (the long side floored; a frame already that size is kept)."""
    if min(height, width) == short_side:
        return height, width
    if width < height:
        return int(math.floor(float(height) / width * short_side)), short_side
    return short_side, int(math.floor(float(width) / height * short_side))


def _scale_short_side(imgs: List[np.ndarray], size: int, source_size: Optional[Tuple[int, int]] = None):
    """Resize frames so the short side is ``size`` (upstream's rounding), keeping uint8; return them and the factor.

    ``source_size``: the (height, width) the frames stand for (a frame store's originals); the output size and
    the factor are computed from it, as if the originals had been read."""
    height, width = source_size or imgs[0].shape[:2]
    new_height, new_width = scaled_size(height, width, size)
    factor = 1.0
    if (new_height, new_width) != (height, width):
        factor = new_height / height if width < height else new_width / width
    if imgs[0].shape[:2] == (new_height, new_width):
        return imgs, factor
    return [cv2.resize(img, (new_width, new_height), interpolation=cv2.INTER_LINEAR) for img in imgs], factor


@DATASET_REGISTRY.register()
class Customava(Ava):
    """AVA-format dataset whose frame rate and seconds come from the config, not from AVA's constants."""

    def _load_data(self, cfg) -> None:
        spec = keyframe_spec_from_cfg(cfg, self._split)
        # Arrays, not Python objects per frame and box: loader workers share them without copy-on-write growth.
        index = load_compact_index(spec, use_cache=cfg.AVA.INDEX_CACHE)
        self._index = index
        if self._split == "val" and not cfg.AVA.ALLOW_SPLIT_OVERLAP:
            train = keyframe_spec_from_cfg(cfg, "train")
            check_split_overlap(index, [*spec.gt_box_files, *spec.predicted_box_files],
                                [p for p in [*train.gt_box_files, *train.predicted_box_files] if p.is_file()],
                                split_distance_sec(cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TARGET_FPS))
        self._num_classes = cfg.MODEL.NUM_CLASSES
        # Spacing of sampled frames in this dataset's frames: SAMPLING_RATE is defined at DATA.TARGET_FPS.
        self._frame_step = cfg.DATA.SAMPLING_RATE * spec.fps / cfg.DATA.TARGET_FPS
        self._image_paths = index.frame_paths()
        check_frame_sizes(index.video_names, self._image_paths, index.keyframes)
        # Videos read from a frame store (none with frame paths off AVA's naming): index -> original size.
        store = frame_store_from_cfg(cfg, spec.frame_dir)
        usable = [not index.video_has_exceptions(v) for v in range(len(index.video_names))]
        self._stored_size = stored_videos(store, index.video_names, usable)
        unstored = [n for i, n in enumerate(index.video_names) if i not in self._stored_size]
        if store is not None and unstored:
            logger.warning("%d of %d videos of the %s split are not in the frame store %s, so their original frames "
                           "are read (%s); rerun tools/prepare_frames.py", len(unstored), len(index.video_names),
                           self._split, store.root, ", ".join(unstored[:5]) + (", ..." if len(unstored) > 5 else ""))
        self._stored_paths = index.frame_paths(store.root) if store is not None else []
        self._video_idx_to_name = index.video_names
        self._keyframe_indices = index.keyframes  # (video_idx, sec_idx, second, center frame) rows
        self._num_boxes_used = index.num_boxes
        self.print_summary()

    @cached_property
    def _frame_decoder(self) -> Optional[FrameDecoder]:
        # Made on first use, so each loader worker has its own (and its own frame cache).
        return frame_decoder_from_cfg(self.cfg, self._split)

    def _preprocess_fast(self, imgs: List[np.ndarray], boxes: np.ndarray,
                         source_size: Optional[Tuple[int, int]] = None):
        """Upstream's cv2 preprocessing, with the pixel work done on uint8 and once per clip.

        The geometry is upstream's (``_images_and_boxes_preprocessing_cv2``:
        the same transforms, random draws and box arithmetic), but frames stay
        uint8 through scaling, cropping and flipping (upstream converts each
        resized frame to float32, which changes no value: OpenCV resizes uint8
        to uint8), and /255, the mean/std normalisation (in BGR order, as
        upstream) and the BGR->RGB order are one pass over the clip.
        ``source_size``: the original frames' (height, width) when ``imgs`` come from a frame store.
        """
        height, width = source_size or imgs[0].shape[:2]
        boxes[:, [0, 2]] *= width
        boxes[:, [1, 3]] *= height
        boxes = [cv2_transform.clip_boxes_to_image(boxes, height, width)]
        if self._split == "train":
            # cv2_transform.random_short_side_scale_jitter_list without its astype(float32).
            size = int(round(1.0 / np.random.uniform(1.0 / self._jitter_max_scale, 1.0 / self._jitter_min_scale)))
            imgs, scale = _scale_short_side(imgs, size, (height, width))
            boxes = [boxes[0] * scale]
            imgs, boxes = cv2_transform.random_crop_list(imgs, self._crop_size, order="HWC", boxes=boxes)
            imgs, boxes = cv2_transform.horizontal_flip_list(0.5, imgs, order="HWC", boxes=boxes)
        else:
            imgs, _ = _scale_short_side(imgs, self._crop_size, (height, width))
            boxes = [cv2_transform.scale_boxes(self._crop_size, boxes[0], height, width)]
            if self._split == "val":
                imgs, boxes = cv2_transform.spatial_shift_crop_list(self._crop_size, imgs, 1, boxes=boxes)
            if self._test_force_flip:
                imgs, boxes = cv2_transform.horizontal_flip_list(1, imgs, order="HWC", boxes=boxes)
        clip = clip_to_tensor(imgs, self._data_mean, self._data_std, self._use_bgr)
        return clip, cv2_transform.clip_boxes_to_image(boxes[0], clip.shape[2], clip.shape[3])

    def _clip_inputs(self, idx: int):
        """What clip ``idx`` reads, before any pixel: frame indices, boxes (normalised), per-box labels, video,
        second."""
        video_idx, _, sec, center_idx = (int(v) for v in self._keyframe_indices[idx])
        seq = clip_frame_indices(center_idx, self._video_length, self._frame_step, len(self._image_paths[video_idx]))
        return seq, self._index.keyframe_boxes(idx).astype(np.float32), self._index.keyframe_labels(idx), video_idx, sec

    def clip_sizes(self) -> np.ndarray:
        """(height, width) of each keyframe's clip (K x 2), as ``__getitem__`` makes it for this split.

        Validation crops a square; the test split keeps the full frame with its short side at
        ``DATA.TEST_CROP_SIZE``, so its size follows each video's frame size (one frame read per video).
        """
        if self._split == "train":
            raise ValueError("training clips are cropped at random sizes")
        crop = self._crop_size
        sizes = {}
        for video_idx in np.unique(self._keyframe_indices[:, 0]).tolist():
            if self._split == "val":
                sizes[video_idx] = (crop, crop)
                continue
            source = self._stored_size.get(video_idx)
            if source is None:
                first_center = int(self._keyframe_indices[self._keyframe_indices[:, 0] == video_idx][0, 3])
                source = frame_size(self._image_paths[video_idx][first_center])
            sizes[video_idx] = scaled_size(*source, crop)
        return np.array([sizes[v] for v in self._keyframe_indices[:, 0].tolist()], dtype=np.int64).reshape(-1, 2)

    def __getitem__(self, idx):
        seq, boxes, box_labels, video_idx, sec = self._clip_inputs(idx)
        ori_boxes = boxes.copy()
        if self._frame_decoder is None or (self._split == "train" and self._use_color_augmentation):
            # Exactly upstream's path (its colour augmentation works frame by frame on floats).
            frames = self._image_paths[video_idx]
            paths = [frames[i] for i in seq]
            imgs = self._frame_decoder(paths) if self._frame_decoder is not None else load_frames(paths)
            imgs, boxes = self._images_and_boxes_preprocessing_cv2(imgs, boxes=boxes.copy())
        else:
            # A video in the frame store: its small frames, every size computed on the originals' size.
            source_size = self._stored_size.get(video_idx)
            frames = self._stored_paths[video_idx] if source_size else self._image_paths[video_idx]
            imgs, boxes = self._preprocess_fast(self._frame_decoder([frames[i] for i in seq]), boxes.copy(),
                                                source_size)

        label_arrs = np.zeros((len(box_labels), self._num_classes), dtype=np.int32)
        for i, labels in enumerate(box_labels):
            for label in labels:
                if label != -1:  # -1: a predicted box without action (a negative)
                    label_arrs[i][label - 1] = 1

        imgs = upstream_utils.pack_pathway_output(self.cfg, imgs)
        extra_data = {"boxes": boxes, "ori_boxes": ori_boxes, "metadata": [[video_idx, sec]] * len(boxes)}
        return imgs, label_arrs, idx, extra_data
