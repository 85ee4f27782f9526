"""Omniglot loading, the split, the episode sampler and Lake et al.'s runs, on the real data."""

import numpy as np
import pytest
import torch

from metademo.data.omniglot import (
    VALIDATION_ALPHABETS,
    EpisodeSampler,
    load_lake_runs,
    load_omniglot,
    load_split,
    omniglot_available,
)

pytestmark = pytest.mark.skipif(not omniglot_available(background=True), reason="Omniglot not in ../shared/data")


@pytest.fixture(scope="module")
def background():
    return load_omniglot(background=True, progress=False)


def test_both_halves_have_the_published_sizes(background):
    evaluation = load_omniglot(background=False, progress=False)
    assert background.images.shape == (964, 20, 28, 28) and background.images.dtype == np.uint8
    assert evaluation.images.shape == (659, 20, 28, 28)
    assert len(set(background.alphabets)) == 30 and len(set(evaluation.alphabets)) == 20
    # Ink high, background zero: the border of every image is empty after preprocessing.
    assert background.images[:, :, 0, :].max() == 0 and background.images.max() == 255


def test_split_is_by_alphabet_with_rotations_only_in_train(background):
    n_val = sum(a in VALIDATION_ALPHABETS for a in background.alphabets)
    assert 50 < n_val < 200
    train, val, test = load_split("train"), load_split("val"), load_split("test")
    assert train.shape == (4 * (964 - n_val), 20, 28, 28)
    assert val.shape == (n_val, 20, 28, 28) and test.shape == (659, 20, 28, 28)
    base = train[: 964 - n_val]
    assert torch.equal(train[964 - n_val: 2 * (964 - n_val)], torch.rot90(base, 1, dims=(2, 3)))
    # No validation character appears among the training characters.
    train_set = {bytes(c.numpy()) for c in base[:, 0]}
    assert not any(bytes(c.numpy()) in train_set for c in val[:, 0])


def test_episode_sampler_is_seeded_and_well_formed():
    pool = load_split("val")
    a = EpisodeSampler(pool, 5, 3, 4, seed=1).sample(2)
    b = EpisodeSampler(pool, 5, 3, 4, seed=1).sample(2)
    c = EpisodeSampler(pool, 5, 3, 4, seed=2).sample(2)
    assert torch.equal(a.support_x, b.support_x) and not torch.equal(a.support_x, c.support_x)
    assert a.support_x.shape == (2, 15, 1, 28, 28) and a.query_x.shape == (2, 20, 1, 28, 28)
    assert a.support_x.dtype == torch.float32 and 0 <= a.support_x.min() and a.support_x.max() <= 1
    assert a.support_y[0].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    for t in range(2):
        flat = pool.flatten(2).float().div(255)
        for x, y in ((a.support_x[t], a.support_y[t]), (a.query_x[t], a.query_y[t])):
            for img in x:  # every image comes from the pool
                assert len((flat == img.flatten()).all(-1).nonzero()) >= 1
            # Images with one label come from one character.
            chars = {int((flat == img.flatten()).all(-1).nonzero()[0, 0]) for img in x[y == 0]}
            assert len(chars) == 1
        # Support and query drawings are distinct.
        s = {bytes(i.numpy()) for i in a.support_x[t]}
        assert not any(bytes(i.numpy()) in s for i in a.query_x[t])


def test_sampler_rejects_impossible_episodes():
    pool = load_split("val")
    with pytest.raises(ValueError):
        EpisodeSampler(pool, 1, 1, 1)
    with pytest.raises(ValueError):
        EpisodeSampler(pool, 5, 10, 11)


def test_lake_runs():
    runs = load_lake_runs()
    assert len(runs) == 20
    for run in runs:
        assert len(run.support) == 20 and len(run.queries) == 20
        assert sorted(run.targets) == list(range(20))  # each character is asked once
        assert all(p.exists() for p in run.support + run.queries)
