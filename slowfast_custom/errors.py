"""Errors meant for the person running a command: what is wrong, where, and what to do."""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Optional, Union

# PyTorch re-raises an error of a DataLoader worker as ``type(err)(text)``, where the text is
# "Caught X in DataLoader worker process N.\nOriginal Traceback ...\n<module>.X: <message>".
_WORKER_TEXT = re.compile(r"^Caught \w+ in DataLoader worker process \d+\.\nOriginal Traceback", re.DOTALL)


def worker_message(text: str) -> str:
    """The original one-line message of an error re-raised from a loader worker; other text unchanged."""
    if not _WORKER_TEXT.match(text):
        return text
    last = [line for line in text.strip().splitlines() if line.strip()][-1]
    # "slowfast_custom.errors.DataError: path: message" -> "path: message"
    return re.sub(r"^[\w.]+(Error|Exception|Interrupt)?: ", "", last, count=1)


class UserError(Exception):
    """A problem with the user's input or environment, reported as one line and a non-zero exit."""

    exit_code = 2

    def __init__(self, *args) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            args = (worker_message(args[0]),)
        super().__init__(*args)


class DataError(UserError):
    """A data file is missing or malformed.

    ``str(err)`` reads ``path:line: problem. hint`` (the line is left out when
    the problem is the file as a whole), the form editors and terminals link.
    ``DataError(text)`` alone (how a loader worker's error is re-raised) keeps ``text``.
    """

    def __init__(
        self,
        path: Union[str, Path],
        message: Optional[str] = None,
        line: Optional[int] = None,
        hint: str = "",
    ) -> None:
        if message is None:
            text = worker_message(str(path))
            self.path, self.line, self.message, self.hint = "", None, text, ""
            super().__init__(text)
            return
        self.path = str(path)
        self.line = line
        self.message = message
        self.hint = hint
        where = f"{self.path}:{line}" if line is not None else self.path
        text = f"{where}: {message}"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class CheckpointError(UserError):
    """A checkpoint cannot be loaded safely or does not fit the model."""


# What to do about the OS errors a user can fix.
_OS_HINTS = {
    errno.ENOSPC: "free some space or write elsewhere",
    errno.EDQUOT: "free some space or write elsewhere",
    errno.EACCES: "check the permissions, or write elsewhere",
    errno.EPERM: "check the permissions, or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file of that name is in the way",
    errno.ENOENT: "check the path",
    errno.EISDIR: "expected a file, found a folder",
}


def os_error_text(err: OSError) -> str:
    """One line for an OS error: the path(s), the reason and what to do."""
    if err.errno is None and not err.filename:
        return worker_message(str(err))
    where = str(err.filename) if err.filename is not None else ""
    if err.filename2 is not None:
        where += f" -> {err.filename2}"
    reason = err.strerror or str(err)
    hint = _OS_HINTS.get(err.errno, "")
    return f"{where + ': ' if where else ''}{reason}" + (f" ({hint})" if hint else "")


def run_cli(main, *args, **kwargs) -> int:
    """Run a tool's ``main``; a UserError or an OS error becomes one line on stderr and exit 2."""
    import sys

    try:
        result = main(*args, **kwargs)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:
        print(f"error: {os_error_text(err)}", file=sys.stderr)
        return UserError.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


# ---------------------------------------------------------------------------
# Range-checked numbers for the tools' command lines (argparse ``type=``)
# ---------------------------------------------------------------------------


def number_in(kind: type, low: Optional[float] = None, high: Optional[float] = None, *, low_ok: bool = True):
    """An argparse ``type`` reading ``kind`` (int or float) in [low, high] (``low_ok=False``: above ``low``).

    A bad value is argparse's one-line usage error (exit 2), not a traceback or a silently clamped run.
    """
    import argparse
    import math

    bounds = []
    if low is not None:
        bounds.append(f"{'>=' if low_ok else '>'} {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    wanted = f"{'an integer' if kind is int else 'a number'}{' ' + ' and '.join(bounds) if bounds else ''}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}") from None
        if (isinstance(value, float) and not math.isfinite(value)) or (
                low is not None and (value < low or (value == low and not low_ok))) or (
                high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is not {wanted}")
        return value

    parse.__name__ = kind.__name__
    return parse
