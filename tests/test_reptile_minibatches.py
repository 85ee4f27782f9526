"""Reptile's minibatches (``HParams.train_batch_shots``), proven against a hand-written Reptile: each inner step of
meta-training descends the loss of k images of every class, the next k for the next step, cycling through each
class's images in the order they come, whatever the order of the labels; adapting to a new task is unchanged; every
other learner, and every file that asks for them wrongly, refuses them with a plain ``ValueError``."""

import pytest
import torch

from metademo.algorithms import FOMAML, MAML, MetaSGD, ProtoMAML, Reptile
from metademo.algorithms.base import MAX_TRAIN_BATCH_SHOTS, Episode, per_task_cross_entropy
from metademo.algorithms.inner_loop import class_slices
from metademo.algorithms.sine import SineMAML
from metademo.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from tests.test_algorithms import make_episode, small


def shuffled(episode: Episode, seed: int) -> Episode:
    """The same tasks with their support and query images in another order in each task (labels moved along)."""
    g = torch.Generator().manual_seed(seed)
    parts = []
    for x, y in ((episode.support_x, episode.support_y), (episode.query_x, episode.query_y)):
        order = torch.stack([torch.randperm(y.shape[1], generator=g) for _ in range(y.shape[0])])
        rows = torch.arange(y.shape[0]).unsqueeze(1)
        parts += [x[rows, order], y[rows, order]]
    return Episode(*parts, episode.n_way)


def reference_meta_gradient(learner, meta, episode, steps, shots):
    """Reptile written out task by task: plain SGD, batch s holding images s*shots .. (s+1)*shots-1 of every class
    (cycling) in the order they come, from the task's zero head; the update direction theta - mean(W)."""
    theta = {k: v.detach() for k, v in meta.items()}
    x = torch.cat([episode.support_x, episode.query_x], 1)
    y = torch.cat([episode.support_y, episode.query_y], 1)
    n, finals = episode.n_way, []
    for t in range(x.shape[0]):
        where = [[i for i in range(y.shape[1]) if int(y[t, i]) == c] for c in range(n)]
        params, _ = learner.initial_params(theta, x[t:t + 1], y[t:t + 1], n, learner.network)
        params = {k: v.detach().requires_grad_() for k, v in params.items()}
        for s in range(steps):
            idx = [where[c][(s * shots + i) % len(where[c])] for c in range(n) for i in range(shots)]
            loss = per_task_cross_entropy(learner.logits(params, x[t:t + 1, idx]), y[t:t + 1, idx]).sum()
            grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
            lr = learner.hparams.inner_lr
            scale = {k: n if k.startswith("head.") and learner.hparams.head_lr_per_class else 1 for k in params}
            params = {k: (p - lr * scale[k] * grads[k]).detach().requires_grad_() for k, p in params.items()}
        finals.append(params)
    return {k: theta[k] - torch.cat([f[k] for f in finals]).mean(0) for k in theta}


@pytest.mark.parametrize("per_class", [False, True])
@pytest.mark.parametrize("steps, shots", [(1, 1), (3, 1), (4, 2), (5, 3)])
def test_minibatch_meta_gradient_is_reptile_written_out(steps, shots, per_class):
    learner, meta = small(Reptile, inner_lr=0.3, train_steps=steps, train_batch_shots=shots,
                          head_lr_per_class=per_class)
    episode = shuffled(make_episode(n_way=3, k=2, q=2, tasks=2), seed=steps)  # 4 images per class, any order
    grads, _ = learner.meta_gradient(meta, episode)
    expected = reference_meta_gradient(learner, meta, episode, steps, shots)
    assert set(grads) == set(expected)
    for k in grads:
        torch.testing.assert_close(grads[k], expected[k], rtol=1e-10, atol=1e-12)


def test_minibatches_of_every_image_are_the_full_batch_and_smaller_ones_are_not():
    episode = make_episode(n_way=3, k=2, q=2, tasks=2)
    full, meta = small(Reptile, inner_lr=0.3, train_steps=3)
    every, _ = small(Reptile, inner_lr=0.3, train_steps=3, train_batch_shots=4)
    part, _ = small(Reptile, inner_lr=0.3, train_steps=3, train_batch_shots=1)
    g_full, g_every, g_part = (lr.meta_gradient(meta, episode)[0] for lr in (full, every, part))
    for k in g_full:
        torch.testing.assert_close(g_every[k], g_full[k], rtol=1e-10, atol=1e-12)
    assert any(not torch.allclose(g_part[k], g_full[k], rtol=1e-3, atol=1e-6) for k in g_full)


def test_renaming_the_classes_permutes_nothing_but_the_head():
    learner, meta = small(Reptile, inner_lr=0.3, train_steps=4, train_batch_shots=1, head_lr_per_class=True)
    episode = make_episode(n_way=3, k=2, q=2, tasks=2)
    perm = torch.tensor([2, 0, 1])
    renamed = Episode(episode.support_x, perm[episode.support_y], episode.query_x, perm[episode.query_y], 3)
    a, b = learner.meta_gradient(meta, episode)[0], learner.meta_gradient(meta, renamed)[0]
    for k in a:  # the zero head is not a meta-parameter: every meta-gradient is the body's
        torch.testing.assert_close(a[k], b[k], rtol=1e-9, atol=1e-12)


def test_batches_cycle_through_each_class_in_order():
    y = torch.tensor([[1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1]])
    batch = class_slices(y, n_way=2, shots=2)
    assert batch(0).tolist() == [[1, 2, 0, 3], [0, 1, 3, 4]]
    assert batch(1).tolist() == [[5, 1, 4, 0], [2, 0, 5, 3]]
    assert batch(3).tolist() == batch(0).tolist()  # 3 images per class: 2 batches of 2 cover them, then again


def test_unequal_classes_are_a_value_error():
    with pytest.raises(ValueError, match="as many images of each class"):
        class_slices(torch.tensor([[0, 0, 1, 1, 1, 2]]), n_way=3, shots=1)
    with pytest.raises(ValueError, match="as many images of each class"):
        class_slices(torch.tensor([[0, 0, 1, 1]]), n_way=3, shots=1)


def test_adapting_to_a_new_task_ignores_them():
    plain, meta = small(Reptile, inner_lr=0.3)
    batched, _ = small(Reptile, inner_lr=0.3, train_batch_shots=1)
    ep = make_episode()
    theta = {k: v.detach() for k, v in meta.items()}
    for a, b in zip(plain.adapt_steps(theta, ep.support_x, ep.support_y, 3, steps=4, precision="float32"),
                    batched.adapt_steps(theta, ep.support_x, ep.support_y, 3, steps=4, precision="float32")):
        assert torch.equal(a.loss, b.loss)
        assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)


@pytest.mark.parametrize("value", [-1, MAX_TRAIN_BATCH_SHOTS + 1, 2.0, True, "2"])
def test_a_wrong_count_is_a_value_error(value):
    with pytest.raises(ValueError, match="train_batch_shots"):
        Reptile(Reptile.default_hparams.replace(train_batch_shots=value))


@pytest.mark.parametrize("cls", [MAML, FOMAML, MetaSGD, ProtoMAML, SineMAML], ids=lambda c: c.name)
def test_learners_without_minibatches_refuse_them(cls):
    with pytest.raises(ValueError, match="minibatches"):
        cls(cls.default_hparams.replace(train_batch_shots=2))


def test_checkpoints_keep_them(tmp_path):
    learner = Reptile(Reptile.default_hparams.replace(train_batch_shots=2))
    path = save_checkpoint(tmp_path / "r.safetensors",
                           Checkpoint("reptile", learner.hparams, learner.init_meta_params(seed=0), {}))
    assert load_checkpoint(path).hparams.train_batch_shots == 2


@pytest.mark.parametrize("algorithm, count", [("maml", 2), ("reptile", -1), ("reptile", 1.5)])
def test_a_saved_classifier_cannot_ask_for_them_wrongly(algorithm, count, tmp_path):
    from metademo.api.saved import _check_fitted_metadata

    meta = {"algorithm": algorithm, "hparams": {"train_batch_shots": count}, "classes": ["a", "b"], "step": 0,
            "history": [{"step": 0, "loss": 0.7, "accuracy": 0.5}]}
    with pytest.raises(ValueError, match="not a valid saved classifier.*(minibatches|train_batch_shots)"):
        _check_fitted_metadata(meta, tmp_path / "hostile.safetensors")


def test_the_training_command_passes_them_on():
    from metademo.train import parse_args
    from metademo.training.trainer import TrainConfig

    args = parse_args(["--algorithm", "reptile", "--out", "x.safetensors", "--train-batch-shots", "2"])
    assert args.train_batch_shots == 2
    assert TrainConfig(algorithm="reptile", out="x", train_batch_shots=2).hparams().train_batch_shots == 2
    assert TrainConfig(algorithm="reptile", out="x").hparams().train_batch_shots == 0
