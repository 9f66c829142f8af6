"""Shared fixtures: a tiny synthetic dataset and configs that train on it in seconds on a CPU."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TINY_CFG = REPO / "slowfast_custom" / "configs" / "SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml"

# Overrides that make the quick-start config fast enough for a test.
TINY_OVERRIDES = [
    "TRAIN.BATCH_SIZE", "2", "TEST.BATCH_SIZE", "2", "SOLVER.MAX_EPOCH", "1",
    "DATA_LOADER.NUM_WORKERS", "0", "LOG_PERIOD", "1", "TEST.ENABLE", "False",
]


def shared_file(*parts: str) -> Path:
    """A file from ../shared, or skip the test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def require_browser() -> None:
    """Skip a test that drives the labelling app's page when Playwright or Chromium is missing, naming which;
    fail instead under ``CI``, where the set-up (make test) must have installed them."""
    from benchmarks.browser import browser_missing

    reason = browser_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}; the test set-up (make test) installs them")
    if reason:
        pytest.skip(reason)


def require_onnxruntime() -> None:
    """Skip a test of the export extra when onnxruntime is missing; fail instead under ``CI``, where the test
    extra (make test) installs it."""
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        reason = "onnxruntime is not installed (pip install -e '.[export]')"
        if os.environ.get("CI"):
            pytest.fail(f"export tests cannot run in CI: {reason}; the test set-up (make test) installs it")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """Two train and two val videos of 4 s at 30 fps, in the plugin's dataset layout."""
    from slowfast_custom.data.synthetic import SyntheticSpec, make_synthetic_dataset

    root = tmp_path_factory.mktemp("tiny_synthetic")
    make_synthetic_dataset(root, SyntheticSpec(train_videos=2, val_videos=2, seconds=4, seed=1))
    return root


@pytest.fixture(scope="session")
def mixed_size_dataset(tmp_path_factory) -> Path:
    """The tiny dataset with its second val video re-rendered at another aspect ratio (240x90 beside 160x120),
    as a user's own videos are: the test split's full frames then differ in width."""
    import dataclasses
    import shutil

    import numpy as np

    from slowfast_custom.ava.formats import read_box_csv, write_box_csv
    from slowfast_custom.data.synthetic import SyntheticSpec, make_synthetic_dataset, predicted_rows, render_video

    root = tmp_path_factory.mktemp("mixed_size")
    spec = SyntheticSpec(train_videos=2, val_videos=2, seconds=4, seed=1)
    make_synthetic_dataset(root, spec)
    wide, rng = "synth_val_001", np.random.default_rng(5)
    shutil.rmtree(root / "frames" / wide)  # same length and fps: the frame list stays right
    _, rows = render_video(root / "frames", wide, dataclasses.replace(spec, width=240, height=90), rng)
    ann = root / "annotations"
    gt = [r for r in read_box_csv(ann / "ava_val_v2.2.csv", "gt") if r.video_id != wide] + rows
    write_box_csv(ann / "ava_val_v2.2.csv", gt, "gt")
    gt = read_box_csv(ann / "ava_val_v2.2.csv", "gt")  # predicted boxes from the rounded coordinates written
    write_box_csv(ann / "ava_val_predicted_boxes.csv", predicted_rows(gt, rng), "predicted")
    return root


def tiny_cfg(data_dir: Path, output_dir: Path, *overrides: str):
    """The quick-start config on ``data_dir`` with the test overrides, loaded as run_net.py would."""
    from slowfast_custom.config import load_config

    opts: List[str] = TINY_OVERRIDES + ["DATA.PATH_TO_DATA_DIR", str(data_dir), "OUTPUT_DIR", str(output_dir)]
    args = argparse.Namespace(cfg_file=str(TINY_CFG), opts=opts + list(overrides), shard_id=0, num_shards=1)
    return load_config(args)


def untrained_checkpoint(data_dir: Path, output_dir: Path, head_scale: float = 1.0):
    """The tiny model with random weights (seed 0; the head's weights times ``head_scale``, so scores spread),
    saved in ``output_dir`` as training saves it; returns (config, checkpoint path). For tests of mechanics, not
    skill."""
    import torch
    from slowfast.models.model_builder import build_model

    from slowfast_custom.checkpoint import save_checkpoint

    cfg = tiny_cfg(data_dir, output_dir)
    torch.manual_seed(0)
    model = build_model(cfg)
    with torch.no_grad():
        model.head.projection.weight.mul_(head_scale)
    return cfg, save_checkpoint(str(output_dir), model, torch.optim.SGD(model.parameters(), lr=0.1), 0, cfg)


def copy_of_dataset(dataset: Path, root: Path) -> Path:
    """``root``: a private copy of ``dataset``'s lists and annotations (to edit), its frames shared through a link."""
    shutil.copytree(dataset / "annotations", root / "annotations")
    shutil.copytree(dataset / "frame_lists", root / "frame_lists")
    (root / "frames").symlink_to(dataset / "frames", target_is_directory=True)
    return root


def run_tool(script: str, *args: str, timeout: int = 600, env=None) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` with this interpreter; return the completed process (never raises on exit code)."""
    full_env = dict(os.environ, PYTHONWARNINGS="ignore", **(env or {}))
    return subprocess.run([sys.executable, str(REPO / "tools" / script), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=REPO)
