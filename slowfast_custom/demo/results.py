"""The demo's predictions as files beside the output video: an AVA CSV and a JSON.

``<output stem>_predictions.csv``: AVA's detection-result format (what the
AVA evaluation reads), one row per person, second and class:
``video_id,second,x1,y1,x2,y2,action_id,score`` with the box as fractions of
the frame and the 1-based action id, each second's rows best score first (the
order AVA's evaluator assumes). AVA seconds are whole numbers, so only
predictions made at whole seconds are in it (all of them with the default
``DEMO.PREDICTION_STRIDE_SEC 1``).

``<output stem>_predictions.json``: the video's facts and one record per
person and prediction: ``video``, ``second`` (AVA second, ``DEMO.STARTING_SECOND``
plus the time), ``time`` and ``frame`` of the keyframe, ``box``,
``person_id`` (track id; null untracked), ``detector_score``, ``scores``
(every class name with its score) and ``shown`` (the ``[class, score]``
pairs drawn, best first).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from slowfast_custom.ava.formats import BoxRow, write_box_csv
from slowfast_custom.demo.clips import Keyframe
from slowfast_custom.fileio import atomic_write_text


def output_paths(video_path) -> Tuple[Path, Path]:
    """(CSV, JSON) paths beside the output video."""
    video_path = Path(video_path)
    stem = video_path.with_name(video_path.stem + "_predictions")
    return stem.with_suffix(".csv"), stem.with_suffix(".json")


@dataclass
class PredictionLog:
    """Collects every person's scores as keyframes are predicted."""

    video_id: str
    class_names: Sequence[str]
    starting_second: int
    records: List[Dict] = field(default_factory=list)
    csv_rows: List[BoxRow] = field(default_factory=list)

    def add(self, keyframe: Keyframe) -> None:
        whole = abs(keyframe.moment - round(keyframe.moment)) < 1e-6
        second = self.starting_second + (int(round(keyframe.moment)) if whole else keyframe.moment)
        rows: List[BoxRow] = []
        for person, scores, shown in zip(keyframe.people, keyframe.scores, keyframe.shown):
            self.records.append({
                "video": self.video_id,
                "second": second,
                "time": round(keyframe.time, 4),
                "frame": keyframe.index,
                "box": [round(v, 4) for v in person.box],
                "person_id": person.person_id,
                "detector_score": round(person.score, 4),
                "scores": {name: round(float(s), 4) for name, s in zip(self.class_names, scores)},
                "shown": [[self.class_names[c], round(s, 4)] for c, s in shown],
            })
            if whole:
                rows.extend(BoxRow(self.video_id, second, person.box, c + 1, score=float(s))
                            for c, s in enumerate(scores))
        # Best score first within the second: AVA's evaluator matches a frame's rows in file order.
        self.csv_rows.extend(sorted(rows, key=lambda row: -row.score))

    def write(self, csv_path: Path, json_path: Path, header: Dict) -> None:
        """Write the CSV and the JSON (the demo passes staged names it renames with the video)."""
        write_box_csv(csv_path, self.csv_rows, "predicted")
        # One record per line: readable, and a long video's file stays greppable.
        records = ",\n".join("  " + json.dumps(r) for r in self.records)
        head = json.dumps(header, indent=1)[:-2]
        atomic_write_text(json_path, f'{head},\n "predictions": [\n{records}\n ]\n}}\n')
