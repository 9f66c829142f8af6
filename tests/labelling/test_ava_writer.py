"""The AVA-writer: labelled boxes -> the annotation and frame-list files the base config trains on."""

import pytest

from slowfast_custom.ava.formats import (
    LabelMapEntry,
    frame_relpath,
    read_box_csv,
    read_class_names_json,
    read_exclusions,
    read_frame_list,
    read_label_map,
)
from slowfast_custom.config import get_cfg
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.labelling import ava_writer as aw
from slowfast_custom.labelling.ava_writer import LabelledBox, SplitSpec, split_videos, write_ava_dataset_annotations

from conftest import REPO
from rendered_frames import write_video_frames

ACTIONS = [LabelMapEntry(1, "walk"), LabelMapEntry(2, "stand"), LabelMapEntry(3, "wave")]


@pytest.fixture
def frames(tmp_path):
    root = tmp_path / "data" / "frames"
    for video in ("va", "vb", "vc"):
        write_video_frames(root, video, seconds=5, fps=10)
    return root


def boxes():
    return [
        LabelledBox("va", 2, (0.1, 0.2, 0.3, 0.9), (1, 3), 1, "a1"),
        LabelledBox("va", 2, (0.5, 0.2, 0.7, 0.9), (), 2, "a2"),  # nobody ticked an action
        LabelledBox("va", 3, (-0.01, 0.2, 0.3004, 1.2), (2,), 1, "a3"),  # clipped and rounded
        LabelledBox("vb", 2, (0.1, 0.1, 0.2, 0.2), (2,), 7, "b1"),
        LabelledBox("vc", 1, (0.3, 0.3, 0.6, 0.6), (1,), 1, "c1"),
    ]


def test_writes_every_file_the_base_config_reads(frames):
    data = frames.parent
    summary = write_ava_dataset_annotations(data, boxes(), ACTIONS, split=SplitSpec(val_videos=["vb"]), fps=10)
    cfg = get_cfg()
    cfg.merge_from_file(str(REPO / "configs" / "Base-Customava.yaml"))
    ann = data / "annotations"
    assert [aw.TRAIN_LIST] == list(cfg.AVA.TRAIN_LISTS) and [aw.VAL_LIST] == list(cfg.AVA.TEST_LISTS)
    assert [aw.TRAIN_GT] == list(cfg.AVA.TRAIN_GT_BOX_LISTS) and aw.VAL_GT == cfg.AVA.GROUNDTRUTH_FILE
    assert [aw.VAL_PREDICTED] == list(cfg.AVA.TEST_PREDICT_BOX_LISTS) and aw.LABEL_MAP == cfg.AVA.LABEL_MAP_FILE
    assert aw.VAL_EXCLUDED == cfg.AVA.EXCLUSION_FILE

    train = read_box_csv(ann / aw.TRAIN_GT, "gt")
    assert [(r.video_id, r.second, r.box, r.action_id, r.person_id) for r in train] == [
        ("va", 2, (0.1, 0.2, 0.3, 0.9), 1, 1), ("va", 2, (0.1, 0.2, 0.3, 0.9), 3, 1),
        ("va", 3, (0.0, 0.2, 0.3, 1.0), 2, 1), ("vc", 1, (0.3, 0.3, 0.6, 0.6), 1, 1)]
    val = read_box_csv(ann / aw.VAL_GT, "gt")
    assert [(r.video_id, r.second, r.action_id, r.person_id) for r in val] == [("vb", 2, 2, 7)]
    predicted = read_box_csv(ann / aw.VAL_PREDICTED, "predicted")
    assert [(r.video_id, r.second, r.box, r.score) for r in predicted] == [("vb", 2, (0.1, 0.1, 0.2, 0.2), 1.0)]
    assert [(e.id, e.name) for e in read_label_map(ann / aw.LABEL_MAP)] == [(1, "walk"), (2, "stand"), (3, "wave")]
    assert read_class_names_json(ann / aw.CLASS_NAMES) == ["walk", "stand", "wave"]
    assert read_exclusions(ann / aw.VAL_EXCLUDED) == set() == read_exclusions(ann / aw.TRAIN_EXCLUDED)
    assert list(read_frame_list(data / "frame_lists" / aw.TRAIN_LIST)) == ["va", "vc"]
    assert read_frame_list(data / "frame_lists" / aw.VAL_LIST) == {"vb": [frame_relpath("vb", i) for i in range(1, 51)]}

    assert summary.videos == {"train": ["va", "vc"], "val": ["vb"]}
    assert summary.unlabelled == 1 and summary.unlabelled_where == ["a2"]
    assert summary.num_classes == 3 and summary.action_counts == {"walk": 2, "stand": 2, "wave": 1}
    assert "1 boxes have no action ticked and were left out: a2" in summary.report()


def test_frames_elsewhere_are_linked(frames, tmp_path):
    data = tmp_path / "other"
    summary = write_ava_dataset_annotations(data, boxes(), ACTIONS, frame_dir=frames, fps=10)
    assert (data / "frames").resolve() == frames.resolve()
    assert any("links to" in w for w in summary.warnings)


def test_detector_boxes_for_validation(frames):
    from slowfast_custom.ava.formats import BoxRow

    det = [BoxRow("vb", 2, (0.1, 0.1, 0.25, 0.2), None, score=0.7),
           BoxRow("va", 2, (0.1, 0.1, 0.2, 0.2), None, score=0.9)]
    write_ava_dataset_annotations(frames.parent, boxes(), ACTIONS, split=SplitSpec(val_videos=["vb"]), fps=10,
                                  val_predicted_boxes=det)
    rows = read_box_csv(frames.parent / "annotations" / aw.VAL_PREDICTED, "predicted")
    assert [(r.video_id, r.score) for r in rows] == [("vb", 0.7)]  # only val videos


def test_ratio_split_never_mixes_a_video():
    videos = [f"v{i}" for i in range(10)]
    train, val = split_videos(videos, SplitSpec(val_ratio=0.3, seed=1))
    assert len(val) == 3 and not set(train) & set(val) and sorted(train + val) == videos
    assert split_videos(videos, SplitSpec(val_ratio=0.3, seed=1)) == (train, val)
    assert split_videos(["a", "b"], SplitSpec(val_ratio=0.1)) [1] != []  # at least one val video
    assert split_videos(["a"], SplitSpec(val_ratio=0.5)) == (["a"], [])


@pytest.mark.parametrize("spec, message", [
    (SplitSpec(val_videos=["va"], train_videos=["va", "vb"]), "listed for both train and val"),
    (SplitSpec(val_videos=["nope"]), "name videos without labelled boxes: nope"),
    (SplitSpec(val_videos=["va"], train_videos=["vb"]), "vc are in neither"),
    (SplitSpec(val_ratio=1.0), "val ratio"),
])
def test_bad_split(spec, message):
    with pytest.raises(UserError, match=message):
        split_videos(["va", "vb", "vc"], spec)


def test_single_video_warns_about_an_empty_val_split(frames):
    summary = write_ava_dataset_annotations(frames.parent, boxes()[:3], ACTIONS, fps=10)
    assert summary.videos["val"] == [] and any("val split is empty" in w for w in summary.warnings)


def test_action_ids_with_gaps_skip_ava_json(frames):
    actions = [LabelMapEntry(1, "walk"), LabelMapEntry(2, "stand"), LabelMapEntry(5, "wave")]
    items = [LabelledBox("va", 2, (0.1, 0.2, 0.3, 0.9), (5,), 1)]
    summary = write_ava_dataset_annotations(frames.parent, items, actions, fps=10)
    assert summary.num_classes == 5 and not (frames.parent / "annotations" / aw.CLASS_NAMES).exists()
    assert any("MODEL.NUM_CLASSES to 5" in w for w in summary.warnings)


@pytest.mark.parametrize("item, message", [
    (LabelledBox("va", 2, (0.1, 0.2, 0.3, 0.9), (4,), 9, "image va__000002.jpg, region 3"),
     "image va__000002.jpg, region 3: action id 4 is not in the action list"),
    (LabelledBox("va", 2, (0.5, 0.2, 0.5002, 0.9), (1,), 5, "thin"), "thin: box .* has no area"),
    (LabelledBox("va", 2, (0.5, 0.2, 0.7, 0.9), (1,), 1, "copy"), "copy: person id 1 is used twice .*also a1"),
    (LabelledBox("va", 9, (0.5, 0.2, 0.7, 0.9), (1,), 3, "late"),
     "late: second 9 of video va is frame 91, but .* has 50"),
    (LabelledBox("v a", 2, (0.5, 0.2, 0.7, 0.9), (1,), 3, "space"), "space: video id 'v a'"),
])
def test_bad_boxes_name_their_source(frames, item, message):
    with pytest.raises(DataError, match=message):
        write_ava_dataset_annotations(frames.parent, boxes() + [item], ACTIONS, fps=10)
    assert not (frames.parent / "annotations").exists()  # nothing written before validation passed


def test_nothing_labelled_or_no_frames(frames, tmp_path):
    with pytest.raises(UserError, match="none of the 1 boxes has an action"):
        write_ava_dataset_annotations(frames.parent, [boxes()[1]], ACTIONS, fps=10)
    with pytest.raises(UserError, match="frames folder not found"):
        write_ava_dataset_annotations(tmp_path / "empty", boxes(), ACTIONS)
