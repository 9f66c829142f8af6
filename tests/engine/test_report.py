"""report.md read against the files it is made from: chance beside AP, the test split named, stale tests left out."""

import json
import os

from slowfast_custom.engine.report import write_report

from conftest import tiny_cfg


def metrics(frame_map, videos, model=None):
    return {"tag": "x", "frame_map": frame_map, "num_gt_frames": 4, "num_detection_frames": 4,
            "per_class_ap": {"walk": 0.9, "stand": 0.2}, "per_class_support": {"walk": 6, "stand": 2},
            "num_gt_boxes": 8, "per_class_chance": {"walk": 0.75, "stand": 0.25}, "videos": videos, "model": model}


def output_folder(root, test_model, test_videos=("a", "b")):
    (root / "eval").mkdir(parents=True)
    (root / "checkpoints").mkdir()
    for epoch in (1, 2):
        (root / "checkpoints" / f"checkpoint_epoch_{epoch:05d}.pyth").write_bytes(b"")
        (root / "eval" / f"val_epoch_{epoch:05d}_metrics.json").write_text(json.dumps(metrics(0.5 + epoch / 10,
                                                                                                ["a", "b"])))
    model = str(root / "checkpoints" / f"checkpoint_epoch_{test_model:05d}.pyth")
    (root / "eval" / "test_metrics.json").write_text(json.dumps(metrics(0.33, list(test_videos), model)))
    return root


def test_chance_beside_each_ap_and_the_test_split_named(tmp_path):
    report = write_report(output_folder(tmp_path / "run", test_model=2)).read_text()
    assert "| class | AP val (epoch 2) | chance val (epoch 2) | AP test | chance test |" in report
    assert "| walk | 0.9000 | 0.7500 | 0.9000 | 0.7500 | 6 | 6 |" in report
    assert ("test frame-mAP@0.5: 0.3300 (4 frames, on the validation split's 2 videos: the test split is the "
            "validation split (AVA.TEST_LISTS), not held-out data)") in report
    other = write_report(output_folder(tmp_path / "held_out", test_model=2, test_videos=["c"])).read_text()
    assert "test frame-mAP@0.5: 0.3300 (4 frames)" in other and "held-out" not in other


def test_a_test_of_older_weights_is_not_shown_beside_the_newer_validation(tmp_path):
    report = write_report(output_folder(tmp_path / "run", test_model=1)).read_text()
    assert "test frame-mAP@0.5: 0.33" not in report and "| AP test |" not in report and "AP test" not in report
    assert ("the last test evaluation (frame-mAP@0.5 0.3300) scored the weights of epoch 1, older than the last "
            "trained epoch 2; it is left out of this report") in report
    # Metrics files from before the model was recorded: compared by time with the newest checkpoint.
    root = output_folder(tmp_path / "old_files", test_model=1)
    test = root / "eval" / "test_metrics.json"
    test.write_text(json.dumps({**json.loads(test.read_text()), "model": None}))
    newest = root / "checkpoints" / "checkpoint_epoch_00002.pyth"
    os.utime(test, (newest.stat().st_mtime - 60,) * 2)
    assert "left out of this report" in write_report(root).read_text()
    os.utime(test, (newest.stat().st_mtime + 60,) * 2)
    assert "test frame-mAP@0.5: 0.3300" in write_report(root).read_text()


def test_resumed_run_without_test_pass_leaves_the_old_test_out(tiny_dataset, tmp_path):
    """The seam as a user meets it: train 1 epoch and test, resume to epoch 2 with TEST.ENABLE False."""
    from slowfast_custom.engine.trainer import test, train

    out = tmp_path / "run"
    cfg = tiny_cfg(tiny_dataset, out, "SOLVER.MAX_EPOCH", "1", "TRAIN.EVAL_PERIOD", "1")
    train(cfg)
    test(cfg)
    first = (out / "report.md").read_text()
    tested = json.loads((out / "eval" / "test_metrics.json").read_text())
    assert tested["model"].endswith("checkpoint_epoch_00001.pyth")
    assert f"test frame-mAP@0.5: {tested['frame_map']:.4f}" in first and "not held-out data" in first
    train(tiny_cfg(tiny_dataset, out, "SOLVER.MAX_EPOCH", "2", "TRAIN.EVAL_PERIOD", "1"))
    second = (out / "report.md").read_text()
    assert "validation frame-mAP@0.5" in second and "at epoch 2" in second
    assert f"test frame-mAP@0.5: {tested['frame_map']:.4f}" not in second and "AP test" not in second
    assert "scored the weights of epoch 1, older than the last trained epoch 2" in second
