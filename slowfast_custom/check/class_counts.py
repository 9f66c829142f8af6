"""Ground-truth boxes per class and split, and what they say about a dataset before training.

``class_box_counts`` counts the ground-truth boxes of each action id in each
split's box files; ``class_count_findings`` turns the counts into the
checker's findings (``check.dataset.check_dataset`` adds them to its report):

* one information line with the table of boxes per class and split;
* a warning for each class of the label map with no training box (nothing
  teaches the model that class; it passes import, export and training
  silently otherwise), and an information line for classes with no
  validation box (they get no AP);
* a warning when ``MODEL.NUM_CLASSES`` is larger than every id the label map
  and the boxes use (outputs that nothing trains). Ids above
  ``MODEL.NUM_CLASSES`` are the checker's own error.

Files that cannot be read are left out of the counts (the checker reports why).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence

from slowfast_custom.ava.formats import LabelMapEntry, iter_box_csv, read_label_map
from slowfast_custom.errors import DataError

TRAIN, VAL = "train", "val"


class Finding(NamedTuple):
    """One line for the checker's report (the arguments of ``CheckReport.add``)."""

    path: str
    line: Optional[int]
    message: str
    hint: str = ""
    severity: str = "warning"
    kind: str = ""
    rows: int = 1


@dataclass(frozen=True)
class ClassCounts:
    """Boxes per action id per split, with the label map's names (ids outside it are counted too)."""

    label_map: List[LabelMapEntry]
    boxes: Dict[str, Counter]  # split -> action id -> ground-truth boxes
    unread: List[str]  # box files left out (unreadable; the checker says why)

    def name(self, action_id: int) -> str:
        names = {e.id: e.name for e in self.label_map}
        return names.get(action_id, "(not in the label map)")

    def ids(self) -> List[int]:
        seen = {i for counts in self.boxes.values() for i in counts}
        return sorted(seen | {e.id for e in self.label_map})

    def table(self) -> str:
        """The counts as a text table: id, class, then one column per split."""
        splits = list(self.boxes)
        width = max([len("class")] + [len(self.name(i)) for i in self.ids()])
        lines = [f"{'id':>5}  {'class':<{width}}" + "".join(f"{s:>8}" for s in splits)]
        for action_id in self.ids():
            lines.append(f"{action_id:>5}  {self.name(action_id):<{width}}"
                         + "".join(f"{self.boxes[s][action_id]:>8}" for s in splits))
        lines.append(f"{'':>5}  {'all':<{width}}" + "".join(f"{sum(self.boxes[s].values()):>8}" for s in splits))
        return "\n".join(lines)


def class_box_counts(label_map: Path, gt_files: Mapping[str, Sequence[Path]]) -> ClassCounts:
    """Count the ground-truth boxes of each action id in each split's files (rows without action skipped)."""
    try:
        entries = read_label_map(label_map)
    except DataError:
        entries = []
    boxes: Dict[str, Counter] = {}
    unread: List[str] = []
    for split, paths in gt_files.items():
        counts: Counter = Counter()
        for path in paths:
            try:
                file_counts = Counter(r.action_id for r in iter_box_csv(path, "gt")
                                      if r.action_id is not None and r.action_id > 0)
            except DataError:
                unread.append(str(path))
                continue
            counts.update(file_counts)
        boxes[split] = counts
    return ClassCounts(entries, boxes, unread)


def class_count_findings(label_map: Path, gt_files: Mapping[str, Sequence[Path]],
                         num_classes: Optional[int]) -> List[Finding]:
    """The checker's lines about the classes (see the module doc)."""
    counts = class_box_counts(label_map, gt_files)
    if not any(counts.boxes.values()):
        return []
    where = str(label_map)
    total = sum(sum(c.values()) for c in counts.boxes.values())
    left_out = f" (left out, unreadable: {', '.join(counts.unread)})" if counts.unread else ""
    findings = [Finding(where, None, f"ground-truth boxes per class and split{left_out}:\n{counts.table()}",
                        severity="info", kind="boxes per class", rows=total)]
    train, val = counts.boxes.get(TRAIN), counts.boxes.get(VAL)
    for entry in counts.label_map:
        if train is not None and train[entry.id] == 0:
            findings.append(Finding(where, None, f"class {entry.name} (id {entry.id}) has no training boxes",
                                    "The model cannot learn it: label examples of it in the train split, or "
                                    "remove it from the label map", kind="class without training boxes"))
    no_val = [e.name for e in counts.label_map if val is not None and val[e.id] == 0]
    if no_val:
        findings.append(Finding(where, None, f"classes without validation boxes, so without AP ({len(no_val)}): "
                                f"{', '.join(no_val)}", severity="info", kind="class without validation boxes",
                                rows=len(no_val)))
    used = counts.ids()
    if num_classes is not None and used and num_classes > max(used):
        unused = str(num_classes) if num_classes == max(used) + 1 else f"{max(used) + 1}-{num_classes}"
        findings.append(Finding(where, None, f"MODEL.NUM_CLASSES is {num_classes}, but the label map and the "
                                f"boxes use ids up to {max(used)}: the head's outputs {unused} are never trained",
                                f"Train with MODEL.NUM_CLASSES {max(used)}", kind="MODEL.NUM_CLASSES"))
    return findings
