"""``run_demo(cfg)``: a video in, the video out with person boxes and their actions, and the predictions.

Every input is checked before the model is built, so a typo costs seconds,
not a model load: the input video, the output path, the label file, the box
CSVs. Then the checks that keep a demo from being silently empty: the
checkpoint must fill every tensor of the model (``load_for_inference``),
the label file must name as many classes as the model's head predicts, and a
video in which nobody was found still gives an output video and says so.

The video, CSV and JSON are written under temporary names and renamed
together at the end: they appear all three or not at all (a full disk is one
line, and leaves none of them).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Dict, List, Tuple, Union

import cv2
from slowfast.models.model_builder import build_model
from tqdm import tqdm

from slowfast_custom.data.ava_formats import read_class_names_json
from slowfast_custom.demo.clips import ClipScheduler
from slowfast_custom.demo.draw import LabelPolicy, Painter
from slowfast_custom.demo.people import DetectedPeople, Person, PrecomputedPeople, read_ground_truth
from slowfast_custom.demo.predictor import ActionPredictor, num_outputs
from slowfast_custom.demo.results import PredictionLog, output_paths
from slowfast_custom.demo.video_io import check_output_path, check_writable, open_writer, read_frames
from slowfast_custom.engine.logs import setup_logging
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.engine.trainer import device_of, load_for_inference
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import staged_paths, write_error
from slowfast_custom.video.frames import VideoInfo, probe

logger = logging.getLogger(__name__)

PeopleSource = Union[DetectedPeople, PrecomputedPeople]


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

    @property
    def frames_per_second(self) -> float:
        return self.frames / max(self.wall_seconds, 1e-9)

    def line(self) -> str:
        people = (f"{self.person_boxes} person boxes ({self.boxes_with_labels} with actions shown)"
                  if self.person_boxes else "NO PERSON FOUND")
        return (f"Demo: {self.frames} frames ({self.seconds:.1f} s of video) in {self.wall_seconds:.1f} s "
                f"({self.frames_per_second:.1f} frames/s), {self.keyframes} predictions, {people}; "
                f"video {self.video} ({self.encoder}); predictions {self.csv}, {self.json}")


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

    video: VideoInfo
    output: Path
    label_file: Path
    class_names: List[str]
    policy: LabelPolicy
    size: Tuple[int, int]  # output width, height
    fps: Fraction  # output frame rate
    duration: float  # seconds to render
    ground_truth: Dict[int, List[Person]]  # AVA second -> people
    people: PeopleSource
    stride: float  # seconds between predictions
    source: str  # where the people come from, for the log


def _check_inputs(cfg) -> _Inputs:
    demo = cfg.DEMO
    if demo.WEBCAM != -1:
        if not demo.INPUT_VIDEO:
            raise UserError(f"DEMO.WEBCAM {demo.WEBCAM}: the demo reads video files, not cameras; set DEMO.INPUT_VIDEO")
        logger.info("DEMO.WEBCAM %d ignored (upstream's demo YAML sets it): reading DEMO.INPUT_VIDEO", demo.WEBCAM)
    if not cfg.DETECTION.ENABLE:
        raise UserError("the demo needs an action-detection model (DETECTION.ENABLE True, as for AVA)")
    input_path = Path(_required(cfg, "INPUT_VIDEO", "the video to run on"))
    output_path = Path(_required(cfg, "OUTPUT_FILE", "the video to write, e.g. demo.mp4"))
    label_path = Path(_required(cfg, "LABEL_FILE_PATH", "the dataset's ava.json ({class name: index})"))

    info = probe(input_path, float(demo.FPS), "input video", "Set DEMO.INPUT_VIDEO to an existing file")
    check_output_path(output_path)
    if output_path.resolve() == input_path.resolve():
        raise UserError(f"{output_path}: DEMO.OUTPUT_FILE is the input video; choose another name")
    for path in (output_path, *output_paths(output_path)):
        check_writable(path)
    class_names = read_class_names_json(label_path)
    duration = min(info.duration, demo.MAX_SECONDS) if demo.MAX_SECONDS > 0 else info.duration
    starting_second = int(demo.STARTING_SECOND)
    ground_truth = read_ground_truth(demo.GT_BOXES, input_path.stem, starting_second, duration) if demo.GT_BOXES else {}
    people, stride, source = _people_source(cfg, input_path.stem, duration)
    return _Inputs(info, output_path, label_path, class_names, LabelPolicy.from_cfg(cfg), _output_size(cfg, info),
                   _output_fps(cfg, info), duration, ground_truth, people, stride, source)


def _load_predictor(cfg, class_names: List[str], label_path: Path) -> Tuple[ActionPredictor, Path]:
    """The model with every tensor from the checkpoint, for as many classes as the label file names."""
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
    """Render ``DEMO.INPUT_VIDEO`` with boxes and actions to ``DEMO.OUTPUT_FILE``; write the predictions beside it."""
    setup_logging()
    inputs = _check_inputs(cfg)
    predictor, checkpoint = _load_predictor(cfg, inputs.class_names, inputs.label_file)
    info = inputs.video
    logger.info("Demo on %s (%dx%d, %.3g fps, %.1f s) with %s; people: %s; predicting every %g s (%s)",
                info.path, info.width, info.height, float(info.fps), inputs.duration, checkpoint, inputs.source,
                inputs.stride, predictor.precision.describe().replace(" + grad scaling", ""))

    starting_second = int(cfg.DEMO.STARTING_SECOND)
    step = cfg.DATA.SAMPLING_RATE * float(info.fps) / cfg.DATA.TARGET_FPS
    scheduler = ClipScheduler((k * inputs.stride for k in itertools.count()), cfg.DATA.NUM_FRAMES, step,
                              float(info.fps))
    painter = Painter(*inputs.size, inputs.class_names)
    log = PredictionLog(info.path.stem, inputs.class_names, starting_second)
    counts = {"boxes": 0, "labelled": 0}

    def predict_ready() -> None:
        for keyframe, clip in scheduler.ready():
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

    start = time.perf_counter()
    total = int(round(inputs.duration * float(info.fps))) or None
    finals = [inputs.output, *output_paths(inputs.output)]  # video, CSV, JSON: renamed together at the end
    staged: List[Path] = []
    try:
        with staged_paths(finals) as staged:
            with open_writer(inputs.output, *inputs.size, inputs.fps, write_to=staged[0]) as writer, \
                    tqdm(total=total, unit="frame", desc="demo", dynamic_ncols=True) as bar:
                for frame in read_frames(info, cfg.DEMO.MAX_SECONDS):
                    keyframe = scheduler.push(frame.index, frame.time, frame.image, predictor.scale(frame.image))
                    if keyframe is not None:
                        keyframe.people = inputs.people.keyframe(frame.image, frame.time, keyframe.moment)
                    else:
                        inputs.people.between(frame.image, frame.time)
                    predict_ready()
                    write_ready(writer)
                    bar.update(1)
                scheduler.finish()
                predict_ready()
                write_ready(writer)
                encoder, frames = writer.encoder, writer.frames
                if frames == 0:
                    raise DataError(info.path, "no frame could be decoded", hint="Check that the video plays")
            header = {"video": str(info.path), "video_id": info.path.stem, "width": info.width,
                      "height": info.height, "fps": float(info.fps), "frames": frames,
                      "starting_second": starting_second, "checkpoint": str(checkpoint),
                      "label_file": str(inputs.label_file), "people": inputs.source,
                      "classes": list(inputs.class_names), "output_video": str(inputs.output)}
            log.write(staged[1], staged[2], header)
    except OSError as err:
        # Writing an output failed (a full disk, most likely). An error that names a file outside the output
        # folder is not ours to word.
        names = {str(tmp): final for tmp, final in zip(staged, finals)}
        if err.filename is not None and Path(err.filename).parent not in {p.parent for p in finals}:
            raise
        raise write_error(names.get(str(err.filename), inputs.output), err, "the demo's outputs",
                          "; none of the video, CSV and JSON was written") from None
    summary = DemoSummary(inputs.output, finals[1], finals[2], encoder, frames, frames / float(info.fps),
                          time.perf_counter() - start, scheduler.keyframes, counts["boxes"], counts["labelled"])
    if not summary.person_boxes:
        logger.warning("No person was found in %s (%s): the output video has no boxes. %s", info.path, inputs.source,
                       "Check the CSV's video ids and seconds" if cfg.DEMO.PREDS_BOXES else
                       "Lower DEMO.DETECTRON2_THRESH (tools/detect_and_track.py keeps >= 0.5) or try another "
                       "DEMO.DETECTOR")
    elif not summary.boxes_with_labels:
        logger.warning("No action reached its threshold for any person: boxes are drawn without labels. "
                       "Set DEMO.VIS_MODE top-k, or lower DEMO.COMMON_CLASS_THRES / DEMO.UNCOMMON_CLASS_THRES")
    logger.info(summary.line())
    return summary
