"""Demo throughput: video frames per second through ``slowfast_custom.demo.runner.run_demo``.

The input is a 30 fps H.264 clip made from the benchmark's frames; the
people come from the dataset's predicted-box CSV (``DEMO.PREDS_BOXES``, one
prediction per annotated second, no detector: the detector's weights cannot
be downloaded here and its cost is not the action model's), and the model
has random weights saved as a checkpoint. Everything the demo does per
frame is timed: decoding, scaling, the action model, drawing and encoding
the output video.
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

from slowfast_custom import checkpoint as cu
from slowfast_custom.benchmarks.configs import variant
from slowfast_custom.benchmarks.data import FramesSpec
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


def measure_demo(cfg, data_dir: Path, spec: FramesSpec, seconds: float, work_dir: Path) -> Dict[str, object]:
    """Run the demo on a ``seconds``-long clip of the benchmark frames; frames/s and the real-time factor."""
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
    cu.save_checkpoint(demo_cfg.OUTPUT_DIR, model, optim.construct_optimizer(model, demo_cfg), 0, demo_cfg)
    del model
    try:
        summary = run_demo(demo_cfg)
    except Exception as err:  # the demo is another module's work in progress: report, do not fail the benchmark
        logger.exception("The demo failed")
        return {"measured": False, "why": f"run_demo failed: {type(err).__name__}: {err}"}
    return {
        "measured": True,
        "video": f"{spec.width}x{spec.height}, {spec.fps} fps, {frames} frames",
        "predictions": summary.keyframes,
        "person_boxes": summary.person_boxes,
        "frames_per_s": round(summary.frames_per_second, 2),
        "realtime_factor": round(summary.frames_per_second / spec.fps, 3),
        "wall_s": round(summary.wall_seconds, 2),
    }
