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
    embedded = learner.embed_pool(meta, pool, device)
    if embedded is not None:
        return _evaluate_embedded(learner, meta, embedded, sampler, episodes, batch)
    accs = []
    with tqdm(total=episodes, desc=f"{learner.name} {ways}-way {shots}-shot", disable=not progress,
              unit="episode") as bar:
        while len(accs) < episodes:
            ep = sampler.sample(min(batch, episodes - len(accs))).to(device)
            accs.extend(learner.query_accuracy(meta, ep, steps=steps, lr=lr).tolist())
            bar.update(ep.support_x.shape[0])
    return summarize(accs)


def accuracy_by_step(learner: MetaLearner, meta: dict, pool: torch.Tensor, ways: int, shots: int,
                     steps: tuple[int, ...] = (0, 1, 2, 3, 5, 10), queries: int = 15, episodes: int = 1000,
                     seed: int = 0, batch: int = 10, lr: float | None = None, device="cpu") -> dict[int, dict]:
    """Query accuracy after each of ``steps`` inner steps on the same seeded episodes (one adaptation of
    ``max(steps)`` steps per batch of episodes, scored at every step asked for). A learner without an
    inner loop has only step 0."""
    sampler = EpisodeSampler(pool, ways, shots, queries, seed=seed)
    embedded = learner.embed_pool(meta, pool, device)
    if embedded is not None:  # its adaptation is a summary of the support's embeddings: there is no step 1
        return {0: _evaluate_embedded(learner, meta, embedded, sampler, episodes, batch)}
    accs: dict[int, list[float]] = {s: [] for s in steps}
    done = 0
    while done < episodes:
        ep = sampler.sample(min(batch, episodes - done)).to(device)
        for state in learner.adapt_steps(meta, ep.support_x, ep.support_y, ep.n_way, steps=max(steps), lr=lr):
            if state.step in accs:
                with torch.no_grad():
                    logits = learner.logits(state.params, ep.query_x)
                accs[state.step].extend((logits.argmax(-1) == ep.query_y).float().mean(1).tolist())
        done += ep.support_x.shape[0]
    return {s: summarize(a) for s, a in accs.items() if a}  # the steps the learner took


def _evaluate_embedded(learner, meta, feats, sampler, episodes, batch) -> dict:
    """For a learner that embeds each image independently of the task (ProtoNet): from the pool's
    embeddings, computed once (``learner.embed_pool``), score the very same episodes as the generic path
    (a large speed-up)."""
    n, k = sampler.n_way, sampler.k_shot
    labels = torch.arange(n, device=feats.device).view(1, n, 1)
    accs = []
    while len(accs) < episodes:
        t = min(batch, episodes - len(accs))
        cls, idx = sampler.sample_indices(t)
        f = feats[cls, idx]  # (T, N, K+Q, D)
        support = f[:, :, :k].reshape(t, n * k, f.shape[-1])
        q = f[:, :, k:].reshape(t, -1, f.shape[-1])
        logits = learner.scores(meta, support, labels.expand(t, n, k).reshape(t, -1), n, q)
        y = labels.expand(t, n, f.shape[2] - k).reshape(t, -1)
        accs.extend((logits.argmax(-1) == y).float().mean(1).tolist())
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
