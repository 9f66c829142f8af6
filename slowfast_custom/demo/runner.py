"""``run_demo(cfg)``: a video in, the video out with person boxes and their actions, and the predictions.

Every input is checked before the model is built, so a typo costs seconds,
not a model load: the input video, the output path, the label file, the box
CSVs. Then the checks that keep a demo from being silently empty: the
checkpoint must fill every tensor of the model (``load_for_inference``),
the label file must name as many classes as the model's head predicts, and a
video in which nobody was found still gives an output video and says so.

A camera or stream (``DEMO.WEBCAM``, a URL in ``DEMO.INPUT_VIDEO``) is opened
once the model is ready and read at its own pace (``demo.live``): keyframes
that could not be shown within ``DEMO.LIVE_MAX_DELAY`` are skipped, and the
run ends, keeping what it wrote, when the stream does.

The video, CSV and JSON are written under temporary names and renamed
together at the end: they appear all three or not at all (a full disk is one
line, and leaves none of them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np
import torch
from slowfast.datasets.utils import pack_pathway_output
from slowfast.models.model_builder import build_model
from tqdm import tqdm

from slowfast_custom.ava.formats import read_class_names_json
from slowfast_custom.demo.clips import ClipScheduler
from slowfast_custom.demo.draw import LabelPolicy, Painter
from slowfast_custom.demo.live import LatencyBudget, LiveReader, LiveSource, open_live
from slowfast_custom.demo.people import DetectedPeople, Person, PrecomputedPeople, read_ground_truth
from slowfast_custom.demo.predictor import ActionPredictor, OnnxActionPredictor, num_outputs
from slowfast_custom.demo.results import PredictionLog, output_paths
from slowfast_custom.demo.video_io import check_output_path, check_writable, open_writer, read_frames
from slowfast_custom.engine.logs import setup_logging
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.engine.thresholds import THRESHOLDS_NAME, read_thresholds
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import staged_paths, write_error
from slowfast_custom.inference import device_of, inference_checkpoint, load_for_inference
from slowfast_custom.video.frames import VideoInfo, probe

logger = logging.getLogger(__name__)

PeopleSource = Union[DetectedPeople, PrecomputedPeople]
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


def _people_source(cfg, video_id: str, duration: float) -> Tuple[PeopleSource, float, str]:
    """(where the people of each keyframe come from, seconds between keyframes, description for the log)."""
    demo = cfg.DEMO
    if demo.PREDS_BOXES:
        if demo.PREDICTION_STRIDE_SEC != 1.0:
            logger.info("DEMO.PREDS_BOXES: predicting at the CSV's whole seconds (DEMO.PREDICTION_STRIDE_SEC ignored)")
        if demo.TRACK:
            logger.info("DEMO.TRACK is for detectors; boxes from DEMO.PREDS_BOXES carry no person id")
        boxes = PrecomputedPeople(demo.PREDS_BOXES, video_id, int(demo.STARTING_SECOND), duration,
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
        description += f", tracked at {demo.TRACK_FPS:g} frames/s"
    return DetectedPeople(detector, tracker, float(demo.TRACK_FPS)), float(demo.PREDICTION_STRIDE_SEC), description


@dataclass
class _Inputs:
    """Everything checked before the model is built."""

    video: Optional[VideoInfo]  # a live source's: once it is opened (``_open_live``)
    output: Path
    label_file: Path
    class_names: List[str]
    policy: LabelPolicy
    size: Optional[Tuple[int, int]]  # output width, height
    fps: Optional[Fraction]  # output frame rate
    duration: float  # seconds to render
    ground_truth: Dict[int, List[Person]]  # AVA second -> people
    people: PeopleSource
    stride: float  # seconds between predictions
    source: str  # where the people come from, for the log
    live: Optional[LiveSource] = None  # a camera or stream, read by ``reader``
    reader: Optional[LiveReader] = None


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

    if not live:
        info = probe(input_path, float(demo.FPS), "input video", "Set DEMO.INPUT_VIDEO to an existing file")
    check_output_path(output_path)
    if not live and output_path.resolve() == input_path.resolve():
        raise UserError(f"{output_path}: DEMO.OUTPUT_FILE is the input video; choose another name")
    for path in (output_path, *output_paths(output_path)):
        check_writable(path)
    class_names = read_class_names_json(label_path)
    if live:  # a live source's length is unknown: MAX_SECONDS, or until it ends
        duration = max(float(demo.MAX_SECONDS), 0.0)
    else:
        duration = min(info.duration, demo.MAX_SECONDS) if demo.MAX_SECONDS > 0 else info.duration
    starting_second = int(demo.STARTING_SECOND)
    ground_truth = read_ground_truth(demo.GT_BOXES, input_path.stem, starting_second, duration) if demo.GT_BOXES else {}
    policy = LabelPolicy.from_cfg(cfg, _calibrated_thresholds(cfg, class_names))
    people, stride, source = _people_source(cfg, input_path.stem, duration)
    if live:
        for key in ("LIVE_MAX_DELAY", "STREAM_TIMEOUT"):
            if demo[key] <= 0:
                raise UserError(f"DEMO.{key} must be > 0 seconds, got {demo[key]}")
        # Opened once the model is ready (_open_live): a live source does not wait for a model to load.
        return _Inputs(None, output_path, label_path, class_names, policy, None, None, duration,
                       ground_truth, people, stride, source, live)
    return _Inputs(info, output_path, label_path, class_names, policy, _output_size(cfg, info),
                   _output_fps(cfg, info), duration, ground_truth, people, stride, source)


def _calibrated_thresholds(cfg, class_names: List[str]) -> Optional[Dict[str, Optional[float]]]:
    """For ``DEMO.VIS_MODE calibrated``: class name -> threshold (None: the global one); None in other modes."""
    if cfg.DEMO.VIS_MODE != "calibrated":
        return None
    path = Path(cfg.DEMO.THRESHOLDS_FILE) if cfg.DEMO.THRESHOLDS_FILE else \
        inference_checkpoint(cfg)[0].parent / THRESHOLDS_NAME
    thresholds = read_thresholds(path)
    fallback = [name for name in class_names if thresholds.get(name) is None]
    logger.info("DEMO.VIS_MODE calibrated: per-class thresholds from %s%s", path,
                f"; global threshold for {', '.join(fallback)} (not calibrated: no validation examples or hits)"
                if fallback else "")
    return {name: thresholds.get(name) for name in class_names}


def _open_live(cfg, inputs: _Inputs) -> _Inputs:
    """``inputs`` with the live source opened and its reader started."""
    demo = cfg.DEMO
    container, info = open_live(inputs.live, float(demo.STREAM_TIMEOUT), float(demo.FPS))
    try:
        size, fps = _output_size(cfg, info), _output_fps(cfg, info)
        # The buffer holds twice the delay: a demo that falls behind skips predictions (frames older than the
        # delay) and catches up on the frames waiting; only when even that is too slow are frames dropped.
        buffer_frames = int(math.ceil(2 * demo.LIVE_MAX_DELAY * float(info.fps)))
    except UserError:
        container.close()
        raise
    reader = LiveReader(container, float(info.fps), buffer_frames, float(demo.MAX_SECONDS), float(demo.STREAM_TIMEOUT))
    reader.start()
    return dataclasses.replace(inputs, video=info, size=size, fps=fps, reader=reader)


def _onnx_model(cfg):
    from slowfast_custom.deploy.runtime import OnnxActionModel

    return OnnxActionModel(_required(cfg, "ONNX_FILE", "the .onnx file tools/export_model.py wrote"))


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
    if inputs.live is not None:
        inputs = _open_live(cfg, inputs)
    try:
        return _render(cfg, inputs, predictor, checkpoint)
    finally:
        if inputs.reader is not None:
            inputs.reader.stop()


def _latency_percentiles(latencies: List[float]) -> Dict[str, float]:
    if not latencies:
        return {}
    values = np.percentile(latencies, LATENCY_PERCENTILES)
    return {**{f"p{p}": round(float(v), 3) for p, v in zip(LATENCY_PERCENTILES, values)},
            "max": round(max(latencies), 3)}


def _render(cfg, inputs: _Inputs, predictor: ActionPredictor, checkpoint: Path) -> DemoSummary:
    info, reader = inputs.video, inputs.reader
    where = inputs.live.url if inputs.live else str(info.path)
    logger.info("Demo on %s (%dx%d, %.3g fps, %s) with %s; people: %s; predicting every %g s (%s)",
                where, info.width, info.height, float(info.fps),
                "live" if reader else f"{inputs.duration:.1f} s", checkpoint, inputs.source, inputs.stride,
                predictor.describe())

    starting_second = int(cfg.DEMO.STARTING_SECOND)
    step = cfg.DATA.SAMPLING_RATE * float(info.fps) / cfg.DATA.TARGET_FPS
    scheduler = ClipScheduler((k * inputs.stride for k in itertools.count()), cfg.DATA.NUM_FRAMES, step,
                              float(info.fps))
    painter = Painter(*inputs.size, inputs.class_names)
    log = PredictionLog(info.path.stem, inputs.class_names, starting_second)
    counts = {"boxes": 0, "labelled": 0, "skipped": 0}
    max_delay = float(cfg.DEMO.LIVE_MAX_DELAY)
    latencies: List[float] = []
    newest = {"captured": None}  # live: when the newest frame pushed was decoded

    budget = LatencyBudget(max_delay)

    def skip(keyframe) -> None:
        keyframe.skipped, keyframe.people, keyframe.shown = True, [], []
        keyframe.scores = np.zeros((0, len(inputs.class_names)), dtype=np.float32)
        counts["skipped"] += 1

    def predict_ready() -> None:
        for keyframe, clip in scheduler.ready():
            if keyframe.skipped:
                continue
            if not budget.allows(newest["captured"], "predict"):
                skip(keyframe)  # live and behind: a late prediction is worse than none
                budget.skipped("predict")
                continue
            # Only predictions with people are timed: an empty one costs nothing and would lower the estimate.
            with budget.timing("predict") if keyframe.people else contextlib.nullcontext():
                keyframe.scores = predictor(clip, keyframe.people, info.width, info.height)
            keyframe.shown = [inputs.policy.select(s, inputs.class_names) for s in keyframe.scores]
            counts["boxes"] += len(keyframe.people)
            counts["labelled"] += sum(1 for shown in keyframe.shown if shown)
            log.add(keyframe)

    def write_ready(writer) -> None:
        for image, frame_time, keyframe in scheduler.writable():
            if inputs.size != (info.width, info.height):
                image = cv2.resize(image, inputs.size, interpolation=cv2.INTER_AREA)
            for person in inputs.ground_truth.get(starting_second + int(math.floor(frame_time + 1e-6)), []):
                painter.ground_truth(image, person)
            if keyframe is not None:
                for order, (person, shown) in enumerate(zip(keyframe.people, keyframe.shown)):
                    painter.person(image, person, shown, order, show_id=bool(cfg.DEMO.TRACK))
            writer.write(image)
            if keyframe is not None and keyframe.captured is not None and not keyframe.skipped \
                    and frame_time == keyframe.time:
                latencies.append(time.perf_counter() - keyframe.captured)

    if reader is not None:
        # The first forward pass at a frame size sets up kernels and memory (seconds on a CPU): done before the
        # first live prediction, at the stream's size. Not timed: the budget would then expect every prediction
        # to take that long. (Frames that come meanwhile wait in the reader's bounded buffer.)
        blank = predictor.scale(np.zeros((info.height, info.width, 3), np.uint8))
        predictor([blank] * cfg.DATA.NUM_FRAMES, [Person((0.25, 0.25, 0.75, 0.75))], info.width, info.height)
    start = time.perf_counter()
    total = None if reader else int(round(inputs.duration * float(info.fps))) or None
    frames_in = reader.frames() if reader else read_frames(info, cfg.DEMO.MAX_SECONDS)
    ended = ""
    finals = [inputs.output, *output_paths(inputs.output)]  # video, CSV, JSON: renamed together at the end
    staged: List[Path] = []
    try:
        with staged_paths(finals) as staged:
            with open_writer(inputs.output, *inputs.size, inputs.fps, write_to=staged[0]) as writer, \
                    tqdm(total=total, unit="frame", desc="demo", dynamic_ncols=True) as bar:
                try:
                    for frame in frames_in:
                        captured = getattr(frame, "captured", None)
                        newest["captured"] = captured
                        keyframe = scheduler.push(frame.index, frame.time, frame.image, predictor.scale(frame.image))
                        if keyframe is not None:
                            keyframe.captured = captured
                            if not budget.allows(captured, "people", "predict"):
                                skip(keyframe)  # not even its people are looked for
                                budget.skipped("people", "predict")
                            else:
                                with budget.timing("people"):
                                    keyframe.people = inputs.people.keyframe(frame.image, frame.time, keyframe.moment)
                        else:
                            inputs.people.between(frame.image, frame.time)
                        predict_ready()
                        write_ready(writer)
                        bar.update(1)
                except KeyboardInterrupt:
                    if reader is None:
                        raise
                    ended = "interrupted (Ctrl-C)"  # a live source runs until stopped: keep what was made
                if reader is not None:
                    reader.stop()
                    ended = ended or reader.ended
                    newest["captured"] = None  # the clips left are finished from what came; not late any more
                scheduler.finish()
                predict_ready()
                write_ready(writer)
                encoder, frames = writer.encoder, writer.frames
                if frames == 0:
                    if reader is not None:
                        raise UserError(f"{inputs.live.url}: no frame came from the live source ({ended})")
                    raise DataError(info.path, "no frame could be decoded", hint="Check that the video plays")

            header = {"video": where, "video_id": info.path.stem, "width": info.width, "height": info.height,
                      "fps": float(info.fps), "frames": frames, "starting_second": starting_second,
                      "checkpoint": str(checkpoint), "label_file": str(inputs.label_file), "people": inputs.source,
                      "classes": list(inputs.class_names), "output_video": str(inputs.output)}
            summary = DemoSummary(inputs.output, finals[1], finals[2], encoder, frames, frames / float(info.fps),
                                  time.perf_counter() - start, scheduler.keyframes, counts["boxes"],
                                  counts["labelled"], live=reader is not None, skipped_keyframes=counts["skipped"],
                                  dropped_frames=reader.dropped if reader else 0,
                                  latency_s=_latency_percentiles(latencies), ended=ended)
            if reader is not None:
                header.update(live={"ended": ended, "latency_s": summary.latency_s, "keyframes": scheduler.keyframes,
                                    "skipped_keyframes": summary.skipped_keyframes,
                                    "dropped_frames": summary.dropped_frames, "max_delay_s": max_delay})
            log.write(staged[1], staged[2], header)
    except OSError as err:
        # Writing an output failed (a full disk, most likely). An error that names a file outside the output
        # folder is not ours to word.
        names = {str(tmp): final for tmp, final in zip(staged, finals)}
        if err.filename is not None and Path(err.filename).parent not in {p.parent for p in finals}:
            raise
        raise write_error(names.get(str(err.filename), inputs.output), err, "the demo's outputs",
                          "; none of the video, CSV and JSON was written") from None
    if not summary.person_boxes:
        logger.warning("No person was found in %s (%s): the output video has no boxes. %s", where, inputs.source,
                       "Check the CSV's video ids and seconds" if cfg.DEMO.PREDS_BOXES else
                       "Lower DEMO.DETECTRON2_THRESH (tools/detect_and_track.py keeps >= 0.5) or try another "
                       "DEMO.DETECTOR")
    elif not summary.boxes_with_labels:
        logger.warning("No action reached its threshold for any person: boxes are drawn without labels. "
                       "Set DEMO.VIS_MODE top-k, or lower DEMO.COMMON_CLASS_THRES / DEMO.UNCOMMON_CLASS_THRES")
    if reader is not None:
        lost = not ended.startswith(("the stream ended", "DEMO.MAX_SECONDS", "interrupted"))
        (logger.warning if lost else logger.info)("%s; output kept", summary.live_line())
    logger.info(summary.line())
    return summary
