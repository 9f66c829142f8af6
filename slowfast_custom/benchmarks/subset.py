"""A generated AVA annotation set in the real formats, and the speed and memory of subsetting it.

``write_fake_ava`` writes every file ``ava_annotations.tar`` holds (ground
truth, exclusions, both label maps, both detection files, optionally frame
lists) for any number of videos and seconds; the full-size setting is close to
AVA v2.2 (299 train and 64 val videos, seconds 902-1798, about a million box
rows). It reproduces the real files' quirks, from AVA's published formats and
upstream's readers: 4-digit seconds; several rows per person (one per action)
with person ids; all 80 action ids in the ground truth while the evaluation
label map (``item { name id }``) lists 60 and the full one (``label { name
label_id label_type }``) 80, with AVA's names; detection files whose boxes
matched to a person repeat its actions and whose unmatched boxes have action
``-1`` (``*_include_negative_v2.2.csv``) or an empty action (the val file);
excluded timestamps; frame lists with upstream's header and ids starting with
``-``. Tests use it with a few videos and seconds. ``benchmark`` runs the
subset build on it and measures seconds, rows per second and the peak growth
of the resident memory, sampled while it runs.
"""

from __future__ import annotations

import multiprocessing
import random
import string
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from slowfast_custom.ava.formats import write_frame_list
from slowfast_custom.ava.naming import frame_relpath
from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.build import SubsetSpec, make_subset
from slowfast_custom.benchmarks.timing import PeakRss
from slowfast_custom.fileio import atomic_open

# The 60 classes of AVA's ActivityNet evaluation (ava_action_list_v2.2_for_activitynet_2019.pbtxt).
EVAL_IDS = (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 20, 22, 24, 26, 27, 28, 29, 30, 34, 36, 37, 38,
            41, 43, 45, 46, 47, 48, 49, 51, 52, 54, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70,
            72, 73, 74, 76, 77, 78, 79, 80)
NUM_ACTIONS = 80
# AVA v2.2's 80 actions (ava_action_list_v2.2.pbtxt): 1-14 person movement, 15-63 object manipulation,
# 64-80 person interaction.
ACTION_NAMES = (
    "bend/bow (at the waist)", "crawl", "crouch/kneel", "dance", "fall down", "get up", "jump/leap", "lie/sleep",
    "martial art", "run/jog", "sit", "stand", "swim", "walk", "answer phone", "brush teeth",
    "carry/hold (an object)", "catch (an object)", "chop", "climb (e.g., a mountain)", "clink glass",
    "close (e.g., a door, a box)", "cook", "cut", "dig", "dress/put on clothing", "drink",
    "drive (e.g., a car, a truck)", "eat", "enter", "exit", "extract", "fishing", "hit (an object)",
    "kick (an object)", "lift/pick up", "listen (e.g., to music)", "open (e.g., a window, a car door)", "paint",
    "play board game", "play musical instrument", "play with pets", "point to (an object)", "press",
    "pull (an object)", "push (an object)", "put down", "read", "ride (e.g., a bike, a car, a horse)", "row boat",
    "sail boat", "shoot", "shovel", "smoke", "stir", "take a photo", "text on/look at a cellphone", "throw",
    "touch (an object)", "turn (e.g., a screwdriver)", "watch (e.g., TV)", "work on a computer", "write",
    "fight/hit (a person)", "give/serve (an object) to (a person)", "grab (a person)", "hand clap", "hand shake",
    "hand wave", "hug (a person)", "kick (a person)", "kiss (a person)", "lift (a person)",
    "listen to (a person)", "play with kids", "push (another person)", "sing to (e.g., self, a person, a group)",
    "take (an object) from (a person)", "talk to (e.g., self, a person, a group)", "watch (a person)",
)


def label_type(action_id: int) -> str:
    return "PERSON_MOVEMENT" if action_id <= 14 else "OBJECT_MANIPULATION" if action_id <= 63 else "PERSON_INTERACTION"


_ID_CHARS = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class FakeAvaSpec:
    train_videos: int = 299
    val_videos: int = 64
    first_sec: int = 902
    last_sec: int = 1798
    frames_per_video: int = 0  # rows per video in frame_lists/*.csv; 0: no frame lists
    train_ids: Optional[Tuple[str, ...]] = None  # None: random YouTube-like ids (some start with "-")
    val_ids: Optional[Tuple[str, ...]] = None
    seed: int = 0


def fake_ids(count: int, rng: random.Random) -> List[str]:
    ids = ["".join(rng.choice(_ID_CHARS) for _ in range(11)) for _ in range(count)]
    if ids:
        ids[0] = "-" + ids[0][1:]  # AVA has such ids (-5KQ66BBWC4); the tool must take them
    return ids


def write_fake_ava(root: Path, spec: FakeAvaSpec = FakeAvaSpec()) -> Tuple[Dict[str, int], Dict[str, List[str]]]:
    """Write the annotation files under ``root``; return ``{file name: rows}`` and ``{split: video ids}``.

    The same spec gives the same bytes.
    """
    rng = random.Random(spec.seed)
    ids = {"train": list(spec.train_ids) if spec.train_ids is not None else fake_ids(spec.train_videos, rng),
           "val": list(spec.val_ids) if spec.val_ids is not None else fake_ids(spec.val_videos, rng)}
    rows: Dict[str, int] = {}
    _write_label_maps(root, rows)
    for split, gt, det, excl, frame_list in (
            ("train", names.TRAIN_GT, names.TRAIN_DETECTIONS, names.TRAIN_EXCLUSIONS, names.TRAIN_FRAME_LIST),
            ("val", names.VAL_GT, names.VAL_DETECTIONS, names.VAL_EXCLUSIONS, names.VAL_FRAME_LIST)):
        with atomic_open(root / gt, "w") as gt_f, atomic_open(root / det, "w") as det_f:
            # AVA's train detections mark unmatched boxes -1 (include_negative), its val detections leave them empty.
            negative = "-1" if split == "train" else ""
            rows[gt], rows[det] = _write_boxes(ids[split], spec, rng, gt_f, det_f, negative)
        with atomic_open(root / excl, "w") as f:
            rows[excl] = 0
            for video in ids[split][::7]:  # AVA excludes a few seconds of some videos
                f.write(f"{video},{spec.first_sec + 1:04d}\n")
                rows[excl] += 1
        if spec.frames_per_video:
            frames = {video: _frame_paths(video, spec.frames_per_video) for video in ids[split]}
            write_frame_list(root / frame_list, frames)
            rows[frame_list] = spec.frames_per_video * len(ids[split])
    return rows, ids


def _frame_paths(video: str, count: int) -> Iterator[str]:
    # A function, not a generator expression in the dict comprehension: that would bind the last video's name.
    return (frame_relpath(video, n) for n in range(1, count + 1))


def _write_boxes(videos: Sequence[str], spec: FakeAvaSpec, rng: random.Random, gt, det,
                 negative: str) -> Tuple[int, int]:
    """One or two people per second, each with one or two of the 80 actions; detections include negatives."""
    n_gt = n_det = 0

    def box_text(x1: float, y1: float, x2: float, y2: float) -> str:
        return f"{x1:.3f},{y1:.3f},{x2:.3f},{y2:.3f}"

    for video in videos:
        for second in range(spec.first_sec, spec.last_sec + 1):
            for person in range(1 + (rng.random() < 0.5)):
                x1, y1 = rng.random() * 0.5, rng.random() * 0.5
                x2, y2 = x1 + 0.2 + rng.random() * 0.29, y1 + 0.3 + rng.random() * 0.19
                actions = rng.sample(range(1, NUM_ACTIONS + 1), 1 + (rng.random() < 0.5))
                for action in actions:
                    gt.write(f"{video},{second:04d},{box_text(x1, y1, x2, y2)},{action},{person}\n")
                    n_gt += 1
                # The detector's box of this person (IoU > 0.9 with it), one row per action it is matched to.
                jitter = [rng.uniform(-0.004, 0.004) for _ in range(4)]
                detected = box_text(*(min(max(v + j, 0.0), 1.0) for v, j in zip((x1, y1, x2, y2), jitter)))
                score = 0.8 + rng.random() / 5
                for action in actions:
                    det.write(f"{video},{second:04d},{detected},{action},{score:.6f}\n")
                    n_det += 1
            # A detection matched to no annotated person: a negative, scored anywhere in [0.5, 1].
            x1, y1 = 0.5 + rng.random() * 0.3, rng.random() * 0.3
            det.write(f"{video},{second:04d},{box_text(x1, y1, x1 + 0.19, y1 + 0.6)},{negative},"
                      f"{0.5 + rng.random() / 2:.6f}\n")
            n_det += 1
    return n_gt, n_det


def _write_label_maps(root: Path, rows: Dict[str, int]) -> None:
    with atomic_open(root / names.FULL_LABEL_MAP, "w") as f:
        for i, name in enumerate(ACTION_NAMES, start=1):
            f.write(f'label {{\n  name: "{name}"\n  label_id: {i}\n  label_type: {label_type(i)}\n}}\n')
    with atomic_open(root / names.LABEL_MAP, "w") as f:
        for i in EVAL_IDS:
            f.write(f'item {{\n  name: "{ACTION_NAMES[i - 1]}"\n  id: {i}\n}}\n')
    rows[names.FULL_LABEL_MAP], rows[names.LABEL_MAP] = NUM_ACTIONS, len(EVAL_IDS)


@dataclass(frozen=True)
class BenchmarkResult:
    rows: int  # rows in all annotation files read
    seconds: float
    peak_rss_growth: int  # bytes above the resident memory at the start

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def benchmark(spec: FakeAvaSpec, work_dir: Optional[Path] = None, train_videos: int = 1,
              val_videos: int = 1) -> BenchmarkResult:
    """Generate ``spec`` (frame lists of 30 rows per video unless set), subset it, and measure the subset build.

    The build runs in a fresh interpreter, so memory freed by an earlier run
    (or by the generator) cannot hide its growth.
    """
    if not spec.frames_per_video:
        spec = replace(spec, frames_per_video=30)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="ava_subset_bench.") as tmp:
        root = Path(tmp) / "annotations"
        rows, ids = write_fake_ava(root, spec)
        subset = SubsetSpec(annotations=root, out=Path(tmp) / "AVA", train_ids=tuple(ids["train"][:train_videos]),
                            val_ids=tuple(ids["val"][:val_videos]))
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            seconds, growth = pool.submit(_measure, subset).result()
    return BenchmarkResult(sum(rows.values()), seconds, growth)


def _measure(subset: SubsetSpec) -> Tuple[float, int]:
    with PeakRss() as rss:
        start = time.perf_counter()
        make_subset(subset)
        seconds = time.perf_counter() - start
    return seconds, rss.peak - rss.start
