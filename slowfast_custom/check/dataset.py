"""Check an AVA-format dataset folder before training; repair what is mechanical into new files.

``check_dataset(spec)`` reads every file the config names and returns every
problem found (not only the first), each with its file, line and a hint:

* frame lists: not space-separated, not 5 columns, a video id with spaces, non-integer or unsorted
  frame ids, images out of time order (``cam1_000412.jpg`` listed before
  ``cam1_000007.jpg``), images of the video's folder the list leaves out, no
  header;
* splits: train and val seconds of one video closer than the clip's span
  (``timing.split_distance_sec``; disjoint time ranges of a video may be in
  both splits);
* frames: a labelled second whose keyframe is past the video's end, frame
  files missing from the clip window around a labelled second (warning when
  the window runs past the video's ends, where frames are repeated), frames
  that are not whole images, smaller than ``MIN_FRAME_SIDE`` or of another
  size than the video's first frame (sizes from the image headers);
* videos present in box files but not in the split's frame lists (error), or
  the other way round (warning);
* box files: unparsable rows, boxes out of [0, 1] (repairable when a hair
  outside, by at most ``BOX_TOLERANCE``) or inverted, predicted-box files
  without a score column, action ids above MODEL.NUM_CLASSES, duplicate rows;
  ids missing from the (evaluation) label map but within MODEL.NUM_CLASSES are
  trained and not evaluated, as AVA's 80 trained and 60 evaluated ids: one
  information line with a count;
* the label map and exclusion files themselves;
* a configured file that is missing: files of that folder whose names differ
  only by spaces, case, separators or the extension are named and checked in
  its place.

Each kind of problem is counted (``CheckReport.text`` ends with how many rows
each kind affects).

``fix_dataset`` rebuilds frame lists from ``frames/`` (sorted by image
number, space separated, 5 columns) and rewrites box CSVs comma-separated,
sorted, without duplicate rows and with hair-outside boxes clipped, each to
``<name>.fixed.csv`` next to the original, which is never modified.
"""

from __future__ import annotations

import re
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence, Set, Tuple

from slowfast_custom.ava.formats import (
    BOX_ROW_HINTS,
    NO_SCORE,
    REBUILD_HINT,
    SPACED_ID_HINT,
    BoxKind,
    BoxRow,
    FileProblem,
    FrameListRow,
    box_sources,
    clip_to_frame,
    is_frame_list_header,
    read_label_map,
    scan_box_csv,
    scan_exclusions,
    scan_frame_list,
    spaced_video_id,
    write_frame_list,
)
from slowfast_custom.ava.images import frame_size_problem, inspect_frame_file
from slowfast_custom.ava.layout import DEFAULT_FPS, ROLE_NAMES
from slowfast_custom.ava.naming import frame_list_from_dir
from slowfast_custom.ava.timing import (
    SPLIT_OVERLAP_HINT,
    clip_frame_indices,
    clip_runs_past_ends,
    second_to_frame,
    split_distance_sec,
    split_overlap_problem,
)
from slowfast_custom.check.class_counts import class_count_findings
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_open, iter_text_lines, read_text
from slowfast_custom.video.frames import count_frames

Severity = Literal["error", "warning", "info"]
# The config keys naming each split's files (values relative to AVA.FRAME_LIST_DIR / AVA.ANNOTATION_DIR).
LIST_KEYS = {"train": "AVA.TRAIN_LISTS", "val": "AVA.TEST_LISTS"}
BOX_KEYS = {("train", "gt"): "AVA.TRAIN_GT_BOX_LISTS", ("train", "predicted"): "AVA.TRAIN_PREDICT_BOX_LISTS",
            ("val", "gt"): "AVA.GROUNDTRUTH_FILE", ("val", "predicted"): "AVA.TEST_PREDICT_BOX_LISTS"}
MAX_PER_KIND = 20  # problems of one kind reported per file before summarising the rest
FIX_SUFFIX = ".fixed.csv"
FIX_HINT = "Run tools/check_dataset.py DIR --fix"


@dataclass(frozen=True)
class Problem:
    path: str
    line: Optional[int]
    message: str
    hint: str = ""
    severity: Severity = "error"
    fix: str = ""  # the file --fix repairs for this problem (written to a new file)
    kind: str = ""  # what kind of problem, for the counts per kind
    rows: int = 1  # rows it stands for (an information line may count many)

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
    fps: float = DEFAULT_FPS  # AVA.FPS
    start_sec: int = 0  # AVA.START_SEC
    clip_frames: int = 32  # DATA.NUM_FRAMES
    clip_step: float = 2.0  # frames between sampled frames: SAMPLING_RATE * AVA.FPS / DATA.TARGET_FPS
    num_classes: Optional[int] = None  # MODEL.NUM_CLASSES
    valid_seconds: Optional[Tuple[int, int]] = None  # AVA.VALID_SECONDS: rows outside are not trained on
    annotation_dir: Optional[Path] = None  # AVA.ANNOTATION_DIR: searched (sub-folders too) for misnamed files
    frame_list_dir: Optional[Path] = None  # AVA.FRAME_LIST_DIR
    allow_split_overlap: bool = False  # AVA.ALLOW_SPLIT_OVERLAP: train and val clips of a video may share frames


def check_spec_from_cfg(cfg) -> CheckSpec:
    """The files ``tools/run_net.py`` would read with ``cfg`` (after ``finalize_config``)."""
    ava = cfg.AVA
    ann, lists = Path(ava.ANNOTATION_DIR), Path(ava.FRAME_LIST_DIR)

    def split_files(frame_lists, gt, predicted) -> SplitFiles:
        sources = box_sources([ann / f for f in gt], [ann / f for f in predicted])
        return SplitFiles([lists / f for f in frame_lists], [p for p, kind in sources if kind == "gt"],
                          [p for p, kind in sources if kind == "predicted"])

    return CheckSpec(
        frame_dir=Path(ava.FRAME_DIR),
        splits={
            "train": split_files(ava.TRAIN_LISTS, ava.TRAIN_GT_BOX_LISTS, ava.TRAIN_PREDICT_BOX_LISTS),
            "val": split_files(ava.TEST_LISTS, [ava.GROUNDTRUTH_FILE], ava.TEST_PREDICT_BOX_LISTS),
        },
        label_map=ann / ava.LABEL_MAP_FILE,
        exclusions=[ann / ava.EXCLUSION_FILE],
        fps=float(ava.FPS),
        start_sec=int(ava.START_SEC),
        clip_frames=int(cfg.DATA.NUM_FRAMES),
        clip_step=cfg.DATA.SAMPLING_RATE * float(ava.FPS) / cfg.DATA.TARGET_FPS,
        num_classes=int(ava.MAX_ACTION_ID or cfg.MODEL.NUM_CLASSES),
        valid_seconds=tuple(ava.VALID_SECONDS) if ava.VALID_SECONDS else None,
        annotation_dir=ann,
        frame_list_dir=lists,
        allow_split_overlap=bool(ava.ALLOW_SPLIT_OVERLAP),
    )


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

    def add(self, path, line, message, hint="", severity: Severity = "error", fix: object = "", kind="",
            rows: int = 1) -> None:
        """Record a problem; beyond MAX_PER_KIND of one ``kind`` in one file, only count it."""
        problem = Problem(str(path), line, message, hint, severity, str(fix), kind, rows)
        same = self._counts.setdefault((str(path), kind or message), [])
        same.append(problem)
        if len(same) <= MAX_PER_KIND:
            self.problems.append(problem)

    def add_error(self, err: DataError, hint: str = "", kind="") -> None:
        """Record a reader's DataError; ``hint`` is used when the error has none."""
        self.add(err.path, err.line, err.message, err.hint or hint, kind=kind)

    def add_problem(self, problem: FileProblem, hint: str = "") -> None:
        """Record a grammar's problem (``hint`` when it has none); a repairable one names its file for --fix."""
        self.add(problem.path, problem.line, problem.message, problem.hint or hint, problem.severity,
                 fix=problem.path if problem.repairable else "", kind=problem.kind)

    def finish(self) -> None:
        for (path, _), same in self._counts.items():
            if len(same) > MAX_PER_KIND:
                rest = same[MAX_PER_KIND:]
                self.problems.append(Problem(path, rest[0].line, f"{len(rest)} more like the above, lines "
                                             f"{rest[0].line}-{rest[-1].line}", rest[0].hint, rest[0].severity,
                                             rest[0].fix, rest[0].kind))
        self.problems.sort(key=lambda p: (p.path, p.line or 0))

    def count(self, severity: Severity) -> int:
        """All problems of ``severity``, including those only counted."""
        return sum(1 for same in self._counts.values() for p in same if p.severity == severity)

    def by_kind(self) -> List[Tuple[Severity, str, int, int, bool]]:
        """``(severity, kind, rows, files, repairable by --fix)`` per kind of problem, most frequent first."""
        kinds: Dict[Tuple[str, str], List[Problem]] = defaultdict(list)
        for same in self._counts.values():
            for p in same:
                kinds[(p.severity, p.kind or "other")].append(p)
        rows = [(sev, kind, sum(p.rows for p in ps), len({p.path for p in ps}), all(p.fix for p in ps))
                for (sev, kind), ps in kinds.items()]
        order = {"error": 0, "warning": 1, "info": 2}
        return sorted(rows, key=lambda r: (order[r[0]], -r[2], r[1]))  # type: ignore[return-value]

    def text(self) -> str:
        lines = [str(p) for p in self.problems]
        kinds = self.by_kind()
        if kinds:
            lines.append("by kind:")
            for severity, kind, n, files, fixable in kinds:
                lines.append(f"  {severity:7s} {n:7d} rows: {kind}" + (f" ({files} files)" if files > 1 else "")
                             + (" [--fix repairs]" if fixable and severity != "info" else ""))
        lines.append(f"{self.count('error')} errors, {self.count('warning')} warnings")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Frame lists
# ---------------------------------------------------------------------------


def check_frame_list(path: Path, report: CheckReport) -> Dict[str, List[FrameListRow]]:
    """Every format problem of one frame list (the loader's grammar, collecting); returns the rows read
    ``{video: [rows]}``."""
    videos: Dict[str, List[FrameListRow]] = {}
    if not path.is_file():
        report.add(path, None, "frame list not found", FIX_HINT + " to build it from frames/", fix=path)
        return videos
    for item in scan_frame_list(path):
        if isinstance(item, FileProblem):
            report.add_problem(item)
        else:
            videos.setdefault(item.video, []).append(item)
    return videos


def check_folder_covered(video: str, entries: List[FrameListRow], frame_list: Path, frame_dir: Path,
                         report: CheckReport) -> None:
    """The list names every image of ``frames/<video>/``: one left out shifts every later frame in time."""
    folder = frame_dir / video
    if not folder.is_dir():
        return
    listed = {Path(e.path).name for e in entries}
    left_out = [rel for rel in frame_list_from_dir(frame_dir, [video])[video] if Path(rel).name not in listed]
    if left_out:
        report.add(frame_list, entries[0].line, f"video {video}: {len(left_out)} images of {folder} are not in the "
                   f"list (first: {Path(left_out[0]).name}), so later frames are shifted in time", REBUILD_HINT,
                   fix=frame_list, kind="images left out of the frame list", rows=len(left_out))


# ---------------------------------------------------------------------------
# Configured files under other names
# ---------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s_\-.]+")
_EXTENSION = re.compile(r"\.[A-Za-z]+$")


def _name_key(name: str) -> str:
    """A file name up to case, spaces, separators and an alphabetic extension (``AVA_VAL_V2.2.CSV`` ->
    ``avavalv22``)."""
    return _SEPARATORS.sub("", _EXTENSION.sub("", name.strip()).lower())


def near_misses(path: Path, roots: Sequence[Path] = (), names: Sequence[str] = ()) -> List[Path]:
    """Files whose names differ from ``path``'s, or from one of ``names`` (what AVA's releases and upstream's recipes
    call a file of the same role), only by spaces, case, separators or the extension: beside ``path`` first, then
    anywhere under ``roots`` (sub-folders included); the configured name's matches before other names', nearer
    folders first."""
    keys = [_name_key(path.name)] + [_name_key(Path(n).name) for n in names]
    found: Dict[Path, Tuple[int, int, str]] = {}
    for depth, root in enumerate([path.parent, *roots]):
        if not root.is_dir():
            continue
        for candidate in (root.iterdir() if depth == 0 else root.rglob("*")):
            if candidate.is_file() and candidate != path and _name_key(candidate.name) in keys:
                rank = (keys.index(_name_key(candidate.name)), 0 if depth == 0 else 1 + len(candidate.parts),
                        str(candidate))
                found[candidate] = min(found.get(candidate, rank), rank)
    return sorted(found, key=found.__getitem__)


def resolve_configured(path: Path, what: str, report: CheckReport, key: str = "", root: Optional[Path] = None
                       ) -> Path:
    """``path``, or when it is missing the file probably meant, reported as an error and checked in its place.

    ``key``: the config key naming the file (its value is relative to ``root``, the annotations folder), for the
    hint; ``what``: the file's role (``ROLE_NAMES``), whose other names are looked for under ``root`` too."""
    if path.exists():
        return path
    candidates = near_misses(path, [root] if root is not None else [], ROLE_NAMES.get(what, ()))
    if not candidates:
        return path
    best = candidates[0]
    shown = best.name if best.parent == path.parent else (
        str(best.relative_to(root)) if root is not None and root in best.parents else str(best))
    others = f" (also: {', '.join(repr(p.name) for p in candidates[1:4])})" if len(candidates) > 1 else ""
    value = str(best.relative_to(root)) if root is not None and root in best.parents else str(best)
    fix = f"set {key} {value!r} in the config" if key else "set the file name in the config"
    report.add(path, None, f"{what} not found; {shown!r} is probably meant and is checked in its place below"
               f"{others}", f"Rename it to {path.name!r}, or {fix}", kind="configured file under another name")
    return best


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
    no_score: List[int] = []
    duplicates: Set[int] = set()
    not_evaluated: Dict[int, int] = defaultdict(int)  # action id -> rows
    first_not_evaluated: Optional[int] = None
    for item in scan_box_csv(path, kind):
        if isinstance(item, FileProblem):
            if item.kind == NO_SCORE:
                no_score.append(item.line)
                continue
            if item.kind == "duplicate":
                duplicates.add(item.line)
            report.add_problem(item, BOX_ROW_HINTS[kind])
            continue
        row = item
        if row.line in duplicates:
            continue
        bound = num_classes if num_classes is not None else max(label_ids or {0})
        if row.action_id is not None and row.action_id > bound:
            what = (f"larger than MODEL.NUM_CLASSES {num_classes}" if num_classes is not None
                    else "not in the label map")
            report.add(path, row.line, f"action_id {row.action_id} is {what}",
                       "Set MODEL.NUM_CLASSES to the largest action id, or remove the row", kind="action id")
        elif row.action_id is not None and label_ids is not None and row.action_id not in label_ids:
            not_evaluated[row.action_id] += 1
            first_not_evaluated = first_not_evaluated or row.line
        rows.append(row)
    if not_evaluated:
        ids = sorted(not_evaluated)
        shown = ", ".join(map(str, ids[:12])) + (", ..." if len(ids) > 12 else "")
        n = sum(not_evaluated.values())
        report.add(path, first_not_evaluated, f"{n} rows with {len(ids)} action ids not in the label map "
                   f"(ids {shown}): trained (MODEL.NUM_CLASSES {num_classes}), not evaluated",
                   "As AVA trains 80 ids and evaluates the 60 of its evaluation label map", severity="info",
                   kind="action ids trained, not evaluated", rows=n)
    if no_score:
        report.add(path, no_score[0], f"predicted-box file without a score column ({len(no_score)} rows of 7 "
                   "columns)", "Predicted boxes need the detector score as the 8th column "
                   "(video_id,second,x1,y1,x2,y2,action_id,score); use tools/detect_and_track.py output or "
                   "add a score of 1.0")
    return rows


# ---------------------------------------------------------------------------
# The whole dataset
# ---------------------------------------------------------------------------


def _check_windows(video: str, rows: Sequence[Tuple[Path, BoxRow]], entries: List[FrameListRow],
                   frame_list: Path, spec: CheckSpec, report: CheckReport, checked: Set[str]) -> None:
    """The keyframe and the clip's frames of every labelled second of ``video`` exist."""
    n = len(entries)
    first_row = {}
    outside = []
    for path, row in rows:
        if spec.valid_seconds and not spec.valid_seconds[0] <= row.second <= spec.valid_seconds[1]:
            outside.append((path, row))
            continue
        first_row.setdefault(row.second, (path, row))
    if outside:
        path, row = outside[0]
        report.add(path, row.line, f"video {video}: {len(outside)} rows outside AVA.VALID_SECONDS "
                   f"{spec.valid_seconds[0]}-{spec.valid_seconds[1]} are not used", severity="info",
                   kind="rows outside AVA.VALID_SECONDS", rows=len(outside))
    clamped = 0
    first_size = _first_frame_size(video, entries[0], frame_list, spec, report)
    for second, (path, row) in sorted(first_row.items()):
        center = second_to_frame(second, spec.fps, spec.start_sec)
        if not 0 <= center < n:
            report.add(path, row.line, f"video {video} second {second} is frame {center}, but {frame_list.name} "
                       f"lists {n} frames (AVA.FPS {spec.fps:g}, AVA.START_SEC {spec.start_sec})",
                       "Set AVA.FPS / AVA.START_SEC to how the frames were extracted, or extract the whole video",
                       kind="past end")
            continue
        if clip_runs_past_ends(center, spec.clip_frames, spec.clip_step, n):
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
                _check_frame_content(frame, frame_list, entry.line, video, report, first_size,
                                     Path(entries[0].path).name)
    if clamped:
        report.add(frame_list, entries[0].line, f"video {video}: the clip around {clamped} labelled seconds runs "
                   "past the video's first or last frame, which is repeated to fill it", severity="warning",
                   hint="Leave the first and last seconds unlabelled (tools/export_via.py does)")


def _first_frame_size(video: str, first: FrameListRow, frame_list: Path, spec: CheckSpec,
                      report: CheckReport) -> Optional[Tuple[int, int]]:
    """The size every frame of ``video`` must have (its first frame's), reported once when it is too small; None
    when the first frame has no readable size (its own problem is reported where a clip reads it)."""
    try:
        _, size = inspect_frame_file(spec.frame_dir / first.path)
    except OSError:
        return None
    problem = size and frame_size_problem(size)
    if problem:
        report.add(frame_list, first.line, f"video {video}: {problem}",
                   f"Re-extract video {video} from its source (tools/extract_frames.py)", kind="frame size")
    return size


def _check_frame_content(frame: Path, frame_list: Path, line: int, video: str, report: CheckReport,
                         first_size: Optional[Tuple[int, int]], first_name: str) -> None:
    """A frame training reads must be a whole image of the video's size: its header and end marker are read
    (two small reads per frame, not a decode, so a dataset of millions of frames is checked in minutes)."""
    try:
        problem, size = inspect_frame_file(frame)
    except OSError as err:
        problem, size = f"cannot be read ({err.strerror})", None
    if problem:
        report.add(frame_list, line, f"frame {frame}: {problem}", f"Re-extract video {video} (tools/extract_frames.py)",
                   kind="bad frame")
    elif size and size != first_size:  # a first frame too small is reported once, by _first_frame_size
        problem = frame_size_problem(size, first_size, f"the video's first frame {first_name}")
        if problem:
            report.add(frame_list, line, f"frame {frame}: {problem}",
                       f"Re-extract video {video} (tools/extract_frames.py)", kind="frame size")


def _check_splits_apart(boxed_in: Dict[str, Dict[str, List[Tuple[Path, BoxRow]]]], spec: CheckSpec,
                        report: CheckReport) -> None:
    """An error at the first train row of each video whose train and val seconds are closer than the clip's span
    (the rule training applies, ``timing.split_overlap_problem``)."""
    train, val = boxed_in.get("train", {}), boxed_in.get("val", {})
    distance = split_distance_sec(spec.clip_frames, spec.clip_step, spec.fps)
    for video in sorted(set(train) & set(val)):
        found = split_overlap_problem(video, (r.second for _, r in train[video]), (r.second for _, r in val[video]),
                                      distance)
        if found:
            message, seconds = found
            path, row = next((p, r) for p, r in train[video] if r.second in seconds)
            report.add(path, row.line, message, SPLIT_OVERLAP_HINT, kind="split overlap")


def check_dataset(spec: CheckSpec) -> CheckReport:
    """Every problem of the dataset ``spec`` describes (see the module doc)."""
    report = CheckReport()
    label_ids: Optional[Set[int]] = None
    ann = spec.annotation_dir
    label_map = resolve_configured(spec.label_map, "label map", report, "AVA.LABEL_MAP_FILE", ann)
    try:
        label_ids = {e.id for e in read_label_map(label_map)}
        if spec.num_classes is not None and max(label_ids) > spec.num_classes:
            report.add(label_map, None, f"label map ids go up to {max(label_ids)}, MODEL.NUM_CLASSES is "
                       f"{spec.num_classes}", f"Train with MODEL.NUM_CLASSES {max(label_ids)}")
    except DataError as err:
        report.add_error(err, 'Label maps hold blocks like item { name: "walk" id: 1 }')
    for path in spec.exclusions:
        path = resolve_configured(path, "exclusion file", report, "AVA.EXCLUSION_FILE", ann)
        if not path.is_file():
            report.add(path, None, "exclusion file not found",
                       "Check the path in the config (DATA.PATH_TO_DATA_DIR / AVA.*)")
            continue
        for item in scan_exclusions(path):
            if isinstance(item, FileProblem):
                report.add_problem(item, "Exclusion rows are video_id,second; an empty file excludes nothing")
    if not spec.frame_dir.is_dir():
        report.add(spec.frame_dir, None, "frames folder not found", "Extract the frames (tools/extract_frames.py)")

    boxed_in: Dict[str, Dict[str, List[Tuple[Path, BoxRow]]]] = {}  # split -> video -> its rows
    for split, files in spec.splits.items():
        videos: Dict[str, Tuple[List[FrameListRow], Path]] = {}
        for path in files.frame_lists:
            path = resolve_configured(path, f"{split} frame list", report, LIST_KEYS[split], spec.frame_list_dir)
            listed = check_frame_list(path, report)
            for video, entries in listed.items():
                videos[video] = (entries, path)
                check_folder_covered(video, entries, path, spec.frame_dir, report)
        boxed: Dict[str, List[Tuple[Path, BoxRow]]] = defaultdict(list)
        for kind, paths in (("gt", files.gt_boxes), ("predicted", files.predicted_boxes)):
            for path in paths:
                role = f"{split} {'ground-truth' if kind == 'gt' else 'predicted'} box file"
                path = resolve_configured(path, role, report, BOX_KEYS[split, kind], ann)
                for row in check_box_file(path, kind, label_ids, spec.num_classes, report):  # type: ignore[arg-type]
                    boxed[row.video_id].append((path, row))
        boxed_in[split] = boxed
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
    if not spec.allow_split_overlap:
        _check_splits_apart(boxed_in, spec, report)
    gt_files = {split: files.gt_boxes for split, files in spec.splits.items()}  # boxes per class: check/class_counts.py
    for finding in class_count_findings(label_map, gt_files, spec.num_classes):
        report.add(**finding._asdict())
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
            if not cols or (line_no == 1 and is_frame_list_header(line)):
                continue
            spaced = spaced_video_id(line.split())
            if spaced is not None:  # the rebuilt list would name another video, or silently drop this one
                raise DataError(path, f"video id {spaced!r} has a space, so --fix cannot rebuild this list without "
                                "dropping the video", line_no, SPACED_ID_HINT)
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
        box_files = [_as_checked(p) for p in list(files.gt_boxes) + list(files.predicted_boxes)]
        for path in map(_as_checked, files.frame_lists):
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


def _as_checked(path: Path) -> Path:
    """The file ``check_dataset`` checked for a configured ``path`` (the probable one when it is missing)."""
    return path if path.exists() else next(iter(near_misses(path)), path)


def _rewrite_box_file(path: Path, target: Path) -> None:
    """Comma-separate, sort by (video, second), drop exact duplicate rows and clip boxes a hair outside the
    frame; other content is kept as is."""
    rows: Dict[str, None] = {}
    for line in read_text(path).splitlines():
        text = line.strip()
        if not text:
            continue
        cols = [c.strip() for c in text.split(",")] if "," in text else text.split()
        text = ",".join(cols)
        rows.setdefault(clip_to_frame(text) or text, None)

    def key(text: str):
        cols = text.split(",")
        second = int(cols[1]) if len(cols) > 1 and cols[1].isdigit() else -1
        return cols[0], second

    with atomic_open(target, "w", encoding="utf-8") as f:
        for text in sorted(rows, key=key):
            f.write(text + "\n")
