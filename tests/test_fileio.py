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
def test_staged_outputs_appear_together(tmp_path):
    from slowfast_custom.fileio import staged_paths

    finals = [tmp_path / "v.mp4", tmp_path / "v.csv", tmp_path / "sub" / "v.json"]
    with staged_paths(finals) as tmps:
        for tmp, text in zip(tmps, "abc"):
            tmp.write_text(text)
        assert not any(p.exists() for p in finals)
    assert [p.read_text() for p in finals] == ["a", "b", "c"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub", "v.csv", "v.json", "v.mp4"]


def test_a_failure_between_staged_outputs_leaves_none(tmp_path):
    from slowfast_custom.fileio import staged_paths

    finals = [tmp_path / "v.mp4", tmp_path / "v.csv", tmp_path / "v.json"]
    with pytest.raises(OSError):
        with staged_paths(finals) as tmps:
            tmps[0].write_text("video")
            tmps[1].write_text("csv")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_takes_back_the_outputs_already_renamed(tmp_path, monkeypatch):
    from slowfast_custom import fileio

    finals = [tmp_path / "v.mp4", tmp_path / "v.csv", tmp_path / "v.json"]
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace)
    with pytest.raises(PermissionError):
        with fileio.staged_paths(finals) as tmps:
            for tmp in tmps:
                tmp.write_text("x")
    assert calls == finals and list(tmp_path.iterdir()) == []


def test_remove_stale_temporaries_only_touches_its_own_pattern(tmp_path):
    import re

    from slowfast_custom.fileio import remove_stale_temporaries, temporary_sibling

    ours = temporary_sibling(tmp_path / "frame_000001.jpg")
    others = [tmp_path / ".notes.txt.abcdefgh.tmp", tmp_path / "frame_000002.jpg", tmp_path / ".frame_000003.jpg.tmp"]
    for path in others:
        path.write_text("keep")
    (tmp_path / "sub").mkdir()
    nested = tmp_path / "sub" / ".frame_000004.jpg.abcdefgh.tmp"
    nested.write_text("keep")
    assert remove_stale_temporaries(tmp_path, re.compile(r"^frame_\d{6}\.jpg$")) == [ours]
    assert not ours.exists() and all(p.exists() for p in others + [nested])
    assert remove_stale_temporaries(tmp_path / "missing", re.compile(".*")) == []


def test_hold_folder_refuses_a_second_holder_and_releases_on_exit(tmp_path):
    from slowfast_custom.errors import UserError
    from slowfast_custom.fileio import LOCK_NAME, hold_folder

    with hold_folder(tmp_path / "run", "OUTPUT_DIR") as folder:
        assert folder == tmp_path / "run" and (folder / LOCK_NAME).is_file()
        with pytest.raises(UserError, match=r"run: OUTPUT_DIR is in use by another run \(process \d+(, this one)?\)"):
            with hold_folder(tmp_path / "run", "OUTPUT_DIR"):
                pass
    with hold_folder(tmp_path / "run", "OUTPUT_DIR"):  # released when the block ends
        pass


def test_a_killed_holders_surviving_child_does_not_keep_the_folder(tmp_path):
    """A run killed with kill -9 may leave a forked child (a loader worker) alive for a moment: the lock is the
    run's own, so its resume is not refused meanwhile."""
    import subprocess
    import sys

    from slowfast_custom.errors import UserError
    from slowfast_custom.fileio import hold_folder

    code = (f"import os, time\nfrom slowfast_custom.fileio import hold_folder\n"
            f"with hold_folder({str(tmp_path / 'run')!r}, 'OUTPUT_DIR'):\n"
            "    if os.fork() == 0:\n        time.sleep(20)\n        os._exit(0)\n"
            "    print('held', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match="OUTPUT_DIR is in use by another run"):
            with hold_folder(tmp_path / "run", "OUTPUT_DIR"):
                pass
        holder.kill()
        holder.wait()
        with hold_folder(tmp_path / "run", "OUTPUT_DIR"):  # the child still sleeps, the folder is free
            pass
    finally:
        holder.kill()
        subprocess.run(["pkill", "-f", "from slowfast_custom.fileio import hold_folder"], check=False)
