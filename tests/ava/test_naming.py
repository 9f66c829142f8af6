"""Names: video ids, frame file names, keyframe image names and the frames folder's path rules."""

import argparse

import pytest

from slowfast_custom.ava import naming
from slowfast_custom.ava.naming import keyframe_image_name, parse_keyframe_image_name
from slowfast_custom.errors import DataError


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("video, second", [("vtest", 2), ("a__0001", 17), ("-5KQ66BBWC4", 1798), ("x_y", 0)])
def test_image_names_are_reversible(video, second):
    name = keyframe_image_name(video, second)
    assert parse_keyframe_image_name(name) == (video, second)
    assert parse_keyframe_image_name("some/folder/" + name) == (video, second)


def test_unparsable_image_name():
    with pytest.raises(ValueError, match="not a keyframe image name"):
        parse_keyframe_image_name("vtest_000061.jpg")


GOOD_IDS = ["-5KQ66BBWC4", "1j20qq1JyX4", "cam_1", "a.b", "x%y"]
BAD_IDS = ["", ".hidden", ".", "..", "my clip", "a,b", 'a"b', "a'b", "a/b", "a\\b", "tab\there"]


@pytest.mark.parametrize("video_id", GOOD_IDS + BAD_IDS)
def test_one_video_id_rule_for_every_caller(video_id):
    """The dataset tools (check_video_id, the --id/--videos options) and make_subset's id lists accept the
    same ids."""
    from slowfast_custom.ava_subset.ids import ids_from_args
    from slowfast_custom.errors import UserError

    ok = naming.video_id_problem(video_id) is None
    assert ok == (video_id in GOOD_IDS)
    outcomes = []
    for accept in (lambda: naming.check_video_id(video_id), lambda: naming.video_id_arg(video_id)):
        try:
            accept()
            outcomes.append(True)
        except (DataError, argparse.ArgumentTypeError):
            outcomes.append(False)
    assert outcomes == [ok, ok]
    if video_id and not any(c in video_id for c in " ,\t"):  # make_subset splits its lists on these
        try:
            ids_from_args([video_id], "--train-ids")
            assert ok
        except UserError as err:
            assert not ok and str(err) == (f"--train-ids: {naming.video_id_problem(video_id)}; ids are file names "
                                           "without extension, like -5KQ66BBWC4")


def test_frame_names_numbered_from_one():
    assert naming.frame_name("v", 1) == "v_000001.jpg"
    assert naming.frame_relpath("v", 1) == "v/v_000001.jpg"
    assert naming.frame_pattern("a%b") == "a%%b_%06d.jpg"
    prefix, suffix = naming.frame_relpath_parts("cam_1")
    assert prefix + "000042" + suffix == naming.frame_relpath("cam_1", 42)


@pytest.mark.parametrize("name, number", [("v_000412.jpg", 412), ("cam_1_000007.JPG", 7), ("x/y/v_12.png", 12),
                                          ("v\\v_000003.jpeg", 3), ("v.jpg", None), ("v_12a.jpg", None),
                                          ("v_000001.gif", None)])
def test_frame_number_is_read_the_same_by_every_reader(name, number):
    """A frame name the frame-list reader numbers is one the labelling tools parse, and the other way round."""
    assert naming.frame_number(name) == number
    try:
        video, second = naming.parse_frame_image_name(name, fps=1.0)
        assert number is not None and second == number - 1
    except ValueError:
        assert number is None or number < 1


def test_own_frame_number_is_exactly_frame_name():
    assert naming.own_frame_number("v", naming.frame_name("v", 12)) == 12
    for name in ("v_12.jpg", "v_000012.png", "w_000012.jpg", "v_0000012.jpg", "v_00001x.jpg"):
        assert naming.own_frame_number("v", name) is None


@pytest.mark.parametrize("path, problem", [("v/v_000001.jpg", None), ("/etc/passwd", "is absolute"),
                                           ("C:/x.jpg", "is absolute"), ("v/../../x.jpg", "leads out"),
                                           ("..\\x.jpg", "leads out")])
def test_frame_paths_never_leave_the_frames_folder(path, problem):
    found = naming.frame_path_problem(path)
    assert (found is None) if problem is None else problem in found
    if problem:
        with pytest.raises(DataError, match=problem):
            naming.check_frame_relpath("list.csv", 3, path)


def test_hidden_folders_are_not_videos(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".a.123.x.tmp").mkdir()
    assert naming.video_dirs(tmp_path) == ["a", "b"]


def test_frame_names_of_ava_videos():
    assert naming.frame_name("-5KQ66BBWC4", 1) == "-5KQ66BBWC4_000001.jpg"
    assert naming.frame_relpath("v", 27030) == "v/v_027030.jpg"
    assert naming.frame_pattern("50%_off") % 12 == naming.frame_name("50%_off", 12)  # as ffmpeg fills it in


def test_frame_list_from_dir_sorts_numerically(tmp_path):
    for i in (10, 2, 1):
        write(tmp_path / "v" / naming.frame_name("v", i), "")
    write(tmp_path / "v" / "notes.txt", "")
    assert naming.frame_list_from_dir(tmp_path) == {"v": ["v/v_000001.jpg", "v/v_000002.jpg", "v/v_000010.jpg"]}


def test_video_range_form():
    assert naming.parse_video_range("cam1:14-18") == ("cam1", (14, 18))
    assert naming.parse_video_range("a:b:7") == ("a:b", (7, 7))  # the last colon splits
    for bad in ("cam1", "cam1:18-14", "cam1:-3", "cam 1:3-4", ":3-4", "cam1:3.5-4"):
        with pytest.raises(ValueError):
            naming.parse_video_range(bad)
