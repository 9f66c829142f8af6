"""The keyframe index: any frame rate and length, and one clear error per kind of bad input."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from slowfast_custom.ava import formats as af
from slowfast_custom.ava import naming
from slowfast_custom.ava.timing import clip_frame_indices, second_to_frame
from slowfast_custom.data.keyframes import KeyframeSpec, box_sources, load_keyframe_index
from slowfast_custom.errors import DataError


def make_video_frames(root: Path, video: str, n_frames: int) -> None:
    folder = root / "frames" / video
    folder.mkdir(parents=True, exist_ok=True)
    image = np.zeros((24, 32, 3), np.uint8)
    for i in range(n_frames):
        cv2.imwrite(str(folder / naming.frame_name(video, i + 1)), image)


def make_split(root: Path, videos: dict, gt_rows, pred_rows=()) -> KeyframeSpec:
    """videos: {name: n_frames}; writes frames, a frame list and box CSVs under root."""
    for video, n in videos.items():
        make_video_frames(root, video, n)
    af.write_frame_list(root / "frame_lists" / "train.csv", naming.frame_list_from_dir(root / "frames", videos))
    af.write_box_csv(root / "gt.csv", gt_rows, "gt")
    af.write_box_csv(root / "pred.csv", pred_rows, "predicted")
    return KeyframeSpec(frame_dir=root / "frames", frame_lists=[root / "frame_lists" / "train.csv"],
                        gt_box_files=[root / "gt.csv"], predicted_box_files=[root / "pred.csv"], max_action_id=4)


BOX = (0.1, 0.2, 0.5, 0.9)


def test_any_fps_and_start_second(tmp_path):
    spec = make_split(tmp_path, {"phone": 25 * 4}, [af.BoxRow("phone", s, BOX, 1, 0) for s in (1, 2, 3)])
    spec = KeyframeSpec(**{**spec.__dict__, "fps": 25.0})
    index = load_keyframe_index(spec)
    assert [(s, c) for _, _, s, c in index.keyframes] == [(1, 25), (2, 50), (3, 75)]
    assert second_to_frame(902, 30, 900) == 60  # AVA: frame 0 is second 900


def test_multi_label_boxes_and_predicted_negatives(tmp_path):
    rows = [af.BoxRow("v", 1, BOX, 1, 0), af.BoxRow("v", 1, BOX, 3, 0), af.BoxRow("v", 1, (0.5, 0.1, 0.9, 0.9), 2, 1)]
    preds = [af.BoxRow("v", 1, (0.0, 0.0, 0.2, 0.2), None, score=0.95), af.BoxRow("v", 2, BOX, None, score=0.1)]
    spec = make_split(tmp_path, {"v": 90}, rows, preds)
    spec = KeyframeSpec(**{**spec.__dict__, "score_thresh": 0.5})
    index = load_keyframe_index(spec)
    assert len(index.keyframes) == 1
    boxes = {tuple(b): labels for b, labels in index.boxes_and_labels[0][0]}
    assert boxes[BOX] == [1, 3]
    assert boxes[(0.0, 0.0, 0.2, 0.2)] == [-1]
    assert index.num_boxes == 3
    assert sum(index.skipped.values()) == 1


def test_clip_indices_keep_the_span_in_seconds():
    # Upstream's get_sequence(center=60, half_len=16, rate=2) at 30 fps:
    assert clip_frame_indices(60, 16, 2, 1000) == list(range(44, 76, 2))
    # The same span at 15 fps uses every frame; at 60 fps every 4th.
    assert clip_frame_indices(30, 16, 1, 1000) == list(range(22, 38))
    assert clip_frame_indices(120, 16, 4, 1000) == list(range(88, 152, 4))
    # A short video clamps to its ends.
    assert clip_frame_indices(2, 8, 2, 10) == [0, 0, 0, 0, 2, 4, 6, 8]
    assert clip_frame_indices(9, 8, 2, 10) == [1, 3, 5, 7, 9, 9, 9, 9]


def test_short_video(tmp_path):
    spec = make_split(tmp_path, {"short": 40}, [af.BoxRow("short", 1, BOX, 2, 0)])
    index = load_keyframe_index(spec)
    assert index.keyframes == [(0, 0, 1, 30)]


def test_video_without_frames_is_an_error_naming_the_row(tmp_path):
    spec = make_split(tmp_path, {"v": 60}, [af.BoxRow("v", 1, BOX, 1, 0), af.BoxRow("other", 1, BOX, 1, 0)])
    with pytest.raises(DataError, match="video other has boxes but no frames") as err:
        load_keyframe_index(spec)
    assert err.value.path == str(tmp_path / "gt.csv") and err.value.line == 2


def test_second_beyond_the_frames_names_video_and_second(tmp_path):
    spec = make_split(tmp_path, {"v": 60}, [af.BoxRow("v", 5, BOX, 1, 0)])
    with pytest.raises(DataError, match="video v second 5 is frame 150, but the video has 60 frames"):
        load_keyframe_index(spec)


def test_action_id_above_class_count(tmp_path):
    spec = make_split(tmp_path, {"v": 60}, [af.BoxRow("v", 1, BOX, 9, 0)])
    with pytest.raises(DataError, match="action_id 9 is larger than the model's 4 classes"):
        load_keyframe_index(spec)


def test_nothing_left_after_filtering_says_why(tmp_path):
    spec = make_split(tmp_path, {"v": 60}, [], [af.BoxRow("v", 1, BOX, None, score=0.3)])
    spec = KeyframeSpec(**{**spec.__dict__, "score_thresh": 0.8})
    with pytest.raises(DataError, match="no keyframes left after filtering \\(1 predicted boxes scored below 0.8\\)"):
        load_keyframe_index(spec)


def test_valid_seconds_and_validation_stride(tmp_path):
    spec = make_split(tmp_path, {"v": 300}, [af.BoxRow("v", s, BOX, 1, 0) for s in range(1, 9)])
    only = load_keyframe_index(KeyframeSpec(**{**spec.__dict__, "valid_seconds": (2, 5)}))
    assert [s for _, _, s, _ in only.keyframes] == [2, 3, 4, 5]
    strided = load_keyframe_index(KeyframeSpec(**{**spec.__dict__, "second_stride": 4}))
    assert [s for _, _, s, _ in strided.keyframes] == [4, 8]


def test_upstream_recipe_lists_ground_truth_among_the_predicted_files(tmp_path):
    """AVA's recipe: TRAIN_PREDICT_BOX_LISTS = [ava_train_v2.2.csv, ..._include_negative_v2.2.csv] beside
    TRAIN_GT_BOX_LISTS = [ava_train_v2.2.csv]. The ground truth (person ids in column 8) is read once, as
    ground truth; the detections' -1 rows are background boxes (no label), as upstream trains them."""
    make_video_frames(tmp_path, "v", 90)
    af.write_frame_list(tmp_path / "train.csv", naming.frame_list_from_dir(tmp_path / "frames", ["v"]))
    (tmp_path / "ava_train_v2.2.csv").write_text("v,0001,0.1,0.2,0.5,0.9,12,7\nv,0001,0.1,0.2,0.5,0.9,80,7\n")
    (tmp_path / "det.csv").write_text("v,0001,0.105,0.2,0.5,0.9,12,0.97\nv,0001,0.6,0.1,0.9,0.8,-1,0.9\n"
                                      "v,0001,0.0,0.1,0.2,0.8,,0.95\nv,0001,0.3,0.1,0.4,0.8,-1,0.3\n")
    gt, det = tmp_path / "ava_train_v2.2.csv", tmp_path / "det.csv"
    assert box_sources([gt], [gt, det]) == [(gt, "gt"), (det, "predicted")]
    spec = KeyframeSpec(frame_dir=tmp_path / "frames", frame_lists=[tmp_path / "train.csv"], gt_box_files=[gt],
                        predicted_box_files=[gt, det], score_thresh=0.8, max_action_id=80)
    index = load_keyframe_index(spec)
    boxes = {tuple(b): labels for b, labels in index.boxes_and_labels[0][0]}
    assert boxes == {(0.1, 0.2, 0.5, 0.9): [12, 80], (0.105, 0.2, 0.5, 0.9): [12], (0.6, 0.1, 0.9, 0.8): [-1],
                     (0.0, 0.1, 0.2, 0.8): [-1]}  # the -1 box scored 0.3 is below the threshold
