"""A short meta-training run to watch: the outer loop on images, a minute or two on a laptop CPU.

It is the trainer of the command line (:class:`~metademo.training.trainer.Trainer`) with a time limit and
no files: :func:`meta_train_live` yields its reports as they come and ends with the meta-parameters,
which the API wraps as a classifier that adapts like the pretrained ones
(:func:`metademo.api.meta_train_live`). Without Omniglot it trains on synthetic glyphs (and validates
on other synthetic glyphs).

Example::

    for report in meta_train_live("protonet", seconds=60):
        print(report["iteration"], report["val_accuracy"])
    learner, meta = report["learner"], report["meta"]   # the last report's
"""

from __future__ import annotations

from collections.abc import Iterator

from ..algorithms import REGISTRY, get_algorithm
from ..data.omniglot import load_split, omniglot_available
from ..lazy import torch

# fast enough to learn something in a minute on two cores, the quickest learner (one without inner steps) first
LIVE_ALGORITHMS = tuple(sorted((name for name, cls in REGISTRY.items() if cls.trains_live),
                               key=lambda name: REGISTRY[name].inner_loop_defaults() is not None))
MAX_SECONDS = 180
SYNTHETIC_CLASSES = (120, 24)  # train, validation


def _pools(data_root=None) -> tuple[torch.Tensor, torch.Tensor, str]:
    if omniglot_available(data_root, background=True):
        return (load_split("train", data_root, progress=False), load_split("val", data_root, progress=False),
                "Omniglot background alphabets (validation: 4 held-out alphabets)")
    from ..data.synthetic import synthetic_dataset

    pools = []
    for n, seed in zip(SYNTHETIC_CLASSES, (1, 2)):
        images, _ = synthetic_dataset(n, 20, seed=seed)
        pools.append((images[:, 0] * 255).round().to(torch.uint8).view(n, 20, 28, 28))
    return pools[0], pools[1], "synthetic glyphs (Omniglot is not on this machine)"


def live_learner(algorithm: str):
    """The learner a live run trains: the algorithm's own, with one inner step while training (a live run
    has a minute) and three at test time."""
    if algorithm not in LIVE_ALGORITHMS:
        raise ValueError(f"live meta-training runs {', '.join(LIVE_ALGORITHMS)}, got {algorithm!r}")
    cls = get_algorithm(algorithm)
    return cls(cls.live_hparams())


def meta_train_live(algorithm: str = "protonet", seconds: float = 90, max_iterations: int = 2000,
                    ways: int = 5, shots: int = 1, queries: int = 5, meta_batch: int = 4,
                    meta_lr: float = 2e-3, val_every: int = 10, val_tasks: int = 40, seed: int = 0,
                    data_root=None) -> Iterator[dict]:
    """Meta-train ``algorithm`` from a random start for about ``seconds`` (or ``max_iterations``).

    Yields a report before the first step and after every ``val_every`` iterations: ``iteration``,
    ``seconds`` (training time), ``train_loss``, ``train_accuracy`` (on the meta-batches since the last
    report), ``val_accuracy`` (5-way 1-shot on fixed held-out tasks) and ``data``; the last report also has
    ``learner`` and ``meta`` (the meta-parameters, detached).
    """
    from .tasks import ImageTasks  # the trainer imports torch: only when a run starts, not with the page
    from .trainer import TrainConfig, Trainer

    learner = live_learner(algorithm)
    if not 5 <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be from 5 to {MAX_SECONDS}, got {seconds!r}")
    train_pool, val_pool, data = _pools(data_root)
    config = TrainConfig(algorithm, out=None, ways=ways, shots=shots, queries=queries, meta_batch=meta_batch,
                         iterations=max_iterations, meta_lr=meta_lr, seed=seed, val_every=val_every,
                         max_minutes=seconds / 60)
    tasks = ImageTasks(train_pool, val_pool, ways, shots, queries, seed, val_episodes=val_tasks, val_queries=5,
                       val_seed=seed + 12345, description={"data": data})
    trainer = Trainer(config, progress=False, tasks=tasks, learner=learner)
    yield {"iteration": 0, "seconds": 0.0, "val_accuracy": trainer.validate()["accuracy"], "data": data}
    for report in trainer.iterate():
        out = {k: v for k, v in report.items() if k != "val"} | {"data": data}
        # The trainer stops at the first check after its time is spent, so this is its last report.
        if trainer.iteration >= max_iterations or trainer.elapsed >= seconds:
            out.update(learner=learner, meta={k: v.detach().clone() for k, v in trainer.meta.items()})
        yield out
