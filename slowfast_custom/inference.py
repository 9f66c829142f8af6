"""Weights and device for inference: which checkpoint the test, the demo, the export and the labelling app load.

``inference_checkpoint`` picks the file (TEST.CHECKPOINT_FILE_PATH, else the
last checkpoint of OUTPUT_DIR, else TRAIN.CHECKPOINT_FILE_PATH);
``load_for_inference`` loads it and refuses a checkpoint that leaves any
tensor of the model at its random initial value.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional, Tuple

import torch

from slowfast_custom import checkpoint as cu
from slowfast_custom.errors import CheckpointError, UserError

logger = logging.getLogger(__name__)
SUMMARY_NAME = "train_summary.json"  # the training's evaluation history (engine/trainer.py writes it)


def device_of(cfg) -> torch.device:
    """The device a process of a ``NUM_GPUS`` run computes on (its current CUDA device, or the CPU)."""
    return torch.device("cuda", torch.cuda.current_device()) if cfg.NUM_GPUS > 0 else torch.device("cpu")


def best_checkpoint(output_dir: str) -> Optional[Tuple[Path, int, float]]:
    """(path, epoch, validation frame-mAP) of the saved checkpoint whose epoch validated best (the later one on a
    tie), from the run's evaluation history; None when the run has no evaluated checkpoint."""
    try:
        history = json.loads((Path(output_dir) / SUMMARY_NAME).read_text())["history"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    entries = [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []
    return cu.best_saved(output_dir, [(e["epoch"], e["val_frame_map"]) for e in entries
                                      if isinstance(e.get("epoch"), int)
                                      and isinstance(e.get("val_frame_map"), (int, float))])


def inference_checkpoint(cfg) -> Tuple[Path, str]:
    """(path, checkpoint type) of the weights for test/demo/export: TEST.CHECKPOINT_FILE_PATH, else OUTPUT_DIR's
    best checkpoint (TEST.CHECKPOINT_CHOICE best) or last one, else TRAIN.CHECKPOINT_FILE_PATH."""
    if cfg.TEST.CHECKPOINT_FILE_PATH:
        return Path(cfg.TEST.CHECKPOINT_FILE_PATH), cfg.TEST.CHECKPOINT_TYPE
    last = cu.last_checkpoint(cfg.OUTPUT_DIR)
    if last is not None:
        best = best_checkpoint(cfg.OUTPUT_DIR) if cfg.TEST.CHECKPOINT_CHOICE == "best" else None
        if best is not None and best[0] != last:
            logger.info("Using %s: epoch %d validated best (frame-mAP@0.5 %.4f; TEST.CHECKPOINT_CHOICE best, "
                        "last: %s)", best[0], best[1], best[2], last.name)
            return best[0], "pytorch"
        return last, "pytorch"
    if cfg.TRAIN.CHECKPOINT_FILE_PATH:
        return Path(cfg.TRAIN.CHECKPOINT_FILE_PATH), cfg.TRAIN.CHECKPOINT_TYPE
    raise UserError("no weights to test: set TEST.CHECKPOINT_FILE_PATH, or OUTPUT_DIR to a training run")


def load_for_inference(cfg, model) -> Path:
    """Load the weights of ``inference_checkpoint``. Every tensor must load: a random head is an error, not a result."""
    path, kind = inference_checkpoint(cfg)
    report = cu.load_pretrained(model, path, kind)
    if not report.complete:
        shown = ", ".join(report.not_loaded[:6]) + (" ..." if len(report.not_loaded) > 6 else "")
        raise CheckpointError(
            f"{path}: {len(report.not_loaded)} tensors of the model are not in the checkpoint ({shown}); "
            "predictions would come from random weights. Fine-tuned with another MODEL.NUM_CLASSES? "
            "Use the same config (and class count) as the run that wrote the checkpoint")
    return path
