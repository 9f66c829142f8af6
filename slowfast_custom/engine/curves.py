"""Training curves: per-iteration and per-epoch numbers, to TensorBoard and to ``OUTPUT_DIR/train_curves.json``.

With ``TENSORBOARD.ENABLE`` the event files go to ``OUTPUT_DIR/TENSORBOARD.LOG_DIR``
(empty: ``OUTPUT_DIR/runs-<TRAIN.DATASET>``, as upstream's later releases name
it). Tags, upstream's where it has them:

* ``Train/loss``, ``Train/lr``: every iteration;
* ``Train/epoch_loss`` (mean over the epoch), ``Train/data_wait_share`` (the
  share of the epoch's training time spent waiting for the loader): every epoch;
* ``Val/mAP`` (frame-mAP@0.5) and ``Val/AP/<class>``: every evaluated epoch.

Every scalar's step is the number of iterations done (after the iteration, at
the end of the epoch), so the per-epoch curves line up with the per-iteration
ones, and a resumed run purges what the interrupted one wrote after its last
checkpoint. Whatever ``TENSORBOARD.ENABLE`` says, the per-epoch numbers also go
to ``train_curves.json`` (rewritten atomically each epoch, before its
checkpoint, so a resumed run finds every epoch it resumes after), which the
report (``report.py``) plots. Only rank 0 writes.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional

from slowfast_custom.errors import UserError
from slowfast_custom.fileio import atomic_write_text

CURVES_NAME = "train_curves.json"


def tensorboard_dir(cfg) -> Path:
    """Where the event files go (upstream's rule: relative to OUTPUT_DIR)."""
    name = cfg.TENSORBOARD.LOG_DIR or f"runs-{cfg.TRAIN.DATASET}"
    return Path(cfg.OUTPUT_DIR) / name


def read_curves(output_dir) -> List[Dict]:
    """The per-epoch records of ``train_curves.json`` in ``output_dir`` (empty when there is none)."""
    path = Path(output_dir) / CURVES_NAME
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["epochs"]


def _finite(value: float) -> Optional[float]:
    return None if value is None or math.isnan(value) else float(value)


class TrainingCurves:
    """Collects a run's curves; inactive (every call a no-op) on ranks other than 0."""

    def __init__(self, cfg, start_epoch: int, epoch_iters: int, active: bool) -> None:
        self.active = active
        self.output_dir = Path(cfg.OUTPUT_DIR)
        self.epoch_iters = epoch_iters
        self.writer = None
        self.records = [r for r in read_curves(self.output_dir) if r["epoch"] <= start_epoch] if active else []
        if active and cfg.TENSORBOARD.ENABLE:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise UserError("TENSORBOARD.ENABLE needs the tensorboard package: pip install tensorboard "
                                "(or set TENSORBOARD.ENABLE False)") from None
            # purge_step hides what an interrupted run logged past the checkpoint this run resumes from
            # (its first iteration is step start_epoch * epoch_iters + 1).
            self.writer = SummaryWriter(str(tensorboard_dir(cfg)), purge_step=start_epoch * epoch_iters + 1
                                        if start_epoch else None)
        self._reset()

    def _reset(self) -> None:
        self._losses: List[float] = []
        self._lr = float("nan")
        self._wait = 0.0
        self._train_time = 0.0

    def batches(self, loader: Iterable) -> Iterator:
        """The loader's batches, timing how long each one is waited for."""
        start = time.perf_counter()
        iterator = iter(loader)
        while True:
            asked = time.perf_counter()
            try:
                batch = next(iterator)
            except StopIteration:
                break
            self._wait += time.perf_counter() - asked
            yield batch
        self._train_time += time.perf_counter() - start

    def iteration(self, epoch: int, it: int, loss: float, lr: float) -> None:
        if not self.active:
            return
        self._losses.append(loss)
        self._lr = lr
        if self.writer is not None:
            step = epoch * self.epoch_iters + it + 1
            self.writer.add_scalar("Train/loss", loss, step)
            self.writer.add_scalar("Train/lr", lr, step)

    def end_epoch(self, epoch: int) -> None:
        """Record the training of epoch ``epoch`` (0-based); call before its checkpoint is saved."""
        if not self.active:
            self._reset()
            return
        record = {"epoch": epoch + 1, "step": (epoch + 1) * self.epoch_iters,
                  "loss": sum(self._losses) / len(self._losses) if self._losses else None,
                  "lr": _finite(self._lr),
                  "data_wait_share": self._wait / self._train_time if self._train_time > 0 else None}
        self._reset()
        self._save(record, {"Train/epoch_loss": record["loss"], "Train/data_wait_share": record["data_wait_share"]})

    def evaluation(self, epoch: int, result) -> None:
        """Add the validation ``EvalResult`` of epoch ``epoch`` (0-based) to its record."""
        if not self.active or result is None:
            return
        record = next(r for r in self.records if r["epoch"] == epoch + 1)
        record["val_frame_map"] = result.frame_map
        record["val_per_class_ap"] = {name: _finite(ap) for name, ap in result.per_class_ap.items()}
        scalars = {"Val/mAP": result.frame_map}
        scalars.update({f"Val/AP/{name}": ap for name, ap in record["val_per_class_ap"].items()})
        self._save(record, scalars)

    def _save(self, record: Dict, scalars: Dict[str, Optional[float]]) -> None:
        self.records = [r for r in self.records if r["epoch"] != record["epoch"]] + [record]
        atomic_write_text(self.output_dir / CURVES_NAME, json.dumps({"epochs": self.records}, indent=1) + "\n")
        if self.writer is not None:
            for tag, value in scalars.items():
                if value is not None:
                    self.writer.add_scalar(tag, value, record["step"])
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
