"""The registry is the one list of algorithms: the package's texts keep none by hand, and every learner says
itself how many inner steps it takes and whether the evaluation may embed a pool of images once."""

from pathlib import Path

import pytest
import torch

import metademo
from metademo.algorithms import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_texts_name_no_algorithm_by_hand():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    description = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"]
    for text in (metademo.__doc__, description):
        text = " ".join(text.split())  # a name may break across lines
        named = [cls.title for cls in REGISTRY.values() if cls.title in text]
        assert named == [], f"{named} named in {text!r}"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_learner_says_how_many_inner_steps_it_takes(name):
    learner = REGISTRY[name](REGISTRY[name].default_hparams.replace(hidden=4, test_steps=7))
    if learner.family == "initialisation":
        assert learner.default_steps == learner.inner_steps() == learner.inner_steps(None) == 7
        assert learner.inner_steps(2) == 2 and learner.inner_steps(0) == 0
    else:  # it compares embeddings: nothing to step, whatever is asked
        assert learner.default_steps == learner.inner_steps(5) == 0


@pytest.mark.parametrize("name", list(REGISTRY))
def test_only_learners_that_compare_embeddings_embed_a_pool_once(name):
    learner = REGISTRY[name](REGISTRY[name].default_hparams.replace(hidden=4))
    meta = learner.init_meta_params(seed=0)
    pool = torch.randint(0, 256, (3, 2, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    embedded = learner.embed_pool(meta, pool)
    if learner.family == "initialisation":
        assert embedded is None
        return
    # Row c, column d: the embedding of drawing d of class c, as the learner embeds that image alone.
    assert embedded.shape[:2] == (3, 2)
    one = learner.embed(meta, pool[2, 1].float().div(255).view(1, 1, 28, 28))
    torch.testing.assert_close(embedded[2, 1], one[0])
