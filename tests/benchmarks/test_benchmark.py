"""tools/benchmark.py runs every part on a tiny setting and reports what it did not measure (a smoke test: no timing
is asserted)."""

import json

import pytest
import torch

from conftest import run_tool


@pytest.mark.slow
def test_quick_benchmark_runs_every_part_and_writes_json(tmp_path):
    out = tmp_path / "results.json"
    result = run_tool("benchmark.py", "--quick", "--out", out, "--data-dir", tmp_path / "frames", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert not list(tmp_path.glob(".results.json.*"))  # written atomically

    loading = results["loading"]
    assert loading["reduction"] == 2  # 1280x720 frames, jitter scales up to 320
    assert loading["clips_per_s"]["upstream Ava"]["median"] > 0
    exact = loading["equivalence_vs_upstream"]["Customava, fast path off"]
    assert exact["same_shapes"] and exact["max_abs_levels"] == 0 and exact["max_box_px"] < 1e-3
    assert loading["equivalence_vs_upstream"]["Customava"]["mean_abs_levels"] < 2
    assert set(loading["frame_cache_val_in_order"]["frames_decoded_per_clip"]) == {"off", "on"}

    training = results["training"]
    assert len(training["modes"]) == 2 and all(m["iters_per_s"]["median"] > 0 for m in training["modes"].values())
    if not torch.cuda.is_available():
        assert "no CUDA device" in training["note"] and "not measured" in loading["gpu_decode"]
    assert "measured" in results["demo"]  # measured, or the reason it was not

    table = result.stdout
    for row in ("(a) clips/s", "(b) train iters/s", "(c) demo frames/s", "host:"):
        assert row in table
