"""Checkpoints: zoo-style fine-tuning, caffe2 names, refusal of code-running pickles, atomic saves."""

import logging
import os
import pickle

import numpy as np
import pytest
import torch
from slowfast.models.model_builder import build_model

from slowfast_custom import checkpoint as cu
from slowfast_custom.errors import CheckpointError

from conftest import tiny_cfg


@pytest.fixture
def cfg4(tiny_dataset, tmp_path):
    return tiny_cfg(tiny_dataset, tmp_path / "out")


def zoo_checkpoint(tiny_dataset, tmp_path, num_classes=80):
    """A checkpoint in the model zoo's format (torch.save of upstream's dict), with 80 classes."""
    cfg = tiny_cfg(tiny_dataset, tmp_path / "zoo", "MODEL.NUM_CLASSES", str(num_classes))
    torch.manual_seed(123)
    model = build_model(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "SLOWFAST_32x2_R101_50_50.pkl"
    torch.save({"epoch": 49, "model_state": model.state_dict(), "optimizer_state": optimizer.state_dict(),
                "cfg": cfg.dump()}, path)
    return path, model.state_dict()


def test_zoo_checkpoint_with_other_class_count_loads_backbone_and_says_what_not(tiny_dataset, tmp_path, cfg4, caplog):
    path, zoo_state = zoo_checkpoint(tiny_dataset, tmp_path)
    model = build_model(cfg4)
    fresh_head = model.head.projection.weight.detach().clone()
    with caplog.at_level(logging.WARNING):
        report = cu.load_pretrained(model, path)
    assert sorted(k for k, _, _ in report.shape_mismatch) == ["head.projection.bias", "head.projection.weight"]
    assert report.not_loaded == ["head.projection.bias", "head.projection.weight"]
    assert "NOT LOADED" in caplog.text and "head.projection.weight: checkpoint (80, " in caplog.text
    state = model.state_dict()
    for name in report.loaded:
        assert torch.equal(state[name], zoo_state[name]), name
    assert torch.equal(model.head.projection.weight, fresh_head)  # re-initialised head kept
    assert len(report.loaded) == len(zoo_state) - 2


def test_fine_tuning_does_not_inherit_zoo_epoch_or_optimizer(tiny_dataset, tmp_path):
    from slowfast_custom.engine.trainer import train

    path, _ = zoo_checkpoint(tiny_dataset, tmp_path)
    cfg = tiny_cfg(tiny_dataset, tmp_path / "ft", "TRAIN.CHECKPOINT_FILE_PATH", str(path), "TRAIN.EVAL_PERIOD", "0")
    summary = train(cfg)
    assert summary["start_epoch"] == 0
    assert cu.last_checkpoint(cfg.OUTPUT_DIR).name == "checkpoint_epoch_00001.pyth"


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("kind", ["pytorch", "caffe2"])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    if kind == "pytorch":
        torch.save({"model_state": {}, "payload": _RunsCode(marker)}, path)
    else:
        with open(path, "wb") as f:
            pickle.dump({"blobs": {"conv1_w": _RunsCode(marker)}}, f, protocol=2)
    with pytest.raises(CheckpointError, match="refused to load") as err:
        cu.read_checkpoint(path, kind)
    assert str(path) in str(err.value)
    assert not marker.exists()


def test_caffe2_checkpoint_names_are_converted(cfg4, tmp_path):
    model = build_model(cfg4)
    state = model.state_dict()
    blobs = {
        "conv1_w": np.full(tuple(state["s1.pathway0_stem.conv.weight"].shape), 0.5, np.float32),
        "t_conv1_w": np.full(tuple(state["s1.pathway1_stem.conv.weight"].shape), -0.25, np.float32),
        "res_conv1_bn_s": np.full(tuple(state["s1.pathway0_stem.bn.weight"].shape), 2.0, np.float32),
    }
    path = tmp_path / "c2.pkl"
    with open(path, "wb") as f:
        pickle.dump({"blobs": blobs}, f, protocol=2)
    report = cu.load_pretrained(model, path, "caffe2")
    assert sorted(report.loaded) == ["s1.pathway0_stem.bn.weight", "s1.pathway0_stem.conv.weight",
                                     "s1.pathway1_stem.conv.weight"]
    assert torch.all(model.s1.pathway0_stem.conv.weight == 0.5)
    assert torch.all(model.s1.pathway1_stem.conv.weight == -0.25)
    assert torch.all(model.s1.pathway0_stem.bn.weight == 2.0)


def test_checkpoint_that_matches_nothing_is_an_error(cfg4, tmp_path):
    path = tmp_path / "other.pyth"
    torch.save({"model_state": {"fc.weight": torch.zeros(3, 3)}}, path)
    with pytest.raises(CheckpointError, match="no tensor matches"):
        cu.load_pretrained(build_model(cfg4), path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "junk.pyth"
    path.write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        cu.read_checkpoint(path)
    with pytest.raises(CheckpointError, match="not found"):
        cu.read_checkpoint(tmp_path / "missing.pyth")


def test_saves_are_atomic_and_resume_ignores_leftovers(cfg4, tmp_path):
    model = build_model(cfg4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out = str(tmp_path / "run")
    first = cu.save_checkpoint(out, model, optimizer, 0, cfg4)
    second = cu.save_checkpoint(out, model, optimizer, 1, cfg4)
    assert (first.name, second.name) == ("checkpoint_epoch_00001.pyth", "checkpoint_epoch_00002.pyth")
    # What a crash in the middle of a third save leaves behind:
    (second.parent / ".checkpoint_epoch_00003.pyth.x1y2.tmp").write_bytes(b"half")
    assert not any(p.name.endswith(".tmp") for p in [first, second])
    assert cu.last_checkpoint(out) == second
    next_epoch, data = cu.resume(second, build_model(cfg4), torch.optim.SGD(model.parameters(), lr=0.1))
    assert next_epoch == 2 and data["epoch"] == 1
