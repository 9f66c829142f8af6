"""Write labelled person boxes as an AVA-format dataset folder that ``tools/run_net.py`` trains on.

Any labelling front end (the VIA importer, a browser tool) hands over
``LabelledBox`` records and calls ``write_ava_dataset_annotations``. The
output is the layout and file names of ``configs/Base-Customava.yaml``::

    <dataset>/frames/<video>/<video>_%06d.jpg    (already there, or a link to the frames folder)
    <dataset>/frame_lists/train.csv, val.csv
    <dataset>/annotations/ava_train_v2.2.csv, ava_val_v2.2.csv            ground truth, person ids
    <dataset>/annotations/ava_val_predicted_boxes.csv                     boxes the validation scores
    <dataset>/annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt label map (item form)
    <dataset>/annotations/ava.json                                        class names for the demo
    <dataset>/annotations/ava_{train,val}_excluded_timestamps_v2.2.csv    empty

A video can also be split by time (``SplitSpec.val_ranges``): its seconds
inside the val ranges go to val, the seconds less than
``split_distance_sec`` from a val range are left out (their clips would
share frames with val clips), the rest go to train; the video is then in
both frame lists, with all its frames.

Validation boxes: by default every labelled validation box (one row per
person box, score 1.0), i.e. AVA's "ground-truth boxes" protocol, which
scores the action classifier alone; pass ``val_predicted_boxes`` (e.g. the
detector's boxes from ``detect_and_track``) to score detector boxes instead.
"""

from __future__ import annotations

import logging
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from slowfast_custom.ava.formats import (
    Box,
    BoxRow,
    LabelMapEntry,
    write_box_csv,
    write_class_names_json,
    write_exclusions,
    write_frame_list,
    write_label_map,
)
from slowfast_custom.ava.layout import (
    CLASS_NAMES,
    DEFAULT_FPS,
    LABEL_MAP,
    TRAIN_GT,
    TRAIN_LIST,
    VAL_GT,
    VAL_LIST,
    VAL_PREDICTED,
    annotations_dir,
    frame_lists_dir,
    frames_dir,
)
from slowfast_custom.ava.layout import TRAIN_EXCLUSIONS as TRAIN_EXCLUDED
from slowfast_custom.ava.layout import VAL_EXCLUSIONS as VAL_EXCLUDED
from slowfast_custom.ava.naming import PathLike, check_video_id, frame_list_from_dir
from slowfast_custom.ava.timing import DEFAULT_SPLIT_DISTANCE_SEC, format_seconds, second_to_frame
from slowfast_custom.errors import DataError, UserError

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class LabelledBox:
    """One person box on one keyframe, with the actions ticked for it."""

    video_id: str
    second: int  # keyframe second (frame ``second * fps`` of the extracted frames)
    box: Box  # normalised x1, y1, x2, y2; clipped to [0, 1] and rounded to 3 decimals when written
    action_ids: Tuple[int, ...]  # empty: nobody labelled this box (counted, not written)
    person_id: int  # unique per person within a video
    source: str = ""  # where it came from (e.g. "image x.jpg, region 2"), for error messages


@dataclass(frozen=True)
class SplitSpec:
    """How videos go to train and val.

    With ``val_videos`` (and optionally ``train_videos``) the lists decide;
    videos in neither go to train when only ``val_videos`` or ``val_ranges``
    is given. Without lists or ranges, ``round(val_ratio * n)`` videos (at
    least 1 when n >= 2 and the ratio is > 0) are drawn with ``seed`` for val.

    ``val_ranges`` splits a video by time: ``{video: [(first, last), ...]}``
    (inclusive seconds) go to val, seconds less than ``split_distance_sec``
    from a range are left out, the rest of the video goes to train. Such a
    video may not be in ``val_videos`` or ``train_videos`` too.
    """

    val_videos: Optional[Sequence[str]] = None
    train_videos: Optional[Sequence[str]] = None
    val_ratio: float = 0.2
    seed: int = 0
    val_ranges: Optional[Mapping[str, Sequence[Tuple[int, int]]]] = None
    split_distance_sec: int = DEFAULT_SPLIT_DISTANCE_SEC  # timing.split_distance_sec of the model's clip


def ranges_by_video(pairs: Iterable[Tuple[str, Tuple[int, int]]]) -> Dict[str, List[Tuple[int, int]]]:
    """``{video: ranges}`` from ``(video, (first, last))`` pairs (repeated ``--val-range`` options)."""
    ranges: Dict[str, List[Tuple[int, int]]] = defaultdict(list)
    for video, span in pairs:
        ranges[video].append(span)
    return dict(ranges)


@dataclass(frozen=True)
class SecondSplit:
    """Which split each labelled second goes to (``SplitSpec`` applied to the labelled videos)."""

    train: List[str]  # videos with train seconds (a video split by time is in both lists)
    val: List[str]
    val_ranges: Mapping[str, Sequence[Tuple[int, int]]]
    distance: int

    def of(self, video: str, second: int) -> Optional[str]:
        """``"train"``, ``"val"``, or None for a second in the gap around a val range."""
        ranges = self.val_ranges.get(video)
        if ranges is None:
            return "val" if video in self.val else "train"
        if any(first <= second <= last for first, last in ranges):
            return "val"
        if any(first - self.distance < second < last + self.distance for first, last in ranges):
            return None
        return "train"


@dataclass
class DatasetSummary:
    dataset_dir: Path
    videos: Dict[str, List[str]]  # split -> videos
    keyframes: Dict[str, int]  # split -> labelled keyframes
    boxes: Dict[str, int]  # split -> labelled person boxes
    rows: Dict[str, int]  # split -> ground-truth rows (one per action)
    unlabelled: int  # boxes with no action, not written
    unlabelled_where: List[str]  # their sources (first ones)
    gap_boxes: int  # labelled boxes too near a val range of their video, not written
    gap_where: Dict[str, List[int]]  # video -> their seconds
    num_classes: int
    action_counts: Dict[str, int]  # action name -> rows
    warnings: List[str] = field(default_factory=list)

    def train_command(self, fps: float = DEFAULT_FPS) -> str:
        """The command that trains the recipe on this dataset (``AVA.FPS`` only when not the default)."""
        return (f"slowfast-custom train --cfg SLOWFAST_32x2_R101_custom.yaml DATA.PATH_TO_DATA_DIR {self.dataset_dir} "
                f"MODEL.NUM_CLASSES {self.num_classes}" + ("" if fps == DEFAULT_FPS else f" AVA.FPS {fps:g}"))

    def report(self) -> str:
        lines = [f"dataset: {self.dataset_dir}"]
        for split in ("train", "val"):
            lines.append(f"  {split}: {len(self.videos[split])} videos, {self.keyframes[split]} keyframes, "
                         f"{self.boxes[split]} person boxes, {self.rows[split]} rows")
        lines.append(f"  actions ({self.num_classes}): " + ", ".join(f"{k}={v}" for k, v in self.action_counts.items()))
        if self.unlabelled:
            where = "; ".join(self.unlabelled_where)
            more = f" (and {self.unlabelled - len(self.unlabelled_where)} more)" if self.unlabelled > len(
                self.unlabelled_where) else ""
            lines.append(f"  {self.unlabelled} boxes have no action ticked and were left out: {where}{more}")
        if self.gap_boxes:
            where = "; ".join(f"{v} {format_seconds(s)}" for v, s in self.gap_where.items())
            lines.append(f"  {self.gap_boxes} boxes less than the clip's span from a val range were left out, so "
                         f"that train and val clips share no frame: seconds {where}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def split_seconds(videos: Sequence[str], spec: SplitSpec) -> SecondSplit:
    """Each labelled second's split for ``videos`` under ``spec`` (see SplitSpec)."""
    ranges = {v: sorted(r) for v, r in (spec.val_ranges or {}).items()}
    unknown = sorted(set(ranges) - set(videos))
    if unknown:
        raise UserError(f"--val-range names videos without labelled boxes: {', '.join(unknown)}")
    listed = sorted(set(ranges) & set([*(spec.val_videos or []), *(spec.train_videos or [])]))
    if listed:
        raise UserError(f"videos {', '.join(listed)} have val ranges and are also listed as a whole video for a "
                        "split; give each video one of them")
    for video, spans in ranges.items():
        for first, last in spans:
            if last < first:
                raise UserError(f"val range {video}:{first}-{last} ends before it starts")
    if spec.split_distance_sec < 1:
        raise UserError(f"the least distance between train and val seconds must be >= 1 s, got "
                        f"{spec.split_distance_sec}")
    whole = [v for v in videos if v not in ranges]
    if ranges and spec.val_videos is None and spec.train_videos is None:
        train, val = whole, []  # ranges are an explicit split: the other videos train
    else:
        train, val = split_videos(whole, spec) if whole else ([], [])
    return SecondSplit(sorted([*train, *ranges]), sorted([*val, *ranges]), ranges, spec.split_distance_sec)


def split_videos(videos: Sequence[str], spec: SplitSpec) -> Tuple[List[str], List[str]]:
    """``(train, val)`` video lists for ``videos`` under ``spec`` (see SplitSpec; its ``val_ranges`` aside)."""
    videos = sorted(set(videos))
    if spec.val_videos is not None or spec.train_videos is not None:
        val = list(spec.val_videos or [])
        train = list(spec.train_videos) if spec.train_videos is not None else [v for v in videos if v not in val]
        both = sorted(set(train) & set(val))
        if both:
            raise UserError(f"videos {', '.join(both)} are listed for both train and val; a video must be in one split")
        unknown = sorted((set(train) | set(val)) - set(videos))
        if unknown:
            raise UserError(f"split lists name videos without labelled boxes: {', '.join(unknown)}")
        left = sorted(set(videos) - set(train) - set(val))
        if left:
            raise UserError(f"videos {', '.join(left)} are in neither the train nor the val list")
        return sorted(train), sorted(val)
    if not 0.0 <= spec.val_ratio < 1.0:
        raise UserError(f"val ratio must be in [0, 1), got {spec.val_ratio}")
    n_val = int(round(spec.val_ratio * len(videos)))
    if spec.val_ratio > 0 and len(videos) >= 2:
        n_val = min(max(n_val, 1), len(videos) - 1)
    shuffled = list(videos)
    random.Random(spec.seed).shuffle(shuffled)
    return sorted(shuffled[n_val:]), sorted(shuffled[:n_val])


def _clean_box(item: LabelledBox) -> Box:
    """The box clipped to [0, 1] and rounded as written; DataError naming the source if nothing is left."""
    clipped = tuple(round(min(max(float(v), 0.0), 1.0), 3) for v in item.box)
    x1, y1, x2, y2 = clipped
    if x2 <= x1 or y2 <= y1:
        raise DataError(item.source or item.video_id, f"box {tuple(item.box)} of person {item.person_id} at second "
                        f"{item.second} has no area inside the frame (after clipping to [0, 1], 3 decimals)",
                        hint="Redraw or delete this box")
    return clipped  # type: ignore[return-value]


def _link_frames(dataset_dir: Path, frame_dir: Path, warnings: List[str]) -> None:
    """Make ``dataset_dir/frames`` a link to ``frame_dir`` when the frames live elsewhere."""
    target = frames_dir(dataset_dir)
    if target.exists() and target.resolve() == frame_dir.resolve():
        return
    if target.exists() or target.is_symlink():
        raise UserError(f"{target} exists and is not the frames folder {frame_dir}; move it or pass that folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(frame_dir.resolve(), target, target_is_directory=True)
    warnings.append(f"{target} links to {frame_dir.resolve()} "
                    "(the config reads frames from DATA.PATH_TO_DATA_DIR/frames)")


def write_ava_dataset_annotations(
    dataset_dir: PathLike,
    boxes: Sequence[LabelledBox],
    actions: Sequence[LabelMapEntry],
    *,
    split: SplitSpec = SplitSpec(),
    frame_dir: Optional[PathLike] = None,
    fps: float = DEFAULT_FPS,
    val_predicted_boxes: Optional[Sequence[BoxRow]] = None,
) -> DatasetSummary:
    """Write ``annotations/`` and ``frame_lists/`` of an AVA-format dataset from labelled boxes.

    Args:
        dataset_dir: the dataset root (``DATA.PATH_TO_DATA_DIR``); files are written atomically.
        boxes: every box of every labelled keyframe. Boxes with no action are
            counted and reported, not written (AVA's ground truth has no
            "no action" row). Person ids must be unique within one keyframe.
        actions: the action list (``read_action_names``); every action id used
            must be in it. Its ids should be 1..n (``ava.json`` needs that).
        split: which videos (or seconds of a video) are train and which val (``SplitSpec``).
        frame_dir: the extracted frames, ``<frame_dir>/<video>/<video>_%06d.jpg``;
            default ``dataset_dir/frames`` (a link is made there when elsewhere).
        fps: frame rate the frames were extracted at (``AVA.FPS``); each
            labelled second must have its keyframe ``second * fps``.
        val_predicted_boxes: boxes the validation scores (``BoxRow`` with
            scores, no action); default: the labelled val boxes, scored 1.0.

    Returns a ``DatasetSummary`` (``.report()`` prints it). Raises DataError
    naming the box's source for an unknown action, a box with no area, a
    person id used twice on one keyframe, or a second without its frame.
    Nothing is written until every box has been checked.
    """
    dataset_dir = Path(dataset_dir)
    frame_dir = Path(frame_dir) if frame_dir is not None else frames_dir(dataset_dir)
    if not frame_dir.is_dir():
        raise UserError(f"{frame_dir}: frames folder not found; extract the frames first (tools/extract_frames.py)")
    if not boxes:
        raise UserError("no labelled boxes to write")
    names = {e.id: e.name for e in actions}
    if not names:
        raise UserError("the action list is empty")
    warnings: List[str] = []

    labelled, unlabelled = _validate_boxes(boxes, names)
    videos = sorted({item.video_id for item, _ in labelled})
    if not videos:
        raise UserError(f"none of the {len(boxes)} boxes has an action ticked; label some boxes first")
    seconds = split_seconds(videos, split)
    val = seconds.val
    _check_ranges_hold_seconds(labelled, seconds, warnings)
    if not val:
        warnings.append("the val split is empty: train with TRAIN.EVAL_PERIOD larger than SOLVER.MAX_EPOCH "
                        "and TEST.ENABLE False, or label more videos")
    frames = frame_list_from_dir(frame_dir, videos)
    _check_keyframes_exist(labelled, frames, frame_dir, fps)
    _link_frames(dataset_dir, frame_dir, warnings)

    rows = _ground_truth_rows(labelled, seconds)
    seconds = _drop_empty_time_splits(seconds, rows)
    _write_files(dataset_dir, rows, actions, frames, seconds, val_predicted_boxes, warnings)
    return _summarise(dataset_dir, labelled, unlabelled, rows, seconds, names, warnings)


def _drop_empty_time_splits(seconds: SecondSplit, rows: Dict[str, List[BoxRow]]) -> SecondSplit:
    """``seconds`` without a video split by time in a split it gives no row to (all its seconds in val ranges and
    gaps, say): a frame-list entry without boxes is only a checker's warning."""
    used = {split: {r.video_id for r in split_rows} for split, split_rows in rows.items()}

    def kept(videos: List[str], split: str) -> List[str]:
        return [v for v in videos if v not in seconds.val_ranges or v in used[split]]

    return replace(seconds, train=kept(seconds.train, "train"), val=kept(seconds.val, "val"))


def _check_ranges_hold_seconds(labelled: Sequence[Tuple[LabelledBox, Box]], seconds: SecondSplit,
                               warnings: List[str]) -> None:
    """A warning for each val range without a labelled second (a typo in the range, or seconds not yet labelled)."""
    boxed: Dict[str, set] = defaultdict(set)
    for item, _ in labelled:
        boxed[item.video_id].add(item.second)
    for video, spans in seconds.val_ranges.items():
        for first, last in spans:
            if not any(first <= s <= last for s in boxed[video]):
                warnings.append(f"val range {video}:{first}-{last} holds no labelled second (the video's labelled "
                                f"seconds: {format_seconds(boxed[video])})")


def _validate_boxes(boxes: Sequence[LabelledBox],
                    names: Dict[int, str]) -> Tuple[List[Tuple[LabelledBox, Box]], List[LabelledBox]]:
    """``(labelled boxes with their cleaned box, boxes without action)``; DataError for the first bad box."""
    labelled: List[Tuple[LabelledBox, Box]] = []
    unlabelled: List[LabelledBox] = []
    seen: Dict[Tuple[str, int, int], LabelledBox] = {}
    for item in boxes:
        check_video_id(item.video_id, item.source)
        box = _clean_box(item)
        key = (item.video_id, item.second, item.person_id)
        if key in seen:
            raise DataError(item.source or item.video_id, f"person id {item.person_id} is used twice at video "
                            f"{item.video_id} second {item.second} (also {seen[key].source or 'another box'})",
                            hint="Give each box of a keyframe its own person id, or leave it empty for a new one")
        seen[key] = item
        for action_id in item.action_ids:
            if action_id not in names:
                raise DataError(item.source or item.video_id, f"action id {action_id} is not in the action list "
                                f"(ids {min(names)}..{max(names)})",
                                hint="Add it to the action list or relabel the box")
        if item.action_ids:
            labelled.append((item, box))
        else:
            unlabelled.append(item)
    return labelled, unlabelled


def _check_keyframes_exist(labelled: Sequence[Tuple[LabelledBox, Box]], frames: Dict[str, List[str]],
                           frame_dir: Path, fps: float) -> None:
    """DataError naming the first labelled second whose keyframe is not among the extracted frames."""
    for item, _ in labelled:
        index = second_to_frame(item.second, fps, 0)
        if index >= len(frames[item.video_id]):
            raise DataError(item.source or item.video_id, f"second {item.second} of video {item.video_id} is frame "
                            f"{index + 1}, but {frame_dir / item.video_id} has {len(frames[item.video_id])} frames "
                            f"at {fps:g} fps", hint="Extract all frames of the video, or check --fps")


def _ground_truth_rows(labelled: Sequence[Tuple[LabelledBox, Box]],
                       seconds: SecondSplit) -> Dict[str, List[BoxRow]]:
    """Split -> ground-truth rows, one per box and action, in (video, second, person, action) order; the gap
    around val ranges writes none."""
    rows: Dict[str, List[BoxRow]] = {"train": [], "val": []}
    for item, box in sorted(labelled, key=lambda ib: (ib[0].video_id, ib[0].second, ib[0].person_id)):
        split = seconds.of(item.video_id, item.second)
        if split is None:
            continue
        for action_id in sorted(set(item.action_ids)):
            rows[split].append(BoxRow(item.video_id, item.second, box, action_id, item.person_id))
    return rows


def _write_files(dataset_dir: Path, rows: Dict[str, List[BoxRow]], actions: Sequence[LabelMapEntry],
                 frames: Dict[str, List[str]], seconds: SecondSplit,
                 val_predicted_boxes: Optional[Sequence[BoxRow]], warnings: List[str]) -> None:
    """The nine files of the layout in the module docstring (``ava.json`` only for action ids 1..n)."""
    ann = annotations_dir(dataset_dir)
    write_box_csv(ann / TRAIN_GT, rows["train"], "gt")
    write_box_csv(ann / VAL_GT, rows["val"], "gt")
    if val_predicted_boxes is None:
        val_boxes = {(r.video_id, r.second, r.box): None for r in rows["val"]}
        val_predicted = [BoxRow(v, s, b, None, score=1.0) for v, s, b in val_boxes]
    else:
        val_predicted = [r for r in val_predicted_boxes
                         if r.video_id in seconds.val and seconds.of(r.video_id, r.second) == "val"]
    write_box_csv(ann / VAL_PREDICTED, val_predicted, "predicted")
    write_label_map(ann / LABEL_MAP, actions)
    ids = sorted({e.id for e in actions})
    if ids == list(range(1, len(ids) + 1)):
        write_class_names_json(ann / CLASS_NAMES, actions)
    else:
        warnings.append(f"{CLASS_NAMES} not written: action ids {ids} are not 1..{len(ids)}; "
                        f"set MODEL.NUM_CLASSES to {max(ids)}")
    write_exclusions(ann / TRAIN_EXCLUDED, [])
    write_exclusions(ann / VAL_EXCLUDED, [])
    write_frame_list(frame_lists_dir(dataset_dir) / TRAIN_LIST, {v: frames[v] for v in seconds.train})
    write_frame_list(frame_lists_dir(dataset_dir) / VAL_LIST, {v: frames[v] for v in seconds.val})


def _summarise(dataset_dir: Path, labelled: Sequence[Tuple[LabelledBox, Box]], unlabelled: Sequence[LabelledBox],
               rows: Dict[str, List[BoxRow]], seconds: SecondSplit,
               names: Dict[int, str], warnings: List[str]) -> DatasetSummary:
    keyframes_per_split = defaultdict(set)
    boxes_per_split: Counter = Counter()
    gap: Dict[str, set] = defaultdict(set)
    gap_boxes = 0
    for item, _ in labelled:
        split = seconds.of(item.video_id, item.second)
        if split is None:
            gap[item.video_id].add(item.second)
            gap_boxes += 1
            continue
        keyframes_per_split[split].add((item.video_id, item.second))
        boxes_per_split[split] += 1
    action_counts = Counter(names[r.action_id] for split_rows in rows.values() for r in split_rows)
    ids = sorted(names)
    return DatasetSummary(
        dataset_dir=dataset_dir,
        videos={"train": seconds.train, "val": seconds.val},
        keyframes={s: len(keyframes_per_split[s]) for s in ("train", "val")},
        boxes={s: boxes_per_split[s] for s in ("train", "val")},
        rows={s: len(rows[s]) for s in ("train", "val")},
        unlabelled=len(unlabelled),
        unlabelled_where=[u.source or f"{u.video_id} second {u.second} person {u.person_id}" for u in unlabelled[:10]],
        gap_boxes=gap_boxes,
        gap_where={v: sorted(s) for v, s in sorted(gap.items())},
        num_classes=max(ids),
        action_counts={names[i]: action_counts[names[i]] for i in ids},
        warnings=warnings,
    )
