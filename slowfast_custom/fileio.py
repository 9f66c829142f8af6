"""Writing files so that an interrupted run never leaves a half-written file under the final name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator, Tuple, Union

PathLike = Union[str, Path]


def temporary_sibling(path: PathLike) -> Path:
    """A fresh temporary name next to ``path`` (same file system, so the rename is atomic).

    The name starts with a dot and ends in ``.tmp``, so no reader that looks
    for the final name (or for ``checkpoint_epoch_*.pyth``) can pick it up.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp makes the file private (0600); the final file should get the usual
    # permissions, as open() would give it.
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return Path(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``path``, on error removed."""
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        if err.filename is None:  # a write or fsync error (e.g. no space left) names no file: name the target
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``open`` for writing that only shows the file under ``path`` once it is complete."""
    if not any(m in mode for m in "wx"):
        raise ValueError("atomic_open is for writing")
    with atomic_path(path) as tmp:
        newline = kwargs.pop("newline", "" if "b" not in mode else None)
        with open(tmp, mode, newline=newline, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: PathLike, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------------------
# Reading text: UTF-8, and a decoding error names the file and line
# ---------------------------------------------------------------------------

TEXT_HINT = "Save it as UTF-8 text (most editors: File > Save with encoding)"


def _not_text(path: PathLike, line_no: int, err: UnicodeDecodeError):
    from slowfast_custom.errors import DataError

    bad = err.object[err.start:err.start + 1].hex()
    return DataError(path, f"not UTF-8 text (byte 0x{bad})", line_no, TEXT_HINT)


def decode_lines(raw_lines: Iterable[bytes], path: PathLike) -> Iterator[Tuple[int, str]]:
    """``(line number from 1, line)`` of UTF-8 byte lines read from ``path`` (a name for messages).

    Each line is decoded on its own, so a byte sequence that is not UTF-8
    raises DataError naming the file and its line (a buffered text reader
    fails a chunk ahead, naming neither). A byte-order mark at the start is
    dropped and CRLF reads as LF.
    """
    for line_no, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise _not_text(path, line_no, err) from None
        if line_no == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if text.endswith("\r\n"):
            text = text[:-2] + "\n"
        yield line_no, text


def iter_text_lines(path: PathLike) -> Iterator[Tuple[int, str]]:
    """``decode_lines`` of a text file, streamed."""
    with open(path, "rb") as f:
        yield from decode_lines(f, path)


def read_text(path: PathLike) -> str:
    """A whole UTF-8 text file (a byte-order mark dropped); DataError naming the file and line if not UTF-8."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _not_text(path, data.count(b"\n", 0, err.start) + 1, err) from None
    return text[1:] if text.startswith("\ufeff") else text
