"""Export an action model to ONNX or TorchScript, checked against PyTorch before it is kept.

The exported model is the whole of what the demo runs per clip: the
backbone, upstream's ``ResNetRoIHead`` with torchvision's RoIAlign, and the
sigmoid. Its inputs are the clip's pathways (``B x C x T x H x W``, as
``pack_pathway_output`` makes them; batch, height and width free) and the
person boxes as upstream's head takes them, ``N x 5`` rows
``[batch index, x1, y1, x2, y2]`` in pixels of the clip; its output is
``N x num_classes`` scores (``0 x num_classes`` for no box). ``slowfast_custom.deploy.runtime``
runs the ONNX file. Both formats carry ``slowfast_custom.deploy.metadata``: class names and how
to build the inputs from a video. The TorchScript file keeps upstream's frame-count checks (a
traced graph would drop them) and needs ``import torchvision`` before ``torch.jit.load``.

The check runs the file on a real clip and its boxes from the config's test
split (a synthetic clip when the dataset is absent), and on the same clip
narrowed with fewer boxes, and with no box (so the free sizes are exercised
too), and compares with the PyTorch model: the file is renamed to its final
name only when the largest difference is within the tolerance.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from slowfast_custom.deploy.metadata import DEFAULT_ATOL, FORMATS, TORCHSCRIPT_EXTRA_FILE, export_metadata
from slowfast_custom.errors import UserError
from slowfast_custom.fileio import atomic_path

logger = logging.getLogger(__name__)

# Opset 16 is the first with RoiAlign's "half_pixel" mode (upstream's ROIAlign(aligned=True)).
ONNX_OPSET = 17


def _checked_pathway(x: torch.Tensor, frames: int, channels: int, name: str) -> torch.Tensor:
    # Scripted (not traced) when exporting TorchScript, so the check stays in the file as upstream's asserts
    # stay in PyTorch; onnxruntime checks the fixed input sizes itself.
    if x.dim() != 5 or x.shape[1] != channels or x.shape[2] != frames:
        raise RuntimeError("pathway " + name + " must be B x " + str(channels) + " x " + str(frames)
                           + " x H x W, got " + str(x.shape))
    return x


class ScoresModel(torch.nn.Module):
    """``forward(*pathways, boxes)`` -> scores: upstream's ``model([pathways], boxes)`` with flat tensor inputs.

    ``checks``: (frames, channels, name) per pathway, verified by a scripted function (for TorchScript).
    """

    def __init__(self, model: torch.nn.Module, checks: Sequence[Tuple[int, int, str]] = ()) -> None:
        super().__init__()
        self.model = model.module if hasattr(model, "module") else model
        self.checks = list(checks)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.script's deprecation notice: tracing keeps no checks
            self._check = torch.jit.script(_checked_pathway) if self.checks else None

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        pathways, boxes = list(inputs[:-1]), inputs[-1]
        if self._check is not None:
            pathways = [self._check(x, *check) for x, check in zip(pathways, self.checks)]
        # Upstream's head fails to reshape 0 RoIs; one extra box (clip 0, a pixel) makes every N work in every
        # runtime without a data-dependent branch, and is cut off again. Each box's score depends on it alone.
        extra = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0]], dtype=boxes.dtype, device=boxes.device)
        scores = self.model(pathways, torch.cat([boxes, extra]))
        return scores[: boxes.shape[0]]


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
    synthetic: bool = False  # checked on a synthetic clip (no dataset)

    def line(self) -> str:
        shapes = " + ".join("x".join(map(str, s)) for s in self.clip_shapes)
        return (f"Exported {self.format} to {self.path}: largest difference from PyTorch {self.max_abs_diff:.2e} "
                f"(tolerance {self.atol:g}) on a {'synthetic' if self.synthetic else 'real'} clip {shapes} "
                f"with {self.boxes} person boxes")


def synthetic_inputs(cfg, seed: int = 0) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """Two clips of noise at the config's test size with three boxes: the parity check without a dataset."""
    from slowfast.datasets.utils import pack_pathway_output

    generator = torch.Generator().manual_seed(seed)
    size = int(cfg.DATA.TEST_CROP_SIZE)
    # A 4:3 frame, so height and width differ as a video's do.
    clips = [pack_pathway_output(cfg, torch.randn(3, cfg.DATA.NUM_FRAMES, size, size * 4 // 3, generator=generator))
             for _ in range(2)]
    inputs = [torch.stack(pathway) for pathway in zip(*clips)]
    corners = torch.tensor([[0, 0.1, 0.1, 0.5, 0.9], [0, 0.4, 0.2, 0.9, 0.8], [1, 0.2, 0.1, 0.7, 0.95]])
    boxes = corners * torch.tensor([1, size * 4 // 3 - 1, size - 1, size * 4 // 3 - 1, size - 1])
    return inputs, boxes


def _has_test_split(cfg) -> bool:
    lists = [Path(cfg.AVA.FRAME_LIST_DIR, name) for name in cfg.AVA.TEST_LISTS]
    return bool(cfg.AVA.FRAME_LIST_DIR) and bool(lists) and all(p.is_file() for p in lists)


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
                       path: Path, meta: Dict[str, str]) -> None:
    checked = ScoresModel(wrapper.model, [(x.shape[2], x.shape[1], name)
                                          for x, name in zip(inputs, pathway_names(len(inputs)))]).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about the head's shape asserts
        traced = torch.jit.trace(checked, (*inputs, boxes), check_trace=False)
    torch.jit.save(traced, str(path), _extra_files={TORCHSCRIPT_EXTRA_FILE: json.dumps(meta)})


def _add_onnx_metadata(path: Path, meta: Dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def _runner(fmt: str, path: Path):
    """A function (pathways, boxes) -> scores array running the written file."""
    if fmt == "onnx":
        from slowfast_custom.deploy.runtime import OnnxActionModel

        model = OnnxActionModel(path)
        return lambda inputs, boxes: model([x.numpy() for x in inputs], boxes.numpy())
    import torchvision  # noqa: F401  (registers torchvision::roi_align, which the traced head calls)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice; the file is the one just written
        loaded = torch.jit.load(str(path))

    def run(inputs, boxes):
        # The profiling executor's first calls record and re-optimise the graph (seconds on a CPU); the plain
        # interpreter runs the same operations once.
        with torch.jit.optimized_execution(False):
            return loaded(*inputs, boxes).detach().numpy()

    return run


def export_model(cfg, checkpoint, fmt: str, out: Optional[Path] = None, atol: float = DEFAULT_ATOL,
                 config_file: str = "") -> ExportReport:
    """Write ``checkpoint``'s model as ``fmt`` (``onnx`` / ``torchscript``) to ``out`` once it matches PyTorch.

    ``out`` defaults to the checkpoint's name with ``.onnx`` / ``.torchscript.pt``. Raises UserError (and
    leaves nothing under ``out``) when the exported model's scores differ from PyTorch's by more than ``atol``.
    The check runs on the config's test split, or on a synthetic clip when that split is absent.
    ``config_file``: recorded in the file's metadata with the config itself.
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
    synthetic = not _has_test_split(cfg)
    if synthetic:
        logger.info("No test split under %s: checking the export on a synthetic clip", cfg.AVA.FRAME_LIST_DIR or
                    "DATA.PATH_TO_DATA_DIR")
    inputs, boxes = synthetic_inputs(cfg) if synthetic else sample_inputs(cfg)
    checks = [(inputs, boxes), narrower(inputs, boxes), (inputs, boxes[:0])]
    with torch.inference_mode():
        expected = [wrapper(*x, b).numpy() for x, b in checks]
    meta = export_metadata(cfg, config_file)
    with atomic_path(out) as tmp:
        with torch.no_grad():
            if fmt == "onnx":
                _write_onnx(wrapper, inputs, boxes, tmp)
                _add_onnx_metadata(tmp, meta)
            else:
                _write_torchscript(wrapper, inputs, boxes, tmp, meta)
        run = _runner(fmt, tmp)
        diffs = []
        for (x, b), want in zip(checks, expected):
            got = run(x, b)
            if got.shape != want.shape:
                raise UserError(f"{out}: the exported model gives scores of shape {got.shape}, PyTorch {want.shape}; "
                                "not written")
            diffs.append(float(np.abs(got - want).max()) if got.size else 0.0)
        diff = max(diffs)
        if not diff <= atol:  # also catches NaN
            raise UserError(f"{out}: the exported {fmt} model differs from PyTorch by up to {diff:.3g} (tolerance "
                            f"{atol:g}) on a {'synthetic' if synthetic else 'real'} clip; not written. "
                            "Report it with the config and the versions of "
                            "torch and onnxruntime")
    return ExportReport(out, fmt, diff, atol, len(boxes), tuple(tuple(x.shape) for x in inputs), synthetic)
