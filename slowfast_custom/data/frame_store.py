"""A copy of the frames at the largest size training and testing ask for, made once, read every epoch.

Upstream decodes every 1920x1080 frame of every clip and then scales its
short side to 256-320 px; even decoded at half size (``frame_decode.py``)
most of the decoded pixels are thrown away. ``prepare_frame_store`` writes
each frame once with its short side at ``store_short_side(cfg)`` (the larger
of ``DATA.TRAIN_JITTER_SCALES[1]`` and ``DATA.TEST_CROP_SIZE``: the transform
only ever shrinks from there), as JPEG, into ``<frames>_<size>/`` with the
same relative paths, and last a manifest holding, per video, the size of the
original frames.

The dataset reads a stored video's frames from there and does every size
computation (the jittered scale, the crop range, the box scaling) on the
original size from the manifest, so shapes and boxes are exactly those of
reading the originals; only the pixels differ, by a second resampling and a
second JPEG encoding (``tests/data/test_frame_store.py`` and the benchmark
report how much).

Hidden files in a video's folder (the extraction's ``.extract.json`` record)
are not frames and are left out; any other file that is not a JPEG frame
keeps the video out of the store (its frame list may name that file). A run
that stores none of the videos of a frames folder is an error, not a store.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from slowfast_custom.ava.naming import video_dirs
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_path, atomic_write_text
from slowfast_custom.processes import pool_worker_init

logger = logging.getLogger(__name__)

MANIFEST_NAME = "frame_store.json"
_FRAME_SUFFIXES = (".jpg", ".jpeg")


def store_short_side(cfg) -> int:
    """The largest short side the config's transforms scale a frame to (train jitter or test size)."""
    return int(max(max(cfg.DATA.TRAIN_JITTER_SCALES), cfg.DATA.TEST_CROP_SIZE))


def default_store_dir(frame_dir: Path, short_side: int) -> Path:
    """``frames`` -> ``frames_320``: beside the originals, named by the size."""
    frame_dir = Path(frame_dir)
    return frame_dir.parent / f"{frame_dir.name}_{short_side}"


def stored_size(height: int, width: int, short_side: int) -> Tuple[int, int]:
    """(height, width) of a stored frame: short side ``short_side`` (never enlarged), long side rounded."""
    if min(height, width) <= short_side:
        return height, width
    if height <= width:
        return short_side, int(round(width * short_side / height))
    return int(round(height * short_side / width)), short_side


@dataclass
class StoreReport:
    """What ``prepare_frame_store`` did."""

    short_side: int
    videos: int = 0
    frames: int = 0
    written: int = 0  # frames encoded in this run (the others were already there)
    seconds: float = 0.0
    bytes_in: int = 0
    bytes_out: int = 0
    not_stored: Dict[str, str] = field(default_factory=dict)  # video -> why its originals stay in use


def _store_video(frame_dir: str, out_dir: str, video: str, short_side: int, quality: int) -> Dict[str, object]:
    """Store one video's frames; return its original size and byte counts (or why it cannot be stored)."""
    src, dst = Path(frame_dir) / video, Path(out_dir) / video
    files = [p for p in src.iterdir() if not p.name.startswith(".")]  # hidden: records such as .extract.json
    names = sorted(p.name for p in files if p.suffix.lower() in _FRAME_SUFFIXES)
    others = sorted(p.name for p in files if p.is_file() and p.suffix.lower() not in _FRAME_SUFFIXES)
    if others:
        return {"why": f"files other than JPEG frames ({others[0]})"}
    size: Optional[Tuple[int, int]] = None
    written = bytes_in = bytes_out = 0
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = (src / name).read_bytes()
        bytes_in += len(data)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(src / name, "cannot read frame (not an image)",
                            hint=f"Re-extract the frames of {video}, or run tools/check_dataset.py on the dataset")
        if size is None:
            size = image.shape[:2]
        elif image.shape[:2] != size:
            return {"why": f"frames of different sizes ({name} is {image.shape[1]}x{image.shape[0]}, "
                           f"the first {size[1]}x{size[0]})"}
        out = dst / name
        if not out.is_file():  # a rerun resumes: every stored frame was written whole (atomically)
            height, width = stored_size(size[0], size[1], short_side)
            small = image if (height, width) == size else cv2.resize(image, (width, height),
                                                                     interpolation=cv2.INTER_AREA)
            ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
            with atomic_path(out) as tmp:
                tmp.write_bytes(encoded.tobytes())
            written += 1
        bytes_out += out.stat().st_size
    if size is None:
        return {"why": "no JPEG frames"}
    return {"height": size[0], "width": size[1], "frames": len(names), "written": written,
            "bytes_in": bytes_in, "bytes_out": bytes_out}


def prepare_frame_store(frame_dir: Path, out_dir: Path, short_side: int, quality: int = 95,
                        workers: Optional[int] = None) -> StoreReport:
    """Write every video folder of ``frame_dir`` at ``short_side`` into ``out_dir``, then its manifest."""
    frame_dir, out_dir = Path(frame_dir), Path(out_dir)
    if not frame_dir.is_dir():
        raise UserError(f"{frame_dir}: frames folder not found")
    if frame_dir.resolve() == out_dir.resolve():
        raise UserError(f"{out_dir}: the store must be another folder than the frames it is made from")
    old = FrameStore.open(out_dir)  # a corrupt manifest reads as none: the store is checked and rebuilt
    if old is not None and old.short_side != short_side:
        raise UserError(f"{out_dir} holds frames of another size; remove it or choose another --out")
    videos = video_dirs(frame_dir)  # a killed extraction's hidden temporary folder is not a video
    if not videos:
        raise UserError(f"{frame_dir}: no video folders to store (frames go in <frames>/<video>/); "
                        "extract frames first (tools/extract_frames.py)")
    report = StoreReport(short_side)
    start = time.perf_counter()
    manifest: Dict[str, object] = {"short_side": short_side, "quality": quality, "source": str(frame_dir.resolve()),
                                   "videos": {}}
    with ProcessPoolExecutor(workers or max(1, min(8, os.cpu_count() or 1)), initializer=pool_worker_init,
                             initargs=(os.getpid(),)) as pool:  # workers die with the tool (kill -9 included)
        n = len(videos)
        results = pool.map(_store_video, [str(frame_dir)] * n, [str(out_dir)] * n, videos, [short_side] * n,
                           [quality] * n)
        for video, result in zip(videos, results):
            if "why" in result:
                report.not_stored[video] = str(result["why"])
                logger.warning("Not stored, its original frames stay in use: %s (%s)", video, result["why"])
                continue
            manifest["videos"][video] = {k: result[k] for k in ("height", "width", "frames")}  # type: ignore[index]
            report.videos += 1
            report.frames += int(result["frames"])
            report.written += int(result["written"])
            report.bytes_in += int(result["bytes_in"])
            report.bytes_out += int(result["bytes_out"])
    if not report.videos:
        video, why = next(iter(report.not_stored.items()))
        raise UserError(f"{frame_dir}: no video could be stored ({len(videos)} folders; {video}: {why}), so "
                        "training would read the originals. Keep only the JPEG frames in each video folder")
    atomic_write_text(out_dir / MANIFEST_NAME, json.dumps(manifest, indent=1) + "\n")  # last: marks it complete
    report.seconds = time.perf_counter() - start
    return report


@dataclass(frozen=True)
class FrameStore:
    """A prepared store: its folder and, per stored video, the (height, width) of the original frames."""

    root: Path
    short_side: int
    source_sizes: Dict[str, Tuple[int, int]]

    @classmethod
    def open(cls, root: Path) -> Optional["FrameStore"]:
        path = Path(root) / MANIFEST_NAME
        if not path.is_file():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            sizes = {v: (int(s["height"]), int(s["width"])) for v, s in manifest["videos"].items()}
            return cls(Path(root), int(manifest["short_side"]), sizes)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            # Derived state (written last, atomically, so a hand edit or a damaged disk): never a reason to stop.
            logger.warning("%s: not a frame store manifest (%s): the store is not used; tools/prepare_frames.py "
                           "rebuilds it", path, f"missing {err}" if isinstance(err, KeyError) else err)
            return None


def frame_store_from_cfg(cfg, frame_dir: Path) -> Optional[FrameStore]:
    """The store ``DATA_LOADER.FRAME_STORE`` names: "auto" (``<frames>_<size>/`` when prepared), "off", or a folder."""
    setting = str(cfg.DATA_LOADER.FRAME_STORE).strip()
    needed = store_short_side(cfg)
    if setting.lower() in ("off", "", "none"):
        return None
    explicit = setting.lower() != "auto"
    root = Path(setting) if explicit else default_store_dir(frame_dir, needed)
    store = FrameStore.open(root)
    if store is None:
        if explicit:
            raise UserError(f"DATA_LOADER.FRAME_STORE {root}: no prepared frame store there "
                            f"({MANIFEST_NAME} missing); run tools/prepare_frames.py, or set it to auto or off")
        return None
    if store.short_side < needed:
        message = (f"the frame store {root} holds frames with a short side of {store.short_side} px, smaller than "
                   f"the {needed} px this config scales to")
        if explicit:
            raise UserError(f"DATA_LOADER.FRAME_STORE: {message}; prepare one at {needed} px")
        logger.warning("Not using %s", message)
        return None
    logger.info("Reading frames from the store %s (short side %d px, %d videos)", root, store.short_side,
                len(store.source_sizes))
    return store


def stored_videos(store: Optional[FrameStore], names: List[str], usable: List[bool]) -> Dict[int, Tuple[int, int]]:
    """Video index -> original (height, width) for the videos of ``names`` read from ``store``."""
    if store is None:
        return {}
    return {i: store.source_sizes[name] for i, name in enumerate(names) if usable[i] and name in store.source_sizes}
