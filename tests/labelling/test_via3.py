"""VIA 3: projects in the published procedure's shape import to the expected AVA rows; our export round-trips."""

import json

import pytest
from test_via import random_tracks

from slowfast_custom.ava.formats import LabelMapEntry, read_box_csv, read_label_map
from slowfast_custom.ava.layout import LABEL_MAP
from slowfast_custom.ava.naming import parse_frame_image_name
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.labelling import via, via3

from conftest import run_tool
from rendered_frames import write_video_frames

FPS = 10
SIZE = (200, 100)  # pixels / 200 and / 100: the expected normalised boxes can be written by hand

# The procedure's attributes (dense_proposals_train_to_via.py, via3_tool.py): one checkbox attribute per body
# part, option ids "0".., "invisible" in each, no default; then a person-id text attribute (with the dummy
# option via3_tool.py asserts on).
ATTRIBUTES = {
    "1": {"aname": "head", "type": 2, "options": {"0": "invisible", "1": "look up", "2": "look down"},
          "default_option_id": "", "anchor_id": "FILE1_Z0_XY1", "desc": ""},
    "2": {"aname": "body", "type": 2, "options": {"0": "invisible", "1": "stand", "2": "sit", "3": "站立"},
          "default_option_id": "", "anchor_id": "FILE1_Z0_XY1", "desc": ""},
    "3": {"aname": "hand", "type": 2, "options": {"0": "raise hand", "1": "write"},
          "default_option_id": "", "anchor_id": "FILE1_Z0_XY1", "desc": ""},
    "4": {"aname": "person_id", "type": 1, "options": {"0": ""}, "default_option_id": "",
          "anchor_id": "FILE1_Z0_XY1", "desc": ""},
}
# Action ids: head 1-3, body 4-7, hand 8-9.


def procedure_project(video, regions_per_second):
    """A VIA 3 project of one video as the procedure writes it and VIA 3 saves it after labelling.

    ``regions_per_second``: ``{second: [(mid, xy, av), ...]}``; seconds 1-4 are the video's keyframes.
    """
    files, views, metadata = {}, {}, {}
    for n, second in enumerate(range(1, 5), start=1):
        vid = str(n)
        files[vid] = {"fname": f"{video}_{second * FPS + 1:06d}.jpg", "type": 2, "fid": vid, "loc": 1, "src": ""}
        views[vid] = {"fid_list": [vid]}
        for mid, xy, av in regions_per_second.get(second, []):
            metadata[mid] = {"vid": vid, "xy": xy, "av": av, "flg": 0, "z": []}
    return {
        "project": {"pid": "__VIA_PROJECT_ID__", "rev": "__VIA_PROJECT_REV_ID__",
                    "rev_timestamp": "__VIA_PROJECT_REV_TIMESTAMP__", "pname": "Unnamed VIA Project",
                    "creator": "VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
                    "created": 1618642823079, "vid_list": list(views)},
        "config": {"file": {"loc_prefix": {"1": "", "2": "", "3": "", "4": ""}},
                   "ui": {"file_content_align": "center", "file_metadata_editor_visible": True,
                          "spatial_metadata_editor_visible": True, "spatial_region_label_attribute_id": "",
                          "gtimeline_visible_row_count": "4"}},
        "attribute": ATTRIBUTES,
        "file": files,
        "metadata": metadata,
        "view": views,
    }


@pytest.fixture
def frames(tmp_path):
    root = tmp_path / "data" / "frames"
    for video in ("class1", "class2"):
        write_video_frames(root, video, seconds=6, fps=FPS, size=SIZE)
    return root


def write(path, project):
    path.write_text(json.dumps(project, ensure_ascii=False))
    return path


def test_procedure_projects_import_to_the_expected_ava_rows(frames, tmp_path):
    one = procedure_project("class1", {
        1: [("image1_1", [2, 20, 10, 50, 60], {"1": "1,2", "2": "", "3": "0", "4": "7"}),
            ("image1_2", [2, 101, 0, 99, 100], {"1": "", "2": "3", "3": "", "4": "8"})],
        2: [("2_Fx2kQ0aB", [2, 20, 12, 52, 58], {"1": "0", "2": "1", "4": "7"}),
            ("2_ZZt1Xy9c", [2, -1, 50, 51, 50.5], {"2": "2"})],  # drawn by hand: no person id, a hair off the image
        3: [("image3_1", [2, 40, 20, 40, 40], {"1": "", "2": "", "3": "", "4": "7"})],  # nothing ticked
    })
    two = procedure_project("class2", {4: [("image4_1", [2, 0, 0, 200, 100], {"3": "1,0", "4": "3"})]})
    paths = [write(tmp_path / "class1_finish.json", one), write(tmp_path / "class2_finish.json", two)]
    before = [p.read_bytes() for p in paths]
    data = frames.parent
    out = run_tool("import_via.py", *paths, "--data", data, "--val-videos", "class2", "--fps", FPS)
    assert out.returncode == 0, out.stderr
    assert "1 drawn by hand got new person ids; 1 have no action ticked" in out.stdout
    assert "MODEL.NUM_CLASSES 9" in out.stdout
    assert [p.read_bytes() for p in paths] == before  # inputs are never modified
    train = {(r.video_id, r.second, r.box, r.action_id, r.person_id)
             for r in read_box_csv(data / "annotations" / "ava_train_v2.2.csv", "gt")}
    assert train == {
        ("class1", 1, (0.1, 0.1, 0.35, 0.7), 2, 7), ("class1", 1, (0.1, 0.1, 0.35, 0.7), 3, 7),
        ("class1", 1, (0.1, 0.1, 0.35, 0.7), 8, 7),
        ("class1", 1, (0.505, 0.0, 1.0, 1.0), 7, 8),
        ("class1", 2, (0.1, 0.12, 0.36, 0.7), 1, 7), ("class1", 2, (0.1, 0.12, 0.36, 0.7), 5, 7),
        ("class1", 2, (0.0, 0.5, 0.25, 1.0), 6, 9),  # a new id after the largest used (8)
    }
    val = {(r.video_id, r.second, r.box, r.action_id, r.person_id)
           for r in read_box_csv(data / "annotations" / "ava_val_v2.2.csv", "gt")}
    assert val == {("class2", 4, (0.0, 0.0, 1.0, 1.0), 8, 3), ("class2", 4, (0.0, 0.0, 1.0, 1.0), 9, 3)}
    names = [(e.id, e.name) for e in read_label_map(data / "annotations" / LABEL_MAP)]
    assert names == [(1, "head: invisible"), (2, "look up"), (3, "look down"), (4, "body: invisible"),
                     (5, "stand"), (6, "sit"), (7, "站立"), (8, "raise hand"), (9, "write")]


def test_a_given_action_list_must_be_the_projects_options(frames, tmp_path):
    project = procedure_project("class1", {1: [("image1_1", [2, 20, 10, 50, 60], {"2": "1", "4": "1"})]})
    path = write(tmp_path / "p.json", project)
    listed = via3.project_actions(path)
    boxes, _, _ = via.read_via_labelled_boxes(path, listed, frames, fps=FPS)
    assert [b.action_ids for b in boxes] == [(5,)]
    renamed = [LabelMapEntry(e.id, "walk" if e.name == "stand" else e.name) for e in listed]
    with pytest.raises(DataError, match=r"attribute 2 \(body\), option 1 'stand' is action 5 of the project, "
                                        r"but action 5 of the list is 'walk'"):
        via.read_via_labelled_boxes(path, renamed, frames, fps=FPS)
    with pytest.raises(DataError, match="have 9 options, the action list 8 actions"):
        via.read_via_labelled_boxes(path, listed[:8], frames, fps=FPS)
    with pytest.raises(UserError, match="a VIA 2 file does not hold the action list; pass it with --actions"):
        via.via_file_actions(write(tmp_path / "v2.json", {"_via_img_metadata": {}}))


ACTIONS = [LabelMapEntry(1, "walk"), LabelMapEntry(4, "talk to (e.g., self, a person, a group)"),
           LabelMapEntry(9, "carry/hold (an object)")]  # ids with gaps, a name with commas


@pytest.fixture
def exported(frames, tmp_path):
    tracks = random_tracks(["class1", "class2"], [2, 3])
    summary = via3.export_via3(frames, tracks, ACTIONS, tmp_path / "data" / "via3", fps=FPS, margin_sec=1)
    return tracks, summary


def test_export_matches_via3_project_format(exported, frames):
    tracks, summary = exported
    project = json.loads(summary.project.read_text())
    assert summary.project.name == "via3_project.json"
    # _via_data.project_save: JSON.stringify(store) of the six parts _init_default_project makes.
    assert set(project) == {"project", "config", "attribute", "file", "metadata", "view"}
    meta = project["project"]
    assert set(meta) == {"pid", "rev", "rev_timestamp", "pname", "data_format_version", "creator", "created",
                         "vid_list"}
    assert (meta["pid"], meta["rev"], meta["rev_timestamp"]) == (
        "__VIA_PROJECT_ID__", "__VIA_PROJECT_REV_ID__", "__VIA_PROJECT_REV_TIMESTAMP__")  # a local project
    assert meta["data_format_version"] == "3.1.1" and isinstance(meta["created"], int)
    assert meta["vid_list"] == list(project["view"]) == [str(i) for i in range(1, 11)]
    config = project["config"]
    assert set(config["file"]["loc_prefix"]) == {"1", "2", "3", "4"}
    image_dir = summary.project.parent / "images"
    assert config["file"]["loc_prefix"]["3"] == image_dir.resolve().as_uri() + "/"
    assert set(config["ui"]) == {"file_content_align", "file_metadata_editor_visible",
                                 "spatial_metadata_editor_visible", "spatial_region_label_attribute_id",
                                 "gtimeline_visible_row_count"}
    # _via_attribute: aname, anchor_id, type, desc, options, default_option_id; none preset.
    attributes = project["attribute"]
    assert list(attributes) == ["1", "2"]
    for attribute in attributes.values():
        assert set(attribute) == {"aname", "anchor_id", "type", "desc", "options", "default_option_id"}
        assert attribute["anchor_id"] == "FILE1_Z0_XY1" and attribute["default_option_id"] == ""
    assert attributes["1"]["type"] == 2 and attributes["1"]["options"] == {
        str(k): a.name for k, a in enumerate(ACTIONS)}
    assert attributes["2"]["type"] == 1 and attributes["2"]["aname"] == "person_id"
    assert config["ui"]["spatial_region_label_attribute_id"] == "2"
    # _via_file and _via_view: one image file per view, ids as strings.
    names = []
    for vid, view in project["view"].items():
        assert view == {"fid_list": [vid]}
        entry = project["file"][vid]
        assert entry == {"fid": vid, "fname": entry["fname"], "type": 2, "loc": 3, "src": entry["fname"]}
        assert (image_dir / entry["fname"]).read_bytes() == (frames / entry["fname"].rsplit("_", 1)[0]
                                                            / entry["fname"]).read_bytes()
        names.append(entry["fname"])
    assert [parse_frame_image_name(n, FPS) for n in names] == [(v, s) for v in ("class1", "class2")
                                                               for s in (1, 2, 3, 4, 5)]
    assert names[1] == "class1_000021.jpg"
    # _via_metadata: vid, flg 0, z [], xy [2, x, y, w, h] in pixels with 3 decimals; nothing ticked.
    assert len(project["metadata"]) == summary.regions == len(tracks)
    for mid, entry in project["metadata"].items():
        assert set(entry) == {"vid", "flg", "z", "xy", "av"}
        assert mid.startswith(entry["vid"] + "_") and len(mid) == len(entry["vid"]) + 9
        assert entry["flg"] == 0 and entry["z"] == [] and entry["xy"][0] == 2 and len(entry["xy"]) == 5
        assert all(round(v, 3) == v and v >= 0 for v in entry["xy"][1:])
        assert entry["av"]["1"] == "" and entry["av"]["2"].isdigit()


def tick(project, choose):
    """A scripted labeller: tick option ids ``choose(index)`` for every region, as VIA 3 stores them."""
    for index, entry in enumerate(project["metadata"].values()):
        entry["av"]["1"] = ",".join(choose(index))
    return project


def test_export_round_trips(exported, frames, tmp_path):
    tracks, summary = exported
    project = tick(json.loads(summary.project.read_text()), lambda i: [str(i % 3), str((i + 1) % 3)][: 1 + i % 2])
    path = write(tmp_path / "labelled.json", project)
    boxes, stats, videos = via.read_via_labelled_boxes(path, ACTIONS, frames, fps=FPS)
    assert videos == ["class1", "class2"] and stats.images == 10 and stats.new_person_ids == 0
    got = sorted((b.video_id, b.second, b.person_id, b.box) for b in boxes)
    assert got == sorted((r.video_id, r.second, r.person_id, r.box) for r in tracks)  # exactly, 3 decimals
    ids = [a.id for a in ACTIONS]
    expected = {(t.video_id, t.second, t.person_id): tuple(sorted({ids[i % 3], ids[(i + 1) % 3]}))[: 2]
                if i % 2 else (ids[i % 3],) for i, t in enumerate(sorted(tracks, key=lambda r: (
                    r.video_id, r.second, r.person_id or 0)))}
    assert {(b.video_id, b.second, b.person_id): b.action_ids for b in boxes} == expected
    path.replace(summary.project)
    with pytest.raises(UserError, match="already holds ticked actions"):
        via3.export_via3(frames, tracks, ACTIONS, summary.project.parent, fps=FPS, margin_sec=1)


def region_project(xy=(2, 1, 2, 30, 40), av=None, fname="class1_000021.jpg", z=()):
    project = procedure_project("class1", {})
    project["file"]["1"]["fname"] = fname
    project["metadata"]["1_Qm9yZWFs"] = {"vid": "1", "flg": 0, "z": list(z), "xy": list(xy),
                                         "av": {"2": "1"} if av is None else av}
    return project


@pytest.mark.parametrize("project, message", [
    (region_project(xy=(7, 1, 1, 5, 9, 9, 1)),
     "image class1_000021.jpg, metadata 1_Qm9yZWFs: a polygon region .*; person boxes must be rectangles"),
    (region_project(xy=(1, 10, 10)), "metadata 1_Qm9yZWFs: a point region"),
    (region_project(av={"2": "1,7"}),
     r"metadata 1_Qm9yZWFs: option id '7' is not an option of attribute 2 \(body; options 0, 1, 2, 3\)"),
    (region_project(av={"12": "0"}), "metadata 1_Qm9yZWFs: attribute id '12' is not in the project's attributes"),
    (region_project(fname="holiday.jpg"), r"view 1: file name 'holiday.jpg' does not map to a keyframe"),
    (region_project(fname="class1_000025.jpg"),
     r"view 1: file name 'class1_000025.jpg' does not map to a keyframe \(.*not the first frame of a second"),
    (region_project(z=(2.5,)), "metadata 1_Qm9yZWFs: a time .* video annotator"),
])
def test_bad_projects_name_file_and_metadata(frames, tmp_path, project, message):
    path = write(tmp_path / "bad.json", project)
    with pytest.raises(DataError, match=message) as err:
        via.read_via_labelled_boxes(path, via3.project_actions(path), frames, fps=FPS)
    assert err.value.path == str(path)


def test_cli_errors_are_one_line(frames, tmp_path):
    path = write(tmp_path / "bad.json", region_project(av={"2": "9"}))
    out = run_tool("import_via.py", path, "--data", frames.parent, "--fps", FPS)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"error: {path}: image class1_000021.jpg, metadata 1_Qm9yZWFs: option id '9' is not an option of attribute 2 "
        "(body; options 0, 1, 2, 3). Tick the action again in VIA, or add the option to the attribute"]



def test_cli_exports_via3_next_to_via2(frames, tmp_path):
    actions = tmp_path / "actions.txt"
    actions.write_text("walk\nstand\n")
    out = run_tool("export_via.py", "--data", frames.parent, "--actions", actions, "--format", "via3", "--no-tracks",
                   "--fps", FPS, "--margin-sec", "1")
    assert out.returncode == 0, out.stderr
    project = json.loads((frames.parent / "via3" / "via3_project.json").read_text())
    assert [f["fname"] for f in project["file"].values()][:2] == ["class1_000011.jpg", "class1_000021.jpg"]
    assert project["attribute"]["1"]["options"] == {"0": "walk", "1": "stand"} and project["metadata"] == {}
    assert not (frames.parent / "via").exists()  # VIA 2's folder is left alone


def test_via3_does_not_import_via():
    """via imports via3 for the files it reads; the other way round would be a cycle."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(via3))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {f"{node.module}.{a.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 for a in node.names}
    assert "slowfast_custom.labelling.via" not in imported
    assert "slowfast_custom.labelling.via" not in {a.name for node in ast.walk(tree)
                                                   if isinstance(node, ast.Import) for a in node.names}


# A two-attribute project as the procedure makes it: chang_via_json.py gives every region
# av = {'1': '', '2': '', '3': ''} whatever the attributes, and VIA 3 keeps the '3' on save.
TWO_ATTRIBUTES = {
    "1": {"aname": "pose", "type": 2, "options": {"0": "stand", "1": "sit", "2": "walk"},
          "default_option_id": "", "anchor_id": "FILE1_Z0_XY1", "desc": ""},
    "2": {"aname": "interaction", "type": 2, "options": {"0": "talk", "1": "hand over"},
          "default_option_id": "", "anchor_id": "FILE1_Z0_XY1", "desc": ""},
}


def procedure_rows(project, size):
    """The procedure's converter (json_extract.py): numbered options over the attributes, empty values skipped."""
    offsets, total = {}, 0
    for aid in sorted(project["attribute"], key=int):
        offsets[aid] = total
        total += len(project["attribute"][aid]["options"])
    rows = set()
    for entry in project["metadata"].values():
        video, second = parse_frame_image_name(project["file"][entry["vid"]]["fname"], FPS)
        _, x, y, w, h = entry["xy"]
        box = (round(x / size[0], 3), round(y / size[1], 3), round((x + w) / size[0], 3), round((y + h) / size[1], 3))
        for aid, value in entry["av"].items():
            if value == "":
                continue
            for oid in value.split(","):
                rows.add((video, second, box, offsets[aid] + int(oid) + 1))
    return rows


def test_two_attribute_procedure_project_imports_to_the_converters_rows(frames, tmp_path):
    project = procedure_project("class1", {
        1: [("image1_1", [2, 20, 10, 50, 60], {"1": "0,2", "2": "", "3": ""}),
            ("image1_2", [2, 100, 0, 100, 100], {"1": "", "2": "1", "3": ""})],
        3: [("image3_1", [2, 40, 20, 40, 40], {"1": "1", "2": "0", "3": ""}),
            ("image3_2", [2, 0, 50, 30, 50], {"1": "", "2": "", "3": ""})],  # nothing ticked
    })
    other = procedure_project("class2", {2: [("image2_1", [2, 0, 0, 200, 100], {"1": "", "2": "0,1", "3": ""})]})
    project["attribute"] = other["attribute"] = TWO_ATTRIBUTES
    paths = [write(tmp_path / "class1_finish.json", project), write(tmp_path / "class2_finish.json", other)]
    out = run_tool("import_via.py", *paths, "--data", frames.parent, "--val-videos", "class2", "--fps", FPS)
    assert out.returncode == 0, out.stderr
    assert "info: skipped 5 empty values of attributes the project does not have" in out.stdout
    assert "MODEL.NUM_CLASSES 5" in out.stdout
    rows = read_box_csv(frames.parent / "annotations" / "ava_train_v2.2.csv", "gt")
    assert {(r.video_id, r.second, r.box, r.action_id) for r in rows} == procedure_rows(project, SIZE)
    assert len({(r.second, r.person_id) for r in rows}) == 3  # one new id per labelled box
    rows = read_box_csv(frames.parent / "annotations" / "ava_val_v2.2.csv", "gt")
    assert {(r.video_id, r.second, r.box, r.action_id) for r in rows} == procedure_rows(other, SIZE)


def test_a_value_of_an_unknown_attribute_is_an_error_that_says_how_to_remove_it(frames, tmp_path):
    project = region_project(av={"2": "1", "5": "0"})
    path = write(tmp_path / "bad.json", project)
    out = run_tool("import_via.py", path, "--data", frames.parent, "--fps", FPS)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"error: {path}: image class1_000021.jpg, metadata 1_Qm9yZWFs: attribute id '5' is not in the project's "
        "attributes (1, 2, 3, 4) but holds '0'. VIA neither shows nor removes it: delete \"5\": \"0\" from the av of "
        "metadata 1_Qm9yZWFs with a text editor, or add the attribute back in the project"]
    del project["metadata"]["1_Qm9yZWFs"]["av"]["5"]  # the hint's edit is enough
    assert run_tool("import_via.py", write(path, project), "--data", frames.parent, "--fps", FPS).returncode == 0


def test_boxes_without_person_ids_keep_the_ids_of_the_tracks_they_match(frames, tmp_path):
    from slowfast_custom.ava.formats import BoxRow, write_tracks_csv

    data = frames.parent
    (data / "detections").mkdir()
    write_tracks_csv(data / "detections" / "tracks.csv", [
        BoxRow("class1", 1, (0.1, 0.1, 0.35, 0.7), None, 7, 0.9),
        BoxRow("class1", 1, (0.5, 0.0, 1.0, 1.0), None, 8, 0.8),
        BoxRow("class1", 2, (0.5, 0.0, 1.0, 1.0), None, 12, 0.8),
        BoxRow("class2", 1, (0.0, 0.0, 1.0, 1.0), None, 3, 0.8),
    ])
    project = procedure_project("class1", {1: [
        ("image1_1", [2, 20, 10, 50, 60], {"1": "1", "2": "", "3": ""}),  # the tracked box of person 7
        ("image1_2", [2, 110, 0, 90, 100], {"1": "2", "2": "", "3": ""}),  # person 8's, narrowed (IoU 0.9)
        ("image1_3", [2, 0, 50, 40, 50], {"1": "0", "2": "", "3": ""}),  # drawn by hand
    ]})
    other = procedure_project("class2", {1: [("image2_1", [2, 0, 0, 200, 100], {"1": "1", "2": "", "3": ""})]})
    project["attribute"] = other["attribute"] = TWO_ATTRIBUTES
    paths = [write(tmp_path / "class1_finish.json", project), write(tmp_path / "class2_finish.json", other)]
    out = run_tool("import_via.py", *paths, "--data", data, "--val-videos", "class2", "--fps", FPS)
    assert out.returncode == 0, out.stderr
    assert "3 without a person id matched to tracks (1 moved); 1 drawn by hand got new person ids" in out.stdout
    train = {(r.box, r.person_id) for r in read_box_csv(data / "annotations" / "ava_train_v2.2.csv", "gt")}
    assert train == {((0.1, 0.1, 0.35, 0.7), 7), ((0.55, 0.0, 1.0, 1.0), 8), ((0.0, 0.5, 0.2, 1.0), 13)}
    val = {r.person_id for r in read_box_csv(data / "annotations" / "ava_val_v2.2.csv", "gt")}
    assert val == {3}
    out = run_tool("import_via.py", *paths, "--data", data, "--val-videos", "class2", "--fps", FPS, "--no-tracks")
    assert "matched to tracks" not in out.stdout and "4 drawn by hand got new person ids" in out.stdout


VIA3_CSV = """# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)
# SHAPE_ID = {"POINT":1,"RECTANGLE":2,"CIRCLE":3,"ELLIPSE":4,"LINE":5,"POLYLINE":6,"POLYGON":7,"EXTREME_RECTANGLE":8,"EXTREME_CIRCLE":9}
# FLAG_ID = {"RESERVED_FOR_FUTURE":1}
# ATTRIBUTE = {"1":{"aname":"pose","anchor_id":"FILE1_Z0_XY1","type":2,"desc":"","options":{"0":"stand"},"default_option_id":""}}
# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,metadata
"1_j5sJvB9h","[""class1_000011.jpg""]",0,"[]","[2,20,10,50,60]","{""1"":""0""}"
"""


@pytest.mark.parametrize("actions", [True, False])
def test_via3_csv_export_is_named_with_the_file_to_import_instead(frames, tmp_path, actions):
    path = tmp_path / "via_export_csv.csv"
    path.write_text(VIA3_CSV)
    listed = tmp_path / "actions.txt"
    listed.write_text("stand\n")
    out = run_tool("import_via.py", path, "--data", frames.parent, *(["--actions", listed] if actions else []))
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"error: {path}:5: this is VIA 3's CSV export (Export annotations > VIA3 (CSV)), not a project. Import the "
        "project VIA 3 saves instead: the .json file of its Save button (disk icon)"]


def test_export_says_when_the_images_need_an_http_path(frames, tmp_path):
    actions = tmp_path / "actions.txt"
    actions.write_text("walk\n")
    args = ["--data", frames.parent, "--actions", actions, "--no-tracks", "--fps", FPS, "--margin-sec", "1"]
    out = run_tool("export_via.py", *args)
    assert out.returncode == 0 and "--image-path http://" in out.stdout
    out = run_tool("export_via.py", *args, "--image-path", "http://127.0.0.1:8000/images/", "--overwrite")
    assert out.returncode == 0 and "--image-path http://" not in out.stdout
