"""Person boxes from AVA CSVs (with file:line errors) and from a detector with a tracker."""

import numpy as np
import pytest

from slowfast_custom.demo.people import DetectedPeople, Person, PrecomputedPeople, normalise_box, read_ground_truth
from slowfast_custom.detection import Detection
from slowfast_custom.errors import DataError


def csv(tmp_path, text, name="boxes.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_precomputed_boxes_by_second_thresholded_and_one_per_box(tmp_path):
    path = csv(tmp_path, "vid,0901,0.1,0.1,0.5,0.9,,0.95\n"
                         "vid,0901,0.1,0.1,0.5,0.9,3,0.97\n"  # the same box again (a detection output)
                         "vid,0901,0.6,0.1,0.9,0.9,,0.2\n"  # below the threshold
                         "vid,0902,0.2,0.2,0.4,0.8,,0.9\n"
                         "other,0901,0.2,0.2,0.4,0.8,,0.9\n")
    boxes = PrecomputedPeople(path, "vid", 900, 10.0, score_thresh=0.8)
    people = boxes.keyframe(None, 1.0, 1.0)
    assert [(p.box, p.score) for p in people] == [((0.1, 0.1, 0.5, 0.9), 0.97)]
    assert len(boxes.keyframe(None, 2.0, 2.0)) == 1 and boxes.keyframe(None, 3.0, 3.0) == []


def test_malformed_row_names_file_and_line(tmp_path):
    path = csv(tmp_path, "vid,0901,0.1,0.1,0.5,0.9,,0.95\nvid,0902,0.1,0.1,1.5,0.9,,0.9\n")
    with pytest.raises(DataError, match=r"boxes\.csv:2: x2=1\.5 is outside \[0, 1\]"):
        PrecomputedPeople(path, "vid", 900, 10.0, 0.5)


def test_boxes_of_other_videos_only(tmp_path):
    path = csv(tmp_path, "clip_a,0901,0.1,0.1,0.5,0.9,,0.95\n")
    with pytest.raises(DataError, match=r"boxes\.csv:1: no rows for video 'vid', only for clip_a.*file name"):
        PrecomputedPeople(path, "vid", 900, 10.0, 0.5)


def test_seconds_outside_the_video_point_at_starting_second(tmp_path):
    path = csv(tmp_path, "vid,0901,0.1,0.1,0.5,0.9,,0.95\n")
    with pytest.raises(DataError, match="DEMO.STARTING_SECOND"):
        PrecomputedPeople(path, "vid", 0, 10.0, 0.5)


def test_ground_truth_groups_the_actions_of_a_box(tmp_path):
    path = csv(tmp_path, "vid,0001,0.1,0.1,0.5,0.9,2,7\nvid,0001,0.1,0.1,0.5,0.9,1,7\n")
    (person,) = read_ground_truth(path, "vid", 0, 5.0)[1]
    assert (person.person_id, person.actions) == (7, (1, 2))


def test_normalise_box_clips_and_drops_empty_boxes():
    assert normalise_box((-10, 0, 80, 120), 160, 120) == (0.0, 0.0, 0.5, 1.0)
    assert normalise_box((170, 0, 180, 50), 160, 120) is None


def test_detected_people_carry_track_ids_and_the_tracker_sees_track_fps():
    from slowfast_custom.detection.tracking import Track

    class Detector:
        def __call__(self, frame):
            return [Detection((16, 12, 48, 108), 0.9), Detection((-5, 0, 0, 50), 0.8)]  # the second is outside

    class Tracker:
        """Numbers detections by order; records the frames it saw."""

        def __init__(self):
            self.seen = []

        def update(self, frame, detections):
            self.seen.append(frame)
            return [Track(i + 7, d.box, d.score) for i, d in enumerate(detections)]

    image = np.zeros((120, 160, 3), np.uint8)
    tracker = Tracker()
    people = DetectedPeople(Detector(), tracker, track_fps=5)
    assert people.keyframe(image, 0.0, 0.0) == [Person((0.1, 0.1, 0.3, 0.9), 0.9, 7)]
    for i in range(1, 10):  # 30 fps: the tracker sees every 6th frame
        people.between(image, i / 30)
    assert len(tracker.seen) == 2
    untracked = DetectedPeople(Detector())
    assert [p.person_id for p in untracked.keyframe(image, 0.0, 0.0)] == [None]


def test_track_history_interpolates_each_person_between_tracked_frames():
    from slowfast_custom.demo.people import TrackHistory

    history = TrackHistory()
    assert history.latest == float("-inf") and history.at(0.0) == []
    history.add(0.0, [Person((0.0, 0.0, 0.2, 0.4), 0.9, 1), Person((0.5, 0.5, 0.6, 0.9), 0.8, 2)])
    history.add(0.2, [Person((0.2, 0.0, 0.4, 0.4), 0.7, 1)])  # person 2 missed here
    history.add(0.4, [])
    assert history.latest == 0.4
    halfway = {p.person_id: p.box for p in history.at(0.1)}
    assert halfway[1] == pytest.approx((0.1, 0.0, 0.3, 0.4)) and halfway[2] == (0.5, 0.5, 0.6, 0.9)
    assert [p.box for p in history.at(0.2)] == [(0.2, 0.0, 0.4, 0.4)]  # on a tracked frame: its boxes
    assert history.at(0.3) == [Person((0.2, 0.0, 0.4, 0.4), 0.7, 1)]  # gone in the next tracked frame: held
    assert history.at(0.5) == []


def test_detected_people_with_a_tracker_keep_every_tracked_frame():
    from slowfast_custom.detection.tracking import Track

    class Walker:
        """One person moving 10 px right per call."""

        def __init__(self):
            self.x = 0

        def __call__(self, frame):
            self.x += 10
            return [Detection((self.x, 0, self.x + 40, 100), 0.9)]

    class Tracker:
        def update(self, frame, detections):
            return [Track(3, d.box, d.score) for d in detections]

    image = np.zeros((100, 200, 3), np.uint8)
    people = DetectedPeople(Walker(), Tracker(), track_fps=5)
    people.keyframe(image, 0.0, 0.0)
    for i in range(1, 10):
        people.between(image, i / 10)  # 10 fps: the tracker sees every other frame
    assert people.tracks.latest == pytest.approx(0.8)
    boxes = [people.tracks.at(i / 10)[0].box[0] for i in range(8)]
    assert boxes == pytest.approx([0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225])  # moves every frame
    assert PrecomputedPeople.tracks is None


@pytest.mark.slow
def test_the_tracker_loads_without_the_pkg_resources_warning():
    import subprocess
    import sys

    from conftest import REPO

    code = "from slowfast_custom.detection.tracking import mobilenet_embedder; mobilenet_embedder(False)"
    proc = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "pkg_resources" not in proc.stderr
