"""Every YAML loads, upstream's demo YAML loads, derived paths and checks behave."""

import argparse

import pytest

from slowfast_custom.config import config_files, get_cfg, load_config
from slowfast_custom.errors import UserError

from conftest import REPO, shared_file


def _load(cfg_file, *opts):
    return load_config(argparse.Namespace(cfg_file=str(cfg_file), opts=list(opts), shard_id=0, num_shards=1))


@pytest.mark.parametrize("path", config_files(REPO / "slowfast_custom" / "configs"), ids=lambda p: p.name)
def test_every_config_loads(path):
    # GPU configs are checked as a CPU user would run them.
    cfg = _load(path, "NUM_GPUS", "0")
    assert cfg.is_frozen()
    assert cfg.TRAIN.DATASET == "customava"
    assert cfg.DETECTION.ENABLE


def test_recipe_config_is_the_zoo_model():
    cfg = _load(REPO / "slowfast_custom/configs/SLOWFAST_32x2_R101_custom.yaml", "NUM_GPUS", "0")
    assert (cfg.RESNET.DEPTH, cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.SLOWFAST.ALPHA) == (101, 32, 2, 4)
    assert cfg.NONLOCAL.LOCATION[2][0] == [6, 13, 20]
    assert cfg.TRAIN.CHECKPOINT_FILE_PATH.endswith("SLOWFAST_32x2_R101_50_50.pkl")
    assert (cfg.TRAIN.BATCH_SIZE, cfg.SOLVER.MAX_EPOCH, cfg.DEMO.ENABLE) == (2, 20, False)


def test_upstream_demo_yaml_loads_and_its_keys_take_effect():
    path = shared_file("fixtures", "upstream_demo_AVA_SLOWFAST_32x2_R101_50_50.yaml")
    cfg = _load(path, "NUM_GPUS", "0")
    assert cfg.MODEL.MODEL_NAME == "SlowFast" and cfg.MODEL.HEAD_ACT == "sigmoid"
    assert cfg.DEMO.ENABLE and cfg.DEMO.WEBCAM == 0
    assert cfg.TENSORBOARD.MODEL_VIS.TOPK == 2
    assert cfg.DATA_LOADER.NUM_WORKERS == 2


def test_one_root_fills_the_three_data_paths(tmp_path):
    cfg = _load(REPO / "slowfast_custom/configs/SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml",
                "DATA.PATH_TO_DATA_DIR", str(tmp_path))
    assert cfg.AVA.FRAME_DIR == str(tmp_path / "frames")
    assert cfg.AVA.ANNOTATION_DIR == str(tmp_path / "annotations")
    assert cfg.AVA.FRAME_LIST_DIR == str(tmp_path / "frame_lists")
    explicit = _load(REPO / "slowfast_custom/configs/SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml", "DATA.PATH_TO_DATA_DIR",
                     str(tmp_path), "AVA.FRAME_DIR", "/elsewhere")
    assert explicit.AVA.FRAME_DIR == "/elsewhere"


def test_loading_creates_nothing(tmp_path):
    out = tmp_path / "out"
    _load(REPO / "slowfast_custom/configs/SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml", "OUTPUT_DIR", str(out))
    assert not out.exists()


@pytest.mark.parametrize("opts, message", [
    (["NO_SUCH.KEY", "1"], "Non-existent key: NO_SUCH.KEY"),
    (["MODEL.MODEL_NAME", "ResNet"], "does not build MODEL.ARCH"),
    (["MODEL.HEAD_ACT", "softmax"], "needs sigmoid"),
    (["NUM_GPUS", "1"], "Set NUM_GPUS 0"),
    (["AVA.VALID_SECONDS", "[5, 2]"], "VALID_SECONDS"),
])
def test_bad_values_get_one_clear_error(opts, message):
    import torch

    if opts[0] == "NUM_GPUS" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(UserError, match=message):
        _load(REPO / "slowfast_custom/configs/SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml", *opts)


def test_missing_yaml_names_the_file(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        _load(tmp_path / "nope.yaml")


def test_plugin_keys_have_defaults():
    cfg = get_cfg()
    assert cfg.AVA.FPS == 30 and cfg.AVA.START_SEC == 0 and cfg.DATA.TARGET_FPS == 30
    assert cfg.AVA.FRAME_DIR == ""  # not upstream's FAIR-internal path
