"""Atomic writes: nothing under the final name until complete, usual permissions, no leftovers on error."""

import errno
import os
import stat

import pytest

from slowfast_custom import fileio
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_open, atomic_write_text, iter_text_lines, read_text


def test_atomic_write_gets_usual_permissions(tmp_path):
    target = tmp_path / "out.csv"
    atomic_write_text(target, "a\n")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert target.read_text() == "a\n"


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target, "w") as f:
            f.write("partial")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_text_that_is_not_utf8_is_named_with_its_line(tmp_path):
    path = tmp_path / "rows.csv"
    # Far past the first read buffer, where a text reader would fail without knowing the line.
    path.write_bytes("\ufeffa,1\r\n".encode() + b"b,2\n" * 5000 + b"caf\xe9,3\n")
    lines = iter_text_lines(path)
    assert next(lines) == (1, "a,1\n")  # byte-order mark dropped, CRLF read as LF
    with pytest.raises(DataError, match=r"rows\.csv:5002: not UTF-8 text \(byte 0xe9\)\. Save it as UTF-8"):
        list(lines)
    with pytest.raises(DataError, match=r"rows\.csv:5002: not UTF-8 text"):
        read_text(path)


def test_a_write_error_without_a_file_name_names_the_target(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    with pytest.raises(OSError) as err:
        atomic_write_text(tmp_path / "out.txt", "x")
    assert err.value.filename == str(tmp_path / "out.txt") and err.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []
