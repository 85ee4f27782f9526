"""Evaluation: the confidence interval formula, the cached-embedding shortcut of the learners whose
embeddings ignore the task, and accuracy by inner step."""

import math

import pytest
import torch

from metademo.algorithms import MAML, MatchingNet, ProtoNet, RelationNet
from metademo.data.synthetic import synthetic_dataset
from metademo.training import evaluation
from metademo.training.evaluation import accuracy_by_step, evaluate_episodes, summarize

METRIC = [ProtoNet, MatchingNet, RelationNet]


@pytest.fixture(scope="module")
def pool():
    """12 synthetic characters of 8 drawings as a (classes, drawings, 28, 28) uint8 pool: alike enough within
    a class that even a random network does better than chance, so a wrong score shows."""
    images, _ = synthetic_dataset(12, 8, seed=1)
    return images.mul(255).round().to(torch.uint8).view(12, 8, 28, 28)


def test_summary_is_mean_and_196_standard_errors():
    s = summarize([1.0, 0.0, 1.0, 1.0])
    assert s["accuracy"] == 0.75 and s["episodes"] == 4
    assert math.isclose(s["ci95"], 1.96 * math.sqrt(0.75 * 0.25) / 2)


def count_calls(monkeypatch, cls, method):
    calls = []
    original = getattr(cls, method)

    def counted(self, *args, **kw):
        calls.append(method)
        return original(self, *args, **kw)

    monkeypatch.setattr(cls, method, counted)
    return calls


@pytest.mark.parametrize("cls", METRIC, ids=lambda c: c.name)
def test_shortcut_scores_the_same_episodes_as_the_generic_path(monkeypatch, pool, cls):
    learner = cls(cls.default_hparams.replace(hidden=16))
    meta = learner.init_meta_params(seed=2)
    monkeypatch.setattr(evaluation, "summarize", list)  # each episode's accuracy, in order
    adapted = count_calls(monkeypatch, cls, "query_accuracy")
    fast = evaluate_episodes(learner, meta, pool, 5, 2, queries=3, episodes=12, seed=9, batch=5)
    assert adapted == []  # the shortcut was taken: no episode was adapted to
    with monkeypatch.context() as m:
        m.setattr(cls, "embed_pool", lambda self, *a, **k: None)  # the generic per-episode path
        slow = evaluate_episodes(learner, meta, pool, 5, 2, queries=3, episodes=12, seed=9, batch=5)
    assert len(adapted) == 3  # batches of 5, 5 and 2 episodes
    assert fast == pytest.approx(slow, abs=1e-6) and len(fast) == 12
    assert len(set(slow)) > 2  # the episodes score differently, so a wrong score or order would show


def test_gradient_learners_have_no_shortcut(pool):
    learner = MAML(MAML.default_hparams.replace(hidden=8))
    assert learner.embed_pool(learner.init_meta_params(0), pool) is None


@pytest.fixture(scope="module")
def maml():
    learner = MAML(MAML.default_hparams.replace(hidden=8, inner_lr=0.4, head_lr_per_class=True))
    return learner, learner.init_meta_params(seed=5)


def test_step_zero_of_a_zero_head_is_chance_exactly(pool, maml):
    learner, meta = maml
    assert learner.head == "zero"
    by_step = accuracy_by_step(learner, meta, pool, 4, 1, steps=(0, 2), queries=3, episodes=6, seed=1, batch=4)
    # Every class scores 0: the first class wins every query, and 1 query in 4 is of that class.
    assert by_step[0] == {"accuracy": 0.25, "ci95": 0.0, "episodes": 6}
    assert by_step[2]["accuracy"] > 0.25


def test_each_step_equals_an_adaptation_of_that_many_steps(pool, maml):
    learner, meta = maml
    steps = (0, 1, 4)  # 4: more than the learner's default (3)
    by_step = accuracy_by_step(learner, meta, pool, 5, 1, steps=steps, queries=3, episodes=6, seed=4, batch=4)
    assert list(by_step) == list(steps)
    alone = {s: evaluate_episodes(learner, meta, pool, 5, 1, queries=3, episodes=6, seed=4, batch=4, steps=s)
             for s in steps}
    for s in steps:
        assert by_step[s] == pytest.approx(alone[s], abs=1e-12), s
    # The steps differ, so comparing them can fail (an entry scored at the wrong step would show).
    assert len({by_step[s]["accuracy"] for s in steps}) == len(steps)


@pytest.mark.parametrize("cls", METRIC, ids=lambda c: c.name)
def test_a_learner_without_inner_loop_has_step_zero_alone(pool, cls):
    learner = cls(cls.default_hparams.replace(hidden=8))
    meta = learner.init_meta_params(seed=1)
    by_step = accuracy_by_step(learner, meta, pool, 5, 1, steps=(0, 1, 2), queries=3, episodes=6, seed=3, batch=4)
    assert list(by_step) == [0]
    assert by_step[0] == evaluate_episodes(learner, meta, pool, 5, 1, queries=3, episodes=6, seed=3, batch=4)
