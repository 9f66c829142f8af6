"""The registered dataset: built by upstream's registry from the config, clips and labels as the model needs."""

import shutil

import numpy as np
import pytest
from slowfast.datasets import cv2_transform
from slowfast.datasets.build import build_dataset

from slowfast_custom.data.custom_ava import _scale_short_side, scaled_size
from slowfast_custom.errors import DataError

from conftest import tiny_cfg


def test_registry_builds_customava_from_config(tiny_dataset, tmp_path):
    cfg = tiny_cfg(tiny_dataset, tmp_path)
    dataset = build_dataset(cfg.TRAIN.DATASET, cfg, "train")
    assert type(dataset).__name__ == "Customava" and len(dataset) > 0
    frames, labels, idx, extra = dataset[0]
    slow, fast = frames
    assert tuple(fast.shape) == (3, cfg.DATA.NUM_FRAMES, 112, 112)
    assert tuple(slow.shape) == (3, cfg.DATA.NUM_FRAMES // cfg.SLOWFAST.ALPHA, 112, 112)
    assert labels.shape == (len(extra["boxes"]), cfg.MODEL.NUM_CLASSES)
    assert (labels.sum(axis=1) >= 1).all()
    assert np.all(extra["ori_boxes"] >= 0) and np.all(extra["ori_boxes"] <= 1)
    assert np.all(extra["boxes"] >= 0) and np.all(extra["boxes"] <= 112)
    assert extra["metadata"][0][1] >= 1


def test_val_split_uses_predicted_boxes(tiny_dataset, tmp_path):
    cfg = tiny_cfg(tiny_dataset, tmp_path)
    dataset = build_dataset(cfg.TRAIN.DATASET, cfg, "val")
    _, labels, _, extra = dataset[0]
    # Predicted boxes carry no action: every label row is empty.
    assert labels.sum() == 0 and len(extra["boxes"]) >= 1


def test_unreadable_frame_names_the_file(tiny_dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    cfg = tiny_cfg(data, tmp_path / "out")
    dataset = build_dataset(cfg.TRAIN.DATASET, cfg, "train")
    video_idx, _, _, center = dataset._keyframe_indices[0]
    broken = dataset._image_paths[video_idx][center]
    with open(broken, "wb") as f:
        f.write(b"not a jpeg")
    with pytest.raises(DataError, match="cannot read frame") as err:
        dataset[0]
    assert err.value.path == broken


@pytest.mark.parametrize("height, width", [(120, 160), (121, 161), (300, 161), (112, 150), (90, 60), (200, 200)])
def test_short_side_scaling_rounds_as_upstream(height, width):
    frame = np.zeros((height, width, 3), np.uint8)
    (scaled,), _ = _scale_short_side([frame], 112)
    assert scaled.shape[:2] == cv2_transform.scale(112, frame).shape[:2] == scaled_size(height, width, 112)
