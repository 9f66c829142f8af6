"""VIA 3 image-annotator projects (``via_image_annotator.html`` 3.0.x): keyframes out, labelled boxes in.

The published "Custom-ava-dataset" procedure labels keyframes in VIA 3's
image annotator: one project per video, images ``<video>_<frame>.jpg`` (the
frame of second ``s`` is ``s * 30 + 1``), one checkbox attribute per action
group, and a script that numbers the actions across those attributes. This
module reads such projects and writes our own (``export_via3``).

The structure, field by field, as VIA 3.0.10's source (``via-3.x.y/src/js/``
of the VGG via repository, tag ``via-3.0.10``) builds, saves and loads it
(``JSON.stringify(this.store)`` in ``_via_data.project_save``):

* ``project``: ``pid``, ``rev``, ``rev_timestamp`` (the ``__VIA_PROJECT_ID__``,
  ``__VIA_PROJECT_REV_ID__``, ``__VIA_PROJECT_REV_TIMESTAMP__`` markers of a
  local project, ``_via_const.js``), ``pname``, ``data_format_version``
  (``"3.1.1"`` since 3.0.3; 3.0.0-3.0.2 wrote ``"3.1.0"`` with ``vid_list`` at
  the top level, which ``project_store_apply_version_fix`` upgrades and this
  reader accepts), ``creator``, ``created`` (ms since 1970), ``vid_list``
  (view ids, strings) -- ``_via_data._init_default_project``.
* ``config``: ``file.loc_prefix`` (``{"1": "", "2": "", "3": "", "4": ""}``, a
  prefix per file location) and ``ui`` (``file_content_align``,
  ``file_metadata_editor_visible``, ``spatial_metadata_editor_visible``,
  ``spatial_region_label_attribute_id``, ``gtimeline_visible_row_count``).
* ``attribute``: ``{aid: {aname, anchor_id, type, desc, options,
  default_option_id}}`` (``_via_attribute.js``); aids are numbers as strings
  from 1 (``_attribute_get_new_id``); ``type`` 1 text, 2 checkbox, 3 radio,
  4 select, 5 image; ``anchor_id`` ``"FILE1_Z0_XY1"`` for regions in an image;
  options ``{oid: text}`` with oids ``"0", "1", ...``
  (``attribute_update_options_from_csv``); ``default_option_id`` ``""`` for
  none (``_metadata_get_default_attribute_values`` pre-ticks it otherwise).
* ``file``: ``{fid: {fid, fname, type, loc, src}}`` (``_via_file.js``); fids
  are strings from ``"1"`` (``_file_get_new_id``); ``type`` 2 image; ``loc``
  1 local (picked in the browser), 2 http(s) URL, 3 file URL, 4 inline; the
  image is loaded from ``loc_prefix[loc] + src`` (``_via_data.file_get_src``).
* ``view``: ``{vid: {fid_list: [fid]}}`` (``_via_view.js``), one file per
  view in the image annotator (``view_bulk_add_from_filelist``).
* ``metadata``: ``{mid: {vid, flg, z, xy, av}}`` (``_via_metadata.js``); mid
  ``<vid>_<8 characters>`` (``_metadata_get_new_id``), ``flg`` 0, ``z`` ``[]``
  on an image, ``xy`` ``[2, x, y, width, height]`` for a rectangle
  (``_VIA_RSHAPE``) in image pixels with 3 decimals (``_VIA_FLOAT_FIXED_POINT``),
  ``av`` ``{aid: value}``: text as typed, a checkbox's ticked oids joined by
  commas (``_metadata_on_change``), ``""`` or absent when none is.

Actions (the numbering of the procedure's ``json_extract.py``): the option
attributes (checkbox, radio, select) anchored to image regions, in aid order,
list the actions; the action id of option ``k`` (0-based, in oid order) of an
attribute is the number of options of the earlier ones + ``k`` + 1. Text
attributes do not count; one named ``person_id`` (or "person id", any case)
holds the person id, and boxes without one get new ids. Given an action
list, its actions in id order must be these options in that order, by name
(an option's text, or ``<attribute name>: <option text>``); without one the
list is the options themselves (``project_actions``), the attribute name
prefixed where two attributes share an option text.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.ava.naming import PathLike, frame_name, parse_frame_image_name
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_write_text
from slowfast_custom.labelling.exchange import (
    IMAGES,
    ExportSummary,
    ViaRegion,
    is_via3_project,
    pixel_rect,
    place_keyframes,
    read_via_json,
)

PROJECT_FILE = "via3_project.json"
DATA_FORMAT_VERSION = "3.1.1"  # what via_image_annotator.html 3.0.3-3.0.10 saves
IMAGE_REGION = "FILE1_Z0_XY1"  # _VIA_ATTRIBUTE_ANCHOR: a spatial region in an image
TEXT, CHECKBOX, RADIO, SELECT = 1, 2, 3, 4  # _VIA_ATTRIBUTE_TYPE
OPTION_TYPES = (CHECKBOX, RADIO, SELECT)
IMAGE_FILE = 2  # _VIA_FILE_TYPE.IMAGE
LOC_URIHTTP, LOC_URIFILE = 2, 3  # _VIA_FILE_LOC
RECTANGLE = 2  # _VIA_RSHAPE.RECTANGLE
SHAPES = {1: "point", 2: "rectangle", 3: "circle", 4: "ellipse", 5: "line", 6: "polyline", 7: "polygon",
          8: "extreme rectangle", 9: "extreme circle"}
PROJECT_MARKERS = {"pid": "__VIA_PROJECT_ID__", "rev": "__VIA_PROJECT_REV_ID__",
                   "rev_timestamp": "__VIA_PROJECT_REV_TIMESTAMP__"}
CREATOR = "VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)"
ACTION_ATTRIBUTE = "action"
PERSON_ATTRIBUTE = "person_id"


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def via3_attributes(actions: Sequence[LabelMapEntry]) -> Dict[str, dict]:
    """Attribute "1": the actions (checkbox, oids "0".. in id order); "2": the person id (text). No defaults."""
    options = {}
    for k, entry in enumerate(sorted(actions, key=lambda e: e.id)):
        if not entry.name.strip():
            raise UserError(f"action id {entry.id} has an empty name; name it in the action list")
        options[str(k)] = entry.name
    return {
        "1": {"aname": ACTION_ATTRIBUTE, "anchor_id": IMAGE_REGION, "type": CHECKBOX,
              "desc": "every action the person does at this second", "options": options, "default_option_id": ""},
        "2": {"aname": PERSON_ATTRIBUTE, "anchor_id": IMAGE_REGION, "type": TEXT,
              "desc": "person id from the tracker; leave empty on a box you draw (a new id is given on import)",
              "options": {}, "default_option_id": ""},
    }


def _metadata_id(vid: str, serial: int) -> str:
    """``<vid>_<8 characters>`` like ``_via_util_uid6`` (base64 of 6 bytes), but reproducible."""
    return f"{vid}_" + base64.b64encode(serial.to_bytes(6, "big")).decode().translate(str.maketrans("+/", "XX"))


def build_via3_project(images: Sequence[Tuple[str, int, int, Sequence[BoxRow]]], actions: Sequence[LabelMapEntry],
                       *, project_name: str, image_prefix: str, created_ms: Optional[int] = None) -> dict:
    """A VIA 3 project (see the module doc): one view per image ``(name, width, height, boxes)``.

    Images are loaded from ``image_prefix + name`` (a file or http(s) URL
    prefix ending in ``/``); no option is ticked or preset.
    """
    loc = LOC_URIHTTP if re.match(r"https?://", image_prefix) else LOC_URIFILE
    files, views, metadata = {}, {}, {}
    serial = 0
    for number, (name, width, height, boxes) in enumerate(images, start=1):
        fid = vid = str(number)
        files[fid] = {"fid": fid, "fname": name, "type": IMAGE_FILE, "loc": loc, "src": quote(name)}
        views[vid] = {"fid_list": [fid]}
        for row in boxes:
            xy = [RECTANGLE, *pixel_rect(row.box, width, height)]
            serial += 1
            metadata[_metadata_id(vid, serial)] = {
                "vid": vid, "flg": 0, "z": [], "xy": xy,
                "av": {"1": "", "2": "" if row.person_id is None else str(row.person_id)}}
    return {
        "project": {**PROJECT_MARKERS, "pname": project_name, "data_format_version": DATA_FORMAT_VERSION,
                    "creator": CREATOR, "created": int(time.time() * 1000) if created_ms is None else created_ms,
                    "vid_list": list(views)},
        "config": {
            "file": {"loc_prefix": {"1": "", "2": image_prefix if loc == LOC_URIHTTP else "",
                                    "3": image_prefix if loc == LOC_URIFILE else "", "4": ""}},
            "ui": {"file_content_align": "center", "file_metadata_editor_visible": True,
                   "spatial_metadata_editor_visible": True, "spatial_region_label_attribute_id": "2",
                   "gtimeline_visible_row_count": "4"},
        },
        "attribute": via3_attributes(actions),
        "file": files,
        "metadata": metadata,
        "view": views,
    }


def export_via3(frame_dir: PathLike, tracks: Sequence[BoxRow], actions: Sequence[LabelMapEntry], out_dir: PathLike,
                *, videos: Optional[Sequence[str]] = None, fps: float = DEFAULT_FPS,
                margin_sec: int = DEFAULT_MARGIN_SEC, image_path: Optional[str] = None,
                project_name: str = "slowfast_custom", overwrite: bool = False) -> ExportSummary:
    """Write ``<out_dir>/images/<video>_<frame>.jpg`` and ``<out_dir>/via3_project.json`` for VIA 3.

    The keyframes of ``exchange.place_keyframes``, named as their frames (as the
    published procedure names them). ``image_path``: the URL prefix VIA
    loads them from (default: the images folder as a ``file://`` URL). A
    project that already holds labels is replaced only with ``overwrite``.
    """
    out_dir = Path(out_dir)
    path = out_dir / PROJECT_FILE
    if path.is_file() and not overwrite and _has_labels(path):
        raise UserError(f"{path} already holds ticked actions; import it first, or pass --overwrite / another --out")
    image_dir = out_dir / IMAGES
    keyframes, videos = place_keyframes(frame_dir, tracks, image_dir, lambda v, s, i: frame_name(v, i + 1),
                                        videos=videos, fps=fps, margin_sec=margin_sec)
    if image_path is None:
        image_path = image_dir.resolve().as_uri() + "/"
    images = [(k.image, k.width, k.height, k.boxes) for k in keyframes]
    project = build_via3_project(images, actions, project_name=project_name, image_prefix=image_path)
    atomic_write_text(path, json.dumps(project, indent=1, ensure_ascii=False) + "\n")
    return ExportSummary(path, len(images), sum(len(k.boxes) for k in keyframes), len(videos))


def _has_labels(path: Path) -> bool:
    """Whether a VIA 3 project has an option ticked on a region (unreadable files count as labelled)."""
    try:
        data = read_via_json(path)
        options = {o.aid for o in action_options(path, data)}  # type: ignore[arg-type]
        return any(str(value).strip(", ") for entry in data["metadata"].values()  # type: ignore[index]
                   for aid, value in entry.get("av", {}).items() if aid in options)
    except (DataError, AttributeError, TypeError):
        return True


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionOption:
    """Option ``oid`` of attribute ``aid``: the ``number``-th action (from 1) of the project."""

    aid: str
    oid: str
    attribute: str  # aname
    text: str
    number: int


def _ordered(ids) -> List[str]:
    """VIA's order of ids: numeric when they all are (a JavaScript object's order), else as written."""
    ids = [str(i) for i in ids]
    return sorted(ids, key=int) if all(re.fullmatch(r"\d+", i) for i in ids) else ids


def _check_project(path: Path, data: Mapping) -> None:
    for key in ("attribute", "file", "view", "metadata"):
        if not isinstance(data.get(key), Mapping):
            raise DataError(path, f"'{key}' is not an object; not a VIA 3 project",
                            hint="Save the project with VIA 3's Save button and import that file")


def action_options(path: PathLike, data: Mapping) -> List[ActionOption]:
    """Every option of the project's action attributes, numbered as the module doc says."""
    path = Path(path)
    _check_project(path, data)
    attributes = data["attribute"]
    found: List[ActionOption] = []
    for aid in _ordered(attributes):
        attribute = attributes[aid]
        if not isinstance(attribute, Mapping):
            raise DataError(path, f"attribute {aid} is not an object")
        if attribute.get("anchor_id") != IMAGE_REGION or attribute.get("type") not in OPTION_TYPES:
            continue
        options = attribute.get("options") or {}
        if not isinstance(options, Mapping):
            raise DataError(path, f"attribute {aid} ({attribute.get('aname')}): options are not an object")
        for oid in _ordered(options):
            found.append(ActionOption(aid, oid, str(attribute.get("aname", aid)), str(options[oid]).strip(),
                                      len(found) + 1))
    if not found:
        raise DataError(path, "no checkbox, radio or select attribute on image regions lists any action",
                        hint="Add the actions as options of a checkbox attribute (Attributes panel, "
                             "anchor 'Spatial Region in an Image')")
    return found


def _qualified(option: ActionOption) -> str:
    return f"{option.attribute}: {option.text}"


def project_actions(path: PathLike, data: Optional[Mapping] = None) -> List[LabelMapEntry]:
    """The project's action list: ids 1..n over its action options; names their texts (see the module doc)."""
    if data is None:
        data = read_via_json(path)  # type: ignore[assignment]
        if not is_via3_project(data):
            raise DataError(path, "not a VIA 3 project")
    options = action_options(path, data)  # type: ignore[arg-type]
    counts = Counter(o.text for o in options)
    entries = []
    for option in options:
        name = option.text if counts[option.text] == 1 else _qualified(option)
        if not option.text or name in {e.name for e in entries}:
            raise DataError(path, f"attribute {option.aid} ({option.attribute}), option {option.oid}: "
                            f"{'empty' if not option.text else 'repeated'} option text {option.text!r}",
                            hint="Give every action option its own text")
        entries.append(LabelMapEntry(option.number, name))
    return entries


def _match_actions(path: Path, options: Sequence[ActionOption], actions: Sequence[LabelMapEntry]
                   ) -> Dict[Tuple[str, str], LabelMapEntry]:
    """``{(aid, oid): action}``: the n-th option is the n-th action by id, and their names agree."""
    ordered = sorted(actions, key=lambda e: e.id)
    if len(ordered) != len(options):
        raise DataError(path, f"the project's action attributes have {len(options)} options, the action list "
                        f"{len(ordered)} actions", hint="Import with the action list the project was made with, "
                        "or leave --actions out to take the project's options as the list")
    matched = {}
    for option, entry in zip(options, ordered):
        if entry.name not in (option.text, _qualified(option)):
            raise DataError(path, f"attribute {option.aid} ({option.attribute}), option {option.oid} "
                            f"{option.text!r} is action {option.number} of the project, but action "
                            f"{entry.id} of the list is {entry.name!r}",
                            hint="Import with the action list the project was made with, or leave --actions out "
                                 "to take the project's options as the list")
        matched[(option.aid, option.oid)] = entry
    return matched


def _person_attribute(data: Mapping) -> Optional[str]:
    ids = [aid for aid, a in data["attribute"].items()
           if isinstance(a, Mapping) and a.get("type") == TEXT and a.get("anchor_id") == IMAGE_REGION
           and re.sub(r"[^a-z]", "", str(a.get("aname", "")).lower()) == "personid"]
    return str(ids[0]) if len(ids) == 1 else None


def _view_files(path: Path, data: Mapping) -> Dict[str, str]:
    """``{vid: file name}`` in the project's view order."""
    project = data.get("project") if isinstance(data.get("project"), Mapping) else {}
    vids = project.get("vid_list") or data.get("vid_list") or _ordered(data["view"])  # 3.1.0 kept it at the top
    names = {}
    for vid in (str(v) for v in vids):
        view = data["view"].get(vid)
        fids = view.get("fid_list") if isinstance(view, Mapping) else None
        if not isinstance(fids, list) or len(fids) != 1:
            raise DataError(path, f"view {vid} does not show one file ({fids!r}); not an image annotator project",
                            hint="Label the keyframes in via_image_annotator.html")
        entry = data["file"].get(str(fids[0]))
        if not isinstance(entry, Mapping) or not entry.get("fname"):
            raise DataError(path, f"view {vid} shows file {fids[0]}, which the project does not list")
        if entry.get("type", IMAGE_FILE) != IMAGE_FILE:
            raise DataError(path, f"file {fids[0]} ({entry['fname']}) is not an image (type {entry.get('type')})",
                            hint="Label keyframe images in via_image_annotator.html")
        names[str(vid)] = str(entry["fname"])
    return names


def read_via3_regions(path: PathLike, data: Mapping, actions: Sequence[LabelMapEntry], fps: float = DEFAULT_FPS
                      ) -> Tuple[List[str], List[ViaRegion], Dict[str, Tuple[str, int]], int]:
    """``(image names, regions, {image: (video, second)}, empty unknown values)`` of a VIA 3 project.

    For ``via.labelled_boxes_from_via``: each region gets the attributes of a
    VIA 2 region, ``person_id`` (text) and ``action`` (``{action name: True}``,
    names of ``actions``). A region's empty value for an attribute the
    project does not have is skipped and counted: the procedure's
    ``chang_via_json.py`` gives every region ``{"1": "", "2": "", "3": ""}``
    whatever the number of attributes, and VIA keeps them on save.
    """
    path = Path(path)
    options = action_options(path, data)
    matched = _match_actions(path, options, actions)
    by_aid: Dict[str, Dict[str, ActionOption]] = {}
    for option in options:
        by_aid.setdefault(option.aid, {})[option.oid] = option
    person_aid = _person_attribute(data)
    files = _view_files(path, data)
    keys = {}
    for vid, name in files.items():
        try:
            keys[name] = parse_frame_image_name(name, fps)
        except ValueError as err:
            raise DataError(path, f"view {vid}: file name {name!r} does not map to a keyframe ({err})",
                            hint="Keep the images named <video>_<frame number>.jpg, the keyframe of second s "
                                 "being frame s*fps+1 (tools/export_via.py --format via3 names them so), "
                                 "or pass the --fps the frames were extracted at") from None
    per_image: Counter = Counter()
    regions = []
    empty_unknown = 0
    for mid, entry in data["metadata"].items():
        if not isinstance(entry, Mapping):
            raise DataError(path, f"metadata {mid} is not an object")
        vid = str(entry.get("vid"))
        if vid not in files:
            raise DataError(path, f"metadata {mid}: view {vid!r} is not in the project",
                            hint="Delete the region in VIA, or save the project again")
        image = files[vid]
        xy, z = entry.get("xy") or [], entry.get("z") or []
        if z:
            raise DataError(path, f"image {image}, metadata {mid}: a time {z!r} (z); video annotator metadata",
                            hint="Label keyframe images in via_image_annotator.html")
        if not xy:
            continue  # metadata of the whole image (an image caption, say)
        region = ViaRegion(image, per_image[image], {}, {}, str(path), mid=mid)
        per_image[image] += 1
        shape = SHAPES.get(xy[0], f"shape {xy[0]!r}") if isinstance(xy, list) else "shapeless"
        if shape != "rectangle" or len(xy) != 5:
            raise region.error(f"a {shape} region (xy {xy!r}); person boxes must be rectangles [2, x, y, w, h]",
                               "Delete it and draw a rectangle")
        av = entry.get("av") or {}
        if not isinstance(av, Mapping):
            raise region.error(f"av is {av!r}, not an object")
        names = []
        for aid, value in av.items():
            aid = str(aid)
            if aid not in data["attribute"]:
                if not str(value).strip():
                    empty_unknown += 1
                    continue
                known = ", ".join(_ordered(data["attribute"]))
                raise region.error(f"attribute id {aid!r} is not in the project's attributes ({known}) but holds "
                                   f"{value!r}", f"VIA neither shows nor removes it: delete \"{aid}\": "
                                   f"{json.dumps(value, ensure_ascii=False)} from the av of metadata {mid} with a "
                                   "text editor, or add the attribute back in the project")
            if aid not in by_aid:
                continue
            if not isinstance(value, (str, int)):
                raise region.error(f"attribute {aid} holds {value!r}, not option ids")
            for oid in (o.strip() for o in str(value).split(",")):
                if not oid:
                    continue
                if oid not in by_aid[aid]:
                    known = ", ".join(by_aid[aid])
                    raise region.error(f"option id {oid!r} is not an option of attribute {aid} "
                                       f"({by_aid[aid][next(iter(by_aid[aid]))].attribute}; options {known})",
                                       "Tick the action again in VIA, or add the option to the attribute")
                names.append(matched[(aid, oid)].name)
        person = str(av.get(person_aid, "")) if person_aid is not None else ""
        regions.append(ViaRegion(image, region.index, {"name": "rect", "x": xy[1], "y": xy[2], "width": xy[3],
                                                       "height": xy[4]},
                                 {PERSON_ATTRIBUTE: person, ACTION_ATTRIBUTE: {n: True for n in names}},
                                 str(path), mid=mid))
    return list(files.values()), regions, keys, empty_unknown

