"""The train split's index at AVA v2.2's size: upstream 1.0's ``Ava`` against ``Customava``.

The annotation set is generated in AVA's formats (``slowfast_custom.ava_subset.example_files``):
235 videos of 27,030 frame-list rows (6.35 M rows) and ground truth for
seconds 902-1798 (210,795 keyframes). Each build runs in a fresh spawned
interpreter, so nothing one build left behind counts against the next:
upstream's build, the plugin's first build (its cache removed) and the
plugin's reopening of the cache; per build, wall and CPU seconds, the
resident memory it added (kept after the build) and its peak.

Worker memory: a ``DataLoader`` with forked workers goes through one epoch of
the split in shuffled order, each item doing every read of the index that the
dataset's ``__getitem__`` does (clip frame paths, boxes, labels) but not
decoding frames (the generated set has none; decoding needs a clip's worth
of memory, the same in every item). Each worker's unique memory (USS) is
sampled over the epoch: with upstream's lists every item touches Python
objects, and copy-on-write gives each worker its own copy of the pages it
touched.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List

import numpy as np

from benchmarks.configs import R101_CFG, bench_config
from benchmarks.data import complete_summary
from benchmarks.timing import PeakRss
from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.example_files import ExampleSpec, write_example_files
from slowfast_custom.data.compact_index import CACHE_DIR_NAME
from slowfast_custom.fileio import atomic_write_text

SUMMARY_NAME = "index_data.json"
UPSTREAM, OURS_BUILD, OURS_REOPEN = "upstream Ava", "Customava, first build", "Customava, cache reopened"


@dataclass(frozen=True)
class IndexSpec:
    videos: int = 235
    frames_per_video: int = 27030
    first_sec: int = 902
    last_sec: int = 1798
    loader_workers: int = 2
    seed: int = 0


def make_index_dataset(root: Path, spec: IndexSpec) -> Dict[str, object]:
    """Write the annotation set under ``root`` (or reuse a complete one made from ``spec``); return its summary."""
    root = Path(root)
    summary_path = root / SUMMARY_NAME
    summary = complete_summary(summary_path, spec)
    if summary is not None:
        return summary
    start = time.perf_counter()
    rows, _ = write_example_files(root, ExampleSpec(train_videos=spec.videos, val_videos=0, first_sec=spec.first_sec,
                                                    last_sec=spec.last_sec, frames_per_video=spec.frames_per_video,
                                                    seed=spec.seed))
    summary = {"spec": asdict(spec), "frame_list_rows": rows[names.TRAIN_FRAME_LIST],
               "ground_truth_rows": rows[names.TRAIN_GT], "generated_in_s": round(time.perf_counter() - start, 1)}
    atomic_write_text(summary_path, json.dumps(summary, indent=1) + "\n")  # last: marks the set complete
    return summary


def index_config(root: Path, work_dir: Path):
    """The R101 recipe's train split on the generated set (ground truth only, as upstream's default)."""
    return bench_config(R101_CFG, root, work_dir, "AVA.ANNOTATION_DIR", str(root), "AVA.FRAME_LIST_DIR",
                        str(root / "frame_lists"), "AVA.FRAME_DIR", str(root / "frames"), "MODEL.NUM_CLASSES", 80,
                        "AVA.TRAIN_GT_BOX_LISTS", f"['{names.TRAIN_GT}']", "AVA.TRAIN_PREDICT_BOX_LISTS", "[]")


def _dataset_classes():
    from slowfast.datasets.ava_dataset import Ava

    import slowfast_custom  # noqa: F401  (registration in the spawned interpreter)
    from slowfast_custom.data.custom_ava import Customava

    return Ava, Customava


def _dataset(kind: str, cfg):
    ava, customava = _dataset_classes()
    return ava(cfg, "train") if kind == UPSTREAM else customava(cfg, "train")


def _measure_build(kind: str, cfg) -> Dict[str, object]:
    import psutil

    _dataset_classes()  # imported before the clock starts
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    with PeakRss() as peak:
        start, cpu = time.perf_counter(), time.process_time()
        dataset = _dataset(kind, cfg)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    gc.collect()
    after = process.memory_info().rss
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
            "rss_added_mib": round((after - before) / 2**20, 1),
            "peak_added_mib": round((peak.peak - before) / 2**20, 1),
            "keyframes": len(dataset), "boxes": int(dataset._num_boxes_used)}


class _IndexReads:
    """Item ``i`` of ``dataset`` up to the frame decoding: the clip's frame paths, its boxes and labels."""

    def __init__(self, dataset, upstream: bool) -> None:
        self.dataset, self.upstream = dataset, upstream

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> int:
        ds = self.dataset
        if self.upstream:  # upstream Ava.__getitem__'s reads, in its order
            from slowfast.datasets import utils

            video_idx, sec_idx, _, center_idx = ds._keyframe_indices[idx]
            seq = utils.get_sequence(center_idx, ds._seq_len // 2, ds._sample_rate,
                                     num_frames=len(ds._image_paths[video_idx]))
            labels = ds._keyframe_boxes_and_labels[video_idx][sec_idx]
            boxes = np.array([box for box, _ in labels])[:, :4].copy()
            paths = [ds._image_paths[video_idx][frame] for frame in seq]
        else:
            seq, boxes, labels, video_idx, _ = ds._clip_inputs(idx)
            frames = ds._image_paths[video_idx]
            paths = [frames[i] for i in seq]
        return len(paths) + len(boxes) + len(labels)


def _count(batch: List[int]) -> int:
    return len(batch)


def _measure_workers(kind: str, cfg, workers: int, samples: int = 10) -> Dict[str, object]:
    import psutil
    import torch
    from torch.utils.data import DataLoader

    dataset = _dataset(kind, cfg)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0)).tolist()
    loader = DataLoader(_IndexReads(dataset, kind == UPSTREAM), batch_size=256, sampler=order, num_workers=workers,
                        collate_fn=_count, multiprocessing_context="fork", prefetch_factor=2)
    batches = len(loader)
    every = max(1, batches // samples)
    uss: Dict[int, List[float]] = {}
    items = 0
    start = time.perf_counter()
    for b, count in enumerate(loader):
        items += count
        if b % every == 0 or b == batches - 1:
            for child in psutil.Process().children():
                try:
                    uss.setdefault(child.pid, []).append(round(child.memory_full_info().uss / 2**20, 1))
                except psutil.NoSuchProcess:
                    pass
    seconds = time.perf_counter() - start
    per_worker = [{"uss_first_mib": v[0], "uss_last_mib": v[-1], "uss_max_mib": max(v), "samples": v}
                  for v in uss.values()]
    return {"workers": workers, "items": items, "seconds": round(seconds, 2), "per_worker": per_worker,
            "max_growth_mib": round(max(w["uss_last_mib"] - w["uss_first_mib"] for w in per_worker), 1)}


def _in_fresh_process(func, *args):
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def measure_index(root: Path, work_dir: Path, spec: IndexSpec, repeats: int = 1) -> Dict[str, object]:
    """Build times and memory (each in a fresh interpreter, ``repeats`` rounds), then worker memory over an epoch."""
    data = make_index_dataset(root, spec)
    cfg = index_config(root, work_dir)
    cache = root / "frame_lists" / CACHE_DIR_NAME
    builds: Dict[str, List[Dict[str, object]]] = {UPSTREAM: [], OURS_BUILD: [], OURS_REOPEN: []}
    for repeat in range(repeats):
        order = [UPSTREAM, OURS_BUILD] if repeat % 2 == 0 else [OURS_BUILD, UPSTREAM]
        for kind in order:
            if kind == OURS_BUILD:
                shutil.rmtree(cache, ignore_errors=True)
                builds[kind].append(_in_fresh_process(_measure_build, kind, cfg))
                builds[OURS_REOPEN].append(_in_fresh_process(_measure_build, OURS_REOPEN, cfg))
            else:
                builds[kind].append(_in_fresh_process(_measure_build, kind, cfg))

    def median(kind: str, key: str) -> float:
        return float(np.median([b[key] for b in builds[kind]]))

    summary = {kind: {key: median(kind, key) for key in ("seconds", "cpu_seconds", "rss_added_mib",
                                                          "peak_added_mib")} for kind in builds}
    ratios = {kind: {"wall": round(median(UPSTREAM, "seconds") / median(kind, "seconds"), 2),
                     "cpu": round(median(UPSTREAM, "cpu_seconds") / median(kind, "cpu_seconds"), 2)}
              for kind in (OURS_BUILD, OURS_REOPEN)}
    workers = {UPSTREAM: _in_fresh_process(_measure_workers, UPSTREAM, cfg, spec.loader_workers),
               "Customava": _in_fresh_process(_measure_workers, OURS_REOPEN, cfg, spec.loader_workers)}
    return {"data": data, "repeats": repeats, "builds": builds, "median": summary, "speedup_vs_upstream": ratios,
            "keyframes": builds[OURS_BUILD][0]["keyframes"], "worker_memory_over_an_epoch": workers}
