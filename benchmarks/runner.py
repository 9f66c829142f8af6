"""One benchmark run: generate (or reuse) the frames, measure loading, training and the demo, report.

On a machine with CUDA it measures what the issue's targets name: the R101
32x2 recipe at batch 16, fp32 against the fast path, and GPU JPEG decoding.
On a CPU it says so and measures the tiny config instead (on the CPU the
defaults resolve to fp32, so the fast path is forced there to exercise it).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch

from benchmarks.configs import R101_CFG, TINY_CFG, bench_config
from benchmarks.data import FramesSpec, make_frames_dataset
from benchmarks.demo import measure_demo
from benchmarks.index import OURS_BUILD, OURS_REOPEN, IndexSpec, measure_index
from benchmarks.index import UPSTREAM as INDEX_UPSTREAM
from benchmarks.loading import OURS, OURS_GPU, OURS_STORE, UPSTREAM, measure_loading
from benchmarks.record import host_line, plain_table, run_header
from benchmarks.training import AUTOCAST_ONLY, DEFAULTS, FORCED_FAST, FP32, measure_training
from slowfast_custom.data.frame_store import default_store_dir, prepare_frame_store, store_short_side

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    frames: FramesSpec
    loader_repeats: int = 5
    loader_frames: int = 0  # DATA.NUM_FRAMES of the loading comparison; 0: the R101 recipe's 32
    train_batch: int = 16
    train_steps: int = 10
    train_warmup: int = 3
    train_repeats: int = 3
    demo_seconds: float = 10.0
    demo_repeats: int = 3  # turns of each demo backend (PyTorch, onnxruntime on a CPU machine)
    workers: int = 0  # loader workers for training; 0: CPU count - 1 (at least 1)
    index: IndexSpec = IndexSpec()  # the index comparison's annotation set (default: AVA v2.2's train size)
    index_repeats: int = 1

    @classmethod
    def for_machine(cls, cuda: bool, quick: bool) -> "Settings":
        if quick:  # minutes of CPU at most; a smoke test, not a measurement
            return cls(FramesSpec(width=1280, height=720, keyframes=2, tail_frames=16), loader_repeats=1,
                       loader_frames=8, train_batch=2, train_steps=1, train_warmup=0, train_repeats=1,
                       demo_seconds=4.0, demo_repeats=1, workers=1,
                       index=IndexSpec(videos=3, frames_per_video=1000, last_sec=920))
        if cuda:
            return cls(FramesSpec(keyframes=16), demo_repeats=1)
        return cls(FramesSpec(keyframes=8), train_batch=8, train_steps=3, train_warmup=1, train_repeats=3,
                   demo_seconds=4.0, workers=1)


def cfg_file_of(cuda: bool) -> Path:
    return R101_CFG if cuda else TINY_CFG


@dataclass(frozen=True)
class TrainingPlan:
    """What (b) compares: a config file, modes (name -> ``KEY, value`` overrides, the first the baseline), a note."""

    cfg_file: Path
    modes: Dict[str, Sequence[object]]
    note: str


def training_plan(cuda: bool) -> TrainingPlan:
    if cuda:
        return TrainingPlan(R101_CFG, {"fp32": FP32, "fast path (defaults)": DEFAULTS,
                                       "autocast, contiguous": AUTOCAST_ONLY}, "R101 32x2 recipe on CUDA")
    return TrainingPlan(TINY_CFG, {"fp32 (= defaults on CPU)": FP32, "bf16 + channels-last (forced)": FORCED_FAST},
                        "no CUDA device: the R101 32x2 target (fp32 vs bf16 + channels-last at batch 16 on a GPU) "
                        "is not measured; this is the tiny CPU config, where the defaults resolve to fp32")


def prepare_store_timed(cfg, quality: int) -> Dict[str, object]:
    """The one-time step, from scratch: the frame store of ``cfg``'s frames at its largest size."""
    size = store_short_side(cfg)
    frame_dir = Path(cfg.AVA.FRAME_DIR)
    out = default_store_dir(frame_dir, size)
    shutil.rmtree(out, ignore_errors=True)
    report = prepare_frame_store(frame_dir, out, size, quality)
    rate = report.frames / report.seconds
    return {"short_side": size, "quality": quality, "frames": report.frames, "seconds": round(report.seconds, 2),
            "frames_per_s": round(rate, 1), "mib_in": round(report.bytes_in / 2**20, 1),
            "mib_out": round(report.bytes_out / 2**20, 1), "workers": os.cpu_count(),
            "projected_hours_for_6_35M_frames": round(6.35e6 / rate / 3600, 1)}


def run_benchmark(settings: Settings, data_dir: Path, work_dir: Path, parts: List[str],
                  index_dir: Optional[Path] = None) -> Dict[str, object]:
    cuda = torch.cuda.is_available()
    results: Dict[str, object] = {**run_header(), "settings": asdict(settings)}
    if "index" in parts:
        logger.info("(i) index of the train split at %d videos x %d frames: upstream Ava vs Customava",
                    settings.index.videos, settings.index.frames_per_video)
        results["index"] = measure_index(index_dir or data_dir.parent / "benchmark_index", work_dir / "index",
                                         settings.index, settings.index_repeats)
    if not set(parts) - {"index"}:
        return results
    logger.info("Generating or reusing the frames in %s", data_dir)
    results["data"] = make_frames_dataset(data_dir, settings.frames)
    loader_extra = ["DATA.NUM_FRAMES", settings.loader_frames] if settings.loader_frames else []
    workers = settings.workers or max(1, (os.cpu_count() or 2) - 1)

    if "loading" in parts:
        logger.info("(a) clip loading: upstream Ava vs Customava")
        cfg = bench_config(R101_CFG, data_dir, work_dir / "loading", "DATA_LOADER.NUM_WORKERS", 0, *loader_extra)
        logger.info("(a) the one-time step: the frame store")
        store = prepare_store_timed(cfg, settings.frames.jpeg_quality)
        results["loading"] = measure_loading(cfg, settings.loader_repeats, gpu_decode=cuda, frame_store=True)
        results["loading"]["frame_store"] = store
        if not cuda:
            results["loading"]["gpu_decode"] = "not measured: no CUDA device on this machine"

    if "training" in parts:
        plan = training_plan(cuda)
        logger.info("(b) training: %s, batch %d: %s", plan.cfg_file.name, settings.train_batch, ", ".join(plan.modes))
        cfg = bench_config(plan.cfg_file, data_dir, work_dir / "training", "TRAIN.BATCH_SIZE", settings.train_batch,
                           "DATA_LOADER.NUM_WORKERS", workers)
        results["training"] = {"config": plan.cfg_file.name, "note": plan.note,
                               **measure_training(cfg, plan.modes, settings.train_steps, settings.train_warmup,
                                                  settings.train_repeats)}

    if "demo" in parts:
        logger.info("(c) demo throughput on a %g s clip", settings.demo_seconds)
        cfg = bench_config(cfg_file_of(cuda), data_dir, work_dir / "demo", "DATA_LOADER.NUM_WORKERS", 0)
        demo = measure_demo(cfg, data_dir, settings.frames, settings.demo_seconds, work_dir / "demo",
                            settings.demo_repeats)
        results["demo"] = {"config": Path(cfg_file_of(cuda)).name, **demo}
        if not cuda:
            results["demo"]["note"] = "no CUDA device: the tiny CPU config, not the R101 32x2 GPU target"
    return results


def _fmt(value: Optional[float], unit: str = "") -> str:
    return "-" if value is None else f"{value:.3g}{unit}"


def format_table(results: Dict) -> str:
    """The results as a plain-text table: one row per measured variant, ratios to the baseline."""
    rows = [("measurement", "variant", "rate", "vs baseline", "notes")]
    index = results.get("index")
    if index:
        med, speed = index["median"], index["speedup_vs_upstream"]
        for name in (INDEX_UPSTREAM, OURS_BUILD, OURS_REOPEN):
            ratio = speed.get(name)
            rows.append(("(i) index build s", name, f"{med[name]['seconds']:.3g}",
                         f"{ratio['wall']:.3g}x (cpu {ratio['cpu']:.3g}x)" if ratio else "baseline",
                         f"memory +{med[name]['rss_added_mib']:.0f} MiB kept, "
                         f"peak +{med[name]['peak_added_mib']:.0f} MiB, "
                         f"{index['keyframes']} keyframes"))
        for name, run in index["worker_memory_over_an_epoch"].items():
            rows.append(("(i) worker USS growth", name, f"{run['max_growth_mib']:.3g} MiB", "-",
                         f"max over {run['workers']} workers, one epoch of {run['items']} items"))
    loading = results.get("loading")
    if loading:
        rates = loading["clips_per_s"]
        eq = loading["equivalence_vs_upstream"]
        for name in (UPSTREAM, OURS, OURS_STORE, OURS_GPU):
            if name in rates:
                ratio = loading["ratio_vs_upstream"].get(name)
                source = (f"store at {loading['frame_store']['short_side']} px" if name == OURS_STORE
                          else f"1/{loading['reduction']} decode")
                note = (f"{source}, |diff| {eq[name]['mean_abs_levels']:.2f} levels, "
                        f"boxes {eq[name]['max_box_px']:.2g} px") if name in eq else "baseline"
                rows.append(("(a) clips/s", name, _fmt(rates[name]["median"]), _fmt(ratio, "x"), note))
        store = loading.get("frame_store")
        if store:
            rows.append(("(a) frame store, once", f"short side {store['short_side']}",
                         f"{store['frames_per_s']:.3g} frames/s",
                         "-", f"{store['frames']} frames in {store['seconds']:.3g} s, {store['mib_in']:.0f} -> "
                         f"{store['mib_out']:.0f} MiB; 6.35M frames: ~{store['projected_hours_for_6_35M_frames']} h"))
        dec = loading["decode_ms_per_frame"]
        rows.append(("(a) decode ms/frame", f"full vs 1/{dec['reduction']}", f"{dec['full_ms']:.3g} / "
                     f"{dec['reduced_ms']:.3g}", _fmt(dec["ratio"], "x"), "JPEG decoding only"))
        cache = loading["frame_cache_val_in_order"]
        rows.append(("(a) val clips/s", "frame cache on vs off", _fmt(cache["clips_per_s"]["on"]["median"]),
                     _fmt(cache["ratio_on_vs_off"], "x"),
                     f"frames decoded/clip {cache['frames_decoded_per_clip']['on']} vs "
                     f"{cache['frames_decoded_per_clip']['off']}"))
        if "gpu_decode" in loading:
            rows.append(("(a) clips/s", OURS_GPU, "-", "-", loading["gpu_decode"]))
    training = results.get("training")
    if training:
        for name, mode in training["modes"].items():
            ratio = training["ratio_vs_baseline"].get(name)
            mem = f", peak {mode['peak_memory_gib']} GiB" if mode["peak_memory_gib"] is not None else ""
            rows.append(("(b) train iters/s", name,
                         _fmt(mode["iters_per_s"]["median"]), _fmt(ratio, "x") if ratio else "baseline",
                         f"{training['config']}, batch {training['batch_size']}, "
                         f"data wait {mode['data_wait_fraction']:.0%}{mem}"))
    demo = results.get("demo")
    if demo:
        if demo.get("measured"):
            rows.append(("(c) demo frames/s", f"{demo['config']}, PyTorch", _fmt(demo["frames_per_s"]),
                         _fmt(demo["realtime_factor"], "x real time"), demo["video"]))
            if "onnxruntime_vs_pytorch" in demo:
                rows.append(("(c) demo frames/s", f"{demo['config']}, onnxruntime",
                             _fmt(demo["backends"]["onnxruntime"]["median"]), _fmt(demo["onnxruntime_vs_pytorch"], "x"),
                             f"exported ONNX, |diff| {demo['onnx']['max_abs_diff_vs_pytorch']:.2g}"))
            elif demo.get("onnx"):
                rows.append(("(c) demo frames/s", "onnxruntime", "-", "-", f"not measured: {demo['onnx']['why']}"))
        else:
            rows.append(("(c) demo frames/s", "-", "-", "-", f"not measured: {demo.get('why')}"))
    return f"{plain_table(rows)}\n{host_line(results)}"

