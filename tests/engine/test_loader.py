"""Evaluation batches: clips of one size per batch, every keyframe once, same-size data batched as before."""

import numpy as np
import pytest
import torch

from slowfast_custom.engine.loader import SizeGroupedBatches, build_loader

from conftest import tiny_cfg


def test_batches_hold_one_size_and_every_index_once():
    sizes = np.array([[112, 149]] * 5 + [[112, 298]] * 3 + [[112, 149]] * 2)
    batches = list(SizeGroupedBatches(range(10), sizes, 4))
    assert batches == [[0, 1, 2, 3], [4, 8, 9], [5, 6, 7]]
    assert sorted(i for b in batches for i in b) == list(range(10))


def test_one_size_is_batched_as_a_plain_sampler():
    sizes = np.array([[112, 112]] * 10)
    assert list(SizeGroupedBatches(range(10), sizes, 4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    # a rank's shard (every second index) as ShardSampler gives it
    assert list(SizeGroupedBatches(range(1, 10, 2), sizes, 2)) == [[1, 3], [5, 7], [9]]


def test_clip_sizes_are_the_sizes_the_dataset_makes(mixed_size_dataset, tmp_path):
    """The sizes the batching relies on, against the clips themselves, for both aspect ratios."""
    cfg = tiny_cfg(mixed_size_dataset, tmp_path, "TEST.BATCH_SIZE", "8")
    loader = build_loader(cfg, "test")
    dataset = loader.dataset
    sizes = dataset.clip_sizes()
    assert {tuple(s) for s in sizes.tolist()} == {(112, 149), (112, 298)}
    for i in range(len(dataset)):
        assert tuple(dataset[i][0][1].shape[-2:]) == tuple(sizes[i])
    seen = []
    for _inputs, _, indices, meta in loader:
        assert len({tuple(sizes[i]) for i in indices.tolist()}) == 1 and len(indices) <= 8
        seen.extend(indices.tolist())
        assert torch.equal(meta["metadata"][:, 0].unique(), torch.tensor([dataset._keyframe_indices[indices[0], 0]]))
    assert sorted(seen) == list(range(len(dataset)))


def test_same_size_evaluation_batches_are_unchanged(tiny_dataset, tmp_path):
    cfg = tiny_cfg(tiny_dataset, tmp_path, "TRAIN.BATCH_SIZE", "2", "TEST.BATCH_SIZE", "3")
    for split, size in (("val", 2), ("test", 3)):  # validation batches come from TRAIN.BATCH_SIZE, as upstream's
        loader = build_loader(cfg, split)
        n = len(loader.dataset)
        assert [b[2].tolist() for b in loader] == [list(range(k, min(k + size, n))) for k in range(0, n, size)]


def test_training_clip_sizes_are_refused(tiny_dataset, tmp_path):
    from slowfast.datasets.build import build_dataset

    cfg = tiny_cfg(tiny_dataset, tmp_path)
    with pytest.raises(ValueError):
        build_dataset(cfg.TRAIN.DATASET, cfg, "train").clip_sizes()
