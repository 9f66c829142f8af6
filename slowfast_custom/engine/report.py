"""``OUTPUT_DIR/report.md``: how a run went, in a few numbers and three plots.

Written at the end of training and of evaluation from the run's files alone,
so it can be rebuilt any time: the per-epoch training loss from
``train_curves.json`` (``curves.py``), the validation frame-mAP of every
evaluated epoch and the per-class AP of the last validation and of the test
evaluation from ``eval/*_metrics.json``, and the calibrated thresholds from
``checkpoints/thresholds.json`` when there are any. The plots are PNGs in
``OUTPUT_DIR/report/`` (matplotlib's Agg backend: no display needed), each
file written under a temporary name and renamed, the report last.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from slowfast_custom.checkpoint import checkpoint_dir
from slowfast_custom.engine.curves import read_curves
from slowfast_custom.engine.thresholds import THRESHOLDS_NAME
from slowfast_custom.fileio import atomic_path, atomic_write_text

REPORT_NAME = "report.md"
PLOT_DIR = "report"
_VAL_TAG = re.compile(r"^val_epoch_(\d{5})_metrics\.json$")


def _val_metrics(eval_dir: Path) -> List[Tuple[int, Dict]]:
    """(epoch, metrics) of every validation evaluation, by epoch."""
    found = []
    for path in eval_dir.glob("val_epoch_*_metrics.json") if eval_dir.is_dir() else ():
        match = _VAL_TAG.match(path.name)
        if match:
            found.append((int(match.group(1)), json.loads(path.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda item: item[0])


def _figure(width: float = 6.4, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure on the Agg canvas: no pyplot state, no display, whatever backend the user configured.
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")


def plot_per_epoch(path: Path, epochs: Sequence[int], values: Sequence[float], ylabel: str, title: str) -> None:
    """A line plot of one number per epoch."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure()
    ax = figure.add_subplot()
    ax.plot(list(epochs), list(values), marker="o")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _save(figure, path)


def plot_per_class_ap(path: Path, per_class: Dict[str, Dict[str, Optional[float]]]) -> None:
    """Grouped bars: for each evaluation (``{label: {class: AP or None}}``), the AP of every class."""
    labels = list(per_class)
    classes = list(dict.fromkeys(name for aps in per_class.values() for name in aps))
    figure = _figure(max(6.4, 0.5 * len(classes) * len(labels) + 2), 4.0)
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(labels))
    for k, label in enumerate(labels):
        values = [per_class[label].get(name) for name in classes]
        xs = [i + (k - (len(labels) - 1) / 2) * width for i in range(len(classes))]
        ax.bar(xs, [0.0 if v is None else v for v in values], width, label=label)
        for x, value in zip(xs, values):
            if value is None:  # tell "no ground truth" apart from an AP of 0
                ax.text(x, 0.02, "no GT", rotation=90, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes, rotation=45, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("AP@0.5")
    ax.set_title("per-class AP")
    ax.legend()
    _save(figure, path)


def _number(value: Optional[float], digits: int = 4) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def write_report(output_dir) -> Path:
    """Plot what ``output_dir`` holds and write ``report.md`` linking the plots; return its path."""
    output_dir = Path(output_dir)
    plot_dir = output_dir / PLOT_DIR
    curves = [r for r in read_curves(output_dir) if r.get("loss") is not None]
    val = _val_metrics(output_dir / "eval")
    test_path = output_dir / "eval" / "test_metrics.json"
    test = json.loads(test_path.read_text(encoding="utf-8")) if test_path.is_file() else None
    thresholds_path = checkpoint_dir(str(output_dir)) / THRESHOLDS_NAME
    thresholds = {c["name"]: c for c in json.loads(thresholds_path.read_text(encoding="utf-8"))["classes"]} \
        if thresholds_path.is_file() else {}

    lines = [f"# Run report: {output_dir.name}", ""]
    facts = []
    if curves:
        facts.append(f"{curves[-1]['epoch']} epochs trained, last epoch's mean loss {_number(curves[-1]['loss'])}")
        waits = [r["data_wait_share"] for r in curves if r.get("data_wait_share") is not None]
        if waits:
            facts.append(f"waiting for data: {100 * sum(waits) / len(waits):.1f}% of training time (mean of epochs)")
    if val:
        best_epoch, best = max(val, key=lambda item: item[1]["frame_map"])
        facts.append(f"validation frame-mAP@0.5: {_number(val[-1][1]['frame_map'])} at epoch {val[-1][0]} "
                     f"(best {_number(best['frame_map'])} at epoch {best_epoch})")
    if test is not None:
        facts.append(f"test frame-mAP@0.5: {_number(test['frame_map'])} ({test['num_gt_frames']} frames)")
    lines += [f"- {fact}" for fact in facts] or ["No training curves or evaluations in this folder yet."]
    lines.append("")

    if curves:
        plot_per_epoch(plot_dir / "loss.png", [r["epoch"] for r in curves], [r["loss"] for r in curves],
                       "mean training loss", "training loss per epoch")
        lines += ["## Training loss", "", f"![training loss per epoch]({PLOT_DIR}/loss.png)", ""]
    if val:
        plot_per_epoch(plot_dir / "val_map.png", [e for e, _ in val], [m["frame_map"] for _, m in val],
                       "frame-mAP@0.5", "validation frame-mAP per epoch")
        lines += ["## Validation frame-mAP", "", f"![validation frame-mAP per epoch]({PLOT_DIR}/val_map.png)", ""]

    per_class = {}
    if val:
        per_class[f"val (epoch {val[-1][0]})"] = val[-1][1]
    if test is not None:
        per_class["test"] = test
    if per_class:
        plot_per_class_ap(plot_dir / "per_class_ap.png", {k: m["per_class_ap"] for k, m in per_class.items()})
        lines += ["## Per-class AP", "", f"![per-class AP]({PLOT_DIR}/per_class_ap.png)", ""]
        names = list(dict.fromkeys(n for m in per_class.values() for n in m["per_class_ap"]))
        header = ["class"] + [f"AP {k}" for k in per_class] + [f"support {k}" for k in per_class]
        if thresholds:
            header += ["calibrated threshold", "F1 there"]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name in names:
            row = [name] + [_number(m["per_class_ap"].get(name)) for m in per_class.values()]
            row += [str(m.get("per_class_support", {}).get(name, "n/a")) for m in per_class.values()]
            if thresholds:
                record = thresholds.get(name, {})
                if record.get("threshold") is None:
                    row += [f"global ({record.get('note') or 'not in the file'})", "n/a"]
                else:
                    row += [_number(record["threshold"], 3), _number(record["f1"], 3)]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        if thresholds:
            lines += [f"Thresholds: `{thresholds_path.relative_to(output_dir)}` (DEMO.VIS_MODE calibrated).", ""]
    path = output_dir / REPORT_NAME
    atomic_write_text(path, "\n".join(lines))
    return path
