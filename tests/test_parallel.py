"""Task-parallel meta-gradients (worker threads on the CPU) equal the single-call meta-gradient."""

import pytest
import torch

from metademo.algorithms import REGISTRY, Episode
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


def _threads_of_this_process() -> set[str]:
    """Kernel thread ids of this process. New threads are counted as ids not seen before, so a thread of
    an earlier test that ends meanwhile does not hide one."""
    import os

    return set(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_workers_run_one_thread_each():
    """Each worker computes on its own thread alone: oneDNN and MKL start no helper threads in it.

    (A worker thread starts with OpenMP's default thread count; helper teams would oversubscribe the
    cores and slow every later multi-threaded call in the process.) Five workers: a pool size that no
    other test uses, so its threads are new here.
    """
    learner = REGISTRY["maml"]()  # full size: big enough for oneDNN to want more threads
    meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(0).items()}
    episode = make_episode(tasks=5, q=5).to("cpu", torch.float32)
    # 27x27 images: the network then opens with a oneDNN convolution, the call that starts a team.
    episode = Episode(episode.support_x[..., 1:, 1:], episode.support_y, episode.query_x[..., 1:, 1:],
                      episode.query_y, episode.n_way)
    learner.meta_gradient(meta, episode)  # the main thread's own OpenMP team, if any, exists now
    before = _threads_of_this_process()
    parallel_meta_gradient(learner, meta, episode, workers=5)
    assert len(_threads_of_this_process() - before) == 5
