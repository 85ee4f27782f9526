"""The trainer's last word and first steps: the default inner steps it chooses on validation and writes into
the checkpoint, and the first-order warm-up of the MAML family. (The learners' outer learning rates and the
trainer's draws of task shapes are proven in test_stable_inner_loops.py.)"""

import pytest
import torch

from metademo.algorithms import MAML, ProtoNet
from metademo.checkpoints import load_checkpoint
from metademo.data.synthetic import synthetic_dataset
from metademo.training.tasks import ImageTasks
from metademo.training.trainer import STEP_CHOICES, TrainConfig, Trainer


@pytest.fixture(scope="module")
def pool():
    """12 synthetic characters of 8 drawings, (classes, drawings, 28, 28) uint8: a few inner steps of even a
    random network tell them apart better than chance, so different parameters score differently."""
    images, _ = synthetic_dataset(12, 8, seed=1)
    return images.mul(255).round().to(torch.uint8).view(12, 8, 28, 28)


def make_trainer(tmp_path, pool, learner=None, **kw) -> Trainer:
    learner = learner or MAML(MAML.default_hparams.replace(hidden=8, train_steps=1, head_lr_per_class=True))
    kw = {"out": str(tmp_path / "m.safetensors"), **kw}
    cfg = TrainConfig(algorithm=learner.name, meta_batch=2, queries=2, val_episodes=4, **kw)
    tasks = ImageTasks(pool, pool, cfg.ways, cfg.shots, cfg.queries, cfg.seed, cfg.val_ways, cfg.val_episodes,
                       val_queries=3)
    return Trainer(cfg, progress=False, tasks=tasks, learner=learner)


def test_the_best_default_steps_are_chosen_the_fewest_on_a_tie_and_written(tmp_path, pool):
    t = make_trainer(tmp_path, pool, iterations=2, val_every=2)
    list(t.iterate())  # the best (only) checkpoint is written
    before = load_checkpoint(t.cfg.out)
    few, some, many = STEP_CHOICES
    cases = [({few: 0.5, some: 0.7, many: 0.6}, some), ({few: 0.5, some: 0.6, many: 0.8}, many),
             ({few: 0.6, some: 0.7, many: 0.7}, some), ({few: 0.7, some: 0.7, many: 0.7}, few)]
    for scores, chosen in cases:
        asked = []

        def validate(meta=None, steps=None, scores=scores, asked=asked):
            asked.append(steps)
            return {"score": scores[steps]}

        t.validate = validate
        result = t.choose_test_steps()
        assert sorted(asked) == sorted(STEP_CHOICES)
        assert result == {"chosen": chosen, **{str(s): a for s, a in scores.items()}}
        ckpt = load_checkpoint(t.cfg.out)
        assert ckpt.hparams == before.hparams.replace(test_steps=chosen)
        assert ckpt.metadata["validation"]["test_steps"] == {str(s): a for s, a in scores.items()}
        assert ckpt.metadata["training"] == before.metadata["training"]
        for k, v in before.params.items():
            assert torch.equal(ckpt.params[k], v)


def test_the_steps_are_scored_on_the_best_checkpoint_at_the_end_of_a_run(tmp_path, pool):
    t = make_trainer(tmp_path, pool, iterations=2, val_every=2)
    result = t.run()
    ckpt = load_checkpoint(t.cfg.out)
    assert result["test_steps"]["chosen"] == ckpt.hparams.test_steps in STEP_CHOICES
    # The trainer's parameters move on from the best checkpoint's (here: to another start); the choice is
    # still made on the checkpoint's.
    with torch.no_grad():
        for k, v in t.learner.init_meta_params(seed=99).items():
            t.meta[k].copy_(v)
    again = t.choose_test_steps()
    expected = {str(s): t.validate(ckpt.params, steps=s)["score"] for s in STEP_CHOICES}
    assert {k: again[k] for k in expected} == expected == {k: result["test_steps"][k] for k in expected}
    assert any(t.validate(steps=s)["score"] != expected[str(s)] for s in STEP_CHOICES)  # the check can fail


def test_a_learner_without_inner_loop_keeps_its_checkpoint_as_trained(tmp_path, pool):
    t = make_trainer(tmp_path, pool, learner=ProtoNet(ProtoNet.default_hparams.replace(hidden=8)),
                     iterations=2, val_every=2)
    assert "test_steps" not in t.run()
    ckpt = load_checkpoint(t.cfg.out)
    assert ckpt.hparams.test_steps == 0 and "test_steps" not in ckpt.metadata["validation"]


def close(a: dict, b: dict) -> bool:
    return all(torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-6) for k in a)


def test_first_order_warm_up_steps_by_first_order_meta_gradients(tmp_path, pool):
    learner = MAML(MAML.default_hparams.replace(hidden=8, train_steps=2, head_lr_per_class=True))
    t = make_trainer(tmp_path, pool, learner=learner, out=None, first_order_iterations=2, iterations=4)
    asked = []  # (iteration, first_order) of every call of the learner's meta-gradient, from any worker
    learner_meta_gradient = learner.meta_gradient
    learner.meta_gradient = lambda meta, episode, **kw: (asked.append((t.iteration, kw.get("first_order"))),
                                                         learner_meta_gradient(meta, episode, **kw))[1]
    taken = []  # what each outer step started from, saw and descended
    trainer_meta_gradient = t.meta_gradient

    def meta_gradient(episode, **kw):
        start = {k: v.detach().clone().requires_grad_() for k, v in t.meta.items()}
        grads, metrics = trainer_meta_gradient(episode, **kw)
        taken.append((start, episode, grads))
        return grads, metrics

    t.meta_gradient = meta_gradient
    for _ in range(4):
        t.step()
    assert {i for i, _ in asked} == {0, 1, 2, 3}
    assert all(first_order is (True if i < 2 else None) for i, first_order in asked)
    for i, (start, episode, grads) in enumerate(taken):
        first, _ = learner_meta_gradient(start, episode, first_order=True)
        second, _ = learner_meta_gradient(start, episode)
        # The two differ (dropping the second derivatives matters), and the step took the right one.
        assert not close(first, second), i
        assert close(grads, first if i < 2 else second), i
