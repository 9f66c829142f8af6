"""Reduced-scale JPEG decoding gives the model what decode-then-resize gives it: same shapes, boxes and pixels
up to a small, stated difference."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from benchmarks.configs import variant
from benchmarks.data import FramesSpec, make_frames_dataset
from benchmarks.loading import FAST_PATH_OFF, NO_CACHE, clip_difference, seeded_item
from slowfast_custom.ava.images import frame_file_problem, jpeg_size
from slowfast_custom.data.custom_ava import Customava, load_frames
from slowfast_custom.data.frame_decode import FrameDecoder, choose_reduction, frame_decoder_from_cfg, read_frame
from slowfast_custom.errors import DataError, UserError

from conftest import tiny_cfg

# Mean |difference| allowed between the fast path's clips and decode-then-resize, in 0-255 grey levels.
# The paths differ only in detail finer than the model input can show: libjpeg's DCT scaling averages it
# away, OpenCV's bilinear downscale of the full frame (by 3-4x, no low-pass) aliases it. On these textured
# 1080p frames that is 0.5 (1/2 decode) to 1.0 (1/4) levels; the same clip moved by one pixel differs by
# about 4 (checked below), so the bound still catches a wrong crop, scale or channel order.
MAX_MEAN_ABS_LEVELS = 2.0

# Four 1080p frames per clip, two keyframes one second apart (8 fps, so 20 frames in all).
SPEC = FramesSpec(width=1920, height=1080, fps=8, keyframes=2, lead_seconds=1, tail_frames=4)


@pytest.fixture(scope="module")
def hd_frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("hd_frames")
    make_frames_dataset(root, SPEC, workers=2)
    return root


def hd_cfg(root, out, *overrides):
    return tiny_cfg(root, out, "AVA.FPS", "8", "DATA.TARGET_FPS", "8", "DATA.SAMPLING_RATE", "1",
                    "DATA.NUM_FRAMES", "4", "AVA.START_SEC", "900", "DATA.TRAIN_JITTER_SCALES", "[256, 320]",
                    "DATA.TRAIN_CROP_SIZE", "224", "DATA.TEST_CROP_SIZE", "256",
                    "AVA.ALLOW_SPLIT_OVERLAP", "True", *overrides)  # the benchmark's one video is in both splits


def frame_paths(root, count=4):
    return [str(root / "frames" / SPEC.frame_name(t)) for t in range(count)]


@pytest.mark.parametrize("split, reduction", [
    ("train", 2),  # short side 540 >= max jitter scale 320; 270 would be too small
    ("val", 4),  # 270 >= TEST_CROP_SIZE 256 (centre crop)
    ("test", 4),  # no crop: the box at the right edge is clipped to the image as upstream clips it
])
def test_fast_path_matches_decode_then_resize(hd_frames, tmp_path, split, reduction):
    cfg = hd_cfg(hd_frames, tmp_path)
    reference = Customava(variant(cfg, FAST_PATH_OFF), split)  # reads exactly as upstream (benchmark checks it)
    fast = Customava(variant(cfg, NO_CACHE), split)
    assert reference._frame_decoder is None
    with open(frame_paths(hd_frames, 1)[0], "rb") as f:
        assert fast._frame_decoder.reduction_for(f.read()) == reduction
    diff = clip_difference(reference, fast, range(len(fast)), cfg)
    assert diff.same_shapes
    assert diff.mean_abs_levels <= MAX_MEAN_ABS_LEVELS, diff
    assert diff.max_box_px <= 1e-3, diff

    # The bound is tight enough to notice a clip shifted by one pixel.
    (slow, fast_pathway), _, _, _ = seeded_item(reference, 0, 0)
    shift = (fast_pathway[..., 1:] - fast_pathway[..., :-1]).abs() * cfg.DATA.STD[0] * 255
    assert float(shift.mean()) > MAX_MEAN_ABS_LEVELS


def test_jpeg_size_reads_the_frame_header(hd_frames, tmp_path):
    path = frame_paths(hd_frames, 1)[0]
    data = open(path, "rb").read()
    assert jpeg_size(data) == (1080, 1920)
    image = cv2.imread(path)[:301, :403]
    progressive = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    assert jpeg_size(progressive) == (301, 403)
    assert jpeg_size(cv2.imencode(".png", image)[1].tobytes()) is None
    assert jpeg_size(b"") is None and jpeg_size(data[:20]) is None


def test_choose_reduction_keeps_sizes_and_aspect_ratio():
    assert choose_reduction(1080, 1920, 320) == 2
    assert choose_reduction(1080, 1920, 256) == 4
    assert choose_reduction(1080, 1920, 128) == 8
    assert choose_reduction(1080, 1920, 128, max_reduction=2) == 2
    assert choose_reduction(1080, 1920, 1200) == 1  # never upscale
    assert choose_reduction(480, 854, 112) == 2  # 854 / 4 is not whole: the aspect ratio would change
    assert choose_reduction(1920, 1080, 320) == 2  # portrait: the short side counts


def test_decoder_matches_opencv_and_reuses_the_previous_clip(hd_frames):
    paths = frame_paths(hd_frames, 6)
    plain = FrameDecoder(min_short_side=256)
    cached = FrameDecoder(min_short_side=256, cache_frames=4)
    first = cached(paths[:4])
    assert cached.decoded == 4
    second = cached(paths[2:6])  # two frames shared with the previous clip
    assert cached.decoded == 6
    for got, want in zip(first + second, plain(paths[:4]) + plain(paths[2:6])):
        assert got.shape == (270, 480, 3) and np.array_equal(got, want)
    assert not second[0].flags.writeable  # shared with later clips
    full = load_frames(paths[:1])[0]
    assert np.abs(full.reshape(270, 4, 480, 4, 3).mean(axis=(1, 3)) - first[0]).mean() < MAX_MEAN_ABS_LEVELS


def test_torch_decode_path_matches_opencv(hd_frames):
    """The GPU decoding path, run with torchvision's CPU decoder: nvJPEG's output is checked on CUDA below."""
    paths = frame_paths(hd_frames, 2)
    want = FrameDecoder(min_short_side=320)(paths)
    got = FrameDecoder(min_short_side=320, device="cpu")(paths)
    for a, b in zip(got, want):
        assert a.shape == b.shape == (540, 960, 3) and a.dtype == np.uint8
        assert np.abs(a.astype(np.float32) - b).mean() < MAX_MEAN_ABS_LEVELS


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_decode_matches_cpu(hd_frames):
    paths = frame_paths(hd_frames, 2)
    want = FrameDecoder(min_short_side=320, device="cpu")(paths)
    got = FrameDecoder(min_short_side=320, device="cuda")(paths)
    for a, b in zip(got, want):
        assert a.shape == b.shape and np.abs(a.astype(np.float32) - b).mean() < MAX_MEAN_ABS_LEVELS


@pytest.mark.parametrize("content", [None, b"", b"not a jpeg"])
@pytest.mark.parametrize("device", [None, "cpu"])
def test_unreadable_frame_is_the_same_error_on_the_fast_path(hd_frames, tmp_path, content, device):
    broken = tmp_path / "video_x" / "frame.jpg"
    broken.parent.mkdir()
    if content is not None:
        broken.write_bytes(content)
    paths = frame_paths(hd_frames, 2) + [str(broken)]
    with pytest.raises(DataError) as fast:
        FrameDecoder(min_short_side=256, device=device)(paths)
    with pytest.raises(DataError) as plain:
        load_frames(paths)
    assert str(fast.value) == str(plain.value) and fast.value.path == str(broken)


def test_keys_off_read_frames_as_before_and_gpu_decode_needs_cuda(hd_frames, tmp_path):
    cfg = hd_cfg(hd_frames, tmp_path)
    assert frame_decoder_from_cfg(variant(cfg, FAST_PATH_OFF), "train") is None
    assert frame_decoder_from_cfg(cfg, "train").cache_frames == cfg.DATA.NUM_FRAMES
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="GPU_DECODE"):
            frame_decoder_from_cfg(variant(cfg, ["DATA_LOADER.GPU_DECODE", True]), "train")
    with pytest.raises(UserError, match="MAX_DECODE_REDUCTION"):
        frame_decoder_from_cfg(variant(cfg, ["DATA_LOADER.MAX_DECODE_REDUCTION", 3]), "train")


@pytest.mark.parametrize("device", [None, "cpu"])
def test_a_truncated_frame_is_refused_not_decoded_grey(hd_frames, tmp_path, device):
    """libjpeg decodes a cut-off JPEG (grey where data is missing) with a warning naming no file."""
    paths = frame_paths(hd_frames, 3)
    cut = tmp_path / "video_x" / "frame.jpg"
    cut.parent.mkdir()
    cut.write_bytes(Path(paths[1]).read_bytes()[:-500])
    assert cv2.imread(str(cut)) is not None  # what went unnoticed
    paths[1] = str(cut)
    for read in (FrameDecoder(min_short_side=256, device=device), load_frames, lambda p: [read_frame(x) for x in p]):
        with pytest.raises(DataError, match=r"frame\.jpg: cannot read frame of video video_x \(truncated JPEG"):
            read(paths)


def test_image_problem_reads_only_the_ends(tmp_path):
    good = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    png = cv2.imencode(".png", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    cases = {good: None, good + b"\x00" * 8: None, png: None, good[:-10]: "truncated JPEG", png[:-20]: "truncated PNG",
             b"": "empty file", b"hello": "not a JPEG or PNG image", good[:2] + b"\xff\xda" + good[4:]: "frame header"}
    for data, problem in cases.items():
        path = tmp_path / "f.jpg"
        path.write_bytes(data)
        found = frame_file_problem(path)
        assert (found is None) if problem is None else (problem in found), (data[:8], found)
