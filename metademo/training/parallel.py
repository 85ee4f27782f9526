"""Task-parallel meta-gradients on the CPU: the tasks of a meta-batch split across worker threads.

The convolutions of one few-shot task are small, and oneDNN spreads a small convolution over cores
poorly (Conv-4 on 5-way 1-shot tasks: 1.6x from 2 threads). Tasks, though, are independent. Here W
worker threads each run one torch thread and compute the meta-gradient of their share of the tasks
(autograd runs graphs from different threads concurrently, and the learners are pure functions of
their inputs), then the shares are averaged, weighted by their number of tasks. Every learner's
meta-gradient is a mean over tasks, so the result equals the meta-gradient of the whole meta-batch.
"""

from __future__ import annotations

from ..algorithms import Episode, MetaLearner
from ..lazy import torch
from ..pools import pool


def _one_thread(fn, *args, **kw):
    # torch.set_num_threads sets OpenMP's thread count for the calling thread only (and torch's global
    # count): without this, oneDNN and MKL in a worker would start a team of helper threads of their own.
    torch.set_num_threads(1)
    return fn(*args, **kw)


def split_tasks(episode: Episode, parts: int) -> list[Episode]:
    """Contiguous shares of the tasks, as even as possible (sizes differ by at most one)."""
    t = episode.support_x.shape[0]
    bounds = [round(i * t / parts) for i in range(parts + 1)]
    return [Episode(episode.support_x[a:b], episode.support_y[a:b], episode.query_x[a:b], episode.query_y[a:b],
                    episode.n_way) for a, b in zip(bounds, bounds[1:]) if b > a]


def parallel_meta_gradient(learner: MetaLearner, meta: dict[str, torch.Tensor], episode: Episode,
                           workers: int | None = None, **kw) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """``learner.meta_gradient(meta, episode, **kw)``, computed by ``workers`` threads of one torch thread each
    (default: one per torch thread for an episode on the CPU, else a single call).

    torch's thread count is process-wide: it is 1 while this runs and restored afterwards, so call it
    from one thread at a time (as the trainer and the benchmark do).
    """
    if workers is None:
        workers = torch.get_num_threads() if episode.support_x.device.type == "cpu" else 1
    shares = split_tasks(episode, workers)
    if len(shares) == 1:
        return learner.meta_gradient(meta, episode, **kw)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = list(pool("meta-gradient", len(shares)).map(
            lambda share: _one_thread(learner.meta_gradient, meta, share, **kw), shares))
    finally:
        torch.set_num_threads(threads)
    total = episode.support_x.shape[0]
    weights = [share.support_x.shape[0] / total for share in shares]
    grads = {k: sum(w * g[k] for w, (g, _) in zip(weights, results)) for k in meta}
    metrics = {k: sum(w * m[k] for w, (_, m) in zip(weights, results)) for k in results[0][1]}
    return grads, metrics
