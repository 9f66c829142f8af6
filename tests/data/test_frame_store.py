"""The frame store: written once at the config's largest size, read with the originals' shapes and boxes."""

import json

import cv2
import numpy as np
import pytest

from benchmarks.loading import clip_difference
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


def extracted_dataset(root, seconds=6, fps=10):
    """A dataset as the README's workflow makes it: vtest.avi's first seconds extracted by tools/extract_frames.py
    (with its .extract.json marker), one person box per second 1..seconds-2 in both splits."""
    from slowfast_custom.ava.formats import BoxRow, LabelMapEntry, write_box_csv, write_exclusions, write_label_map

    from conftest import shared_file

    video = shared_file("data", "vtest.avi")
    result = run_tool("extract_frames.py", video, "--out", root, "--fps", str(fps), "--end-sec", str(seconds),
                      "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert (root / "frames" / "vtest" / ".extract.json").is_file()
    for split in ("train", "val"):
        (root / "frame_lists" / f"{split}.csv").write_text((root / "frame_lists" / "all.csv").read_text())
    ann = root / "annotations"
    ann.mkdir()
    rows = [BoxRow("vtest", s, (0.3, 0.2, 0.5, 0.8), 1 + s % 2, 0) for s in range(1, seconds - 1)]
    write_box_csv(ann / "ava_train_v2.2.csv", rows, "gt")
    write_box_csv(ann / "ava_val_v2.2.csv", rows, "gt")
    write_box_csv(ann / "ava_val_predicted_boxes.csv", [BoxRow("vtest", r.second, r.box, None, score=0.9)
                                                       for r in rows], "predicted")
    write_label_map(ann / "ava_action_list_v2.2_for_activitynet_2019.pbtxt",
                    [LabelMapEntry(i + 1, n) for i, n in enumerate(("stand", "walk", "jump", "wave"))])
    write_exclusions(ann / "ava_val_excluded_timestamps_v2.2.csv", [])
    return ["AVA.FPS", str(fps), "DATA.TARGET_FPS", str(fps)]


def test_store_made_from_extracted_frames_is_what_training_reads(tmp_path):
    """extract_frames -> prepare_frames -> the training loader: the store holds the video and its clips come from
    there (the originals moved away, a clip still loads, with the originals' shapes and boxes)."""
    data = tmp_path / "data"
    overrides = extracted_dataset(data)
    result = run_tool("prepare_frames.py", data, "--cfg", TINY_CFG, "--workers", "1", *overrides)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": 1 videos, 60 frames" in result.stdout, result.stdout
    cfg_args = (data, tmp_path / "out", *overrides)
    originals = Customava(tiny_cfg(*cfg_args, "DATA_LOADER.FRAME_STORE", "off"), "train")
    np.random.seed(0)
    expected = originals[0]
    stored = Customava(tiny_cfg(*cfg_args), "train")
    assert stored._stored_size == {0: (576, 768)}
    (data / "frames").rename(data / "moved_away")
    np.random.seed(0)
    (slow, fast), labels, _, extra = stored[0]
    assert fast.shape == expected[0][1].shape and np.array_equal(labels, expected[1])
    assert np.allclose(extra["boxes"], expected[3]["boxes"]) and np.array_equal(extra["ori_boxes"],
                                                                                 expected[3]["ori_boxes"])
    assert float((fast - expected[0][1]).abs().mean()) < 0.1  # normalised units: the store's resampling only


def test_storing_no_video_of_a_folder_with_frames_is_an_error(tmp_path):
    frames = tmp_path / "frames" / "clip"
    frames.mkdir(parents=True)
    cv2.imwrite(str(frames / "clip_000001.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserError, match="no video .*stored.*clip: files other than JPEG frames"):
        prepare_frame_store(tmp_path / "frames", tmp_path / "store", 112, workers=1)
    assert not (tmp_path / "store" / MANIFEST_NAME).exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no video folders"):
        prepare_frame_store(tmp_path / "empty", tmp_path / "store2", 112, workers=1)
