"""Detector backends behind build_detector: HOG runs offline; Faster R-CNN downloads its weights (from a local
server here), YOLO loads only local weights."""

import hashlib
import io
import sys
import types

import cv2
import numpy as np
import pytest
import torch

from slowfast_custom.detection import Detection, build_detector, keep_valid, yolo
from slowfast_custom.detection import torchvision_frcnn as frcnn
from slowfast_custom.errors import UserError

from conftest import run_tool, shared_file
from weights_server import WeightsServer, closed_port, torch_home  # noqa: F401  (torch_home: a fixture)


def test_unknown_backend_and_bad_threshold():
    with pytest.raises(UserError, match="unknown detector 'ssd'.*hog"):
        build_detector("ssd")
    with pytest.raises(UserError, match=r"threshold must be in \[0, 1\]"):
        build_detector("hog", score_thresh=1.5)


def test_keep_valid_clips_drops_and_sorts():
    dets = [Detection((-5, -5, 20, 30), 0.6), Detection((10, 10, 10.5, 40), 0.9), Detection((0, 0, 5, 5), 0.3),
            Detection((50, 60, 90, 200), 0.95)]
    kept = keep_valid(dets, 80, 100, 0.5)
    assert kept == [Detection((50.0, 60.0, 80.0, 100.0), 0.95), Detection((0.0, 0.0, 20.0, 30.0), 0.6)]


def test_hog_on_a_blank_frame_finds_nobody():
    detector = build_detector("hog")
    assert detector(np.zeros((240, 320, 3), np.uint8)) == []


def test_hog_finds_pedestrians_in_the_street_video():
    cap = cv2.VideoCapture(str(shared_file("data", "vtest.avi")))
    ok, frame = cap.read()
    cap.release()
    assert ok
    dets = build_detector("hog", score_thresh=0.5)(frame)
    assert dets and all(isinstance(d, Detection) and 0.5 <= d.score <= 1 for d in dets)
    for d in dets:
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 < x2 <= frame.shape[1] and 0 <= y1 < y2 <= frame.shape[0]
        assert y2 - y1 > x2 - x1  # upright people


def stand_in_weights(marker: float) -> bytes:
    """A state dict of the real architecture (fp16 to halve the file), its box-classifier bias set to ``marker``."""
    state = frcnn.load_model(None).state_dict()
    state["roi_heads.box_predictor.cls_score.bias"].fill_(marker)
    buffer = io.BytesIO()
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, buffer)
    return buffer.getvalue()


def test_frcnn_downloads_its_weights_once_into_torchs_cache(torch_home, monkeypatch, capsys):
    body = stand_in_weights(0.25)
    # torch.hub checks the sha256 prefix that torchvision's file names carry: give the stand-in a name that matches.
    name = f"fasterrcnn_resnet50_fpn_coco-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    server = WeightsServer({f"/{name}": body})
    try:
        monkeypatch.setattr(frcnn, "weights_url", lambda: server.url(name))
        detector = build_detector("torchvision_frcnn")
        cached = torch_home / "hub" / "checkpoints" / name
        assert frcnn.cached_weights_path() == cached and cached.read_bytes() == body
        assert float(detector.model.roi_heads.box_predictor.cls_score.bias.detach()[0]) == 0.25
        assert server.requests == [f"/{name}"]
        out = capsys.readouterr()
        assert f'Downloading: "{server.url(name)}" to {cached}' in out.out and "%" in out.err  # progress bar
        build_detector("torchvision_frcnn")  # from the cache now
        assert len(server.requests) == 1
        assert [p.name for p in cached.parent.iterdir()] == [name]
    finally:
        server.close()


def test_frcnn_refuses_a_download_whose_hash_does_not_match(torch_home, monkeypatch):
    name = "fasterrcnn_resnet50_fpn_coco-00000000.pth"
    server = WeightsServer({f"/{name}": b"not the file you were promised"})
    try:
        monkeypatch.setattr(frcnn, "weights_url", lambda: server.url(name))
        with pytest.raises(UserError, match=r'invalid hash value \(expected "00000000"') as err:
            build_detector("torchvision_frcnn")
        assert "\n" not in str(err.value)
        assert not any((torch_home / "hub" / "checkpoints").iterdir())  # no partial file left behind
    finally:
        server.close()


def test_frcnn_offline_says_which_file_to_put_where(torch_home, monkeypatch):
    real_url = frcnn.weights_url()
    assert real_url == "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    offline_url = f"http://127.0.0.1:{closed_port()}/{real_url.rsplit('/', 1)[1]}"
    monkeypatch.setattr(frcnn, "weights_url", lambda: offline_url)
    expected = torch_home / "hub" / "checkpoints" / "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    assert frcnn.cached_weights_path() == expected
    with pytest.raises(UserError) as err:
        build_detector("torchvision_frcnn")
    text = str(err.value)
    assert "\n" not in text and text.startswith("cannot download torchvision's COCO Faster R-CNN weights (")
    assert f"download {offline_url} and put fasterrcnn_resnet50_fpn_coco-258fb6c6.pth at {expected}" in text
    assert "--weights" in text
    with pytest.raises(UserError, match="nowhere.pth: Faster R-CNN weights file not found.*leave the weights empty"):
        build_detector("torchvision_frcnn", weights=str(torch_home / "nowhere.pth"))


def test_frcnn_rejects_a_file_that_is_not_its_weights(tmp_path):
    bad = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(UserError, match="not torchvision's COCO Faster R-CNN R50-FPN weights"):
        frcnn.load_model(str(bad))


def test_frcnn_keeps_only_confident_people():
    class StandIn(torch.nn.Module):  # a torchvision detection model's output contract
        def forward(self, images):
            assert images[0].shape == (3, 50, 80) and float(images[0].max()) <= 1.0
            return [{"boxes": torch.tensor([[10.0, 5, 30, 45], [0, 0, 20, 20], [40, 10, 95, 60], [1, 1, 9, 9]]),
                     "labels": torch.tensor([1, 3, 1, 1]), "scores": torch.tensor([0.9, 0.99, 0.7, 0.2])}]

    detector = frcnn.TorchvisionPersonDetector(StandIn(), score_thresh=0.5)
    dets = detector(np.zeros((50, 80, 3), np.uint8))
    assert dets == [Detection((10.0, 5.0, 30.0, 45.0), pytest.approx(0.9)),
                    Detection((40.0, 10.0, 80.0, 50.0), pytest.approx(0.7))]


def test_frcnn_real_architecture_runs_and_loads_a_weights_file(tmp_path):
    # weights=None: randomly initialised (the test hook); then the same state dict as a local weights file.
    detector = frcnn.build(score_thresh=0.0, weights=None, min_size=64, max_size=96)
    dets = detector(np.random.default_rng(0).integers(0, 255, (60, 90, 3), dtype=np.uint8))
    assert all(isinstance(d, Detection) for d in dets)
    path = tmp_path / "frcnn.pth"
    torch.save(detector.model.state_dict(), path)
    loaded = frcnn.load_model(str(path), min_size=64, max_size=96)
    assert torch.equal(loaded.state_dict()["roi_heads.box_predictor.cls_score.weight"],
                       detector.model.state_dict()["roi_heads.box_predictor.cls_score.weight"])


def test_frcnn_cuda_request_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="no CUDA device.*--device cpu"):
        frcnn.torch_device("cuda")


def test_yolo_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ultralytics", None)  # import fails as if not installed
    with pytest.raises(UserError, match=r"AGPL.*pip install 'slowfast-custom\[yolo\]'"):
        build_detector("yolo")


def test_yolo_with_a_stand_in_ultralytics(monkeypatch, tmp_path):
    class Boxes:
        xyxy = np.array([[1.0, 2, 30, 60], [5, 5, 200, 90]])
        conf = np.array([0.8, 0.6])
        cls = np.array([0.0, 0.0])

    class YOLO:
        def __init__(self, path):
            self.path = path

        def predict(self, frame, classes, conf, device, verbose):
            assert classes == [0] and conf == 0.5 and frame.shape == (100, 120, 3)
            return [types.SimpleNamespace(boxes=Boxes())]

    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(YOLO=YOLO))
    with pytest.raises(UserError, match="missing.pt: YOLO weights file not found.*--weights"):
        build_detector("yolo", weights=str(tmp_path / "missing.pt"))
    weights = tmp_path / "yolov8n.pt"
    weights.write_bytes(b"stand-in")
    detector = build_detector("yolo", weights=str(weights))
    assert isinstance(detector, yolo.YoloPersonDetector)
    assert detector(np.zeros((100, 120, 3), np.uint8)) == [Detection((1.0, 2.0, 30.0, 60.0), 0.8),
                                                           Detection((5.0, 5.0, 120.0, 90.0), 0.6)]


def test_tool_offline_exits_with_the_one_line(tmp_path):
    # A proxy that refuses every connection stands for "no network": the real URL is never reached.
    proxy = f"http://127.0.0.1:{closed_port()}"
    result = run_tool("detect_and_track.py", "--data", tmp_path, "--detector", "torchvision_frcnn",
                      env={"TORCH_HOME": str(tmp_path / "th"), "https_proxy": proxy, "HTTPS_PROXY": proxy,
                           "no_proxy": "", "NO_PROXY": ""})
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: cannot download torchvision's COCO Faster R-CNN weights")
    assert str(tmp_path / "th" / "hub" / "checkpoints" / "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth") in error
    assert "Traceback" not in result.stderr


def test_hog_on_a_frame_smaller_than_its_window_enlarges_it():
    """A 160x120 frame (shorter than HOG's 64x128 window) is searched enlarged, not handed to OpenCV as it is."""
    frame = np.full((120, 160, 3), 128, np.uint8)
    assert build_detector("hog")(frame) == []
    with pytest.raises(UserError, match="smaller than 32 px a side"):
        build_detector("hog")(np.zeros((20, 20, 3), np.uint8))
