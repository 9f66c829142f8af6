"""Detect and track on rendered frames: keyframe boxes with stable person ids, resumable per video."""

from functools import partial

import pytest

from slowfast_custom.ava.formats import read_box_csv, read_tracks_csv
from slowfast_custom.detection.prelabel import TrackingSpec, detect_and_track, normalise_box
from slowfast_custom.detection.tracking import PersonTracker
from slowfast_custom.errors import DataError

from rendered_frames import ColourDetector, person_box, write_video_frames

SPEC = TrackingSpec(fps=10, track_fps=2, margin_sec=1)
# Colour histograms instead of the MobileNet features keep these tests fast on a shared CPU.
fast_tracker = partial(PersonTracker, embedder="histogram")


@pytest.fixture
def frames(tmp_path):
    root = tmp_path / "frames"
    write_video_frames(root, "va", seconds=5, fps=10, people=2)
    write_video_frames(root, "vb", seconds=4, fps=10, people=1)
    return root


def test_keyframe_boxes_with_stable_ids(frames, tmp_path):
    detector = ColourDetector()
    summary = detect_and_track(frames, None, tmp_path / "det", detector=detector, make_tracker=fast_tracker, spec=SPEC,
                               detector_settings={"name": "colour"})
    # va: seconds 1-4, frames 0..40 every 5th; vb: seconds 1-3, frames 0..30.
    assert detector.calls == 9 + 7 == summary.frames_tracked
    rows = read_tracks_csv(tmp_path / "det" / "tracks.csv")
    assert sorted({(r.video_id, r.second) for r in rows}) == [("va", 1), ("va", 2), ("va", 3), ("va", 4),
                                                                ("vb", 1), ("vb", 2), ("vb", 3)]
    assert len(rows) == 4 * 2 + 3 == summary.boxes
    for video, people in (("va", 2), ("vb", 1)):
        ids = {}
        for r in (r for r in rows if r.video_id == video):
            # Which rendered person is it? The one whose box at that keyframe is nearest.
            x1, y1, x2, y2 = person_box(0, r.second * 10, 160, 120)
            person = 0 if abs(r.box[0] - x1 / 160) < 0.02 and abs(r.box[1] - y1 / 120) < 0.02 else 1
            ids.setdefault(person, set()).add(r.person_id)
        assert len(ids) == people and all(len(v) == 1 for v in ids.values())  # one id per person, all along
    predicted = read_box_csv(tmp_path / "det" / "predicted_boxes.csv", "predicted")
    assert [(p.video_id, p.second, p.box, p.score) for p in predicted] == [
        (r.video_id, r.second, r.box, r.score) for r in rows]
    assert all(p.action_id is None for p in predicted)


def test_resumes_finished_videos_and_redoes_on_new_settings(frames, tmp_path):
    out = tmp_path / "det"
    detect_and_track(frames, ["va"], out, detector=ColourDetector(), make_tracker=fast_tracker, spec=SPEC)
    again = ColourDetector()
    summary = detect_and_track(frames, None, out, detector=again, make_tracker=fast_tracker, spec=SPEC)
    assert summary.done == 1 and again.calls == 7  # only vb was run
    assert {r.video_id for r in read_tracks_csv(out / "tracks.csv")} == {"va", "vb"}
    other = ColourDetector()
    summary = detect_and_track(frames, None, out, detector=other, make_tracker=fast_tracker,
                               spec=TrackingSpec(fps=10, track_fps=2, margin_sec=2))
    assert summary.done == 2 and other.calls == 7 + 5  # seconds 2-3 of va, 2 of vb


def test_unreadable_frame_is_named(frames, tmp_path):
    (frames / "vb" / "vb_000011.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="vb_000011.jpg: cannot read frame of video vb"):
        detect_and_track(frames, ["vb"], tmp_path / "det", detector=ColourDetector(), make_tracker=fast_tracker,
                         spec=SPEC)


def test_normalise_box():
    assert normalise_box((-3, 10, 80.04, 130), 160, 120) == (0.0, 0.083, 0.5, 1.0)
    assert normalise_box((100, 10, 100.02, 50), 160, 120) is None  # 0.625 both, after rounding


def test_an_empty_video_folder_is_refused_then_tracked_once_extracted(frames, tmp_path):
    """Issue 12, case 9: an empty frames/<video>/ must not be recorded as done with 0 boxes."""
    (frames / "vc").mkdir()
    out = tmp_path / "det"
    with pytest.raises(DataError, match=r"frames/vc: no frames in the folder of video vc\. Extract its frames"):
        detect_and_track(frames, None, out, detector=ColourDetector(), make_tracker=fast_tracker, spec=SPEC)
    assert not out.exists()  # nothing written
    write_video_frames(frames, "vc", seconds=4, fps=10, people=1)
    summary = detect_and_track(frames, None, out, detector=ColourDetector(), make_tracker=fast_tracker, spec=SPEC)
    assert summary.done == 3 and {r.video_id for r in read_tracks_csv(out / "tracks.csv")} == {"va", "vb", "vc"}


def test_a_video_re_extracted_with_other_frames_is_tracked_again(frames, tmp_path):
    out = tmp_path / "det"
    detect_and_track(frames, ["vb"], out, detector=ColourDetector(), make_tracker=fast_tracker, spec=SPEC)
    assert detect_and_track(frames, ["vb"], out, detector=ColourDetector(), make_tracker=fast_tracker,
                            spec=SPEC).done == 0
    write_video_frames(frames, "vb", seconds=5, fps=10, people=1)  # re-extracted: 50 frames instead of 40
    again = ColourDetector()
    summary = detect_and_track(frames, ["vb"], out, detector=again, make_tracker=fast_tracker, spec=SPEC)
    assert summary.done == 1 and again.calls == 9 and {r.second for r in read_tracks_csv(out / "tracks.csv")} == {
        1, 2, 3, 4}


def test_a_truncated_frame_is_named_before_anything_is_written(frames, tmp_path):
    """Issue 12, case 10: libjpeg decodes a cut-off JPEG with a warning naming no file; its boxes were lost."""
    path = frames / "vb" / "vb_000011.jpg"
    path.write_bytes(path.read_bytes()[:-200])
    out = tmp_path / "det"
    detector = ColourDetector()
    with pytest.raises(DataError, match=r"vb_000011\.jpg: cannot read frame of video vb \(truncated JPEG \(no "
                       r"end-of-image marker\)\)\. Re-extract the frames of vb"):
        detect_and_track(frames, None, out, detector=detector, make_tracker=fast_tracker, spec=SPEC)
    assert detector.calls == 0 and not out.exists()
