"""Per-class score thresholds calibrated on the validation split, for ``DEMO.VIS_MODE calibrated``.

One global threshold suits few classes: on a custom dataset a rare class may
never score above 0.7 while a frequent one passes 0.3 everywhere. After each
validation evaluation the trainer writes, for every class, the score that
maximises F1 over that evaluation's detections, matched to the ground truth at
IoU 0.5 exactly as AVA's evaluator matches them (``evaluation.ClassMatches``),
with the class's AP and support beside it.

Two guards keep a threshold from inviting over-reading:

* a floor: a threshold is never below ``TRAIN.THRESHOLD_FLOOR`` (default 1)
  times the class's prevalence, its share of the validation person boxes.
  A score under the base rate says the model finds the class less likely than
  a random box; max F1 alone picked 0.0002 for a weak class, so the demo
  showed it on every person. When the best F1 cut lies under the floor, the
  floor is the threshold (F1, precision and recall are those of the floor's
  cut) and the note says so;
* chance: flagging every box of a class gets precision p (its prevalence) and
  recall 1, so F1 ``2p / (1 + p)``; a class whose calibrated F1 is no better
  than that gets a note (its threshold means little).

``thresholds.json`` (next to the checkpoints, ``OUTPUT_DIR/checkpoints/``)::

    {"evaluation": "val_epoch_00006",   # the evaluation it was chosen on
     "criterion": "max F1 at IoU 0.5",
     "classes": [{"id": 1, "name": "stand",
                  "threshold": 0.41,     # null: no calibrated value, see "note"
                  "f1": 0.8, "precision": 0.8, "recall": 0.8,
                  "ap": 0.75,            # null without ground truth
                  "support": 10,         # ground-truth boxes of the class
                  "detections": 40,      # scored boxes of the class
                  "prevalence": 0.25,    # support / person boxes (null without them)
                  "floor": 0.25,         # TRAIN.THRESHOLD_FLOOR x prevalence
                  "chance_f1": 0.4,      # F1 of flagging every box: 2p / (1 + p)
                  "note": ""}, ...]}     # fallback to the global threshold, floor, or chance-level F1

A class without validation examples (or whose detections never hit one) has
``"threshold": null``; the demo shows it at its global threshold
(``DEMO.COMMON_CLASS_THRES`` / ``DEMO.UNCOMMON_CLASS_THRES``) and says so.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from slowfast_custom.checkpoint import CHECKPOINT_NAME
from slowfast_custom.errors import DataError
from slowfast_custom.fileio import atomic_write_text

logger = logging.getLogger(__name__)

THRESHOLDS_NAME = "thresholds.json"  # the newest evaluation's; each epoch's also in thresholds_epoch_NNNNN.json


def epoch_thresholds_name(epoch: int) -> str:
    """The thresholds calibrated on the validation after ``epoch`` completed epochs (beside its checkpoint)."""
    return f"thresholds_epoch_{epoch:05d}.json"


def thresholds_for(checkpoint: Path) -> Path:
    """The calibrated thresholds of ``checkpoint``'s epoch (``thresholds_epoch_NNNNN.json`` beside it), else the
    folder's newest ones (``thresholds.json``)."""
    match = CHECKPOINT_NAME.match(checkpoint.name)
    if match:
        own = checkpoint.parent / epoch_thresholds_name(int(match.group(1)))
        if own.is_file():
            return own
    return checkpoint.parent / THRESHOLDS_NAME
CRITERION = "max F1 at IoU 0.5"
# Notes of classes whose threshold is null (the demo uses the global one).
NO_EXAMPLES = "no validation examples"
NO_HITS = "no detection matched a validation example"
# Notes of calibrated classes.
FLOORED = "raised to the floor (prevalence x TRAIN.THRESHOLD_FLOOR); the best F1 cut was {best:.4g}"
NO_BETTER_THAN_CHANCE = "F1 no better than chance ({chance:.3f}: flagging every box)"


@dataclass(frozen=True)
class F1Threshold:
    """The best cut of one class: show scores >= ``threshold``."""

    threshold: Optional[float]  # None when no cut finds any true positive (or there is nothing to find)
    f1: float
    precision: float
    recall: float


def best_f1_threshold(scores: np.ndarray, is_true_positive: np.ndarray, num_ground_truth: int,
                      floor: float = 0.0) -> F1Threshold:
    """The score ``t`` whose cut "keep detections scored >= t" maximises F1, among ``t >= floor``.

    ``scores`` and ``is_true_positive`` describe one class's detections (as
    AVA's evaluator labels them: true positive when matched to a ground-truth
    box not matched before); ``num_ground_truth`` counts that class's
    ground-truth boxes, so missed boxes lower recall. Detections with equal
    scores are kept or dropped together, as a threshold would. Of equally good
    cuts the highest score wins (fewer false alarms for the same F1). When no
    cut at or above ``floor`` beats the cut at ``floor`` itself, ``floor`` is
    the threshold (with that cut's F1, precision and recall).
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    hits = np.asarray(is_true_positive, dtype=bool).reshape(-1)
    if scores.shape != hits.shape:
        raise ValueError(f"{scores.size} scores but {hits.size} true-positive labels")
    if num_ground_truth < 0 or hits.sum() > num_ground_truth:
        raise ValueError(f"{int(hits.sum())} true positives cannot come from {num_ground_truth} ground-truth boxes")
    if num_ground_truth == 0 or not hits.any():
        return F1Threshold(None, 0.0, 0.0, 0.0)
    order = np.argsort(-scores, kind="stable")
    scores, hits = scores[order], hits[order]
    true_pos = np.cumsum(hits)
    kept = np.arange(1, scores.size + 1)
    # A cut can only fall after the last of equal scores, and not under the floor.
    cut = np.append(scores[1:] != scores[:-1], True) & (scores >= floor)
    if not (cut & (true_pos > 0)).any():  # no hit scored at or above the floor: the floor's cut finds nothing
        return F1Threshold(float(floor), 0.0, 0.0, 0.0)
    precision = true_pos[cut] / kept[cut]
    recall = true_pos[cut] / num_ground_truth
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(true_pos[cut] > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))  # first maximum = highest threshold
    return F1Threshold(float(scores[cut][best]), float(f1[best]), float(precision[best]), float(recall[best]))


@dataclass(frozen=True)
class ClassThreshold:
    id: int
    name: str
    threshold: Optional[float]
    f1: float
    precision: float
    recall: float
    ap: Optional[float]
    support: int
    detections: int
    prevalence: Optional[float]
    floor: float
    chance_f1: Optional[float]
    note: str


def chance_f1(prevalence: float) -> float:
    """F1 of flagging every box when a share ``prevalence`` of them is the class: precision p, recall 1."""
    return 2 * prevalence / (1 + prevalence) if prevalence > 0 else 0.0


def class_thresholds(
    classes: Sequence[tuple],
    scores: Mapping[int, np.ndarray],
    is_true_positive: Mapping[int, np.ndarray],
    support: Mapping[int, int],
    per_class_ap: Mapping[str, float],
    num_boxes: Optional[int] = None,
    floor_factor: float = 0.0,
) -> List[ClassThreshold]:
    """One ``ClassThreshold`` per ``(id, name)`` in ``classes`` from each class id's matched detections.

    ``num_boxes``: the person boxes of the evaluation (a class's prevalence is its support over them);
    ``floor_factor``: thresholds are at least this times the prevalence (``TRAIN.THRESHOLD_FLOOR``).
    """
    out = []
    for class_id, name in classes:
        class_scores = np.asarray(scores.get(class_id, ()), dtype=float)
        hits = np.asarray(is_true_positive.get(class_id, ()), dtype=bool)
        count = int(support.get(class_id, 0))
        share = count / num_boxes if num_boxes else None
        floor = floor_factor * share if share is not None else 0.0
        best = best_f1_threshold(class_scores, hits, count, floor)
        chance = chance_f1(share) if share is not None else None
        notes = []
        if count == 0:
            notes.append(NO_EXAMPLES)
        elif best.threshold is None:
            notes.append(NO_HITS)
        else:
            free = best_f1_threshold(class_scores, hits, count)
            if free.threshold is not None and free.threshold < floor:
                notes.append(FLOORED.format(best=free.threshold))
            if chance is not None and best.f1 <= chance:
                notes.append(NO_BETTER_THAN_CHANCE.format(chance=chance))
        ap = per_class_ap.get(name)
        ap = None if ap is None or math.isnan(ap) else float(ap)
        out.append(ClassThreshold(int(class_id), str(name), best.threshold, best.f1, best.precision, best.recall, ap,
                                  count, int(class_scores.size), share, floor, chance, "; ".join(notes)))
    return out


def write_thresholds(path: Path, evaluation: str, thresholds: Sequence[ClassThreshold]) -> None:
    """``thresholds.json`` (format in the module docstring), written atomically; the fallbacks are logged."""
    records = [asdict(t) for t in thresholds]
    for record in records:
        for key in ("f1", "precision", "recall", "threshold", "ap", "prevalence", "floor", "chance_f1"):
            if record[key] is not None:
                record[key] = round(record[key], 6)
    text = json.dumps({"evaluation": evaluation, "criterion": CRITERION, "classes": records}, indent=1)
    atomic_write_text(path, text + "\n")
    fallback = [t.name for t in thresholds if t.threshold is None]
    logger.info("Calibrated thresholds (%s on %s) written to %s%s", CRITERION, evaluation, path,
                f"; global threshold for {', '.join(fallback)} (no validation examples or hits)" if fallback else "")


def read_thresholds(path: Path) -> Dict[str, Optional[float]]:
    """Class name -> calibrated threshold (None: use the global one) from ``thresholds.json``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "calibrated thresholds not found",
                        hint="Train with TRAIN.EVAL_PERIOD > 0 (each validation writes OUTPUT_DIR/checkpoints/"
                             f"{THRESHOLDS_NAME}), set DEMO.THRESHOLDS_FILE, or use DEMO.VIS_MODE thres")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        out = {}
        for record in data["classes"]:
            value = record["threshold"]
            if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(f"threshold of {record['name']!r} is {value!r}, not a score in [0, 1]")
            out[str(record["name"])] = None if value is None else float(value)
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(path, f"not a thresholds file ({err})",
                        hint="Write it again by evaluating on the validation split") from None
    return out
