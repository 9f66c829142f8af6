"""Video ids for the subset: from the command line and from files, one split each, none in both."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from slowfast_custom.ava.naming import video_id_problem
from slowfast_custom.errors import UserError
from slowfast_custom.fileio import read_text

# The recipe's example: one labelled train video and one labelled val video.
DEFAULT_TRAIN_IDS = ("-5KQ66BBWC4",)
DEFAULT_VAL_IDS = ("1j20qq1JyX4",)


@dataclass(frozen=True)
class VideoId:
    id: str
    origin: str  # where it was given: "--train-ids" or "ids.txt:3"


_ID_SEPARATORS = re.compile(r"[\s,]+")


def _checked(video_id: str, origin: str) -> VideoId:
    problem = video_id_problem(video_id)
    if problem:
        raise UserError(f"{origin}: {problem}; ids are file names without extension, like -5KQ66BBWC4")
    return VideoId(video_id, origin)


def ids_from_args(values: Sequence[str], option: str) -> List[VideoId]:
    """Ids from repeated options whose values may hold several ids separated by commas or spaces."""
    return [_checked(v, option) for value in values for v in _ID_SEPARATORS.split(value) if v]


def ids_from_file(path: Path) -> List[VideoId]:
    """Ids from a text file: separated by new lines, commas or spaces; ``#`` starts a comment."""
    if not Path(path).is_file():
        raise UserError(f"{path}: video id file not found")
    found = []
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        for v in _ID_SEPARATORS.split(line.split("#", 1)[0]):
            if v:
                found.append(_checked(v, f"{path}:{line_no}"))
    return found


def ids_for_split(values: Sequence[str], files: Sequence[Path], option: str,
                  default: Sequence[str]) -> List[VideoId]:
    """A split's ids from its option values and id files; ``default`` when neither is given."""
    if not values and not files:
        return ids_from_args(default, f"default {option}")
    return ids_from_args(values, option) + [v for path in files for v in ids_from_file(path)]


def join_dash_ids(argv: Sequence[str], options: Sequence[str]) -> List[str]:
    """``--train-ids -5KQ66BBWC4`` -> ``--train-ids=-5KQ66BBWC4``: argparse reads a leading "-" as an option.

    Only a value starting with a single "-" is joined; a "--..." token stays an option.
    """
    argv, joined, i = list(argv), [], 0
    while i < len(argv):
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if argv[i] in options and value.startswith("-") and not value.startswith("--"):
            joined.append(f"{argv[i]}={value}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def ids_from_options(args) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Train and val ids from the ``--train-ids``/``--val-ids`` options and their ``-file`` forms (parsed
    ``args``), with the defaults for a split given neither; see ``split_ids``."""
    train = ids_for_split(args.train_ids, args.train_ids_file, "--train-ids", DEFAULT_TRAIN_IDS)
    val = ids_for_split(args.val_ids, args.val_ids_file, "--val-ids", DEFAULT_VAL_IDS)
    return split_ids(train, val)


def split_ids(train: Sequence[VideoId], val: Sequence[VideoId]) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Ordered, de-duplicated train and val ids; an id in both splits is an error naming both places."""
    first_train: Dict[str, VideoId] = {}
    for v in train:
        first_train.setdefault(v.id, v)
    val_ids: Dict[str, None] = {}
    for v in val:
        if v.id in first_train:
            raise UserError(f"video {v.id} is in both splits ({first_train[v.id].origin} and {v.origin}): "
                            "a video is used either for training or for validation")
        val_ids.setdefault(v.id)
    if not first_train or not val_ids:
        raise UserError("give at least one train and one val video id")
    return tuple(first_train), tuple(val_ids)
