"""Task-parallel meta-gradients (worker threads on the CPU) equal the single-call meta-gradient."""

import pytest
import torch

from metademo.algorithms import REGISTRY
from metademo.training.parallel import parallel_meta_gradient, split_tasks
from tests.test_algorithms import make_episode, small


def test_split_tasks_covers_every_task_once_in_order():
    episode = make_episode(tasks=7)
    shares = split_tasks(episode, 3)
    assert [s.support_x.shape[0] for s in shares] == [2, 3, 2]
    assert torch.equal(torch.cat([s.query_x for s in shares]), episode.query_x)
    assert len(split_tasks(make_episode(tasks=2), 4)) == 2  # never an empty share


@pytest.mark.parametrize("name", list(REGISTRY))
@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_meta_gradient_equals_the_whole_batch(name, workers):
    learner, meta = small(REGISTRY[name])
    episode = make_episode(tasks=5).to("cpu", torch.float64)
    expected, expected_metrics = learner.meta_gradient(meta, episode)
    threads = torch.get_num_threads()
    grads, metrics = parallel_meta_gradient(learner, meta, episode, workers)
    assert torch.get_num_threads() == threads  # restored
    assert grads.keys() == expected.keys()
    for k in expected:  # uneven shares (2/3 or 1/2/2 tasks) are weighted by their sizes
        torch.testing.assert_close(grads[k], expected[k], rtol=1e-10, atol=1e-12)
    assert metrics == pytest.approx(expected_metrics, rel=1e-10)
