"""Journey: the README's small synthetic dataset, made by tools/make_synthetic.py and passed by the checker
with the tiny config it trains (training on it is run by the engine tests and the quick start)."""

import json

import pytest

from slowfast_custom.ava.formats import read_box_csv

from conftest import TINY_CFG, run_tool

pytestmark = [pytest.mark.journey, pytest.mark.slow]


def test_a_synthetic_dataset_that_the_checker_passes(tmp_path):
    data = tmp_path / "small"
    made = run_tool("make_synthetic.py", "--out", data, "--train-videos", "2", "--val-videos", "1",
                    "--seconds", "4", "--seed", "3")
    assert made.returncode == 0, made.stderr[-3000:]
    summary = json.loads(made.stdout.splitlines()[0])
    assert summary["train"]["videos"] == 2 and summary["val"]["videos"] == 1
    for split in ("train", "val"):
        lines = (data / "frame_lists" / f"{split}.csv").read_text().splitlines()[1:]
        videos = {line.split(" ")[0] for line in lines}
        assert len(lines) == sum(len(list((data / "frames" / v).glob("*.jpg"))) for v in videos) == 4 * 30 * len(videos)
        gt = read_box_csv(data / "annotations" / f"ava_{split}_v2.2.csv", "gt")
        assert len(gt) == summary[split]["boxes"] and {r.second for r in gt} <= {1, 2, 3}
    check = run_tool("check_dataset.py", data, "--cfg", TINY_CFG)
    assert check.returncode == 0 and "0 errors" in check.stdout, check.stdout[-3000:] + check.stderr[-3000:]
