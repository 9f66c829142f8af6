"""Example AVA annotation files: every file ``ava_annotations.tar`` holds, generated for given video ids.

``write_example_files`` writes AVA v2.2's file names and formats (the ones
tools/make_subset.py reads, see ``source``) with random boxes, so that the
subset builder can be tried, tested and timed without AVA's files
(tools/make_ava_files.py). The files reproduce the real ones' quirks, from
AVA's published formats and upstream's readers: 4-digit seconds 902-1798;
one or two people per second, several rows per person (one per action) with
person ids; all 80 action ids in the ground truth while the evaluation label
map (``item { name id }``) lists 60 and the full one (``label { name
label_id label_type }``) 80, with AVA's names; detection files whose boxes
matched to a person repeat its actions and whose unmatched boxes have action
``-1`` (``*_include_negative_v2.2.csv``) or an empty action (the val file);
excluded timestamps; optionally frame lists with upstream's header. Without
ids it draws YouTube-like ones, some starting with ``-`` as AVA's do; the
full-size default is close to AVA v2.2 (299 train and 64 val videos, about a
million box rows). The same spec gives the same bytes.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, TextIO, Tuple

from slowfast_custom.ava.formats import write_frame_list
from slowfast_custom.ava.naming import frame_relpath
from slowfast_custom.ava_subset import source as names
from slowfast_custom.errors import UserError
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
# AVA's annotated keyframes: seconds 902-1798 of each video's 15-minute cut (900-1801).
FIRST_SEC, LAST_SEC = 902, 1798
# Every seventh video has an excluded second, as a few of AVA's do.
EXCLUDE_EVERY = 7

SPLIT_FILES = {  # split: (ground truth, detections, exclusions, frame list)
    "train": (names.TRAIN_GT, names.TRAIN_DETECTIONS, names.TRAIN_EXCLUSIONS, names.TRAIN_FRAME_LIST),
    "val": (names.VAL_GT, names.VAL_DETECTIONS, names.VAL_EXCLUSIONS, names.VAL_FRAME_LIST),
}
# AVA's train detections mark boxes matched to no person -1 (include_negative), its val detections leave them empty.
NEGATIVE_ACTION = {"train": "-1", "val": ""}

_ID_CHARS = string.ascii_letters + string.digits + "-_"
_YOUTUBE_ID_LENGTH = 11


@dataclass(frozen=True)
class ExampleSpec:
    train_videos: int = 299  # random ids drawn when train_ids is None
    val_videos: int = 64
    first_sec: int = FIRST_SEC
    last_sec: int = LAST_SEC
    frames_per_video: int = 0  # rows per video in frame_lists/*.csv; 0: no frame lists
    train_ids: Optional[Tuple[str, ...]] = None  # None: random YouTube-like ids (the first starts with "-")
    val_ids: Optional[Tuple[str, ...]] = None
    seed: int = 0


def label_type(action_id: int) -> str:
    return "PERSON_MOVEMENT" if action_id <= 14 else "OBJECT_MANIPULATION" if action_id <= 63 else "PERSON_INTERACTION"


def random_ids(count: int, rng: random.Random) -> List[str]:
    ids = ["".join(rng.choice(_ID_CHARS) for _ in range(_YOUTUBE_ID_LENGTH)) for _ in range(count)]
    if ids:
        ids[0] = "-" + ids[0][1:]  # AVA has such ids (-5KQ66BBWC4); the tools must take them
    return ids


def file_names(spec: ExampleSpec) -> List[str]:
    """The files ``write_example_files`` writes, relative to its root."""
    per_split = [name for files in SPLIT_FILES.values() for name in (files if spec.frames_per_video else files[:3])]
    return [names.FULL_LABEL_MAP, names.LABEL_MAP] + per_split


def write_example_files(root: Path, spec: ExampleSpec = ExampleSpec()) -> Tuple[Dict[str, int],
                                                                                  Dict[str, List[str]]]:
    """Write the annotation files under ``root`` (sub-folders included, each file atomically); return
    ``{file name: rows}`` and ``{split: video ids}``."""
    if not spec.first_sec <= spec.last_sec:
        raise UserError(f"first second {spec.first_sec} is after last second {spec.last_sec}")
    rng = random.Random(spec.seed)
    ids = {"train": list(spec.train_ids) if spec.train_ids is not None else random_ids(spec.train_videos, rng),
           "val": list(spec.val_ids) if spec.val_ids is not None else random_ids(spec.val_videos, rng)}
    rows = _write_label_maps(Path(root))
    for split, (gt, det, excl, frame_list) in SPLIT_FILES.items():
        with atomic_open(Path(root) / gt, "w") as gt_f, atomic_open(Path(root) / det, "w") as det_f:
            rows[gt], rows[det] = _write_boxes(ids[split], spec, rng, gt_f, det_f, NEGATIVE_ACTION[split])
        with atomic_open(Path(root) / excl, "w") as f:
            excluded = ids[split][::EXCLUDE_EVERY]
            f.writelines(f"{video},{spec.first_sec + 1:04d}\n" for video in excluded)
            rows[excl] = len(excluded)
        if spec.frames_per_video:
            frames = {video: _frame_paths(video, spec.frames_per_video) for video in ids[split]}
            write_frame_list(Path(root) / frame_list, frames)
            rows[frame_list] = spec.frames_per_video * len(ids[split])
    return rows, ids


def _frame_paths(video: str, count: int) -> Iterator[str]:
    # A function, not a generator expression in the dict comprehension: that would bind the last video's name.
    return (frame_relpath(video, n) for n in range(1, count + 1))


def _box_text(x1: float, y1: float, x2: float, y2: float) -> str:
    return f"{x1:.3f},{y1:.3f},{x2:.3f},{y2:.3f}"


def _write_boxes(videos: Sequence[str], spec: ExampleSpec, rng: random.Random, gt: TextIO, det: TextIO,
                 negative: str) -> Tuple[int, int]:
    """One or two people per second, each with one or two of the 80 actions; detections include negatives."""
    n_gt = n_det = 0
    for video in videos:
        for second in range(spec.first_sec, spec.last_sec + 1):
            for person in range(1 + (rng.random() < 0.5)):
                x1, y1 = rng.random() * 0.5, rng.random() * 0.5
                x2, y2 = x1 + 0.2 + rng.random() * 0.29, y1 + 0.3 + rng.random() * 0.19
                actions = rng.sample(range(1, NUM_ACTIONS + 1), 1 + (rng.random() < 0.5))
                for action in actions:
                    gt.write(f"{video},{second:04d},{_box_text(x1, y1, x2, y2)},{action},{person}\n")
                    n_gt += 1
                # The detector's box of this person (IoU > 0.9 with it), one row per action it is matched to.
                jitter = [rng.uniform(-0.004, 0.004) for _ in range(4)]
                detected = _box_text(*(min(max(v + j, 0.0), 1.0) for v, j in zip((x1, y1, x2, y2), jitter)))
                score = 0.8 + rng.random() / 5
                for action in actions:
                    det.write(f"{video},{second:04d},{detected},{action},{score:.6f}\n")
                    n_det += 1
            # A detection matched to no annotated person: a negative, scored anywhere in [0.5, 1].
            x1, y1 = 0.5 + rng.random() * 0.3, rng.random() * 0.3
            det.write(f"{video},{second:04d},{_box_text(x1, y1, x1 + 0.19, y1 + 0.6)},{negative},"
                      f"{0.5 + rng.random() / 2:.6f}\n")
            n_det += 1
    return n_gt, n_det


def _write_label_maps(root: Path) -> Dict[str, int]:
    with atomic_open(root / names.FULL_LABEL_MAP, "w") as f:
        for i, name in enumerate(ACTION_NAMES, start=1):
            f.write(f'label {{\n  name: "{name}"\n  label_id: {i}\n  label_type: {label_type(i)}\n}}\n')
    with atomic_open(root / names.LABEL_MAP, "w") as f:
        for i in EVAL_IDS:
            f.write(f'item {{\n  name: "{ACTION_NAMES[i - 1]}"\n  id: {i}\n}}\n')
    return {names.FULL_LABEL_MAP: NUM_ACTIONS, names.LABEL_MAP: len(EVAL_IDS)}
