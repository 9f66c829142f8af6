"""Training iterations per second: fp32 against the fast path, on the same loader and batches.

Each mode has its own model (same initial weights), optimizer and
``StepPrecision``, and runs the trainer's own ``training_step``; the modes
take turns on one stream of batches from the plugin's loader, so the
fraction of step time spent waiting for data shows whether the loader keeps
up with each of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

import torch
from slowfast.models import losses
from slowfast.models import optimizer as optim
from slowfast.models.model_builder import build_model

from benchmarks.configs import variant
from benchmarks.timing import Rates
from slowfast_custom.engine.loader import build_loader
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.engine.trainer import device_of, training_step

FP32 = ["TRAIN.MIXED_PRECISION", "fp32", "TRAIN.MEMORY_FORMAT", "contiguous"]
DEFAULTS = ["TRAIN.MIXED_PRECISION", "auto", "TRAIN.MEMORY_FORMAT", "auto"]
# The defaults without channels-last: tells whether channels-last 3D helps on the GPU at hand.
AUTOCAST_ONLY = ["TRAIN.MIXED_PRECISION", "auto", "TRAIN.MEMORY_FORMAT", "contiguous"]
# What "auto" gives on CUDA, forced: on the CPU the defaults resolve to fp32, so only this exercises the fast path.
FORCED_FAST = ["TRAIN.MIXED_PRECISION", "bf16", "TRAIN.MEMORY_FORMAT", "channels_last"]


def _cycle(loader) -> Iterator:
    while True:
        yield from loader


@dataclass
class _Mode:
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    precision: StepPrecision
    scaler: Optional[torch.amp.GradScaler]
    wait: float = 0.0
    total: float = 0.0
    peak_bytes: int = 0

    def run(self, batches: Iterator, steps: int, loss_fun, device: torch.device) -> float:
        """``steps`` training steps; return their wall time."""
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        for _ in range(steps):
            fetch = time.perf_counter()
            batch = next(batches)
            self.wait += time.perf_counter() - fetch
            training_step(self.model, self.optimizer, loss_fun, batch, device, self.precision, self.scaler,
                          "a benchmark step")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            self.peak_bytes = max(self.peak_bytes, torch.cuda.max_memory_allocated(device))
        elapsed = time.perf_counter() - start
        self.total += elapsed
        return elapsed


def measure_training(cfg, modes: Mapping[str, Sequence[object]], steps: int, warmup: int,
                     repeats: int) -> Dict[str, object]:
    """Iterations/s of each mode (``KEY, value`` overrides of ``cfg``), the first being the baseline."""
    device = device_of(cfg)
    loss_fun = losses.get_loss_func(cfg.MODEL.LOSS_FUNC)(reduction="mean")
    loader = build_loader(cfg, "train")
    batches = _cycle(loader)
    runners: Dict[str, _Mode] = {}
    initial: Optional[Dict[str, torch.Tensor]] = None
    torch.manual_seed(cfg.RNG_SEED)
    for name, overrides in modes.items():
        mode_cfg = variant(cfg, list(overrides))
        model = build_model(mode_cfg)
        if initial is None:
            initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict(initial)
        precision = StepPrecision.from_cfg(mode_cfg, device)
        precision.prepare_model(model)
        model.train()
        runners[name] = _Mode(model, optim.construct_optimizer(model, mode_cfg), precision, precision.grad_scaler())
    for runner in runners.values():
        runner.run(batches, warmup, loss_fun, device)
        runner.wait = runner.total = 0.0
    rates = Rates({name: [] for name in runners})
    names: List[str] = list(runners)
    for repeat in range(repeats):
        for name in (names if repeat % 2 == 0 else names[::-1]):
            rates.per_repeat[name].append(steps / runners[name].run(batches, steps, loss_fun, device))
    baseline = names[0]
    return {
        "device": str(device),
        "batch_size": int(cfg.TRAIN.BATCH_SIZE),
        "frames": int(cfg.DATA.NUM_FRAMES),
        "crop": int(cfg.DATA.TRAIN_CROP_SIZE),
        "loader_workers": int(cfg.DATA_LOADER.NUM_WORKERS),
        "steps_per_repeat": steps,
        "warmup_steps": warmup,
        "repeats": repeats,
        "modes": {
            name: {
                "step": runner.precision.describe(),
                "iters_per_s": rates.as_dict()[name],
                "data_wait_fraction": round(runner.wait / runner.total, 4) if runner.total else None,
                "peak_memory_gib": round(runner.peak_bytes / 2**30, 2) if device.type == "cuda" else None,
            }
            for name, runner in runners.items()
        },
        "baseline": baseline,
        "ratio_vs_baseline": {name: round(rates.ratio(name, baseline), 3) for name in names[1:]},
    }
