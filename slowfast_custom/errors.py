"""Errors meant for the person running a command: what is wrong, where, and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class UserError(Exception):
    """A problem with the user's input or environment, reported as one line and a non-zero exit."""

    exit_code = 2


class DataError(UserError):
    """A data file is missing or malformed.

    ``str(err)`` reads ``path:line: problem. hint`` (the line is left out when
    the problem is the file as a whole), the form editors and terminals link.
    """

    def __init__(
        self,
        path: Union[str, Path],
        message: str,
        line: Optional[int] = None,
        hint: str = "",
    ) -> None:
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


def run_cli(main, *args, **kwargs) -> int:
    """Run a tool's ``main``; a UserError becomes one line on stderr and its exit code."""
    import sys

    try:
        result = main(*args, **kwargs)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
