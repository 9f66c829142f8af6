"""The labelling project within the custom-dataset workflow: made from its files, written back as AVA files.

A dataset folder holds ``frames/<video>/<video>_%06d.jpg`` (``tools/extract_frames.py``)
and, once people were detected and tracked, a tracks file
(``video_id,second,x1,y1,x2,y2,person_id,score``, ``read_tracks_csv``). A new
project takes its boxes and person ids from the tracks file, or from a VIA
project labelled earlier (read by the VIA importer, so both read VIA alike).
Its export goes through the same writer as the VIA import
(``write_ava_dataset_annotations``): ``annotations/`` and ``frame_lists/``.

With a trained model (``tools/annotate.py --model CFG CKPT``) the boxes get
suggested actions (``model_suggestions``), kept apart from the labels in
``annotate_suggestions.json``: ``{"format": ..., "checkpoint": path, "boxes":
{uid: [action ids]}}``. The page shows them; only accepting one makes it a label.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from slowfast_custom.ava.formats import LabelMapEntry, read_action_names, read_tracks_csv
from slowfast_custom.ava.layout import DEFAULT_MARGIN_SEC, TRACKS, TRACKS_DIR
from slowfast_custom.ava.naming import PathLike, frame_list_from_dir
from slowfast_custom.ava.timing import second_to_frame
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_write_text
from slowfast_custom.labelling.app.project import PROJECT_NAME, PersonBox, Project
from slowfast_custom.labelling.ava_writer import LabelledBox, SplitSpec, ranges_by_video, write_ava_dataset_annotations
from slowfast_custom.labelling.exchange import labelled_seconds
from slowfast_custom.labelling.via import read_via_labelled_boxes

logger = logging.getLogger(__name__)

TRACKS_NAME = str(Path(TRACKS_DIR) / TRACKS)  # where tools/detect_and_track.py writes it by default
SUGGESTIONS_NAME = "annotate_suggestions.json"
SUGGESTIONS_FORMAT = "slowfast-custom annotate suggestions"
SUGGEST_THRESHOLD = 0.5  # an action besides the best one is suggested from this score on
# A box's suggestion comes from its track's mean scores over this many seconds before and after it: one keyframe's
# clip is a noisy witness, its neighbours on the same person mostly agree, and an action that changes still shows.
SUGGEST_WINDOW_SEC = 2
EXCLUSIVE_TYPE = "PERSON_MOVEMENT"  # AVA's pose classes: one at a time (as the page's keys treat them)


def video_keyframes(dataset: Path, fps: float, margin_sec: int, videos: Optional[Sequence[str]] = None
                    ) -> Dict[str, List[int]]:
    """``{video: keyframe seconds}`` of the extracted frames (all videos, or ``videos``)."""
    frame_dir = dataset / "frames"
    if not frame_dir.is_dir():
        raise DataError(frame_dir, "frames folder not found", hint="Extract the frames first (tools/extract_frames.py)")
    counts = {video: len(frames) for video, frames in frame_list_from_dir(frame_dir, videos).items()}
    return labelled_seconds(frame_dir, counts, fps, margin_sec)


def project_from_tracks(dataset: PathLike, tracks_file: PathLike, actions: Sequence[LabelMapEntry], fps: float,
                        margin_sec: int = DEFAULT_MARGIN_SEC) -> Project:
    """A new project of the tracked boxes (no actions yet), saved in ``dataset``."""
    dataset = Path(dataset)
    rows = read_tracks_csv(tracks_file)
    boxes = [PersonBox(0, r.video_id, r.second, int(r.person_id), r.box) for r in rows]  # type: ignore[arg-type]
    return Project.create(dataset / PROJECT_NAME, fps, actions, video_keyframes(dataset, fps, margin_sec), boxes)


def project_from_via(dataset: PathLike, via_file: PathLike, actions: Sequence[LabelMapEntry], fps: float,
                     margin_sec: int = DEFAULT_MARGIN_SEC) -> Project:
    """A new project that continues a VIA project (or VIA's exported annotations): its boxes, ids and actions."""
    dataset = Path(dataset)
    labelled, _, present = read_via_labelled_boxes(via_file, actions, dataset / "frames", fps=fps)
    boxes = [PersonBox(0, b.video_id, b.second, b.person_id, b.box, b.action_ids, "via") for b in labelled]
    return Project.create(dataset / PROJECT_NAME, fps, actions, video_keyframes(dataset, fps, margin_sec, present),
                          boxes)


def open_project(dataset: PathLike, *, actions_file: Optional[PathLike] = None, tracks_file: Optional[PathLike] = None,
                 via_file: Optional[PathLike] = None, fps: float, margin_sec: int = DEFAULT_MARGIN_SEC) -> Project:
    """The dataset's project: the saved one, or a new one from the tracks file or a VIA project."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise UserError(f"{dataset}: dataset folder not found")
    path = dataset / PROJECT_NAME
    if path.exists():
        given = [f"--{name}" for name, value in (("actions", actions_file), ("tracks", tracks_file),
                                                 ("import-via", via_file)) if value is not None]
        project = Project.load(path)
        if not given:
            return project
        if project.revision or project.undo_stack or project.redo_stack:
            raise UserError(f"{path} exists and keeps its own boxes and actions, so {' and '.join(given)} would be "
                            "ignored; to start over from other files, move the project file away first")
        # Never edited: a start that failed after making it (e.g. the port was taken) must not block the retry.
        logger.info("%s holds no labelling yet: made again from the files given", path)
    if actions_file is None:
        raise UserError(f"{dataset} has no labelling project yet: give the action list with --actions FILE "
                        "(a label map .pbtxt or a text file with one action name per line)")
    actions = read_action_names(actions_file)
    if via_file is not None:
        if tracks_file is not None:
            raise UserError("give --tracks or --import-via, not both: a new project starts from one of them")
        return project_from_via(dataset, via_file, actions, fps, margin_sec)
    tracks_file = Path(tracks_file) if tracks_file is not None else dataset / TRACKS_NAME
    if not tracks_file.is_file():
        raise DataError(tracks_file, "tracks file not found",
                        hint="Detect and track the people first (tools/detect_and_track.py), or pass --tracks FILE")
    return project_from_tracks(dataset, tracks_file, actions, fps, margin_sec)


def labelled_boxes(project: Project) -> List[LabelledBox]:
    """Every box of the project as the AVA writer takes it (boxes with no action are counted there, not written)."""
    return [LabelledBox(b.video, b.second, b.box, b.actions, b.person,
                        source=f"{project.path}: box {b.uid} (video {b.video}, {b.second} s, person {b.person})")
            for b in project.sorted_boxes()]


def export_ava(project: Project, dataset: PathLike, options: Mapping[str, object]) -> Dict[str, object]:
    """Write ``annotations/`` and ``frame_lists/`` of ``dataset`` from the project.

    ``options``: ``val_videos`` (list of names) or ``val_ratio`` (a fraction of the videos, drawn with a fixed
    seed); neither: the writer's default split. ``val_ranges`` (``(video, (first, last))`` pairs, see
    ``SplitSpec.val_ranges``) sends seconds of a video to val, alone or with ``val_videos``.
    """
    ranges = ranges_by_video(options.get("val_ranges", ()))  # type: ignore[arg-type]
    split = SplitSpec(val_ranges=ranges)
    if "val_videos" in options:
        split = SplitSpec(val_videos=list(options["val_videos"]), val_ranges=ranges)  # type: ignore[call-overload]
    elif "val_ratio" in options:
        split = SplitSpec(val_ratio=float(options["val_ratio"]), val_ranges=ranges)  # type: ignore[arg-type]
    summary = write_ava_dataset_annotations(dataset, labelled_boxes(project), project.actions, split=split,
                                            fps=project.fps)
    boxes = summary.boxes["train"] + summary.boxes["val"]
    message = (f"Exported {boxes} labelled boxes to {Path(dataset).name}/annotations "
               f"(train: {', '.join(summary.videos['train']) or 'none'}; "
               f"val: {', '.join(summary.videos['val']) or 'none'})")
    if summary.unlabelled:
        message += f"; {summary.unlabelled} boxes without actions left out"
    return {"message": message, "report": summary.report(), "videos": summary.videos, "rows": summary.rows,
            "unlabelled": summary.unlabelled}


# -- a model's suggestions ------------------------------------------------------


def top_actions(scores: Sequence[float], actions: Sequence[LabelMapEntry],
                threshold: float = SUGGEST_THRESHOLD) -> Tuple[int, ...]:
    """The action ids to suggest from one box's scores (``scores[c]`` is ``actions[c]``'s): the best action, and
    every other from ``threshold`` on, but never two of the exclusive pose type."""
    order = sorted(range(len(scores)), key=lambda c: -scores[c])
    chosen: List[int] = []
    for rank, c in enumerate(order):
        if rank and scores[c] < threshold:
            break
        if actions[c].label_type == EXCLUSIVE_TYPE and any(actions[k].label_type == EXCLUSIVE_TYPE for k in chosen):
            continue
        chosen.append(c)
    return tuple(sorted(actions[c].id for c in chosen))


def smoothed_scores(project: Project, scores: Mapping[int, Sequence[float]],
                    window_sec: int = SUGGEST_WINDOW_SEC) -> Dict[int, List[float]]:
    """``{uid: scores}``: per box, the mean of the scores of its track's boxes within ``window_sec`` seconds."""
    tracks: Dict[Tuple[str, int], List] = {}
    for b in project.boxes.values():
        if b.uid in scores:
            tracks.setdefault((b.video, b.person), []).append(b)
    smoothed = {}
    for boxes in tracks.values():
        for b in boxes:
            near = [scores[o.uid] for o in boxes if abs(o.second - b.second) <= window_sec]
            smoothed[b.uid] = [sum(col) / len(near) for col in zip(*near)]
    return smoothed


def model_suggestions(project: Project, dataset: PathLike, cfg_file: PathLike, checkpoint: PathLike,
                      threshold: float = SUGGEST_THRESHOLD,
                      window_sec: int = SUGGEST_WINDOW_SEC) -> Dict[int, Tuple[int, ...]]:
    """``{uid: action ids}`` for every box of the project: the model of ``cfg_file`` with the weights of
    ``checkpoint`` on the clip around the box's keyframe (as the demo predicts), ``smoothed_scores`` along its
    track, then ``top_actions``."""
    import torch
    from slowfast.models.model_builder import build_model

    from slowfast_custom.config import load_config
    from slowfast_custom.demo.people import Person
    from slowfast_custom.demo.predictor import ActionPredictor, num_outputs, predict_on_frames
    from slowfast_custom.engine.precision import StepPrecision
    from slowfast_custom.inference import device_of, load_for_inference

    if not Path(checkpoint).is_file():
        raise UserError(f"{checkpoint}: checkpoint not found (--model CFG CHECKPOINT)")
    cfg = load_config(argparse.Namespace(cfg_file=str(cfg_file), opts=[
        "TEST.CHECKPOINT_FILE_PATH", str(checkpoint), "TEST.CHECKPOINT_TYPE", "pytorch"]))
    torch.manual_seed(0)
    model = build_model(cfg)
    load_for_inference(cfg, model)
    outputs = num_outputs(model, cfg.MODEL.NUM_CLASSES)
    if outputs != len(project.actions):
        raise UserError(f"the model of {cfg_file} predicts {outputs} classes, but the project has "
                        f"{len(project.actions)} actions: use a model trained on this action list")
    predictor = ActionPredictor(cfg, model, StepPrecision(device_of(cfg)))
    step = cfg.DATA.SAMPLING_RATE * project.fps / cfg.DATA.TARGET_FPS
    frame_dir = Path(dataset) / "frames"
    frames = frame_list_from_dir(frame_dir, list(project.videos))
    raw: Dict[int, List[float]] = {}
    for video, paths in frames.items():
        boxes: Dict[int, List] = {}
        for b in project.boxes.values():
            if b.video == video:
                boxes.setdefault(second_to_frame(b.second, project.fps, 0), []).append(b)
        boxes = {i: people for i, people in boxes.items() if 0 <= i < len(paths)}
        logger.info("Suggesting actions for %d boxes of video %s", sum(map(len, boxes.values())), video)
        scores = predict_on_frames(predictor, [frame_dir / p for p in paths],
                                   {i: [Person(b.box, 1.0, b.person) for b in people] for i, people in boxes.items()},
                                   step)
        for index, people in boxes.items():
            for b, row in zip(people, scores[index]):
                raw[b.uid] = [float(v) for v in row]
    return {uid: top_actions(row, project.actions, threshold)
            for uid, row in smoothed_scores(project, raw, window_sec).items()}


def write_suggestions(dataset: PathLike, checkpoint: PathLike, suggestions: Mapping[int, Sequence[int]]) -> Path:
    path = Path(dataset) / SUGGESTIONS_NAME
    boxes = {str(uid): list(actions) for uid, actions in sorted(suggestions.items())}
    atomic_write_text(path, json.dumps({"format": SUGGESTIONS_FORMAT, "checkpoint": str(checkpoint),
                                        "boxes": boxes}, indent=0) + "\n")
    return path


def read_suggestions(dataset: PathLike) -> Dict[int, Tuple[int, ...]]:
    """The saved suggestions of ``dataset`` (none when it has no suggestions file)."""
    path = Path(dataset) / SUGGESTIONS_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != SUGGESTIONS_FORMAT:
            raise ValueError(f'expected "format": "{SUGGESTIONS_FORMAT}"')
        return {int(uid): tuple(int(a) for a in actions) for uid, actions in data["boxes"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise DataError(path, f"malformed suggestions file ({err})",
                        hint="Delete it and start the app with --model CFG CHECKPOINT to make it again") from None
