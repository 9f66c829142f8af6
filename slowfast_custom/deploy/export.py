"""Export an action model to ONNX or TorchScript, checked against PyTorch before it is kept.

The exported model is the whole of what the demo runs per clip: the
backbone, upstream's ``ResNetRoIHead`` with torchvision's RoIAlign, and the
sigmoid. Its inputs are the clip's pathways (``B x C x T x H x W``, as
``pack_pathway_output`` makes them; batch, height and width free) and the
person boxes as upstream's head takes them, ``N x 5`` rows
``[batch index, x1, y1, x2, y2]`` in pixels of the clip; its output is
``N x num_classes`` scores. ``slowfast_custom.deploy.runtime`` runs the ONNX
file.

The check runs the file on a real clip and its boxes from the config's test
split, and on the same clip narrowed with fewer boxes (so the free sizes are
exercised too), and compares with the PyTorch model: the file is renamed to
its final name only when the largest difference is within the tolerance.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from slowfast_custom.errors import UserError
from slowfast_custom.fileio import atomic_path

logger = logging.getLogger(__name__)

FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
# Opset 16 is the first with RoiAlign's "half_pixel" mode (upstream's ROIAlign(aligned=True)).
ONNX_OPSET = 17
# Sigmoid scores of float32 PyTorch and another runtime differ by rounding only (~1e-6);
# a wrong graph (a box in the wrong place, a missing layer) differs by far more.
DEFAULT_ATOL = 1e-4


class ScoresModel(torch.nn.Module):
    """``forward(*pathways, boxes)`` -> scores: upstream's ``model([pathways], boxes)`` with flat tensor inputs."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model.module if hasattr(model, "module") else model

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(list(inputs[:-1]), inputs[-1])


def pathway_names(count: int) -> List[str]:
    return ["slow", "fast"] if count == 2 else [f"pathway{i}" for i in range(count)] if count > 1 else ["clip"]


@dataclass(frozen=True)
class ExportReport:
    path: Path
    format: str
    max_abs_diff: float  # largest |exported - PyTorch| over both checks
    atol: float
    boxes: int  # person boxes of the real clip checked
    clip_shapes: Tuple[Tuple[int, ...], ...]

    def line(self) -> str:
        shapes = " + ".join("x".join(map(str, s)) for s in self.clip_shapes)
        return (f"Exported {self.format} to {self.path}: largest difference from PyTorch {self.max_abs_diff:.2e} "
                f"(tolerance {self.atol:g}) on a real clip {shapes} "
                f"with {self.boxes} person boxes")


def sample_inputs(cfg) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """The first clips of the config's test split that hold a person box: (pathways, boxes ``N x 5``)."""
    from slowfast_custom.engine.loader import build_loader

    for inputs, _labels, _index, meta in build_loader(cfg, "test"):
        boxes = meta["boxes"]
        if len(boxes):
            return [x.float() for x in inputs], boxes.float()
    raise UserError(f"the test split of {cfg.DATA.PATH_TO_DATA_DIR} has no person box to check the export on")


def narrower(inputs: Sequence[torch.Tensor], boxes: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """The first clip, a quarter narrower, with its first box (clipped): other sizes than the export's."""
    width = inputs[0].shape[-1] * 3 // 4
    first = boxes[boxes[:, 0] == boxes[0, 0]][:1].clone()
    first[:, 0] = 0
    first[:, [1, 3]] = first[:, [1, 3]].clamp(max=width - 1)
    return [x[:1, ..., :width].contiguous() for x in inputs], first


def load_model(cfg, checkpoint: Path) -> torch.nn.Module:
    """The config's model with every tensor from ``checkpoint``, in eval mode on the CPU."""
    from slowfast.models.model_builder import build_model

    from slowfast_custom.inference import load_for_inference

    if not Path(checkpoint).is_file():
        raise UserError(f"{checkpoint}: checkpoint not found")
    cfg = cfg.clone()
    cfg.defrost()
    cfg.NUM_GPUS = 0
    cfg.TEST.CHECKPOINT_FILE_PATH = str(checkpoint)
    cfg.TEST.CHECKPOINT_TYPE = "pytorch"
    model = build_model(cfg)
    load_for_inference(cfg, model)
    return model.eval()


def _write_onnx(wrapper: torch.nn.Module, inputs: Sequence[torch.Tensor], boxes: torch.Tensor, path: Path) -> None:
    names = pathway_names(len(inputs))
    dynamic = {name: {0: "batch", 3: "height", 4: "width"} for name in names}
    dynamic.update(boxes={0: "boxes"}, scores={0: "boxes"})
    with warnings.catch_warnings():
        # The TorchScript-based exporter is the one that handles torchvision's RoIAlign and the model's
        # Python-side asserts; its deprecation and tracer warnings say nothing about this model.
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, (*inputs, boxes), str(path), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=[*names, "boxes"], output_names=["scores"], dynamic_axes=dynamic)


def _write_torchscript(wrapper: torch.nn.Module, inputs: Sequence[torch.Tensor], boxes: torch.Tensor,
                       path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about the head's shape asserts
        traced = torch.jit.trace(wrapper, (*inputs, boxes), check_trace=False)
    torch.jit.save(traced, str(path))


def _runner(fmt: str, path: Path):
    """A function (pathways, boxes) -> scores array running the written file."""
    if fmt == "onnx":
        from slowfast_custom.deploy.runtime import OnnxActionModel

        model = OnnxActionModel(path)
        return lambda inputs, boxes: model([x.numpy() for x in inputs], boxes.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice; the file is the one just written
        loaded = torch.jit.load(str(path))

    def run(inputs, boxes):
        # The profiling executor's first calls record and re-optimise the graph (seconds on a CPU); the plain
        # interpreter runs the same operations once.
        with torch.jit.optimized_execution(False):
            return loaded(*inputs, boxes).detach().numpy()

    return run


def export_model(cfg, checkpoint, fmt: str, out: Optional[Path] = None, atol: float = DEFAULT_ATOL) -> ExportReport:
    """Write ``checkpoint``'s model as ``fmt`` (``onnx`` / ``torchscript``) to ``out`` once it matches PyTorch.

    ``out`` defaults to the checkpoint's name with ``.onnx`` / ``.torchscript.pt``. Raises UserError (and
    leaves nothing under ``out``) when the exported model's scores differ from PyTorch's by more than ``atol``.
    """
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not cfg.DETECTION.ENABLE:
        raise UserError("export is for action-detection models (DETECTION.ENABLE True): the boxes are an input")
    checkpoint = Path(checkpoint)
    out = Path(out) if out else checkpoint.with_name(checkpoint.name.rsplit(".", 1)[0] + FORMATS[fmt])
    if fmt == "onnx":
        from slowfast_custom.deploy.runtime import import_onnxruntime

        import_onnxruntime()  # before any work: the check needs it
    model = load_model(cfg, checkpoint)
    wrapper = ScoresModel(model).eval()
    inputs, boxes = sample_inputs(cfg)
    checks = [(inputs, boxes), narrower(inputs, boxes)]
    with torch.inference_mode():
        expected = [wrapper(*x, b).numpy() for x, b in checks]
    with atomic_path(out) as tmp:
        with torch.no_grad():
            (_write_onnx if fmt == "onnx" else _write_torchscript)(wrapper, inputs, boxes, tmp)
        run = _runner(fmt, tmp)
        diffs = []
        for (x, b), want in zip(checks, expected):
            got = run(x, b)
            if got.shape != want.shape:
                raise UserError(f"{out}: the exported model gives scores of shape {got.shape}, PyTorch {want.shape}; "
                                "not written")
            diffs.append(float(np.abs(got - want).max()))
        diff = max(diffs)
        if not diff <= atol:  # also catches NaN
            raise UserError(f"{out}: the exported {fmt} model differs from PyTorch by up to {diff:.3g} (tolerance "
                            f"{atol:g}) on a real clip; not written. Report it with the config and the versions of "
                            "torch and onnxruntime")
    return ExportReport(out, fmt, diff, atol, len(boxes), tuple(tuple(x.shape) for x in inputs))
