"""DEMO.BACKEND onnxruntime: the demo on the exported model gives the PyTorch backend's predictions."""

import json

import pytest

from slowfast_custom.demo.runner import run_demo
from slowfast_custom.errors import DataError, UserError

from conftest import require_onnxruntime
from demo_fixtures import demo_setup  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _onnxruntime():
    require_onnxruntime()


@pytest.fixture(scope="module")
def onnx_file(demo_setup):
    from slowfast_custom.checkpoint import last_checkpoint
    from slowfast_custom.deploy.export import export_model

    cfg = demo_setup.cfg(demo_setup.work / "unused.mp4")
    return export_model(cfg, last_checkpoint(str(demo_setup.train_dir)), "onnx",
                        demo_setup.work / "onnx" / "model.onnx").path


def test_onnxruntime_demo_gives_the_pytorch_predictions(demo_setup, onnx_file):
    runs = {}
    for backend in ("pytorch", "onnxruntime"):
        output = demo_setup.work / backend / "demo.mp4"
        summary = run_demo(demo_setup.cfg(output, "DEMO.BACKEND", backend, "DEMO.ONNX_FILE", str(onnx_file),
                                          "DEMO.VIS_MODE", "top-k", "DEMO.TOPK", "2"))
        runs[backend] = json.loads(summary.json.read_text())
        assert summary.frames == 120 and summary.person_boxes > 0
    torch_records, onnx_records = runs["pytorch"]["predictions"], runs["onnxruntime"]["predictions"]
    assert runs["onnxruntime"]["checkpoint"] == str(onnx_file)
    assert [(r["second"], r["box"]) for r in onnx_records] == [(r["second"], r["box"]) for r in torch_records]
    for ours, theirs in zip(onnx_records, torch_records):
        assert [name for name, _ in ours["shown"]] == [name for name, _ in theirs["shown"]]
        assert max(abs(ours["scores"][k] - theirs["scores"][k]) for k in ours["scores"]) <= 2e-4  # 4-digit JSON


def test_backend_mistakes_are_one_line(demo_setup, onnx_file, tmp_path):
    with pytest.raises(UserError, match="DEMO.BACKEND 'tensorrt' is not one of pytorch, onnxruntime"):
        run_demo(demo_setup.cfg(tmp_path / "a.mp4", "DEMO.BACKEND", "tensorrt"))
    with pytest.raises(UserError, match="DEMO.ONNX_FILE is empty"):
        run_demo(demo_setup.cfg(tmp_path / "a.mp4", "DEMO.BACKEND", "onnxruntime"))
    with pytest.raises(DataError, match="none.onnx: exported model not found"):
        run_demo(demo_setup.cfg(tmp_path / "a.mp4", "DEMO.BACKEND", "onnxruntime", "DEMO.ONNX_FILE",
                                str(tmp_path / "none.onnx")))
    labels = tmp_path / "ava.json"
    labels.write_text(json.dumps({"a": 0, "b": 1, "c": 2}))
    with pytest.raises(DataError, match=r"names 3 classes, but the model in .*model.onnx predicts 4"):
        run_demo(demo_setup.cfg(tmp_path / "a.mp4", "DEMO.BACKEND", "onnxruntime", "DEMO.ONNX_FILE", str(onnx_file),
                                "DEMO.LABEL_FILE_PATH", str(labels)))
    with pytest.raises(DataError, match=r"takes pathways \['slow', 'fast'\] of \[2, 8\] frames, but the config makes "
                                        r"2 of \[4, 16\]"):
        run_demo(demo_setup.cfg(tmp_path / "a.mp4", "DEMO.BACKEND", "onnxruntime", "DEMO.ONNX_FILE", str(onnx_file),
                                "DATA.NUM_FRAMES", "16"))
    assert not list(tmp_path.glob("*.mp4"))
