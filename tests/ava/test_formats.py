"""Readers and writers of the AVA file formats, with fixtures written on the fly."""

import json

import pytest

from slowfast_custom.ava import formats as af
from slowfast_custom.errors import DataError

from conftest import shared_file


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_label_map_item_form(tmp_path):
    path = write(tmp_path / "a.pbtxt", 'item {\n  name: "bend/bow (at the waist)"\n  id: 1\n}\n'
                 'item {\n  name: "crouch/kneel"\n  id: 3\n}\n')
    assert af.label_names(af.read_label_map(path)) == {1: "bend/bow (at the waist)", 3: "crouch/kneel"}


def test_label_map_label_form_with_types(tmp_path):
    path = write(tmp_path / "b.pbtxt",
                 'label {\n  name: "bend/bow (at the waist)"\n  label_id: 1\n  label_type: PERSON_MOVEMENT\n}\n'
                 'label {\n  name: "answer phone"\n  label_id: 2\n  label_type: OBJECT_MANIPULATION\n}\n')
    entries = af.read_label_map(path)
    assert [(e.id, e.name, e.label_type) for e in entries] == [
        (1, "bend/bow (at the waist)", "PERSON_MOVEMENT"), (2, "answer phone", "OBJECT_MANIPULATION")]


def test_label_map_compact_one_line_form(tmp_path):
    path = write(tmp_path / "c.pbtxt", 'item { name: "a" id: 2 } item { name: "b \\"quoted\\"" id: 1 }')
    assert af.label_names(af.read_label_map(path)) == {1: 'b "quoted"', 2: "a"}


def test_real_ava_label_map():
    entries = af.read_label_map(shared_file("fixtures", "ava_action_list_v2.1_for_activitynet_2018.pbtxt"))
    assert len(entries) == 60 and entries[0].name == "bend/bow (at the waist)"


@pytest.mark.parametrize("text, message, line", [
    ('item {\n  name: "a"\n}\n', "without both name and id", 1),
    ('item {\n  name: "a"\n  id: 1\n}\nitem {\n  name: "b"\n  id: 1\n}\n', "used twice", None),
    ('item {\n  name: "a"\n  id: one\n}\n', "not an integer", 1),
    ('item {\n  name: "a"\n  id: 1\n', "unterminated", 1),
    ('thing {\n  name: "a"\n}\n', "unexpected block", 1),
    ("", "no labels", None),
])
def test_label_map_errors(tmp_path, text, message, line):
    path = write(tmp_path / "bad.pbtxt", text)
    with pytest.raises(DataError, match=message) as err:
        af.read_label_map(path)
    assert err.value.line == line and err.value.path == str(path)


def test_box_csv_round_trip_gt_and_predicted(tmp_path):
    gt = [af.BoxRow("-5KQ66BBWC4", 902, (0.077, 0.151, 0.283, 0.811), 80, 1),
          af.BoxRow("-5KQ66BBWC4", 902, (0.077, 0.151, 0.283, 0.811), 12, 1)]
    af.write_box_csv(tmp_path / "gt.csv", gt, "gt")
    assert (tmp_path / "gt.csv").read_text().splitlines()[0] == "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1"
    assert af.read_box_csv(tmp_path / "gt.csv", "gt") == gt
    pred = [af.BoxRow("v", 3, (0.1, 0.2, 0.3, 0.4), None, score=0.93), af.BoxRow("v", 3, (0.1, 0.2, 0.3, 0.4), 5,
                      score=0.5)]
    af.write_box_csv(tmp_path / "pred.csv", pred, "predicted")
    assert af.read_box_csv(tmp_path / "pred.csv", "predicted") == pred


@pytest.mark.parametrize("row, kind, message", [
    ("v,1,0.1,0.2,0.3", "gt", "7 or 8 columns"),
    ("v,1,0.1,0.2,0.3,0.4,1", "predicted", "need 8 columns"),
    ("v,x,0.1,0.2,0.3,0.4,1,1", "gt", "second 'x' is not an integer"),
    ("v,1,0.1,0.2,1.3,0.4,1,1", "gt", "outside \\[0, 1\\]"),
    ("v,1,0.3,0.2,0.1,0.4,1,1", "gt", "empty or inverted"),
    ("v,1,0.1,0.2,0.3,0.4,0,1", "gt", "start at 1"),
    ("v,1,0.1,0.2,0.3,0.4,,1", "gt", "empty action_id"),
    ("v,1,0.1,0.2,0.3,nan,1,1", "gt", "not finite"),
    ("v,1,0.1,0.2,0.3,0.4,-1,1", "gt", "only predicted-box files hold"),  # -1 is a negative, not ground truth
    ("v,1,0.1,0.2,0.3,0.4,-2,0.9", "predicted", "action_id -2 < 1"),
    ("v,1,0.1,0.2,0.3,0.4,,1.5", "predicted", "score 1.5 is outside \\[0, 1\\]"),
    ("v,1,0.1,0.2,0.3,0.4,3,7", "predicted", "belongs in AVA.TRAIN_GT_BOX_LISTS"),  # a person id read as a score
    ("v,1,0.1,0.2,1.004,0.4,1,1", "gt", "within 0.01 of the frame's edge: tools/check_dataset.py DIR --fix"),
])
def test_box_csv_errors_name_file_and_line(tmp_path, row, kind, message):
    path = write(tmp_path / "boxes.csv", "v,1,0.1,0.2,0.3,0.4,1,1\n" + row + "\n")
    with pytest.raises(DataError, match=message) as err:
        af.read_box_csv(path, kind)
    assert err.value.line == 2
    assert str(err.value).startswith(f"{path}:2: ")


def test_frame_list_round_trip_and_errors(tmp_path):
    videos = {"-5KQ66BBWC4": ["-5KQ66BBWC4/-5KQ66BBWC4_000001.jpg", "-5KQ66BBWC4/-5KQ66BBWC4_000002.jpg"],
              "b": ["b/b_000001.jpg"]}
    af.write_frame_list(tmp_path / "train.csv", videos)
    text = (tmp_path / "train.csv").read_text().splitlines()
    assert text[0] == af.FRAME_LIST_HEADER and text[3] == 'b 1 0 b/b_000001.jpg ""'
    assert af.read_frame_list(tmp_path / "train.csv") == videos

    commas = write(tmp_path / "commas.csv", af.FRAME_LIST_HEADER + "\nv,0,0,v/v_000001.jpg,\n")
    with pytest.raises(DataError, match="separated by single spaces, this row has commas") as err:
        af.read_frame_list(commas)
    assert err.value.line == 2
    unsorted = write(tmp_path / "unsorted.csv", af.FRAME_LIST_HEADER + '\nv 0 1 a.jpg ""\nv 0 0 b.jpg ""\n')
    with pytest.raises(DataError, match="not sorted"):
        af.read_frame_list(unsorted)
    four = write(tmp_path / "four.csv", af.FRAME_LIST_HEADER + "\nv 0 0 a.jpg\n")
    with pytest.raises(DataError, match="expected 5 columns"):
        af.read_frame_list(four)
    with pytest.raises(DataError, match="frame list not found"):
        af.read_frame_list(tmp_path / "missing.csv")


def test_exclusions_and_class_names(tmp_path):
    af.write_exclusions(tmp_path / "ex.csv", [("v", 905), ("a", 1)])
    assert af.read_exclusions(tmp_path / "ex.csv") == {("v", 905), ("a", 1)}
    entries = [af.LabelMapEntry(1, "stand"), af.LabelMapEntry(2, "walk")]
    af.write_class_names_json(tmp_path / "ava.json", entries)
    assert json.loads((tmp_path / "ava.json").read_text()) == {"stand": 0, "walk": 1}
    assert af.read_class_names_json(tmp_path / "ava.json") == ["stand", "walk"]
    with pytest.raises(DataError, match="without gaps"):
        af.write_class_names_json(tmp_path / "gap.json", [af.LabelMapEntry(1, "a"), af.LabelMapEntry(3, "c")])
    write(tmp_path / "gaps.json", '{"a": 0, "c": 2}')
    with pytest.raises(DataError, match="missing \\[1\\]"):
        af.read_class_names_json(tmp_path / "gaps.json")
    write(tmp_path / "broken.json", '{"a": 0,\n')
    with pytest.raises(DataError, match="not valid JSON"):
        af.read_class_names_json(tmp_path / "broken.json")


def test_action_names_from_text(tmp_path):
    path = write(tmp_path / "actions.txt", "# my actions\nstand\nwalk\n\n")
    assert [(e.id, e.name) for e in af.read_action_names(path)] == [(1, "stand"), (2, "walk")]
    dup = write(tmp_path / "dup.txt", "a\na\n")
    with pytest.raises(DataError, match="listed twice") as err:
        af.read_action_names(dup)
    assert err.value.line == 2


def test_predicted_negatives_as_ava_writes_them(tmp_path):
    """AVA's include_negative files write -1, its val detections an empty action: both are "no action"."""
    path = write(tmp_path / "det.csv", "-5KQ66BBWC4,0902,0.003,0.125,0.119,0.837,-1,0.742486\r\n"
                                       "-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,0.996\r\n"
                                       "1j20qq1JyX4,0902,0.002,0.118,0.714,0.977,,0.935065\r\n")
    rows = af.read_box_csv(path, "predicted")
    assert [(r.video_id, r.second, r.action_id, r.score) for r in rows] == [
        ("-5KQ66BBWC4", 902, None, 0.742486), ("-5KQ66BBWC4", 902, 80, 0.996), ("1j20qq1JyX4", 902, None, 0.935065)]


def test_clip_to_frame_repairs_only_a_hair_outside():
    assert af.clip_to_frame("v,0001,0.100,0.200,1.004,0.900,3,0") == "v,0001,0.100,0.200,1.000,0.900,3,0"
    assert af.clip_to_frame("v,0001,-0.010,0.200,0.5,0.900,3,0") == "v,0001,0.000,0.200,0.5,0.900,3,0"
    assert af.clip_to_frame("v,0001,0.1,0.2,1.02,0.9,3,0") is None  # beyond the tolerance: no repair
    assert af.clip_to_frame("v,0001,0.1,0.2,0.5,0.9,3,0") is None  # nothing to repair


def test_frame_list_with_images_out_of_time_order(tmp_path):
    """frame_id in order, images shuffled (a list built from an unsorted directory listing)."""
    path = write(tmp_path / "train.csv", af.FRAME_LIST_HEADER + "\n" + "".join(
        f'cam1 0 {i} cam1/cam1_{n:06d}.jpg ""\n' for i, n in enumerate((412, 7, 398))))
    with pytest.raises(DataError, match="frame_id 1 of video cam1 is image cam1_000007.jpg, which comes before "
                                        "image 412 on line 2: the images are out of time order") as err:
        af.read_frame_list(path)
    assert err.value.line == 3 and "--fix" in err.value.hint


def test_action_types_from_text_groups_and_kept_by_the_label_map(tmp_path):
    from slowfast.utils.ava_eval_helper import read_labelmap

    path = write(tmp_path / "actions.txt", "[PERSON_MOVEMENT]\nstand\nwalk\n[]\ntalk\n[PERSON_INTERACTION]\nhug\n")
    entries = af.read_action_names(path)
    assert [(e.id, e.name, e.label_type) for e in entries] == [
        (1, "stand", "PERSON_MOVEMENT"), (2, "walk", "PERSON_MOVEMENT"), (3, "talk", None),
        (4, "hug", "PERSON_INTERACTION")]
    af.write_label_map(tmp_path / "map.pbtxt", entries)
    assert af.read_label_map(tmp_path / "map.pbtxt") == entries  # the types survive the export
    labelmap, ids = read_labelmap(str(tmp_path / "map.pbtxt"))  # upstream's evaluator still reads it
    assert labelmap == [{"id": e.id, "name": e.name} for e in entries] and ids == {1, 2, 3, 4}
    bad = write(tmp_path / "bad.txt", "stand\n[POSE]\nsit\n")
    with pytest.raises(DataError, match=r"unknown action type \[POSE\]") as err:
        af.read_action_names(bad)
    assert err.value.line == 2


FRAME_LIST_BAD_ROWS = [
    'v,0,0,v/v_000002.jpg,""',  # commas
    "v 0 1 v/v_000002.jpg",  # 4 columns
    'v 0 x v/v_000002.jpg ""',  # frame id not an integer
    'v 0 0 v/v_000002.jpg ""',  # frame ids not ascending
    'v 0 1 ../etc/passwd ""',  # leaves the frames folder
    'v 0 1 v/v_000000.jpg ""',  # images out of time order
]


@pytest.mark.parametrize("bad", FRAME_LIST_BAD_ROWS)
def test_checker_and_loader_name_the_same_line_for_a_bad_frame_list_row(tmp_path, bad):
    from slowfast_custom.ava_subset.filtering import filter_frame_list
    from slowfast_custom.check.dataset import CheckReport, check_frame_list

    path = write(tmp_path / "train.csv", f'{af.FRAME_LIST_HEADER}\nv 0 0 v/v_000001.jpg ""\n{bad}\n')
    with pytest.raises(DataError) as loader:
        af.read_frame_list(path)
    report = CheckReport()
    check_frame_list(path, report)
    assert (report.errors[0].line, report.errors[0].message) == (3, loader.value.message)
    if "," not in bad:  # make_subset finds a row's video up to the first space; a comma row is another video's
        with pytest.raises(DataError) as subset:
            filter_frame_list(path.read_text().splitlines(), path, {"v"})
        assert (subset.value.line, subset.value.message) == (3, loader.value.message)


@pytest.mark.parametrize("row, kind", [("v,0902,0.1,0.2,0.3,0.4,1,1", "gt"), ("v,0902,0.1,0.2,1.004,0.4,1,1", "gt"),
                                       ("v,0902,0.3,0.2,0.1,0.4,1,1", "gt"), ("v,x,0.1,0.2,0.3,0.4,1,1", "gt"),
                                       ("v,0902,0.1,0.2,0.3,0.4,-1,0.5", "gt"), ("v 0902 0.1 0.2 0.3 0.4 1 1", "gt"),
                                       ("v,0902,0.1,0.2,0.3,0.4,,", "predicted"),
                                       ("v,0902,0.1,0.2,0.3,0.4,1,1.5", "predicted")])
def test_checker_and_loader_agree_on_a_box_row(tmp_path, row, kind):
    """A row the loader reads is one the checker passes; a row it refuses, the checker reports at the same line
    with the same message."""
    from slowfast_custom.check.dataset import CheckReport, check_box_file

    path = write(tmp_path / "boxes.csv", "v,0902,0.1,0.1,0.2,0.2,1,1\n" + row + "\n")
    report = CheckReport()
    checked = check_box_file(path, kind, None, 80, report)
    try:
        rows = af.read_box_csv(path, kind)
    except DataError as err:
        assert [(p.line, p.message) for p in report.errors] == [(2, err.message)]
    else:
        assert report.errors == [] and rows == checked


def test_duplicate_rows_are_reported_by_the_checker_and_read_by_the_loader(tmp_path):
    from slowfast_custom.check.dataset import CheckReport, check_box_file

    path = write(tmp_path / "boxes.csv", "v,0902,0.1,0.1,0.2,0.2,1,1\nv,0902,0.1,0.1,0.2,0.2,1,1\n")
    assert [r.line for r in af.read_box_csv(path, "gt")] == [1, 2]
    report = CheckReport()
    assert len(check_box_file(path, "gt", None, 80, report)) == 1
    assert [(p.line, p.message) for p in report.errors] == [(2, "duplicate of line 1")]
