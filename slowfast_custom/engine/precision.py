"""Numeric precision and memory format of the training step and the evaluation forward.

``TRAIN.MIXED_PRECISION`` and ``TRAIN.MEMORY_FORMAT`` resolve to a
``StepPrecision`` for the device the process runs on. Their ``"auto"``
defaults speed up CUDA training (bf16 autocast, or fp16 with gradient scaling
on GPUs without bf16; channels-last 3D convolutions, which cuDNN runs faster
in reduced precision) and leave the CPU path exactly as upstream's fp32.

Under autocast the head's activation still runs in fp32. Upstream's AVA head
ends in a sigmoid whose output goes to BCE: in bf16 a sigmoid output above
about 0.998 rounds to exactly 1, so a confident false positive (logit above
about 6) would get no gradient at all, where fp32 gives it one up to logits of
about 17.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ContextManager, List, Optional

import torch

from slowfast_custom.config import MEMORY_FORMATS, PRECISIONS
from slowfast_custom.errors import UserError

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


class Float32Activation(torch.nn.Module):
    """``inner`` (a parameter-free activation) run in fp32 with autocast off; the state dict is unchanged."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.inner(x.float())


@dataclass(frozen=True)
class StepPrecision:
    """How a forward pass runs: autocast dtype (None: fp32) and channels-last 3D or not."""

    device: torch.device
    autocast_dtype: Optional[torch.dtype] = None
    channels_last: bool = False

    @classmethod
    def resolve(cls, precision: str, memory_format: str, device: torch.device) -> "StepPrecision":
        if precision not in PRECISIONS:
            raise UserError(f"TRAIN.MIXED_PRECISION {precision!r} is not one of {', '.join(PRECISIONS)}")
        if memory_format not in MEMORY_FORMATS:
            raise UserError(f"TRAIN.MEMORY_FORMAT {memory_format!r} is not one of {', '.join(MEMORY_FORMATS)}")
        cuda = device.type == "cuda"
        if precision == "auto":
            precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
        if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
            raise UserError("TRAIN.MIXED_PRECISION bf16: this GPU does not support bfloat16; use fp16 or auto")
        channels_last = cuda if memory_format == "auto" else memory_format == "channels_last"
        return cls(device, _DTYPES[precision], channels_last)

    @classmethod
    def from_cfg(cls, cfg, device: torch.device) -> "StepPrecision":
        return cls.resolve(cfg.TRAIN.MIXED_PRECISION, cfg.TRAIN.MEMORY_FORMAT, device)

    @property
    def needs_grad_scaler(self) -> bool:
        # fp16 gradients underflow without loss scaling; bf16 has fp32's exponent range.
        return self.autocast_dtype == torch.float16

    def grad_scaler(self) -> Optional[torch.amp.GradScaler]:
        return torch.amp.GradScaler(self.device.type) if self.needs_grad_scaler else None

    def autocast(self) -> ContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        """Convert the model's 5-D weights to channels-last in place (same Parameter objects) and, under
        autocast, run the head's activation in fp32; idempotent, and the state dict keeps its keys."""
        if self.channels_last:
            model.to(memory_format=torch.channels_last_3d)
        head = getattr(getattr(model, "module", model), "head", None)  # DistributedDataParallel wraps the model
        act = getattr(head, "act", None)
        if self.autocast_dtype is not None and isinstance(act, torch.nn.Module) \
                and not isinstance(act, Float32Activation):
            head.act = Float32Activation(act)
        return model

    def prepare_inputs(self, inputs: List[torch.Tensor]) -> List[torch.Tensor]:
        if not self.channels_last:
            return inputs
        return [x.contiguous(memory_format=torch.channels_last_3d) if x.dim() == 5 else x for x in inputs]

    def describe(self) -> str:
        dtype = {None: "fp32", torch.bfloat16: "bf16 autocast", torch.float16: "fp16 autocast + grad scaling"}
        layout = "channels-last 3D" if self.channels_last else "contiguous"
        return f"{dtype[self.autocast_dtype]}, {layout}, on {self.device.type}"
