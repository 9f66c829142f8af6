"""Two torchrun launchers on 127.0.0.1 as two nodes (c10d rendezvous, gloo): one model, two shards, one writer."""

import json
import socket
import subprocess
import sys

from conftest import REPO, TINY_CFG, TINY_OVERRIDES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_train_distinct_shards_to_identical_weights_and_only_rank0_writes(tiny_dataset, tmp_path):
    port = free_port()
    # Each node gets its own OUTPUT_DIR (as if it had only local disks): only global rank 0's may appear.
    outputs = [tmp_path / f"node{rank}" for rank in (0, 1)]
    launchers = []
    for node_rank, out in enumerate(outputs):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node_rank", str(node_rank),
               "--nproc_per_node", "1", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}",
               "--rdzv_id", "multinode-test", str(REPO / "tools/run_net.py"), "--cfg", str(TINY_CFG),
               *TINY_OVERRIDES, "DATA.PATH_TO_DATA_DIR", str(tiny_dataset), "OUTPUT_DIR", str(out),
               "TRAIN.BATCH_SIZE", "2", "NUM_GPUS", "0", "TRAIN.EVAL_PERIOD", "1"]
        launchers.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                                          env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1",
                                               "PYTHONPATH": str(REPO)}))
    logs = [p.communicate(timeout=600)[0] for p in launchers]
    assert [p.returncode for p in launchers] == [0, 0], "\n".join(log[-3000:] for log in logs)

    written = [out for out in outputs if out.exists()]
    assert len(written) == 1, f"expected one node's OUTPUT_DIR, found {written}"
    out = written[0]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2
    digests = summary["rank_weight_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]
    per_rank = summary["rank_keyframes_trained"]
    assert len(per_rank) == 2 and min(per_rank) > 0
    assert summary["keyframes_trained_by_several_ranks"] == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "checkpoint_epoch_00001.pyth", "thresholds.json", "thresholds_epoch_00001.json"]
    assert (out / "eval" / "val_epoch_00001_metrics.json").is_file()
    # The launcher whose process was global rank 0 (the one that logs) is the one whose folder was written.
    assert "Saved" in logs[outputs.index(out)] and "Saved" not in logs[1 - outputs.index(out)]
