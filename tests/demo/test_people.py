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
