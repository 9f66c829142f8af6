"""The pinned upstream release is installed and patched, and the check notices when it is not."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slowfast_custom import upstream

REPO = Path(__file__).resolve().parents[1]


def test_installed_upstream_is_pinned_and_patched():
    status = upstream.status()
    assert status.installed_version == "1.0"
    assert status.files, "the patches touch no file?"
    assert status.patched, status.describe()


def test_check_command_exits_zero_when_patched():
    result = subprocess.run([sys.executable, "-m", "slowfast_custom.upstream", "--check"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "installed and patched" in result.stdout


@pytest.fixture
def pristine_copy(tmp_path):
    """A copy of the installed package with the patches reversed: what `pip install slowfast==1.0` gives."""
    site = upstream.status().site_dir
    shutil.copytree(site / "slowfast", tmp_path / "slowfast")
    pin = upstream.read_pin()
    patches = upstream.patch_files(pin.patch_dir)
    subprocess.run(["git", "apply", "-p1", "--reverse", *map(str, reversed(patches))], cwd=tmp_path, check=True)
    return tmp_path


def test_unpatched_copy_is_detected_and_apply_is_idempotent(pristine_copy):
    pin = upstream.read_pin()
    pristine_hashes = upstream._recorded_hashes(pin.distribution)
    states = upstream.file_states(pristine_copy, pin.patch_dir, pristine_hashes)
    assert set(states.values()) == {"pristine"}
    assert "detectron2" in (pristine_copy / "slowfast/models/head_helper.py").read_text()

    assert upstream.apply_patches(pristine_copy, pin.patch_dir, pristine_hashes).startswith("applied")
    assert set(upstream.file_states(pristine_copy, pin.patch_dir, pristine_hashes).values()) == {"patched"}
    assert upstream.apply_patches(pristine_copy, pin.patch_dir, pristine_hashes) == "already patched"


def test_hand_edited_file_is_refused(pristine_copy):
    pin = upstream.read_pin()
    pristine_hashes = upstream._recorded_hashes(pin.distribution)
    target = pristine_copy / "slowfast/utils/misc.py"
    target.write_text(target.read_text() + "\n# local edit\n")
    with pytest.raises(upstream.UpstreamError, match="neither all pristine nor all patched"):
        upstream.apply_patches(pristine_copy, pin.patch_dir, pristine_hashes)


def test_unpatched_status_names_the_fix_command(tmp_path):
    status = upstream.UpstreamStatus("1.0", tmp_path, {"slowfast/models/head_helper.py": "pristine"},
                                     upstream.read_pin())
    assert not status.patched
    assert upstream.FIX_COMMAND in status.describe()
    assert "head_helper.py (pristine)" in status.describe()
    wrong = upstream.UpstreamStatus("0.9", tmp_path, {}, upstream.read_pin())
    assert "pinned to slowfast==1.0" in wrong.describe()
