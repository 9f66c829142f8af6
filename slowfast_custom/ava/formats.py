"""Readers and writers for every AVA file format, as pure typed functions of paths.

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
import math
import re
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Literal, Mapping, Optional, Sequence, Set, Tuple, Union

from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_open, iter_text_lines, read_text

PathLike = Union[str, Path]
Box = Tuple[float, float, float, float]
BoxKind = Literal["gt", "predicted"]

FRAME_LIST_HEADER = "original_vido_id video_id frame_id path labels"
# A predicted box matched to no annotated person: AVA's ``*_include_negative`` files write -1, others leave the
# action column empty. Upstream's ``ava_helper`` reads both as "no action" (trained as background).
NO_ACTION = "-1"
# Labelling tools write boxes that touch the frame's edge a hair outside it (x2=1.004); by at most this much
# (a fraction of the frame) a coordinate is a repairable error that ``check_dataset --fix`` clips.
BOX_TOLERANCE = 0.01
FIX_HINT = "Run tools/check_dataset.py on the dataset folder for a full report"


def _require_file(path: PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"{what} not found", hint="Check the path in the config (DATA.PATH_TO_DATA_DIR / AVA.*)")
    return path


# ---------------------------------------------------------------------------
# Frame lists
# ---------------------------------------------------------------------------


def frame_name(video: str, number: int) -> str:
    """File name of frame ``number`` (from 1) of ``video``: ``<video>_000001.jpg``."""
    return f"{video}_{number:06d}.jpg"


def frame_relpath(video: str, number: int) -> str:
    """Path of frame ``number`` (from 1) relative to the frames folder, as frame lists hold it."""
    return f"{video}/{frame_name(video, number)}"


def frame_pattern(video: str) -> str:
    """The printf pattern of ``frame_name`` that ffmpeg numbers its output with (``%`` in the name escaped)."""
    return video.replace("%", "%%") + "_%06d.jpg"


def read_frame_list(path: PathLike) -> Dict[str, List[str]]:
    """Return ``{video: [frame path, ...]}`` in frame order, keeping the file's video order."""
    path = _require_file(path, "frame list")
    videos: Dict[str, List[str]] = {}
    last_index: Dict[str, int] = {}
    last_number: Dict[str, Tuple[int, int]] = {}  # video -> (image number, line) of its previous row
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.rstrip("\n\r")
            if not text.strip():
                continue
            if line_no == 1 and text.split()[0] == FRAME_LIST_HEADER.split()[0]:
                continue
            if "," in text and len(text.split(" ")) < 5:
                raise DataError(path, "frame lists are space-separated, this row has commas", line_no,
                                "Rebuild it with tools/check_dataset.py DIR --fix")
            cols = text.split()
            if len(cols) != 5:
                raise DataError(path, f"expected 5 space-separated columns "
                                f"({FRAME_LIST_HEADER}), found {len(cols)}", line_no,
                                "Rebuild it with tools/check_dataset.py DIR --fix")
            video, _, frame_idx, frame_path, _ = cols
            try:
                index = int(frame_idx)
            except ValueError:
                raise DataError(path, f"frame_id {frame_idx!r} is not an integer", line_no) from None
            if video in last_index and index <= last_index[video]:
                raise DataError(path, f"frames of video {video} are not sorted (frame_id {index} after "
                                f"{last_index[video]})", line_no, "Sort it with tools/check_dataset.py DIR --fix")
            last_index[video] = index
            check_frame_relpath(path, line_no, frame_path)
            number = frame_number(frame_path)
            if number is not None:
                if video in last_number and number <= last_number[video][0]:
                    raise DataError(path, out_of_time_order(video, index, frame_path, *last_number[video]), line_no,
                                    REBUILD_HINT)
                last_number[video] = (number, line_no)
            videos.setdefault(video, []).append(frame_path)
    return videos


REBUILD_HINT = "Rebuild the list from frames/ with tools/check_dataset.py DIR --fix"


def out_of_time_order(video: str, frame_id: int, frame_path: str, previous_number: int, previous_line: int) -> str:
    """The message for a frame-list row whose image comes before the previous row's in time."""
    return (f"frame_id {frame_id} of video {video} is image {frame_path.rsplit('/', 1)[-1]}, which comes before "
            f"image {previous_number} on line {previous_line}: the images are out of time order, so every clip "
            "would be built from shuffled frames")
def frame_path_problem(frame_path: str) -> Optional[str]:
    """Why a frame list's path column could leave the frames folder (absolute, ``..``), or None."""
    if frame_path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", frame_path):
        return f"frame path {frame_path!r} is absolute"
    if ".." in re.split(r"[/\\]", frame_path):
        return f"frame path {frame_path!r} leads out of the frames folder ('..')"
    return None


def check_frame_relpath(path: PathLike, line_no: int, frame_path: str) -> None:
    """DataError unless ``frame_path`` stays inside the frames folder (paths from data files never leave it)."""
    problem = frame_path_problem(frame_path)
    if problem:
        raise DataError(path, problem, line_no, "Frame paths are <video>/<file>.jpg relative to the frames folder; "
                        "rebuild the list with tools/check_dataset.py DIR --fix")


def write_frame_list(path: PathLike, videos: Mapping[str, Iterable[str]]) -> None:
    """Write upstream's space-separated frame list (atomically); each video's frames are iterated once."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(FRAME_LIST_HEADER + "\n")
        for video_idx, (video, frames) in enumerate(videos.items()):
            for frame_idx, frame_path in enumerate(frames):
                f.write(f'{video} {video_idx} {frame_idx} {frame_path} ""\n')


_FRAME_NUMBER = re.compile(r"_(\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)


def frame_number(frame_path: str) -> Optional[int]:
    """The image number in a frame file name (``<video>_000412.jpg`` -> 412), None for other names."""
    match = _FRAME_NUMBER.search(frame_path)
    return int(match.group(1)) if match else None
def video_dirs(frame_dir: PathLike) -> List[str]:
    """The video folders of a frames folder, sorted; hidden ones (a running or killed extraction's
    ``.<video>.*.tmp``) are not videos."""
    return sorted(p.name for p in Path(frame_dir).iterdir() if p.is_dir() and not p.name.startswith("."))


def frame_list_from_dir(frame_dir: PathLike, videos: Optional[Iterable[str]] = None) -> Dict[str, List[str]]:
    """Build ``{video: [relative frame path, ...]}`` from ``frames/<video>/<video>_%06d.jpg``."""
    frame_dir = Path(frame_dir)
    names = sorted(videos) if videos is not None else video_dirs(frame_dir)
    result: Dict[str, List[str]] = {}
    for video in names:
        folder = frame_dir / video
        if not folder.is_dir():
            raise DataError(folder, f"no frames folder for video {video}",
                            hint="Extract its frames first (tools/extract_frames.py)")
        frames = []
        for p in folder.iterdir():
            number = frame_number(p.name)
            if number is not None:
                frames.append((number, f"{video}/{p.name}"))
        frames.sort()
        result[video] = [rel for _, rel in frames]
    return result


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
            hint = "Box coordinates are fractions of the frame width and height"
            if -BOX_TOLERANCE <= value <= 1.0 + BOX_TOLERANCE:
                hint = (f"It is within {BOX_TOLERANCE:g} of the frame's edge: tools/check_dataset.py DIR --fix "
                        "writes a copy with such boxes clipped")
            raise DataError(path, f"{name}={value} is outside [0, 1]", line_no, hint)
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


def iter_box_csv(path: PathLike, kind: BoxKind) -> Iterator[BoxRow]:
    """Stream the validated rows of a box CSV; the first bad row raises DataError with its line."""
    path = _require_file(path, "box CSV")
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.strip()
            if text:
                yield parse_box_row(path, line_no, text, kind)


def read_box_csv(path: PathLike, kind: BoxKind) -> List[BoxRow]:
    return list(iter_box_csv(path, kind))


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


_TOKEN = re.compile(r'\s*(?:(?P<open>\{)|(?P<close>\})|(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s{}]+)|(?P<block>[A-Za-z_]+)\s*(?=\{)|(?P<comment>#[^\n]*))')


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
    """Write the ``item { name id }`` form that AVA's evaluation reads."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        for e in sorted(entries, key=lambda e: e.id):
            f.write(f"item {{\n  name: {json.dumps(e.name)}\n  id: {e.id}\n}}\n")


def read_action_names(path: PathLike) -> List[LabelMapEntry]:
    """Actions from a pbtxt label map, or from a text file with one action name per line (ids 1..n)."""
    path = _require_file(path, "action list")
    if path.suffix == ".pbtxt":
        return read_label_map(path)
    entries = []
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        name = line.strip()
        if name and not name.startswith("#"):
            if any(e.name == name for e in entries):
                raise DataError(path, f"action {name!r} is listed twice", line_no)
            entries.append(LabelMapEntry(len(entries) + 1, name))
    if not entries:
        raise DataError(path, "no action names", hint="Write one action name per line")
    return entries


# ---------------------------------------------------------------------------
# Exclusions and the demo's class-name file
# ---------------------------------------------------------------------------


def read_exclusions(path: PathLike) -> Set[Tuple[str, int]]:
    path = _require_file(path, "exclusion file")
    excluded = set()
    with closing(iter_text_lines(path)) as lines:
        for line_no, line in lines:
            text = line.strip()
            if text:
                excluded.add(parse_exclusion_row(path, line_no, text))
    return excluded


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
# Single rows, for streaming filters (tools/make_subset.py)
# ---------------------------------------------------------------------------


def parse_frame_list_row(path: Path, line_no: int, text: str) -> Tuple[str, int, str]:
    """``(video, frame_id, frame path)`` of one frame-list data row (see the module doc)."""
    cols = text.split()
    if len(cols) != 5:
        raise DataError(path, f"expected 5 space-separated columns ({FRAME_LIST_HEADER}), found {len(cols)}", line_no)
    check_frame_relpath(path, line_no, cols[3])
    return cols[0], _parse_int(path, line_no, "frame_id", cols[2]), cols[3]


def parse_exclusion_row(path: Path, line_no: int, text: str) -> Tuple[str, int]:
    """``(video, second)`` of one exclusion row."""
    cols = [c.strip() for c in text.split(",")]
    if len(cols) != 2 or not cols[0]:
        raise DataError(path, f"expected 2 columns (video_id,second), found {len(cols)}", line_no)
    return cols[0], _parse_int(path, line_no, "second", cols[1])


# ---------------------------------------------------------------------------
# Video ids and the tracks file of the dataset tools
# ---------------------------------------------------------------------------

_BAD_VIDEO_ID = re.compile(r'[\s,"/\\]')


def check_video_id(video_id: str, where: PathLike = "") -> None:
    """A video id must fit in a space-separated frame list and a CSV column and name one folder of frames/:
    no spaces, commas, quotes or path separators, and no leading dot (hidden folders are not videos)."""
    if not video_id or _BAD_VIDEO_ID.search(video_id) or video_id.startswith("."):
        raise DataError(where or video_id, f"video id {video_id!r} is empty, starts with a dot or has a space, "
                        "comma, quote or path separator, which frame lists, box CSVs and frames/<video>/ cannot "
                        "hold", hint="Rename the video (or pass --id)")


def video_id_arg(text: str) -> str:
    """argparse ``type`` for a video id given on a command line (``check_video_id``)."""
    import argparse

    try:
        check_video_id(text)
    except DataError as err:
        raise argparse.ArgumentTypeError(err.message) from None
    return text


def video_id_list_arg(text: str) -> List[str]:
    """argparse ``type`` for comma-separated video ids (empty items ignored)."""
    return [video_id_arg(v) for v in text.split(",") if v]


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
