"""``run_demo(cfg)``: a video in, the video out with person boxes and their actions, and the predictions.

Every input is checked before the model is built, so a typo costs seconds,
not a model load: the input video, the output path, the label file, the box
CSVs. Then the checks that keep a demo from being silently empty: the
checkpoint must fill every tensor of the model (``load_for_inference``),
the label file must name as many classes as the model's head predicts, and a
video in which nobody was found still gives an output video and says so.

The input is a ``FrameSource`` (``sources.py``): a file, or a camera or
stream (``DEMO.WEBCAM``, a URL in ``DEMO.INPUT_VIDEO``) opened once the model
is ready and read at its own pace (keyframes that could not be shown within
``DEMO.LIVE_MAX_DELAY`` are skipped, and the run ends, keeping what it wrote,
when the stream does). One render loop (``render.RenderLoop``) serves both.

The video, CSV and JSON are written under temporary names and renamed
together at the end: they appear all three or not at all (a full disk is one
line, and leaves none of them).
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from slowfast.datasets.utils import pack_pathway_output
from slowfast.models.model_builder import build_model
from tqdm import tqdm

from slowfast_custom.ava.formats import read_class_names_json
from slowfast_custom.demo.draw import LabelPolicy
from slowfast_custom.demo.live import PLANNED_ENDS, LiveSource
from slowfast_custom.demo.people import DetectedPeople, Person, PrecomputedPeople, read_ground_truth
from slowfast_custom.demo.predictor import ActionPredictor, OnnxActionPredictor, num_outputs
from slowfast_custom.demo.render import PeopleSource, RenderLoop
from slowfast_custom.demo.results import output_paths
from slowfast_custom.demo.sources import FileSource, FrameSource, LiveFrameSource
from slowfast_custom.demo.video_io import check_output_path, check_writable, open_writer
from slowfast_custom.engine.logs import setup_logging
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.engine.thresholds import read_thresholds, thresholds_for
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import staged_paths, write_error
from slowfast_custom.inference import device_of, inference_checkpoint, load_for_inference
from slowfast_custom.video.frames import VideoInfo, probe

logger = logging.getLogger(__name__)

BACKENDS = ("pytorch", "onnxruntime")
LATENCY_PERCENTILES = (50, 90, 99)


@dataclass
class DemoSummary:
    video: Path
    csv: Path
    json: Path
    encoder: str
    frames: int
    seconds: float  # of video rendered
    wall_seconds: float
    keyframes: int
    person_boxes: int
    boxes_with_labels: int
    live: bool = False
    skipped_keyframes: int = 0  # live input: keyframes not predicted to keep up
    dropped_frames: int = 0  # live input: frames the reader dropped because the demo was behind
    latency_s: Dict[str, float] = field(default_factory=dict)  # live input: "p50", "p90", "p99", "max"
    ended: str = ""  # live input: why reading stopped

    @property
    def complete(self) -> bool:
        """False for a live run that ended before its planned end (``live.PLANNED_ENDS``): the outputs hold
        what came, and the tool exits with 3 so that a script can tell."""
        return not self.live or self.ended.startswith(PLANNED_ENDS)

    @property
    def frames_per_second(self) -> float:
        return self.frames / max(self.wall_seconds, 1e-9)

    def line(self) -> str:
        people = (f"{self.person_boxes} person boxes ({self.boxes_with_labels} with actions shown)"
                  if self.person_boxes else "NO PERSON FOUND")
        return (f"Demo: {self.frames} frames ({self.seconds:.1f} s of video) in {self.wall_seconds:.1f} s "
                f"({self.frames_per_second:.1f} frames/s), {self.keyframes - self.skipped_keyframes} predictions, "
                f"{people}; video {self.video} ({self.encoder}); predictions {self.csv}, {self.json}")

    def live_line(self) -> str:
        latency = ", ".join(f"{k} {v:.2f} s" for k, v in self.latency_s.items()) or "no prediction made"
        return (f"Live: {self.ended}; latency from frame decoded to prediction written: {latency}; "
                f"{self.skipped_keyframes} of {self.keyframes} keyframes skipped to keep up, "
                f"{self.dropped_frames} frames dropped by the reader")


def _required(cfg, key: str, what: str) -> str:
    value = cfg.DEMO[key]
    if not value:
        raise UserError(f"DEMO.{key} is empty: set it to {what}")
    return value


def _output_size(cfg, info: VideoInfo) -> Tuple[int, int]:
    width, height = int(cfg.DEMO.DISPLAY_WIDTH), int(cfg.DEMO.DISPLAY_HEIGHT)
    if width < 0 or height < 0:
        raise UserError("DEMO.DISPLAY_WIDTH / DISPLAY_HEIGHT must be >= 0 (0: the input's size)")
    if not width and not height:
        return info.width, info.height
    if not height:
        height = int(round(info.height * width / info.width))
    if not width:
        width = int(round(info.width * height / info.height))
    return width, height


def _output_fps(cfg, info: VideoInfo) -> Fraction:
    if cfg.DEMO.OUTPUT_FPS == -1:
        return info.fps
    if cfg.DEMO.OUTPUT_FPS <= 0:
        raise UserError(f"DEMO.OUTPUT_FPS must be > 0 or -1 (the input's), got {cfg.DEMO.OUTPUT_FPS}")
    return Fraction(cfg.DEMO.OUTPUT_FPS).limit_denominator(1001)


def starting_second(cfg) -> int:
    """The video second of the input's first frame (``DEMO.STARTING_SECOND``): the input's own time, 0, unless
    set (AVA's 15-minute cuts: 900, upstream's default)."""
    value = cfg.DEMO.STARTING_SECOND
    return 0 if value is None else int(value)


def _people_source(cfg, video_id: str, duration: float) -> Tuple[PeopleSource, float, str]:
    """(where the people of each keyframe come from, seconds between keyframes, description for the log)."""
    demo = cfg.DEMO
    if demo.PREDS_BOXES:
        if demo.PREDICTION_STRIDE_SEC != 1.0:
            logger.info("DEMO.PREDS_BOXES: predicting at the CSV's whole seconds (DEMO.PREDICTION_STRIDE_SEC ignored)")
        if demo.TRACK:
            logger.info("DEMO.TRACK is for detectors; boxes from DEMO.PREDS_BOXES carry no person id")
        boxes = PrecomputedPeople(demo.PREDS_BOXES, video_id, starting_second(cfg), duration,
                                  float(cfg.AVA.DETECTION_SCORE_THRESH))
        return boxes, 1.0, f"boxes from {demo.PREDS_BOXES}"
    if demo.DETECTOR == "none":
        raise UserError("DEMO.DETECTOR none needs DEMO.PREDS_BOXES (an AVA CSV of person boxes)")
    if demo.PREDICTION_STRIDE_SEC <= 0:
        raise UserError(f"DEMO.PREDICTION_STRIDE_SEC must be > 0, got {demo.PREDICTION_STRIDE_SEC}")
    from slowfast_custom.detection import build_detector

    if demo.DETECTRON2_WEIGHTS and not demo.DETECTOR_WEIGHTS:
        logger.info("DEMO.DETECTRON2_WEIGHTS is detectron2's format and not used: %s loads DEMO.DETECTOR_WEIGHTS "
                    "or its default location", demo.DETECTOR)
    detector = build_detector(demo.DETECTOR, score_thresh=float(demo.DETECTRON2_THRESH),
                              weights=demo.DETECTOR_WEIGHTS, device=str(device_of(cfg)))
    tracker = None
    if demo.TRACK:
        from slowfast_custom.detection.tracking import PersonTracker

        tracker = PersonTracker(gpu=cfg.NUM_GPUS > 0)
    description = f"detector {demo.DETECTOR} (score >= {demo.DETECTRON2_THRESH:g})"
    if tracker is not None:
        description += f", tracked at {demo.TRACK_FPS:g} frames/s, boxes interpolated between tracked frames"
    return DetectedPeople(detector, tracker, float(demo.TRACK_FPS)), float(demo.PREDICTION_STRIDE_SEC), description


@dataclass
class _Inputs:
    """Everything checked before the model is built."""

    open_source: Callable[[], FrameSource]  # a live source is opened once the model is ready
    video_id: str  # the predictions' video column, and the rows of DEMO.PREDS_BOXES / GT_BOXES used
    output: Path
    label_file: Path
    class_names: List[str]
    policy: LabelPolicy
    duration: float  # seconds to render (live: DEMO.MAX_SECONDS, 0 until it ends)
    starting_second: int  # video second of the first frame
    ground_truth: Dict[int, List[Person]]  # video second -> people
    people: PeopleSource
    stride: float  # seconds between predictions
    source: str  # where the people come from, for the log


def _check_inputs(cfg) -> _Inputs:
    demo = cfg.DEMO
    if not cfg.DETECTION.ENABLE:
        raise UserError("the demo needs an action-detection model (DETECTION.ENABLE True, as for AVA)")
    if demo.BACKEND not in BACKENDS:
        raise UserError(f"DEMO.BACKEND {demo.BACKEND!r} is not one of {', '.join(BACKENDS)}")
    if demo.BACKEND == "onnxruntime":
        _onnx_model(cfg)  # a missing onnxruntime or file is said now, not after the detector loads
    live = LiveSource.from_cfg(cfg)
    if live:
        live.check()
    input_path = Path(live.name) if live else Path(_required(cfg, "INPUT_VIDEO", "the video (or stream URL) to run on"))
    output_path = Path(_required(cfg, "OUTPUT_FILE", "the video to write, e.g. demo.mp4"))
    label_path = Path(_required(cfg, "LABEL_FILE_PATH", "the dataset's ava.json ({class name: index})"))

    if live:
        for key in ("LIVE_MAX_DELAY", "STREAM_TIMEOUT"):
            if demo[key] <= 0:
                raise UserError(f"DEMO.{key} must be > 0 seconds, got {demo[key]}")
        lookahead = cfg.DATA.NUM_FRAMES * cfg.DATA.SAMPLING_RATE / cfg.DATA.TARGET_FPS / 2
        if demo.LIVE_MAX_DELAY <= lookahead:
            raise UserError(f"DEMO.LIVE_MAX_DELAY {demo.LIVE_MAX_DELAY:g} s is not longer than the clip's look-ahead, "
                            f"{lookahead:.2f} s (half of DATA.NUM_FRAMES x DATA.SAMPLING_RATE / DATA.TARGET_FPS): "
                            "no prediction could be shown in time. Set it to the look-ahead plus a prediction's time")
        duration = max(float(demo.MAX_SECONDS), 0.0)  # a live source's length is unknown: MAX_SECONDS, or until it ends
        # The output's size and rate are checked once it is open: a live source does not wait for a model to load.
        open_source: Callable[[], FrameSource] = functools.partial(
            LiveFrameSource.open, live, timeout=float(demo.STREAM_TIMEOUT), fallback_fps=float(demo.FPS),
            max_delay=float(demo.LIVE_MAX_DELAY), max_seconds=float(demo.MAX_SECONDS))
    else:
        info = probe(input_path, float(demo.FPS), "input video", "Set DEMO.INPUT_VIDEO to an existing file")
        if output_path.resolve() == input_path.resolve():
            raise UserError(f"{output_path}: DEMO.OUTPUT_FILE is the input video; choose another name")
        _output_size(cfg, info), _output_fps(cfg, info)  # a bad DISPLAY_* or OUTPUT_FPS is said before the model
        duration = min(info.duration, demo.MAX_SECONDS) if demo.MAX_SECONDS > 0 else info.duration
        open_source = functools.partial(FileSource, info, float(demo.MAX_SECONDS), duration)
    check_output_path(output_path)
    for path in (output_path, *output_paths(output_path)):
        check_writable(path)
    class_names = read_class_names_json(label_path)
    first_second = starting_second(cfg)
    video_id = input_path.stem
    ground_truth = read_ground_truth(demo.GT_BOXES, video_id, first_second, duration) if demo.GT_BOXES else {}
    policy = LabelPolicy.from_cfg(cfg, _calibrated_thresholds(cfg, class_names))
    people, stride, source = _people_source(cfg, video_id, duration)
    return _Inputs(open_source, video_id, output_path, label_path, class_names, policy, duration, first_second,
                   ground_truth, people, stride, source)


def _calibrated_thresholds(cfg, class_names: List[str]) -> Optional[Dict[str, Optional[float]]]:
    """For ``DEMO.VIS_MODE calibrated``: class name -> threshold (None: the global one); None in other modes."""
    if cfg.DEMO.VIS_MODE != "calibrated":
        return None
    path = Path(cfg.DEMO.THRESHOLDS_FILE) if cfg.DEMO.THRESHOLDS_FILE else \
        thresholds_for(inference_checkpoint(cfg)[0])
    thresholds = read_thresholds(path)
    fallback = [name for name in class_names if thresholds.get(name) is None]
    logger.info("DEMO.VIS_MODE calibrated: per-class thresholds from %s%s", path,
                f"; global threshold for {', '.join(fallback)} (not calibrated: no validation examples or hits)"
                if fallback else "")
    return {name: thresholds.get(name) for name in class_names}


def _onnx_model(cfg):
    from slowfast_custom.deploy.runtime import OnnxActionModel

    return OnnxActionModel(_required(cfg, "ONNX_FILE", "the .onnx file tools/export_model.py wrote"),
                           threads=cfg.DEMO.NUM_THREADS)


def _load_predictor(cfg, class_names: List[str], label_path: Path) -> Tuple[ActionPredictor, Path]:
    """The model with every tensor from the checkpoint (or the exported file), for as many classes as the label
    file names."""
    if cfg.DEMO.BACKEND == "onnxruntime":
        onnx = _onnx_model(cfg)
        outputs = onnx.num_classes or cfg.MODEL.NUM_CLASSES
        if len(class_names) != outputs:
            raise DataError(label_path, f"names {len(class_names)} classes, but the model in {onnx.path} predicts "
                            f"{outputs}", hint="Use the ava.json of the dataset the model was trained on")
        predictor = OnnxActionPredictor(cfg, onnx)
        # The pathways' frame counts are fixed in the file: a config that makes others is said now.
        sizes = [tuple(x.shape) for x in pack_pathway_output(cfg, torch.zeros(3, cfg.DATA.NUM_FRAMES, 1, 1))]
        onnx.check_inputs(sizes)
        return predictor, onnx.path
    model = build_model(cfg)
    checkpoint = load_for_inference(cfg, model)
    outputs = num_outputs(model, cfg.MODEL.NUM_CLASSES)
    if len(class_names) != outputs:
        raise DataError(label_path, f"names {len(class_names)} classes, but the model from {checkpoint} predicts "
                        f"{outputs}", hint="Use the ava.json of the dataset the checkpoint was trained on")
    device = device_of(cfg)
    # Mixed precision as the training step has it (TRAIN.MIXED_PRECISION "auto": bf16/fp16 on CUDA, fp32 on the CPU).
    precision = StepPrecision.from_cfg(cfg, device) if cfg.DEMO.AMP else StepPrecision(device)
    return ActionPredictor(cfg, model, precision), checkpoint


def run_demo(cfg) -> DemoSummary:
    """Render ``DEMO.INPUT_VIDEO`` (or the live camera / stream) with boxes and actions to ``DEMO.OUTPUT_FILE``;
    write the predictions beside it."""
    setup_logging()
    inputs = _check_inputs(cfg)
    predictor, checkpoint = _load_predictor(cfg, inputs.class_names, inputs.label_file)
    with inputs.open_source() as source:
        return _render(cfg, inputs, source, predictor, checkpoint)


def _latency_percentiles(latencies: List[float]) -> Dict[str, float]:
    if not latencies:
        return {}
    values = np.percentile(latencies, LATENCY_PERCENTILES)
    return {**{f"p{p}": round(float(v), 3) for p, v in zip(LATENCY_PERCENTILES, values)},
            "max": round(max(latencies), 3)}


def _render(cfg, inputs: _Inputs, source: FrameSource, predictor: ActionPredictor, checkpoint: Path) -> DemoSummary:
    """Run the render loop on ``source`` into staged outputs; rename them together; log and return the summary."""
    info = source.info
    size, fps = _output_size(cfg, info), _output_fps(cfg, info)
    logger.info("Demo on %s (%dx%d, %.3g fps, %s) with %s; people: %s; predicting every %g s (%s)",
                source.where, info.width, info.height, float(info.fps),
                "live" if source.live else f"{inputs.duration:.1f} s", checkpoint, inputs.source, inputs.stride,
                predictor.describe())
    loop = RenderLoop(cfg, source, predictor, inputs.people, inputs.policy, inputs.class_names, inputs.ground_truth,
                      inputs.stride, inputs.starting_second, size)
    start = time.perf_counter()
    finals = [inputs.output, *output_paths(inputs.output)]  # video, CSV, JSON: renamed together at the end
    staged: List[Path] = []
    try:
        with staged_paths(finals) as staged:
            with open_writer(inputs.output, *size, fps, write_to=staged[0]) as writer, \
                    tqdm(total=source.expected_frames, unit="frame", desc="demo", dynamic_ncols=True) as bar:
                ended = loop.run(writer, bar)
                encoder, frames = writer.encoder, writer.frames
                if frames == 0:
                    raise source.nothing_read(ended)
            summary = DemoSummary(inputs.output, finals[1], finals[2], encoder, frames, frames / float(info.fps),
                                  time.perf_counter() - start, loop.scheduler.keyframes, loop.person_boxes,
                                  loop.boxes_with_labels, live=source.live, skipped_keyframes=loop.skipped_keyframes,
                                  dropped_frames=source.dropped, latency_s=_latency_percentiles(loop.latencies),
                                  ended=ended)
            loop.log.write(staged[1], staged[2], _header(inputs, source, summary, checkpoint))
    except OSError as err:
        # Writing an output failed (a full disk, most likely). An error that names a file outside the output
        # folder is not ours to word.
        names = {str(tmp): final for tmp, final in zip(staged, finals)}
        if err.filename is not None and Path(err.filename).parent not in {p.parent for p in finals}:
            raise
        raise write_error(names.get(str(err.filename), inputs.output), err, "the demo's outputs",
                          "; none of the video, CSV and JSON was written") from None
    _log_summary(cfg, inputs, source, summary)
    return summary


def _header(inputs: _Inputs, source: FrameSource, summary: DemoSummary, checkpoint: Path) -> Dict:
    """The predictions JSON's facts about the run."""
    info = source.info
    header = {"video": source.where, "video_id": inputs.video_id, "width": info.width, "height": info.height,
              "fps": float(info.fps), "frames": summary.frames, "starting_second": inputs.starting_second,
              "checkpoint": str(checkpoint), "label_file": str(inputs.label_file), "people": inputs.source,
              "classes": list(inputs.class_names), "output_video": str(inputs.output)}
    if source.live:
        header.update(live={"ended": summary.ended, "latency_s": summary.latency_s, "keyframes": summary.keyframes,
                            "skipped_keyframes": summary.skipped_keyframes,
                            "dropped_frames": summary.dropped_frames, **source.report()})
    return header


def _log_summary(cfg, inputs: _Inputs, source: FrameSource, summary: DemoSummary) -> None:
    if not summary.person_boxes:
        logger.warning("No person was found in %s (%s): the output video has no boxes. %s", source.where,
                       inputs.source, "Check the CSV's video ids and seconds" if cfg.DEMO.PREDS_BOXES else
                       "Lower DEMO.DETECTRON2_THRESH or try another DEMO.DETECTOR")
    elif not summary.boxes_with_labels:
        logger.warning("No action reached its threshold for any person: boxes are drawn without labels. "
                       "Set DEMO.VIS_MODE top-k, or lower DEMO.COMMON_CLASS_THRES / DEMO.UNCOMMON_CLASS_THRES")
    if source.live:
        (logger.info if summary.complete else logger.warning)("%s; output kept", summary.live_line())
    logger.info(summary.line())
