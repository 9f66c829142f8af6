"""CVAT: files as CVAT writes them import to the expected AVA rows; our CVAT export round-trips; bad XML is one line.

The fixtures reproduce what CVAT's writer (``dump_as_cvat_interpolation`` and
``dump_as_cvat_annotation``) and the CVAT samples of datumaro's tests hold:
absolute frame numbers with ``start_frame`` and ``frame_filter`` ``step=N``,
the frames between keyframes dumped with ``keyframe="0"``, a track ended by an
``outside`` keyframe, attribute values one per line (or space-separated in old
files), every attribute written on every box, other labels and shapes.
"""

import random
import xml.etree.ElementTree as ET

import pytest

from slowfast_custom.ava.formats import BoxRow, LabelMapEntry, read_box_csv, read_label_map
from slowfast_custom.ava.layout import LABEL_MAP
from slowfast_custom.errors import DataError
from slowfast_custom.labelling import cvat

from conftest import SHARED, run_tool
from rendered_frames import write_video_frames

W, H = 768, 576  # vtest.avi's frame size
FPS = 10  # vtest.avi's frame rate; the frames are extracted at it, so CVAT's frame numbers are theirs

VIDEO_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>7</id>
      <name>street</name>
      <size>30</size>
      <mode>interpolation</mode>
      <overlap>5</overlap>
      <start_frame>0</start_frame>
      <stop_frame>59</stop_frame>
      <frame_filter>step=2</frame_filter>
      <z_order>False</z_order>
      <labels>
        <label>
          <name>car</name>
          <attributes>
          </attributes>
        </label>
        <label>
          <name>Person</name>
          <color>#fa3253</color>
          <type>rectangle</type>
          <attributes>
            <attribute>
              <name>walk</name>
              <mutable>True</mutable>
              <input_type>checkbox</input_type>
              <default_value>false</default_value>
              <values>false</values>
            </attribute>
            <attribute>
              <name>pose</name>
              <mutable>True</mutable>
              <input_type>select</input_type>
              <default_value>none</default_value>
              <values>none
stand
sit</values>
            </attribute>
            <attribute>
              <name>note</name>
              <mutable>False</mutable>
              <input_type>text</input_type>
              <default_value></default_value>
              <values></values>
            </attribute>
          </attributes>
        </label>
      </labels>
      <segments>
        <segment>
          <id>11</id>
          <start>0</start>
          <stop>29</stop>
          <url>http://localhost:8080/api/jobs/11</url>
        </segment>
      </segments>
      <owner>
        <username>admin</username>
        <email></email>
      </owner>
      <assignee></assignee>
      <original_size>
        <width>768</width>
        <height>576</height>
      </original_size>
    </task>
    <dumped>2024-05-02 10:11:12.000000+00:00</dumped>
    <source>vtest.avi</source>
  </meta>
  <track id="0" label="Person" source="manual">
    <box frame="10" keyframe="1" outside="0" occluded="0" xtl="100.00" ytl="200.00" xbr="160.00" ybr="360.00" z_order="0">
      <attribute name="walk">true</attribute>
      <attribute name="pose">none</attribute>
      <attribute name="note">a &amp; b</attribute>
    </box>
    <box frame="12" keyframe="0" outside="0" occluded="0" xtl="104.00" ytl="200.00" xbr="164.00" ybr="360.00" z_order="0">
      <attribute name="walk">true</attribute>
      <attribute name="pose">none</attribute>
      <attribute name="note">a &amp; b</attribute>
    </box>
    <box frame="20" keyframe="0" outside="0" occluded="1" xtl="999.00" ytl="200.00" xbr="999.00" ybr="360.00" z_order="0">
      <attribute name="walk">false</attribute>
      <attribute name="pose">sit</attribute>
      <attribute name="note">a &amp; b</attribute>
    </box>
    <box frame="30" keyframe="1" outside="0" occluded="0" xtl="140.00" ytl="200.00" xbr="200.00" ybr="360.00" z_order="0">
      <attribute name="walk">false</attribute>
      <attribute name="pose">stand</attribute>
      <attribute name="note">a &amp; b</attribute>
    </box>
    <box frame="40" keyframe="1" outside="1" occluded="0" xtl="140.00" ytl="200.00" xbr="200.00" ybr="360.00" z_order="0">
      <attribute name="walk">false</attribute>
      <attribute name="pose">stand</attribute>
      <attribute name="note">a &amp; b</attribute>
    </box>
    <box frame="50" keyframe="1" outside="0" occluded="0" xtl="300.00" ytl="100.00" xbr="340.00" ybr="300.00" z_order="0">
      <attribute name="walk">true</attribute>
      <attribute name="pose">sit</attribute>
      <attribute name="note">a &amp; b</attribute>
    </box>
  </track>
  <track id="1" label="car" source="manual">
    <box frame="10" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="2.00" xbr="30.00" ybr="40.00" z_order="0">
    </box>
  </track>
  <track id="2" label="Person" source="manual">
    <polyline frame="20" keyframe="1" outside="0" occluded="0" points="7.85,13.88;3.50,6.67" z_order="0">
    </polyline>
  </track>
</annotations>
"""
# Seconds 1-5 are keyframes (6 s, margin 1). Second 2 (frame 20) lies between the keyframes at 10 and 30:
# the box halfway, the attributes of frame 10; the dumped frame 20 is not a keyframe and does not count.
# Second 4 (frame 40) is outside. Actions: walk 1, then pose's values but its default: stand 2, sit 3.
EXPECTED_VIDEO = {
    (1, (100, 200, 160, 360), (1,)),
    (2, (120, 200, 180, 360), (1,)),
    (3, (140, 200, 200, 360), (2,)),
    (5, (300, 100, 340, 300), (1, 3)),
}

IMAGES_XML = """<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <mode>annotation</mode>
      <labels>
        <label>
          <name>person</name>
          <attributes>
            <attribute>
              <name>walk</name>
              <input_type>checkbox</input_type>
              <default_value>false</default_value>
              <values>false true</values>
            </attribute>
            <attribute>
              <name>pose</name>
              <input_type>radio</input_type>
              <default_value>none</default_value>
              <values>none
stand
sit</values>
            </attribute>
            <attribute>
              <name>person_id</name>
              <input_type>text</input_type>
              <default_value></default_value>
              <values></values>
            </attribute>
          </attributes>
        </label>
      </labels>
    </task>
  </meta>
  <image id="0" name="synth_000011.jpg" width="160" height="120">
    <box label="person" occluded="0" source="manual" xtl="16" ytl="12" xbr="48.00" ybr="60" z_order="0">
      <attribute name="walk">false</attribute>
      <attribute name="pose">sit</attribute>
      <attribute name="person_id">4</attribute>
    </box>
    <polygon label="person" points="1,2;3,4;6,5" z_order="1"/>
  </image>
  <image id="1" name="synth_000012.jpg" width="160" height="120">
  </image>
  <image id="2" name="synth/synth_000031.jpg" width="160" height="120">
    <box label="person" occluded="1" xtl="0" ytl="0" xbr="160" ybr="120">
      <attribute name="walk">true</attribute>
      <attribute name="pose">none</attribute>
      <attribute name="person_id"></attribute>
    </box>
  </image>
</annotations>
"""


@pytest.fixture
def dataset(tmp_path):
    """``vtest`` (6 s of ../shared/data/vtest.avi, or rendered frames of its size) and a rendered ``synth``."""
    frames = tmp_path / "data" / "frames"
    video = SHARED / "data" / "vtest.avi"
    if video.is_file():
        from slowfast_custom.video.frames import extract_frames

        assert extract_frames(video, frames, "vtest", fps=FPS, end_sec=6) == 60
    else:
        write_video_frames(frames, "vtest", seconds=6, fps=FPS, size=(W, H))
    write_video_frames(frames, "synth", seconds=6, fps=FPS, size=(160, 120))
    return frames.parent


def write(path, text):
    path.write_text(text)
    return path


def test_video_file_gives_the_boxes_cvat_shows_at_keyframe_seconds(tmp_path):
    path = write(tmp_path / "annotations.xml", VIDEO_XML)
    found = cvat.read_cvat(path)
    assert (found.start_frame, found.stop_frame, found.step, found.width, found.height) == (0, 59, 2, W, H)
    assert found.labels["Person"]["pose"].values == ("none", "stand", "sit")
    actions = cvat.cvat_actions(found)
    assert [(a.id, a.name) for a in actions] == [(1, "walk"), (2, "stand"), (3, "sit")]
    boxes, stats = cvat.read_cvat_labelled_boxes([path], actions, cvat_fps=FPS, margin_sec=1)
    assert {b.video_id for b in boxes} == {"vtest"} and {b.person_id for b in boxes} == {1}
    expected = {(s, tuple(round(v / d, 3) for v, d in zip(px, (W, H, W, H))), a) for s, px, a in EXPECTED_VIDEO}
    assert {(b.second, b.box, b.action_ids) for b in boxes} == expected
    assert (stats.tracks, stats.boxes, stats.new_person_ids, stats.unlabelled) == (2, 4, 1, 0)


def test_interpolation_is_cvats():
    a = cvat.CvatShape(10, (0.0, 0.0, 10.0, 10.0), {"x": "1"})
    b = cvat.CvatShape(20, (10.0, 20.0, 30.0, 40.0), {"x": "2"})
    gone = cvat.CvatShape(30, (10.0, 20.0, 30.0, 40.0), {}, outside=True)
    assert cvat.interpolate([a, b], 9) is None  # not yet seen
    assert cvat.interpolate([a, b], 15).box == (5.0, 10.0, 20.0, 25.0)
    assert cvat.interpolate([a, b], 15).attributes == {"x": "1"}
    assert cvat.interpolate([a, b], 25, stop_frame=59).box == b.box  # held after the last keyframe
    assert cvat.interpolate([a, b], 60, stop_frame=59) is None
    assert cvat.interpolate([a, b, gone], 30) is None and cvat.interpolate([a, b, gone], 45) is None


def test_cli_imports_video_and_images_files_to_ava_rows(dataset, tmp_path):
    video = write(tmp_path / "annotations.xml", VIDEO_XML)
    images = write(tmp_path / "images.xml", IMAGES_XML)
    before = [video.read_bytes(), images.read_bytes()]
    actions = tmp_path / "actions.txt"
    actions.write_text("walk\nstand\nsit\n")
    out = run_tool("import_cvat.py", video, images, "--data", dataset, "--actions", actions, "--fps", FPS,
                   "--margin-sec", "1", "--val-videos", "synth")
    assert out.returncode == 0, out.stderr
    assert "read 6 boxes (2 tracks) of 2 videos from 2 CVAT files; 2 without a person id got new ids" in out.stdout
    assert "MODEL.NUM_CLASSES 3" in out.stdout and [video.read_bytes(), images.read_bytes()] == before
    train = {(r.video_id, r.second, r.box, r.action_id, r.person_id)
             for r in read_box_csv(dataset / "annotations" / "ava_train_v2.2.csv", "gt")}
    assert train == {("vtest", s, tuple(round(v / d, 3) for v, d in zip(px, (W, H, W, H))), a, 1)
                     for s, px, ids in EXPECTED_VIDEO for a in ids}
    val = {(r.video_id, r.second, r.box, r.action_id, r.person_id)
           for r in read_box_csv(dataset / "annotations" / "ava_val_v2.2.csv", "gt")}
    assert val == {("synth", 1, (0.1, 0.1, 0.3, 0.5), 3, 4), ("synth", 3, (0.0, 0.0, 1.0, 1.0), 1, 5)}
    assert [e.name for e in read_label_map(dataset / "annotations" / LABEL_MAP)] == ["walk", "stand", "sit"]


def labelled_tracks():
    """Two people over seconds 1-4; person 2 is lost at second 2 and found again."""
    rng = random.Random(3)
    rows = []
    for person, seconds in ((1, (1, 2, 3, 4)), (2, (1, 3, 4))):
        for second in seconds:
            x1, y1 = rng.randint(0, 600) / 1000, rng.randint(0, 500) / 1000
            rows.append(BoxRow("synth", second, (x1, y1, round(x1 + rng.randint(5, 399) / 1000, 3),
                                                 round(y1 + rng.randint(5, 499) / 1000, 3)), None, person, 0.9))
    return rows


ACTIONS = [LabelMapEntry(1, "walk"), LabelMapEntry(4, "talk to (e.g., self, a person, a group)")]


def test_export_round_trips_through_a_labeller(dataset, tmp_path):
    tracks = labelled_tracks()
    out = run_tool("export_cvat.py", "--data", dataset, "--actions", write(tmp_path / "a.txt", "walk\ntalk to "
                   "(e.g., self, a person, a group)\n"), "--tracks", write_tracks(tmp_path, tracks), "--fps", FPS)
    assert out.returncode == 0, out.stderr
    path = dataset / "cvat" / "synth.xml"
    assert "upload as \"CVAT 1.1\": " + str(path) in out.stdout
    # The labeller ticks "walk" on person 1's keyframes at even frames numbers of seconds (all of them).
    tree = ET.parse(path)
    for box in tree.getroot().iter("box"):
        walk = [a for a in box.iter("attribute") if a.get("name") == "walk"][0]
        walk.text = "true" if box.get("outside") == "0" and box.get("frame") in ("10", "30") else "false"
    tree.write(path, encoding="utf-8", xml_declaration=True)
    boxes, stats = cvat.read_cvat_labelled_boxes([path], ACTIONS, cvat_fps=FPS, margin_sec=1)
    assert sorted((b.second, b.person_id, b.box) for b in boxes) == sorted(
        (r.second, r.person_id, r.box) for r in tracks)  # the same tracks, boxes exact to 3 decimals
    assert stats.new_person_ids == 0
    # A tick holds until the next keyframe: every box of second 1 and 3 walks.
    assert {(b.second, b.person_id) for b in boxes if b.action_ids == (1,)} == {(1, 1), (1, 2), (3, 1), (3, 2)}
    assert run_tool("export_cvat.py", "--data", dataset, "--actions", tmp_path / "a.txt", "--tracks",
                    tmp_path / "tracks.csv", "--fps", FPS).returncode == 2  # a labelled file is not overwritten


def write_tracks(tmp_path, rows):
    from slowfast_custom.ava.formats import write_tracks_csv

    path = tmp_path / "tracks.csv"
    write_tracks_csv(path, rows)
    return path


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotations><version>1.1</version><meta><task><name>&lol2;</name></task></meta></annotations>
"""


@pytest.mark.parametrize("text, message", [
    (BILLION_LAUGHS, "the XML declares entities or external resources (EntitiesForbidden); they are not read. "
                     "Export the annotations from CVAT again (its files declare none)"),
    ("<annotations>\n<version>1.1</version>\n<meta>\n</annotations>\n",
     ":4: not readable as XML (mismatched tag). Export the annotations from CVAT again"),
    ('{"_via_img_metadata": {}}', ":1: not readable as XML (not well-formed (invalid token))"),
    ("<annotations><version>1.1</version><meta><task><labels><label><name>car</name></label></labels></task>"
     "</meta></annotations>", ": no label 'person' among the task's labels (car). Pass --label"),
    (VIDEO_XML.replace('xtl="140.00"', 'xtl="a"', 1),
     ": track 0, frame 30: a box without numeric xtl, ytl, xbr, ybr"),
])
def test_bad_files_are_one_error_line(tmp_path, text, message):
    path = write(tmp_path / "bad.xml", text)
    out = run_tool("import_cvat.py", path, "--data", tmp_path, "--label", "person", "--fps", FPS)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and message in lines[0], lines


def test_an_action_missing_from_the_list_names_track_and_frame(tmp_path):
    path = write(tmp_path / "annotations.xml", VIDEO_XML)
    with pytest.raises(DataError, match=r"track 0, frame 30 \(second 3\): action 'stand' is not in the action list"):
        cvat.read_cvat_labelled_boxes([path], [LabelMapEntry(1, "walk")], cvat_fps=FPS, margin_sec=1)
