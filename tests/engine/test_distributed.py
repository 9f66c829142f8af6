"""Two processes under torchrun on CPU (gloo) train one model: the replicas must end identical."""

import json
import subprocess
import sys

from conftest import REPO, TINY_CFG, TINY_OVERRIDES


def test_torchrun_two_gloo_processes_end_with_identical_weights(tiny_dataset, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(REPO / "tools/run_net.py"), "--cfg", str(TINY_CFG), *TINY_OVERRIDES,
           "DATA.PATH_TO_DATA_DIR", str(tiny_dataset), "OUTPUT_DIR", str(out), "TRAIN.BATCH_SIZE", "4",
           "NUM_GPUS", "0", "TRAIN.EVAL_PERIOD", "1"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO,
                            env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2
    digests = summary["rank_weight_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]
    assert (out / "eval" / "val_epoch_00001_metrics.json").is_file()
    # Only rank 0 writes: one checkpoint (with the thresholds calibrated on validation, newest and the epoch's), one
    # log.
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "checkpoint_epoch_00001.pyth", "thresholds.json", "thresholds_epoch_00001.json"]
