"""Which checkpoint the test pass, the demo and the export load: the best validated one by default, with the
calibrated thresholds of its own epoch; the last one on request; an explicit file always."""

import argparse
import json

from slowfast_custom.config import load_config
from slowfast_custom.engine.report import best_saved_epoch, stale_test_reason
from slowfast_custom.engine.thresholds import thresholds_for
from slowfast_custom.inference import best_checkpoint, inference_checkpoint

from conftest import TINY_CFG


def run_folder(tmp_path, history, saved):
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    for epoch in saved:
        (out / "checkpoints" / f"checkpoint_epoch_{epoch:05d}.pyth").write_bytes(b"stand-in")
    (out / "train_summary.json").write_text(json.dumps({"history": [
        {"epoch": e, "val_frame_map": m} for e, m in history]}))
    return out


def cfg_for(out, *opts):
    args = argparse.Namespace(cfg_file=str(TINY_CFG), opts=["OUTPUT_DIR", str(out), *opts])
    return load_config(args)


def test_the_best_validated_saved_checkpoint_is_loaded_and_its_thresholds(tmp_path):
    # epoch 3 validated best but was not saved; of the saved ones epoch 2 is best; the last is 5.
    out = run_folder(tmp_path, [(1, 0.2), (2, 0.6), (3, 0.9), (4, 0.5), (5, 0.4)], saved=(1, 2, 4, 5))
    path, epoch, score = best_checkpoint(str(out))
    assert (path.name, epoch, score) == ("checkpoint_epoch_00002.pyth", 2, 0.6)
    assert inference_checkpoint(cfg_for(out))[0].name == "checkpoint_epoch_00002.pyth"
    last = cfg_for(out, "TEST.CHECKPOINT_CHOICE", "last")
    assert inference_checkpoint(last)[0].name == "checkpoint_epoch_00005.pyth"
    explicit = cfg_for(out, "TEST.CHECKPOINT_FILE_PATH", str(out / "checkpoints" / "checkpoint_epoch_00004.pyth"))
    assert inference_checkpoint(explicit)[0].name == "checkpoint_epoch_00004.pyth"
    # thresholds: the epoch's own when kept, else the newest
    (out / "checkpoints" / "thresholds.json").write_text("{}")
    assert thresholds_for(path).name == "thresholds.json"
    (out / "checkpoints" / "thresholds_epoch_00002.json").write_text("{}")
    assert thresholds_for(path).name == "thresholds_epoch_00002.json"
    # the report names the same model, and a test of it is not "stale"
    val = [(e, {"frame_map": m}) for e, m in [(1, 0.2), (2, 0.6), (3, 0.9), (4, 0.5), (5, 0.4)]]
    assert best_saved_epoch(val, out) == 2
    test = {"model": str(path)}
    assert stale_test_reason(test, out / "x", out, 5, best_epoch=2) is None
    assert "older than the last trained epoch 5" in stale_test_reason(
        {"model": str(out / "checkpoints" / "checkpoint_epoch_00004.pyth")}, out / "x", out, 5, best_epoch=2)


def test_ties_go_to_the_later_epoch_and_no_history_means_the_last(tmp_path):
    out = run_folder(tmp_path, [(1, 0.5), (2, 0.5)], saved=(1, 2, 3))
    assert best_checkpoint(str(out))[1] == 2
    (out / "train_summary.json").write_text("not json")
    assert best_checkpoint(str(out)) is None
    assert inference_checkpoint(cfg_for(out))[0].name == "checkpoint_epoch_00003.pyth"
