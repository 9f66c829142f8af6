"""The README's first command, `make quickstart`, as a user runs it (into a temporary folder): the synthetic
dataset, 14 epochs of the tiny config with evaluation and its test pass, the report, and the demo video whose
predictions are in the video's own seconds. What the next step needs is checked, not only the exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from conftest import REPO

pytestmark = [pytest.mark.journey, pytest.mark.slow, pytest.mark.timeout(2400)]


def test_make_quickstart_trains_evaluates_and_renders_the_demo(tmp_path):
    data, out = tmp_path / "synthetic", tmp_path / "quickstart"
    venv = Path(sys.prefix)  # the set-up's own .venv: `make setup` has run (its marker file is there)
    if not (venv / ".setup-done").is_file():
        pytest.skip(f"{venv} is not a venv made by `make setup`")
    result = subprocess.run(["make", "quickstart", f"VENV={venv}", f"DATA={data}", f"OUT={out}"], cwd=REPO,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    epochs = json.loads((out / "train_curves.json").read_text())["epochs"]
    assert [r["epoch"] for r in epochs] == list(range(1, 15))  # the README's 14 epochs
    metrics = json.loads((out / "eval" / "test_metrics.json").read_text())
    assert 0.0 <= metrics["frame_map"] <= 1.0 and metrics["videos"]
    assert (out / "report.md").is_file()
    video = out / "demo" / "synth_val_004_demo.mp4"
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == len(list((data / "frames" / "synth_val_004").glob("*.jpg")))  # every frame rendered
    doc = json.loads((out / "demo" / "synth_val_004_demo_predictions.json").read_text())
    seconds = sorted({p["second"] for p in doc["predictions"]})
    assert seconds and seconds[0] >= 0 and seconds[-1] <= frames / 30  # the video's own time, not AVA's 900
    assert f"Demo video: {video}" in result.stdout
