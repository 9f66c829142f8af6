"""Export of the tiny model to ONNX and TorchScript: parity with PyTorch on a real clip, and refusals."""

import numpy as np
import pytest
import torch

from slowfast_custom.deploy import export as export_module
from slowfast_custom.deploy.export import ScoresModel, export_model, load_model, sample_inputs
from slowfast_custom.deploy.runtime import OnnxActionModel
from slowfast_custom.errors import CheckpointError, DataError, UserError

from conftest import TINY_CFG, TINY_OVERRIDES, require_onnxruntime, run_tool, tiny_cfg, untrained_checkpoint


@pytest.fixture(autouse=True)
def _onnxruntime():
    require_onnxruntime()


@pytest.fixture(scope="module")
def trained(tiny_dataset, tmp_path_factory):
    """(config, checkpoint) of the tiny model, randomly initialised and saved as a run would save it.

    The head's weights are scaled up so that scores spread over (0, 1) as a trained head's do (a fresh head
    gives about 0.5 everywhere, where a wrong box or a missing layer hardly shows)."""
    return untrained_checkpoint(tiny_dataset, tmp_path_factory.mktemp("export_run"), head_scale=30)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_matches_pytorch_on_a_real_clip(trained, tmp_path, fmt):
    cfg, checkpoint = trained
    report = export_model(cfg, checkpoint, fmt, tmp_path / f"model.{fmt}")
    assert report.path.is_file() and report.max_abs_diff <= report.atol == 1e-4
    assert report.boxes >= 2 and [s[2] for s in report.clip_shapes] == [2, 8]  # slow and fast pathways
    assert [p.name for p in tmp_path.iterdir()] == [f"model.{fmt}"]  # no temporary left beside it
    assert not report.synthetic

    if fmt == "torchscript":
        return
    # Independently of the tool's own check: other clips (batch 1, another width) and boxes than the export's.
    model = ScoresModel(load_model(cfg, checkpoint))
    inputs, boxes = sample_inputs(cfg)
    inputs = [x[1:, ..., 8:] for x in inputs]  # the second clip, 8 columns narrower
    boxes = boxes[boxes[:, 0] == 1].clone()
    boxes[:, 0] = 0
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - 8).clamp(min=0)
    with torch.inference_mode():
        want = model(*inputs, boxes).numpy()
    got = OnnxActionModel(report.path)([x.numpy() for x in inputs], boxes.numpy())
    assert got.shape == (len(boxes), 4)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert want.max() - want.min() > 0.3  # scores spread as a trained model's


def test_export_that_disagrees_is_refused_and_not_written(trained, tmp_path, monkeypatch):
    cfg, checkpoint = trained
    real = export_module._runner

    def off_by_a_little(fmt, path):
        run = real(fmt, path)
        return lambda inputs, boxes: run(inputs, boxes) + 1e-3

    monkeypatch.setattr(export_module, "_runner", off_by_a_little)
    with pytest.raises(UserError, match=r"differs from PyTorch by up to 0.001 .*not written"):
        export_model(cfg, checkpoint, "onnx", tmp_path / "model.onnx")
    assert not list(tmp_path.iterdir())


def test_bad_checkpoint_and_config_are_one_line(trained, tiny_dataset, tmp_path):
    cfg, checkpoint = trained
    with pytest.raises(UserError, match="checkpoint not found"):
        export_model(cfg, tmp_path / "none.pyth", "onnx")
    other = tiny_cfg(tiny_dataset, tmp_path, "MODEL.NUM_CLASSES", "6")
    with pytest.raises(CheckpointError, match="tensors of the model are not in the checkpoint"):
        export_model(other, checkpoint, "onnx", tmp_path / "m.onnx")
    garbage = tmp_path / "garbage.pyth"
    garbage.write_bytes(b"not a checkpoint")
    proc = run_tool("export_model.py", "--cfg", TINY_CFG, "--checkpoint", garbage, "--format", "onnx",
                    *TINY_OVERRIDES, "DATA.PATH_TO_DATA_DIR", tiny_dataset)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {garbage}")
    proc = run_tool("export_model.py", "--cfg", tmp_path / "missing.yaml", "--checkpoint", checkpoint,
                    "--format", "onnx")
    assert proc.returncode == 2 and proc.stderr.strip().startswith(
        f"error: {tmp_path / 'missing.yaml'}: config file not found")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.pyth"]


def test_a_file_that_is_not_an_exported_model_is_one_line(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(DataError, match=r"model.onnx: onnxruntime cannot load it .* tools/export_model.py"):
        OnnxActionModel(bad)
    with pytest.raises(DataError, match="exported model not found"):
        OnnxActionModel(tmp_path / "none.onnx")


def test_export_without_the_dataset_checks_on_a_synthetic_clip(trained, tmp_path):
    cfg, checkpoint = trained
    alone = cfg.clone()
    alone.defrost()
    alone.DATA.PATH_TO_DATA_DIR = str(tmp_path / "absent")
    for key in ("FRAME_DIR", "ANNOTATION_DIR", "FRAME_LIST_DIR"):
        alone.AVA[key] = str(tmp_path / "absent" / key.lower())
    report = export_model(alone, checkpoint, "onnx", tmp_path / "model.onnx")
    assert report.synthetic and "synthetic clip" in report.line() and report.max_abs_diff <= report.atol


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_no_box_gives_an_empty_score_matrix_in_every_runtime(trained, tmp_path, fmt):
    cfg, checkpoint = trained
    report = export_model(cfg, checkpoint, fmt, tmp_path / f"model.{fmt}")
    inputs, _boxes = sample_inputs(cfg)
    none = torch.zeros(0, 5)
    with torch.inference_mode():
        assert tuple(ScoresModel(load_model(cfg, checkpoint))(*inputs, none).shape) == (0, 4)
    got = export_module._runner(fmt, report.path)(inputs, none)
    assert got.shape == (0, 4)
