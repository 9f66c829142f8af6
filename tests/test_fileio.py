"""Atomic writes: nothing under the final name until complete, usual permissions, no leftovers on error."""

import os
import stat

import pytest

from slowfast_custom.fileio import atomic_open, atomic_write_text


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
