"""tools/check_dataset.py: every problem with file:line and a hint; --fix writes new files only."""

import argparse
import shutil

import pytest

from slowfast_custom.check.dataset import check_dataset, check_spec_from_cfg, fix_dataset, fixed_path
from slowfast_custom.config import load_config
from slowfast_custom.errors import DataError

from conftest import TINY_CFG, copy_of_dataset, run_tool


@pytest.fixture
def data(tiny_dataset, tmp_path):
    """A private copy of the tiny dataset's lists and annotations; the frames are shared through a link."""
    return copy_of_dataset(tiny_dataset, tmp_path / "data")


def spec_for(root, *overrides):
    args = argparse.Namespace(cfg_file=str(TINY_CFG), opts=["DATA.PATH_TO_DATA_DIR", str(root), *overrides])
    return check_spec_from_cfg(load_config(args))


def edit(path, fn):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(fn(lines)) + "\n")


def replace_line(number, fn):
    return lambda lines: [fn(line) if i == number else line for i, line in enumerate(lines, start=1)]


TRAIN_LIST = "frame_lists/train.csv"
TRAIN_GT = "annotations/ava_train_v2.2.csv"
VAL_PRED = "annotations/ava_val_predicted_boxes.csv"


def swap(i, j):
    def fn(lines):
        lines = list(lines)
        lines[i - 1], lines[j - 1] = lines[j - 1], lines[i - 1]
        return lines
    return fn


def set_col(line_no, col, value):
    return replace_line(line_no, lambda line: ",".join(value if k == col else c for k, c in enumerate(line.split(","))))


CASES = [
    (TRAIN_LIST, replace_line(3, lambda line: line.replace(" ", ",")), TRAIN_LIST, 3, "separated by single spaces"),
    (TRAIN_LIST, replace_line(5, lambda line: line.rsplit(" ", 1)[0]), TRAIN_LIST, 5, "expected 5 columns"),
    (TRAIN_LIST, swap(3, 4), TRAIN_LIST, 4, "frames of video synth_train_000 are not sorted"),
    (TRAIN_LIST, replace_line(32, lambda line: line.replace("synth_train_000_000031", "gone")), TRAIN_LIST, 32,
     "gone.jpg is missing (clip around video synth_train_000 second 1)"),
    (TRAIN_LIST, lambda lines: [line for line in lines if not line.startswith("synth_train_001")], TRAIN_GT, None,
     "video synth_train_001 has boxes but is not in the train frame lists"),
    (TRAIN_GT, set_col(1, 4, "1.2"), TRAIN_GT, 1, "x2=1.2 is outside [0, 1]"),
    (TRAIN_GT, lambda lines: [",".join(c[:2] + [c[4], c[3], c[2], c[5]] + c[6:]) if i == 0 else line
                              for i, (line, c) in enumerate((line, line.split(",")) for line in lines)], TRAIN_GT, 1,
     "empty or inverted"),
    (TRAIN_GT, set_col(2, 6, "9"), TRAIN_GT, 2, "action_id 9 is larger than MODEL.NUM_CLASSES 4"),
    (TRAIN_GT, lambda lines: lines + [lines[0]], TRAIN_GT, None, "duplicate of line 1"),
    (TRAIN_GT, set_col(1, 1, "0009"), TRAIN_GT, 1,
     "video synth_train_000 second 9 is frame 270, but train.csv lists 120"),
    (TRAIN_GT, set_col(3, 1, "one"), TRAIN_GT, 3, "second 'one' is not an integer"),
    (VAL_PRED, lambda lines: [line.rsplit(",", 1)[0] for line in lines], VAL_PRED, 1,
     "predicted-box file without a score column"),
    ("annotations/ava_val_excluded_timestamps_v2.2.csv", lambda lines: ["synth_val_000"],
     "annotations/ava_val_excluded_timestamps_v2.2.csv", 1, "expected 2 columns"),
]


@pytest.mark.parametrize("target, change, where, line, message", CASES)
def test_each_problem_is_reported_with_file_and_line(data, target, change, where, line, message):
    edit(data / target, change)
    report = check_dataset(spec_for(data))
    matches = [p for p in report.errors if message in p.message]
    assert matches, report.text()
    assert matches[0].path == str(data / where) and (line is None or matches[0].line == line)
    assert str(matches[0]).startswith(f"{data / where}:") and matches[0].hint


def test_video_in_both_splits_and_video_without_boxes(data):
    val_rows = [line for line in (data / "frame_lists/val.csv").read_text().splitlines()[1:]
                if line.startswith("synth_val_000")]
    edit(data / TRAIN_LIST, lambda lines: lines + val_rows)
    report = check_dataset(spec_for(data))
    assert not report.errors, report.text()  # listed in both splits: fine while its seconds keep apart
    warning = [p for p in report.warnings if "synth_val_000 is in the train frame list but has no boxes" in p.message]
    assert warning and warning[0].line == 242
    val_second = int((data / "annotations/ava_val_v2.2.csv").read_text().split("synth_val_000,", 1)[1][:4])
    edit(data / TRAIN_GT, lambda lines: lines + [f"synth_val_000,{val_second:04d},0.1,0.1,0.5,0.5,1,7"])
    overlap = [p for p in check_dataset(spec_for(data)).errors if p.kind == "split overlap"]
    assert len(overlap) == 1 and overlap[0].message.startswith(
        f"video synth_val_000 is labelled in the train split at seconds {val_second} and in the val split at seconds")
    rows = (data / TRAIN_GT).read_text().splitlines()
    assert overlap[0].path == str(data / TRAIN_GT) and overlap[0].line == len(rows)
    assert not check_dataset(spec_for(data, "AVA.ALLOW_SPLIT_OVERLAP", "True")).errors


def test_missing_header_is_a_warning(data):
    edit(data / TRAIN_LIST, lambda lines: lines[1:])
    report = check_dataset(spec_for(data))
    assert report.errors == [] and "no header line" in report.warnings[0].message and report.warnings[0].line == 1


def test_label_map_and_num_classes(data):
    report = check_dataset(spec_for(data, "MODEL.NUM_CLASSES", "3"))
    assert any("label map ids go up to 4, MODEL.NUM_CLASSES is 3" in p.message for p in report.errors)
    assert any("larger than MODEL.NUM_CLASSES 3" in p.message for p in report.errors)
    (data / "annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt").unlink()
    report = check_dataset(spec_for(data))
    assert any("label map not found" in p.message for p in report.errors)


def test_many_problems_of_a_kind_are_summarised(data):
    edit(data / TRAIN_LIST, lambda lines: [lines[0]] + [line.replace(" ", ",") for line in lines[1:]])
    report = check_dataset(spec_for(data))
    separator = [p for p in report.errors if p.path.endswith("train.csv") and "single spaces" in p.message]
    assert len(separator) == 20 and any("more like the above, lines 22-241" in p.message for p in report.errors)
    assert report.text().endswith("240 errors, 0 warnings")


def test_fix_writes_repaired_copies_and_never_touches_originals(data):
    clean_rows = (data / TRAIN_GT).read_text().splitlines()
    edit(data / TRAIN_LIST,
         lambda lines: [lines[0], lines[2], lines[1]] + [line.replace(" ", ",") for line in lines[3:]])
    edit(data / TRAIN_GT, lambda lines: [line.replace(",", " ") for line in lines[::-1]] + [lines[0]])
    originals = {p: p.read_bytes() for p in (data / TRAIN_LIST, data / TRAIN_GT)}
    spec = spec_for(data)
    report = check_dataset(spec)
    written = fix_dataset(spec, report)
    assert sorted(fixed.name for _, fixed in written) == ["ava_train_v2.2.fixed.csv", "train.fixed.csv"]
    assert all(p.read_bytes() == b for p, b in originals.items())
    fixed = check_dataset(spec_for(data, "AVA.TRAIN_LISTS", "['train.fixed.csv']",
                                   "AVA.TRAIN_GT_BOX_LISTS", "['ava_train_v2.2.fixed.csv']"))
    assert fixed.errors == [], fixed.text()
    rows = fixed_path(data / TRAIN_GT).read_text().splitlines()
    assert len(rows) == len(set(rows)) and set(rows) == set(clean_rows)
    assert [r.split(",")[:2] for r in rows] == sorted(r.split(",")[:2] for r in rows)


def test_tool_exit_status_and_output(data):
    ok = run_tool("check_dataset.py", data, "--cfg", TINY_CFG)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 errors, 0 warnings" in ok.stdout
    edit(data / TRAIN_GT, lambda lines: lines + [lines[0]])
    bad = run_tool("check_dataset.py", data, "--cfg", TINY_CFG, "--fix")
    assert bad.returncode == 1
    last = len((data / TRAIN_GT).read_text().splitlines())
    assert f"{data / TRAIN_GT}:{last}: error: duplicate of line 1" in bad.stdout
    assert f"wrote {fixed_path(data / TRAIN_GT)}" in bad.stdout


def test_fix_refuses_to_rebuild_a_list_over_a_gap(data, tiny_dataset):
    (data / "frames").unlink()
    shutil.copytree(tiny_dataset / "frames", data / "frames")
    (data / "frames/synth_train_000/synth_train_000_000049.jpg").unlink()  # frame 48, sampled for second 2
    edit(data / TRAIN_LIST, swap(3, 4))
    spec = spec_for(data)
    report = check_dataset(spec)
    missing = [p for p in report.errors if "synth_train_000_000049.jpg is missing" in p.message]
    assert missing and missing[0].line == 50 and not missing[0].fix
    with pytest.raises(DataError, match="synth_train_000 are not numbered 1..N without gaps"):
        fix_dataset(spec, report)


def test_frame_list_with_images_out_of_time_order_is_flagged_and_rebuilt(data):
    """frame_id runs 0, 1, 2, ... but the images come from an unsorted directory listing."""
    def shuffle(lines):
        rows = [line.split(" ") for line in lines[1:121]]  # synth_train_000's 120 frames
        paths = [r[3] for r in rows]
        paths[1:] = sorted(paths[1:], key=lambda p: (hash(p) % 7, p))
        return [lines[0]] + [" ".join(r[:3] + [p] + r[4:]) for r, p in zip(rows, paths)] + lines[121:]

    edit(data / TRAIN_LIST, shuffle)
    spec = spec_for(data)
    report = check_dataset(spec)
    shuffled = [p for p in report.errors if "the images are out of time order" in p.message]
    assert len(shuffled) == 1 and shuffled[0].path == str(data / TRAIN_LIST), report.text()
    assert "video synth_train_000" in shuffled[0].message and shuffled[0].fix
    written = dict(fix_dataset(spec, report))
    assert written[data / TRAIN_LIST] == fixed_path(data / TRAIN_LIST)
    again = check_dataset(spec_for(data, "AVA.TRAIN_LISTS", "['train.fixed.csv']"))
    assert again.errors == [], again.text()


def test_frame_list_leaving_out_images_of_the_folder(data):
    edit(data / TRAIN_LIST, lambda lines: [line for line in lines if "synth_train_000_000050.jpg" not in line])
    report = check_dataset(spec_for(data))
    left_out = [p for p in report.errors if "are not in the list" in p.message]
    assert left_out and "video synth_train_000: 1 images" in left_out[0].message
    assert "synth_train_000_000050.jpg" in left_out[0].message and left_out[0].fix


@pytest.mark.parametrize("misnamed", ["ava_val_predicted_boxes .csv", "AVA_VAL_PREDICTED_BOXES.CSV",
                                      "ava-val-predicted-boxes.txt"])
def test_misnamed_file_is_named_and_checked_in_its_place(data, misnamed):
    (data / VAL_PRED).rename(data / "annotations" / misnamed)
    edit(data / "annotations" / misnamed, replace_line(2, lambda line: line.replace(",0.", ",1.5", 1)))
    report = check_dataset(spec_for(data))
    named = [p for p in report.errors if "probably meant" in p.message]
    assert len(named) == 1 and named[0].path == str(data / VAL_PRED), report.text()
    assert repr(misnamed) in named[0].message and "checked in its place" in named[0].message
    # ...and the file was checked as if it had been configured:
    assert any(p.path == str(data / "annotations" / misnamed) and p.line == 2 for p in report.errors)


def test_boxes_a_hair_outside_are_clipped_by_fix(data):
    edit(data / TRAIN_GT, lambda lines: set_col(3, 4, "1.2")(set_col(2, 2, "-0.003")(set_col(1, 4, "1.004")(lines))))
    spec = spec_for(data)
    report = check_dataset(spec)
    hair = [p for p in report.errors if "by at most 0.01" in p.message]
    assert [(p.line, p.message) for p in hair] == [(1, "x2=1.004 is outside [0, 1] by at most 0.01"),
                                                   (2, "x1=-0.003 is outside [0, 1] by at most 0.01")]
    assert all(p.fix == str(data / TRAIN_GT) for p in hair)
    beyond = [p for p in report.errors if p.line == 3 and "x2=1.2" in p.message]
    assert beyond and not beyond[0].fix  # beyond the tolerance: no mechanical repair
    assert "  error         2 rows: box a hair outside the frame (within 0.01) [--fix repairs]" in report.text()
    fix_dataset(spec, report)
    rows = fixed_path(data / TRAIN_GT).read_text().splitlines()
    original = (data / TRAIN_GT).read_text().splitlines()
    assert original[0].replace(",1.004,", ",1.000,") in rows and original[1].replace(",-0.003,", ",0.000,") in rows
    assert "1.004" in original[0]  # the original is never modified


def test_ids_outside_the_evaluation_map_are_one_information_line(data):
    """AVA trains 80 ids and evaluates 60: ids within MODEL.NUM_CLASSES but not in the label map are data."""
    label_map = data / "annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt"
    label_map.write_text('item {\n  name: "stand"\n  id: 1\n}\nitem {\n  name: "walk"\n  id: 2\n}\n')
    report = check_dataset(spec_for(data))
    assert report.errors == [], report.text()
    info = [p for p in report.problems if p.severity == "info" and "not in the label map" in p.message]
    gt_rows = [line for line in (data / TRAIN_GT).read_text().splitlines() if line.split(",")[6] in ("3", "4")]
    train_info = [p for p in info if p.path == str(data / TRAIN_GT)]
    assert len(train_info) == 1 and train_info[0].message.startswith(f"{len(gt_rows)} rows with 2 action ids")
    assert "(ids 3, 4): trained (MODEL.NUM_CLASSES 4), not evaluated" in train_info[0].message
    assert report.text().endswith("0 errors, 0 warnings")


def test_misnamed_files_are_found_anywhere_under_annotations_with_the_key_to_set(data):
    """As a real dataset had them: its predicted boxes in upstream's person_box folder under the recipe's name with
    stray spaces, its label map under AVA's 80-class name instead of the configured 60-class one."""
    ann = data / "annotations"
    recipe_dir = ann / "person_box_67091280_iou90"
    recipe_dir.mkdir()
    (data / VAL_PRED).rename(recipe_dir / "ava_detection_val_boxes_and _labels.csv")
    label_map = ann / "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
    label_map.rename(ann / "ava_action_list_v2.2.pbtxt")
    report = check_dataset(spec_for(data))
    named = {p.path: p for p in report.errors if "probably meant" in p.message}
    boxes = named[str(data / VAL_PRED)]
    assert "val predicted box file not found; 'person_box_67091280_iou90/ava_detection_val_boxes_and _labels.csv' " \
           "is probably meant" in boxes.message
    assert "set AVA.TEST_PREDICT_BOX_LISTS 'person_box_67091280_iou90/ava_detection_val_boxes_and _labels.csv'" \
           in boxes.hint
    labels = named[str(label_map)]
    assert "label map not found; 'ava_action_list_v2.2.pbtxt' is probably meant" in labels.message
    assert "set AVA.LABEL_MAP_FILE 'ava_action_list_v2.2.pbtxt'" in labels.hint
    # the files found were checked in their places: no "not found" beyond the two named ones
    assert not [p for p in report.errors if "not found" in p.message and "probably meant" not in p.message]
    # and the tool prints it in one line each, exit non-zero
    result = run_tool("check_dataset.py", data)
    assert result.returncode != 0 and "AVA.TEST_PREDICT_BOX_LISTS" in result.stdout + result.stderr
