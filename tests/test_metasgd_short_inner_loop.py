"""Meta-SGD's meta-gradient with fewer inner steps than its rates need: the unused rates get exactly 0."""

import pytest
import torch

from metademo.algorithms import MetaSGD

from .test_algorithms import directional_fd, dot, make_episode, query_loss, random_direction, small

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


@pytest.mark.parametrize("steps", [0, 1])
def test_metasgd_rates_that_a_short_inner_loop_never_uses_have_zero_meta_gradient(steps):
    """One inner step from the zero head moves the head alone (the body's gradient is exactly 0), and no
    step moves nothing: the unused rates leave the query loss bit for bit as it was, their meta-gradient
    is exactly 0, and the other meta-parameters' gradients are still exact."""
    learner, meta = small(MetaSGD, train_steps=steps, inner_lr=0.1)
    episode = make_episode()
    unused = [k for k in meta if k.startswith("lr.") and not (steps and k.startswith("lr.head."))]
    assert "lr.conv1.weight" in unused and ("lr.head.weight" in unused) == (steps == 0)
    moved = {k: v.detach() + random_direction(meta, 0, keys=unused)[k] for k, v in meta.items()}
    assert query_loss(learner, moved, episode, steps) == query_loss(learner, meta, episode, steps)
    for first_order in (True, False):  # the second-order gradient last: the finite differences check it
        grads, _ = learner.meta_gradient(meta, episode, first_order=first_order)
        assert set(grads) == set(meta)
        for k in unused:
            assert torch.equal(grads[k], torch.zeros_like(meta[k])), k
    for seed in range(2 if steps else 0):  # without a step the zero head predicts ln N whatever the weights
        v = random_direction(meta, seed)
        fd, exact = directional_fd(learner, meta, episode, steps, v), dot(grads, v)
        assert abs(fd - exact) / abs(fd) < 1e-6, (fd, exact)


def test_network_parameters_missing_from_the_meta_graph_are_an_error():
    """Only a step size may be unused; a network parameter outside the graph is a bug, not a zero gradient."""
    learner, meta = small(MetaSGD, train_steps=1, inner_lr=0.1)
    meta["conv1.stray"] = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="conv1.stray"):
        learner.meta_gradient(meta, make_episode())
