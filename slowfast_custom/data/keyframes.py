"""From AVA files to the keyframe index a dataset samples from: pure functions, no config object.

Upstream hard-codes ``FPS = 30`` and seconds ``902..1798`` of a 15-minute cut
starting at second 900. Here the frame rate, the second of the first frame
and the usable seconds are arguments (``KeyframeSpec``), so a 20-second phone
video at 25 fps and an AVA cut are read by the same code.
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from slowfast_custom.ava.formats import Box, BoxRow, box_sources, iter_box_csv, read_frame_list
from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.ava.timing import SPLIT_OVERLAP_HINT, second_to_frame, split_overlap_problem
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import iter_text_lines

logger = logging.getLogger(__name__)

# Upstream's layout: per keyframe a list of [box, [action ids]] (-1: box without action).
BoxesAndLabels = List[List[object]]


@dataclass(frozen=True)
class KeyframeSpec:
    """Which files make a split and how seconds map to frames."""

    frame_dir: Path
    frame_lists: Sequence[Path]
    gt_box_files: Sequence[Path] = ()
    predicted_box_files: Sequence[Path] = ()
    fps: float = DEFAULT_FPS  # frame rate of the extracted frames
    start_sec: int = 0  # video second of frame 0
    valid_seconds: Optional[Tuple[int, int]] = None  # inclusive; None: all that have frames
    score_thresh: float = 0.0  # predicted boxes below it are dropped
    second_stride: int = 1  # keep only seconds % stride == 0 (upstream's mini validation)
    max_action_id: int = 80


@dataclass
class KeyframeIndex:
    """What upstream's ``Ava`` dataset keeps, built from a ``KeyframeSpec``."""

    video_names: List[str]
    frame_paths: List[List[str]]  # absolute frame paths per video, in order
    keyframes: List[Tuple[int, int, int, int]]  # (video_idx, sec_idx, second, center frame index)
    boxes_and_labels: List[List[BoxesAndLabels]]  # [video_idx][sec_idx] -> [[box, labels], ...]
    skipped: Counter = field(default_factory=Counter)  # reason -> count, for the log

    @property
    def num_boxes(self) -> int:
        return sum(len(self.boxes_and_labels[v][s]) for v, s, _, _ in self.keyframes)


def load_keyframe_index(spec: KeyframeSpec) -> KeyframeIndex:
    videos: Dict[str, List[str]] = {}
    for frame_list in spec.frame_lists:
        for video, frames in read_frame_list(frame_list).items():
            if video in videos:
                raise DataError(frame_list, f"video {video} appears in more than one frame list of this split")
            videos[video] = [str(spec.frame_dir / f) for f in frames]

    skipped: Counter = Counter()
    per_video: Dict[str, Dict[int, Dict[Box, List[int]]]] = {}
    first_row: Dict[str, Tuple[Path, int]] = {}
    sources = box_sources(spec.gt_box_files, spec.predicted_box_files)
    for path, kind in sources:
        for row in iter_box_csv(path, kind):  # type: ignore[arg-type]
            if not _keep(row, spec, skipped):
                continue
            if row.video_id not in videos:
                raise DataError(path, f"video {row.video_id} has boxes but no frames in "
                                f"{', '.join(str(p) for p in spec.frame_lists)}", row.line,
                                "Frame lists and box files must cover the same videos: rebuild the frame "
                                "lists (tools/check_dataset.py DIR --fix) or drop the video's rows")
            if row.action_id is not None and row.action_id > spec.max_action_id:
                raise DataError(path, f"action_id {row.action_id} is larger than the model's "
                                f"{spec.max_action_id} classes", row.line,
                                "Set MODEL.NUM_CLASSES to the number of actions in your label map")
            center = second_to_frame(row.second, spec.fps, spec.start_sec)
            n_frames = len(videos[row.video_id])
            if not 0 <= center < n_frames:
                raise DataError(path, f"video {row.video_id} second {row.second} is frame {center}, but the "
                                f"video has {n_frames} frames (AVA.FPS {spec.fps:g}, AVA.START_SEC "
                                f"{spec.start_sec})", row.line,
                                "Set AVA.FPS / AVA.START_SEC to how the frames were extracted, or re-extract them")
            first_row.setdefault(row.video_id, (path, row.line))
            labels = per_video.setdefault(row.video_id, {}).setdefault(row.second, {}).setdefault(row.box, [])
            labels.append(row.action_id if row.action_id is not None else -1)

    index = KeyframeIndex([], [], [], [], skipped)
    for video, frames in videos.items():
        video_idx = len(index.video_names)
        index.video_names.append(video)
        index.frame_paths.append(frames)
        index.boxes_and_labels.append([])
        for second in sorted(per_video.get(video, {})):
            boxes = per_video[video][second]
            sec_idx = len(index.boxes_and_labels[video_idx])
            index.keyframes.append((video_idx, sec_idx, second, second_to_frame(second, spec.fps, spec.start_sec)))
            index.boxes_and_labels[video_idx].append([[list(box), labels] for box, labels in boxes.items()])

    if not index.keyframes:
        files = [str(p) for p, _ in sources] or ["(no box files configured)"]
        reasons = ", ".join(f"{n} {why}" for why, n in skipped.items()) or "the files have no rows"
        raise DataError(files[0], f"no keyframes left after filtering ({reasons})",
                        hint="Check AVA.DETECTION_SCORE_THRESH, AVA.VALID_SECONDS and the box file names in the config")
    for why, n in sorted(skipped.items()):
        logger.info("Skipped %d box rows: %s", n, why)
    return index


def check_split_overlap(index: KeyframeIndex, split_files: Sequence[Path], other_box_files: Sequence[Path],
                        min_distance_sec: int) -> None:
    """DataError naming the first box row of ``other_box_files`` (the train split) whose second lies less than
    ``min_distance_sec`` (``timing.split_distance_sec``) from a keyframe of its video in ``index`` (the val
    split): their clips would share frames, so validation would score frames the model trained on. A video may
    give disjoint time ranges to both splits."""
    val_seconds: Dict[str, List[int]] = {}
    for v, _, second, _ in index.keyframes:
        val_seconds.setdefault(index.video_names[int(v)], []).append(int(second))
    rows: Dict[str, Dict[int, Tuple[int, int]]] = {}  # video -> train second -> (file index, line) of its first row
    for file_idx, path in enumerate(other_box_files):
        with closing(iter_text_lines(path)) as lines:
            for line_no, line in lines:
                video, _, rest = line.partition(",")
                second = rest.split(",", 1)[0].strip()
                if video.strip() in val_seconds and second.isdigit():  # a header or a bad row: the loader's to name
                    rows.setdefault(video.strip(), {}).setdefault(int(second), (file_idx, line_no))
    problems = []
    for video, seconds in rows.items():
        found = split_overlap_problem(video, seconds, val_seconds[video], min_distance_sec)
        if found:
            message, other_seconds = found
            problems.append((min(seconds[s] for s in other_seconds), message))
    if problems:
        (file_idx, line_no), message = min(problems)
        raise DataError(other_box_files[file_idx], f"{message} (val: {', '.join(str(p) for p in split_files)})",
                        line_no, f"{SPLIT_OVERLAP_HINT}, or set AVA.ALLOW_SPLIT_OVERLAP True if this is intended")


def _keep(row: BoxRow, spec: KeyframeSpec, skipped: Counter) -> bool:
    if row.score is not None and row.score < spec.score_thresh:
        skipped[f"predicted boxes scored below {spec.score_thresh:g}"] += 1
        return False
    if spec.valid_seconds and not spec.valid_seconds[0] <= row.second <= spec.valid_seconds[1]:
        skipped[f"outside seconds {spec.valid_seconds[0]}-{spec.valid_seconds[1]}"] += 1
        return False
    if spec.second_stride > 1 and row.second % spec.second_stride:
        skipped[f"not on the validation stride of {spec.second_stride} s"] += 1
        return False
    return True
