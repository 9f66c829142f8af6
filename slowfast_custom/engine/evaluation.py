"""Frame-mAP with upstream's AVA evaluator, writing its files into a folder you choose.

Upstream's ``evaluate_ava`` writes ``detections_latest.csv`` into the current
directory and reads the label map with a parser that depends on exact
indentation; here the inputs come from the plugin's validated readers and the
outputs go to ``OUTPUT_DIR/eval/``. The metric itself is upstream's
(``run_evaluation``: PASCAL VOC AP at IoU 0.5 per class, averaged). Its
per-class matches (which detection hit which ground-truth box) are kept, to
calibrate per-class thresholds (``thresholds.py``) on the same matching.

Each frame's detections are handed to the evaluator, and written to
``<tag>_detections.csv``, sorted by score, best first (equal scores in the
model's box order). Upstream's matching (the TF object-detection code) takes a
frame's detections in the order given and assumes that order: a low-scored
box listed first would take the ground-truth box from a better one.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import numpy as np
from slowfast.utils import ava_eval_helper
from slowfast.utils.ava_eval_helper import get_ava_eval_data, run_evaluation

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry
from slowfast_custom.engine import thresholds as thresholds_io
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_open

logger = logging.getLogger(__name__)

MAP_KEY = "PascalBoxes_Precision/mAP@0.5IOU"
PER_CLASS_PREFIX = "PascalBoxes_PerformanceByCategory/AP@0.5IOU/"

# (boxes, labels, scores) keyed by "video,%04d": upstream's evaluation input.
EvalData = Tuple[Dict[str, List[List[float]]], Dict[str, List[int]], Dict[str, List[float]]]


@dataclass(frozen=True)
class ClassMatches:
    """Per action id, as upstream's evaluator matched them: each detection's score, whether it hit a
    ground-truth box (IoU >= 0.5, each box hit once, best scores first), and the number of ground-truth boxes."""

    scores: Dict[int, np.ndarray]
    is_true_positive: Dict[int, np.ndarray]
    support: Dict[int, int]


@dataclass(frozen=True)
class EvalResult:
    frame_map: float
    per_class_ap: Dict[str, float]  # class name -> AP (NaN where the class has no ground truth)
    num_gt_frames: int
    num_detection_frames: int
    files: Dict[str, str]  # what was written: metrics, per_class_ap, detections (, thresholds)
    matches: Optional[ClassMatches] = field(default=None, repr=False)


def image_key(video: str, second: int) -> str:
    return "%s,%04d" % (video, int(second))


def groundtruth_from_rows(rows: Iterable[BoxRow], class_ids: Set[int], second_stride: int = 1,
                          valid_seconds: Optional[Tuple[int, int]] = None) -> EvalData:
    """Upstream's ground-truth structure (boxes as y1,x1,y2,x2) from validated rows: the label map's classes,
    on the seconds the dataset evaluates (``AVA.VALID_SECONDS``, the validation stride)."""
    boxes, labels, scores = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in rows:
        if row.action_id not in class_ids or row.second % second_stride:
            continue
        if valid_seconds and not valid_seconds[0] <= row.second <= valid_seconds[1]:
            continue
        key = image_key(row.video_id, row.second)
        x1, y1, x2, y2 = row.box
        boxes[key].append([y1, x1, y2, x2])
        labels[key].append(row.action_id)
        scores[key].append(1.0)
    return boxes, labels, scores


def count_boxes(groundtruth: EvalData) -> int:
    """Person boxes of the ground truth: distinct boxes per frame (a box with two actions is one box)."""
    return sum(len({tuple(box) for box in boxes}) for boxes in groundtruth[0].values())


def prevalence(support: int, num_boxes: int) -> Optional[float]:
    """A class's share of the person boxes: the precision, and about the AP, of scores that know nothing."""
    return support / num_boxes if num_boxes else None


def check_label_map_coverage(rows: Sequence[BoxRow], label_map: Sequence[LabelMapEntry], groundtruth_file: Path,
                             label_map_file: Path) -> Dict[int, int]:
    """Ground-truth ids outside the label map: ``{action id: rows}``, trained and not evaluated (AVA trains 80
    ids and evaluates 60). A label map that shares no id with the ground truth would make every AP undefined
    (frame-mAP NaN): that is a DataError naming both files, raised before any training."""
    class_ids = {e.id for e in label_map}
    outside = Counter(r.action_id for r in rows if r.action_id not in class_ids)
    used = sorted({r.action_id for r in rows})
    if not rows:
        raise DataError(groundtruth_file, "no ground-truth rows, so there is nothing to evaluate against",
                        hint="Point AVA.GROUNDTRUTH_FILE at the validation split's boxes")
    if sum(outside.values()) == len(rows):
        shown = ", ".join(map(str, used[:12])) + (", ..." if len(used) > 12 else "")
        raise DataError(label_map_file, f"none of the action ids of {groundtruth_file} ({shown}) is in this label "
                        "map, so no class could be scored (frame-mAP NaN)",
                        hint="Set AVA.LABEL_MAP_FILE to the label map of this dataset")
    if outside:
        ids = sorted(outside)
        logger.info("%d ground-truth rows of %s have %d action ids not in %s (ids %s): trained, not evaluated",
                    sum(outside.values()), groundtruth_file, len(ids), label_map_file.name,
                    ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else ""))
    unscored = [e.name for e in label_map if e.id not in used]
    if unscored:
        logger.info("%d classes of %s have no ground truth in %s, so no AP (left out of the mean): %s",
                    len(unscored), label_map_file.name, groundtruth_file.name, ", ".join(unscored[:10]))
    return dict(outside)


def evaluate(
    preds: np.ndarray,
    ori_boxes: np.ndarray,
    metadata: np.ndarray,
    video_names: Sequence[str],
    label_map: Sequence[LabelMapEntry],
    groundtruth: EvalData,
    excluded: Set[Tuple[str, int]],
    out_dir: Path,
    tag: str,
    thresholds_path: Optional[Path] = None,
    threshold_floor: float = 0.0,
    model: Optional[str] = None,
) -> EvalResult:
    """Score ``preds`` (N x classes) for boxes ``ori_boxes`` (N x [batch, x1, y1, x2, y2]) at ``metadata``
    (N x [video_idx, second]).

    With ``thresholds_path`` (validation only: thresholds chosen on the test split would flatter it), also write
    the per-class thresholds that maximise F1 there, never below ``threshold_floor`` times the class's
    prevalence (``thresholds.py``). ``model``: the weights evaluated, recorded in the metrics for the report.
    """
    class_ids = {e.id for e in label_map}
    detections = by_score(get_ava_eval_data(preds, ori_boxes, metadata.tolist(), class_ids,
                                            video_idx_to_name=list(video_names)))
    excluded_keys = {image_key(v, s) for v, s in excluded}
    categories = [{"id": e.id, "name": e.name} for e in label_map]
    with contextlib.redirect_stdout(io.StringIO()), _recorded_evaluators() as made:  # upstream pprints every AP
        metrics = run_evaluation(categories, groundtruth, detections, excluded_keys)
    matches = _class_matches(made[-1], class_ids)
    num_boxes = count_boxes(groundtruth)
    per_class = {k[len(PER_CLASS_PREFIX):]: float(v) for k, v in metrics.items() if k.startswith(PER_CLASS_PREFIX)}
    out_dir = Path(out_dir)
    files = {
        "detections": str(out_dir / f"{tag}_detections.csv"),
        "per_class_ap": str(out_dir / f"{tag}_per_class_ap.csv"),
        "metrics": str(out_dir / f"{tag}_metrics.json"),
    }
    write_detections(Path(files["detections"]), detections)
    with atomic_open(files["per_class_ap"], "w", encoding="utf-8") as f:
        f.write("action_id,name,ap\n")
        for entry in label_map:
            ap = per_class.get(entry.name, float("nan"))
            f.write(f'{entry.id},"{entry.name}",{ap:.6f}\n')
    if thresholds_path is not None:
        files["thresholds"] = str(thresholds_path)
        chosen = thresholds_io.class_thresholds([(e.id, e.name) for e in label_map], matches.scores,
                                                matches.is_true_positive, matches.support, per_class,
                                                num_boxes=num_boxes, floor_factor=threshold_floor)
        thresholds_io.write_thresholds(Path(thresholds_path), tag, chosen)
    result = EvalResult(float(metrics[MAP_KEY]), per_class, len(groundtruth[0]), len(detections[0]), files, matches)
    with atomic_open(files["metrics"], "w", encoding="utf-8") as f:
        json.dump({"tag": tag, "frame_map": result.frame_map, "num_gt_frames": result.num_gt_frames,
                   "num_detection_frames": result.num_detection_frames,
                   "per_class_ap": {k: (None if np.isnan(v) else v) for k, v in per_class.items()},
                   # ground-truth boxes per class: an AP over 2 boxes says less than one over 200
                   "per_class_support": {e.name: matches.support[e.id] for e in label_map},
                   # chance: the AP of scores that know nothing, the class's share of the person boxes
                   "num_gt_boxes": num_boxes,
                   "per_class_chance": {e.name: prevalence(matches.support[e.id], num_boxes) for e in label_map},
                   "videos": sorted({key.rsplit(",", 1)[0] for key in detections[0]}),  # the ones predicted
                   "model": model}, f, indent=1)
    return result


@contextlib.contextmanager
def _recorded_evaluators() -> Iterator[list]:
    """Keep the evaluator that upstream's ``run_evaluation`` builds (and drops), for its per-class matches.

    Recording the one upstream uses, rather than re-implementing its matching, keeps the thresholds on exactly
    the matches the reported AP comes from. Its ``evaluate`` is wrapped for the call (the class itself cannot be
    swapped: upstream's ``__init__`` calls ``super(PascalDetectionEvaluator, self)`` by its global name).
    """
    cls = ava_eval_helper.object_detection_evaluation.PascalDetectionEvaluator
    own = cls.__dict__.get("evaluate")
    inherited = cls.evaluate
    made: list = []

    def evaluate(self):
        made.append(self)
        return inherited(self)

    cls.evaluate = evaluate
    try:
        yield made
    finally:
        if own is None:
            del cls.evaluate
        else:
            cls.evaluate = own


def _class_matches(evaluator, class_ids: Set[int]) -> ClassMatches:
    state = evaluator._evaluation  # upstream's ObjectDetectionEvaluation: per class index = id - offset
    offset = evaluator._label_id_offset
    scores, hits, support = {}, {}, {}
    for class_id in sorted(class_ids):
        index = class_id - offset
        parts = state.scores_per_class[index]
        scores[class_id] = np.concatenate(parts).astype(float) if parts else np.zeros(0)
        labels = state.tp_fp_labels_per_class[index]
        hits[class_id] = np.concatenate(labels).astype(bool) if labels else np.zeros(0, bool)
        support[class_id] = int(state.num_gt_instances_per_class[index])
    return ClassMatches(scores, hits, support)


def score_order(scores: Sequence[float]) -> List[int]:
    """Indices of ``scores`` best first; equal scores keep their order."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def by_score(detections: EvalData) -> EvalData:
    """``detections`` with each frame's boxes, labels and scores reordered best score first (see the module)."""
    boxes, labels, scores = detections
    out: EvalData = ({}, {}, {})
    for key in boxes:
        order = score_order(scores[key])
        for source, target in zip(detections, out):
            target[key] = [source[key][i] for i in order]
    return out


def write_detections(path: Path, detections: EvalData) -> None:
    """AVA's detection CSV: video,second,x1,y1,x2,y2,action_id,score (upstream's ``write_results`` format),
    in the order given (``evaluate`` gives each frame's detections best score first)."""
    boxes, labels, scores = detections
    with atomic_open(path, "w", encoding="utf-8") as f:
        for key in boxes:
            for box, label, score in zip(boxes[key], labels[key], scores[key]):
                f.write("%s,%.03f,%.03f,%.03f,%.03f,%d,%.04f\n" % (key, box[1], box[0], box[3], box[2], label, score))
