"""The trainer's last word and first steps: the default inner steps it chooses on validation and writes into
the checkpoint, and the first-order warm-up of the MAML family. (The learners' outer learning rates and the
trainer's draws of task shapes are proven in test_stable_inner_loops.py.)"""

import pytest
import torch

from metademo.algorithms import MAML, ProtoNet
from metademo.checkpoints import load_checkpoint
from metademo.data.synthetic import synthetic_dataset
from metademo.training.tasks import ImageTasks
from metademo.training.trainer import STEP_CHOICES, STEP_MARGIN, TrainConfig, Trainer


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


def test_the_best_default_steps_and_head_step_are_chosen_the_fewest_steps_within_the_margin_and_written(tmp_path, pool):
    t = make_trainer(tmp_path, pool, iterations=2, val_every=2)  # meta-trained with the head's step per class
    list(t.iterate())  # the best (only) checkpoint is written
    before = load_checkpoint(t.cfg.out)
    assert before.hparams.head_lr_per_class
    few, some, many = STEP_CHOICES
    # (scores with the head's step per class, with the plain step), the steps and the rule that win
    cases = [((.5, .7, .6), (.4, .4, .4), some, True), ((.5, .6, .8), (.5, .5, .5), many, True),
             ((.6, .7, .7), (.5, .5, .5), some, True), ((.7, .7, .7), (.6, .6, .6), few, True),
             ((.5, .6, .7), (.8, .6, .8), few, False), ((.7, .7, .8), (.6, .8, .8), some, False),
             ((.5, .6, .8), (.5, .6, .8), many, False),  # a tie at the same steps: the plain step, never larger
             # within STEP_MARGIN of the best, the fewest steps win, then the better score, then the plain step
             ((.7, .7 + STEP_MARGIN / 2, .7 + STEP_MARGIN), (.6, .6, .6), few, True),
             ((.7, .7 + STEP_MARGIN / 2, .7 + 2 * STEP_MARGIN), (.6, .6, .6), many, True),
             ((.7, .7, .7), (.6, .7 + STEP_MARGIN / 2, .6), few, True),
             ((.7 - STEP_MARGIN / 2, .7, .7), (.7, .6, .6), few, False),
             ((.7, .7, .7), (.7, .6, .6), few, False), ((.7, .7, .7), (.7 - STEP_MARGIN / 2, .6, .6), few, True)]
    for per_class, plain, chosen, rule in cases:
        scores = {True: dict(zip(STEP_CHOICES, per_class)), False: dict(zip(STEP_CHOICES, plain))}
        asked = []

        def validate(meta=None, steps=None, hparams=None, scores=scores, asked=asked):
            per = t.learner.hparams.head_lr_per_class if hparams is None else hparams.head_lr_per_class
            asked.append((per, steps))
            return {"score": scores[per][steps]}

        t.validate = validate
        result = t.choose_test_steps()
        assert sorted(asked) == sorted((r, s) for r in (True, False) for s in STEP_CHOICES)
        written = {str(s): a for s, a in scores[rule].items()}
        name = "per class" if rule else "plain"
        assert result == {"chosen": chosen, **written, "head_step": name}
        ckpt = load_checkpoint(t.cfg.out)
        assert ckpt.hparams == before.hparams.replace(test_steps=chosen, head_lr_per_class=rule)
        assert ckpt.metadata["validation"]["test_steps"] == written
        assert ckpt.metadata["validation"]["head_step"] == {
            "chosen": name, "per class": {str(s): a for s, a in scores[True].items()},
            "plain": {str(s): a for s, a in scores[False].items()}}
        assert ckpt.metadata["training"] == before.metadata["training"]
        for k, v in before.params.items():
            assert torch.equal(ckpt.params[k], v)


def test_validation_adapts_with_the_head_step_asked(tmp_path, pool):
    t = make_trainer(tmp_path, pool, iterations=2, val_every=2)
    seen = []
    t.tasks.validate = lambda learner, meta, device, steps=None: seen.append(learner.head_scale(20)) or {"score": 0}
    t.validate(steps=3)
    t.validate(steps=3, hparams=t.learner.hparams.replace(head_lr_per_class=False))
    assert seen == [20.0, 1.0]
    trained = make_trainer(tmp_path, pool, iterations=2, val_every=2)
    list(trained.iterate())
    meta = load_checkpoint(trained.cfg.out).params
    with_steps = [trained.validate(meta, steps=3, hparams=trained.learner.hparams.replace(head_lr_per_class=r))
                  for r in (True, False)]
    assert with_steps[0]["score"] != with_steps[1]["score"]  # the rule changes what the model learns


def test_the_steps_are_scored_on_the_best_checkpoint_at_the_end_of_a_run(tmp_path, pool):
    t = make_trainer(tmp_path, pool, iterations=2, val_every=2)
    result = t.run()
    ckpt = load_checkpoint(t.cfg.out)
    assert result["test_steps"]["chosen"] == ckpt.hparams.test_steps in STEP_CHOICES
    # The trainer's parameters move on from the best checkpoint's (here: to another start); the choice is
    # still made on the checkpoint's, with the head step it chose.
    with torch.no_grad():
        for k, v in t.learner.init_meta_params(seed=99).items():
            t.meta[k].copy_(v)
    again = t.choose_test_steps()
    rule = t.learner.hparams.replace(head_lr_per_class=ckpt.hparams.head_lr_per_class)
    expected = {str(s): t.validate(ckpt.params, steps=s, hparams=rule)["score"] for s in STEP_CHOICES}
    assert {k: again[k] for k in expected} == expected == {k: result["test_steps"][k] for k in expected}
    assert again["head_step"] == result["test_steps"]["head_step"]
    assert any(t.validate(steps=s, hparams=rule)["score"] != expected[str(s)] for s in STEP_CHOICES)  # can fail


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
