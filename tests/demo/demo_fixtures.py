"""Fixtures of the demo tests: a tiny model's checkpoint and a short video rendered from the synthetic dataset.

Import the fixtures into a test module (``from demo_fixtures import demo_setup``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch

from conftest import TINY_CFG, TINY_OVERRIDES, tiny_cfg

VIDEO_ID = "synth_val_000"  # a val video of the synthetic dataset: its boxes are in the dataset's CSVs


@dataclass(frozen=True)
class DemoSetup:
    data: Path  # the synthetic dataset
    train_dir: Path  # OUTPUT_DIR holding the tiny model's checkpoint
    video: Path  # 4 s, 160x120, 30 fps
    work: Path  # a folder for outputs

    @property
    def label_file(self) -> Path:
        return self.data / "annotations" / "ava.json"

    @property
    def preds_boxes(self) -> Path:
        return self.data / "annotations" / "ava_val_predicted_boxes.csv"

    @property
    def gt_boxes(self) -> Path:
        return self.data / "annotations" / "ava_val_v2.2.csv"

    def overrides(self, output: Path, *extra: str) -> List[str]:
        """Demo mode on the synthetic video, boxes from the dataset's CSV; ``extra`` may override any of it."""
        return ["TRAIN.ENABLE", "False", "DEMO.ENABLE", "True", "DEMO.INPUT_VIDEO", str(self.video),
                "DEMO.OUTPUT_FILE", str(output), "DEMO.LABEL_FILE_PATH", str(self.label_file),
                "DEMO.PREDS_BOXES", str(self.preds_boxes), *extra]  # DEMO.STARTING_SECOND: its default, 0

    def cfg(self, output: Path, *extra: str):
        return tiny_cfg(self.data, self.train_dir, *self.overrides(output, *extra))

    def args(self, output: Path, *extra: str) -> List[str]:
        """The same as command-line arguments of tools/run_net.py."""
        return ["--cfg", str(TINY_CFG), *TINY_OVERRIDES, "DATA.PATH_TO_DATA_DIR", str(self.data),
                "OUTPUT_DIR", str(self.train_dir), *self.overrides(output, *extra)]


def save_tiny_checkpoint(data: Path, out_dir: Path, *overrides: str) -> Path:
    """A randomly initialised tiny model saved as a training run would (no training: the tests check mechanics)."""
    from slowfast.models.model_builder import build_model

    from slowfast_custom.checkpoint import save_checkpoint

    cfg = tiny_cfg(data, out_dir, *overrides)
    torch.manual_seed(0)
    model = build_model(cfg)
    return save_checkpoint(str(out_dir), model, torch.optim.SGD(model.parameters(), lr=0.1), 0, cfg)


@pytest.fixture(scope="session")
def demo_setup(tiny_dataset, tmp_path_factory) -> DemoSetup:
    from slowfast_custom.demo.video_io import encode_images

    work = tmp_path_factory.mktemp("demo")
    train_dir = work / "train"
    save_tiny_checkpoint(tiny_dataset, train_dir)
    video = work / "videos" / f"{VIDEO_ID}.mp4"
    encode_images(sorted((tiny_dataset / "frames" / VIDEO_ID).glob("*.jpg")), video, 30)
    return DemoSetup(tiny_dataset, train_dir, video, work)


def decode(path) -> List[np.ndarray]:
    from slowfast_custom.demo.video_io import read_frames
    from slowfast_custom.video.frames import probe

    return [frame.image for frame in read_frames(probe(path))]
