"""Data loaders for one process of a (possibly distributed) run.

Upstream's ``construct_loader`` divides the batch by ``NUM_GPUS`` (zero on a
CPU) and shards only when ``NUM_GPUS > 1``; this one divides by the number of
processes on the machine and shards whenever the process group has several
members, so ``torchrun`` on CPUs (gloo) works as on GPUs. The dataset comes
from upstream's registry and the batches from upstream's ``detection_collate``.
Evaluation batches hold clips of one size only (``SizeGroupedBatches``): the
test split's full frames differ in width between videos of different aspect
ratios, and upstream's collate stacks them.
"""

from __future__ import annotations

import os
from typing import Iterator, List, Sequence

import numpy as np
import torch
from slowfast.datasets.build import build_dataset
from slowfast.datasets.loader import detection_collate
from slowfast.utils import distributed as du
from torch.utils.data import DataLoader, Sampler

import slowfast_custom.data.custom_ava  # noqa: F401  (registers Customava: build_dataset looks it up by name)
from slowfast_custom.engine.seeding import EpochSampler, PerSampleSeeded
from slowfast_custom.errors import UserError


class ShardSampler(Sampler):
    """Every ``world``-th index from ``rank``, in order, without the padding DistributedSampler adds.

    Evaluation must see each keyframe exactly once: a duplicated detection
    would count as a false positive.
    """

    def __init__(self, dataset, rank: int, world: int) -> None:
        self.indices = list(range(rank, len(dataset), world))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class SizeGroupedBatches(Sampler):
    """Batches of at most ``batch_size`` of ``indices``, each holding clips of one size only.

    Clips of one size keep their order and fill batches as a plain sampler would, so a dataset of one frame
    size is batched exactly as before; each further size adds at most one partial batch. Every index is in
    exactly one batch. Nothing is padded, so no clip's scores depend on another size's pixels.
    """

    def __init__(self, indices: Sequence[int], sizes: np.ndarray, batch_size: int) -> None:
        groups: dict = {}
        for i in indices:
            groups.setdefault(tuple(sizes[i].tolist()), []).append(int(i))
        self.batches: List[List[int]] = [group[k:k + batch_size] for group in groups.values()
                                         for k in range(0, len(group), batch_size)]

    def __iter__(self) -> Iterator[List[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def processes_per_machine(cfg) -> int:
    """Upstream's ``NUM_GPUS`` processes per machine; under torchrun, its LOCAL_WORLD_SIZE."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", max(1, cfg.NUM_GPUS)))


def build_loader(cfg, split: str) -> DataLoader:
    if split not in ("train", "val", "test"):
        raise ValueError(f"split {split!r}")
    dataset_name = cfg.TEST.DATASET if split == "test" else cfg.TRAIN.DATASET
    batch = cfg.TEST.BATCH_SIZE if split == "test" else cfg.TRAIN.BATCH_SIZE
    per_process = max(1, batch // processes_per_machine(cfg))
    dataset = build_dataset(dataset_name, cfg, split)
    world, rank = du.get_world_size(), du.get_rank()
    is_train = split == "train"
    if is_train:
        if len(dataset) // world < per_process:
            raise UserError(f"the train split has {len(dataset)} keyframes, fewer than one batch of {per_process} "
                            f"per process ({world} processes): lower TRAIN.BATCH_SIZE or add data")
        # Order and augmentation from (RNG_SEED, epoch, sample) only: a resumed run repeats the
        # uninterrupted one, whatever NUM_WORKERS (see engine/seeding.py). The trainer calls set_epoch.
        sampler = EpochSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=cfg.RNG_SEED)
        dataset = PerSampleSeeded(dataset, cfg.RNG_SEED)
    else:
        sampler = ShardSampler(dataset, rank, world) if world > 1 else None
    batching = dict(batch_size=per_process, sampler=sampler, drop_last=is_train)
    if not is_train and per_process > 1 and hasattr(dataset, "clip_sizes"):
        indices = sampler.indices if sampler is not None else range(len(dataset))
        batching = dict(batch_sampler=SizeGroupedBatches(indices, dataset.clip_sizes(), per_process))
    return DataLoader(
        dataset,
        **batching,
        num_workers=cfg.DATA_LOADER.NUM_WORKERS,
        pin_memory=cfg.DATA_LOADER.PIN_MEMORY and cfg.NUM_GPUS > 0,
        collate_fn=detection_collate if cfg.DETECTION.ENABLE else None,
        persistent_workers=cfg.DATA_LOADER.NUM_WORKERS > 0,
        # CUDA (GPU JPEG decoding) cannot run in forked workers.
        multiprocessing_context="spawn" if cfg.DATA_LOADER.GPU_DECODE and cfg.DATA_LOADER.NUM_WORKERS > 0 else None,
        # The workers' base seed is drawn from this generator, not from the global one the trainer reseeds
        # every epoch (a persistent worker draws it once, a fresh one per epoch).
        generator=torch.Generator().manual_seed(cfg.RNG_SEED),
    )
