"""``OUTPUT_DIR/report.md``: how a run went, in a few numbers and three plots.

Written at the end of training and of evaluation from the run's files alone,
so it can be rebuilt any time: the per-epoch training loss from
``train_curves.json`` (``curves.py``), the validation frame-mAP of every
evaluated epoch and the per-class AP of the last validation and of the test
evaluation from ``eval/*_metrics.json``, and the calibrated thresholds from
``checkpoints/thresholds.json`` when there are any. The plots are PNGs in
``OUTPUT_DIR/report/`` (matplotlib's Agg backend: no display needed), each
file written under a temporary name and renamed, the report last.

What it adds so that the numbers are not over-read:

* chance beside each AP: the class's share of the evaluation's person boxes,
  about the AP of scores that know nothing (``per_class_chance`` of the
  metrics; an AP near it is no evidence of learning);
* the test split named for what it is: when the test evaluation scored the
  same videos as the validation (this plugin reads ``AVA.TEST_LISTS`` for
  both), the report says it is the validation split, not held-out data;
* a test evaluation of older weights than the last trained epoch (a run
  resumed with ``TEST.ENABLE False``) is named as such and left out of the
  per-class table and plot, never shown beside the newer validation. The
  weights come from the metrics' ``model`` (the checkpoint evaluated); files
  without it are compared by time with the newest checkpoint;
* each class's calibrated threshold with its note (raised to the floor, F1 no
  better than chance, or why there is none; see ``thresholds.py``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from slowfast_custom.checkpoint import CHECKPOINT_NAME, best_saved, checkpoint_dir, checkpoints
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


def _trained_epochs(curves: List[Dict], val: List[Tuple[int, Dict]], output_dir: Path) -> int:
    """The last epoch this folder's training reached (curves, validations, checkpoints)."""
    epochs = [int(r["epoch"]) for r in curves] + [e for e, _ in val]
    epochs += [int(CHECKPOINT_NAME.match(c.name).group(1)) for c in checkpoints(str(output_dir))]
    return max(epochs, default=0)


def best_saved_epoch(val: List, output_dir: Path) -> Optional[int]:
    """The validated epoch with the highest frame-mAP that has a checkpoint (the later one on a tie): the model
    TEST.CHECKPOINT_CHOICE best tests (``checkpoint.best_saved``, as inference.best_checkpoint)."""
    best = best_saved(str(output_dir), [(epoch, metrics["frame_map"]) for epoch, metrics in val])
    return best[1] if best else None


def stale_test_reason(test: Dict, test_path: Path, output_dir: Path, last_epoch: int,
                      best_epoch: Optional[int] = None) -> Optional[str]:
    """Why the test evaluation is neither of the last trained model nor of the best validated checkpoint (older
    weights of this run), or None."""
    model = test.get("model")
    if model:
        path = Path(model)
        match = CHECKPOINT_NAME.match(path.name)
        own = path.parent.resolve() == checkpoint_dir(str(output_dir)).resolve()
        if match and own and int(match.group(1)) < last_epoch and int(match.group(1)) != best_epoch:
            return f"the weights of epoch {int(match.group(1))}, older than the last trained epoch {last_epoch}"
        return None
    newest = checkpoints(str(output_dir))
    if newest and test_path.stat().st_mtime < newest[-1].stat().st_mtime:
        return f"weights older than the newest checkpoint {newest[-1].name}"
    return None


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
    best_saved = best_saved_epoch(val, output_dir)
    stale = stale_test_reason(test, test_path, output_dir, _trained_epochs(curves, val, output_dir), best_saved) \
        if test is not None else None
    if stale:
        facts.append(f"the last test evaluation (frame-mAP@0.5 {_number(test['frame_map'])}) scored {stale}; it is "
                     "left out of this report: evaluate the last model again (TEST.ENABLE True)")
        test = None
    if test is not None:
        same = bool(val) and test.get("videos") is not None and test.get("videos") == val[-1][1].get("videos")
        split = (f", on the validation split's {len(test['videos'])} videos: the test split is the validation "
                 "split (AVA.TEST_LISTS), not held-out data" if same else "")
        facts.append(f"test frame-mAP@0.5: {_number(test['frame_map'])} ({test['num_gt_frames']} frames{split})")
        tested = CHECKPOINT_NAME.match(Path(test.get("model") or "").name)
        if tested and best_saved is not None and int(tested.group(1)) == best_saved:
            chosen = (": chosen on the same split it is tested on, so this figure is optimistic" if same else "")
            facts.append(f"tested: the checkpoint of epoch {best_saved}, the best validated one "
                         f"(TEST.CHECKPOINT_CHOICE best){chosen}")
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
        header = ["class"] + [f"{what} {k}" for k in per_class for what in ("AP", "chance")]
        header += [f"support {k}" for k in per_class]
        if thresholds:
            header += ["calibrated threshold", "F1 there", "note"]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name in names:
            row = [name]
            for m in per_class.values():
                row += [_number(m["per_class_ap"].get(name)), _number(m.get("per_class_chance", {}).get(name))]
            row += [str(m.get("per_class_support", {}).get(name, "n/a")) for m in per_class.values()]
            if thresholds:
                record = thresholds.get(name, {})
                if record.get("threshold") is None:
                    row += ["global", "n/a", record.get("note") or "not in the file"]
                else:
                    row += [_number(record["threshold"], 3), _number(record["f1"], 3), record.get("note", "")]
            lines.append("| " + " | ".join(row) + " |")
        lines += ["", "Chance: the class's share of the person boxes, about the AP of scores that know nothing.", ""]
        if thresholds:
            lines += [f"Thresholds: `{thresholds_path.relative_to(output_dir)}` (DEMO.VIS_MODE calibrated).", ""]
    path = output_dir / REPORT_NAME
    atomic_write_text(path, "\n".join(lines))
    return path
