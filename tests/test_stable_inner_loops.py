"""What makes an inner loop stable and width-independent, proven: the per-class head step, the multi-step
outer loss (exact gradient against finite differences), and the trainer's draws of task shapes."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from metademo.algorithms import FOMAML, MAML, MetaSGD, ProtoMAML, Reptile
from metademo.algorithms.base import per_task_cross_entropy
from metademo.algorithms.inner_loop import HEAD_KEYS
from metademo.checkpoints import read_metadata
from metademo.training.tasks import ImageTasks
from metademo.training.trainer import MULTI_STEP_FLOOR, TrainConfig, Trainer
from tests.test_algorithms import dot, make_episode, random_direction, small

SCALED = [MAML, FOMAML, MetaSGD, Reptile, ProtoMAML]


@pytest.mark.parametrize("cls", SCALED, ids=lambda c: c.name)
@pytest.mark.parametrize("n_way", [3, 5])
def test_per_class_head_steps_by_lr_times_classes_and_the_body_by_lr(cls, n_way):
    scaled, meta = small(cls, head_lr_per_class=True, inner_lr=0.1)
    plain = cls(scaled.hparams.replace(head_lr_per_class=False))
    episode = make_episode(n_way=n_way, k=2, q=1, tasks=1)
    x, y = episode.support_x, episode.support_y
    # One step of the scaled learner moves the head exactly as a plain one with n_way times the rate ...
    one = list(scaled.adapt_steps(meta, x, y, n_way, steps=1, lr=0.1))
    sizes = scaled.step_sizes(meta, 0.1, n_way)
    reference = plain.step_sizes(meta, 0.1, n_way)
    for k in HEAD_KEYS:
        torch.testing.assert_close(torch.as_tensor(sizes[k]), n_way * torch.as_tensor(reference[k]))
    for k in scaled.body(meta):
        torch.testing.assert_close(torch.as_tensor(sizes[k]), torch.as_tensor(reference[k]))
    # ... and the result differs from the plain learner's (the check can fail).
    plain_one = list(plain.adapt_steps(meta, x, y, n_way, steps=1, lr=0.1))
    assert not torch.allclose(one[-1].params["head.weight"], plain_one[-1].params["head.weight"])


def test_zero_head_after_one_per_class_step_is_width_independent():
    """From a zero head, row c after one step is lr * N * (1/S) sum_i (y_ic - 1/N) f_i = lr (mu_c - mu) for K
    shots per class: the class mean minus the overall mean, whatever N."""
    learner, meta = small(MAML, head_lr_per_class=True, inner_lr=0.1)
    for n_way in (2, 3, 5):
        episode = make_episode(n_way=n_way, k=2, q=1, tasks=1)
        x, y = episode.support_x, episode.support_y
        state = list(learner.adapt_steps(meta, x, y, n_way, steps=1))[-1]
        feats = learner.network.features(learner.body(meta), x[0]).detach()
        mu = torch.stack([feats[y[0] == c].mean(0) for c in range(n_way)])
        torch.testing.assert_close(state.params["head.weight"][0].detach(), 0.1 * (mu - feats.mean(0)))


def multi_step_loss(learner, meta, episode, steps):
    theta = {k: v.detach() for k, v in meta.items()}
    losses = []
    for state in learner.adapt_steps(theta, episode.support_x, episode.support_y, episode.n_way, steps=steps,
                                     precision="float32"):
        if state.step:
            with torch.no_grad():
                logits = learner.logits(state.params, episode.query_x)
                losses.append(per_task_cross_entropy(logits, episode.query_y).mean().item())
    return float(np.mean(losses))


@pytest.mark.parametrize("cls", [MAML, MetaSGD, ProtoMAML], ids=lambda c: c.name)
def test_multi_step_meta_gradient_matches_finite_differences(cls):
    learner, meta = small(cls, head_lr_per_class=True, inner_lr=0.1, train_steps=1)
    episode = make_episode(n_way=3)
    grads, metrics = learner.meta_gradient(meta, episode, steps=3, multi_step=True)
    final_only, _ = learner.meta_gradient(meta, episode, steps=3)
    eps = 1e-7  # a ReLU or pooling kink lies within 1e-6 of this point along one of the directions
    for seed in range(2):
        v = random_direction(meta, seed)
        plus = {k: meta[k].detach() + eps * v[k] for k in meta}
        minus = {k: meta[k].detach() - eps * v[k] for k in meta}
        fd = (multi_step_loss(learner, plus, episode, 3) - multi_step_loss(learner, minus, episode, 3)) / (2 * eps)
        assert abs(fd - dot(grads, v)) / abs(fd) < 1e-5, (fd, dot(grads, v))
        # The check can fail: the final step's loss alone has another gradient.
        assert abs(fd - dot(final_only, v)) / abs(fd) > 1e-3


@pytest.mark.parametrize("cls", [MAML, MetaSGD], ids=lambda c: c.name)
def test_annealed_multi_step_loss_weighs_the_mean_and_the_final_step(cls):
    """MAML++'s annealing: with the steps before the last at share f of the mean's weight, the meta-gradient is
    f times the multi-step one plus 1 - f times the final step's (the loss is linear in its weights)."""
    learner, meta = small(cls, inner_lr=0.1, train_steps=1)
    episode = make_episode(n_way=3)
    mean, _ = learner.meta_gradient(meta, episode, steps=3, multi_step=True)
    final, _ = learner.meta_gradient(meta, episode, steps=3)
    for f in (1.0, 0.3, 0.03, 0.0):
        grads, _ = learner.meta_gradient(meta, episode, steps=3, multi_step=True, earlier_share=f)
        for k in meta:
            torch.testing.assert_close(grads[k], f * mean[k] + (1 - f) * final[k], atol=1e-6, rtol=1e-5)
    assert any(not torch.allclose(mean[k], final[k], atol=1e-4) for k in meta)  # the check can fail
    with pytest.raises(ValueError, match="earlier_share"):
        learner.meta_gradient(meta, episode, steps=3, multi_step=True, earlier_share=1.5)


def test_multi_step_annealing_follows_its_schedule_and_reaches_the_learner():
    trainer = Trainer.__new__(Trainer)  # the schedule needs the configuration alone
    trainer.cfg = TrainConfig(algorithm="maml", out="unused.safetensors", multi_step_loss=True, multi_step_anneal=100)
    shares = [trainer.earlier_share(it) for it in (0, 50, 100, 1000)]
    assert shares == pytest.approx([1.0, 1 - (1 - MULTI_STEP_FLOOR) / 2, MULTI_STEP_FLOOR, MULTI_STEP_FLOOR])


def test_multi_step_metrics_report_the_final_step():
    learner, meta = small(MAML, inner_lr=0.1)
    episode = make_episode(n_way=3)
    _, multi = learner.meta_gradient(meta, episode, steps=3, multi_step=True)
    _, final = learner.meta_gradient(meta, episode, steps=3)
    assert multi == pytest.approx(final, rel=1e-12)


def test_reptile_takes_the_steps_it_is_given():
    learner, meta = small(Reptile, inner_lr=0.1, train_steps=5)
    episode = make_episode(n_way=3, tasks=1)
    two, _ = learner.meta_gradient(meta, episode, steps=2)
    default, _ = learner.meta_gradient(meta, episode)
    configured, _ = small(Reptile, inner_lr=0.1, train_steps=2)[0].meta_gradient(meta, episode)
    for k in meta:
        torch.testing.assert_close(two[k], configured[k])
    assert any(not torch.allclose(two[k], default[k]) for k in meta)


@pytest.fixture(scope="module")
def pools():
    """A random stand-in for Omniglot's splits: 40 classes of 20 drawings."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (40, 20, 28, 28), generator=g, dtype=torch.uint8)


def trainer(monkeypatch, tmp_path, pool, algorithm="maml", **kw):
    cfg = TrainConfig(algorithm=algorithm, out=str(tmp_path / "m.safetensors"), meta_batch=2, queries=2,
                      val_episodes=20, **kw)
    tasks = ImageTasks(pool, pool, cfg.ways, cfg.shots, cfg.queries, cfg.seed, cfg.val_ways, cfg.val_episodes)
    return Trainer(cfg, progress=False, tasks=tasks)


def test_trainer_draws_widths_shots_and_steps_in_their_ranges(monkeypatch, tmp_path, pools):
    t = trainer(monkeypatch, tmp_path, pools, ways=5, ways_max=20, shots=1, shots_max=5, train_steps=1,
                train_steps_max=10, multi_step_loss=True, first_order_iterations=1, val_ways=(5, 20))
    draws = [t.sample_task_shape() for _ in range(300)]
    assert {w for w, _, _ in draws} == set(range(5, 21))
    assert {s for _, s, _ in draws} == set(range(1, 6))
    assert {kw["steps"] for _, _, kw in draws} == set(range(1, 11))
    assert all(kw["multi_step"] and kw["first_order"] for _, _, kw in draws)
    t.iteration = 1
    assert "first_order" not in t.sample_task_shape()[2]
    assert set(t.tasks.val_episodes) == {5, 20} and t.tasks.val_episodes[20][0].n_way == 20


def test_fixed_shapes_draw_nothing_so_earlier_runs_resume_identically(monkeypatch, tmp_path, pools):
    t = trainer(monkeypatch, tmp_path, pools)
    before = t.sampler.rng.bit_generator.state
    assert t.sample_task_shape() == (5, 1, {})
    assert t.sampler.rng.bit_generator.state == before


def test_training_over_widths_validates_each_and_resumes(monkeypatch, tmp_path, pools):
    kw = dict(ways=3, ways_max=6, train_steps=1, train_steps_max=3, multi_step_loss=True, head_lr_per_class=True,
              iterations=4, val_every=2, val_ways=(5, 8))
    t = trainer(monkeypatch, tmp_path, pools, **kw)
    list(t.iterate())
    assert [set(r) >= {"val_5way", "val_8way"} for r in t.log] == [True, True]
    first = trainer(monkeypatch, tmp_path, pools, **{**kw, "iterations": 2})
    list(first.iterate())
    resumed = trainer(monkeypatch, tmp_path, pools, **kw)
    assert resumed.load_state() and resumed.iteration == 2
    list(resumed.iterate())
    for k in t.meta:
        torch.testing.assert_close(resumed.meta[k], t.meta[k])
    assert resumed.learner.hparams.head_lr_per_class


def test_a_run_resumed_on_another_machine_names_both(monkeypatch, tmp_path, pools):
    from metademo.training import trainer as module

    kw = dict(iterations=2, val_every=1)
    monkeypatch.setattr(module, "hardware", lambda device: "first machine")
    list(trainer(monkeypatch, tmp_path, pools, **kw).iterate())
    monkeypatch.setattr(module, "hardware", lambda device: "second machine")
    resumed = trainer(monkeypatch, tmp_path, pools, **{**kw, "iterations": 4})
    assert resumed.load_state() and resumed.machines == ["first machine", "second machine"]
    list(resumed.iterate())
    resumed.best = -1.0  # the next validation is kept, so the checkpoint is written from the second machine
    resumed.cfg = replace(resumed.cfg, iterations=5)
    list(resumed.iterate())
    assert read_metadata(resumed.cfg.out)["training"]["hardware"] == "first machine and second machine"
    monkeypatch.setattr(module, "hardware", lambda device: "first machine")
    again = trainer(monkeypatch, tmp_path, pools, **kw)
    assert again.load_state() and again.machines == ["first machine", "second machine"]


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_meta_sgd_rates_step_at_their_fraction_of_the_meta_learning_rate(monkeypatch, tmp_path, pools, scale):
    """Adam's first step moves every parameter with a gradient by its learning rate exactly (the bias-corrected
    moments give lr * g / (|g| + eps)): the weights by meta_lr, the per-weight rates by meta_lr * scale."""
    t = trainer(monkeypatch, tmp_path, pools, algorithm="metasgd", per_step_lrs=2, rates_lr_scale=scale,
                meta_lr=1e-3, iterations=1)
    rates = set(t.learner.learned_rates(t.meta))
    assert rates and all(k.startswith("lr.") for k in rates) and len(rates) == len(t.learner.body(t.meta)) + 2
    before = {k: v.detach().clone() for k, v in t.meta.items()}
    t.step()
    for k, p in t.meta.items():
        moved = (p.detach() - before[k]).abs()[p.grad.abs() > 1e-5]
        assert moved.numel(), k
        torch.testing.assert_close(moved, torch.full_like(moved, 1e-3 * (scale if k in rates else 1.0)),
                                   rtol=1e-3, atol=3e-7)  # float32: a few ulps of values near 1


def test_slowed_rates_resume_with_each_parameters_own_optimiser_state(monkeypatch, tmp_path, pools):
    """The optimiser's state is saved by its own order of parameters; with a parameter moved to the rates'
    group that order differs from the meta-parameters', and each still gets its own moments back."""
    from metademo.algorithms import metasgd

    monkeypatch.setattr(metasgd.MetaSGD, "learned_rates",
                        lambda self, names: [k for k in names if k.startswith("lr.") or k == "conv1.weight"])
    kw = dict(algorithm="metasgd", rates_lr_scale=0.1, iterations=2, val_every=1)
    t = trainer(monkeypatch, tmp_path, pools, **kw)
    assert t.opt_names != list(t.meta)  # conv1.weight moved to the end
    list(t.iterate())
    resumed = trainer(monkeypatch, tmp_path, pools, **kw)
    assert resumed.load_state()
    for name in t.meta:
        saved, loaded = t.opt.state[t.meta[name]], resumed.opt.state[resumed.meta[name]]
        for moment in ("exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(loaded[moment], saved[moment])
    assert [g["lr_scale"] for g in resumed.opt.param_groups] == [1.0, 0.1]


@pytest.mark.parametrize("algorithm, scale", [("maml", 0.5), ("metasgd", 0.0), ("metasgd", 1.5)])
def test_a_rates_scale_that_cannot_apply_is_refused(monkeypatch, tmp_path, pools, algorithm, scale):
    with pytest.raises(ValueError, match="rates_lr_scale"):
        trainer(monkeypatch, tmp_path, pools, algorithm=algorithm, rates_lr_scale=scale)


def test_each_learner_brings_its_outer_optimiser_and_schedule():
    maml, reptile = MAML(), Reptile()
    assert maml.outer_lr(1e-3, 0, 100) == maml.outer_lr(1e-3, 99, 100) == 1e-3
    assert maml.outer_lr(1e-3, 0, 100, "cosine") == pytest.approx(1e-3)
    assert maml.outer_lr(1e-3, 50, 100, "cosine") == pytest.approx(0.5e-3)
    assert maml.outer_lr(1e-3, 100, 100, "cosine") == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="schedule"):
        maml.outer_lr(1e-3, 0, 100, "step")
    # Reptile's epsilon is annealed linearly to 0 whatever the run asks, with plain SGD on theta - mean(W).
    assert [reptile.outer_lr(1.0, i, 4, "cosine") for i in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]
    p = [torch.zeros(2, requires_grad=True)]
    assert type(reptile.outer_optimizer(p, 1.0)) is torch.optim.SGD
    assert type(maml.outer_optimizer(p, 1e-3)) is torch.optim.Adam


def test_the_trainer_steps_at_the_learners_rate(monkeypatch, tmp_path, pools):
    t = trainer(monkeypatch, tmp_path, pools, iterations=4, lr_schedule="cosine", meta_lr=1e-3)
    seen = []
    t.on_step = lambda tr: seen.append(tr.opt.param_groups[0]["lr"])
    list(t.iterate())
    assert seen == pytest.approx([1e-3 * 0.5 * (1 + np.cos(np.pi * i / 4)) for i in range(4)])
