"""Round trip through the VGG Image Annotator (VIA 2.x, ``via.html``): keyframes out, labelled boxes in.

VIA 3 projects (``via_image_annotator.html``) are read and written by
``slowfast_custom.labelling.via3``; both build on ``labelling.exchange``
(keyframe images, ``ViaRegion``), both end in ``labelled_boxes_from_via``,
and ``read_via_labelled_boxes`` and ``import_via`` here take either.

Export (``export_via``) writes ``<out>/images/<video>__<second>.jpg``, one
image per keyframe, and ``<out>/via_project.json``, a VIA 2 project
(``Project > Load`` in via.html 2.0.x) with, per image, one rectangle per
tracked person and two region attributes:

* ``person_id`` (text, no default): the tracker's id; boxes drawn by hand
  leave it empty and get a new id on import;
* ``action`` (checkbox, i.e. multi-select, no default options): one option
  per action of the user's list, the option id being the action name.

The project follows VIA 2.0.10's saved-project format (``project_save_confirmed``
in via.js): ``_via_settings`` (ui, core, project), ``_via_img_metadata``
(``{filename + size: {filename, size, regions, file_attributes}}``, each region
``{shape_attributes: {name: "rect", x, y, width, height}, region_attributes}``),
``_via_attributes`` (``{region: {...}, file: {}}``), ``_via_data_format_version``
and ``_via_image_id_list``. Coordinates are pixels with VIA's 3 decimals, so
AVA's 3-decimal normalised boxes survive the round trip exactly.

Import (``read_via_regions`` + ``labelled_boxes_from_via``) reads a saved
project, VIA's "Export Annotations (as json)" file (the ``_via_img_metadata``
object alone) or its "as csv" file (``filename,file_size,file_attributes,
region_count,region_id,region_shape_attributes,region_attributes``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.ava.naming import PathLike, keyframe_image_name, parse_keyframe_image_name
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_write_text, read_text
from slowfast_custom.labelling import via3
from slowfast_custom.labelling.ava_writer import DatasetSummary, LabelledBox, SplitSpec, write_ava_dataset_annotations
from slowfast_custom.labelling.exchange import (  # noqa: F401  (part of this module's interface)
    IMAGES,
    TRACK_MATCH_IOU,
    ExportedKeyframe,
    ExportSummary,
    ViaRegion,
    is_via3_project,
    match_tracks,
    pixel_rect,
    place_keyframes,
    read_via_json,
)
from slowfast_custom.labelling.images import image_sizes_from_frames

ACTION_ATTRIBUTE = "action"
PERSON_ATTRIBUTE = "person_id"
VIA_DATA_FORMAT_VERSION = "2.0.10"  # what via.html 2.0.10-2.0.12 writes into saved projects
PROJECT_FILE = "via_project.json"
# A box drawn past the image border by at most this share of the image size is clipped to it (a hand slip in
# VIA); further out it is an error (a box from another image size, or a slip of several hundred pixels).
CLIP_TOLERANCE = 0.01
# VIA 3's "Export annotations > VIA3 (CSV)" (_via_import_export.js) opens with comment lines, then this one.
VIA3_CSV_HEADER = "# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,metadata"
VIA_CSV_HEADER = ["filename", "file_size", "file_attributes", "region_count", "region_id",
                  "region_shape_attributes", "region_attributes"]


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def via_settings(project_name: str, image_path: str) -> dict:
    """VIA 2.0.x's default ``_via_settings``, with the images folder and region labels set.

    ``core.default_filepath`` is prefixed to every file name to find the
    image; ``ui.image.region_label`` shows each box's person id on the image.
    """
    return {
        "ui": {
            "annotation_editor_height": 25,
            "annotation_editor_fontsize": 0.8,
            "leftsidebar_width": 18,
            "image_grid": {
                "img_height": 80,
                "rshape_fill": "none",
                "rshape_fill_opacity": 0.3,
                "rshape_stroke": "yellow",
                "rshape_stroke_width": 2,
                "show_region_shape": True,
                "show_image_policy": "all",
            },
            "image": {
                "region_label": PERSON_ATTRIBUTE,
                "region_color": "__via_default_region_color__",
                "region_label_font": "10px Sans",
                "on_image_annotation_editor_placement": "NEAR_REGION",
            },
        },
        "core": {"buffer_size": 18, "filepath": {image_path: 1}, "default_filepath": image_path},
        "project": {"name": project_name},
    }


def via_attributes(actions: Sequence[LabelMapEntry]) -> dict:
    """``_via_attributes``: the person id (text) and the actions (checkbox), both without defaults."""
    options = {}
    for entry in actions:
        # via.js builds HTML ids as attribute__row__option and splits them on "__".
        if "__" in entry.name or not entry.name.strip():
            raise UserError(f"action {entry.name!r} (id {entry.id}) cannot be a VIA option: it is empty or "
                            "contains '__'; rename it in the action list")
        options[entry.name] = entry.name
    return {
        "region": {
            PERSON_ATTRIBUTE: {"type": "text", "description": "person id from the tracker; leave empty on a "
                                                              "box you draw (a new id is given on import)",
                               "default_value": ""},
            ACTION_ATTRIBUTE: {"type": "checkbox", "description": "every action the person does at this second",
                               "options": options, "default_options": {}},
        },
        "file": {},
    }


def via_region(box: Sequence[float], width: int, height: int, person_id: Optional[int]) -> dict:
    """A rectangle region for a normalised box on a ``width`` x ``height`` image; no action ticked."""
    shape = {"name": "rect", **dict(zip(("x", "y", "width", "height"), pixel_rect(box, width, height)))}
    return {"shape_attributes": shape,
            "region_attributes": {PERSON_ATTRIBUTE: "" if person_id is None else str(person_id), ACTION_ATTRIBUTE: {}}}


@dataclass(frozen=True)
class ViaImage:
    filename: str
    size: int  # file size in bytes (VIA's image id is filename + size)
    regions: Tuple[dict, ...]


def build_via_project(images: Sequence[ViaImage], actions: Sequence[LabelMapEntry], *, project_name: str,
                      image_path: str) -> dict:
    """A VIA 2 project (see the module doc) listing ``images`` in order."""
    metadata = {}
    for image in images:
        image_id = f"{image.filename}{image.size}"
        if image_id in metadata:
            raise UserError(f"image {image.filename} is listed twice")
        metadata[image_id] = {"filename": image.filename, "size": image.size, "regions": list(image.regions),
                              "file_attributes": {}}
    return {
        "_via_settings": via_settings(project_name, image_path),
        "_via_img_metadata": metadata,
        "_via_attributes": via_attributes(actions),
        "_via_data_format_version": VIA_DATA_FORMAT_VERSION,
        "_via_image_id_list": list(metadata),
    }


def export_via(frame_dir: PathLike, tracks: Sequence[BoxRow], actions: Sequence[LabelMapEntry], out_dir: PathLike,
               *, videos: Optional[Sequence[str]] = None, fps: float = DEFAULT_FPS,
               margin_sec: int = DEFAULT_MARGIN_SEC, image_path: Optional[str] = None,
               project_name: str = "slowfast_custom", overwrite: bool = False) -> ExportSummary:
    """Write the keyframe images and the VIA 2 project for ``videos`` (default: every video in ``frame_dir``).

    Keyframes are chosen by ``place_keyframes``. ``image_path`` is where VIA
    will find the images (default: the absolute path of ``<out_dir>/images/``).
    A project that already holds labels is replaced only with ``overwrite``.
    """
    out_dir = Path(out_dir)
    path = out_dir / PROJECT_FILE
    if path.is_file() and not overwrite and _has_labels(path):
        raise UserError(f"{path} already holds ticked actions; import it first, or pass --overwrite / another --out")
    image_dir = out_dir / IMAGES
    keyframes, videos = place_keyframes(frame_dir, tracks, image_dir, lambda v, s, i: keyframe_image_name(v, s),
                                        videos=videos, fps=fps, margin_sec=margin_sec)
    images = [ViaImage(k.image, (image_dir / k.image).stat().st_size,
                       tuple(via_region(r.box, k.width, k.height, r.person_id) for r in k.boxes)) for k in keyframes]
    if image_path is None:
        image_path = str(image_dir.resolve()) + os.sep
    project = build_via_project(images, actions, project_name=project_name, image_path=image_path)
    atomic_write_text(path, json.dumps(project, indent=1) + "\n")
    return ExportSummary(path, len(images), sum(len(i.regions) for i in images), len(videos))


def _has_labels(path: Path) -> bool:
    """Whether a VIA 2 file has any region with an action ticked (unreadable files count as labelled)."""
    try:
        return any(_selected_names(region) for region in read_via_regions(path)[1])
    except DataError:
        return True


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def _regions_from_metadata(path: Path, metadata: Mapping) -> Tuple[List[str], List[ViaRegion]]:
    if not isinstance(metadata, Mapping):
        raise DataError(path, "expected VIA image metadata: an object {image id: {filename, regions, ...}}")
    images, regions = [], []
    for image_id, entry in metadata.items():
        if not isinstance(entry, Mapping) or "filename" not in entry:
            raise DataError(path, f"entry {image_id!r} has no filename; not a VIA 2 project or annotation file")
        images.append(entry["filename"])
        raw = entry.get("regions", [])
        # VIA 1.x kept regions as {"0": region, ...}; VIA 2 as a list.
        items = [raw[k] for k in sorted(raw, key=int)] if isinstance(raw, Mapping) else list(raw)
        for index, region in enumerate(items):
            if not isinstance(region, Mapping):
                raise DataError(path, f"image {entry['filename']}, region {index + 1}: not a VIA region object")
            regions.append(ViaRegion(entry["filename"], index, region.get("shape_attributes") or {},
                                     region.get("region_attributes") or {}, str(path)))
    return images, regions


def _refuse_via3_csv(path: Path, text: str) -> None:
    """A DataError naming VIA 3's CSV export and the file to import instead (its saved project)."""
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):  # its header is the last of its leading comment lines
            return
        if line.replace(" ", "").strip() == VIA3_CSV_HEADER.replace(" ", ""):
            raise DataError(path, "this is VIA 3's CSV export (Export annotations > VIA3 (CSV)), not a project",
                            line_no, "Import the project VIA 3 saves instead: the .json file of its Save button "
                                     "(disk icon)")


def _regions_from_csv(path: Path, text: str) -> Tuple[List[str], List[ViaRegion]]:
    _refuse_via3_csv(path, text)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.lstrip("#") for h in header] != VIA_CSV_HEADER:
        raise DataError(path, "not a VIA annotation CSV", 1, f"Expected the header {','.join(VIA_CSV_HEADER)}")
    images: List[str] = []
    regions = []
    for line_no, cols in enumerate(reader, start=2):
        if not cols:
            continue
        if len(cols) != len(VIA_CSV_HEADER):
            raise DataError(path, f"expected {len(VIA_CSV_HEADER)} columns, found {len(cols)}", line_no)
        filename = cols[0]
        if filename not in images:
            images.append(filename)
        try:
            shape, attributes = json.loads(cols[5] or "{}"), json.loads(cols[6] or "{}")
            count, index = int(cols[3]), int(cols[4])
        except (ValueError, json.JSONDecodeError) as err:
            raise DataError(path, f"cannot parse the region columns ({err})", line_no) from None
        if count and (shape or attributes):
            regions.append(ViaRegion(filename, index, shape, attributes, str(path), line_no))
    return images, regions


def read_via_regions(path: PathLike) -> Tuple[List[str], List[ViaRegion]]:
    """``(image names, regions)`` from a VIA 2 project, its exported annotation JSON, or its annotation CSV."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise DataError(path, "VIA file not found")
        return _regions_from_csv(path, read_text(path))
    data = read_via_json(path)
    if isinstance(data, Mapping) and "_via_img_metadata" in data:
        return _regions_from_metadata(path, data["_via_img_metadata"])
    if is_via3_project(data):
        raise DataError(path, "this is a VIA 3 project; read it with slowfast_custom.labelling.via3")
    return _regions_from_metadata(path, data)


@dataclass
class ImportStats:
    images: int
    regions: int
    new_person_ids: int  # boxes drawn by hand (no person id), given new ids
    unlabelled: int  # boxes with no action ticked
    videos: List[str] = field(default_factory=list)
    empty_unknown_values: int = 0  # VIA 3: empty values of attributes the project does not have, skipped
    matched: Optional[int] = None  # boxes without a person id that took a track's (None: no tracks given)
    moved: int = 0  # of those, boxes the labeller moved or resized

    def report(self) -> str:
        """One line of counts, and an info line when something was skipped."""
        text = f"read {self.regions} boxes on {self.images} keyframe images of {len(self.videos)} videos; "
        if self.matched is not None:
            text += f"{self.matched} without a person id matched to tracks ({self.moved} moved); "
        text += f"{self.new_person_ids} drawn by hand got new person ids; {self.unlabelled} have no action ticked"
        if self.empty_unknown_values:
            text += (f"\ninfo: skipped {self.empty_unknown_values} empty values of attributes the project does not "
                     "have (the procedure's chang_via_json.py writes three per region)")
        return text


def _selected_names(region: ViaRegion) -> List[str]:
    """The action names ticked for ``region``."""
    value = region.attributes.get(ACTION_ATTRIBUTE, {})
    if isinstance(value, str):  # the attribute was made a text, radio or dropdown attribute in VIA
        return [value] if value.strip() else []
    if isinstance(value, Mapping):
        return [k for k, v in value.items() if v]
    raise region.error(f"the {ACTION_ATTRIBUTE!r} attribute holds {value!r}",
                       "Tick the actions in the checkbox attribute of the exported project")


def _selected_actions(region: ViaRegion, names: Mapping[str, int]) -> Tuple[int, ...]:
    ids = []
    for name in _selected_names(region):
        if name not in names:
            raise region.error(f"action {name!r} is not in the action list",
                               f"Known actions: {', '.join(names)}. Add it to the list or relabel the box")
        ids.append(names[name])
    return tuple(sorted(set(ids)))


def _box(region: ViaRegion, width: int, height: int) -> Tuple[float, float, float, float]:
    shape = region.shape
    if shape.get("name") != "rect":
        raise region.error(f"a {shape.get('name', 'shapeless')} region; person boxes must be rectangles",
                           "Delete it and draw a rectangle")
    try:
        x, y, w, h = (float(shape[k]) for k in ("x", "y", "width", "height"))
    except (KeyError, TypeError, ValueError):
        raise region.error("rectangle without numeric x, y, width, height") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise region.error(f"rectangle ({x:g}, {y:g}, {w:g} x {h:g}) has a coordinate that is not a finite number",
                           "Redraw it")
    if w <= 0 or h <= 0:
        raise region.error(f"rectangle of size {w:g} x {h:g}", "Redraw it")
    x1, y1, x2, y2 = x / width, y / height, (x + w) / width, (y + h) / height
    if min(x1, y1) < -CLIP_TOLERANCE or max(x2, y2) > 1 + CLIP_TOLERANCE:
        raise region.error(f"the rectangle ({x:g}, {y:g}, {w:g} x {h:g} px) reaches beyond the {width}x{height} "
                           f"image by more than {CLIP_TOLERANCE:.0%} of its size (clipping would change the box)",
                           "Redraw it inside the image; it may belong to another video's keyframe")
    clipped = tuple(round(min(max(v, 0.0), 1.0), 3) for v in (x1, y1, x2, y2))
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        raise region.error(f"the rectangle lies outside the {width}x{height} image", "Redraw it on the person")
    return clipped  # type: ignore[return-value]


def _person_id(region: ViaRegion) -> Optional[int]:
    value = region.attributes.get(PERSON_ATTRIBUTE, "")
    text = str(value).strip()
    if not text:
        return None
    try:
        person_id = int(text)
    except ValueError:
        raise region.error(f"person id {text!r} is not a whole number",
                           "Leave it empty for a new person, or type the id of the person it continues") from None
    if person_id < 0:
        raise region.error(f"person id {person_id} is negative")
    return person_id


def labelled_boxes_from_via(images: Sequence[str], regions: Sequence[ViaRegion], actions: Sequence[LabelMapEntry],
                            image_sizes: Mapping[str, Tuple[int, int]],
                            image_keys: Optional[Mapping[str, Tuple[str, int]]] = None,
                            tracks: Optional[Sequence[BoxRow]] = None, min_iou: float = TRACK_MATCH_IOU
                            ) -> Tuple[List[LabelledBox], ImportStats]:
    """Regions -> ``LabelledBox`` (normalised, clipped, rounded to 3 decimals) and counts.

    ``image_sizes``: ``{video: (width, height)}`` of the keyframe images.
    ``image_keys``: ``{image: (video, second)}``; default: parsed from VIA 2
    export names (``parse_keyframe_image_name``). Boxes without a person id
    get new ids, per video from the largest id used + 1, in keyframe and
    region order. ``tracks`` (rows of ``tracks.csv``): a box without a
    person id first takes the id of the tracked box it overlaps by ``min_iou``
    or more at its keyframe (``exchange.match_tracks``); new ids then start
    after the tracks' largest.
    """
    names = {e.name: e.id for e in actions}
    keys = dict(image_keys) if image_keys is not None else {}
    for image in images:
        if image_keys is None:
            try:
                keys[image] = parse_keyframe_image_name(image)
            except ValueError:
                raise DataError(image, "image name does not tell its video and second",
                                hint="Keep the names tools/export_via.py gave the images (<video>__<second>.jpg)"
                                ) from None
        if keys[image][0] not in image_sizes:
            raise DataError(image, f"video {keys[image][0]} has no frames in the frames folder",
                            hint="Point --frames at the frames the project was exported from")

    parsed = []
    for region in regions:
        video, second = keys[region.image]
        width, height = image_sizes[video]
        parsed.append((video, second, region, _box(region, width, height), _person_id(region),
                       _selected_actions(region, names)))

    matched, moved = {}, 0
    if tracks is not None:
        unnamed = [i for i, p in enumerate(parsed) if p[4] is None]
        pairs = match_tracks([parsed[i][:2] + (parsed[i][3],) for i in unnamed], tracks, min_iou)
        for n, row in pairs.items():
            video, second, region, box, _, action_ids = parsed[unnamed[n]]
            parsed[unnamed[n]] = (video, second, region, box, row.person_id, action_ids)
            matched[unnamed[n]] = row
            moved += tuple(box) != tuple(row.box)
    next_id: Dict[str, int] = defaultdict(lambda: 1)
    for video, _, _, _, person_id, _ in parsed:
        if person_id is not None:
            next_id[video] = max(next_id[video], person_id + 1)
    for row in tracks or ():  # a new person must not take the id of a tracked one
        if row.person_id is not None:
            next_id[row.video_id] = max(next_id[row.video_id], row.person_id + 1)
    boxes, new_ids = [], 0
    for video, second, region, box, person_id, action_ids in sorted(parsed, key=lambda p: (p[0], p[1], p[2].index)):
        if person_id is None:
            person_id = next_id[video]
            next_id[video] += 1
            new_ids += 1
        boxes.append(LabelledBox(video, second, box, action_ids, person_id, source=region.where))
    stats = ImportStats(images=len(images), regions=len(regions), new_person_ids=new_ids,
                        unlabelled=sum(1 for b in boxes if not b.action_ids),
                        videos=sorted({v for v, _ in keys.values()}),
                        matched=None if tracks is None else len(matched), moved=moved)
    return boxes, stats


ViaFiles = Union[PathLike, Sequence[PathLike]]


def _paths(via_files: ViaFiles) -> List[Path]:
    paths = [Path(via_files)] if isinstance(via_files, (str, os.PathLike)) else [Path(p) for p in via_files]
    if not paths:
        raise UserError("no VIA file given")
    return paths


def via_file_actions(via_files: ViaFiles) -> List[LabelMapEntry]:
    """The action list VIA 3 projects hold in their attributes (``via3.project_actions``); all must agree."""
    found: Optional[List[LabelMapEntry]] = None
    for path in _paths(via_files):
        if path.suffix.lower() == ".csv" and path.is_file():
            _refuse_via3_csv(path, read_text(path))
        data = read_via_json(path) if path.suffix.lower() != ".csv" else None
        if not is_via3_project(data):
            raise UserError(f"{path}: a VIA 2 file does not hold the action list; pass it with --actions "
                            "(the list the project was exported with)")
        actions = via3.project_actions(path, data)  # type: ignore[arg-type]
        if found is not None and actions != found:
            raise UserError(f"{path}: its action attributes differ from the first project's; give every project "
                            "the same action attributes and options, or import them one dataset at a time")
        found = actions
    assert found is not None
    return found


def import_via(via_file: ViaFiles, dataset_dir: PathLike, actions: Optional[Sequence[LabelMapEntry]] = None, *,
               split: SplitSpec = SplitSpec(), frame_dir: Optional[PathLike] = None, fps: float = DEFAULT_FPS,
               val_predicted_boxes: Optional[Sequence[BoxRow]] = None, tracks: Optional[Sequence[BoxRow]] = None,
               min_iou: float = TRACK_MATCH_IOU) -> Tuple[DatasetSummary, ImportStats]:
    """Labelled VIA files (VIA 2 or 3, one or several) -> ``annotations/`` and ``frame_lists/`` of ``dataset_dir``.

    ``actions``: the action list; VIA 3 projects may leave it out (their
    attributes hold it, ``via3.project_actions``). The boxes go through
    ``write_ava_dataset_annotations`` (see it for ``split``, ``fps`` and
    ``val_predicted_boxes``); returns its summary and the import counts.
    ``tracks``: detect-and-track's rows, whose ids boxes without one take
    (``labelled_boxes_from_via``).
    """
    frame_dir = Path(frame_dir) if frame_dir is not None else Path(dataset_dir) / "frames"
    actions = list(actions) if actions is not None else via_file_actions(via_file)
    boxes, stats, _ = read_via_labelled_boxes(via_file, actions, frame_dir, fps=fps, tracks=tracks, min_iou=min_iou)
    summary = write_ava_dataset_annotations(dataset_dir, boxes, actions, split=split, frame_dir=frame_dir, fps=fps,
                                            val_predicted_boxes=val_predicted_boxes)
    return summary, stats


def read_via_labelled_boxes(via_file: ViaFiles, actions: Sequence[LabelMapEntry], frame_dir: PathLike, *,
                            fps: float = DEFAULT_FPS, tracks: Optional[Sequence[BoxRow]] = None,
                            min_iou: float = TRACK_MATCH_IOU) -> Tuple[List[LabelledBox], ImportStats, List[str]]:
    """The labelled boxes of VIA files, sized by the frames under ``frame_dir``; also the videos found there.

    VIA 2 files name images ``<video>__<second>.jpg``; VIA 3 projects
    ``<video>_<frame number>.jpg``, mapped to seconds at ``fps``.
    """
    frame_dir = Path(frame_dir)
    images: List[str] = []
    regions: List[ViaRegion] = []
    keys: Dict[str, Tuple[str, int]] = {}
    empty_unknown = 0
    for path in _paths(via_file):
        data = read_via_json(path) if path.suffix.lower() != ".csv" else None
        if is_via3_project(data):
            more_images, more_regions, more_keys, empty = via3.read_via3_regions(path, data, actions,  # type: ignore
                                                                                 fps)
            empty_unknown += empty
        else:
            more_images, more_regions = read_via_regions(path)
            more_keys = {}
            for image in more_images:
                try:
                    more_keys[image] = parse_keyframe_image_name(image)
                except ValueError:
                    raise DataError(path, f"image {image}: its name does not tell its video and second",
                                    hint="Keep the names tools/export_via.py gave the images (<video>__<second>.jpg)"
                                    ) from None
        for image in more_images:
            if image in keys:
                raise DataError(path, f"image {image} is also in another VIA file given",
                                hint="Import each keyframe from one file only")
        images += more_images
        regions += more_regions
        keys.update(more_keys)
    videos = sorted({video for video, _ in keys.values()})
    present = [v for v in videos if (frame_dir / v).is_dir()]
    boxes, stats = labelled_boxes_from_via(images, regions, actions, image_sizes_from_frames(frame_dir, present),
                                           keys, tracks=tracks, min_iou=min_iou)
    stats.empty_unknown_values = empty_unknown
    return boxes, stats, present
