"""Demo throughput: video frames per second through ``slowfast_custom.demo.runner.run_demo``.

The input is a 30 fps H.264 clip made from the benchmark's frames; the
people come from the dataset's predicted-box CSV (``DEMO.PREDS_BOXES``, one
prediction per annotated second, no detector: the detector's weights cannot
be downloaded here and its cost is not the action model's), and the model
has random weights saved as a checkpoint. Everything the demo does per
frame is timed: decoding, scaling, the action model, drawing and encoding
the output video.

On a machine without CUDA the same demo also runs on the model exported to
ONNX (``DEMO.BACKEND onnxruntime``), the two backends taking turns
(``repeats`` each), and the ratio of their frames/s is reported with the
export's largest score difference from PyTorch.
"""

from __future__ import annotations

import importlib.util
import logging
from fractions import Fraction
from pathlib import Path
from typing import Dict

import av
import cv2
from slowfast.models import optimizer as optim
from slowfast.models.model_builder import build_model

from benchmarks.configs import variant
from benchmarks.data import FramesSpec
from benchmarks.timing import Rates
from slowfast_custom import checkpoint as cu
from slowfast_custom.fileio import atomic_path

logger = logging.getLogger(__name__)

DEMO_MODULE = "slowfast_custom.demo.runner"


def write_clip(data_dir: Path, spec: FramesSpec, seconds: float, path: Path) -> int:
    """Encode the first ``seconds`` of the dataset's frames as a 30 fps H.264 video; return the frame count."""
    count = min(spec.num_frames, int(round(seconds * spec.fps)))
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(spec.fps))
            stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
            stream.options = {"crf": "18", "preset": "veryfast"}
            for t in range(count):
                image = cv2.imread(str(data_dir / "frames" / spec.frame_name(t)))
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
            container.mux(stream.encode())
    return count


def measure_demo(cfg, data_dir: Path, spec: FramesSpec, seconds: float, work_dir: Path,
                 repeats: int = 1) -> Dict[str, object]:
    """Run the demo on a ``seconds``-long clip of the benchmark frames; frames/s and the real-time factor,
    and on a CPU machine the same with onnxruntime (``repeats`` turns each)."""
    if importlib.util.find_spec(DEMO_MODULE) is None:
        return {"measured": False, "why": f"{DEMO_MODULE} is not in this checkout"}
    from slowfast_custom.demo.runner import run_demo

    work_dir.mkdir(parents=True, exist_ok=True)
    video = work_dir / f"{spec.video}.mp4"  # the CSV's video id is the file's stem
    frames = write_clip(data_dir, spec, seconds, video)
    ann = data_dir / "annotations"
    demo_cfg = variant(cfg, [
        "DEMO.ENABLE", True, "DEMO.INPUT_VIDEO", str(video), "DEMO.OUTPUT_FILE", str(work_dir / "demo_out.mp4"),
        "DEMO.LABEL_FILE_PATH", str(ann / "ava.json"), "DEMO.PREDS_BOXES", str(ann / "ava_val_predicted_boxes.csv"),
        "DEMO.STARTING_SECOND", spec.first_second, "OUTPUT_DIR", str(work_dir / "run"),
        "TEST.CHECKPOINT_FILE_PATH", "",
    ])
    model = build_model(demo_cfg)
    checkpoint = cu.save_checkpoint(demo_cfg.OUTPUT_DIR, model, optim.construct_optimizer(model, demo_cfg), 0,
                                    demo_cfg)
    del model
    backends = {"pytorch": demo_cfg}
    export = _onnx_variant(demo_cfg, Path(checkpoint), work_dir, backends)
    rates, summaries = Rates({name: [] for name in backends}), {}
    try:
        for repeat in range(max(1, repeats)):
            for name in (list(backends) if repeat % 2 == 0 else list(backends)[::-1]):
                summaries[name] = run_demo(backends[name])
                rates.per_repeat[name].append(summaries[name].frames_per_second)
    except Exception as err:  # the demo is another module's work in progress: report, do not fail the benchmark
        logger.exception("The demo failed")
        return {"measured": False, "why": f"run_demo failed: {type(err).__name__}: {err}"}
    summary = summaries["pytorch"]
    result = {
        "measured": True,
        "video": f"{spec.width}x{spec.height}, {spec.fps} fps, {frames} frames",
        "predictions": summary.keyframes,
        "person_boxes": summary.person_boxes,
        "frames_per_s": round(rates.median("pytorch"), 2),
        "realtime_factor": round(rates.median("pytorch") / spec.fps, 3),
        "wall_s": round(summary.wall_seconds, 2),
        "backends": rates.as_dict(),
        "onnx": export,
    }
    if "onnxruntime" in backends:
        result["onnxruntime_vs_pytorch"] = round(rates.ratio("onnxruntime", "pytorch"), 3)
    return result


def _onnx_variant(cfg, checkpoint: Path, work_dir: Path, backends: Dict) -> Dict[str, object]:
    """Export ``checkpoint`` to ONNX and add the onnxruntime demo to ``backends``; what was done, for the JSON."""
    if cfg.NUM_GPUS > 0:
        return {"measured": False, "why": "onnxruntime runs on the CPU here: compared on CPU machines only"}
    if importlib.util.find_spec("onnxruntime") is None:
        return {"measured": False, "why": "onnxruntime is not installed (pip install -e '.[export]')"}
    from slowfast_custom.deploy.export import export_model

    report = export_model(cfg, checkpoint, "onnx", work_dir / "model.onnx")
    backends["onnxruntime"] = variant(cfg, ["DEMO.BACKEND", "onnxruntime", "DEMO.ONNX_FILE", str(report.path)])
    return {"measured": True, "max_abs_diff_vs_pytorch": report.max_abs_diff, "atol": report.atol}
