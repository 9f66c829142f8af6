"""The keyframe index as a handful of NumPy arrays: built once, cached next to the frame lists, shared by workers.

``load_keyframe_index`` (and upstream's ``Ava``) keep one Python string per
frame and a list per box: at AVA v2.2's size (6.35 M frames, 210,795
keyframes) that is over a gigabyte, and every forked loader worker touches
those objects' reference counts, so copy-on-write makes each worker's memory
grow towards the parent's over an epoch. ``CompactIndex`` holds the same
information in arrays, which have no per-element objects:

* videos: names, and per video its number of frames, the row of its first
  frame and the number of its first frame. Frame ``i`` of ``video`` is
  ``<video>/<frame_name(video, first + i)>`` (AVA's naming, ``frame_relpath``)
  unless that row is an *exception*, whose path is stored as it was read;
* keyframes: ``(video_idx, sec_idx, second, center frame)`` rows;
* boxes (float64, normalised) per keyframe and labels (``-1``: a box without
  action) per box, as flat arrays with start offsets.

The first build reads the frame lists and box CSVs with a vectorised parser
that takes only clean rows (ASCII, single separators, plain decimals, valid
values, nothing the checks of ``load_keyframe_index`` would reject). Anything
else, including every bad row, makes the whole build fall back to
``load_keyframe_index``, the row-by-row parser, so errors (file:line) and
results are that parser's. The result is cached in
``<frame list folder>/index_cache/`` under a name derived from the paths,
sizes and modification times of every input file and the spec's values, and
written atomically; later runs load it in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from slowfast_custom.ava.formats import NO_ACTION, BoxRow, is_frame_list_header
from slowfast_custom.ava.naming import (
    FIRST_FRAME,
    FRAME_DIGITS,
    frame_number,
    frame_path_problem,
    frame_relpath,
    frame_relpath_parts,
)
from slowfast_custom.ava.timing import ascending, seconds_to_frames
from slowfast_custom.data.keyframes import KeyframeIndex, KeyframeSpec, _keep, load_keyframe_index
from slowfast_custom.fileio import atomic_open

logger = logging.getLogger(__name__)

# Bump when the arrays' meaning or the fast path's rules change: old caches are then rebuilt.
INDEX_VERSION = 2
CACHE_DIR_NAME = "index_cache"
_CHUNK_BYTES = 4 << 20  # the fast path reads files in blocks this size, so its memory does not grow with them
_PAD = 256  # longest field the gathering parser takes
_MAX_DIGITS = 15  # integers up to this many digits are exact in float64 (needed for exact decimal parsing)


class _Unusual(Exception):
    """Input the fast path does not take; the row-by-row parser decides (and reports errors)."""


# ---------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------


class FramePaths(Sequence):
    """The frame paths of one video, made on access from the folder, AVA's naming and the stored exceptions."""

    def __init__(self, index: "CompactIndex", video_idx: int, root: Optional[Path] = None) -> None:
        self._index, self._video = index, video_idx
        self._root = Path(root) if root is not None else index.frame_dir
        self._name = index.video_names[video_idx]
        self._first_row = int(index.frame_start[video_idx])
        self._len = int(index.frame_start[video_idx + 1]) - self._first_row
        self._first_number = int(index.first_number[video_idx])
        lo, hi = np.searchsorted(index.exception_rows, [self._first_row, self._first_row + self._len])
        self._has_exceptions = hi > lo

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._len))]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"frame {i} of video {self._name} ({self._len} frames)")
        if self._has_exceptions:
            path = self._index.exception_path(self._first_row + i)
            if path is not None:
                return path
        return str(self._root / frame_relpath(self._name, self._first_number + i))


@dataclass
class CompactIndex:
    frame_dir: Path
    video_names: List[str]
    frame_start: np.ndarray  # int64 (V+1): frames of video v are rows frame_start[v]:frame_start[v+1]
    first_number: np.ndarray  # int64 (V): number of the video's first frame in AVA's naming
    exception_rows: np.ndarray  # int64 (E), sorted: rows whose path does not follow the naming
    exception_offsets: np.ndarray  # int64 (E+1) into exception_blob
    exception_blob: np.ndarray  # uint8: the exceptions' full paths, UTF-8, concatenated
    keyframes: np.ndarray  # int64 (K, 4): video_idx, sec_idx, second, center frame index
    box_start: np.ndarray  # int64 (K+1): boxes of keyframe k are boxes[box_start[k]:box_start[k+1]]
    boxes: np.ndarray  # float64 (B, 4): x1, y1, x2, y2 normalised
    label_start: np.ndarray  # int64 (B+1)
    labels: np.ndarray  # int32 (L): action ids, -1 for a box without action
    skipped: Counter

    @property
    def num_boxes(self) -> int:
        return len(self.boxes)

    @property
    def num_frames(self) -> int:
        return int(self.frame_start[-1])

    def exception_path(self, row: int) -> Optional[str]:
        j = int(np.searchsorted(self.exception_rows, row))
        if j < len(self.exception_rows) and self.exception_rows[j] == row:
            return bytes(self.exception_blob[self.exception_offsets[j]:self.exception_offsets[j + 1]]).decode()
        return None

    def frame_paths(self, root: Optional[Path] = None) -> List[FramePaths]:
        """Per video, its frame paths (under ``root`` instead of the frame folder when given)."""
        return [FramePaths(self, v, root) for v in range(len(self.video_names))]

    def video_has_exceptions(self, video_idx: int) -> bool:
        lo, hi = np.searchsorted(self.exception_rows, self.frame_start[video_idx:video_idx + 2])
        return bool(hi > lo)

    def keyframe_boxes(self, k: int) -> np.ndarray:
        return self.boxes[self.box_start[k]:self.box_start[k + 1]]

    def keyframe_labels(self, k: int) -> List[List[int]]:
        """Per box of keyframe ``k``, its action ids (``-1``: none), as ``load_keyframe_index`` lists them."""
        return [self.labels[self.label_start[b]:self.label_start[b + 1]].tolist()
                for b in range(self.box_start[k], self.box_start[k + 1])]

    def boxes_and_labels(self, k: int) -> List[List[object]]:
        """Keyframe ``k``'s ``[[box], [labels]]`` in upstream's layout."""
        return [[box.tolist(), labels] for box, labels in zip(self.keyframe_boxes(k), self.keyframe_labels(k))]

    # --- the cache file -----------------------------------------------------

    _ARRAYS = ("frame_start", "first_number", "exception_rows", "exception_offsets", "exception_blob", "keyframes",
               "box_start", "boxes", "label_start", "labels")

    def save(self, path: Path, key: str) -> None:
        meta = {"key": key, "frame_dir": str(self.frame_dir), "videos": self.video_names,
                "skipped": dict(self.skipped)}
        with atomic_open(path, "wb") as f:
            np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                     **{name: getattr(self, name) for name in self._ARRAYS})

    @classmethod
    def load(cls, path: Path, key: str) -> Optional["CompactIndex"]:
        """The index cached in ``path`` if it was built for ``key``; None otherwise (missing, stale, unreadable)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                if meta.get("key") != key:
                    return None
                arrays = {name: data[name] for name in cls._ARRAYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None
        return cls(Path(meta["frame_dir"]), list(meta["videos"]), skipped=Counter(meta["skipped"]), **arrays)


def index_from_keyframe_index(spec: KeyframeSpec, old: KeyframeIndex) -> CompactIndex:
    """The arrays of a ``load_keyframe_index`` result (frame paths checked against AVA's naming one by one)."""
    counts = [len(paths) for paths in old.frame_paths]
    frame_start = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=frame_start[1:])
    first_number = np.full(len(counts), FIRST_FRAME, np.int64)
    exc_rows: List[int] = []
    exc_paths: List[bytes] = []
    for v, (video, paths) in enumerate(zip(old.video_names, old.frame_paths)):
        for i, path in enumerate(paths):
            if path != str(spec.frame_dir / frame_relpath(video, FIRST_FRAME + i)):
                exc_rows.append(int(frame_start[v]) + i)
                exc_paths.append(path.encode())
    keyframes = np.array(old.keyframes, np.int64).reshape(-1, 4)
    box_counts, label_counts, boxes, labels = [], [], [], []
    for video_idx, sec_idx, _, _ in old.keyframes:
        entries = old.boxes_and_labels[video_idx][sec_idx]
        box_counts.append(len(entries))
        for box, box_labels in entries:
            boxes.append(box)
            labels.extend(box_labels)
            label_counts.append(len(box_labels))
    return CompactIndex(spec.frame_dir, list(old.video_names), frame_start, first_number,
                        np.array(exc_rows, np.int64), _offsets([len(p) for p in exc_paths]),
                        np.frombuffer(b"".join(exc_paths), np.uint8).copy(), keyframes,
                        _offsets(box_counts), np.array(boxes, np.float64).reshape(-1, 4),
                        _offsets(label_counts), np.array(labels, np.int32), Counter(old.skipped))


def _offsets(counts: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(np.asarray(counts, np.int64), out=out[1:])
    return out


# ---------------------------------------------------------------------------
# Building, with the cache
# ---------------------------------------------------------------------------


def cache_key(spec: KeyframeSpec) -> str:
    """What the index depends on: every input file's path, size and modification time, and the spec's values."""
    files = []
    for kind, paths in (("frame_list", spec.frame_lists), ("gt", spec.gt_box_files),
                        ("predicted", spec.predicted_box_files)):
        for path in paths:
            st = os.stat(path)
            files.append([kind, str(Path(path).resolve()), st.st_size, st.st_mtime_ns])
    values = {"version": INDEX_VERSION, "frame_dir": str(spec.frame_dir), "files": files, "fps": spec.fps,
              "start_sec": spec.start_sec, "valid_seconds": list(spec.valid_seconds or ()),
              "score_thresh": spec.score_thresh, "second_stride": spec.second_stride,
              "max_action_id": spec.max_action_id}
    return json.dumps(values, sort_keys=True)


def cache_path(spec: KeyframeSpec, key: str) -> Optional[Path]:
    if not spec.frame_lists:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return Path(spec.frame_lists[0]).parent / CACHE_DIR_NAME / f"keyframes-{digest}.npz"


def load_compact_index(spec: KeyframeSpec, use_cache: bool = True) -> CompactIndex:
    """The index of ``spec``: from the cache when it is current, else built (and cached when ``use_cache``)."""
    path = key = None
    if use_cache:
        try:
            key = cache_key(spec)
        except OSError:
            key = None  # a missing input: the build below reports it as the row parser does
        path = cache_path(spec, key) if key is not None else None
        if path is not None and path.is_file():
            index = CompactIndex.load(path, key)
            if index is not None:
                logger.info("Keyframe index from the cache %s", path)
                return index
    index = build_compact_index(spec)
    if path is not None:
        try:
            index.save(path, key)
            logger.info("Keyframe index cached in %s", path)
        except OSError as err:  # a read-only dataset folder: work without the cache
            logger.warning("Cannot cache the keyframe index in %s (%s); it is rebuilt on every start", path, err)
    return index


def build_compact_index(spec: KeyframeSpec) -> CompactIndex:
    """Build the index with the vectorised parser, or with ``load_keyframe_index`` when the input is not plain."""
    try:
        return _build_fast(spec)
    except _Unusual as why:
        logger.info("Reading the annotations row by row (%s)", why)
    return index_from_keyframe_index(spec, load_keyframe_index(spec))


# ---------------------------------------------------------------------------
# The vectorised parser
# ---------------------------------------------------------------------------


def _chunks(path: Path) -> Iterator[Tuple[bytes, bool]]:
    """The file in blocks that end at a line end (a last line without one gets one); ``True`` for the first."""
    with open(path, "rb") as f:
        rest, first = b"", True
        while True:
            block = f.read(_CHUNK_BYTES)
            if not block:
                if rest:
                    yield rest + b"\n", first
                return
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut], first
                first = False


@dataclass
class _Lines:
    buf: np.ndarray  # uint8: the block, then _PAD zero bytes (fields are gathered at a fixed width past their end)
    start: np.ndarray  # int64 per non-empty line
    bounds: np.ndarray  # int64 (lines, columns + 1): position before each field, and the line end


def _split_lines(data: bytes, sep: int, columns: Sequence[int], what: str, may_be_empty: Sequence[int] = ()) -> _Lines:
    """Non-empty lines of ``data`` and their ``sep``-separated fields; ``_Unusual`` unless every row is plain."""
    padded = np.frombuffer(data + bytes(_PAD), np.uint8)
    buf = padded[:len(data)]
    # Printable ASCII only: no tabs, CRs, other whitespace or non-ASCII that the row parser's split() and strip()
    # treat their own way; in comma-separated files no spaces either (the row parser strips them).
    low = 32 if sep == 32 else 33
    if ((buf < low) & (buf != 10)).any() or (buf > 126).any():
        raise _Unusual(f"{what}: characters other than printable ASCII")
    ends = np.flatnonzero(buf == 10)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    keep = ends > starts  # empty lines are skipped, as the row parser skips them
    if not keep.all():
        starts, ends = starts[keep], ends[keep]
    pos = np.flatnonzero(buf == sep)
    # Every line has the same number of separators iff there are that many per line in all, and each line's
    # share of them (in order) lies inside it.
    n = len(starts)
    width = next((c - 1 for c in columns if n and len(pos) == (c - 1) * n), None)
    if n and width is None:
        raise _Unusual(f"{what}: rows with other than {' or '.join(map(str, columns))} columns")
    bounds = np.empty((n, (width or 0) + 2), np.int64)
    bounds[:, 0] = starts - 1
    bounds[:, 1:-1] = pos.reshape(n, width or 0)
    bounds[:, -1] = ends
    if n and ((bounds[:, 1] <= starts) | (bounds[:, -2] >= ends)).any():
        raise _Unusual(f"{what}: rows with different numbers of columns")
    empty = np.diff(bounds, axis=1) < 2
    empty[:, [c for c in may_be_empty if c < empty.shape[1]]] = False
    if empty.any():  # an empty column (in a frame list: a double space)
        raise _Unusual(f"{what}: empty columns")
    return _Lines(padded, starts, bounds)


def _field(lines: _Lines, col: int) -> Tuple[np.ndarray, np.ndarray]:
    return lines.bounds[:, col] + 1, lines.bounds[:, col + 1]


def _chars(buf: np.ndarray, start: np.ndarray, end: np.ndarray, width: Optional[int] = None) -> np.ndarray:
    """``(rows, width)`` bytes of each field, zero-padded (``buf`` has ``_PAD`` bytes past its last line)."""
    lengths = (end - start).astype(np.int32)
    width = int(lengths.max(initial=0)) if width is None else width
    if width > _PAD:
        raise _Unusual("fields longer than the fast parser takes")
    cols = np.arange(width, dtype=np.int32)
    out = buf[start.astype(np.int32)[:, None] + cols]
    out[cols >= lengths[:, None]] = 0
    return out


def _integers(buf: np.ndarray, start: np.ndarray, end: np.ndarray, what: str) -> np.ndarray:
    """Fields of plain digits as int64 (anything else: ``_Unusual``)."""
    if ((end - start) > _MAX_DIGITS).any():
        raise _Unusual(f"{what}: long integers")
    chars = _chars(buf, start, end)
    present = chars != 0
    digits = chars.astype(np.int64) - 48
    if ((digits < 0) | (digits > 9))[present].any():
        raise _Unusual(f"{what}: integers other than plain digits")
    value = np.zeros(len(start), np.int64)
    for c in range(chars.shape[1]):
        value = np.where(present[:, c], value * 10 + digits[:, c], value)
    return value


def _decimals(buf: np.ndarray, start: np.ndarray, end: np.ndarray, what: str) -> np.ndarray:
    """Fields like ``0.123``, ``1``, ``.5`` as float64, each exactly ``float(text)``.

    The digits form an integer below 2**53 and the value is that integer
    divided by a power of ten, both exact in float64, and IEEE division rounds
    the exact quotient: the same nearest double as ``float()``'s parse.
    """
    chars = _chars(buf, start, end)
    present = chars != 0
    is_dot = chars == 46
    digits = chars.astype(np.int64) - 48
    is_digit = present & (digits >= 0) & (digits <= 9)
    if (present & ~is_digit & ~is_dot).any() or (is_dot.sum(1) > 1).any() or (is_digit.sum(1) == 0).any() \
            or (is_digit.sum(1) > _MAX_DIGITS).any():
        raise _Unusual(f"{what}: numbers other than plain decimals")
    value = np.zeros(len(start), np.int64)
    frac = np.zeros(len(start), np.int64)
    after_dot = np.zeros(len(start), bool)
    for c in range(chars.shape[1]):
        value = np.where(is_digit[:, c], value * 10 + digits[:, c], value)
        frac += is_digit[:, c] & after_dot
        after_dot |= is_dot[:, c]
    return value.astype(np.float64) / np.power(10.0, frac)


def _runs(chars: np.ndarray) -> np.ndarray:
    """Start rows of the runs of equal consecutive rows of ``chars``."""
    change = np.ones(len(chars), bool)
    change[1:] = (chars[1:] != chars[:-1]).any(axis=1)
    return np.flatnonzero(change)


@dataclass
class _Video:
    name: str
    list_path: Path
    count: int = 0
    last_frame_id: int = -1
    first_number: Optional[int] = None


def _read_frame_lists(spec: KeyframeSpec):
    """Videos in order, with per video its frames' count and first number, and the exceptions."""
    videos: Dict[str, _Video] = {}
    order: List[_Video] = []
    exc_rows: List[Tuple[int, int]] = []
    exc_texts: List[bytes] = []
    for list_path in spec.frame_lists:
        if not Path(list_path).is_file():
            raise _Unusual(f"{list_path} is missing")
        current: Optional[_Video] = None
        for data, first in _chunks(Path(list_path)):
            if first:
                if is_frame_list_header(data[:data.find(b"\n")].decode("ascii", "replace")):
                    data = data[data.find(b"\n") + 1:]
                    if not data:
                        continue
            lines = _split_lines(data, 32, (5,), f"{list_path}")
            for a, b, name, ids, nums, path_of in _frame_list_runs(lines, str(list_path)):
                if current is None or name != current.name:
                    if name in videos:
                        raise _Unusual(f"{list_path}: video {name} in more than one block or list")
                    current = videos[name] = _Video(name, Path(list_path))
                    order.append(current)
                if not ascending(ids, current.last_frame_id):
                    raise _Unusual(f"{list_path}: frames of {name} not sorted")
                current.last_frame_id = int(ids[-1])
                local = current.count + np.arange(b - a)
                if current.first_number is None:
                    ok = np.flatnonzero(nums >= 0)
                    current.first_number = int(nums[ok[0]] - local[ok[0]]) if len(ok) else FIRST_FRAME
                bad = np.flatnonzero(nums != current.first_number + local)
                for i in bad:  # paths not in AVA's naming, kept as read
                    rel = path_of(int(i))
                    if frame_path_problem(rel) or frame_number(rel) is not None:
                        # A path leaving the frames folder, or numbered images out of sequence (a gap, or out of
                        # time order): the row parser's checks decide, with their file:line.
                        raise _Unusual(f"{list_path}: frame {rel} of {name} out of AVA's sequence")
                    exc_rows.append((len(order) - 1, current.count + int(i)))
                    exc_texts.append(str(spec.frame_dir / rel).encode())
                current.count += b - a
    counts = [v.count for v in order]
    frame_start = _offsets(counts)
    rows = np.array(exc_rows, np.int64).reshape(-1, 2)
    global_rows = frame_start[rows[:, 0]] + rows[:, 1]
    return order, frame_start, global_rows, exc_texts


def _digits_value(digits: np.ndarray, what: str) -> np.ndarray:
    """Rows of ASCII digit bytes (a 2-D block) as int64 numbers; ``_Unusual`` if any byte is not a digit."""
    values = digits.astype(np.int64) - 48
    if values.shape[1] > _MAX_DIGITS or values.shape[1] == 0 or ((values < 0) | (values > 9)).any():
        raise _Unusual(f"{what}: integers other than plain digits")
    return values @ (10 ** np.arange(values.shape[1] - 1, -1, -1, dtype=np.int64))


def _frame_list_runs(lines: _Lines, what: str):
    """Runs of rows of one video in a block of frame-list lines: ``(first, end, name, frame ids, frame numbers,
    path of row i)``; the number is -1 where the path is not ``frame_relpath(video, n)``.

    Rows of one video differ only in their digits, so consecutive rows with the separators at the same columns
    form a 2-D block of bytes (a view, no copy) whose columns are the fields.
    """
    buf, starts, bounds = lines.buf, lines.start, lines.bounds
    rel = bounds - starts[:, None]
    change = np.ones(len(starts), bool)
    change[1:] = (rel[1:] != rel[:-1]).any(axis=1) | (starts[1:] != bounds[:-1, -1] + 1)
    edges = np.append(np.flatnonzero(change), len(starts))
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist()):
        _, s0, s1, s2, s3, end = rel[a].tolist()
        view = buf[starts[a]:starts[a] + (b - a) * (end + 1)].reshape(b - a, end + 1)
        names = view[:, :s0]
        cuts = [0, *(np.flatnonzero((names[1:] != names[:-1]).any(axis=1)) + 1).tolist(), b - a]
        ids_all = _digits_value(view[:, s1 + 1:s2], what)
        paths = view[:, s2 + 1:s3]
        for c, d in zip(cuts[:-1], cuts[1:]):
            name = bytes(names[c])
            numbers = np.full(d - c, -1, np.int64)
            # ``frame_relpath``'s rule on bytes: its fixed prefix and suffix around FRAME_DIGITS digits.
            prefix, suffix = (np.frombuffer(part.encode(), np.uint8) for part in frame_relpath_parts(name.decode()))
            if s3 - s2 - 1 == len(prefix) + FRAME_DIGITS + len(suffix):
                block = paths[c:d]
                cut = len(prefix) + FRAME_DIGITS
                digits = block[:, len(prefix):cut].astype(np.int64) - 48
                ok = ((block[:, :len(prefix)] == prefix).all(axis=1) & (block[:, cut:] == suffix).all(axis=1)
                      & ((digits >= 0) & (digits <= 9)).all(axis=1))
                numbers = np.where(ok, digits @ (10 ** np.arange(FRAME_DIGITS - 1, -1, -1, dtype=np.int64)), -1)

            def path_of(i: int, rows=paths[c:d]) -> str:
                return bytes(rows[i]).decode()

            yield a + c, a + d, name.decode(), ids_all[c:d], numbers, path_of


def _read_boxes(path: Path, kind: str, video_ids: Dict[str, int]):
    """(video_idx, second, boxes, action, score) arrays of a box CSV's rows, in file order."""
    if not Path(path).is_file():
        raise _Unusual(f"{path} is missing")
    parts = []
    for data, _ in _chunks(Path(path)):
        # Empty action ids (predicted: a box without action) and person ids (ground truth) are allowed.
        lines = _split_lines(data, 44, (8,) if kind == "predicted" else (7, 8), str(path), (6, 7))
        buf = lines.buf
        ncols = lines.bounds.shape[1] - 1
        if kind == "gt" and ncols == 8:
            # An empty person id is allowed; digits otherwise.
            start, end = _field(lines, 7)
            has = end > start
            _integers(buf, start[has], end[has], str(path))
        name_start, name_end = _field(lines, 0)
        names = _chars(buf, name_start, name_end)
        vidx = np.empty(len(names), np.int64)
        runs = np.append(_runs(names), len(names))
        for a, b in zip(runs[:-1], runs[1:]):
            name = bytes(buf[name_start[a]:name_end[a]]).decode()
            if name not in video_ids:
                raise _Unusual(f"{path}: video {name} is not in the frame lists")
            vidx[a:b] = video_ids[name]
        second = _integers(buf, *_field(lines, 1), str(path))
        box = np.stack([_decimals(buf, *_field(lines, c), str(path)) for c in range(2, 6)], axis=1)
        if ((box < 0) | (box > 1)).any() or (box[:, 2] <= box[:, 0]).any() or (box[:, 3] <= box[:, 1]).any():
            raise _Unusual(f"{path}: boxes outside [0, 1] or empty")
        start, end = _field(lines, 6)
        has = end > start
        if kind == "gt" and not has.all():
            raise _Unusual(f"{path}: empty action ids")
        action = np.full(len(start), -1, np.int64)
        if kind == "predicted":  # NO_ACTION: a detected person with no action
            no_action = np.frombuffer(NO_ACTION.encode(), np.uint8)
            width = len(no_action)
            text = _chars(buf, start, np.minimum(end, start + width), width)
            has &= ~((end - start == width) & (text == no_action).all(1))
        action[has] = _integers(buf, start[has], end[has], str(path))
        if (action[has] < 1).any():
            raise _Unusual(f"{path}: action ids below 1")
        if kind == "predicted":
            score = _decimals(buf, *_field(lines, 7), str(path))
            if ((score < 0) | (score > 1)).any():
                raise _Unusual(f"{path}: scores outside [0, 1]")
        else:
            score = np.full(len(start), np.nan)
        parts.append((vidx, second, box, action, score))
    if not parts:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0, np.int64),
                np.zeros(0))
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


def _drop_reasons(spec: KeyframeSpec, second: np.ndarray, score: np.ndarray, skipped: Counter) -> np.ndarray:
    """The rows ``_keep`` keeps; ``skipped`` counts the others under ``_keep``'s own reasons."""
    drop_score = score < spec.score_thresh  # NaN (ground truth) compares False, as a None score is kept
    drop_seconds = np.zeros(len(second), bool)
    if spec.valid_seconds:
        drop_seconds = ~drop_score & ((second < spec.valid_seconds[0]) | (second > spec.valid_seconds[1]))
    drop_stride = np.zeros(len(second), bool)
    if spec.second_stride > 1:
        drop_stride = ~drop_score & ~drop_seconds & (second % spec.second_stride != 0)
    for mask in (drop_score, drop_seconds, drop_stride):
        if mask.any():
            i = int(np.argmax(mask))
            reason: Counter = Counter()
            row_score = None if np.isnan(score[i]) else float(score[i])
            _keep(BoxRow("", int(second[i]), (0.0, 0.0, 1.0, 1.0), None, None, row_score), spec, reason)
            skipped[next(iter(reason))] += int(mask.sum())
    return ~(drop_score | drop_seconds | drop_stride)


def _build_fast(spec: KeyframeSpec) -> CompactIndex:
    order, frame_start, exc_rows, exc_texts = _read_frame_lists(spec)
    video_ids = {v.name: i for i, v in enumerate(order)}
    parts = [_read_boxes(p, "gt", video_ids) for p in spec.gt_box_files]
    # A ground-truth file also listed as predicted boxes is read once, as ground truth (as load_keyframe_index does).
    parts += [_read_boxes(p, "predicted", video_ids) for p in spec.predicted_box_files
              if p not in spec.gt_box_files]
    if not parts:
        raise _Unusual("no box files")
    vidx, second, box, action, score = (np.concatenate(a) for a in zip(*parts))
    del parts  # the build's memory peaks below: drop every array as soon as it is used up
    skipped: Counter = Counter()
    keep = _drop_reasons(spec, second, score, skipped)
    del score
    if not keep.all():
        vidx, second, box, action = vidx[keep], second[keep], box[keep], action[keep]
    del keep
    if not len(vidx):
        raise _Unusual("no keyframes left")
    for why, n in sorted(skipped.items()):
        logger.info("Skipped %d box rows: %s", n, why)
    if (action > spec.max_action_id).any():
        raise _Unusual("action ids above the number of classes")
    center = seconds_to_frames(second, spec.fps, spec.start_sec)
    if ((center < 0) | (center >= np.diff(frame_start)[vidx])).any():
        raise _Unusual("keyframes outside their video's frames")
    del center

    # Upstream groups a keyframe's rows by the box (equal coordinates: one box, its labels in row order) and keeps
    # the boxes in the order they first appear; keyframes go by video (frame-list order), then second.
    bits = box.view(np.int64)
    by_box = np.lexsort((bits[:, 3], bits[:, 2], bits[:, 1], bits[:, 0], second, vidx))  # stable: rows in order
    vidx, second, bits, action = vidx[by_box], second[by_box], bits[by_box], action[by_box]
    new_box = np.ones(len(by_box), bool)
    new_box[1:] = (vidx[1:] != vidx[:-1]) | (second[1:] != second[:-1]) | (bits[1:] != bits[:-1]).any(axis=1)
    box_of_sorted = np.cumsum(new_box) - 1  # box group of each sorted row
    first_row = by_box[new_box]  # each box group's first row in the files
    group_video, group_second, group_bits = vidx[new_box], second[new_box], bits[new_box]
    del vidx, second, bits, new_box
    box_order = np.lexsort((first_row, group_second, group_video))  # boxes: by video, second, appearance
    rank = np.empty_like(box_order)
    rank[box_order] = np.arange(len(box_order))
    box_rank = rank[box_of_sorted]
    del rank, box_of_sorted
    labels_order = np.lexsort((by_box, box_rank))  # labels: by box, then row
    labels = action[labels_order].astype(np.int32)
    label_counts = np.bincount(box_rank, minlength=len(box_order))
    del action, labels_order, box_rank, by_box
    boxes = group_bits[box_order].view(np.float64)
    kf_video, kf_second = group_video[box_order], group_second[box_order]
    new_kf = np.ones(len(box_order), bool)
    new_kf[1:] = (kf_video[1:] != kf_video[:-1]) | (kf_second[1:] != kf_second[:-1])
    box_start = np.append(np.flatnonzero(new_kf), len(box_order)).astype(np.int64)
    kf_video, kf_second = kf_video[new_kf], kf_second[new_kf]
    sec_idx = np.arange(len(kf_video)) - np.searchsorted(kf_video, kf_video, side="left")
    kf_center = seconds_to_frames(kf_second, spec.fps, spec.start_sec)
    keyframes = np.column_stack([kf_video, sec_idx, kf_second, kf_center]).astype(np.int64)

    sort_exc = np.argsort(exc_rows, kind="stable")
    texts = [exc_texts[i] for i in sort_exc]
    return CompactIndex(spec.frame_dir, [v.name for v in order], frame_start,
                        np.array([v.first_number or 0 for v in order], np.int64), exc_rows[sort_exc],
                        _offsets([len(t) for t in texts]), np.frombuffer(b"".join(texts), np.uint8).copy(),
                        keyframes, box_start, boxes, _offsets(label_counts.tolist()), labels, skipped)
