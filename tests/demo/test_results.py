"""The demo's predictions CSV as upstream's AVA evaluator reads it: each second's rows best score first."""

import contextlib
import io

import numpy as np
import pytest
from slowfast.utils.ava_eval_helper import read_csv, run_evaluation

from slowfast_custom.ava.formats import BoxRow
from slowfast_custom.demo.clips import Keyframe
from slowfast_custom.demo.people import Person
from slowfast_custom.demo.results import PredictionLog
from slowfast_custom.engine.evaluation import groundtruth_from_rows

GT_BOX = (0.2, 0.2, 0.6, 0.8)


def test_predictions_csv_is_scored_with_the_best_box_matched(tmp_path):
    # The detector lists the loose box (IoU 0.67) first and the model scores it low for walk; the tight box
    # (IoU 0.975) comes second, scored high. Read in file order, the loose box would take the ground truth.
    people = [Person((0.0, 0.2, 0.6, 0.8), 0.9), Person((0.21, 0.2, 0.6, 0.8), 0.8)]
    keyframe = Keyframe(0, 5.0, 5.0, 150, people, np.array([[0.142, 0.3], [0.689, 0.05]]), [[], []])
    log = PredictionLog("v", ["walk", "stand"], 0)
    log.add(keyframe)
    log.write(tmp_path / "p.csv", tmp_path / "p.json", {})
    rows = (tmp_path / "p.csv").read_text().splitlines()
    scores = [float(r.split(",")[-1]) for r in rows]
    assert scores == sorted(scores, reverse=True) and len(rows) == 4
    detections = read_csv(str(tmp_path / "p.csv"), {1, 2}, load_score=True)
    gt = groundtruth_from_rows([BoxRow("v", 5, GT_BOX, 1, 0)], {1, 2})
    with contextlib.redirect_stdout(io.StringIO()):
        metrics = run_evaluation([{"id": 1, "name": "walk"}, {"id": 2, "name": "stand"}], gt, detections, set())
    assert metrics["PascalBoxes_PerformanceByCategory/AP@0.5IOU/walk"] == pytest.approx(1.0)
