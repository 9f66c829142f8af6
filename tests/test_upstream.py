"""The pinned upstream release is installed and patched, and the check notices when it is not."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slowfast_custom import upstream

from conftest import TINY_CFG

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


# A fresh interpreter in which upstream reads as unpatched, as after a plain `pip install slowfast==1.0`: the
# status names pristine files, and upstream's model code fails to import as the pristine head_helper does.
FAKE_UNPATCHED = '''
import runpy, sys
from slowfast_custom import upstream

real_status = upstream.status

def unpatched(pin=None):
    found = real_status(pin)
    return upstream.UpstreamStatus(found.installed_version, found.site_dir, {f: "pristine" for f in found.files},
                                   found.pin)

class PristineModels:
    def find_spec(self, name, path=None, target=None):
        if name == "slowfast.models" or name.startswith("slowfast.models."):
            raise ImportError("No module named 'detectron2'")

upstream.status = unpatched
sys.meta_path.insert(0, PristineModels())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def run_unpatched(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FAKE_UNPATCHED, str(REPO / "tools" / tool), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.mark.parametrize("tool, args", [
    ("run_net.py", ["--cfg", TINY_CFG]),
    ("export_model.py", ["--cfg", TINY_CFG, "--checkpoint", "{weights}", "--format", "onnx"]),
    ("annotate.py", ["no_dataset", "--model", TINY_CFG, "{weights}"]),
])
def test_model_tools_on_unpatched_upstream_say_one_line(tool, args, tmp_path):
    weights = tmp_path / "x.pyth"  # options are checked first: the file exists, the upstream check then says no
    weights.write_bytes(b"")
    result = run_unpatched(tool, *[str(a).format(weights=weights) for a in args])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and upstream.FIX_COMMAND in lines[0], result.stderr
    assert "(pristine)" in lines[0]


def test_model_free_tools_work_on_unpatched_upstream(tiny_dataset, tmp_path):
    checked = run_unpatched("check_dataset.py", tiny_dataset, "--cfg", TINY_CFG)
    assert checked.returncode == 0 and "Traceback" not in checked.stderr, checked.stdout + checked.stderr
    actions = tmp_path / "actions.txt"
    actions.write_text("stand\nwalk\n")
    exported = run_unpatched("export_via.py", "--data", tiny_dataset, "--actions", actions, "--no-tracks",
                             "--out", tmp_path / "via")
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "via" / "via_project.json").is_file()


def test_upstream_command_runs_on_unpatched_upstream():
    # `python -m slowfast_custom.upstream` imports the package first: the command that repairs upstream must not be
    # stopped by the state it repairs. Here every file hashes as if edited by hand.
    code = ("import hashlib, runpy, sys\n"
            "real = hashlib.sha256\n"
            "hashlib.sha256 = lambda data=b'': real(b'edited' + data)\n"
            "sys.argv = ['upstream', '--check']\n"
            "runpy.run_module('slowfast_custom.upstream', run_name='__main__', alter_sys=True)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "(modified)" in result.stdout and upstream.FIX_COMMAND in result.stdout
