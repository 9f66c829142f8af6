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
    stored = loading["equivalence_vs_upstream"]["Customava, frame store"]
    assert stored["same_shapes"] and stored["max_box_px"] < 1e-3 and stored["mean_abs_levels"] < 5
    assert loading["frame_store"]["frames"] > 0 and loading["frame_store"]["short_side"] == 320

    index = results["index"]  # 3 videos x seconds 902-920 in the quick setting
    assert index["keyframes"] == 57 and {b["keyframes"] for runs in index["builds"].values() for b in runs} == {57}
    assert all(w["items"] == 57 for w in index["worker_memory_over_an_epoch"].values())

    training = results["training"]
    assert len(training["modes"]) == 2 and all(m["iters_per_s"]["median"] > 0 for m in training["modes"].values())
    if not torch.cuda.is_available():
        assert "no CUDA device" in training["note"] and "not measured" in loading["gpu_decode"]
    assert "measured" in results["demo"]  # measured, or the reason it was not

    table = result.stdout
    for row in ("(i) index build s", "(i) worker USS growth", "(a) clips/s", "(a) frame store, once",
                "(b) train iters/s", "(c) demo frames/s", "host:"):
        assert row in table


@pytest.mark.parametrize("bf16", [True, False])
def test_on_cuda_training_compares_the_r101_recipe_in_fp32_with_the_defaults(monkeypatch, tmp_path, bf16):
    # What (b) runs on a GPU, checked here without one: the recipe the target names, and modes that resolve on
    # CUDA to fp32 (the baseline), the defaults (mixed precision + channels-last 3D) and mixed precision alone.
    from benchmarks.configs import R101_CFG, bench_config, variant
    from benchmarks.runner import training_plan
    from slowfast_custom.engine.precision import StepPrecision

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    plan = training_plan(cuda=True)
    assert plan.cfg_file == R101_CFG
    cfg = bench_config(plan.cfg_file, tmp_path, tmp_path / "out", "TRAIN.BATCH_SIZE", 16)
    assert (cfg.RESNET.DEPTH, cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.TRAIN.BATCH_SIZE) == (101, 32, 2, 16)
    mixed = torch.bfloat16 if bf16 else torch.float16
    resolved = [StepPrecision.from_cfg(variant(cfg, overrides), torch.device("cuda", 0))
                for overrides in plan.modes.values()]
    assert [(p.autocast_dtype, p.channels_last) for p in resolved] == [(None, False), (mixed, True), (mixed, False)]
    assert [p.needs_grad_scaler for p in resolved] == [False, not bf16, not bf16]
