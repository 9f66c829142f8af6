"""Stream AVA files line by line, keeping the rows of chosen videos.

A full AVA annotation set is about a million rows, almost all of them for
videos the subset drops. Those rows are only looked at for their video id
(for "did you mean" hints): a row of a video the subset does not select is
never a reason to fail. The kept rows are parsed and validated in full by the
readers in ``slowfast_custom.ava.formats`` (AVA's conventions: ``-1`` or
an empty action in predicted-box files is a person with no action) and
written back as they were read, so the output keeps AVA's formatting.
Memory grows with the kept rows and the number of distinct videos, never
with the input's length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, AbstractSet, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from slowfast_custom.ava.formats import (
    FRAME_LIST_HEADER,
    BoxRow,
    FrameListGrammar,
    FrameListRow,
    parse_box_row,
    parse_exclusion_row,
)
from slowfast_custom.errors import DataError

ParseRow = Callable[[Path, int, str], Any]


@dataclass(frozen=True)
class RowFormat:
    """How to find a row's video, and how to validate a kept row."""

    sep: str
    parse: ParseRow  # full validation; raises DataError with the line
    header: Optional[str] = None  # first word of an optional header line


GT_BOXES = RowFormat(",", lambda p, n, t: parse_box_row(p, n, t, "gt"))
PREDICTED_BOXES = RowFormat(",", lambda p, n, t: parse_box_row(p, n, t, "predicted"))
EXCLUSIONS = RowFormat(",", parse_exclusion_row)


def filter_rows(lines: Iterable[str], path: Path, fmt: RowFormat, keep: AbstractSet[str],
                on_keep: Callable[[Any, str, int], None]) -> Set[str]:
    """Call ``on_keep(parsed row, stripped text, line)`` for each row of a video in ``keep``.

    Returns every video id the file mentions (for "did you mean" hints).
    Malformed kept rows raise DataError with ``path`` and the line; rows of
    other videos are not validated.
    """
    seen: Set[str] = set()
    last = None
    sep, parse = fmt.sep, fmt.parse
    for line_no, line in enumerate(lines, start=1):
        cut = line.find(sep)
        video = line[:cut] if cut > 0 else ""
        if sep == " " and video not in keep:  # tabs or repeated spaces
            words = line.split(None, 1)
            video = words[0] if words else ""
        if video in keep:
            text = line.strip()
            on_keep(parse(path, line_no, text), text, line_no)
        elif not video:
            continue
        if video != last:
            seen.add(video)
            last = video
    seen.discard(fmt.header)
    return seen


@dataclass
class BoxStats:
    """What the summary tells about a split's ground truth."""

    keyframes: Set[Tuple[str, int]] = field(default_factory=set)
    boxes: Set[Tuple[str, int, Tuple[float, float, float, float]]] = field(default_factory=set)
    actions: Counter = field(default_factory=Counter)
    videos: Dict[str, None] = field(default_factory=dict)  # in file order

    def add(self, row: BoxRow) -> None:
        self.videos.setdefault(row.video_id)
        self.keyframes.add((row.video_id, row.second))
        self.boxes.add((row.video_id, row.second, row.box))
        if row.action_id is not None:
            self.actions[row.action_id] += 1


def filter_box_file(lines: Iterable[str], path: Path, fmt: RowFormat, keep: AbstractSet[str], out: IO[str],
                    max_action_id: int = 0) -> Tuple[BoxStats, Set[str]]:
    """Write the kept rows of a box CSV to ``out``; return their stats and every video id in the file."""
    stats = BoxStats()

    def on_keep(row: BoxRow, text: str, line_no: int) -> None:
        if max_action_id and row.action_id is not None and row.action_id > max_action_id:
            raise DataError(path, f"action_id {row.action_id} is not in the label map (largest id "
                            f"{max_action_id})", line_no)
        stats.add(row)
        out.write(text + "\n")

    seen = filter_rows(lines, path, fmt, keep, on_keep)
    return stats, seen


def filter_exclusions(lines: Iterable[str], path: Path, keep: AbstractSet[str], out: IO[str]) -> None:
    filter_rows(lines, path, EXCLUSIONS, keep, lambda row, text, line_no: out.write(text + "\n"))


@dataclass
class FrameListRows:
    """Kept frame-list rows: ``{video: [frame path, ...]}`` and the line each path came from."""

    videos: Dict[str, List[str]] = field(default_factory=dict)
    lines: Dict[str, List[int]] = field(default_factory=dict)


def filter_frame_list(lines: Iterable[str], path: Path, keep: AbstractSet[str]) -> FrameListRows:
    """Kept rows of a frame list, checked by the frame-list grammar (frame ids ascending, images in time order,
    paths inside the frames folder) as the loader checks them."""
    rows = FrameListRows()
    grammar = FrameListGrammar(path)
    fmt = RowFormat(" ", lambda p, n, t: grammar.parse(n, t), header=FRAME_LIST_HEADER.split()[0])

    def on_keep(row: FrameListRow, text: str, line_no: int) -> None:
        rows.videos.setdefault(row.video, []).append(row.path)
        rows.lines.setdefault(row.video, []).append(line_no)

    filter_rows(lines, path, fmt, keep, on_keep)
    return rows
