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


def two_checkpoints(cfg4, out):
    torch.manual_seed(0)
    model = build_model(cfg4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    first = cu.save_checkpoint(out, model, optimizer, 0, cfg4)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)  # the second checkpoint's weights differ from the first's
    return model, optimizer, first, cu.save_checkpoint(out, model, optimizer, 1, cfg4)


def test_truncated_latest_checkpoint_falls_back_to_the_previous_with_a_warning(cfg4, tmp_path, caplog):
    out = str(tmp_path / "run")
    _, _, first, second = two_checkpoints(cfg4, out)
    expected = cu.read_checkpoint(first)["model_state"]
    second.write_bytes(second.read_bytes()[: second.stat().st_size // 2])  # a power loss before the data hit the disk
    model = build_model(cfg4)
    with caplog.at_level(logging.WARNING):
        path, next_epoch, _ = cu.resume_last(out, model, torch.optim.SGD(model.parameters(), lr=0.1))
    assert (path, next_epoch) == (first, 1)
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and str(second) in warning[0] and str(first) in warning[0], warning
    assert all(torch.equal(v, expected[k]) for k, v in model.state_dict().items())

    first.write_bytes(b"")  # nothing readable left: an error, never a silent fresh start
    with pytest.raises(CheckpointError, match=f"no checkpoint in .* can be read .*{second.name}.*{first.name}"):
        cu.resume_last(out, build_model(cfg4))
    assert cu.resume_last(str(tmp_path / "fresh"), build_model(cfg4)) is None


def test_a_checkpoint_that_does_not_fit_is_not_skipped(cfg4, tiny_dataset, tmp_path):
    out = str(tmp_path / "run")
    two_checkpoints(cfg4, out)
    other = build_model(tiny_cfg(tiny_dataset, tmp_path / "x", "MODEL.NUM_CLASSES", "6"))
    with pytest.raises(CheckpointError, match="checkpoint_epoch_00002.pyth: does not fit the configured model"):
        cu.resume_last(out, other)


def test_stale_temporaries_of_killed_saves_are_removed_and_nothing_else(cfg4, tmp_path):
    out = str(tmp_path / "run")
    _, _, first, second = two_checkpoints(cfg4, out)
    folder = first.parent
    stale = [folder / ".checkpoint_epoch_00003.pyth.k2j_9x0q.tmp", folder / ".checkpoint_epoch_00001.pyth.abcdefgh.tmp"]
    kept = [folder / ".notes.txt.abcdefgh.tmp", folder / "checkpoint_epoch_00003.pyth.abcdefgh.tmp",
            folder / ".checkpoint_epoch_00003.pyth.tmp", tmp_path / "run" / ".checkpoint_epoch_00004.pyth.abcdefgh.tmp"]
    for path in stale + kept:
        path.write_bytes(b"half")
    assert sorted(cu.remove_stale_temporaries(out)) == sorted(stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept + [first, second])


@pytest.mark.parametrize("torch_masks_it", [True, False])
def test_full_disk_during_a_save_is_one_line_and_keeps_the_previous_checkpoint(cfg4, tmp_path, monkeypatch, capsys,
                                                                               torch_masks_it):
    import errno

    from slowfast_custom.errors import run_cli

    out = str(tmp_path / "run")
    model, optimizer, first, second = two_checkpoints(cfg4, out)
    before = second.read_bytes()

    def full_disk(obj, f, *args, **kwargs):
        try:
            f.write(b"PK\x03\x04 part of a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        finally:
            if torch_masks_it:  # what torch 2.x does: its zip writer's __exit__ fails while handling the OSError
                raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    monkeypatch.setattr(torch, "save", full_disk)
    assert run_cli(cu.save_checkpoint, out, model, optimizer, 2, cfg4) == 2
    err = capsys.readouterr().err
    third = first.parent / "checkpoint_epoch_00003.pyth"
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {third}: cannot write the checkpoint (No space left on device); {second} is intact")
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name, second.name]
    assert second.read_bytes() == before


def test_saves_are_fsynced_before_and_after_the_rename(cfg4, tmp_path, monkeypatch):
    from slowfast_custom import fileio

    events = []
    real_fsync, real_replace = fileio.fsync_path, os.replace
    monkeypatch.setattr(fileio, "fsync_path", lambda p: events.append(("fsync", os.path.basename(p))) or real_fsync(p))
    monkeypatch.setattr(fileio.os, "replace", lambda a, b: events.append(("rename", os.path.basename(b)))
                        or real_replace(a, b))
    model = build_model(cfg4)
    path = cu.save_checkpoint(str(tmp_path / "run"), model, torch.optim.SGD(model.parameters(), lr=0.1), 0, cfg4)
    tmp_name = events[0][1]
    assert tmp_name.startswith(".checkpoint_epoch_00001.pyth.") and tmp_name.endswith(".tmp")
    assert events == [("fsync", tmp_name), ("fsync", "checkpoints"), ("rename", path.name), ("fsync", "checkpoints")]
