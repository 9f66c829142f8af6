"""Reading a clip's JPEG frames at the smallest size its transform can use.

Upstream decodes every frame at full size (1920x1080 for most AVA videos) and
then scales its short side to 256-320 px, so most of the decoding is thrown
away. libjpeg can decode at 1/2, 1/4 or 1/8 scale by dropping DCT
coefficients (OpenCV's ``IMREAD_REDUCED_COLOR_*``), which is much cheaper.
``FrameDecoder`` picks, per clip, the largest reduction that

* divides both sides of the frame, so the decoded frame has exactly the
  aspect ratio of the original and every size upstream's transform derives
  from it (resized long side, crop range, box scale) is unchanged; and
* leaves the short side at least ``min_short_side``, the largest size the
  transform scales it to (``max(DATA.TRAIN_JITTER_SCALES)`` for training,
  ``DATA.TEST_CROP_SIZE`` otherwise), so the transform still only shrinks.

The pixels then differ from decode-then-resize only by the detail finer than
the output can show: a DCT-domain reduction averages it away, OpenCV's
bilinear downscale of the full frame aliases it (tests/data/test_frame_decode.py
bounds the difference).

Optionally the frames are decoded on a CUDA device with nvJPEG
(``torchvision.io.decode_jpeg``) and reduced there by block averaging. A small
LRU cache keeps the frames of the last clip, so the half of its frames that
the next keyframe of the same video shares (clips of 32x2 frames span 2.1 s,
keyframes are 1 s apart) are not decoded again when a batch holds
consecutive keyframes, as in evaluation.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from slowfast_custom.ava.images import HEAD_BYTES, TAIL_BYTES, image_problem, jpeg_size
from slowfast_custom.errors import DataError, UserError

PathLike = Union[str, Path]
REDUCTIONS = (8, 4, 2, 1)
_IMREAD_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                 8: cv2.IMREAD_REDUCED_COLOR_8}


def unreadable_frame(path: str, reason: str = "missing or not an image") -> DataError:
    """The error every frame reader raises for a missing, truncated or undecodable frame."""
    video = Path(path).parent.name
    return DataError(path, f"cannot read frame of video {video} ({reason})",
                     hint=f"Re-extract the frames of {video}, or run tools/check_dataset.py on the dataset")


def check_frame_bytes(path: str, data: bytes) -> None:
    """DataError naming frame ``path`` unless ``data``, its bytes, look like a whole image (``image_problem``)."""
    head = data[:HEAD_BYTES]
    problem = image_problem(head if jpeg_size(head) else data, data[-TAIL_BYTES:])
    if problem:
        raise unreadable_frame(path, problem)


def decode_frame(path: str, data: bytes, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """``data`` (the bytes of frame ``path``) decoded as BGR uint8; DataError naming the frame if it is not whole."""
    check_frame_bytes(path, data)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error:
        image = None
    if image is None:
        raise unreadable_frame(path, "cannot be decoded")
    return image


def read_frame(path: PathLike) -> np.ndarray:
    """``cv2.imread`` that refuses a missing, truncated or non-image frame with a DataError naming it."""
    return decode_frame(str(path), _read_bytes(str(path)))


def choose_reduction(height: int, width: int, min_short_side: int, max_reduction: int = 8) -> int:
    """Largest of 8, 4, 2 (at most ``max_reduction``) that divides both sides and keeps the
    short side >= ``min_short_side``; 1 when none does."""
    for factor in REDUCTIONS:
        if (factor <= max_reduction and height % factor == 0 and width % factor == 0
                and min(height, width) // factor >= min_short_side):
            return factor
    return 1


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        raise unreadable_frame(path) from None


class FrameDecoder:
    """Decode a clip's frames (BGR uint8, as ``cv2.imread``) at the largest usable reduction.

    ``device`` ``"cuda"`` (or ``"cuda:N"``) decodes with nvJPEG and reduces by block
    averaging on that device; ``"cpu"`` runs the same tensor path with torchvision's
    CPU decoder (for tests); None decodes with OpenCV. ``cache_frames`` decoded
    frames are kept, least recently used dropped first; cached arrays are read-only.
    """

    def __init__(self, min_short_side: int, max_reduction: int = 8, device: Optional[str] = None,
                 cache_frames: int = 0) -> None:
        if max_reduction not in _IMREAD_FLAGS:
            raise ValueError(f"max_reduction must be one of 1, 2, 4, 8, got {max_reduction}")
        self.min_short_side = int(min_short_side)
        self.max_reduction = int(max_reduction)
        self.device = None
        if device is not None:
            import torch  # only the tensor path needs it: the tools that read frames stay torch-free

            self.device = torch.device(device)
        self.cache_frames = int(cache_frames)
        self._cache: "OrderedDict[Tuple[str, int], np.ndarray]" = OrderedDict()
        self.decoded = 0  # frames decoded (cache misses), for the benchmark

    def __getstate__(self) -> Dict:
        # Spawned loader workers get a copy of the dataset: each starts with an empty cache.
        state = dict(self.__dict__)
        state["_cache"] = OrderedDict()
        return state

    def reduction_for(self, data: bytes) -> int:
        size = jpeg_size(data)
        return 1 if size is None else choose_reduction(*size, self.min_short_side, self.max_reduction)

    def __call__(self, paths: Sequence[str]) -> List[np.ndarray]:
        # One reduction per clip, from its first frame, as upstream takes the clip's size from it.
        first = _read_bytes(paths[0])
        factor = self.reduction_for(first)
        found: Dict[str, np.ndarray] = {}
        missing: List[str] = []
        for path in dict.fromkeys(paths):  # a clip clamped at the video's ends repeats frames
            cached = self._cache.get((path, factor))
            if cached is not None:
                self._cache.move_to_end((path, factor))
                found[path] = cached
            else:
                missing.append(path)
        if missing:
            blobs = [first if p == paths[0] else _read_bytes(p) for p in missing]
            decode = self._decode_cv2 if self.device is None else self._decode_torch
            for path, image in zip(missing, decode(missing, blobs, factor)):
                found[path] = image
                self._remember((path, factor), image)
        return [found[p] for p in paths]

    def _remember(self, key: Tuple[str, int], image: np.ndarray) -> None:
        if self.cache_frames <= 0:
            return
        image.flags.writeable = False  # shared with later clips: upstream's transform only reads it
        self._cache[key] = image
        while len(self._cache) > self.cache_frames:
            self._cache.popitem(last=False)

    def _decode_cv2(self, paths: List[str], blobs: List[bytes], factor: int) -> List[np.ndarray]:
        images = [decode_frame(path, data, _IMREAD_FLAGS[factor]) for path, data in zip(paths, blobs)]
        self.decoded += len(images)
        return images

    def _decode_torch(self, paths: List[str], blobs: List[bytes], factor: int) -> List[np.ndarray]:
        import torch
        from torchvision.io import ImageReadMode, decode_jpeg

        for path, data in zip(paths, blobs):
            check_frame_bytes(path, data)
        try:
            tensors = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in blobs]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torchvision 0.29 deprecates its decoders in favour of torchcodec
                decoded = decode_jpeg(tensors, mode=ImageReadMode.RGB, device=self.device)
        except (RuntimeError, ValueError):
            # An empty or broken file, or not a JPEG: OpenCV reads what it can and names the frame it cannot.
            return self._decode_cv2(paths, blobs, factor)
        images = []
        for chw in decoded:
            x = chw.unsqueeze(0)
            if factor > 1:
                x = torch.nn.functional.avg_pool2d(x.float(), factor).round_().to(torch.uint8)
            images.append(x[0].flip(0).permute(1, 2, 0).contiguous().cpu().numpy())  # RGB CHW -> BGR HWC
        self.decoded += len(images)
        return images


def min_short_side(cfg, split: str) -> int:
    """The largest short side upstream's transform scales a frame of ``split`` to."""
    return int(max(cfg.DATA.TRAIN_JITTER_SCALES)) if split == "train" else int(cfg.DATA.TEST_CROP_SIZE)


def frame_decoder_from_cfg(cfg, split: str) -> Optional[FrameDecoder]:
    """The decoder the DATA_LOADER keys ask for; None when they are all off (frames are read as upstream)."""
    loader = cfg.DATA_LOADER
    if loader.MAX_DECODE_REDUCTION not in _IMREAD_FLAGS:
        raise UserError(f"DATA_LOADER.MAX_DECODE_REDUCTION must be 1, 2, 4 or 8, got {loader.MAX_DECODE_REDUCTION}")
    device = None
    if loader.GPU_DECODE:
        import torch

        if not torch.cuda.is_available():
            raise UserError("DATA_LOADER.GPU_DECODE True needs a CUDA device; none is visible. "
                            "Set DATA_LOADER.GPU_DECODE False")
        if getattr(torch.cuda, "_is_in_bad_fork", lambda: False)():
            raise UserError("DATA_LOADER.GPU_DECODE decodes in the loading process, and CUDA cannot run in a "
                            "forked loader worker: set DATA_LOADER.NUM_WORKERS 0, or GPU_DECODE False")
        device = f"cuda:{torch.cuda.current_device()}"
    cache = int(cfg.DATA.NUM_FRAMES) if loader.FRAME_CACHE else 0
    if loader.MAX_DECODE_REDUCTION == 1 and device is None and cache == 0:
        return None
    return FrameDecoder(min_short_side(cfg, split), loader.MAX_DECODE_REDUCTION, device, cache)
