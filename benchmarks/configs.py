"""Configs the benchmarks run: the repository's YAMLs on generated data, and variants of them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import torch
from fvcore.common.config import CfgNode

from slowfast_custom.config import load_config
from slowfast_custom.resources import config_dir

R101_CFG = config_dir() / "SLOWFAST_32x2_R101_custom.yaml"
TINY_CFG = config_dir() / "SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml"


def bench_config(cfg_file: Path, data_dir: Path, output_dir: Path, *overrides: object) -> CfgNode:
    """``cfg_file`` on a dataset of ``benchmarks.data`` (frame 0 is second 900), random weights,
    on the first GPU if there is one; loaded as tools/run_net.py loads it."""
    opts = ["DATA.PATH_TO_DATA_DIR", str(data_dir), "OUTPUT_DIR", str(output_dir), "AVA.START_SEC", "900",
            "NUM_GPUS", str(min(1, torch.cuda.device_count())), "TRAIN.CHECKPOINT_FILE_PATH", "",
            "TRAIN.AUTO_RESUME", "False", "MODEL.NUM_CLASSES", "4",
            # The generated data is one video in both splits: loading is measured, not generalisation.
            "AVA.ALLOW_SPLIT_OVERLAP", "True"]
    args = argparse.Namespace(cfg_file=str(cfg_file), opts=opts + [str(o) for o in overrides], shard_id=0,
                              num_shards=1)
    return load_config(args)


def variant(cfg: CfgNode, overrides: Sequence[object]) -> CfgNode:
    """A frozen copy of ``cfg`` with ``KEY, value, ...`` overrides (values as Python objects)."""
    out = cfg.clone()
    out.defrost()
    out.merge_from_list(list(overrides))
    out.freeze()
    return out
