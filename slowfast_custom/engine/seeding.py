"""Random state derived from (RNG_SEED, epoch[, sample]), so that a resumed run repeats the uninterrupted one.

Resuming restarts at the epoch after the last checkpoint, in a new process, so
nothing random may depend on what ran before in the process:

* the training process reseeds Python, numpy and torch from (RNG_SEED, epoch)
  at the start of every epoch (dropout, anything else drawn in the step);
* the sample order is DistributedSampler's permutation of RNG_SEED + epoch
  (``set_epoch``), with one process as with several;
* each training sample is augmented under RNGs seeded from (RNG_SEED, epoch,
  index) and restored afterwards, so its crop and scale are the same in the
  main process or in any DataLoader worker, persistent or not, fresh after a
  restart or not: NUM_WORKERS does not change the result.
"""

from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset
from torch.utils.data.distributed import DistributedSampler

_MASK64 = (1 << 64) - 1


def derived_seed(*keys: int) -> int:
    """A 63-bit seed from integer keys such as (RNG_SEED, epoch, index): different keys, unrelated streams."""
    # The count first: SeedSequence pads its entropy with zeros, so (s, e) and (s, e, 0) would collide.
    entropy = [len(keys)] + [int(k) & _MASK64 for k in keys]
    state = np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0]
    return int(state) >> 1


def seed_all(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (torch's on the CPU and on every GPU)."""
    random.seed(seed)
    np.random.seed([seed & 0xFFFFFFFF, seed >> 32])
    torch.manual_seed(seed)


@contextlib.contextmanager
def isolated_rng(seed: int) -> Iterator[None]:
    """Run the block with Python's, numpy's and torch's CPU generators seeded by ``seed``; restore them after it.

    Restoring keeps the caller's stream (the model's dropout, when samples are
    loaded in the training process) independent of how many samples it loaded.
    """
    saved = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    random.seed(seed)
    np.random.seed([seed & 0xFFFFFFFF, seed >> 32])
    torch.random.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.random.set_rng_state(saved[2])


class EpochSampler(DistributedSampler):
    """DistributedSampler's order for this process, as ``(epoch, index)`` keys for ``PerSampleSeeded``."""

    def __iter__(self):
        epoch = self.epoch
        return ((epoch, index) for index in super().__iter__())


class PerSampleSeeded(Dataset):
    """``dataset[index]`` under RNGs seeded from (seed, epoch, index), for keys ``(epoch, index)``."""

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset = dataset
        self.seed = seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        epoch, index = key
        with isolated_rng(derived_seed(self.seed, epoch, index)):
            return self.dataset[index]
