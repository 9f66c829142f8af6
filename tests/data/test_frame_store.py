"""The frame store: written once at the config's largest size, read with the originals' shapes and boxes."""

import json

import cv2
import numpy as np
import pytest

from slowfast_custom.benchmarks.loading import clip_difference
from slowfast_custom.data.custom_ava import Customava
from slowfast_custom.data.frame_store import (
    MANIFEST_NAME,
    default_store_dir,
    prepare_frame_store,
    store_short_side,
)
from slowfast_custom.data.synthetic import SyntheticSpec, make_synthetic_dataset
from slowfast_custom.errors import UserError

from conftest import TINY_CFG, run_tool, tiny_cfg


@pytest.fixture(scope="module")
def wide_dataset(tmp_path_factory):
    """One train and one val video of 480x270 frames: the tiny config scales them to 112-128 px."""
    root = tmp_path_factory.mktemp("frame_store")
    make_synthetic_dataset(root, SyntheticSpec(train_videos=1, val_videos=1, seconds=4, width=480, height=270,
                                               seed=3))
    return root


def datasets(root, out, split, *overrides):
    on = Customava(tiny_cfg(root, out, "DATA_LOADER.FRAME_STORE", "auto", *overrides), split)
    off = Customava(tiny_cfg(root, out, "DATA_LOADER.FRAME_STORE", "off", *overrides), split)
    return on, off


def test_store_clips_have_the_originals_shapes_and_boxes(wide_dataset, tmp_path):
    cfg = tiny_cfg(wide_dataset, tmp_path)
    size = store_short_side(cfg)
    store = default_store_dir(wide_dataset / "frames", size)
    report = prepare_frame_store(wide_dataset / "frames", store, size, quality=90, workers=1)
    assert report.videos == 2 and report.written == report.frames and not report.not_stored
    one = next(store.glob("*/*.jpg"))
    assert min(cv2.imread(str(one)).shape[:2]) == size < 270
    for split in ("train", "val"):
        on, off = datasets(wide_dataset, tmp_path, split)
        assert len(on._stored_size) == 1 and not off._stored_size
        diff = clip_difference(off, on, list(range(len(on))), cfg)
        print(f"{split}: mean |difference| {diff.mean_abs_levels:.2f} grey levels, boxes {diff.max_box_px:g} px")
        assert diff.same_shapes and diff.max_box_px < 1e-3
        assert diff.mean_abs_levels < 3.0
        for i in range(len(on)):
            np.random.seed(i)
            _, labels_on, _, extra_on = on[i]
            np.random.seed(i)
            _, labels_off, _, extra_off = off[i]
            assert np.array_equal(labels_on, labels_off)
            assert np.array_equal(extra_on["ori_boxes"], extra_off["ori_boxes"])

    again = prepare_frame_store(wide_dataset / "frames", store, size, quality=90, workers=1)
    assert again.written == 0 and again.frames == report.frames  # a rerun resumes
    with pytest.raises(UserError, match="another size"):
        prepare_frame_store(wide_dataset / "frames", store, size + 16, workers=1)


def test_a_store_too_small_or_missing(wide_dataset, tmp_path):
    size = store_short_side(tiny_cfg(wide_dataset, tmp_path))
    small = tmp_path / "small_store"
    prepare_frame_store(wide_dataset / "frames", small, size // 2, workers=1)
    with pytest.raises(UserError, match="smaller than"):
        Customava(tiny_cfg(wide_dataset, tmp_path, "DATA_LOADER.FRAME_STORE", str(small)), "train")
    with pytest.raises(UserError, match="prepare_frames"):
        Customava(tiny_cfg(wide_dataset, tmp_path, "DATA_LOADER.FRAME_STORE", str(tmp_path / "none")), "train")
    # "auto" with a store of the wrong size under the expected name: the originals are read.
    auto_dir = tmp_path / "data"
    auto_dir.mkdir()
    (auto_dir / "frames").symlink_to(wide_dataset / "frames")
    (auto_dir / "frame_lists").symlink_to(wide_dataset / "frame_lists")
    (auto_dir / "annotations").symlink_to(wide_dataset / "annotations")
    default_store_dir(auto_dir / "frames", size).mkdir()
    manifest = json.loads((small / MANIFEST_NAME).read_text())
    (default_store_dir(auto_dir / "frames", size) / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert not Customava(tiny_cfg(auto_dir, tmp_path, "DATA_LOADER.FRAME_STORE", "auto"), "train")._stored_size


def test_prepare_frames_tool(wide_dataset, tmp_path):
    out = tmp_path / "store"
    result = run_tool("prepare_frames.py", wide_dataset, "--cfg", TINY_CFG, "--out", out, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "2 videos" in result.stdout and f"DATA_LOADER.FRAME_STORE {out}" in result.stdout
    assert (out / MANIFEST_NAME).is_file()
    missing = run_tool("prepare_frames.py", tmp_path / "nothing", "--cfg", TINY_CFG)
    assert missing.returncode == 2 and "frames folder not found" in missing.stderr
    assert "Traceback" not in missing.stderr
