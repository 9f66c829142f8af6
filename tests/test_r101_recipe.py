"""The user's recipe, slowfast_custom/configs/SLOWFAST_32x2_R101_custom.yaml, with the real R101 32x2 architecture
(non-local blocks included) on the CPU: fine-tune from a checkpoint in the AVA model zoo's format through
tools/run_net.py, then render the demo with the fine-tuned model.

The zoo's weights cannot be downloaded here, so the stand-in is the same architecture with 80 classes, randomly
initialised and saved as the zoo saves it. Frames are cropped to 64 px (the recipe's 224 would take minutes per
step on two cores); everything else is the recipe as a user runs it.
"""

import argparse
import json

import pytest
import torch
from slowfast.models.model_builder import build_model

from slowfast_custom.config import load_config
from slowfast_custom.demo.results import output_paths
from slowfast_custom.demo.video_io import encode_images

from conftest import REPO, run_tool

R101_CFG = REPO / "slowfast_custom" / "configs" / "SLOWFAST_32x2_R101_custom.yaml"

ZOO_NAME = "SLOWFAST_32x2_R101_50_50.pkl"
SMALL = ["NUM_GPUS", "0", "DATA.TRAIN_JITTER_SCALES", "[64, 80]", "DATA.TRAIN_CROP_SIZE", "64",
         "DATA.TEST_CROP_SIZE", "64", "TRAIN.BATCH_SIZE", "2", "TEST.BATCH_SIZE", "2", "SOLVER.MAX_EPOCH", "1",
         "DATA_LOADER.NUM_WORKERS", "0", "LOG_PERIOD", "1", "TEST.ENABLE", "False", "MODEL.NUM_CLASSES", "4"]
PROBE = "s1.pathway0_stem.conv.weight"  # a backbone tensor: the zoo's, then fine-tuned


def recipe_args(data, out, *extra):
    return ["--cfg", str(R101_CFG), *SMALL, "DATA.PATH_TO_DATA_DIR", str(data), "OUTPUT_DIR", str(out), *extra]


@pytest.fixture(scope="module")
def fine_tuned(tiny_dataset, tmp_path_factory):
    work = tmp_path_factory.mktemp("r101")
    args = recipe_args(tiny_dataset, work / "zoo", "MODEL.NUM_CLASSES", "80")
    cfg = load_config(argparse.Namespace(cfg_file=str(R101_CFG), opts=args[2:], shard_id=0, num_shards=1))
    torch.manual_seed(7)
    zoo_model = build_model(cfg)
    zoo = work / ZOO_NAME
    torch.save({"epoch": 49, "model_state": zoo_model.state_dict()}, zoo)
    out = work / "run"
    result = run_tool("run_net.py", *recipe_args(tiny_dataset, out, "TRAIN.CHECKPOINT_FILE_PATH", zoo), timeout=1200)
    return work, zoo_model.state_dict(), result


@pytest.mark.slow
def test_fine_tuning_from_the_zoo_format_loads_the_backbone_and_trains(fine_tuned):
    work, zoo_state, result = fine_tuned
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert f"Loaded {len(zoo_state) - 2}/{len(zoo_state)} tensors" in log
    assert "head.projection.weight: checkpoint (80, 2304)" in log and "NOT LOADED" in log
    saved = torch.load(work / "run" / "checkpoints" / "checkpoint_epoch_00001.pyth", weights_only=True)
    state = saved["model_state"]
    assert set(state) == set(zoo_state)  # the recipe builds the zoo's architecture, non-local blocks included
    assert any("nonlocal" in name for name in state)
    assert state["head.projection.weight"].shape == (4, 2304)
    # A few SGD steps at the warm-up rate move the zoo's weights a little, far less than another init would.
    moved = (state[PROBE] - zoo_state[PROBE]).abs().max()
    assert 0 < moved < 0.1 * zoo_state[PROBE].abs().max()
    metrics = json.loads((work / "run" / "eval" / "val_epoch_00001_metrics.json").read_text())
    assert metrics["num_gt_frames"] > 0 and 0 <= metrics["frame_map"] <= 1


@pytest.mark.slow
def test_the_demo_runs_the_fine_tuned_r101(fine_tuned, tiny_dataset):
    work, _, trained = fine_tuned
    assert trained.returncode == 0, trained.stderr[-2000:]
    video = work / "videos" / "synth_val_000.mp4"
    encode_images(sorted((tiny_dataset / "frames" / "synth_val_000").glob("*.jpg")), video, 30)
    output = work / "demo" / "demo.mp4"
    annotations = tiny_dataset / "annotations"
    result = run_tool("run_net.py", *recipe_args(
        tiny_dataset, work / "run", "TRAIN.ENABLE", "False", "DEMO.ENABLE", "True", "DEMO.INPUT_VIDEO", video,
        "DEMO.OUTPUT_FILE", output, "DEMO.LABEL_FILE_PATH", annotations / "ava.json", "DEMO.STARTING_SECOND", "0",
        "DEMO.PREDS_BOXES", annotations / "ava_val_predicted_boxes.csv"), timeout=1200)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert output.is_file()
    csv_path, json_path = output_paths(output)
    rows = csv_path.read_text().splitlines()
    assert len(rows) >= 3  # one prediction per second of the 4 s video, at least one person each
    assert all(0 <= float(row.split(",")[-1]) <= 1 for row in rows)
    assert json.loads(json_path.read_text())
