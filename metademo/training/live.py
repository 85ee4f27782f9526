"""A short meta-training run to watch: the outer loop on images, a minute or two on a laptop CPU.

The same building blocks as :mod:`metademo.training.trainer` (the episode sampler, the algorithm's
``meta_gradient`` shared out over the cores, Adam, fixed validation episodes on held-out alphabets),
with no files: :func:`meta_train_live` yields the progress as it goes and ends with a
:class:`metademo.MetaClassifier` that adapts like the pretrained ones. Without Omniglot it trains on
synthetic glyphs (and validates on other synthetic glyphs).

Example::

    for report in meta_train_live("protonet", seconds=60):
        print(report["iteration"], report.get("val_accuracy"))
    model = report["model"]               # a MetaClassifier
    model.fit(images, labels).predict(queries)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from ..algorithms import REGISTRY, get_algorithm
from ..data.omniglot import EpisodeSampler, load_split, omniglot_available
from ..lazy import torch
from .parallel import parallel_meta_gradient

# fast enough to learn something in a minute on two cores, the quickest learner first
LIVE_ALGORITHMS = tuple(sorted((name for name, cls in REGISTRY.items() if cls.trains_live),
                               key=lambda name: REGISTRY[name].has_inner_loop))
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


def meta_train_live(algorithm: str = "protonet", seconds: float = 90, max_iterations: int = 2000,
                    ways: int = 5, shots: int = 1, queries: int = 5, meta_batch: int = 4,
                    meta_lr: float = 2e-3, val_every: int = 10, val_tasks: int = 40, seed: int = 0,
                    data_root=None) -> Iterator[dict]:
    """Meta-train ``algorithm`` from a random start for about ``seconds`` (or ``max_iterations``).

    Yields a report every ``val_every`` iterations: ``iteration``, ``seconds`` (training time),
    ``train_loss``, ``train_accuracy`` (on the meta-batches since the last report), ``val_accuracy``
    (5-way 1-shot on fixed held-out tasks) and ``data``; the last report also has ``model``.
    """
    from ..api import MetaClassifier

    if algorithm not in LIVE_ALGORITHMS:
        raise ValueError(f"live meta-training runs {', '.join(LIVE_ALGORITHMS)}, got {algorithm!r}")
    if not 5 <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be from 5 to {MAX_SECONDS}, got {seconds!r}")
    cls = get_algorithm(algorithm)
    hp = cls.default_hparams.replace(test_steps=cls.default_hparams.test_steps or 0)
    if cls.has_inner_loop:
        hp = hp.replace(inner_lr=0.4, train_steps=1, test_steps=3)
    learner = cls(hp)
    train_pool, val_pool, data = _pools(data_root)
    sampler = EpisodeSampler(train_pool, ways, shots, queries, seed)
    val = EpisodeSampler(val_pool, 5, 1, 5, seed + 12345).sample(val_tasks)
    meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(seed).items()}
    opt = torch.optim.Adam(list(meta.values()), lr=meta_lr)

    def validate() -> float:
        return float(learner.query_accuracy(meta, val).mean())

    start, spent, recent = time.perf_counter(), 0.0, []
    yield {"iteration": 0, "seconds": 0.0, "val_accuracy": validate(), "data": data}
    it = 0
    while it < max_iterations:
        tick = time.perf_counter()
        grads, metrics = parallel_meta_gradient(learner, meta, sampler.sample(meta_batch))
        for k, p in meta.items():
            p.grad = grads[k]
        opt.step()
        spent += time.perf_counter() - tick
        recent.append(metrics)
        it += 1
        out_of_time = time.perf_counter() - start >= seconds
        if it % val_every == 0 or out_of_time or it == max_iterations:
            report = {"iteration": it, "seconds": round(spent, 1), "val_accuracy": validate(), "data": data,
                      "train_loss": float(np.mean([m["loss"] for m in recent])),
                      "train_accuracy": float(np.mean([m["accuracy"] for m in recent]))}
            recent = []
            if out_of_time or it == max_iterations:
                params = {k: v.detach().clone() for k, v in meta.items()}
                report["model"] = MetaClassifier(learner, params, "cpu", {
                    "note": f"meta-trained live: {it} iterations, {spent:.0f} s, {data}"})
                yield report
                return
            yield report
