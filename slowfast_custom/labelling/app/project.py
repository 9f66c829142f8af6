"""A labelling project: a dataset's tracked person boxes, the actions given to them, and an undo history.

Every change is a method of ``Project`` that checks its arguments, applies
itself, pushes its inverse on the undo stack and saves the whole project
before it returns, so a change that returned is on disk.

The project file (``annotate_project.json`` in the dataset folder) is JSON:

- ``format``: ``"slowfast-custom annotate project"``; ``version``: 1.
- ``fps``: frame rate of ``frames/``; the keyframe of second ``s`` is frame ``round(s * fps)``.
- ``actions``: the label map, ``[{"id": 1, "name": "walk", "type": "PERSON_MOVEMENT"}, ...]``; ``type``
  is AVA's label_type, when the label map gives one (the page lets one person have one PERSON_MOVEMENT
  action at a time, as AVA's pose classes exclude each other).
- ``videos``: ``{video: [keyframe second, ...]}``, the seconds that can be labelled.
- ``boxes``: one object per person box on a keyframe: ``uid`` (stable
  number of the box), ``video``, ``second``, ``person`` (the track id, unique
  within a video; AVA's person_id), ``box`` (``[x1, y1, x2, y2]`` normalised
  to [0, 1]), ``actions`` (sorted action ids; empty: not labelled yet) and
  ``source`` (``tracker``, ``via`` or ``user``: who drew the box).
- ``undo`` and ``redo``: stacks of changes, newest last, each
  ``{"what": text, "before": {uid: box or null}, "after": {uid: box or null}}``
  (null: the box does not exist on that side).
- ``revision``: how many changes were saved. Clients send the revision they
  last saw with each change, so a stale page cannot overwrite newer work.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from slowfast_custom.ava.formats import Box, LabelMapEntry
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_write_text, read_text

PROJECT_NAME = "annotate_project.json"
FORMAT = "slowfast-custom annotate project"
VERSION = 1
MAX_UNDO = 200  # changes kept for undo; older ones are dropped
# A box drawn by hand joins the track whose nearest box (at most JOIN_MAX_GAP_SEC away, none at the drawn second)
# overlaps it by at least JOIN_MIN_IOU: redrawing a person the tracker lost continues that person's id.
JOIN_MAX_GAP_SEC = 2
JOIN_MIN_IOU = 0.3
SOURCES = ("tracker", "via", "user")

PathLike = Union[str, Path]
Change = Dict[str, object]


class ChangeError(UserError):
    """A change that cannot be applied: ``status`` 400 when the request names what does not exist, 409 when the
    project's current state forbids it (a stale revision, overlapping tracks)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PersonBox:
    """One person's box on one keyframe, with the actions given to it."""

    uid: int
    video: str
    second: int
    person: int
    box: Box
    actions: Tuple[int, ...] = ()
    source: str = "tracker"

    def to_json(self) -> Dict[str, object]:
        return {"uid": self.uid, "video": self.video, "second": self.second, "person": self.person,
                "box": [round(v, 6) for v in self.box], "actions": list(self.actions), "source": self.source}

    @staticmethod
    def from_json(data: object) -> "PersonBox":
        """Parse the JSON form; raise ValueError naming the first bad field."""
        if not isinstance(data, dict) or set(data) != {"uid", "video", "second", "person", "box", "actions", "source"}:
            raise ValueError("a box needs exactly the fields uid, video, second, person, box, actions, source")
        for name in ("uid", "second", "person"):
            try:
                check_count(data[name])
            except ValueError as err:
                raise ValueError(f"{name} {err}") from None
        if not isinstance(data["video"], str) or not data["video"]:
            raise ValueError(f"video must be a non-empty string, got {data['video']!r}")
        if data["source"] not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {data['source']!r}")
        actions = data["actions"]
        if not isinstance(actions, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in actions):
            raise ValueError(f"actions must be a list of integers, got {actions!r}")
        return PersonBox(data["uid"], data["video"], data["second"], data["person"], check_box(data["box"]),
                         tuple(sorted(set(actions))), data["source"])


def check_count(value: object) -> int:
    """A non-negative integer (JSON's true and false are not); ValueError otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"must be a non-negative integer, got {value!r}")
    return value


def check_box(value: object) -> Box:
    """``[x1, y1, x2, y2]`` as four finite numbers in [0, 1] with x2 > x1 and y2 > y1; ValueError otherwise."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ValueError(f"a box is [x1, y1, x2, y2], got {value!r}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise ValueError(f"box coordinates must be finite numbers, got {value!r}")
    x1, y1, x2, y2 = (float(v) for v in value)
    if not all(0.0 <= v <= 1.0 for v in (x1, y1, x2, y2)):
        raise ValueError(f"box coordinates are fractions of the frame in [0, 1], got {value!r}")
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box {value!r} is empty or inverted: need x2 > x1 and y2 > y1")
    return (x1, y1, x2, y2)


class Project:
    """The state of a labelling project and the changes a person can make to it (see the module doc)."""

    def __init__(self, path: PathLike, fps: float, actions: Sequence[LabelMapEntry],
                 videos: Mapping[str, Sequence[int]],
                 boxes: Iterable[PersonBox], undo: Sequence[Change] = (), redo: Sequence[Change] = (),
                 revision: int = 0) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.actions = sorted(actions, key=lambda e: e.id)
        self.videos = {video: sorted(set(videos[video])) for video in sorted(videos)}
        self.boxes: Dict[int, PersonBox] = {}
        self.undo_stack: List[Change] = list(undo)
        self.redo_stack: List[Change] = list(redo)
        self.revision = revision
        self._action_ids = {e.id for e in self.actions}
        seen = set()
        for box in boxes:
            if box.uid in self.boxes:
                raise ValueError(f"box uid {box.uid} is used twice")
            key = (box.video, box.second, box.person)
            if key in seen:
                raise ValueError(f"video {box.video} second {box.second} has two boxes of person {box.person}")
            seen.add(key)
            self._check(box)
            self.boxes[box.uid] = box

    # -- files -------------------------------------------------------------

    @classmethod
    def create(cls, path: PathLike, fps: float, actions: Sequence[LabelMapEntry], videos: Mapping[str, Sequence[int]],
               boxes: Iterable[PersonBox]) -> "Project":
        """A new project, saved at once. ``boxes`` keep their person ids; their uids are renumbered."""
        boxes = sorted(boxes, key=lambda b: (b.video, b.second, b.person))
        videos = {v: set(videos.get(v, ())) | {b.second for b in boxes if b.video == v}
                  for v in set(videos) | {b.video for b in boxes}}
        try:
            project = cls(path, fps, actions, videos, [replace(b, uid=i) for i, b in enumerate(boxes)])
        except (ValueError, ChangeError) as err:
            raise DataError(path, f"cannot make a project from these boxes: {err}") from None
        project.save()
        return project

    @classmethod
    def load(cls, path: PathLike) -> "Project":
        path = Path(path)
        try:
            data = json.loads(read_text(path))
        except FileNotFoundError:
            raise DataError(path, "project file not found") from None
        except json.JSONDecodeError as err:
            raise DataError(path, f"not valid JSON ({err.msg})", err.lineno,
                            "The file is written atomically, so this is a hand edit: restore it from a "
                            "backup") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(path, f"not a labelling project (expected \"format\": \"{FORMAT}\")")
        if data.get("version") != VERSION:
            raise DataError(path, f"project version {data.get('version')!r} is not {VERSION}",
                            hint="It was written by another version of slowfast-custom")
        try:
            actions = [LabelMapEntry(int(a["id"]), str(a["name"]), a.get("type")) for a in data["actions"]]
            videos = {str(v): [int(s) for s in seconds] for v, seconds in data["videos"].items()}
            boxes = [PersonBox.from_json(b) for b in data["boxes"]]
            for change in data["undo"] + data["redo"]:
                if not isinstance(change["what"], str):
                    raise ValueError(f"an undo step needs a text 'what', got {change['what']!r}")
                for side in ("before", "after"):
                    for box in change[side].values():
                        if box is not None:
                            PersonBox.from_json(box)
            return cls(path, data["fps"], actions, videos, boxes, data["undo"], data["redo"], int(data["revision"]))
        except (KeyError, TypeError, AttributeError, ValueError, ChangeError) as err:
            what = f"missing field {err}" if isinstance(err, KeyError) else str(err)
            raise DataError(path, f"malformed project file: {what}",
                            hint="The file is written atomically, so this is a hand edit: restore it from a "
                                 "backup") from None

    def save(self) -> None:
        """Write the project atomically (temp file, fsync, rename), one box per line so that it diffs well."""
        head = {"format": FORMAT, "version": VERSION, "revision": self.revision, "fps": self.fps,
                "actions": self._actions_json(), "videos": self.videos}
        lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        lines.append(' "boxes": [')
        lines.append(",\n".join("  " + json.dumps(b.to_json()) for b in self.sorted_boxes()))
        lines.append(" ],")
        lines.append(f' "undo": {json.dumps(self.undo_stack)},')
        lines.append(f' "redo": {json.dumps(self.redo_stack)}')
        atomic_write_text(self.path, "{\n" + "\n".join(lines) + "\n}\n")

    # -- reading -----------------------------------------------------------

    def _actions_json(self) -> List[Dict[str, object]]:
        return [dict(id=e.id, name=e.name, **({"type": e.label_type} if e.label_type else {})) for e in self.actions]

    def sorted_boxes(self) -> List[PersonBox]:
        return sorted(self.boxes.values(), key=lambda b: (b.video, b.second, b.person))

    def track(self, video: str, person: int) -> List[PersonBox]:
        """The boxes of one person track, in time order."""
        return sorted((b for b in self.boxes.values() if b.video == video and b.person == person),
                      key=lambda b: b.second)

    def state(self) -> Dict[str, object]:
        """What the page shows, as JSON."""
        return {"revision": self.revision, "fps": self.fps,
                "actions": self._actions_json(),
                "videos": [{"name": v, "seconds": s} for v, s in self.videos.items()],
                "boxes": [b.to_json() for b in self.sorted_boxes()],
                "undo": self.undo_stack[-1]["what"] if self.undo_stack else None,
                "redo": self.redo_stack[-1]["what"] if self.redo_stack else None}

    # -- changes -----------------------------------------------------------

    def label(self, video: str, person: int, first: int, last: int, actions: Sequence[int]) -> int:
        """Give ``actions`` (replacing what they had) to every box of the track in seconds ``first..last``;
        return how many boxes that is. A single keyframe is the span ``first == last``."""
        boxes = self._span(video, person, first, last)
        unknown = sorted(set(actions) - self._action_ids)
        if unknown:
            raise ChangeError(f"unknown action id(s) {unknown}; the label map has {sorted(self._action_ids)}")
        new = tuple(sorted(set(actions)))
        names = ", ".join(e.name for e in self.actions if e.id in new) or "no action"
        self._apply(f"label person {person} {_seconds(first, last)} {names}",
                    {b.uid: replace(b, actions=new) for b in boxes})
        return len(boxes)

    def accept(self, video: str, person: Optional[int], first: int, last: int,
               suggestions: Mapping[int, Sequence[int]]) -> int:
        """Give every box of the track in seconds ``first..last`` (``person`` None: every unlabelled box of the
        video in those seconds) the actions ``suggestions`` has for its uid, as one change; return how many boxes
        that is. Boxes without a suggestion keep their actions."""
        if person is None:
            self._video(video)
            boxes = [b for b in self.boxes.values() if b.video == video and first <= b.second <= last
                     and not b.actions]
            who = f"video {video}"
        else:
            boxes, who = self._span(video, person, first, last), f"person {person} {_seconds(first, last)}"
        after = {}
        for b in boxes:
            if b.uid in suggestions:
                new = replace(b, actions=tuple(sorted(set(suggestions[b.uid]))))
                self._check(new)
                after[b.uid] = new
        self._apply(f"accept the suggestions for {who}", after)
        return len(after)

    def set_box(self, uid: int, box: Box) -> PersonBox:
        """Move or resize one box."""
        old = self._box(uid)
        new = replace(old, box=box)
        self._check(new)
        self._apply(f"move the box of person {old.person} at {old.second} s", {uid: new})
        return new

    def add_box(self, video: str, second: int, box: Box) -> PersonBox:
        """Add a box drawn by hand: to the track it continues (``continued_track``), else as a new person."""
        self._video(video)
        person = self.continued_track(video, second, box)
        joined = person is not None
        if person is None:
            person = self._next_person(video)
        new = PersonBox(self._next_uid(), video, second, person, box, (), "user")
        self._check(new)
        what = f"add a box to person {person}" if joined else f"add person {person}"
        self._apply(f"{what} at {second} s", {new.uid: new})
        return new

    def continued_track(self, video: str, second: int, box: Box) -> Optional[int]:
        """The person whose box nearest in time to ``second`` (within ``JOIN_MAX_GAP_SEC``, and none at ``second``)
        overlaps ``box`` most, by at least ``JOIN_MIN_IOU``; None when no track does."""
        tracks: Dict[int, List[PersonBox]] = {}
        for b in self.boxes.values():
            if b.video == video:
                tracks.setdefault(b.person, []).append(b)
        candidates = []  # (IoU, -gap, -person): the most overlap, then the nearest, then the oldest id
        for person, boxes in tracks.items():
            if any(b.second == second for b in boxes):
                continue
            nearest = min(boxes, key=lambda b: (abs(b.second - second), b.second))
            gap, overlap = abs(nearest.second - second), _iou(nearest.box, box)
            if gap <= JOIN_MAX_GAP_SEC and overlap >= JOIN_MIN_IOU:
                candidates.append((overlap, -gap, -person))
        return -max(candidates)[2] if candidates else None

    def delete(self, video: str, person: int, first: int, last: int) -> int:
        """Delete the boxes of the track in seconds ``first..last``; return how many."""
        boxes = self._span(video, person, first, last)
        self._apply(f"delete person {person} {_seconds(first, last)}", {b.uid: None for b in boxes})
        return len(boxes)

    def merge(self, video: str, keep: int, absorb: int) -> int:
        """Give the boxes of track ``absorb`` the id ``keep`` (one person the tracker split in two)."""
        if keep == absorb:
            raise ChangeError(f"cannot merge person {keep} with itself")
        kept, absorbed = self._track(video, keep), self._track(video, absorb)
        both = sorted({b.second for b in kept} & {b.second for b in absorbed})
        if both:
            raise ChangeError(f"persons {keep} and {absorb} both have a box at second(s) {_list(both)}: one "
                              f"keyframe cannot show one person twice. Delete the wrong box first", 409)
        self._apply(f"merge person {absorb} into {keep}", {b.uid: replace(b, person=keep) for b in absorbed})
        return len(absorbed)

    def split(self, video: str, person: int, second: int) -> int:
        """Give the boxes of the track from ``second`` on a new person id (the tracker joined two people);
        return the new id."""
        boxes = self._track(video, person)
        later = [b for b in boxes if b.second >= second]
        if not later or len(later) == len(boxes):
            raise ChangeError(f"person {person} has no box both before and from second {second}: nothing to split",
                              409)
        new_person = self._next_person(video)
        self._apply(f"split person {person} at {second} s into {new_person}",
                    {b.uid: replace(b, person=new_person) for b in later})
        return new_person

    def undo(self) -> str:
        return self._step(self.undo_stack, self.redo_stack, "before", "undo")

    def redo(self) -> str:
        return self._step(self.redo_stack, self.undo_stack, "after", "redo")

    def check_revision(self, revision: int) -> None:
        if revision != self.revision:
            raise ChangeError(f"the project is at revision {self.revision}, this page showed {revision}: "
                              f"it changed elsewhere (another tab?). The page reloads it; check your last change", 409)

    # -- internals ---------------------------------------------------------

    def _video(self, video: str) -> None:
        if video not in self.videos:
            raise ChangeError(f"unknown video {video!r}; the project has {_list(sorted(self.videos))}")

    def _box(self, uid: int) -> PersonBox:
        if uid not in self.boxes:
            raise ChangeError(f"no box with uid {uid} (deleted, or the page is stale: reload it)")
        return self.boxes[uid]

    def _track(self, video: str, person: int) -> List[PersonBox]:
        self._video(video)
        boxes = self.track(video, person)
        if not boxes:
            raise ChangeError(f"video {video} has no person {person}")
        return boxes

    def _span(self, video: str, person: int, first: int, last: int) -> List[PersonBox]:
        if first > last:
            raise ChangeError(f"the span {first}-{last} ends before it starts")
        boxes = [b for b in self._track(video, person) if first <= b.second <= last]
        if not boxes:
            raise ChangeError(f"person {person} of video {video} has no box {_seconds(first, last)}")
        return boxes

    def _check(self, box: PersonBox) -> None:
        self._video(box.video)
        if box.second not in self.videos[box.video]:
            raise ChangeError(f"second {box.second} is not a keyframe of video {box.video}")
        unknown = set(box.actions) - self._action_ids
        if unknown:
            raise ChangeError(f"box {box.uid}: unknown action id(s) {sorted(unknown)}")

    # New uids and person ids are never ones the undo history holds, so an id names one box or person in
    # everything the user can step back to.

    def _history(self) -> Iterator[Dict[str, object]]:
        for change in self.undo_stack + self.redo_stack:
            for side in ("before", "after"):
                yield from (b for b in change[side].values() if b is not None)  # type: ignore[union-attr]

    def _next_uid(self) -> int:
        return max([*self.boxes, *(int(b["uid"]) for b in self._history())], default=-1) + 1  # type: ignore

    def _next_person(self, video: str) -> int:
        people = [b.person for b in self.boxes.values() if b.video == video]
        people += [int(b["person"]) for b in self._history() if b["video"] == video]  # type: ignore
        return max(people, default=0) + 1

    def _apply(self, what: str, after: Mapping[int, Optional[PersonBox]]) -> None:
        before = {uid: self.boxes.get(uid) for uid in after}
        if before == dict(after):
            return  # nothing changes: no revision, no undo step
        redo = self.redo_stack
        self._set(after)
        self.undo_stack.append({"what": what, "before": _side(before), "after": _side(after)})
        self.redo_stack = []
        try:
            self._commit()
        except BaseException:  # not saved: the change did not happen
            self._set(before)
            self.undo_stack.pop()
            self.redo_stack = redo
            raise
        del self.undo_stack[:-MAX_UNDO]

    def _step(self, source: List[Change], target: List[Change], side: str, verb: str) -> str:
        if not source:
            raise ChangeError(f"nothing to {verb}", 409)
        change = source.pop()
        undone = "after" if side == "before" else "before"
        self._set(_boxes(change[side]))
        target.append(change)
        try:
            self._commit()
        except BaseException:
            self._set(_boxes(change[undone]))
            source.append(target.pop())
            raise
        return str(change["what"])

    def _set(self, boxes: Mapping[int, Optional[PersonBox]]) -> None:
        for uid, box in boxes.items():
            if box is None:
                self.boxes.pop(uid, None)
            else:
                self.boxes[uid] = box

    def _commit(self) -> None:
        self.revision += 1
        try:
            self.save()
        except BaseException:
            self.revision -= 1
            raise


def _iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _side(boxes: Mapping[int, Optional[PersonBox]]) -> Dict[str, object]:
    return {str(uid): None if b is None else b.to_json() for uid, b in boxes.items()}


def _boxes(side: Mapping[str, object]) -> Dict[int, Optional[PersonBox]]:
    return {int(uid): None if b is None else PersonBox.from_json(b) for uid, b in side.items()}


def _seconds(first: int, last: int) -> str:
    return f"at {first} s" if first == last else f"in {first}-{last} s"


def _list(items: Sequence[object], most: int = 10) -> str:
    text = ", ".join(map(str, items[:most]))
    return text + (f" and {len(items) - most} more" if len(items) > most else "")
