"""The shipped checkpoints are as good as the README says (a broken checkpoint or preprocessing is caught)."""

import json
from pathlib import Path

import pytest

import metademo
from metademo.api import weights_path
from metademo.checkpoints import load_checkpoint
from metademo.data.omniglot import load_split, omniglot_available
from metademo.training.evaluation import evaluate_episodes

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = json.loads((ROOT / "docs" / "accuracy.json").read_text())


@pytest.fixture(scope="module")
def test_pool():
    if not omniglot_available(background=False):
        pytest.skip("Omniglot not in ../shared/data")
    return load_split("test")


def test_every_algorithm_ships_weights_with_full_metadata():
    for name in metademo.available_algorithms():
        ckpt = load_checkpoint(weights_path(name))
        assert ckpt.algorithm == name
        training = ckpt.metadata["training"]
        for key in ("data", "split", "iterations", "seed", "wall_seconds"):
            assert training.get(key) is not None, (name, key)
        # The checkpoint is the best of its validation log (chance is 0.2 at 5-way and 0.05 at 20-way, and every
        # model is far above it): 5-way 1-shot, or the mean of 1-shot widths for a model meta-trained over a range.
        val = ckpt.metadata["validation"]
        (setting,) = [k for k in val if k not in ("log", "test_steps", "head_step")]
        assert setting in ("5way1shot", "1shot_" + "_".join(f"{w}way" for w in training.get("val_ways") or [5]))
        assert val[setting]["accuracy"] == max(e["val_accuracy"] for e in val["log"]) > 0.75, name


@pytest.mark.parametrize("name", metademo.available_algorithms())
def test_every_checkpoint_was_meta_trained_from_its_own_random_start(name):
    """No shipped model starts from another's weights: its own seeded initialisation, its own outer loop."""
    ckpt = load_checkpoint(weights_path(name))
    training = ckpt.metadata["training"]
    text = json.dumps(ckpt.metadata)
    for word in ("init_from", "init-from", "warm_start"):
        assert word not in text, (name, word)
    assert training["initialisation"] == f"random, seed {training['seed']}", name
    assert training["recipe"].startswith(f"python -m metademo.train --algorithm {name} "), name
    assert training["hardware"] and training["wall_seconds"] > 0, name
    if ckpt.learner().has_inner_loop:
        assert ckpt.hparams.test_steps >= 3, name


@pytest.mark.parametrize("name", metademo.available_algorithms())
def test_shipped_checkpoint_is_within_3_points_of_its_documented_accuracy(name, test_pool):
    ckpt = load_checkpoint(weights_path(name))
    result = evaluate_episodes(ckpt.learner(), ckpt.params, test_pool, 5, 1, queries=15, episodes=100, seed=1)
    documented = DOCUMENTED[name]["5w1s"]["accuracy"]
    assert result["accuracy"] >= documented - 0.03, (result, documented)
