"""Evaluation: the confidence interval formula and ProtoNet's cached-embedding shortcut."""

import math

import pytest

from metademo.algorithms import ProtoNet
from metademo.data.omniglot import load_split, omniglot_available
from metademo.training.evaluation import evaluate_episodes, summarize


def test_summary_is_mean_and_196_standard_errors():
    s = summarize([1.0, 0.0, 1.0, 1.0])
    assert s["accuracy"] == 0.75 and s["episodes"] == 4
    assert math.isclose(s["ci95"], 1.96 * math.sqrt(0.75 * 0.25) / 2)


@pytest.mark.skipif(not omniglot_available(background=True), reason="Omniglot not in ../shared/data")
def test_protonet_shortcut_scores_the_same_episodes_as_the_generic_path(monkeypatch):
    pool = load_split("val")[:30]
    learner = ProtoNet(ProtoNet.default_hparams.replace(hidden=16))
    meta = learner.init_meta_params(seed=2)
    fast = evaluate_episodes(learner, meta, pool, 5, 2, queries=3, episodes=12, seed=9, batch=5)
    monkeypatch.setattr(ProtoNet, "has_inner_loop", True)  # forces the generic per-episode path
    slow = evaluate_episodes(learner, meta, pool, 5, 2, queries=3, episodes=12, seed=9, batch=5)
    assert fast["accuracy"] == pytest.approx(slow["accuracy"], abs=1e-9)
    assert fast["episodes"] == slow["episodes"] == 12
