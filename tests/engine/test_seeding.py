"""Per-epoch and per-sample random state: what makes a resumed run repeat the uninterrupted one."""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from slowfast_custom.engine.seeding import EpochSampler, PerSampleSeeded, derived_seed, isolated_rng


class Augmented(Dataset):
    """Each sample draws from all three global generators, as augmentations do."""

    def __len__(self):
        return 6

    def __getitem__(self, index):
        return torch.tensor([index, random.random(), np.random.uniform(), torch.rand(()).item()], dtype=torch.float64)


def test_derived_seeds_differ_by_every_key_and_repeat():
    seeds = {derived_seed(0, e, i) for e in range(3) for i in range(50)} | {derived_seed(0, 0), derived_seed(0, 1)}
    assert len(seeds) == 152 and all(0 <= s < 2**63 for s in seeds)
    assert derived_seed(7, 2, 5) == derived_seed(7, 2, 5) and derived_seed(-1, 0) >= 0


def test_isolated_rng_restores_the_callers_streams():
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    expected = (torch.rand(3), np.random.uniform(size=3), random.random())
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    with isolated_rng(5):
        inside = (torch.rand(3), np.random.uniform(size=3), random.random())
    after = (torch.rand(3), np.random.uniform(size=3), random.random())
    assert torch.equal(after[0], expected[0]) and np.array_equal(after[1], expected[1]) and after[2] == expected[2]
    with isolated_rng(5):
        again = (torch.rand(3), np.random.uniform(size=3), random.random())
    assert torch.equal(inside[0], again[0]) and np.array_equal(inside[1], again[1]) and inside[2] == again[2]


def epoch_batches(workers, epoch, persistent_loader=None):
    loader = persistent_loader or DataLoader(
        PerSampleSeeded(Augmented(), 3), batch_size=2, num_workers=workers, persistent_workers=workers > 0,
        sampler=EpochSampler(Augmented(), num_replicas=1, rank=0, shuffle=True, seed=3),
        generator=torch.Generator().manual_seed(3))
    loader.sampler.set_epoch(epoch)
    torch.manual_seed(epoch)  # what the trainer's global state is does not matter
    return torch.cat(list(loader)), loader


def test_an_epoch_is_the_same_in_any_process_fresh_or_not():
    first, loader = epoch_batches(0, 0)
    second, _ = epoch_batches(0, 1, loader)
    assert not torch.equal(first[:, 0], second[:, 0])  # another order in another epoch
    first_draws, second_draws = ({int(row[0]): row[1:] for row in rows} for rows in (first, second))
    assert all(not torch.equal(first_draws[i], second_draws[i]) for i in range(6))  # and other draws per sample
    # A fresh loader (a resumed run) at epoch 1, and a worker process, give the same samples.
    assert torch.equal(epoch_batches(0, 1)[0], second)
    assert torch.equal(epoch_batches(1, 1)[0], second)
    _, persistent = epoch_batches(1, 0)
    assert torch.equal(epoch_batches(1, 1, persistent)[0], second)
