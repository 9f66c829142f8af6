"""VIA 2 round trip: the exported project checked field by field against via.js 2.0.x, then labelled and read back."""

import json
import random

import pytest

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry, read_box_csv
from slowfast_custom.ava.naming import parse_keyframe_image_name
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.labelling import via
from slowfast_custom.labelling.ava_writer import SplitSpec
from slowfast_custom.labelling.images import image_sizes_from_frames

from rendered_frames import write_video_frames

ACTIONS = [LabelMapEntry(1, "walk"), LabelMapEntry(2, "talk to (e.g., self, a person, a group)"),
           LabelMapEntry(3, "carry/hold (an object)")]
SIZE = (161, 97)  # odd sizes: pixel coordinates are not round numbers


def random_tracks(videos, seconds, seed=0):
    rng = random.Random(seed)
    rows = []
    for video in videos:
        for second in seconds:
            for person in range(1, rng.randint(1, 3) + 1):
                x1, y1 = rng.randint(0, 600) / 1000, rng.randint(0, 500) / 1000
                x2, y2 = round(x1 + rng.randint(5, 399) / 1000, 3), round(y1 + rng.randint(5, 499) / 1000, 3)
                rows.append(BoxRow(video, second, (x1, y1, x2, y2), None, person + 10 * second, rng.random()))
    return rows


@pytest.fixture
def exported(tmp_path):
    frames = tmp_path / "data" / "frames"
    for video in ("va", "vb"):
        write_video_frames(frames, video, seconds=6, fps=10, size=SIZE)
    tracks = random_tracks(["va", "vb"], [2, 3])  # seconds 1, 4 and 5 are keyframes without anybody
    summary = via.export_via(frames, tracks, ACTIONS, tmp_path / "data" / "via", fps=10, margin_sec=1)
    return frames, tracks, summary


def test_project_matches_via2_saved_project_format(exported):
    frames, tracks, summary = exported
    project = json.loads(summary.project.read_text())
    # project_save_confirmed(): the five keys of a VIA 2.0.10+ project.
    assert list(project) == ["_via_settings", "_via_img_metadata", "_via_attributes", "_via_data_format_version",
                             "_via_image_id_list"]
    assert project["_via_data_format_version"] == "2.0.10"
    # _via_settings as _via_init() builds it; project_import_settings() copies up to 3 levels deep.
    settings = project["_via_settings"]
    assert set(settings) == {"ui", "core", "project"}
    assert set(settings["ui"]) == {"annotation_editor_height", "annotation_editor_fontsize", "leftsidebar_width",
                                   "image_grid", "image"}
    assert set(settings["ui"]["image_grid"]) == {"img_height", "rshape_fill", "rshape_fill_opacity", "rshape_stroke",
                                                 "rshape_stroke_width", "show_region_shape", "show_image_policy"}
    assert set(settings["ui"]["image"]) == {"region_label", "region_color", "region_label_font",
                                            "on_image_annotation_editor_placement"}
    assert settings["ui"]["image"]["region_label"] == "person_id"
    image_dir = summary.project.parent / "images"
    assert settings["core"]["default_filepath"] == str(image_dir.resolve()) + "/"
    assert settings["core"]["filepath"] == {str(image_dir.resolve()) + "/": 1}
    assert isinstance(settings["core"]["buffer_size"], int) and settings["project"]["name"]
    # _via_attributes: {region, file}; text has default_value, checkbox has options and default_options.
    attributes = project["_via_attributes"]
    assert attributes["file"] == {} and list(attributes["region"]) == ["person_id", "action"]
    person = attributes["region"]["person_id"]
    assert person["type"] == "text" and person["default_value"] == "" and isinstance(person["description"], str)
    action = attributes["region"]["action"]
    assert action["type"] == "checkbox" and action["default_options"] == {}
    assert list(action["options"]) == [a.name for a in ACTIONS]
    # _via_img_metadata: id = filename + size; every image one keyframe; _via_image_id_list its order.
    metadata = project["_via_img_metadata"]
    assert project["_via_image_id_list"] == list(metadata)
    names = [m["filename"] for m in metadata.values()]
    assert [parse_keyframe_image_name(n) for n in names] == [(v, s) for v in ("va", "vb") for s in (1, 2, 3, 4, 5)]
    assert summary.images == 10 and summary.regions == len(tracks)
    for image_id, entry in metadata.items():
        assert set(entry) == {"filename", "size", "regions", "file_attributes"}
        assert image_id == entry["filename"] + str(entry["size"])
        assert entry["size"] == (image_dir / entry["filename"]).stat().st_size
        assert entry["file_attributes"] == {}
        video, second = parse_keyframe_image_name(entry["filename"])
        expected = [r for r in tracks if (r.video_id, r.second) == (video, second)]
        assert len(entry["regions"]) == len(expected)  # one rectangle per tracked person
        for region in entry["regions"]:
            assert set(region) == {"shape_attributes", "region_attributes"}
            shape = region["shape_attributes"]
            assert list(shape) == ["name", "x", "y", "width", "height"] and shape["name"] == "rect"
            assert all(isinstance(shape[k], (int, float)) and shape[k] >= 0 for k in ("x", "y", "width", "height"))
            assert all(round(shape[k], 3) == shape[k] for k in ("x", "y", "width", "height"))  # VIA's precision
            assert region["region_attributes"]["action"] == {}  # nothing pre-ticked
            assert region["region_attributes"]["person_id"].isdigit()


def test_keyframe_image_is_the_frame_of_that_second(exported):
    frames, _, summary = exported
    image = summary.project.parent / "images" / "vb__000003.jpg"
    assert image.read_bytes() == (frames / "vb" / "vb_000031.jpg").read_bytes()


def label(project, choose):
    """A scripted labeller: tick ``choose(index)`` for every region, in order."""
    index = 0
    for entry in project["_via_img_metadata"].values():
        for region in entry["regions"]:
            region["region_attributes"]["action"] = {name: True for name in choose(index)}
            index += 1
    return project


def via_csv(metadata):
    """VIA's "Export Annotations (as csv)" (pack_via_metadata('csv') in via.js)."""
    def map_to_json(m):
        return "{" + ",".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) for k, v in m.items()) + "}"

    def quoted(m):
        return '"' + map_to_json(m).replace('"', '""') + '"'

    lines = ["filename,file_size,file_attributes,region_count,region_id,region_shape_attributes,region_attributes"]
    for entry in metadata.values():
        prefix = f"{entry['filename']},{entry['size']},{quoted(entry['file_attributes'])}"
        if not entry["regions"]:
            lines.append(prefix + ',0,0,"{}","{}"')
        for i, region in enumerate(entry["regions"]):
            lines.append(f"{prefix},{len(entry['regions'])},{i},{quoted(region['shape_attributes'])},"
                         f"{quoted(region['region_attributes'])}")
    return "\n".join(lines)


@pytest.mark.parametrize("form", ["project", "annotations_json", "annotations_csv"])
def test_round_trip_keeps_every_box_and_id(exported, tmp_path, form):
    frames, tracks, summary = exported
    names = [a.name for a in ACTIONS]
    project = label(json.loads(summary.project.read_text()), lambda i: names[i % 3: i % 3 + 1 + i % 2])
    path = tmp_path / f"labelled.{'csv' if form.endswith('csv') else 'json'}"
    if form == "project":
        path.write_text(json.dumps(project))
    elif form == "annotations_json":
        path.write_text(json.dumps(project["_via_img_metadata"]))
    else:
        path.write_text(via_csv(project["_via_img_metadata"]))
    images, regions = via.read_via_regions(path)
    boxes, stats = via.labelled_boxes_from_via(images, regions, ACTIONS, image_sizes_from_frames(frames, ["va", "vb"]))
    assert stats.images == 10 and stats.regions == len(tracks) and stats.new_person_ids == 0 and stats.unlabelled == 0
    got = sorted((b.video_id, b.second, b.person_id, b.box) for b in boxes)
    assert got == sorted((r.video_id, r.second, r.person_id, r.box) for r in tracks)


def test_import_writes_the_dataset_through_the_writer(exported, tmp_path):
    frames, tracks, summary = exported
    project = label(json.loads(summary.project.read_text()), lambda i: ["walk"] if i % 4 else [])
    # A hair (<= 1 %) past the left and bottom borders: clipped (further out is an error, tested below).
    region = {"shape_attributes": {"name": "rect", "x": -1.0, "y": 10.0, "width": 40.5, "height": 87.5},
              "region_attributes": {"person_id": "", "action": {"carry/hold (an object)": True, "walk": False}}}
    first = project["_via_image_id_list"][0]
    project["_via_img_metadata"][first]["regions"].append(region)  # drawn by hand, runs off the image
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(project))
    before = path.read_bytes()
    data = frames.parent
    result, stats = via.import_via(path, data, ACTIONS, split=SplitSpec(val_videos=["vb"]), fps=10)
    assert path.read_bytes() == before  # inputs are never modified
    assert stats.new_person_ids == 1 and stats.unlabelled == result.unlabelled == (len(tracks) + 3) // 4
    gt = read_box_csv(data / "annotations" / "ava_train_v2.2.csv", "gt")
    hand = [r for r in gt if r.action_id == 3]
    va_ids = {r.person_id for r in tracks if r.video_id == "va"}
    assert len(hand) == 1 and hand[0].person_id == max(va_ids) + 1  # a new id after the tracker's
    assert hand[0].box == (0.0, round(10 / 97, 3), round(39.5 / 161, 3), 1.0)  # normalised and clipped
    assert {r.video_id for r in gt} == {"va"}
    assert {r.video_id for r in read_box_csv(data / "annotations" / "ava_val_v2.2.csv", "gt")} == {"vb"}


def regions_with(attributes=None, shape=None, filename="va__000002.jpg"):
    region = {"shape_attributes": shape or {"name": "rect", "x": 1, "y": 2, "width": 30, "height": 40},
              "region_attributes": {"person_id": "1", "action": {"walk": True}} if attributes is None else attributes}
    return {filename + "10": {"filename": filename, "size": 10, "regions": [region], "file_attributes": {}}}


@pytest.mark.parametrize("metadata, message", [
    (regions_with({"person_id": "1", "action": {"dance": True}}),
     "image va__000002.jpg, region 1: action 'dance' is not in the action list"),
    (regions_with(shape={"name": "polygon", "all_points_x": [1, 5, 9], "all_points_y": [1, 9, 1]}),
     "image va__000002.jpg, region 1: a polygon region; person boxes must be rectangles"),
    (regions_with({"person_id": "7b", "action": {}}), "region 1: person id '7b' is not a whole number"),
    (regions_with({"person_id": "1", "action": ["walk"]}), "region 1: the 'action' attribute holds"),
    (regions_with(shape={"name": "rect", "x": 500, "y": 2, "width": 30, "height": 40}),
     "region 1: the rectangle \\(500, 2, 30 x 40 px\\) reaches beyond the 161x97 image by more than 1%"),
    (regions_with(shape={"name": "rect", "x": -400, "y": 2, "width": 966, "height": 40}),  # 6x the image width
     "region 1: the rectangle \\(-400, 2, 966 x 40 px\\) reaches beyond the 161x97 image"),
    (regions_with(shape={"name": "rect", "x": 161.5, "y": 2, "width": 1, "height": 40}),  # within 1 %, but empty
     "region 1: the rectangle lies outside the 161x97 image"),
    (regions_with(shape={"name": "rect", "x": 5, "y": 2, "width": 0, "height": 40}), "rectangle of size 0 x 40"),
    (regions_with(filename="holiday.jpg"), "holiday.jpg: image name does not tell its video and second"),
    (regions_with(filename="vz__000002.jpg"), "video vz has no frames in the frames folder"),
])
def test_bad_regions_name_image_and_region(exported, tmp_path, metadata, message):
    frames = exported[0]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(metadata))
    images, regions = via.read_via_regions(path)
    with pytest.raises(DataError, match=message) as err:
        via.labelled_boxes_from_via(images, regions, ACTIONS, image_sizes_from_frames(frames, ["va", "vb"]))
    assert err.value.path in (str(path), "holiday.jpg", "vz__000002.jpg")


def test_unreadable_via_files(tmp_path):
    bad_json = tmp_path / "a.json"
    bad_json.write_text('{"_via_img_metadata": {')
    with pytest.raises(DataError, match="a.json:1: not valid JSON"):
        via.read_via_regions(bad_json)
    via3 = tmp_path / "via3.json"
    via3.write_text(json.dumps({"project": {}, "config": {}, "attribute": {}, "file": {}, "view": {}, "metadata": {}}))
    with pytest.raises(DataError, match="this is a VIA 3 project"):
        via.read_via_regions(via3)
    bad_csv = tmp_path / "b.csv"
    bad_csv.write_text("image,x,y\n")
    with pytest.raises(DataError, match="b.csv:1: not a VIA annotation CSV"):
        via.read_via_regions(bad_csv)
    with pytest.raises(DataError, match="VIA file not found"):
        via.read_via_regions(tmp_path / "missing.json")


def test_action_names_that_break_via_are_refused():
    with pytest.raises(UserError, match="'a__b'.*contains '__'"):
        via.via_attributes([LabelMapEntry(1, "a__b")])


def test_export_without_tracks_has_empty_keyframes(tmp_path):
    frames = tmp_path / "frames"
    write_video_frames(frames, "solo", seconds=5, fps=10)
    summary = via.export_via(frames, [], ACTIONS, tmp_path / "via", fps=10, margin_sec=2)
    metadata = json.loads(summary.project.read_text())["_via_img_metadata"]
    assert [m["filename"] for m in metadata.values()] == ["solo__000002.jpg", "solo__000003.jpg"]
    assert all(m["regions"] == [] for m in metadata.values())
    with pytest.raises(UserError, match="tracks name videos without frames.*ghost"):
        via.export_via(frames, [BoxRow("ghost", 2, (0.1, 0.1, 0.2, 0.2), None, 1, 0.9)], ACTIONS, tmp_path / "v2")


def test_csv_errors_name_the_line(exported, tmp_path):
    frames = exported[0]
    metadata = regions_with({"person_id": "1", "action": {"dance": True}})
    path = tmp_path / "bad.csv"
    path.write_text(via_csv(metadata))
    images, regions = via.read_via_regions(path)
    with pytest.raises(DataError) as err:
        via.labelled_boxes_from_via(images, regions, ACTIONS, image_sizes_from_frames(frames, ["va"]))
    assert str(err.value).startswith(f"{path}:2: image va__000002.jpg, region 1: action 'dance' is not in the action")


def test_export_keeps_a_labelled_project(exported):
    frames, tracks, summary = exported
    again = via.export_via(frames, tracks, ACTIONS, summary.project.parent, fps=10, margin_sec=1)  # unlabelled: fine
    assert again.images == summary.images
    project = label(json.loads(summary.project.read_text()), lambda i: ["walk"])
    summary.project.write_text(json.dumps(project))
    with pytest.raises(UserError, match="already holds ticked actions"):
        via.export_via(frames, tracks, ACTIONS, summary.project.parent, fps=10, margin_sec=1)
    via.export_via(frames, tracks, ACTIONS, summary.project.parent, fps=10, margin_sec=1, overwrite=True)


@pytest.fixture
def one_long_video(tmp_path):
    """A video of 20 s at 10 fps labelled at seconds 2-18 (walk on every box), imported with seconds 14-18 for
    val through the command line."""
    frames = tmp_path / "data" / "frames"
    write_video_frames(frames, "long", seconds=20, fps=10, size=SIZE)
    tracks = random_tracks(["long"], range(2, 19))
    summary = via.export_via(frames, tracks, ACTIONS, tmp_path / "data" / "via", fps=10, margin_sec=2)
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(label(json.loads(summary.project.read_text()), lambda i: ["walk"])))
    actions = tmp_path / "actions.txt"
    actions.write_text("".join(a.name + "\n" for a in ACTIONS))
    return frames.parent, tracks, [str(path), "--data", str(frames.parent), "--actions", str(actions), "--fps", "10",
                                   "--no-tracks"]


def check_spec(data):
    from slowfast_custom.check.dataset import CheckSpec, SplitFiles

    ann = data / "annotations"
    return CheckSpec(frame_dir=data / "frames", label_map=ann / "ava_action_list_v2.2_for_activitynet_2019.pbtxt",
                     splits={"train": SplitFiles([data / "frame_lists/train.csv"], [ann / "ava_train_v2.2.csv"], []),
                             "val": SplitFiles([data / "frame_lists/val.csv"], [ann / "ava_val_v2.2.csv"],
                                               [ann / "ava_val_predicted_boxes.csv"])},
                     fps=10.0, clip_frames=32, clip_step=2 * 10 / 30)  # SlowFast 32x2 on frames at 10 fps


def training_overlap_check(data):
    """What training runs before validating: the val index against the train box file."""
    from slowfast_custom.ava.timing import split_distance_sec
    from slowfast_custom.data.compact_index import load_compact_index
    from slowfast_custom.data.keyframes import KeyframeSpec, check_split_overlap

    ann = data / "annotations"
    spec = KeyframeSpec(frame_dir=data / "frames", frame_lists=[data / "frame_lists/val.csv"],
                        gt_box_files=[ann / "ava_val_v2.2.csv"], fps=10.0)
    check_split_overlap(load_compact_index(spec, use_cache=False), spec.gt_box_files, [ann / "ava_train_v2.2.csv"],
                        split_distance_sec(32, 2, 30))


def test_val_range_splits_one_video_by_time(one_long_video, capsys):
    from slowfast_custom.check.dataset import check_dataset
    from slowfast_custom.commands import import_via

    data, tracks, args = one_long_video
    assert import_via.main([*args, "--val-range", "long:14-18"]) == 0
    ann = data / "annotations"
    seconds = {split: sorted({r.second for r in read_box_csv(ann / f"ava_{split}_v2.2.csv", "gt")})
               for split in ("train", "val")}
    # SlowFast 32x2 spans 2.13 s: train and val seconds at least 3 s apart, so 12 and 13 are left out.
    assert seconds == {"train": list(range(2, 12)), "val": list(range(14, 19))}
    assert sorted({r.second for r in read_box_csv(ann / "ava_val_predicted_boxes.csv", "predicted")}) == seconds["val"]
    for split in ("train", "val"):  # the video is in both frame lists, with all its frames
        lines = (data / "frame_lists" / f"{split}.csv").read_text().splitlines()[1:]
        assert len(lines) == 200 and all(line.startswith("long ") for line in lines)
    gap = sum(1 for r in tracks if r.second in (12, 13))
    out = capsys.readouterr().out
    assert f"{gap} boxes less than the clip's span from a val range were left out" in out
    assert "seconds long 12-13" in out
    report = check_dataset(check_spec(data))
    assert not report.errors, report.text()
    training_overlap_check(data)  # no error


def test_same_second_in_both_splits_is_refused_naming_video_and_seconds(one_long_video):
    from slowfast_custom.check.dataset import check_dataset
    from slowfast_custom.commands import import_via

    data, _, args = one_long_video
    assert import_via.main([*args, "--val-range", "long:14-18"]) == 0
    train_gt = data / "annotations" / "ava_train_v2.2.csv"
    with open(train_gt, "a") as f:  # second 15 is labelled for val too
        f.write("long,15,0.1,0.1,0.5,0.5,1,99\n")
    line = len(train_gt.read_text().splitlines())
    message = ("video long is labelled in the train split at seconds 15 and in the val split at seconds 14-17, "
               "less than 3 s apart")
    errors = [p for p in check_dataset(check_spec(data)).errors if p.kind == "split overlap"]
    assert len(errors) == 1 and message in errors[0].message
    assert (errors[0].path, errors[0].line) == (str(train_gt), line)
    with pytest.raises(DataError, match=f"{train_gt}:{line}: {message}") as err:
        training_overlap_check(data)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("extra, message", [
    (["--val-range", "nope:3-5"], "--val-range names videos without labelled boxes: nope"),
    (["--val-range", "long:3-5", "--val-videos", "long"], "videos long have val ranges and are also listed"),
])
def test_bad_val_ranges_are_refused(one_long_video, extra, message):
    from slowfast_custom.commands import import_via

    data, _, args = one_long_video
    with pytest.raises(UserError, match=message):
        import_via.main([*args, *extra])


@pytest.mark.parametrize("text", ["long", "long:5", "long:9-4", "long:a-b", ":3-4"])
def test_val_range_option_form(one_long_video, text, capsys):
    from slowfast_custom.commands import import_via

    _, _, args = one_long_video
    if text == "long:5":  # one second is a range too
        assert import_via.main([*args, "--val-range", text]) == 0
        return
    with pytest.raises(SystemExit):
        import_via.main([*args, "--val-range", text])
    assert "--val-range" in capsys.readouterr().err


def test_a_video_all_in_val_ranges_is_not_listed_for_train(one_long_video):
    from slowfast_custom.commands import import_via

    data, _, args = one_long_video
    assert import_via.main([*args, "--val-range", "long:2-18"]) == 0
    assert (data / "frame_lists" / "train.csv").read_text().splitlines()[1:] == []
    assert len((data / "frame_lists" / "val.csv").read_text().splitlines()[1:]) == 200
