"""Evaluation: mean episode accuracy with its 95% confidence interval, and Lake et al.'s one-shot runs."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..algorithms import Episode, MetaLearner
from ..data.omniglot import EpisodeSampler, LakeRun
from ..data.preprocess import preprocess_batch


def summarize(accuracies) -> dict:
    """Mean, 95% confidence interval (1.96 std / sqrt(E)) and count of per-episode accuracies."""
    a = np.asarray(accuracies, dtype=np.float64)
    return {"accuracy": float(a.mean()), "ci95": float(1.96 * a.std() / math.sqrt(len(a))), "episodes": len(a)}


def evaluate_episodes(learner: MetaLearner, meta: dict, pool: torch.Tensor, ways: int, shots: int,
                      queries: int = 15, episodes: int = 1000, seed: int = 0, batch: int = 10,
                      steps: int | None = None, lr: float | None = None, device="cpu",
                      progress: bool = False) -> dict:
    """Accuracy on ``episodes`` seeded N-way K-shot tasks from ``pool``, ``batch`` tasks at a time."""
    from tqdm.auto import tqdm

    sampler = EpisodeSampler(pool, ways, shots, queries, seed=seed)
    accs = []
    with tqdm(total=episodes, desc=f"{learner.name} {ways}-way {shots}-shot", disable=not progress,
              unit="episode") as bar:
        while len(accs) < episodes:
            ep = sampler.sample(min(batch, episodes - len(accs))).to(device)
            accs.extend(learner.query_accuracy(meta, ep, steps=steps, lr=lr).tolist())
            bar.update(ep.support_x.shape[0])
    return summarize(accs)


def evaluate_lake_runs(learner: MetaLearner, meta: dict, runs: list[LakeRun], steps: int | None = None,
                       lr: float | None = None, device="cpu") -> dict:
    """Accuracy on the official 20-way one-shot runs (each run counts as one episode)."""
    accs = []
    for run in runs:
        n = len(run.support)
        ep = Episode(preprocess_batch(run.support).unsqueeze(0), torch.arange(n).unsqueeze(0),
                     preprocess_batch(run.queries).unsqueeze(0), torch.tensor(run.targets).unsqueeze(0), n)
        accs.append(learner.query_accuracy(meta, ep.to(device), steps=steps, lr=lr).item())
    return {**summarize(accs), "runs": [round(a, 4) for a in accs]}
