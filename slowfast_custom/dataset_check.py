"""Check an AVA-format dataset folder before training; repair what is mechanical into new files.

``check_dataset(spec)`` reads every file the config names and returns every
problem found (not only the first), each with its file, line and a hint:

* frame lists: not space-separated, not 5 columns, non-integer or unsorted
  frame ids, no header, a video in both the train and val lists;
* frames: a labelled second whose keyframe is past the video's end, frame
  files missing from the clip window around a labelled second (warning when
  the window runs past the video's ends, where frames are repeated);
* videos present in box files but not in the split's frame lists (error), or
  the other way round (warning);
* box files: unparsable rows, boxes out of [0, 1] or inverted, predicted-box
  files without a score column, action ids missing from the label map or
  above MODEL.NUM_CLASSES, duplicate rows;
* the label map and exclusion files themselves.

``fix_dataset`` rebuilds frame lists from ``frames/`` (sorted, space
separated, 5 columns) and rewrites box CSVs comma-separated, sorted and
without duplicate rows, each to ``<name>.fixed.csv`` next to the original,
which is never modified.
"""

from __future__ import annotations

import re
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence, Set, Tuple

from slowfast_custom.data.ava_formats import (
    FRAME_LIST_HEADER,
    BoxKind,
    BoxRow,
    frame_list_from_dir,
    frame_path_problem,
    parse_box_row,
    read_exclusions,
    read_label_map,
    write_frame_list,
)
from slowfast_custom.data.frame_decode import frame_file_problem
from slowfast_custom.data.keyframes import clip_frame_indices, second_to_frame
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_open, iter_text_lines, read_text
from slowfast_custom.video.frames import count_frames

Severity = Literal["error", "warning"]
MAX_PER_KIND = 20  # problems of one kind reported per file before summarising the rest
FIX_SUFFIX = ".fixed.csv"
FIX_HINT = "Run tools/check_dataset.py DIR --fix"
ROW_HINTS = {"gt": "Ground-truth rows are video_id,second,x1,y1,x2,y2,action_id,person_id (AVA's format)",
             "predicted": "Predicted-box rows are video_id,second,x1,y1,x2,y2,action_id,score (AVA's format)"}


@dataclass(frozen=True)
class Problem:
    path: str
    line: Optional[int]
    message: str
    hint: str = ""
    severity: Severity = "error"
    fix: str = ""  # the file --fix repairs for this problem (written to a new file)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.severity}: {self.message}" + (f". {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class SplitFiles:
    frame_lists: Sequence[Path]
    gt_boxes: Sequence[Path]
    predicted_boxes: Sequence[Path]


@dataclass(frozen=True)
class CheckSpec:
    """The files and timing to check; ``check_spec_from_cfg`` fills it from a config."""

    frame_dir: Path
    splits: Dict[str, SplitFiles]  # "train", "val"
    label_map: Path
    exclusions: Sequence[Path] = ()
    fps: float = 30.0  # AVA.FPS
    start_sec: int = 0  # AVA.START_SEC
    clip_frames: int = 32  # DATA.NUM_FRAMES
    clip_step: float = 2.0  # frames between sampled frames: SAMPLING_RATE * AVA.FPS / DATA.TARGET_FPS
    num_classes: Optional[int] = None  # MODEL.NUM_CLASSES


def check_spec_from_cfg(cfg) -> CheckSpec:
    """The files ``tools/run_net.py`` would read with ``cfg`` (after ``finalize_config``)."""
    ava = cfg.AVA
    ann, lists = Path(ava.ANNOTATION_DIR), Path(ava.FRAME_LIST_DIR)
    return CheckSpec(
        frame_dir=Path(ava.FRAME_DIR),
        splits={
            "train": SplitFiles([lists / f for f in ava.TRAIN_LISTS], [ann / f for f in ava.TRAIN_GT_BOX_LISTS],
                                [ann / f for f in ava.TRAIN_PREDICT_BOX_LISTS]),
            "val": SplitFiles([lists / f for f in ava.TEST_LISTS], [ann / ava.GROUNDTRUTH_FILE],
                              [ann / f for f in ava.TEST_PREDICT_BOX_LISTS]),
        },
        label_map=ann / ava.LABEL_MAP_FILE,
        exclusions=[ann / ava.EXCLUSION_FILE],
        fps=float(ava.FPS),
        start_sec=int(ava.START_SEC),
        clip_frames=int(cfg.DATA.NUM_FRAMES),
        clip_step=cfg.DATA.SAMPLING_RATE * float(ava.FPS) / cfg.DATA.TARGET_FPS,
        num_classes=int(ava.MAX_ACTION_ID or cfg.MODEL.NUM_CLASSES),
    )


@dataclass
class FrameListEntry:
    path: str
    line: int


@dataclass
class CheckReport:
    problems: List[Problem] = field(default_factory=list)  # each kind of problem of a file at most MAX_PER_KIND + 1
    _counts: Dict[Tuple[str, str], List[Problem]] = field(default_factory=dict)

    @property
    def errors(self) -> List[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> List[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def add(self, path, line, message, hint="", severity: Severity = "error", fix: object = "", kind="") -> None:
        """Record a problem; beyond MAX_PER_KIND of one ``kind`` in one file, only count it."""
        problem = Problem(str(path), line, message, hint, severity, str(fix))
        same = self._counts.setdefault((str(path), kind or message), [])
        same.append(problem)
        if len(same) <= MAX_PER_KIND:
            self.problems.append(problem)

    def add_error(self, err: DataError, hint: str = "", kind="") -> None:
        """Record a reader's DataError; ``hint`` is used when the error has none."""
        self.add(err.path, err.line, err.message, err.hint or hint, kind=kind)

    def finish(self) -> None:
        for (path, _), same in self._counts.items():
            if len(same) > MAX_PER_KIND:
                rest = same[MAX_PER_KIND:]
                self.problems.append(Problem(path, rest[0].line, f"{len(rest)} more like the above, lines "
                                             f"{rest[0].line}-{rest[-1].line}", rest[0].hint, rest[0].severity,
                                             rest[0].fix))
        self.problems.sort(key=lambda p: (p.path, p.line or 0))

    def count(self, severity: Severity) -> int:
        """All problems of ``severity``, including those only counted."""
        return sum(1 for same in self._counts.values() for p in same if p.severity == severity)

    def text(self) -> str:
        lines = [str(p) for p in self.problems]
        lines.append(f"{self.count('error')} errors, {self.count('warning')} warnings")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Frame lists
# ---------------------------------------------------------------------------


def check_frame_list(path: Path, report: CheckReport) -> Dict[str, List[FrameListEntry]]:
    """Every format problem of one frame list; returns what could be read ``{video: [entries]}``."""
    videos: Dict[str, List[FrameListEntry]] = {}
    if not path.is_file():
        report.add(path, None, "frame list not found", FIX_HINT + " to build it from frames/", fix=path)
        return videos
    last: Dict[str, Tuple[int, int]] = {}
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.rstrip("\n\r")
            if not text.strip():
                continue
            if line_no == 1:
                if text.split()[0] == FRAME_LIST_HEADER.split()[0]:
                    continue
                report.add(path, 1, f"no header line ({FRAME_LIST_HEADER}); upstream PySlowFast's reader would "
                           "skip this first frame", FIX_HINT, severity="warning", fix=path)
            if "," in text or "\t" in text:
                report.add(path, line_no, "frame lists are separated by single spaces, this row has commas or tabs",
                           FIX_HINT, fix=path, kind="separator")
                cols = [c for c in re.split(r"[,\s]+", text) if c]
            else:
                cols = text.split()
                if len(cols) != 5:
                    report.add(path, line_no, f"expected 5 columns ({FRAME_LIST_HEADER}), found {len(cols)}",
                               FIX_HINT, fix=path, kind="columns")
            if len(cols) < 4:
                continue
            video, frame_id, frame_path = cols[0], cols[2], cols[3]
            try:
                index = int(frame_id)
            except ValueError:
                report.add(path, line_no, f"frame_id {frame_id!r} is not an integer", FIX_HINT, fix=path,
                           kind="frame_id")
                continue
            if video in last and index <= last[video][0]:
                report.add(path, line_no, f"frames of video {video} are not sorted (frame_id {index} after "
                           f"{last[video][0]} on line {last[video][1]})", FIX_HINT, fix=path, kind="sorted")
            last[video] = (index, line_no)
            if _frame_path_escapes(path, line_no, frame_path, report):
                continue
            videos.setdefault(video, []).append(FrameListEntry(frame_path, line_no))
    return videos


def _frame_path_escapes(path: Path, line_no: int, frame_path: str, report: CheckReport) -> bool:
    """Report a frame path that would leave the frames folder (absolute or with ``..``); the loader refuses it."""
    problem = frame_path_problem(frame_path)
    if problem:
        report.add(path, line_no, problem, "Frame paths are <video>/<file>.jpg relative to the frames folder. "
                   + FIX_HINT, fix=path, kind="escaping path")
    return bool(problem)


# ---------------------------------------------------------------------------
# Box files
# ---------------------------------------------------------------------------


def check_box_file(path: Path, kind: BoxKind, label_ids: Optional[Set[int]], num_classes: Optional[int],
                   report: CheckReport) -> List[BoxRow]:
    """Every row problem of one box CSV; returns the rows that parsed."""
    rows: List[BoxRow] = []
    if not path.is_file():
        report.add(path, None, f"{'predicted' if kind == 'predicted' else 'ground-truth'} box file not found",
                   "Write it with tools/import_via.py, or fix the file name in the config (AVA.*)")
        return rows
    seen: Dict[str, int] = {}
    no_score: List[int] = []
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.strip()
            if not text:
                continue
            if "," not in text and len(text.split()) >= 7:
                report.add(path, line_no, "box files are comma-separated, this row is not", FIX_HINT, fix=path,
                           kind="separator")
                text = ",".join(text.split())
            normalised = ",".join(c.strip() for c in text.split(","))
            if normalised in seen:
                report.add(path, line_no, f"duplicate of line {seen[normalised]}", FIX_HINT, fix=path,
                           kind="duplicate")
                continue
            seen[normalised] = line_no
            if kind == "predicted" and len(normalised.split(",")) == 7:
                no_score.append(line_no)
                continue
            try:
                row = parse_box_row(path, line_no, normalised, kind)
            except DataError as err:
                report.add_error(err, ROW_HINTS[kind], kind="row")
                continue
            if row.action_id is not None and label_ids is not None and row.action_id not in label_ids:
                report.add(path, line_no, f"action_id {row.action_id} is not in the label map",
                           "Add it to the label map or remove the row", kind="label map")
            elif row.action_id is not None and num_classes is not None and row.action_id > num_classes:
                report.add(path, line_no, f"action_id {row.action_id} is larger than MODEL.NUM_CLASSES "
                           f"{num_classes}", "Set MODEL.NUM_CLASSES to the largest action id", kind="num classes")
            rows.append(row)
    if no_score:
        report.add(path, no_score[0], f"predicted-box file without a score column ({len(no_score)} rows of 7 "
                   "columns)", "Predicted boxes need the detector score as the 8th column "
                   "(video_id,second,x1,y1,x2,y2,action_id,score); use tools/detect_and_track.py output or "
                   "add a score of 1.0")
    return rows


# ---------------------------------------------------------------------------
# The whole dataset
# ---------------------------------------------------------------------------


def _check_windows(video: str, rows: Sequence[Tuple[Path, BoxRow]], entries: List[FrameListEntry],
                   frame_list: Path, spec: CheckSpec, report: CheckReport, checked: Set[str]) -> None:
    """The keyframe and the clip's frames of every labelled second of ``video`` exist."""
    n = len(entries)
    half = spec.clip_frames * spec.clip_step / 2.0
    first_row = {}
    for path, row in rows:
        first_row.setdefault(row.second, (path, row))
    clamped = 0
    for second, (path, row) in sorted(first_row.items()):
        center = second_to_frame(second, spec.fps, spec.start_sec)
        if not 0 <= center < n:
            report.add(path, row.line, f"video {video} second {second} is frame {center}, but {frame_list.name} "
                       f"lists {n} frames (AVA.FPS {spec.fps:g}, AVA.START_SEC {spec.start_sec})",
                       "Set AVA.FPS / AVA.START_SEC to how the frames were extracted, or extract the whole video",
                       kind="past end")
            continue
        if center - half < 0 or center + half > n - 1:
            clamped += 1
        for index in sorted(set(clip_frame_indices(center, spec.clip_frames, spec.clip_step, n))):
            entry = entries[index]
            if entry.path in checked:
                continue
            checked.add(entry.path)
            frame = spec.frame_dir / entry.path
            if not frame.is_file():
                report.add(frame_list, entry.line, f"frame {frame} is missing (clip around video {video} second "
                           f"{second})", f"Re-extract video {video} (tools/extract_frames.py)", kind="missing frame")
            else:
                _check_frame_content(frame, frame_list, entry.line, video, report)
    if clamped:
        report.add(frame_list, entries[0].line, f"video {video}: the clip around {clamped} labelled seconds runs "
                   "past the video's first or last frame, which is repeated to fill it", severity="warning",
                   hint="Leave the first and last seconds unlabelled (tools/export_via.py does)")


def _check_frame_content(frame: Path, frame_list: Path, line: int, video: str, report: CheckReport) -> None:
    """A frame training reads must be a whole image: its header and end marker are read (two small reads per
    frame, not a decode, so a dataset of millions of frames is checked in minutes)."""
    try:
        problem = frame_file_problem(frame)
    except OSError as err:
        problem = f"cannot be read ({err.strerror})"
    if problem:
        report.add(frame_list, line, f"frame {frame}: {problem}", f"Re-extract video {video} (tools/extract_frames.py)",
                   kind="bad frame")


def check_dataset(spec: CheckSpec) -> CheckReport:
    """Every problem of the dataset ``spec`` describes (see the module doc)."""
    report = CheckReport()
    label_ids: Optional[Set[int]] = None
    try:
        label_ids = {e.id for e in read_label_map(spec.label_map)}
        if spec.num_classes is not None and max(label_ids) > spec.num_classes:
            report.add(spec.label_map, None, f"label map ids go up to {max(label_ids)}, MODEL.NUM_CLASSES is "
                       f"{spec.num_classes}", f"Train with MODEL.NUM_CLASSES {max(label_ids)}")
    except DataError as err:
        report.add_error(err, 'Label maps hold blocks like item { name: "walk" id: 1 }')
    for path in spec.exclusions:
        try:
            read_exclusions(path)
        except DataError as err:
            report.add_error(err, "Exclusion rows are video_id,second; an empty file excludes nothing")
    if not spec.frame_dir.is_dir():
        report.add(spec.frame_dir, None, "frames folder not found", "Extract the frames (tools/extract_frames.py)")

    split_of_video: Dict[str, Tuple[str, Path]] = {}
    for split, files in spec.splits.items():
        videos: Dict[str, Tuple[List[FrameListEntry], Path]] = {}
        for path in files.frame_lists:
            listed = check_frame_list(path, report)
            for video, entries in listed.items():
                if video in split_of_video and split_of_video[video][0] != split:
                    other = split_of_video[video]
                    report.add(path, entries[0].line, f"video {video} is in the {split} list and in the {other[0]} "
                               f"list {other[1]}", "A video belongs to one split; remove it from one list")
                split_of_video.setdefault(video, (split, path))
                videos[video] = (entries, path)
        boxed: Dict[str, List[Tuple[Path, BoxRow]]] = defaultdict(list)
        for kind, paths in (("gt", files.gt_boxes), ("predicted", files.predicted_boxes)):
            for path in paths:
                for row in check_box_file(path, kind, label_ids, spec.num_classes, report):  # type: ignore[arg-type]
                    boxed[row.video_id].append((path, row))
        for video in sorted(set(boxed) - set(videos)):
            path, row = boxed[video][0]
            fix = files.frame_lists[0] if files.frame_lists and (spec.frame_dir / video).is_dir() else ""
            report.add(path, row.line, f"video {video} has boxes but is not in the {split} frame lists "
                       f"({', '.join(p.name for p in files.frame_lists)})",
                       f"Add it to the frame list ({FIX_HINT}) or remove its rows", fix=fix, kind="no frames")
        for video in sorted(set(videos) - set(boxed)):
            entries, path = videos[video]
            report.add(path, entries[0].line, f"video {video} is in the {split} frame list but has no boxes",
                       "It is not used; remove it or label it", severity="warning", kind="no boxes")
        checked: Set[str] = set()
        for video in sorted(set(boxed) & set(videos)):
            entries, path = videos[video]
            _check_windows(video, boxed[video], entries, path, spec, report, checked)
    report.finish()
    return report


# ---------------------------------------------------------------------------
# Repairs
# ---------------------------------------------------------------------------


def fixed_path(path: Path) -> Path:
    """Where ``--fix`` writes the repaired copy of ``path``: ``<stem>.fixed.csv`` beside it."""
    return path.with_name(path.stem + FIX_SUFFIX)


def _videos_named_in(path: Path) -> List[str]:
    """The video column of a frame list, however it is separated, in first-seen order."""
    videos: List[str] = []
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            cols = [c for c in re.split(r"[,\s]+", line.strip()) if c]
            if not cols or (line_no == 1 and cols[0] == FRAME_LIST_HEADER.split()[0]):
                continue
            if cols[0] not in videos:
                videos.append(cols[0])
    return videos


def _box_videos(paths: Sequence[Path]) -> List[str]:
    videos: List[str] = []
    for path in paths:
        if path.is_file():
            for line in read_text(path).splitlines():
                cols = [c for c in re.split(r"[,\s]+", line.strip()) if c]
                if cols and cols[0] not in videos:
                    videos.append(cols[0])
    return videos


def fix_dataset(spec: CheckSpec, report: CheckReport) -> List[Tuple[Path, Path]]:
    """Write repaired copies of the files with fixable problems; return ``[(original, fixed copy)]``.

    A frame list is rebuilt from ``frames/`` for the videos it names plus the
    videos of its split's box files that have frames; a box file is rewritten
    by ``_rewrite_box_file``.
    """
    to_fix = {Path(p.fix) for p in report.problems if p.fix}
    written: List[Tuple[Path, Path]] = []
    for files in spec.splits.values():
        box_files = list(files.gt_boxes) + list(files.predicted_boxes)
        for path in files.frame_lists:
            if path not in to_fix:
                continue
            videos = _videos_named_in(path) if path.is_file() else []
            videos += [v for v in _box_videos(box_files) if v not in videos]
            videos = [v for v in videos if (spec.frame_dir / v).is_dir()]
            for video in videos:
                # A gap in the numbering would shift every later frame in time: no mechanical repair.
                if count_frames(spec.frame_dir / video, video) is None:
                    raise DataError(spec.frame_dir / video, f"frames of video {video} are not numbered 1..N without "
                                    "gaps, so its frame list cannot be rebuilt", hint="Re-extract the video")
            if videos:
                write_frame_list(fixed_path(path), frame_list_from_dir(spec.frame_dir, videos))
                written.append((path, fixed_path(path)))
        for path in box_files:
            if path in to_fix and path.is_file():
                _rewrite_box_file(path, fixed_path(path))
                written.append((path, fixed_path(path)))
    return written


def _rewrite_box_file(path: Path, target: Path) -> None:
    """Comma-separate, sort by (video, second) and drop exact duplicate rows; other content is kept as is."""
    rows: Dict[str, None] = {}
    for line in read_text(path).splitlines():
        text = line.strip()
        if not text:
            continue
        cols = [c.strip() for c in text.split(",")] if "," in text else text.split()
        rows.setdefault(",".join(cols), None)

    def key(text: str):
        cols = text.split(",")
        second = int(cols[1]) if len(cols) > 1 and cols[1].isdigit() else -1
        return cols[0], second

    with atomic_open(target, "w", encoding="utf-8") as f:
        for text in sorted(rows, key=key):
            f.write(text + "\n")
