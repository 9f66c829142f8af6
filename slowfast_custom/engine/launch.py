"""Run a job in one process, in NUM_GPUS spawned processes (upstream's convention), or under torchrun.

* ``torchrun --nproc_per_node N tools/run_net.py ...``: the process group is
  read from torchrun's environment (``env://``); gloo when ``NUM_GPUS 0``,
  NCCL on GPUs.
* ``NUM_GPUS > 1`` without torchrun: upstream's ``slowfast.utils.multiprocessing.run``
  in ``NUM_GPUS`` spawned processes, rendezvous at ``--init_method``, ``NUM_SHARDS`` machines.
* otherwise the job runs in this process.
"""

from __future__ import annotations

import logging
import os
from typing import Callable

import torch
import torch.distributed as dist
from slowfast.utils import multiprocessing as mpu

logger = logging.getLogger(__name__)


def backend_for(cfg) -> str:
    # NCCL needs GPUs; upstream's DIST_BACKEND default is nccl, so CPU runs switch to gloo.
    return cfg.DIST_BACKEND if cfg.NUM_GPUS > 0 else "gloo"


def launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or ("WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ)


def launch_job(cfg, init_method: str, func: Callable):
    if launched_by_torchrun():
        if cfg.NUM_GPUS > 0:
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group(backend=backend_for(cfg), init_method="env://")
        try:
            result = func(cfg)
            # Rank 0 writes the summary and the report after the last collective: the others wait for it before
            # the group is torn down (a rank leaving early made gloo abort a peer: "terminate called ...").
            dist.barrier()
            return result
        finally:
            dist.destroy_process_group()
    if cfg.NUM_GPUS > 1:
        torch.multiprocessing.spawn(
            mpu.run,
            nprocs=cfg.NUM_GPUS,
            args=(cfg.NUM_GPUS, func, init_method, cfg.SHARD_ID, cfg.NUM_SHARDS, backend_for(cfg), cfg),
            daemon=False,
        )
        return None
    return func(cfg)
