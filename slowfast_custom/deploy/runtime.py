"""Running an exported action model with onnxruntime: clip tensors and person boxes in, action scores out.

The file is what ``slowfast_custom.deploy.export`` writes: one input per
pathway (``slow``, ``fast``, or ``clip`` for single-pathway models), each
``B x C x T x H x W`` float32 with T fixed and B, H, W free, then ``boxes``,
``N x 5`` float32 rows ``[batch index, x1, y1, x2, y2]`` in pixels of the
clip (upstream's ``ResNetRoIHead`` input); the output ``scores`` is
``N x num_classes`` (sigmoid).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from slowfast_custom.errors import DataError, UserError

INSTALL_HINT = "pip install 'slowfast-custom[export]' (from a clone: pip install -e '.[export]')"


def import_onnxruntime():
    """The onnxruntime module, or a one-line UserError saying how to install it (an optional extra)."""
    try:
        import onnxruntime
    except ImportError:
        raise UserError(f"onnxruntime is not installed: {INSTALL_HINT}") from None
    return onnxruntime


def session_threads(threads: int) -> int:
    """onnxruntime's intra-op thread count for ``threads`` (see ``OnnxActionModel``); 0 lets it choose.

    onnxruntime ignores ``OMP_NUM_THREADS`` and uses every core, which on a shared machine is slower than
    PyTorch on one thread; a user who limits PyTorch with the variable expects the same here."""
    if threads > 0:
        return int(threads)
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(env) if env.isdigit() else 0


class OnnxActionModel:
    """An exported action model in an onnxruntime session on the CPU."""

    def __init__(self, path, threads: int = 0) -> None:
        """``threads``: onnxruntime's intra-op threads (``DEMO.NUM_THREADS``); 0: ``OMP_NUM_THREADS`` when set,
        else onnxruntime's default (one per core)."""
        ort = import_onnxruntime()
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(self.path, "exported model not found",
                            hint="Write it with tools/export_model.py --format onnx, or set DEMO.ONNX_FILE")
        options = ort.SessionOptions()
        options.intra_op_num_threads = session_threads(threads)
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own untyped Fail/InvalidGraph/... errors
            raise DataError(self.path, f"onnxruntime cannot load it ({str(err).splitlines()[0]})",
                            hint="Export it again with tools/export_model.py --format onnx") from None
        inputs = self.session.get_inputs()
        self.pathway_names: List[str] = [i.name for i in inputs[:-1]]
        self.frames: List[Optional[int]] = [i.shape[2] if isinstance(i.shape[2], int) else None for i in inputs[:-1]]
        if not inputs or inputs[-1].name != "boxes" or not self.pathway_names:
            raise DataError(self.path, f"inputs {[i.name for i in inputs]} are not clip pathways then 'boxes'",
                            hint="Use a file written by tools/export_model.py")
        self.metadata: Dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        classes = self.session.get_outputs()[0].shape[-1]
        self.num_classes: Optional[int] = classes if isinstance(classes, int) else None

    def check_inputs(self, shapes: Sequence[Tuple[int, ...]]) -> None:
        """DataError unless clips of these pathway shapes (``C x T x H x W`` each) fit the exported model."""
        frames = [shape[1] for shape in shapes]
        if len(shapes) != len(self.pathway_names) or any(f is not None and f != t for f, t in zip(self.frames, frames)):
            raise DataError(self.path, f"takes pathways {self.pathway_names} of {self.frames} frames, but the config "
                            f"makes {len(shapes)} of {frames}",
                            hint="Use the config the model was exported with (DATA.NUM_FRAMES, SLOWFAST.ALPHA)")

    def __call__(self, inputs: Sequence[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        """Scores ``N x num_classes`` for ``boxes`` (``N x 5``) on the clips ``inputs`` (one array per pathway)."""
        feed = {name: np.ascontiguousarray(x, dtype=np.float32) for name, x in zip(self.pathway_names, inputs)}
        feed["boxes"] = np.ascontiguousarray(boxes, dtype=np.float32)
        return self.session.run(None, feed)[0]
