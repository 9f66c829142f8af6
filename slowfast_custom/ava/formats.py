"""One grammar per AVA file kind, and the readers and writers built on them.

A grammar (``scan_frame_list``, ``scan_box_csv``, ``scan_exclusions``)
yields a file's values and its problems (``FileProblem``, with file:line and
a hint) in file order. The strict readers (``read_frame_list``,
``iter_box_csv``, ``read_exclusions``; training, make_subset, import) raise
the first blocking problem (``strict``); ``check.dataset`` runs the same
grammars and collects every problem, so the two cannot disagree. Names and
paths are ``ava.naming``'s rules, frame order ``ava.timing``'s.

The formats, column by column (AVA v2.x, as PySlowFast reads them):

Frames (``frames/<video>/<video>_000001.jpg``): one JPEG per frame, numbered
from 1 with six digits (``frame_name``, ``frame_relpath``).

Frame list (``frame_lists/train.csv``, ``val.csv``): space separated, one
header line ``original_vido_id video_id frame_id path labels``, then one row
per frame: video name, integer video index, integer frame index (0-based,
increasing within a video), frame path relative to the frames folder
(``<video>/<video>_000001.jpg``), and a labels column (``""``, unused).

Box CSV, ground truth (``ava_train_v2.2.csv``): comma separated, no header:
``video_id,second,x1,y1,x2,y2,action_id,person_id``. The second is an
integer (AVA writes it zero-padded: ``0902``); coordinates are normalised to
[0, 1] with x2 > x1 and y2 > y1; the action id is 1-based; a person with
several actions has one row per action.

Box CSV, predicted (``ava_val_predicted_boxes.csv``,
``person_box_67091280_iou90/ava_detection_*_boxes_and_labels*.csv``): the
same first six columns, an action id that may be empty or ``-1`` (a detected
person matched to no annotated one: "no action", trained as background as
upstream does), and the detector's score in [0, 1] as the eighth column.
Ground-truth action ids may lie outside the evaluation label map (AVA trains
80 ids and evaluates 60): such rows are trained, not evaluated.

Label map (``*.pbtxt``): ``item { name: "..." id: N }`` blocks (the
evaluation form) or ``label { name: "..." label_id: N label_type: T }``
blocks (the ``ava_action_list_v2.2.pbtxt`` form).

Exclusions (``ava_val_excluded_timestamps_v2.2.csv``): ``video_id,second``.

Class-name file for the demo (``ava.json``): ``{"class name": index}`` with
0-based, gap-free indices into the model's output (action id - 1).
"""

from __future__ import annotations

import json
import logging
import math
import re
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Literal, Mapping, Optional, Sequence, Set, Tuple, TypeVar, Union

from slowfast_custom.ava.naming import FRAME_PATH_HINT, PathLike, frame_number, frame_path_problem
from slowfast_custom.ava.timing import frame_id_order_problem, time_order_problem
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_open, iter_text_lines, read_text

Box = Tuple[float, float, float, float]
BoxKind = Literal["gt", "predicted"]

FRAME_LIST_HEADER = "original_vido_id video_id frame_id path labels"
# A predicted box matched to no annotated person: AVA's ``*_include_negative`` files write -1, others leave the
# action column empty. Upstream's ``ava_helper`` reads both as "no action" (trained as background).
NO_ACTION = "-1"
# Labelling tools write boxes that touch the frame's edge a hair outside it (x2=1.004); by at most this much
# (a fraction of the frame) a coordinate is a repairable error that ``check_dataset --fix`` clips.
BOX_TOLERANCE = 0.01


def _require_file(path: PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"{what} not found", hint="Check the path in the config (DATA.PATH_TO_DATA_DIR / AVA.*)")
    return path


# ---------------------------------------------------------------------------
# Frame lists
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileProblem:
    """One problem of a data file, as the grammars report it: the strict readers raise the first (``error()``),
    ``tools/check_dataset.py`` collects them all."""

    path: str
    line: Optional[int]
    message: str
    hint: str = ""
    kind: str = ""  # what kind of problem (the checker counts rows per kind)
    severity: Literal["error", "warning"] = "error"
    repairable: bool = False  # ``check_dataset --fix`` repairs it in a copy
    loader_accepts: bool = False  # the strict readers read past it (the rows still mean what they say)

    @classmethod
    def of(cls, err: DataError, kind: str = "", repairable: bool = False) -> "FileProblem":
        return cls(err.path, err.line, err.message, err.hint, kind, repairable=repairable)

    @property
    def blocking(self) -> bool:
        """Whether a strict reader stops at it."""
        return self.severity == "error" and not self.loader_accepts

    def error(self) -> DataError:
        return DataError(self.path, self.message, self.line, self.hint)


T = TypeVar("T")


def strict(items: Iterable[Union[T, FileProblem]]) -> Iterator[T]:
    """The values of a grammar's output; DataError at its first blocking problem."""
    for item in items:
        if isinstance(item, FileProblem):
            if item.blocking:
                raise item.error()
        else:
            yield item


REBUILD_HINT = "Rebuild the list from frames/ with tools/check_dataset.py DIR --fix"


@dataclass(frozen=True)
class FrameListRow:
    video: str
    frame_id: int
    path: str  # relative to the frames folder
    line: int


SPACED_ID_HINT = ("Columns are separated by spaces: rename the video's folder under frames/ (and its frame files) "
                  "without spaces, then use that id in the frame list and the box files")


def spaced_video_id(cols: Sequence[str]) -> Optional[str]:
    """The video id of a frame-list row split on whitespace (``cols``) when the id itself holds spaces: its words
    come before two whole-number columns (video_idx, frame_id) followed by a path and labels; of several such
    splits, the one whose path starts with the id (``my clip 2/my clip 2_000001.jpg``). None for any other row."""
    if len(cols) <= 5 or "," in cols[0]:
        return None
    splits = [k for k in range(2, len(cols) - 3)
              if re.fullmatch(r"-?\d+", cols[k]) and re.fullmatch(r"-?\d+", cols[k + 1])]
    for k in splits:
        if " ".join(cols[k + 2:]).startswith(" ".join(cols[:k])):
            return " ".join(cols[:k])
    return " ".join(cols[:splits[-1]]) if splits else None


def is_frame_list_header(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0] == FRAME_LIST_HEADER.split()[0]


class FrameListGrammar:
    """The rules of one frame list's data rows, fed in file order (``row``); it keeps each video's last frame id
    and image number, so rows of other videos may be left out (``ava_subset`` feeds only the kept ones)."""

    def __init__(self, path: PathLike) -> None:
        self.path = str(path)
        self._last_id: Dict[str, Tuple[int, int]] = {}  # video -> (frame id, line) of its previous row
        self._last_image: Dict[str, Tuple[int, int]] = {}  # video -> (image number, line) of its previous row
        self._shuffled: Set[str] = set()  # videos reported out of time order (their later rows would repeat it)

    def _problem(self, line_no: int, message: str, kind: str, hint: str = REBUILD_HINT, **extra) -> FileProblem:
        return FileProblem(self.path, line_no, message, hint, kind, repairable=True, **extra)

    def row(self, line_no: int, text: str) -> Iterator[Union[FrameListRow, FileProblem]]:
        """The row of line ``line_no`` (a data row, not the header) after its problems; no row when it cannot
        be read."""
        cols = text.split()
        spaced = spaced_video_id(cols)
        if spaced is not None:
            # Not repairable: --fix rebuilds from the first column, which would name another (or no) video.
            yield FileProblem(self.path, line_no, f"video id {spaced!r} has a space, so this row reads as "
                              f"{len(cols)} columns ({FRAME_LIST_HEADER})", SPACED_ID_HINT, "video id")
            return
        if len(cols) != 5:
            if "," in text:
                yield self._problem(line_no, "frame lists are separated by single spaces, this row has commas",
                                    "separator")
                cols = [c for c in re.split(r"[,\s]+", text) if c]
            else:
                yield self._problem(line_no, f"expected 5 columns ({FRAME_LIST_HEADER}), found {len(cols)}",
                                    "columns")
            if len(cols) < 4:
                return
        elif "\t" in text:
            # Upstream's reader splits on any whitespace; other tools expect single spaces.
            yield self._problem(line_no, "frame lists are separated by single spaces, this row has tabs",
                                "separator", loader_accepts=True)
        video, frame_id, frame_path = cols[0], cols[2], cols[3]
        try:
            index = int(frame_id)
        except ValueError:
            yield self._problem(line_no, f"frame_id {frame_id!r} is not an integer", "frame_id")
            return
        problem = frame_id_order_problem(video, index, self._last_id.get(video))
        if problem:
            yield self._problem(line_no, problem, "sorted", "Sort it with tools/check_dataset.py DIR --fix")
        self._last_id[video] = (index, line_no)
        problem = frame_path_problem(frame_path)
        if problem:
            yield self._problem(line_no, problem, "escaping path", f"{FRAME_PATH_HINT}. {REBUILD_HINT}")
            return
        number = frame_number(frame_path)
        if number is not None:
            problem = time_order_problem(video, index, frame_path, number, self._last_image.get(video))
            if problem and video not in self._shuffled:
                self._shuffled.add(video)
                yield self._problem(line_no, problem, "images out of time order")
            self._last_image[video] = (number, line_no)
        yield FrameListRow(video, index, frame_path, line_no)

    def parse(self, line_no: int, text: str) -> FrameListRow:
        """``row`` for a strict reader: the row, or DataError at its first blocking problem."""
        return next(strict(self.row(line_no, text)))


def scan_frame_list(path: PathLike) -> Iterator[Union[FrameListRow, FileProblem]]:
    """Every row and every problem of a frame list (see the module doc), in file order."""
    grammar = FrameListGrammar(path)
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.rstrip("\n\r")
            if not text.strip():
                continue
            if line_no == 1:
                if is_frame_list_header(text):
                    continue
                yield FileProblem(str(path), 1, f"no header line ({FRAME_LIST_HEADER}); upstream PySlowFast's "
                                  "reader would skip this first frame", "Run tools/check_dataset.py DIR --fix",
                                  "header", "warning", repairable=True)
            yield from grammar.row(line_no, text)


def iter_frame_list(path: PathLike) -> Iterator[FrameListRow]:
    """The rows of a frame list; DataError (file:line) at its first problem."""
    return strict(scan_frame_list(_require_file(path, "frame list")))


def read_frame_list(path: PathLike) -> Dict[str, List[str]]:
    """Return ``{video: [frame path, ...]}`` in frame order, keeping the file's video order."""
    videos: Dict[str, List[str]] = {}
    for row in iter_frame_list(path):
        videos.setdefault(row.video, []).append(row.path)
    return videos


def write_frame_list(path: PathLike, videos: Mapping[str, Iterable[str]]) -> None:
    """Write upstream's space-separated frame list (atomically); each video's frames are iterated once."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(FRAME_LIST_HEADER + "\n")
        for video_idx, (video, frames) in enumerate(videos.items()):
            for frame_idx, frame_path in enumerate(frames):
                f.write(f'{video} {video_idx} {frame_idx} {frame_path} ""\n')


# ---------------------------------------------------------------------------
# Box CSVs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxRow:
    """One row of an AVA box CSV. ``line`` is where it was read (0 if made in memory)."""

    video_id: str
    second: int
    box: Box
    action_id: Optional[int]
    person_id: Optional[int] = None  # ground-truth files: column 8
    score: Optional[float] = None  # predicted-box files: column 8
    line: int = field(default=0, compare=False)


def _parse_float(path: Path, line_no: int, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(path, f"{name} {text!r} is not a number", line_no) from None
    if not math.isfinite(value):
        raise DataError(path, f"{name} {text!r} is not finite", line_no)
    return value


def _parse_int(path: Path, line_no: int, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataError(path, f"{name} {text!r} is not an integer", line_no) from None


def parse_box_row(path: Path, line_no: int, text: str, kind: BoxKind) -> BoxRow:
    """Parse and validate one CSV line of a box file (see the module doc for the columns)."""
    cols = [c.strip() for c in text.split(",")]
    if kind == "predicted" and len(cols) != 8:
        raise DataError(path, f"predicted-box rows need 8 columns "
                        f"(video_id,second,x1,y1,x2,y2,action_id,score), found {len(cols)}", line_no,
                        "A predicted-box file needs the detector score as its last column")
    if kind == "gt" and len(cols) not in (7, 8):
        raise DataError(path, f"ground-truth rows need 7 or 8 columns "
                        f"(video_id,second,x1,y1,x2,y2,action_id[,person_id]), found {len(cols)}", line_no)
    video_id = cols[0]
    if not video_id:
        raise DataError(path, "empty video_id", line_no)
    second = _parse_int(path, line_no, "second", cols[1])
    if second < 0:
        raise DataError(path, f"second {second} is negative", line_no)
    x1, y1, x2, y2 = (_parse_float(path, line_no, n, c) for n, c in zip(("x1", "y1", "x2", "y2"), cols[2:6]))
    for name, value in (("x1", x1), ("y1", y1), ("x2", x2), ("y2", y2)):
        if not 0.0 <= value <= 1.0:
            if -BOX_TOLERANCE <= value <= 1.0 + BOX_TOLERANCE:
                raise DataError(path, f"{name}={value} is outside [0, 1] by at most {BOX_TOLERANCE:g}", line_no,
                                f"It is within {BOX_TOLERANCE:g} of the frame's edge: tools/check_dataset.py DIR "
                                "--fix writes a copy with such boxes clipped")
            raise DataError(path, f"{name}={value} is outside [0, 1]", line_no,
                            "Box coordinates are fractions of the frame width and height")
    if x2 <= x1 or y2 <= y1:
        raise DataError(path, f"box ({x1}, {y1}, {x2}, {y2}) is empty or inverted: need x2 > x1 and y2 > y1",
                        line_no, "Columns are x1,y1,x2,y2 (left, top, right, bottom)")
    action_id: Optional[int] = None
    if cols[6] and not (kind == "predicted" and cols[6] == NO_ACTION):
        action_id = _parse_int(path, line_no, "action_id", cols[6])
        if action_id < 1:
            hint = ("-1 marks a detected person with no action, which only predicted-box files hold "
                    "(AVA.TRAIN_PREDICT_BOX_LISTS)" if kind == "gt" and action_id == -1 else "")
            raise DataError(path, f"action_id {action_id} < 1 (AVA action ids start at 1)", line_no, hint)
    elif kind == "gt":
        raise DataError(path, "empty action_id in a ground-truth file", line_no)
    person_id = score = None
    if len(cols) == 8 and kind == "gt" and cols[7]:
        person_id = _parse_int(path, line_no, "person_id", cols[7])
    if kind == "predicted":
        score = _parse_float(path, line_no, "score", cols[7])
        if not 0.0 <= score <= 1.0:
            raise DataError(path, f"score {cols[7]} is outside [0, 1]", line_no,
                            "The 8th column of a predicted-box file is the detector's score; a ground-truth file "
                            "(8th column: person id) belongs in AVA.TRAIN_GT_BOX_LISTS / AVA.GROUNDTRUTH_FILE")
    return BoxRow(video_id, second, (x1, y1, x2, y2), action_id, person_id, score, line_no)


def clip_to_frame(text: str, tolerance: float = BOX_TOLERANCE) -> Optional[str]:
    """The row with coordinates a hair outside [0, 1] (by at most ``tolerance``) clipped to it, in AVA's
    3 decimals; None when no coordinate is outside or one is outside by more (no mechanical repair)."""
    cols = [c.strip() for c in text.split(",")]
    if len(cols) < 6:
        return None
    changed = False
    for k in range(2, 6):
        try:
            value = float(cols[k])
        except ValueError:
            return None
        if 0.0 <= value <= 1.0:
            continue
        if not -tolerance <= value <= 1.0 + tolerance:
            return None
        cols[k] = f"{min(max(value, 0.0), 1.0):.3f}"
        changed = True
    return ",".join(cols) if changed else None


BOX_ROW_HINTS = {"gt": "Ground-truth rows are video_id,second,x1,y1,x2,y2,action_id,person_id (AVA's format)",
                 "predicted": "Predicted-box rows are video_id,second,x1,y1,x2,y2,action_id,score (AVA's format)"}
NO_SCORE = "no score column"  # the kind of a predicted-box row of 7 columns


def scan_box_csv(path: PathLike, kind: BoxKind) -> Iterator[Union[BoxRow, FileProblem]]:
    """Every row and every problem of a box CSV, in file order.

    Rows a hair outside the frame come clipped after their (repairable)
    problem; a duplicate row is a problem the loaders read past (upstream
    merges it into the same box).
    """
    path = Path(path)
    seen: Dict[str, Tuple[int, Optional[BoxRow]]] = {}
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.strip()
            if not text:
                continue
            if "," not in text and len(text.split()) >= 7:
                yield FileProblem(str(path), line_no, "box files are comma-separated, this row is not",
                                  "Run tools/check_dataset.py DIR --fix", "separator", repairable=True)
                text = ",".join(text.split())
            normalised = ",".join(c.strip() for c in text.split(","))
            if normalised in seen:
                first, row = seen[normalised]
                yield FileProblem(str(path), line_no, f"duplicate of line {first}", "Run tools/check_dataset.py "
                                  "DIR --fix", "duplicate", repairable=True, loader_accepts=True)
                if row is not None:
                    yield BoxRow(row.video_id, row.second, row.box, row.action_id, row.person_id, row.score, line_no)
                continue
            seen[normalised] = (line_no, None)
            try:
                row = parse_box_row(path, line_no, normalised, kind)
            except DataError as err:
                clipped = clip_to_frame(normalised)
                if kind == "predicted" and normalised.count(",") == 6:
                    yield FileProblem.of(err, NO_SCORE)
                    continue
                if clipped is None:
                    yield FileProblem.of(err, "row")
                    continue
                yield FileProblem.of(err, f"box a hair outside the frame (within {BOX_TOLERANCE:g})", True)
                try:
                    row = parse_box_row(path, line_no, clipped, kind)
                except DataError as err:
                    yield FileProblem.of(err, "row")
                    continue
            seen[normalised] = (line_no, row)
            yield row


def iter_box_csv(path: PathLike, kind: BoxKind) -> Iterator[BoxRow]:
    """Stream the validated rows of a box CSV; the first bad row raises DataError with its line."""
    return strict(scan_box_csv(_require_file(path, "box CSV"), kind))


def read_box_csv(path: PathLike, kind: BoxKind) -> List[BoxRow]:
    return list(iter_box_csv(path, kind))


def box_sources(gt_files: Sequence[Path], predicted_files: Sequence[Path]) -> List[Tuple[Path, str]]:
    """``[(file, "gt" | "predicted")]`` in reading order, a ground-truth file listed again as predicted read once.

    Upstream's AVA recipe lists ``ava_train_v2.2.csv`` in both ``TRAIN_GT_BOX_LISTS`` and
    ``TRAIN_PREDICT_BOX_LISTS``; upstream then reads its person-id column as a score and merges the rows into
    the same boxes, which leaves the ground truth as it was. Reading it once as ground truth gives that result
    without treating person ids as scores.
    """
    gt = list(dict.fromkeys(Path(p) for p in gt_files))
    repeated = [p for p in predicted_files if Path(p) in gt]
    if repeated:
        logging.getLogger(__name__).info("Read %s once, as ground truth (also listed among the predicted-box files)",
                    ", ".join(str(p) for p in repeated))
    return [(p, "gt") for p in gt] + [(Path(p), "predicted") for p in dict.fromkeys(predicted_files)
                                      if Path(p) not in gt]


def format_box_row(row: BoxRow, kind: BoxKind) -> str:
    """One CSV line in AVA's style: 3-decimal coordinates, 4-digit seconds."""
    x1, y1, x2, y2 = row.box
    action = "" if row.action_id is None else str(row.action_id)
    if kind == "predicted":
        last = f"{row.score if row.score is not None else 1.0:.6g}"
    else:
        last = "" if row.person_id is None else str(row.person_id)
    return f"{row.video_id},{row.second:04d},{x1:.3f},{y1:.3f},{x2:.3f},{y2:.3f},{action},{last}"


def write_box_csv(path: PathLike, rows: Iterable[BoxRow], kind: BoxKind) -> int:
    """Write rows atomically; return how many were written."""
    count = 0
    with atomic_open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(format_box_row(row, kind) + "\n")
            count += 1
    return count


# ---------------------------------------------------------------------------
# Label maps
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelMapEntry:
    id: int
    name: str
    label_type: Optional[str] = None  # PERSON_MOVEMENT, OBJECT_MANIPULATION, PERSON_INTERACTION


_TOKEN = re.compile(r'\s*(?:(?P<open>\{)|(?P<close>\})'
                    r'|(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s{}]+)'
                    r'|(?P<block>[A-Za-z_]+)\s*(?=\{)|(?P<comment>#[^\n]*))')


_SPACE = re.compile(r"\s*")


def read_label_map(path: PathLike) -> List[LabelMapEntry]:
    """Parse a pbtxt label map in either the ``item {name id}`` or ``label {name label_id label_type}`` form."""
    path = _require_file(path, "label map")
    text = read_text(path)
    entries: List[LabelMapEntry] = []
    pos, depth, current, block_line = 0, 0, None, 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        line_no = text.count("\n", 0, _SPACE.match(text, pos).end()) + 1
        if not match:
            raise DataError(path, f"cannot parse {text[pos:].strip().splitlines()[0][:40]!r}", line_no,
                            'Expected blocks like item { name: "..." id: 1 }')
        pos = match.end()
        if match.group("comment"):
            continue
        if match.group("block"):
            if match.group("block") not in ("item", "label") or depth:
                raise DataError(path, f"unexpected block {match.group('block')!r}", line_no,
                                "Label maps hold item { ... } or label { ... } blocks")
            current, block_line = {}, line_no
        elif match.group("open"):
            if current is None or depth:
                raise DataError(path, "unexpected '{'", line_no)
            depth = 1
        elif match.group("close"):
            if not depth:
                raise DataError(path, "unexpected '}'", line_no)
            depth = 0
            entries.append(_label_entry(path, block_line, current))
            current = None
        else:
            if not depth:
                raise DataError(path, f"{match.group('key')}: outside a block", line_no)
            value = match.group("value")
            if value.startswith('"'):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as err:
                    raise DataError(path, f"bad string {value[:40]} ({err.msg})", line_no,
                                    'Names are quoted on one line, with \\" and \\\\ for a quote and a backslash'
                                    ) from None
            current[match.group("key")] = value
    if depth:
        raise DataError(path, "unterminated block (missing '}')", block_line)
    if not entries:
        raise DataError(path, "no labels found", hint='Expected blocks like item { name: "..." id: 1 }')
    seen: Dict[int, str] = {}
    for entry in entries:
        if entry.id in seen:
            raise DataError(path, f"id {entry.id} is used twice ({seen[entry.id]!r} and {entry.name!r})")
        seen[entry.id] = entry.name
    check_distinct_names(path, text, entries)
    return sorted(entries, key=lambda e: e.id)


def check_distinct_names(path: PathLike, text: str, entries: Sequence[LabelMapEntry]) -> None:
    """DataError at the second block naming a class already named: evaluation keys classes by name, so the
    metrics would silently have one class fewer."""
    first: Dict[str, LabelMapEntry] = {}
    for entry in entries:
        name = entry.name.strip()
        if name not in first:
            first[name] = entry
            continue
        quoted = json.dumps(entry.name)
        second = text.find(quoted, text.find(quoted) + 1)
        line = text.count("\n", 0, second) + 1 if second >= 0 else None
        raise DataError(path, f"class name {entry.name!r} is used twice (ids {first[name].id} and {entry.id})", line,
                        "Give every class its own name")


def _label_entry(path: Path, line_no: int, fields: Dict[str, str]) -> LabelMapEntry:
    raw_id = fields.get("id", fields.get("label_id"))
    if "name" not in fields or raw_id is None:
        raise DataError(path, "block without both name and id (or label_id)", line_no)
    label_id = _parse_int(path, line_no, "id", raw_id)
    if label_id < 1:
        raise DataError(path, f"id {label_id} < 1 (AVA action ids start at 1)", line_no)
    return LabelMapEntry(label_id, fields["name"], fields.get("label_type"))


def label_names(entries: Sequence[LabelMapEntry]) -> Dict[int, str]:
    return {e.id: e.name for e in entries}


def write_label_map(path: PathLike, entries: Sequence[LabelMapEntry]) -> None:
    """Write the ``item { name id }`` form that AVA's evaluation reads, with ``label_type`` where an entry has one
    (upstream's reader takes only the name and id lines, so the type is kept for our own readers)."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        for e in sorted(entries, key=lambda e: e.id):
            label_type = f"  label_type: {e.label_type}\n" if e.label_type else ""
            f.write(f"item {{\n  name: {json.dumps(e.name)}\n  id: {e.id}\n{label_type}}}\n")


LABEL_TYPES = ("PERSON_MOVEMENT", "OBJECT_MANIPULATION", "PERSON_INTERACTION")  # AVA's label_type values
_TYPE_HEADER = re.compile(r"^\[(?P<type>[^\]]*)\]$")


def read_action_names(path: PathLike) -> List[LabelMapEntry]:
    """Actions from a pbtxt label map, or from a text file with one action name per line (ids 1..n).

    In a text file, a line ``[PERSON_MOVEMENT]`` (or another of AVA's ``LABEL_TYPES``) gives the actions after it
    that type, up to the next such line; ``[]`` ends a group. As in AVA, PERSON_MOVEMENT actions (poses: stand,
    sit, walk, ...) exclude each other, so the labelling app gives a person one of them at a time.
    """
    path = _require_file(path, "action list")
    if path.suffix == ".pbtxt":
        return read_label_map(path)
    entries: List[LabelMapEntry] = []
    label_type: Optional[str] = None
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        header = _TYPE_HEADER.match(name)
        if header:
            label_type = header.group("type").strip() or None
            if label_type is not None and label_type not in LABEL_TYPES:
                raise DataError(path, f"unknown action type [{label_type}]", line_no,
                                f"Use one of {', '.join(f'[{t}]' for t in LABEL_TYPES)}, or [] to end a group")
            continue
        if any(e.name == name for e in entries):
            raise DataError(path, f"action {name!r} is listed twice", line_no)
        entries.append(LabelMapEntry(len(entries) + 1, name, label_type))
    if not entries:
        raise DataError(path, "no action names", hint="Write one action name per line")
    return entries


# ---------------------------------------------------------------------------
# Exclusions and the demo's class-name file
# ---------------------------------------------------------------------------


def scan_exclusions(path: PathLike) -> Iterator[Union[Tuple[str, int], FileProblem]]:
    """Every ``(video, second)`` and every problem of an exclusion file."""
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.strip()
            if text:
                try:
                    yield parse_exclusion_row(Path(path), line_no, text)
                except DataError as err:
                    yield FileProblem.of(err, "row")


def read_exclusions(path: PathLike) -> Set[Tuple[str, int]]:
    return set(strict(scan_exclusions(_require_file(path, "exclusion file"))))


def write_exclusions(path: PathLike, excluded: Iterable[Tuple[str, int]]) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        for video, second in sorted(excluded):
            f.write(f"{video},{second:04d}\n")


def write_class_names_json(path: PathLike, entries: Sequence[LabelMapEntry]) -> None:
    """``ava.json`` for the demo: ``{name: action_id - 1}``; ids must be 1..n without gaps."""
    ids = sorted(e.id for e in entries)
    if ids != list(range(1, len(ids) + 1)):
        raise DataError(path, f"label ids must be 1..{len(ids)} without gaps to index the model output, got {ids}")
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump({e.name: e.id - 1 for e in sorted(entries, key=lambda e: e.id)}, f, indent=1)
        f.write("\n")


def read_class_names_json(path: PathLike) -> List[str]:
    """Class names indexed by model output, from an ``ava.json``-style ``{name: index}`` file."""
    path = _require_file(path, "class-name file")
    try:
        mapping = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise DataError(path, f"not valid JSON ({err.msg})", err.lineno,
                        'Expected {"class name": 0, ...} as written by the dataset tools (ava.json)') from None
    if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
        raise DataError(path, 'expected an object {"class name": index, ...} with integer indices')
    indices = sorted(mapping.values())
    if indices != list(range(len(indices))):
        missing = sorted(set(range(max(indices, default=-1) + 1)) - set(indices))
        raise DataError(path, f"indices must be 0..{len(indices) - 1} without gaps or repeats "
                        f"(missing {missing[:10]}, got {len(indices)} names)",
                        hint="Each model output needs exactly one name")
    names = [""] * len(indices)
    for name, index in mapping.items():
        names[index] = name
    return names


# ---------------------------------------------------------------------------
# Single rows, for streaming filters (tools/make_subset.py; frame lists: ``FrameListGrammar``)
# ---------------------------------------------------------------------------


def parse_exclusion_row(path: Path, line_no: int, text: str) -> Tuple[str, int]:
    """``(video, second)`` of one exclusion row."""
    cols = [c.strip() for c in text.split(",")]
    if len(cols) != 2 or not cols[0]:
        raise DataError(path, f"expected 2 columns (video_id,second), found {len(cols)}", line_no)
    return cols[0], _parse_int(path, line_no, "second", cols[1])


# ---------------------------------------------------------------------------
# The tracks file of the dataset tools
# ---------------------------------------------------------------------------

TRACKS_HEADER = "video_id,second,x1,y1,x2,y2,person_id,score"


def write_tracks_csv(path: PathLike, rows: Iterable[BoxRow]) -> int:
    """The tracks file: a header line, then ``video_id,second,x1,y1,x2,y2,person_id,score`` per person box.

    Coordinates are normalised like AVA's (3 decimals); the person id is the
    tracker's (unique within a video); the score is the detector's.
    """
    count = 0
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(TRACKS_HEADER + "\n")
        for row in rows:
            x1, y1, x2, y2 = row.box
            f.write(f"{row.video_id},{row.second:04d},{x1:.3f},{y1:.3f},{x2:.3f},{y2:.3f},{row.person_id},"
                    f"{row.score if row.score is not None else 1.0:.6g}\n")
            count += 1
    return count


def read_tracks_csv(path: PathLike) -> List[BoxRow]:
    """Rows of a tracks file as ``BoxRow`` with ``person_id`` and ``score`` set and no action."""
    path = _require_file(path, "tracks file")
    rows = []
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.strip()
            if not text or (line_no == 1 and text == TRACKS_HEADER):
                continue
            cols = [c.strip() for c in text.split(",")]
            if len(cols) != 8:
                raise DataError(path, f"expected 8 columns ({TRACKS_HEADER}), found {len(cols)}", line_no)
            # Same checks as a ground-truth row, with the person id where the action id goes.
            row = parse_box_row(path, line_no, ",".join(cols[:6] + ["1"]), "gt")
            person_id = _parse_int(path, line_no, "person_id", cols[6])
            score = _parse_float(path, line_no, "score", cols[7])
            rows.append(BoxRow(row.video_id, row.second, row.box, None, person_id, score, line_no))
    return rows
