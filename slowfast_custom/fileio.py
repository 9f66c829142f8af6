"""Writing files so that an interrupted run never leaves a half-written file under the final name."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator, List, Optional, Pattern, Sequence, Tuple, Union

from slowfast_custom.errors import UserError

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]


def existing_ancestor(path: PathLike) -> Path:
    """The nearest of ``path``'s parents that exists (a file there means ``path`` cannot be made)."""
    probe = Path(path).parent
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe


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


# What ``temporary_sibling`` names look like: tempfile's random part is 8 of [a-z0-9_].
_TEMPORARY_NAME = re.compile(r"^\.(?P<final>.+)\.[a-z0-9_]{8}\.tmp$")


def remove_stale_temporaries(folder: PathLike, final_name: Pattern[str]) -> List[Path]:
    """Delete the temporary files a killed writer left in ``folder``; return them.

    Only names ``temporary_sibling`` makes for a final name matching ``final_name``
    are touched, and only directly in ``folder``. Call it where no other
    process can be writing those files (one run per output folder).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = sorted(p for p in folder.iterdir()
                   if (m := _TEMPORARY_NAME.match(p.name)) and final_name.match(m.group("final")) and p.is_file())
    for path in stale:
        path.unlink()
        logger.info("Removed %s, left by an interrupted write", path)
    return stale


def fsync_path(path: PathLike) -> None:
    """Flush a file's or a folder's data and entries to the disk (power-loss safety)."""
    flags = os.O_RDONLY
    if Path(path).is_dir():
        flags |= getattr(os, "O_DIRECTORY", 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError as err:
        # Some file systems (and platforms) cannot fsync a folder; the rename is still atomic there.
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def os_error_in(err: Optional[BaseException]) -> Optional[OSError]:
    """The OSError ``err`` is or arose from: libraries that write through Python (torch.save into a file
    object) can mask it, e.g. torch's zip writer raises "unexpected pos" while handling a full disk."""
    while err is not None:
        if isinstance(err, OSError):
            return err
        err = err.__cause__ or err.__context__
    return None


def write_error(path: PathLike, err: OSError, what: str, note: str = "") -> UserError:
    """One line for an OS error while writing ``what`` to ``path`` (a full disk most of all); ``note`` is appended."""
    hint = "; free some space and run again" if err.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return UserError(f"{path}: cannot write {what} ({err.strerror or err}){note}{hint}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: PathLike, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``path``, on error removed.

    ``durable``: also survive a power loss. The file and its folder are
    fsynced before the rename (else the new name can point at data still in
    the page cache: a truncated file after a crash) and the folder after it.
    """
    try:
        with staged_paths([path], durable) as (tmp,):
            yield tmp
    except OSError as err:
        if err.filename is None:  # a write or fsync error (e.g. no space left) names no file: name the target
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise


@contextlib.contextmanager
def staged_paths(paths: Sequence[PathLike], durable: bool = False) -> Iterator[List[Path]]:
    """Temporary names for several outputs, renamed to ``paths`` together when the block succeeds.

    On an error in the block every temporary file is removed and no final name
    is touched; if a rename itself fails, the outputs already renamed are
    removed too, so the set appears whole or not at all.
    """
    finals = [Path(p) for p in paths]
    tmps: List[Path] = []
    done: List[Path] = []
    try:
        for final in finals:
            tmps.append(temporary_sibling(final))
        yield tmps
        if durable:
            for tmp in tmps:
                fsync_path(tmp)
            for folder in {final.parent for final in finals}:
                fsync_path(folder)
        for tmp, final in zip(tmps, finals):
            os.replace(tmp, final)
            done.append(final)
        if durable:
            for folder in {final.parent for final in finals}:
                fsync_path(folder)
    except BaseException:
        if len(done) < len(finals):
            for final in done:
                final.unlink()
        raise
    finally:
        for tmp in tmps:
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


# ---------------------------------------------------------------------------
# One run per folder
# ---------------------------------------------------------------------------

LOCK_NAME = ".in_use.lock"


_HELD: set = set()  # lock files this process holds


@contextlib.contextmanager
def hold_folder(folder: PathLike, what: str = "the folder") -> Iterator[Path]:
    """Hold ``folder`` (made if missing) for this run: a second run gets a UserError naming it and the holder.

    A POSIX record lock (``fcntl.lockf``) on ``folder/.in_use.lock``: the OS
    releases it when the holder exits in any way (kill -9 included), so a
    killed run never leaves the folder stuck; the file itself stays (removing
    it would race with a run opening it). Unlike ``flock``, the lock is the
    process's own, not inherited by the processes it forks: a loader worker
    that outlives a killed run for a moment does not keep the folder held.
    """
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = (folder / LOCK_NAME).resolve()
    if lock in _HELD:  # a POSIX lock is the process's: a second one here would succeed, and its close release both
        raise UserError(f"{folder}: {what} is in use by another run (process {os.getpid()}, this one); "
                        f"wait for it to end, or give another {what}")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: held by another process
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        raise UserError(f"{folder}: {what} is in use by another run{f' (process {holder})' if holder else ''}; "
                        f"wait for it to end, or give another {what}") from None
    except BaseException:
        os.close(fd)
        raise
    _HELD.add(lock)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        _HELD.discard(lock)
        os.close(fd)
