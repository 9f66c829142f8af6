"""Tiny CPU training and evaluation through tools/run_net.py (resuming a killed run: test_resume.py)."""

import json

import pytest


from conftest import REPO, TINY_CFG, TINY_OVERRIDES, run_tool


def run_net_args(data, out, *extra):
    return ["--cfg", str(TINY_CFG), *TINY_OVERRIDES, "DATA.PATH_TO_DATA_DIR", str(data), "OUTPUT_DIR", str(out), *extra]


def test_train_then_test_writes_everything_under_output_dir(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    result = run_tool("run_net.py", *run_net_args(tiny_dataset, out, "TEST.ENABLE", "True"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout
    assert "epoch 1 iter 1/" in log and "ETA" in log and "loss" in log
    assert (out / "checkpoints" / "checkpoint_epoch_00001.pyth").is_file()
    assert (out / "config.yaml").is_file() and (out / "stdout.log").is_file()
    for tag in ("val_epoch_00001", "test"):
        metrics = json.loads((out / "eval" / f"{tag}_metrics.json").read_text())
        assert 0.0 <= metrics["frame_map"] <= 1.0 and metrics["num_gt_frames"] > 0
        assert set(metrics["per_class_ap"]) == {"stand", "walk", "jump", "wave"}
        rows = (out / "eval" / f"{tag}_detections.csv").read_text().splitlines()
        video, second, *coords, action, score = rows[0].split(",")
        assert video.startswith("synth_val_") and len(second) == 4 and 1 <= int(action) <= 4
        assert all(0 <= float(c) <= 1 for c in coords) and 0 <= float(score) <= 1
        assert (out / "eval" / f"{tag}_per_class_ap.csv").read_text().startswith("action_id,name,ap\n")
    assert "test frame-mAP@0.5" in log
    assert not list(REPO.glob("detections_*.csv"))  # upstream would have written here


def test_bad_input_exits_with_one_line(tiny_dataset, tmp_path):
    data = tmp_path / "data"
    import shutil

    shutil.copytree(tiny_dataset, data)
    gt = data / "annotations" / "ava_train_v2.2.csv"
    lines = gt.read_text().splitlines()
    lines[2] = lines[2].replace(",0.", ",1.5", 1)
    gt.write_text("\n".join(lines) + "\n")
    result = run_tool("run_net.py", *run_net_args(data, tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {gt}:3: ")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_model_learns_the_synthetic_actions(tmp_path):
    """A shorter run than the quick start must still beat chance clearly (4 balanced classes)."""
    from slowfast_custom.data.synthetic import SyntheticSpec, make_synthetic_dataset

    data = tmp_path / "data"
    make_synthetic_dataset(data, SyntheticSpec(train_videos=10, val_videos=4, seed=3))
    out = tmp_path / "run"
    result = run_tool("run_net.py", "--cfg", str(TINY_CFG), "DATA.PATH_TO_DATA_DIR", str(data), "OUTPUT_DIR",
                      str(out), "SOLVER.MAX_EPOCH", "6", "TRAIN.EVAL_PERIOD", "6", "TEST.ENABLE", "False",
                      "DATA_LOADER.NUM_WORKERS", "0", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    history = json.loads((out / "train_summary.json").read_text())["history"]
    assert history[-1]["val_frame_map"] >= 0.5, history
