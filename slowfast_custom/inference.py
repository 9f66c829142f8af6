"""Weights and device for inference: which checkpoint the test, the demo, the export and the labelling app load.

``inference_checkpoint`` picks the file (TEST.CHECKPOINT_FILE_PATH, else the
last checkpoint of OUTPUT_DIR, else TRAIN.CHECKPOINT_FILE_PATH);
``load_for_inference`` loads it and refuses a checkpoint that leaves any
tensor of the model at its random initial value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

import torch

from slowfast_custom import checkpoint as cu
from slowfast_custom.errors import CheckpointError, UserError


def device_of(cfg) -> torch.device:
    """The device a process of a ``NUM_GPUS`` run computes on (its current CUDA device, or the CPU)."""
    return torch.device("cuda", torch.cuda.current_device()) if cfg.NUM_GPUS > 0 else torch.device("cpu")


def inference_checkpoint(cfg) -> Tuple[Path, str]:
    """(path, checkpoint type) of the weights for test/demo: TEST.CHECKPOINT_FILE_PATH, else the last
    checkpoint in OUTPUT_DIR, else TRAIN.CHECKPOINT_FILE_PATH."""
    if cfg.TEST.CHECKPOINT_FILE_PATH:
        return Path(cfg.TEST.CHECKPOINT_FILE_PATH), cfg.TEST.CHECKPOINT_TYPE
    if cu.last_checkpoint(cfg.OUTPUT_DIR) is not None:
        return cu.last_checkpoint(cfg.OUTPUT_DIR), "pytorch"
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
