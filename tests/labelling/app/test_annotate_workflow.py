"""A project from the tracks file or from a VIA project, and its export through the shared AVA writer."""

import json

import pytest

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry, read_action_names, read_box_csv, write_tracks_csv
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.labelling.app.project import PROJECT_NAME, Project
from slowfast_custom.labelling.app.workflow import (
    SUGGESTIONS_NAME,
    TRACKS_NAME,
    export_ava,
    open_project,
    read_suggestions,
    smoothed_scores,
    top_actions,
    write_suggestions,
)
from slowfast_custom.labelling.ava_writer import SplitSpec
from slowfast_custom.labelling.via import PROJECT_FILE, export_via, import_via

from annotate_helpers import FPS, write_frames
from conftest import run_tool

TRACKS = [BoxRow("alpha", s, (0.1, 0.2, 0.3, 0.9), None, 7, 0.9) for s in range(1, 9)] + \
         [BoxRow("alpha", s, (0.5, 0.25, 0.625, 0.875), None, 8, 0.8) for s in range(3, 6)] + \
         [BoxRow("beta", s, (0.4, 0.1, 0.6, 0.8), None, 1, 0.7) for s in range(2, 5)]


def dataset(root, tracks=True):
    for video in ("alpha", "beta"):
        write_frames(root, video)
    (root / "actions.txt").write_text("stand\nwalk\ntalk\n")
    if tracks:
        write_tracks_csv(root / TRACKS_NAME, TRACKS)
    return root


def test_a_new_project_from_the_tracks_file_then_reopened(tmp_path):
    data = dataset(tmp_path)
    project = open_project(data, actions_file=data / "actions.txt", fps=FPS, margin_sec=1)
    assert project.videos == {"alpha": list(range(1, 10)), "beta": list(range(1, 10))}
    assert [(b.second, b.person, b.box) for b in project.track("alpha", 8)] == [
        (s, 8, (0.5, 0.25, 0.625, 0.875)) for s in (3, 4, 5)]
    assert [e.name for e in project.actions] == ["stand", "walk", "talk"]
    project.label("alpha", 7, 1, 8, [2])
    again = open_project(data, fps=FPS)
    assert again.revision == 1 and again.track("alpha", 7)[0].actions == (2,)
    with pytest.raises(UserError, match="exists and keeps its own boxes and actions, so --actions would be ignored"):
        open_project(data, actions_file=data / "actions.txt", fps=FPS)


def test_what_a_new_project_needs(tmp_path):
    data = dataset(tmp_path, tracks=False)
    with pytest.raises(UserError, match="give the action list with --actions FILE"):
        open_project(data, fps=FPS)
    with pytest.raises(DataError, match="detections/tracks.csv: tracks file not found. Detect and track"):
        open_project(data, actions_file=data / "actions.txt", fps=FPS)
    result = run_tool("annotate.py", data, "--actions", data / "actions.txt")
    assert result.returncode == 2 and "tracks file not found" in result.stderr
    result = run_tool("annotate.py", tmp_path / "nowhere")
    assert result.returncode == 2 and "dataset folder not found" in result.stderr


def test_every_network_is_refused(tmp_path):
    data = dataset(tmp_path)
    result = run_tool("annotate.py", data, "--actions", data / "actions.txt", "--fps", FPS, "--host", "0.0.0.0")
    assert result.returncode == 2 and "listens on every network" in result.stderr


def test_continue_a_via_project_and_export_what_the_via_import_writes(tmp_path):
    """The VIA import and the app's export go through one writer: a VIA project imported as such, and the
    same project continued in the app and exported, give the same files."""
    data = dataset(tmp_path / "via")
    actions = read_action_names(data / "actions.txt")
    export_via(data / "frames", TRACKS, actions, data / "via", fps=FPS, margin_sec=1)
    project = json.loads((data / "via" / PROJECT_FILE).read_text())
    for image in project["_via_img_metadata"].values():
        for region in image["regions"]:
            region["region_attributes"]["action"] = {"walk": True} if image["filename"].startswith("alpha") else {
                "stand": True, "talk": True}
    drawn = next(i for i in project["_via_img_metadata"].values() if i["filename"] == "alpha__000002.jpg")
    drawn["regions"].append({"shape_attributes": {"name": "rect", "x": 32, "y": 12, "width": 16, "height": 24},
                             "region_attributes": {"person_id": "", "action": {"stand": True}}})
    labelled = data / "via" / "labelled.json"
    labelled.write_text(json.dumps(project))

    split = {"val_videos": ["beta"]}
    import_via(labelled, data, actions, split=SplitSpec(**split), fps=FPS)
    app_data = dataset(tmp_path / "app", tracks=False)
    app = open_project(app_data, actions_file=app_data / "actions.txt", via_file=labelled, fps=FPS, margin_sec=1)
    assert [(b.person, b.source, b.box) for b in app.boxes.values() if b.person == 9] == [
        (9, "via", (0.5, 0.25, 0.75, 0.75))]  # drawn by hand in VIA: a new id after the video's largest
    result = export_ava(app, app_data, split)
    assert result["rows"] == {"train": 12, "val": 6} and result["unlabelled"] == 0
    for name in ("annotations/ava_train_v2.2.csv", "annotations/ava_val_v2.2.csv",
                 "annotations/ava_val_predicted_boxes.csv", "annotations/ava.json",
                 "annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt",
                 "frame_lists/train.csv", "frame_lists/val.csv"):
        assert (app_data / name).read_text() == (data / name).read_text(), name

    # Labelling goes on in the app from there.
    app.label("alpha", 9, 2, 2, [3])
    assert Project.load(app_data / PROJECT_NAME).track("alpha", 9)[0].actions == (3,)


def test_export_reports_unlabelled_boxes_and_bad_splits(tmp_path):
    data = dataset(tmp_path)
    project = open_project(data, actions_file=data / "actions.txt", fps=FPS, margin_sec=1)
    project.label("alpha", 7, 1, 8, [2])
    project.label("beta", 1, 2, 4, [1])
    result = export_ava(project, data, {"val_ratio": 0.5})
    assert result["videos"] == {"train": ["alpha"], "val": ["beta"]} or result["videos"] == {
        "train": ["beta"], "val": ["alpha"]}
    assert result["unlabelled"] == 3 and result["message"].endswith("3 boxes without actions left out")
    with pytest.raises(UserError, match="split lists name videos without labelled boxes: gamma"):
        export_ava(project, data, {"val_videos": ["gamma"]})


def test_export_splits_a_video_by_time(tmp_path):
    data = dataset(tmp_path)
    project = open_project(data, actions_file=data / "actions.txt", fps=FPS, margin_sec=1)
    project.label("alpha", 7, 1, 8, [2])
    project.label("beta", 1, 2, 4, [1])
    result = export_ava(project, data, {"val_ranges": [("alpha", (7, 8))]})
    assert result["videos"] == {"train": ["alpha", "beta"], "val": ["alpha"]}
    seconds = {split: {(r.video_id, r.second) for r in read_box_csv(data / f"annotations/ava_{split}_v2.2.csv", "gt")}
               for split in ("train", "val")}
    assert {s for v, s in seconds["val"]} == {7, 8} and all(v == "alpha" for v, _ in seconds["val"])
    assert max(s for v, s in seconds["train"] if v == "alpha") <= 4  # 5 and 6: the gap of 3 s (SlowFast 32x2)
    assert "left out, so that train and val clips share no frame: seconds alpha 5-6" in result["report"]


def test_suggested_actions_are_the_best_one_and_likely_others_but_one_pose():
    actions = [LabelMapEntry(1, "stand", "PERSON_MOVEMENT"), LabelMapEntry(2, "walk", "PERSON_MOVEMENT"),
               LabelMapEntry(3, "talk", "PERSON_INTERACTION"), LabelMapEntry(5, "carry", None)]
    assert top_actions([0.1, 0.3, 0.2, 0.05], actions) == (2,)  # the best, however low
    assert top_actions([0.9, 0.8, 0.6, 0.4], actions) == (1, 3)  # walk is a second pose; carry is below 0.5
    assert top_actions([0.2, 0.1, 0.7, 0.9], actions) == (3, 5)
    assert top_actions([0.2, 0.1, 0.7, 0.9], actions, threshold=0.8) == (5,)


def test_suggestions_file_round_trip_and_damage(tmp_path):
    assert read_suggestions(tmp_path) == {}
    write_suggestions(tmp_path, "model.pyth", {3: (2,), 10: (1, 3)})
    assert read_suggestions(tmp_path) == {3: (2,), 10: (1, 3)}
    (tmp_path / SUGGESTIONS_NAME).write_text('{"format": "other"}')
    with pytest.raises(DataError, match="malformed suggestions file"):
        read_suggestions(tmp_path)


def test_scores_are_smoothed_along_the_track_only(tmp_path):
    root = dataset(tmp_path)
    project = open_project(root, actions_file=root / "actions.txt", fps=FPS)
    uid = {(b.video, b.person, b.second): b.uid for b in project.boxes.values()}
    scores = {uid[("alpha", 7, s)]: [0.0, 1.0, 0.0] for s in range(1, 9)}
    scores[uid[("alpha", 7, 4)]] = [1.0, 0.0, 0.0]  # one noisy keyframe among walking ones
    scores[uid[("alpha", 8, 4)]] = [0.0, 0.0, 0.9]  # another person, at the same second
    smoothed = smoothed_scores(project, scores, window_sec=2)
    assert smoothed[uid[("alpha", 7, 4)]] == [0.2, 0.8, 0.0]  # seconds 2-6
    assert smoothed[uid[("alpha", 7, 1)]] == [0.0, 1.0, 0.0]  # seconds 1-3
    assert smoothed[uid[("alpha", 8, 4)]] == [0.0, 0.0, 0.9] and uid[("alpha", 8, 3)] not in smoothed
    assert smoothed_scores(project, scores, window_sec=0) == scores


def test_videos_shorter_than_the_margins_are_left_out_with_a_reason(tmp_path, caplog):
    data = dataset(tmp_path)
    short = data / "frames" / "short"
    short.mkdir()
    for number in range(1, 2 * FPS + 2):  # 2.5 s of frames: under 2 x 2 s of margin
        (short / f"short_{number:06d}.jpg").write_bytes((data / "frames" / "alpha" / "alpha_000001.jpg").read_bytes())
    with caplog.at_level("WARNING"):
        project = open_project(data, actions_file=data / "actions.txt", fps=FPS, margin_sec=2)
    assert "short" not in project.videos and set(project.videos) == {"alpha", "beta"}
    assert "video short: 2.5 s of frames is too short to label, it needs at least 4 s" in caplog.text


def test_a_dataset_of_only_short_videos_is_one_line(tmp_path):
    data = dataset(tmp_path)
    # (before the fix the app started with nothing to label and waited for a browser: the timeout fails it)
    result = run_tool("annotate.py", data, "--actions", data / "actions.txt", "--margin", "6", timeout=120)
    assert result.returncode == 2 and not (data / PROJECT_NAME).exists()
    assert "no video is long enough to label: each needs at least 12 s" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_plain_action_list_marks_exclusive_poses_and_the_export_keeps_the_types(tmp_path):
    data = dataset(tmp_path)
    (data / "actions.txt").write_text("[PERSON_MOVEMENT]\nstand\nwalk\n[]\ntalk\n")
    project = open_project(data, actions_file=data / "actions.txt", fps=FPS, margin_sec=1)
    assert [a["type"] for a in project.state()["actions"] if "type" in a] == ["PERSON_MOVEMENT"] * 2
    # stand and walk both score high on one box: the two poses exclude each other, talk goes with either
    assert top_actions([0.9, 0.8, 0.7], project.actions) == (1, 3)
    project.label("alpha", 7, 1, 8, [2, 3])
    project.label("beta", 1, 2, 4, [1])
    export_ava(project, data, {"val_videos": ["beta"]})
    label_map = read_action_names(data / "annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt")
    assert [(e.name, e.label_type) for e in label_map] == [
        ("stand", "PERSON_MOVEMENT"), ("walk", "PERSON_MOVEMENT"), ("talk", None)]
