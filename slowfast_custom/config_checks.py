"""One validation layer for a config: YAML shape, ``_BASE_`` chains, key types and numeric ranges.

``merge_yaml_file`` replaces fvcore's ``merge_from_file``: it reads each file
itself so that it can refuse a file whose top level is not a mapping, a
``_BASE_`` that is missing or loops, and remember the file and line of every
key. ``merge_overrides`` does the same for ``KEY VALUE`` pairs. ``check_values``
walks every leaf of the merged CfgNode (upstream's keys and the plugin's, not
a hand list alone): numbers finite and in their range, lists of the right
element type, path keys strings. Every refusal is one line naming the key and,
where a file gave it, ``file:line``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml
from fvcore.common.config import CfgNode

from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import read_text

BASE_KEY = "_BASE_"
OVERRIDES = "command-line overrides"

# Where each dotted key was last set: (file, line from 1) or (OVERRIDES, None).
Where = Dict[str, Tuple[str, Optional[int]]]

KEYS_HINT = "slowfast_custom/config.py and upstream's slowfast/config/defaults.py list the known keys"


def located(key: str, where: Where, message: str, hint: str = "") -> UserError:
    """The error for ``key``: ``file:line: message. hint`` where a file set it, else the overrides or no place."""
    path, line = where.get(key, (None, None))
    if path is None or path == OVERRIDES:
        text = message if key in message else f"{key} {message}"
        prefix = f"{OVERRIDES}: " if path == OVERRIDES else ""
        return UserError(prefix + text + (f". {hint}" if hint else ""))
    return DataError(path, message if key in message else f"{key} {message}", line, hint)


# ---------------------------------------------------------------------------
# Reading YAML files with their _BASE_ chain
# ---------------------------------------------------------------------------


def _lines_of(node: yaml.Node, prefix: str, path: str, where: Where) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        key = f"{prefix}{key_node.value}"
        where[key] = (path, key_node.start_mark.line + 1)
        _lines_of(value_node, f"{key}.", path, where)


def _shape(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    return f"a single value ({value!r})"


def load_yaml_with_base(path: Path, chain: Tuple[Path, ...] = ()) -> Tuple[Dict[str, Any], Where]:
    """A YAML config with its ``_BASE_`` files merged under it (as fvcore does), and where each key came from."""
    resolved = path.resolve()
    if resolved in chain:
        loop = " -> ".join(str(p) for p in (*chain[chain.index(resolved):], resolved))
        raise DataError(path, f"_BASE_ chain loops ({loop})", None, "Remove the _BASE_ that points back")
    text = read_text(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise yaml_error(path, err) from None
    if not isinstance(data, dict):
        raise DataError(path, f"the config is {_shape(data)}, not a mapping of keys", None,
                        "Write KEY: value lines, e.g. TRAIN:\\n  BATCH_SIZE: 8")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise DataError(path, f"key {bad[0]!r} is not a name", None, KEYS_HINT)
    where: Where = {}
    _lines_of(node, "", str(path), where)
    if BASE_KEY not in data:
        return data, where
    bases = data.pop(BASE_KEY)
    base_line = where.pop(BASE_KEY)[1]
    if not isinstance(bases, list):
        bases = [bases]
    merged: Dict[str, Any] = {}
    merged_where: Where = {}
    for base in bases:
        if not isinstance(base, str) or not base:
            raise DataError(path, f"_BASE_ {base!r} is not a file name", base_line, "Name a YAML file")
        base_path = Path(base).expanduser()
        if not base_path.is_absolute():
            base_path = path.parent / base_path
        if not base_path.is_file():
            raise DataError(path, f"_BASE_ {base_path}: No such file or directory", base_line,
                            "Check the path (relative to this file)")
        base_data, base_where = load_yaml_with_base(base_path, (*chain, resolved))
        _merge_dict(base_data, merged, str(base_path))
        merged_where.update(base_where)
    _merge_dict(data, merged, str(path))
    merged_where.update(where)
    return merged, merged_where


def _merge_dict(a: Dict[str, Any], b: Dict[str, Any], path: str, prefix: str = "") -> None:
    """Merge ``a`` into ``b`` (``a`` wins), as fvcore's ``load_yaml_with_base`` does."""
    for k, v in a.items():
        if isinstance(v, dict) and k in b:
            if not isinstance(b[k], dict):
                raise DataError(path, f"{prefix}{k} is a mapping here but a value in its _BASE_", None,
                                "Make both the same kind")
            _merge_dict(v, b[k], path, f"{prefix}{k}.")
        else:
            b[k] = v


def yaml_error(path: Path, err: yaml.YAMLError) -> UserError:
    """A YAML syntax error as ``file:line: problem`` (the file may be a _BASE_ of ``path``)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    if mark is None:
        return DataError(path, f"YAML syntax error: {problem}")
    context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and start is not None and start.line != mark.line:
        problem += f" ({context} on line {start.line + 1})"
    return DataError(mark.name if mark.name and not mark.name.startswith("<") else path,
                     f"YAML syntax error: {problem}", mark.line + 1,
                     "Check the indentation, colons and brackets on this line and the one before")


# ---------------------------------------------------------------------------
# Key types, checked against the value the key has before the merge
# ---------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(original: Any) -> str:
    if isinstance(original, bool):
        return "true or false"
    if isinstance(original, int):
        return "a whole number"
    if isinstance(original, float):
        return f"a number with a decimal point (like {original!r})"
    if isinstance(original, str):
        return "a string"
    if isinstance(original, (list, tuple)):
        return "a list ([...])"
    return type(original).__name__


def _element_problem(value: Any, original: Any) -> Optional[str]:
    """What is wrong with the elements of list ``value`` given the default list ``original``."""
    if not isinstance(original, (list, tuple)) or not original:
        return None
    sample = original[0]
    for item in value:
        if isinstance(sample, (list, tuple)):
            if not isinstance(item, (list, tuple)):
                return f"must be a list of lists, got element {item!r}"
            problem = _element_problem(item, sample)
            if problem:
                return problem
        elif _is_number(sample) and not _is_number(item):
            return f"must be a list of numbers, got element {item!r}"
        elif isinstance(sample, str) and not isinstance(item, str):
            return f"must be a list of strings, got element {item!r}"
    return None


def _check_leaf(key: str, value: Any, original: Any, where: Where) -> None:
    # As yacs merges it: a string that reads as a Python literal ("1e-4", which YAML leaves a string) is that value.
    value = CfgNode._decode_cfg_value(value)
    if original is None:
        return
    if value is None and (_is_number(original) or isinstance(original, bool)):
        raise located(key, where, f"is empty (null); it must be {_kind(original)}")
    if isinstance(original, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise located(key, where, f"must be {_kind(original)}, got {value!r}")
        problem = _element_problem(value, original)
        if problem:
            raise located(key, where, problem)
        return
    if value is not None and type(value) is not type(original):
        raise located(key, where, f"must be {_kind(original)}, got {value!r}")


def check_types(data: Dict[str, Any], node: CfgNode, where: Where, prefix: str = "") -> None:
    """Refuse unknown keys and values of another type than the key's in ``node``, naming the key and place."""
    for k, v in data.items():
        key = f"{prefix}{k}"
        if k not in node:
            raise located(key, where, f"Non-existent key: {key}", KEYS_HINT)
        original = node[k]
        if isinstance(original, CfgNode):
            if not isinstance(v, dict):
                raise located(key, where, f"must be a mapping of keys (indented KEY: value lines), got {v!r}")
            check_types(v, original, where, f"{key}.")
        else:
            _check_leaf(key, v, original, where)


def merge_yaml_file(cfg: CfgNode, path: Path, where: Where) -> None:
    """Merge a YAML file and its ``_BASE_`` chain into ``cfg``, checked; ``where`` gains the keys' places."""
    data, file_where = load_yaml_with_base(path)
    where.update(file_where)
    check_types(data, cfg, where)
    cfg.merge_from_other_cfg(CfgNode(data))


def merge_overrides(cfg: CfgNode, opts: Sequence[str], where: Where) -> None:
    """Merge ``KEY VALUE`` pairs into ``cfg``, checked like a file's keys."""
    opts = list(opts)
    if len(opts) % 2:
        raise UserError(f"{OVERRIDES}: {opts[-1]!r} has no value; give KEY VALUE pairs")
    for key, text in zip(opts[0::2], opts[1::2]):
        where[key] = (OVERRIDES, None)
        node = cfg
        for part in key.split("."):
            if not isinstance(node, CfgNode) or part not in node:
                raise located(key, where, f"Non-existent key: {key}", KEYS_HINT)
            node = node[part]
        nested: Dict[str, Any] = {}
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = CfgNode._decode_cfg_value(text)
        check_types(nested, cfg, where)
    cfg.merge_from_list(opts)


# ---------------------------------------------------------------------------
# Numeric ranges: every number of the config, by name pattern and by key
# ---------------------------------------------------------------------------

# (lowest, highest, lowest allowed itself); None: no bound.
Range = Tuple[Optional[float], Optional[float], bool]

# Keys whose range is known one by one. Upstream would clamp (a batch of 0 trains with 1), divide by zero or fail
# deep inside a run instead.
KEY_RANGES: Dict[str, Range] = {
    "TRAIN.CHECKPOINT_PERIOD": (1, None, True),
    "TRAIN.THRESHOLD_FLOOR": (0, None, True),
    "SOLVER.MAX_EPOCH": (1, None, True),
    "SOLVER.BASE_LR": (0, None, False),
    "SOLVER.MOMENTUM": (0, 1, True),
    "SOLVER.DAMPENING": (0, 1, True),
    "SOLVER.GAMMA": (0, None, False),
    "BN.MOMENTUM": (0, 1, True),
    "BN.EPSILON": (0, None, False),
    "MODEL.NUM_CLASSES": (1, None, True),
    "MODEL.DROPOUT_RATE": (0, 1, True),
    "DATA.NUM_FRAMES": (1, None, True),
    "DATA.SAMPLING_RATE": (1, None, True),
    "DATA.TRAIN_CROP_SIZE": (1, None, True),
    "DATA.TEST_CROP_SIZE": (1, None, True),
    "AVA.VAL_SECOND_STRIDE": (1, None, True),
    "LOG_PERIOD": (1, None, True),
    "DEMO.PREDICTION_STRIDE_SEC": (0, None, False),
    "DEMO.TOPK": (1, None, True),
    "DEMO.TRACK_FPS": (0, None, False),
    "DEMO.LIVE_MAX_DELAY": (0, None, False),
    "DEMO.STREAM_TIMEOUT": (0, None, False),
    "DEMO.WEBCAM": (-1, None, True),
    "DEMO.OUTPUT_FPS": (-1, None, True),
    "DEMO.STARTING_SECOND": (None, None, True),
    "RNG_SEED": (None, None, True),
    "SHARD_ID": (0, None, True),
    "NUM_SHARDS": (1, None, True),
}

# Ranges by the last part of a key's name, for every key (upstream's too) the table above does not list.
NAME_RANGES: Tuple[Tuple[str, Range], ...] = (
    (r"(THRESH|THRES)$", (0, 1, True)),
    (r"BATCH_SIZE$", (1, None, True)),
    (r"^NUM_|_NUM$", (0, None, True)),
    (r"(^|_)FPS$", (0, None, False)),
    (r"(_SEC|_SECOND|_SECONDS|_PERIOD|_EPOCHS|_SIZE|_SZ|WIDTH|HEIGHT|DEPTH|TOPK|_LR|WEIGHT_DECAY|EIGVAL|STD|"
     r"_STD|SKIP|SLOWMO|ALPHA|BETA_INV|RATIO|FACTOR|DEPTH|GROUPS|PER_GROUP|RESOLUTION|SCALE_FACTOR|REDUCTION|"
     r"_ID)$", (0, None, True)),
)


def range_of(key: str) -> Optional[Range]:
    if key in KEY_RANGES:
        return KEY_RANGES[key]
    name = key.rsplit(".", 1)[-1]
    for pattern, bounds in NAME_RANGES:
        if re.search(pattern, name):
            return bounds
    return None


def _bound_text(bounds: Range) -> str:
    low, high, low_ok = bounds
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_ok else '>'} {low:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    return " and ".join(parts)


def _in_range(value: float, bounds: Range) -> bool:
    low, high, low_ok = bounds
    if low is not None and (value < low or (value == low and not low_ok)):
        return False
    return high is None or value <= high


def _numbers(value: Any) -> List[float]:
    if _is_number(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    return []


def _leaves(node: CfgNode, prefix: str = ""):
    for k, v in node.items():
        if isinstance(v, CfgNode):
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


# Keys that name files or folders: their value is a string (a path), never a number or a list.
_PATH_NAME = re.compile(r"(_DIR|_PATH|_FILE|_FILES|_WEIGHTS|^CHECKPOINT_FILE_PATH)$")


def check_values(cfg: CfgNode, where: Optional[Where] = None) -> None:
    """Walk every leaf of ``cfg``: numbers finite and in range, path keys strings without control characters."""
    where = where or {}
    for key, value in _leaves(cfg):
        name = key.rsplit(".", 1)[-1]
        if _PATH_NAME.search(name) and not isinstance(value, (list, tuple)):
            if value is not None and not isinstance(value, str):  # null: upstream's YAMLs write it for "none"
                raise located(key, where, f"must be a path (a string), got {value!r}")
            if value and any(ord(c) < 32 for c in value):
                raise located(key, where, f"path {value!r} holds a control character", "Write the path on one line")
        numbers = _numbers(value)
        for number in numbers:
            if not math.isfinite(number):
                bounds = range_of(key)
                extra = f" {_bound_text(bounds)}" if bounds and _bound_text(bounds) else ""
                raise located(key, where, f"must be a finite number{extra}, got {number}",
                              "Write a number (YAML's .nan and .inf are refused)")
        bounds = range_of(key)
        if bounds is None or not _is_number(value):
            continue
        if not _in_range(value, bounds):
            raise located(key, where, f"must be {_bound_text(bounds)}, got {value}")
    if cfg.DEMO.OUTPUT_FPS != -1 and cfg.DEMO.OUTPUT_FPS <= 0:
        raise located("DEMO.OUTPUT_FPS", where, f"must be -1 (the input's) or > 0, got {cfg.DEMO.OUTPUT_FPS}")
