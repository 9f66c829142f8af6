"""DeepSORT person ids on rendered moving boxes: stable ids, boxes exactly the detector's."""

import numpy as np
import pytest

from slowfast_custom.detection import Detection
from slowfast_custom.detection.tracking import PersonTracker, Track
from slowfast_custom.errors import UserError


def frame_with(boxes, size=(120, 160)):
    frame = np.full((*size, 3), 30, np.uint8)
    for (x1, y1, x2, y2), colour in zip(boxes, ((0, 0, 255), (0, 255, 0))):
        frame[y1:y2, x1:x2] = colour
    return frame


@pytest.mark.parametrize("embedder", ["mobilenet", "histogram"])
def test_ids_stay_with_people_through_a_missed_frame(embedder):
    tracker = PersonTracker(n_init=2, max_age=5, embedder=embedder)
    ids = []
    for t in range(8):
        boxes = [(10 + 3 * t, 20, 40 + 3 * t, 90), (110, 30 - t, 140, 100 - t)]
        dets = [Detection(tuple(map(float, b)), s) for b, s in zip(boxes, (0.9, 0.8))]
        if t == 4:
            dets = dets[1:]  # the detector misses the first person once
        tracks = tracker.update(frame_with(boxes), dets)
        assert all(isinstance(tr, Track) for tr in tracks)
        assert [tr.box for tr in tracks] == [d.box for d in dets]  # the detector's boxes, not the filter's
        assert [tr.score for tr in tracks] == [d.score for d in dets]
        ids.append([tr.track_id for tr in tracks])
    first, second = ids[0]
    assert first != second
    assert all(row == [first, second] for i, row in enumerate(ids) if i != 4)
    assert ids[4] == [second]


def test_empty_frames_and_degenerate_boxes():
    tracker = PersonTracker()
    assert tracker.update(frame_with([]), []) == []
    assert tracker.update(frame_with([]), [Detection((5.0, 5.0, 5.5, 50.0), 0.9)]) == []


def test_unknown_embedder():
    with pytest.raises(UserError, match="unknown appearance embedder 'osnet'"):
        PersonTracker(embedder="osnet")
