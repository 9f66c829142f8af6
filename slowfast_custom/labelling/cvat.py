"""CVAT round trip: "CVAT for video 1.1" / "CVAT for images 1.1" XML in, detect-and-track's tracks out as CVAT XML.

Import (``read_cvat`` + ``cvat_labelled_boxes``). The file is CVAT's
``annotations.xml`` (``Export task dataset`` or ``Export job annotations``;
CVAT writes it with ``dump_as_cvat_interpolation`` / ``dump_as_cvat_annotation``
in ``cvat/apps/dataset_manager/formats/cvat.py``):

* ``<meta>``: ``<task>`` (or ``<job>`` / ``<project>``) with ``start_frame``,
  ``stop_frame`` (absolute frame numbers of the video), ``frame_filter``
  (``step=N`` or empty), ``original_size`` (``width``, ``height``),
  ``labels`` (``label``: ``name``, ``attributes``: ``attribute``: ``name``,
  ``mutable``, ``input_type`` (checkbox, radio, select, number, text),
  ``default_value``, ``values`` one per line); ``<source>`` the video file.
* video: ``<track id label>`` holding ``<box frame keyframe outside occluded
  xtl ytl xbr ybr z_order>`` with ``<attribute name>value</attribute>``;
  ``frame`` is the video's frame number (``start_frame + k * step``). CVAT
  dumps every frame of a track, the frames between keyframes with
  ``keyframe="0"``, and ends a track with an ``outside="1"`` keyframe.
* images: ``<image id name width height>`` holding ``<box label occluded xtl
  ytl xbr ybr>`` and its attributes.

A person is a track (box) of the person label (``PERSON_LABEL``, any case).
Its actions are the label's attributes: a checkbox attribute is the action
named as the attribute, ticked when ``true``; a select or radio attribute
chooses one action among its values, its default value meaning none. A text
attribute ``person_id`` holds the person id. As CVAT's own importer does, only
keyframes count: the box of a track at a keyframe second is the keyframe
there, or linear interpolation between the keyframes around it (CVAT's
``interpolate`` for rectangles), or the last keyframe held until
``stop_frame``; an ``outside`` keyframe hides the person until the next
keyframe. Attribute values are those of the last keyframe at or before the
frame. The second of CVAT frame ``f`` is ``f / cvat_fps``; the keyframe
second ``s`` is frame ``second_to_frame(s, cvat_fps)``.

Export (``export_cvat``) writes, per video, ``<video>.xml`` in "CVAT for video
1.1": one track per person of ``tracks.csv``, a keyframe at each second it was
tracked, an ``outside`` keyframe where it was lost; and ``labels.json``, the
labels for CVAT's raw label editor (person, with ``person_id`` and one
checkbox per action). Create the task from the same video, paste the labels,
then "Upload annotations", format "CVAT 1.1".
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml
import defusedxml.ElementTree

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.ava.naming import (
    PathLike,
    frame_list_from_dir,
    parse_frame_image_name,
    parse_keyframe_image_name,
    video_dirs,
)
from slowfast_custom.ava.timing import keyframe_seconds, second_to_frame
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_write_text
from slowfast_custom.labelling.ava_writer import DatasetSummary, LabelledBox, SplitSpec, write_ava_dataset_annotations
from slowfast_custom.labelling.images import image_sizes_from_frames

XML_VERSION = "1.1"
PERSON_LABEL = "person"
PERSON_ATTRIBUTE = "person_id"
LABELS_FILE = "labels.json"
OPTION_TYPES = ("select", "radio")
Pixels = Tuple[float, float, float, float]


@dataclass(frozen=True)
class CvatAttribute:
    name: str
    input_type: str  # checkbox, radio, select, number, text
    default: str
    values: Tuple[str, ...]
    mutable: bool = True


@dataclass(frozen=True)
class CvatShape:
    """A box of a track at ``frame`` (video frame number) or of an image, in pixels ``xtl, ytl, xbr, ybr``."""

    frame: int
    box: Pixels
    attributes: Mapping[str, str]
    outside: bool = False
    keyframe: bool = True


@dataclass(frozen=True)
class CvatTrack:
    id: str
    label: str
    shapes: Tuple[CvatShape, ...]  # keyframes only, by frame


@dataclass(frozen=True)
class CvatImage:
    name: str
    width: int
    height: int
    boxes: Tuple[Tuple[str, CvatShape], ...]  # (label, box)


@dataclass
class CvatFile:
    """What an annotation XML holds; ``tracks`` for "CVAT for video", ``images`` for "CVAT for images"."""

    path: Path
    labels: Dict[str, Dict[str, CvatAttribute]]
    start_frame: int = 0
    stop_frame: Optional[int] = None
    step: int = 1
    width: Optional[int] = None
    height: Optional[int] = None
    source: str = ""  # the video file (meta/source) or task name
    tracks: List[CvatTrack] = field(default_factory=list)
    images: List[CvatImage] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def parse_xml(path: PathLike) -> Element:
    """The root element of an XML file, parsed without entity expansion or external resources."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "CVAT annotation file not found")
    try:
        return defusedxml.ElementTree.fromstring(path.read_bytes())
    except defusedxml.DefusedXmlException as err:
        raise DataError(path, f"the XML declares entities or external resources ({type(err).__name__}); they "
                        "are not read", hint="Export the annotations from CVAT again (its files declare none)"
                        ) from None
    except ParseError as err:
        line = err.position[0] if getattr(err, "position", None) else None
        raise DataError(path, f"not readable as XML ({str(err).split(':')[0]})", line,
                        "Export the annotations from CVAT again") from None


def _text(element: Optional[Element], default: str = "") -> str:
    return (element.text or "").strip() if element is not None else default


def _int(path: Path, text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataError(path, f"{what} is {text!r}, not a whole number") from None


def _labels(path: Path, meta: Element) -> Dict[str, Dict[str, CvatAttribute]]:
    labels: Dict[str, Dict[str, CvatAttribute]] = {}
    for label in meta.iter("label"):
        name = _text(label.find("name"))
        attributes = {}
        for attribute in label.iter("attribute"):
            aname = _text(attribute.find("name"))
            values = tuple(v.strip() for v in (attribute.findtext("values") or "").split("\n") if v.strip())
            attributes[aname] = CvatAttribute(aname, _text(attribute.find("input_type")) or "text",
                                              _text(attribute.find("default_value")), values,
                                              _text(attribute.find("mutable"), "true").lower() != "false")
        labels[name] = attributes
    return labels


def _box(path: Path, element: Element, where: str) -> Pixels:
    try:
        x1, y1, x2, y2 = (float(element.attrib[k]) for k in ("xtl", "ytl", "xbr", "ybr"))
    except (KeyError, ValueError):
        raise DataError(path, f"{where}: a box without numeric xtl, ytl, xbr, ybr") from None
    if float(element.attrib.get("rotation", 0) or 0):
        raise DataError(path, f"{where}: a rotated box; person boxes must be upright",
                        hint="Set the box's rotation to 0 in CVAT")
    return x1, y1, x2, y2


def _attributes(element: Element) -> Dict[str, str]:
    return {a.attrib.get("name", ""): (a.text or "").strip() for a in element.findall("attribute")}


def _flag(element: Element, name: str, default: str) -> bool:
    return element.attrib.get(name, default).strip() == "1"


def read_cvat(path: PathLike) -> CvatFile:
    """A "CVAT for video 1.1" or "CVAT for images 1.1" file: its meta, tracks (keyframes only) and images."""
    path = Path(path)
    root = parse_xml(path)
    if root.tag != "annotations":
        raise DataError(path, f"the root element is <{root.tag}>, not <annotations>; not a CVAT XML file",
                        hint='Export with the format "CVAT for video 1.1" or "CVAT for images 1.1"')
    version = _text(root.find("version"))
    if version and version != XML_VERSION:
        raise DataError(path, f"CVAT XML version {version}; this reader knows {XML_VERSION}",
                        hint='Export with the format "CVAT for video 1.1" or "CVAT for images 1.1"')
    meta = root.find("meta")
    if meta is None:
        raise DataError(path, "no <meta> element; not a CVAT XML file",
                        hint='Export with the format "CVAT for video 1.1" or "CVAT for images 1.1"')
    found = CvatFile(path, _labels(path, meta))
    start, stop = meta.find(".//start_frame"), meta.find(".//stop_frame")
    if start is not None and _text(start):
        found.start_frame = _int(path, _text(start), "start_frame")
    if stop is not None and _text(stop):
        found.stop_frame = _int(path, _text(stop), "stop_frame")
    frame_filter = _text(meta.find(".//frame_filter"))
    if frame_filter:
        match = re.fullmatch(r"step\s*=\s*(\d+)", frame_filter)
        if not match or int(match.group(1)) < 1:
            raise DataError(path, f"frame_filter {frame_filter!r} is not step=N")
        found.step = int(match.group(1))
    size = meta.find(".//original_size")
    if size is not None:
        found.width = _int(path, _text(size.find("width")), "original_size/width")
        found.height = _int(path, _text(size.find("height")), "original_size/height")
    found.source = _text(meta.find("source")) or _text(meta.find(".//task/name"))

    for track in root.findall("track"):
        where = f"track {track.attrib.get('id', '?')}"
        shapes = []
        for element in track:
            if element.tag != "box":
                continue  # polygons, points, ... are not person boxes
            frame = _int(path, element.attrib.get("frame", ""), f"{where}: box frame")
            # CVAT's importer keeps only keyframes and interpolates the rest itself.
            if not _flag(element, "keyframe", "1"):
                continue
            shapes.append(CvatShape(frame, _box(path, element, f"{where}, frame {frame}"), _attributes(element),
                                    _flag(element, "outside", "0")))
        shapes.sort(key=lambda s: s.frame)
        found.tracks.append(CvatTrack(track.attrib.get("id", str(len(found.tracks))), track.attrib.get("label", ""),
                                      tuple(shapes)))
    for image in root.findall("image"):
        name = image.attrib.get("name", "")
        where = f"image {name or image.attrib.get('id', '?')}"
        boxes = tuple((b.attrib.get("label", ""), CvatShape(-1, _box(path, b, where), _attributes(b)))
                      for b in image.findall("box"))
        found.images.append(CvatImage(name, _int(path, image.attrib.get("width", "0"), f"{where}: width"),
                                      _int(path, image.attrib.get("height", "0"), f"{where}: height"), boxes))
    return found


# ---------------------------------------------------------------------------
# Interpolation and actions
# ---------------------------------------------------------------------------


def interpolate(shapes: Sequence[CvatShape], frame: int, stop_frame: Optional[int] = None
                ) -> Optional[CvatShape]:
    """The track's box at ``frame`` as CVAT shows it, or None where the person is outside or not yet seen.

    ``shapes``: its keyframes by frame. Between two keyframes the box moves
    linearly; after the last one it stays until ``stop_frame``; attributes are
    the earlier keyframe's.
    """
    before = [s for s in shapes if s.frame <= frame]
    if not before or before[-1].outside or (stop_frame is not None and frame > stop_frame):
        return None
    previous = before[-1]
    if previous.frame == frame:
        return previous
    after = [s for s in shapes if s.frame > frame]
    if not after:
        return CvatShape(frame, previous.box, previous.attributes, keyframe=False)
    following = after[0]
    offset = (frame - previous.frame) / (following.frame - previous.frame)
    box = tuple(a + (b - a) * offset for a, b in zip(previous.box, following.box))
    return CvatShape(frame, box, previous.attributes, keyframe=False)  # type: ignore[arg-type]


def _person_attributes(cvat: CvatFile, label: str) -> Tuple[str, Dict[str, CvatAttribute]]:
    names = [n for n in cvat.labels if n.lower() == label.lower()]
    if not names:
        raise DataError(cvat.path, f"no label {label!r} among the task's labels ({', '.join(cvat.labels) or 'none'})",
                        hint="Pass --label with the name of the label the people were boxed with")
    return names[0], cvat.labels[names[0]]


def cvat_actions(cvat: CvatFile, label: str = PERSON_LABEL) -> List[LabelMapEntry]:
    """The action list the person label's attributes define (module doc), ids from 1 in attribute order."""
    _, attributes = _person_attributes(cvat, label)
    names: List[str] = []
    for attribute in attributes.values():
        if attribute.input_type == "checkbox":
            names.append(attribute.name)
        elif attribute.input_type in OPTION_TYPES:
            names += [v for v in attribute.values if v != attribute.default]
    if not names:
        raise DataError(cvat.path, f"label {label!r} has no checkbox, select or radio attribute listing actions",
                        hint="Add one checkbox attribute per action to the label in CVAT, or pass --actions")
    if len(set(names)) != len(names):
        raise DataError(cvat.path, f"label {label!r}: an action name is repeated among its attributes",
                        hint="Give every action its own name")
    return [LabelMapEntry(i, name) for i, name in enumerate(names, start=1)]


def _ticked(cvat: CvatFile, attributes: Mapping[str, CvatAttribute], values: Mapping[str, str],
            names: Mapping[str, int], where: str) -> Tuple[int, ...]:
    ids = set()
    for name, attribute in attributes.items():
        value = values.get(name, attribute.default)
        if attribute.input_type == "checkbox":
            chosen = [name] if value.lower() == "true" else []
        elif attribute.input_type in OPTION_TYPES:
            chosen = [value] if value and value != attribute.default else []
        else:
            continue
        for action in chosen:
            if action not in names:
                raise DataError(cvat.path, f"{where}: action {action!r} is not in the action list",
                                hint=f"Known actions: {', '.join(names)}. Add it to the list or relabel the box")
            ids.add(names[action])
    return tuple(sorted(ids))


def _person_id(cvat: CvatFile, values: Mapping[str, str], where: str) -> Optional[int]:
    text = values.get(PERSON_ATTRIBUTE, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise DataError(cvat.path, f"{where}: person_id {text!r} is not a whole number >= 0",
                        hint="Leave it empty for a new person, or type the id of the person it continues")
    return int(text)


def _normalised(box: Pixels, width: int, height: int) -> Tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return tuple(round(min(max(v, 0.0), 1.0), 3)  # type: ignore[return-value]
                 for v in (x1 / width, y1 / height, x2 / width, y2 / height))


@dataclass
class CvatImportStats:
    files: int = 0
    tracks: int = 0
    boxes: int = 0
    new_person_ids: int = 0  # boxes without a person id, given new ids
    unlabelled: int = 0  # boxes with no action
    videos: List[str] = field(default_factory=list)

    def report(self) -> str:
        return (f"read {self.boxes} boxes ({self.tracks} tracks) of {len(self.videos)} videos from {self.files} CVAT "
                f"files; {self.new_person_ids} without a person id got new ids; {self.unlabelled} have no action")


def video_id_of(cvat: CvatFile) -> str:
    """The video a "CVAT for video" file annotates: the stem of its source video (or the task name)."""
    name = cvat.source.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if not stem:
        raise DataError(cvat.path, "the file names no source video or task",
                        hint="Pass --video with the video id (its folder under frames/)")
    return stem


def cvat_labelled_boxes(cvat: CvatFile, actions: Sequence[LabelMapEntry], *, video: Optional[str] = None,
                        label: str = PERSON_LABEL, cvat_fps: float = DEFAULT_FPS,
                        margin_sec: int = DEFAULT_MARGIN_SEC) -> List[Tuple[LabelledBox, Optional[str]]]:
    """The person boxes of one file as ``(LabelledBox, None)``, or ``(box with person id -1, who)`` for boxes
    without a person id, ``who`` the same for every box of one track.

    Video files: every track of ``label`` at every keyframe second of
    ``start_frame..stop_frame`` outside the ``margin_sec`` ends, where it is
    not outside. Image files: every box of ``label`` on an image named as a
    keyframe (``<video>_<frame>.jpg`` or ``<video>__<second>.jpg``).
    """
    label, attributes = _person_attributes(cvat, label)
    names = {e.name: e.id for e in actions}
    found: List[Tuple[LabelledBox, Optional[str]]] = []
    if cvat.tracks:
        if cvat.width is None or cvat.height is None:
            raise DataError(cvat.path, "no <original_size> in <meta>: the frame size is unknown",
                            hint='Export with the format "CVAT for video 1.1"')
        video = video or video_id_of(cvat)
        last = cvat.stop_frame if cvat.stop_frame is not None else max(
            (s.frame for t in cvat.tracks for s in t.shapes), default=0)
        seconds = [s for s in keyframe_seconds(last + 1, cvat_fps, margin_sec)
                   if second_to_frame(s, cvat_fps, 0) >= cvat.start_frame]
        for track in cvat.tracks:
            if track.label != label:
                continue
            for second in seconds:
                frame = second_to_frame(second, cvat_fps, 0)
                shape = interpolate(track.shapes, frame, cvat.stop_frame)
                if shape is None:
                    continue
                where = f"track {track.id}, frame {frame} (second {second})"
                person = _person_id(cvat, shape.attributes, where)
                box = LabelledBox(video, second, _normalised(shape.box, cvat.width, cvat.height),
                                  _ticked(cvat, attributes, shape.attributes, names, where),
                                  -1 if person is None else person, source=f"{cvat.path}: {where}")
                found.append((box, None if person is not None else f"{cvat.path} track {track.id}"))
    for image in cvat.images:
        boxes = [(lab, s) for lab, s in image.boxes if lab == label]
        if not boxes:
            continue
        try:
            image_video, second = parse_keyframe_image_name(image.name)
        except ValueError:
            try:
                image_video, second = parse_frame_image_name(image.name, cvat_fps)
            except ValueError as err:
                raise DataError(cvat.path, f"image {image.name}: its name does not tell a keyframe ({err})",
                                hint="Name the images <video>_<frame number>.jpg (frames/ names them so; the "
                                     "keyframe of second s is frame s*fps+1), or pass --fps") from None
        for index, (_, shape) in enumerate(boxes):
            where = f"image {image.name}, box {index + 1}"
            person = _person_id(cvat, shape.attributes, where)
            found.append((LabelledBox(image_video, second, _normalised(shape.box, image.width, image.height),
                                      _ticked(cvat, attributes, shape.attributes, names, where),
                                      -1 if person is None else person, source=f"{cvat.path}: {where}"),
                          None if person is not None else f"{cvat.path} {where}"))
    return found


def read_cvat_labelled_boxes(paths: Sequence[PathLike], actions: Sequence[LabelMapEntry], *,
                             video: Optional[str] = None, label: str = PERSON_LABEL, cvat_fps: float = DEFAULT_FPS,
                             margin_sec: int = DEFAULT_MARGIN_SEC) -> Tuple[List[LabelledBox], CvatImportStats]:
    """The labelled boxes of CVAT files; boxes without a person id get new ids after each video's largest."""
    if not paths:
        raise UserError("no CVAT file given")
    if video is not None and len(paths) > 1:
        raise UserError("--video names the video of one file; import several files without it (each names its "
                        "source video)")
    stats = CvatImportStats(files=len(paths))
    found: List[Tuple[LabelledBox, Optional[str]]] = []
    seen: Dict[str, Path] = {}
    for path in paths:
        cvat = read_cvat(path)
        stats.tracks += sum(1 for t in cvat.tracks if t.label.lower() == label.lower())
        boxes = cvat_labelled_boxes(cvat, actions, video=video, label=label, cvat_fps=cvat_fps,
                                    margin_sec=margin_sec)
        for box, _ in boxes:
            other = seen.setdefault(box.video_id, Path(path))
            if other != Path(path):
                raise DataError(path, f"video {box.video_id} is also annotated in {other}",
                                hint="Import each video from one CVAT file only")
        found += boxes
    next_id: Dict[str, int] = defaultdict(lambda: 1)
    for box, who in found:
        if who is None:
            next_id[box.video_id] = max(next_id[box.video_id], box.person_id + 1)
    boxes: List[LabelledBox] = []
    new_ids: Dict[Tuple[str, str], int] = {}
    for box, who in sorted(found, key=lambda f: (f[0].video_id, f[0].second)):
        if who is not None:
            key = (box.video_id, who)  # a track keeps one new id over its seconds
            if key not in new_ids:
                new_ids[key] = next_id[box.video_id]
                next_id[box.video_id] += 1
                stats.new_person_ids += 1
            box = LabelledBox(box.video_id, box.second, box.box, box.action_ids, new_ids[key], box.source)
        boxes.append(box)
    stats.boxes = len(boxes)
    stats.unlabelled = sum(1 for b in boxes if not b.action_ids)
    stats.videos = sorted({b.video_id for b in boxes})
    return boxes, stats


def cvat_file_actions(paths: Sequence[PathLike], label: str = PERSON_LABEL) -> List[LabelMapEntry]:
    """The action list of CVAT files' person label (``cvat_actions``); all files must agree."""
    found: Optional[List[LabelMapEntry]] = None
    for path in paths:
        actions = cvat_actions(read_cvat(path), label)
        if found is not None and actions != found:
            raise UserError(f"{path}: its {label!r} attributes differ from the first file's; give every task the "
                            "same label attributes, or pass --actions")
        found = actions
    if found is None:
        raise UserError("no CVAT file given")
    return found


def import_cvat(paths: Sequence[PathLike], dataset_dir: PathLike, actions: Optional[Sequence[LabelMapEntry]] = None,
                *, split: SplitSpec = SplitSpec(), frame_dir: Optional[PathLike] = None, fps: float = DEFAULT_FPS,
                cvat_fps: Optional[float] = None, video: Optional[str] = None, label: str = PERSON_LABEL,
                margin_sec: int = DEFAULT_MARGIN_SEC, val_predicted_boxes: Optional[Sequence[BoxRow]] = None
                ) -> Tuple[DatasetSummary, CvatImportStats]:
    """CVAT files -> ``annotations/`` and ``frame_lists/`` of ``dataset_dir`` (``write_ava_dataset_annotations``).

    ``actions``: default the person label's attributes (``cvat_actions``).
    ``fps``: the frame rate of the extracted frames; ``cvat_fps``: of the
    frames CVAT numbered (default ``fps``: a task made from the frames).
    """
    frame_dir = Path(frame_dir) if frame_dir is not None else Path(dataset_dir) / "frames"
    actions = list(actions) if actions is not None else cvat_file_actions(paths, label)
    boxes, stats = read_cvat_labelled_boxes(paths, actions, video=video, label=label,
                                            cvat_fps=fps if cvat_fps is None else cvat_fps, margin_sec=margin_sec)
    summary = write_ava_dataset_annotations(dataset_dir, boxes, actions, split=split, frame_dir=frame_dir, fps=fps,
                                            val_predicted_boxes=val_predicted_boxes)
    return summary, stats


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def cvat_labels(actions: Sequence[LabelMapEntry], label: str = PERSON_LABEL) -> List[dict]:
    """The labels for CVAT's raw label editor: ``label`` with ``person_id`` (text) and one checkbox per action."""
    attributes = [{"name": PERSON_ATTRIBUTE, "input_type": "text", "mutable": False, "values": [""],
                   "default_value": ""}]
    for entry in sorted(actions, key=lambda e: e.id):
        if not entry.name.strip() or entry.name == PERSON_ATTRIBUTE:
            raise UserError(f"action {entry.name!r} (id {entry.id}) cannot be a CVAT attribute name")
        attributes.append({"name": entry.name, "input_type": "checkbox", "mutable": True, "values": ["false"],
                           "default_value": "false"})
    return [{"name": label, "attributes": attributes}]


def _pixels(box: Sequence[float], width: int, height: int) -> Pixels:
    x1, y1, x2, y2 = box
    return x1 * width, y1 * height, x2 * width, y2 * height


def _element(tag: str, attrs: Mapping[str, str], children: str = "", indent: str = "") -> str:
    opening = f"{indent}<{tag}" + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    if not children:
        return opening + f"></{tag}>\n"
    return opening + ">\n" + children + f"{indent}</{tag}>\n"


def build_cvat_video_xml(video: str, tracks: Sequence[BoxRow], actions: Sequence[LabelMapEntry], *, width: int,
                         height: int, num_frames: int, fps: float = DEFAULT_FPS, label: str = PERSON_LABEL,
                         source: str = "") -> str:
    """A "CVAT for video 1.1" file of ``video``'s tracked people (module doc), frames ``0..num_frames - 1``."""
    labels = cvat_labels(actions, label)[0]
    attribute_xml = "".join(
        "            <attribute>\n"
        f"              <name>{escape(a['name'])}</name>\n"
        f"              <mutable>{a['mutable']}</mutable>\n"
        f"              <input_type>{a['input_type']}</input_type>\n"
        f"              <default_value>{escape(a['default_value'])}</default_value>\n"
        f"              <values>{escape(chr(10).join(a['values']))}</values>\n"
        "            </attribute>\n" for a in labels["attributes"])
    meta = ("  <meta>\n    <task>\n"
            f"      <name>{escape(video)}</name>\n      <size>{num_frames}</size>\n"
            "      <mode>interpolation</mode>\n      <overlap>0</overlap>\n"
            f"      <start_frame>0</start_frame>\n      <stop_frame>{num_frames - 1}</stop_frame>\n"
            "      <frame_filter></frame_filter>\n      <labels>\n        <label>\n"
            f"          <name>{escape(label)}</name>\n          <attributes>\n"
            + attribute_xml
            + "          </attributes>\n        </label>\n      </labels>\n"
            f"      <original_size>\n        <width>{width}</width>\n        <height>{height}</height>\n"
            "      </original_size>\n    </task>\n"
            f"    <source>{escape(source or video)}</source>\n  </meta>\n")
    by_person: Dict[int, List[BoxRow]] = defaultdict(list)
    for row in tracks:
        if row.video_id == video:
            if row.person_id is None:
                raise UserError(f"a tracked box of {video} at second {row.second} has no person id")
            by_person[row.person_id].append(row)
    body = []
    for number, person in enumerate(sorted(by_person)):
        rows = sorted(by_person[person], key=lambda r: r.second)
        shapes = []
        for index, row in enumerate(rows):
            frame = second_to_frame(row.second, fps, 0)
            shapes.append((frame, row.box, False))
            gone = index + 1 == len(rows) or rows[index + 1].second != row.second + 1
            end = second_to_frame(row.second + 1, fps, 0)
            if gone and end < num_frames:  # CVAT would carry the box on; the tracker lost the person here
                shapes.append((end, row.box, True))
        boxes = []
        for frame, box, outside in shapes:
            xtl, ytl, xbr, ybr = _pixels(box, width, height)
            values = [(PERSON_ATTRIBUTE, str(person))]
            values += [(e.name, "false") for e in sorted(actions, key=lambda e: e.id)]
            attrs = "".join(f"      <attribute name={quoteattr(n)}>{escape(v)}</attribute>\n" for n, v in values)
            boxes.append(_element("box", {"frame": str(frame), "keyframe": "1", "outside": str(int(outside)),
                                          "occluded": "0", "xtl": f"{xtl:.2f}", "ytl": f"{ytl:.2f}",
                                          "xbr": f"{xbr:.2f}", "ybr": f"{ybr:.2f}", "z_order": "0"},
                                  attrs, "    "))
        body.append(_element("track", {"id": str(number), "label": label, "source": "auto"}, "".join(boxes), "  "))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>{XML_VERSION}</version>\n'
            + meta + "".join(body) + "</annotations>\n")


@dataclass
class CvatExportSummary:
    files: List[Path]
    labels: Path
    tracks: int
    boxes: int


def export_cvat(frame_dir: PathLike, tracks: Sequence[BoxRow], actions: Sequence[LabelMapEntry], out_dir: PathLike,
                *, videos: Optional[Sequence[str]] = None, fps: float = DEFAULT_FPS, label: str = PERSON_LABEL,
                overwrite: bool = False) -> CvatExportSummary:
    """Write ``<out_dir>/<video>.xml`` per video and ``<out_dir>/labels.json`` (module doc).

    ``fps``: the frame rate of the video CVAT will decode (CVAT numbers its
    frames); frames and sizes come from ``frame_dir``.
    """
    frame_dir, out_dir = Path(frame_dir), Path(out_dir)
    if videos is None:
        videos = sorted({r.video_id for r in tracks}) or (video_dirs(frame_dir) if frame_dir.is_dir() else [])
    if not videos:
        raise UserError(f"{frame_dir}: no videos to export; extract frames first (tools/extract_frames.py)")
    missing = [v for v in videos if not (frame_dir / v).is_dir()]
    if missing:
        raise UserError(f"the tracks name videos without frames in {frame_dir}: {', '.join(missing)}")
    frames = frame_list_from_dir(frame_dir, videos)
    sizes = image_sizes_from_frames(frame_dir, videos)
    files = []
    for video in videos:
        path = out_dir / f"{video}.xml"
        if path.is_file() and not overwrite:
            raise UserError(f"{path} exists; import it first, or pass --overwrite / another --out")
        width, height = sizes[video]
        atomic_write_text(path, build_cvat_video_xml(video, tracks, actions, width=width, height=height,
                                                     num_frames=len(frames[video]), fps=fps, label=label))
        files.append(path)
    labels = out_dir / LABELS_FILE
    atomic_write_text(labels, json.dumps(cvat_labels(actions, label), indent=1, ensure_ascii=False) + "\n")
    rows = [r for r in tracks if r.video_id in set(videos)]
    return CvatExportSummary(files, labels, len({(r.video_id, r.person_id) for r in rows}), len(rows))
