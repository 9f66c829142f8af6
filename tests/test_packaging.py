"""A built wheel works outside the source tree: the console command, the upstream check, a tool on generated
data and a config found by name, all from the installed package (not this checkout, not the editable install)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Build outputs and local data: not part of what a wheel is built from.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "datasets",
                                     "output", ".pytest_cache")



def _run(args, **kwargs):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(folder the wheel is installed in, environment that runs it first on sys.path)."""
    work = tmp_path_factory.mktemp("packaging")
    # A copy, so that the build's build/ and *.egg-info never land in the checkout.
    source = work / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(work),
          str(source)])
    wheels = list(work.glob("slowfast_custom-*.whl"))
    assert len(wheels) == 1
    target = work / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheels[0])])
    shutil.rmtree(source)
    # The shared environment's packages (torch, the patched upstream) stay importable; the wheel comes first and
    # shadows the editable install (a meta-path finder that Python consults after sys.path).
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONWARNINGS="ignore")
    env.pop("PYTHONSAFEPATH", None)
    return target, env


@pytest.mark.slow
def test_wheel_carries_configs_pin_and_patches(installed):
    target, _env = installed
    package = target / "slowfast_custom"
    assert (package / "configs" / "SLOWFAST_32x2_R101_custom.yaml").is_file()
    assert (package / "configs" / "Base-Customava.yaml").is_file()
    assert (package / "upstream_patches" / "pin.txt").is_file()
    assert list((package / "upstream_patches" / "slowfast-1.0").glob("*.patch"))
    assert (package / "labelling" / "app" / "static").is_dir()
    assert (target / "bin" / "slowfast-custom").is_file()


@pytest.mark.slow
def test_installed_command_runs_from_any_folder(installed, tmp_path):
    target, env = installed
    command = [sys.executable, str(target / "bin" / "slowfast-custom")]
    where = _run([sys.executable, "-c", "import slowfast_custom; print(slowfast_custom.__file__)"], env=env,
                 cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout

    assert "subcommands:" in _run([*command, "--help"], env=env, cwd=tmp_path).stdout
    assert "installed and patched" in _run([*command, "upstream", "--check"], env=env, cwd=tmp_path).stdout
    configs = _run([*command, "configs"], env=env, cwd=tmp_path).stdout
    assert configs.splitlines()[0] == str(target / "slowfast_custom" / "configs")

    data = tmp_path / "synthetic"
    _run([*command, "synthetic", "--out", str(data), "--train-videos", "1", "--val-videos", "1", "--seconds", "3"],
         env=env, cwd=tmp_path)
    # A config by name, found in the installed package, against the generated data.
    check = subprocess.run([*command, "check", str(data), "--cfg", "SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert "config file not found" not in check.stderr and "Traceback" not in check.stderr, check.stderr
    assert check.returncode in (0, 1) and check.stdout.strip(), check.stderr


def test_cpu_setup_takes_torch_from_the_cpu_index_first(tmp_path):
    index = "https://download.pytorch.org/whl/cpu"
    plan = _run(["make", "-n", "-C", str(REPO), "setup", f"VENV={tmp_path / 'venv'}", f"TORCH_INDEX={index}"]).stdout
    lines = plan.splitlines()
    cpu = [i for i, line in enumerate(lines) if f"--index-url {index} torch torchvision" in line]
    project = [i for i, line in enumerate(lines) if "install --quiet -e" in line]
    assert cpu and project and cpu[0] < project[0], plan
    default = _run(["make", "-n", "-C", str(REPO), "setup", f"VENV={tmp_path / 'venv'}"]).stdout
    assert "--index-url" not in default
