"""MAML++'s learned per-layer, per-step learning rates (``HParams.per_step_lrs``), proven: factors of 1 are the
plain inner loop exactly, each step takes its own factor (and the steps past the last take the last), their
meta-gradient matches finite differences, and a checkpoint cannot ask a learner for rates it does not learn."""

import json

import pytest
import torch

from metademo.algorithms import FOMAML, MAML, MetaSGD, ProtoMAML, Reptile
from metademo.algorithms.base import MAX_PER_STEP_LRS
from metademo.algorithms.inner_loop import HEAD_KEYS, STEP_LR_PREFIX
from metademo.algorithms.sine import SineMAML
from metademo.checkpoints import Checkpoint, load_checkpoint, read_metadata, save_checkpoint, write_safetensors
from tests.test_algorithms import dot, make_episode, random_direction, small
from tests.test_stable_inner_loops import multi_step_loss

LEARNERS = [MAML, FOMAML, MetaSGD, ProtoMAML]


def adapted(learner, meta, episode, steps, lr=None):
    theta = {k: v.detach() for k, v in meta.items()}
    return [s.params for s in learner.adapt_steps(theta, episode.support_x, episode.support_y, episode.n_way,
                                                   steps=steps, lr=lr, precision="float32")]


@pytest.mark.parametrize("cls", LEARNERS, ids=lambda c: c.name)
def test_every_moved_tensor_has_one_factor_per_step_starting_at_one(cls):
    learner, meta = small(cls, inner_lr=0.1, per_step_lrs=4)
    moved = [*learner.body(meta), *HEAD_KEYS]
    factors = {k: v for k, v in meta.items() if k.startswith(STEP_LR_PREFIX)}
    assert sorted(factors) == sorted(STEP_LR_PREFIX + k for k in moved)
    assert all(torch.equal(v, torch.ones(4, dtype=v.dtype)) for v in factors.values())
    # Factors of 1 are the plain inner loop, exactly.
    plain, plain_meta = small(cls, inner_lr=0.1)
    episode = make_episode(n_way=3, tasks=1)
    for a, b in zip(adapted(learner, meta, episode, 6), adapted(plain, plain_meta, episode, 6), strict=True):
        for k in b:
            torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_each_step_takes_its_own_factor_and_later_steps_the_last():
    learner, meta = small(MAML, inner_lr=0.1, per_step_lrs=2)
    episode = make_episode(n_way=3, tasks=1)
    plain, plain_meta = small(MAML, inner_lr=0.1)
    # [1, 0]: the first step as the plain loop's, and then nothing moves, at step 2 or any later step.
    stopped = {k: (torch.tensor([1.0, 0.0], dtype=v.dtype) if k.startswith(STEP_LR_PREFIX) else v.detach())
               for k, v in meta.items()}
    steps = adapted(learner, stopped, episode, 5)
    first = adapted(plain, plain_meta, episode, 1)[1]
    for later in steps[1:]:
        for k in first:
            torch.testing.assert_close(later[k], first[k], rtol=0, atol=0)
    # [0.5, 0.5] is the plain loop at half the learning rate; [0.5, 1] is not (the check can fail).
    half = {k: (torch.full((2,), 0.5, dtype=v.dtype) if k.startswith(STEP_LR_PREFIX) else v.detach())
            for k, v in meta.items()}
    for a, b in zip(adapted(learner, half, episode, 4), adapted(plain, plain_meta, episode, 4, lr=0.05), strict=True):
        for k in b:
            torch.testing.assert_close(a[k], b[k])
    mixed = {k: (torch.tensor([0.5, 1.0], dtype=v.dtype) if k.startswith(STEP_LR_PREFIX) else v.detach())
             for k, v in meta.items()}
    assert not torch.allclose(adapted(learner, mixed, episode, 4)[-1]["head.weight"],
                              adapted(plain, plain_meta, episode, 4, lr=0.05)[-1]["head.weight"])


def test_one_layer_factor_moves_that_layer_alone():
    learner, meta = small(MAML, inner_lr=0.1, per_step_lrs=3)
    episode = make_episode(n_way=3, tasks=1)
    frozen = {k: v.detach().clone() for k, v in meta.items()}
    frozen[STEP_LR_PREFIX + "conv2.weight"].zero_()
    final = adapted(learner, frozen, episode, 4)[-1]
    torch.testing.assert_close(final["conv2.weight"][0], meta["conv2.weight"].detach(), rtol=0, atol=0)
    assert not torch.allclose(final["conv1.weight"][0], meta["conv1.weight"].detach())


@pytest.mark.parametrize("cls", [MAML, ProtoMAML], ids=lambda c: c.name)
def test_meta_gradient_of_the_factors_matches_finite_differences(cls):
    learner, meta = small(cls, inner_lr=0.1, train_steps=1, per_step_lrs=2)
    with torch.no_grad():  # factors of their own, so that every step differs
        for i, k in enumerate(k for k in meta if k.startswith(STEP_LR_PREFIX)):
            meta[k].copy_(torch.tensor([1.0 + 0.1 * (i % 3), 0.7 + 0.05 * (i % 4)]))
    episode = make_episode(n_way=3)
    grads, _ = learner.meta_gradient(meta, episode, steps=3, multi_step=True)
    factors = [k for k in meta if k.startswith(STEP_LR_PREFIX)]
    assert all(grads[k].abs().sum() > 0 for k in factors)
    eps = 1e-7
    for seed, keys in ((0, factors), (1, None)):
        v = random_direction(meta, seed, keys)
        plus = {k: meta[k].detach() + eps * v[k] for k in meta}
        minus = {k: meta[k].detach() - eps * v[k] for k in meta}
        fd = (multi_step_loss(learner, plus, episode, 3) - multi_step_loss(learner, minus, episode, 3)) / (2 * eps)
        assert abs(fd - dot(grads, v)) / abs(fd) < 1e-5, (fd, dot(grads, v))


@pytest.mark.parametrize("value", [-1, 1.5, True, "3", MAX_PER_STEP_LRS + 1])
def test_a_wrong_count_is_a_value_error(value):
    with pytest.raises(ValueError, match="per_step_lrs"):
        MAML(MAML.default_hparams.replace(per_step_lrs=value))


@pytest.mark.parametrize("cls", [Reptile, SineMAML], ids=lambda c: c.name)
def test_learners_without_per_step_rates_refuse_them(cls):
    with pytest.raises(ValueError, match="per-step learning rates"):
        cls(cls.default_hparams.replace(per_step_lrs=2))


def test_checkpoints_keep_the_factors_and_refuse_a_learner_that_has_none(tmp_path):
    learner = MAML(MAML.default_hparams.replace(per_step_lrs=3))
    meta = learner.init_meta_params(seed=0)
    meta[STEP_LR_PREFIX + "head.weight"] = torch.tensor([2.0, 1.0, 0.5])
    path = save_checkpoint(tmp_path / "m.safetensors", Checkpoint("maml", learner.hparams, meta, {}))
    back = load_checkpoint(path)
    assert back.hparams.per_step_lrs == 3
    torch.testing.assert_close(back.params[STEP_LR_PREFIX + "head.weight"], torch.tensor([2.0, 1.0, 0.5]))
    # The same file under Reptile's name (as a hostile upload could be): a plain ValueError on loading, never
    # a KeyError while adapting.
    info = read_metadata(path)
    info["algorithm"] = "reptile"
    forged = write_safetensors(tmp_path / "r.safetensors", dict(back.params), {"metademo": json.dumps(info)})
    with pytest.raises(ValueError, match="per-step learning rates"):
        load_checkpoint(forged)


@pytest.mark.parametrize("algorithm, count", [("reptile", 2), ("maml", -1), ("maml", 101), ("maml", 2.0)])
def test_a_saved_classifier_cannot_ask_for_rates_a_learner_lacks(algorithm, count, tmp_path):
    from metademo.api.saved import _check_fitted_metadata

    meta = {"algorithm": algorithm, "hparams": {"per_step_lrs": count}, "classes": ["a", "b"], "step": 0,
            "history": [{"step": 0, "loss": 0.7, "accuracy": 0.5}]}
    with pytest.raises(ValueError, match="not a valid saved classifier.*(per.step|per_step_lrs)"):
        _check_fitted_metadata(meta, tmp_path / "hostile.safetensors")
