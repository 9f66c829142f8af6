"""Clip loading: upstream 1.0's own ``Ava`` against the plugin's ``Customava``, on the same frames.

Both datasets are indexed directly (one process, no loader workers), in one
shuffled order as training samples them, each clip with the same NumPy seed
so both draw the same jitter, crop and flip: their outputs can be compared
tensor for tensor. The plugin's frame cache is measured on its own, on the
validation split read in order (where consecutive keyframes share frames);
the training comparison runs without it, so a cache hit cannot pass for
faster decoding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence

import numpy as np
import torch
from slowfast.datasets.ava_dataset import Ava

from benchmarks.configs import variant
from benchmarks.timing import interleaved_rates
from slowfast_custom.ava.timing import clip_frame_indices
from slowfast_custom.data.custom_ava import Customava, load_frames
from slowfast_custom.data.frame_decode import FrameDecoder, min_short_side

STORE_OFF = ["DATA_LOADER.FRAME_STORE", "off"]  # the originals, even when a frame store was prepared
FAST_PATH_OFF = ["DATA_LOADER.MAX_DECODE_REDUCTION", 1, "DATA_LOADER.FRAME_CACHE", False, *STORE_OFF]
NO_CACHE = ["DATA_LOADER.FRAME_CACHE", False, *STORE_OFF]
STORE = ["DATA_LOADER.FRAME_CACHE", False, "DATA_LOADER.FRAME_STORE", "auto"]
UPSTREAM, OURS, OURS_GPU = "upstream Ava", "Customava", "Customava, GPU decode"
OURS_STORE = "Customava, frame store"


@dataclass
class ClipDifference:
    """How far one dataset's clips are from another's, in the 0-255 grey levels of the frames."""

    clips: int
    same_shapes: bool
    mean_abs_levels: float  # mean over clips of the mean |difference|
    max_abs_levels: float
    max_box_px: float  # largest difference of a box coordinate, in pixels of the model input

    def as_dict(self) -> Dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def seeded_item(dataset, idx: int, seed: int):
    """``dataset[idx]`` with NumPy's global RNG (upstream's augmentation draws from it) seeded."""
    np.random.seed(seed)
    return dataset[idx]


def clip_difference(reference, other, indices: Sequence[int], cfg) -> ClipDifference:
    """Compare ``reference[i]`` and ``other[i]`` drawn with the same seed, for each i of ``indices``."""
    # Upstream normalises in BGR order and flips to RGB afterwards (unless AVA.BGR).
    std = np.array(cfg.DATA.STD, dtype=np.float32)
    std = torch.from_numpy((std if cfg.AVA.BGR else std[::-1]).copy()).view(3, 1, 1, 1) * 255.0
    same, means, maxima, box = True, [], [], 0.0
    for seed, idx in enumerate(indices):
        (inputs_a, _, _, extra_a), (inputs_b, _, _, extra_b) = seeded_item(reference, idx, seed), seeded_item(
            other, idx, seed)
        for a, b in zip(inputs_a, inputs_b):
            if a.shape != b.shape:
                same = False
                continue
            diff = (a - b).abs() * std
            means.append(float(diff.mean()))
            maxima.append(float(diff.max()))
        if extra_a["boxes"].shape != extra_b["boxes"].shape:
            same = False
        else:
            box = max(box, float(np.abs(extra_a["boxes"] - extra_b["boxes"]).max()))
    return ClipDifference(len(indices), same, float(np.mean(means)) if means else float("nan"),
                          max(maxima, default=float("nan")), box)


def _clip_paths(dataset: Customava, idx: int) -> List[str]:
    video_idx, _, _, center = dataset._keyframe_indices[idx]
    frames = dataset._image_paths[video_idx]
    return [frames[i] for i in clip_frame_indices(center, dataset._video_length, dataset._frame_step, len(frames))]


def _decode_rates(dataset: Customava, order: Sequence[int], repeats: int) -> Dict[str, object]:
    """Milliseconds per frame of upstream's full-size ``cv2.imread`` and of the plugin's reduced decode."""
    clips = [_clip_paths(dataset, idx) for idx in order]
    decoder = FrameDecoder(dataset._frame_decoder.min_short_side, dataset._frame_decoder.max_reduction)
    with open(clips[0][0], "rb") as f:
        reduction = decoder.reduction_for(f.read())

    def each_clip(read):
        return lambda r: [read(paths) for paths in clips]

    rates = interleaved_rates({"full": each_clip(load_frames), "reduced": each_clip(decoder)},
                              sum(len(set(paths)) for paths in clips), repeats)
    return {"reduction": reduction, "full_ms": round(1000 / rates.median("full"), 3),
            "reduced_ms": round(1000 / rates.median("reduced"), 3), "ratio": round(rates.ratio("reduced", "full"), 3)}


def _cache_effect(cfg, repeats: int) -> Dict[str, object]:
    """Validation clips in order, frame cache off and on: clips/s and frames decoded per clip."""
    without = Customava(variant(cfg, NO_CACHE), "val")
    with_cache = Customava(variant(cfg, ["DATA_LOADER.FRAME_CACHE", True]), "val")
    order = list(range(len(without)))

    def run(dataset):
        return lambda r: [dataset[i] for i in order]

    rates = interleaved_rates({"off": run(without), "on": run(with_cache)}, len(order), repeats)
    decoded = {}
    for name, dataset in (("off", without), ("on", with_cache)):
        dataset._frame_decoder._cache.clear()
        before = dataset._frame_decoder.decoded
        run(dataset)(0)
        decoded[name] = round((dataset._frame_decoder.decoded - before) / len(order), 2)
    return {"clips": len(order), "clips_per_s": rates.as_dict(), "ratio_on_vs_off": round(rates.ratio("on", "off"), 3),
            "frames_decoded_per_clip": decoded}


def measure_loading(cfg, repeats: int, gpu_decode: bool, frame_store: bool = False) -> Dict[str, object]:
    """Upstream's ``Ava`` vs ``Customava`` (fast path; with GPU decoding, from a prepared frame store when asked)
    on the train split."""
    plain = variant(cfg, FAST_PATH_OFF)
    upstream = Ava(plain, "train")
    datasets = {UPSTREAM: upstream, OURS: Customava(variant(cfg, NO_CACHE), "train")}
    if frame_store:
        datasets[OURS_STORE] = Customava(variant(cfg, STORE), "train")
        if not datasets[OURS_STORE]._stored_size:
            raise RuntimeError("the frame store was prepared but the dataset does not read it")
    if gpu_decode:
        datasets[OURS_GPU] = Customava(variant(cfg, NO_CACHE + ["DATA_LOADER.GPU_DECODE", True]), "train")
    order = [int(i) for i in np.random.default_rng(0).permutation(len(upstream))]

    equivalence = {"Customava, fast path off": clip_difference(upstream, Customava(plain, "train"), order, cfg)}
    for name in datasets:
        if name != UPSTREAM:
            equivalence[name] = clip_difference(upstream, datasets[name], order, cfg)

    def one_pass(dataset):
        def run(repeat: int) -> None:
            np.random.seed(repeat)
            for idx in order:
                dataset[idx]
        return run

    rates = interleaved_rates({name: one_pass(ds) for name, ds in datasets.items()}, len(order), repeats)
    ours = datasets[OURS]
    with open(_clip_paths(ours, 0)[0], "rb") as f:
        reduction = ours._frame_decoder.reduction_for(f.read())
    return {
        "split": "train",
        "clips": len(order),
        "repeats": repeats,
        "frames_per_clip": int(cfg.DATA.NUM_FRAMES),
        "jitter_scales": list(cfg.DATA.TRAIN_JITTER_SCALES),
        "crop": int(cfg.DATA.TRAIN_CROP_SIZE),
        "min_short_side": min_short_side(cfg, "train"),
        "reduction": reduction,
        "clips_per_s": rates.as_dict(),
        "ratio_vs_upstream": {name: round(rates.ratio(name, UPSTREAM), 3) for name in datasets if name != UPSTREAM},
        "equivalence_vs_upstream": {name: diff.as_dict() for name, diff in equivalence.items()},
        "decode_ms_per_frame": _decode_rates(ours, order, repeats),
        "frame_cache_val_in_order": _cache_effect(cfg, repeats),
    }
