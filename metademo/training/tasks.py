"""What the outer loop trains on and is scored by: a source of tasks.

The trainer (:mod:`metademo.training.trainer`) knows nothing of images or sines. It asks its tasks for a
meta-batch (:meth:`sample`), for a score of the meta-parameters on fixed held-out tasks (:meth:`validate`:
``"score"``, higher is better, and the figures to log) and for a description of the data for the
checkpoint's metadata. Their random generator (``rng``) is saved with the training state, so a resumed
run draws the same tasks as an uninterrupted one.
"""

from __future__ import annotations

import numpy as np

from ..algorithms import MetaLearner
from ..data.episodes import Episode
from ..data.omniglot import VALIDATION_ALPHABETS, EpisodeSampler, load_split
from ..data.sine import GRID, sample_task_batch
from ..lazy import torch
from .evaluation import summarize

VAL_SEED = 12345


class ImageTasks:
    """N-way K-shot episodes from a pool of (classes, drawings, H, W) uint8 images, scored on fixed
    1-shot episodes of ``val_ways`` classes from a held-out pool (the mean over those widths)."""

    def __init__(self, train_pool: torch.Tensor, val_pool: torch.Tensor, ways: int = 5, shots: int = 1,
                 queries: int = 15, seed: int = 0, val_ways: tuple[int, ...] = (5,), val_episodes: int = 200,
                 val_queries: int = 15, val_seed: int = VAL_SEED, description: dict | None = None):
        self.sampler = EpisodeSampler(train_pool, ways, shots, queries, seed)
        # The same validation episodes every time, so validation scores are comparable.
        batch = min(20, val_episodes)
        self.val_episodes = {w: [EpisodeSampler(val_pool, w, 1, val_queries, val_seed).sample(batch)
                                 for _ in range(max(1, val_episodes // batch))]
                             for w in val_ways}
        self.description = description or {}

    @classmethod
    def omniglot(cls, config, progress: bool = True) -> ImageTasks:
        """Omniglot's background alphabets, less four held out for validation (``config``: a TrainConfig)."""
        description = {"data": "Omniglot images_background, 28x28, rotations as extra classes",
                       "split": {"train": "images_background without " + ", ".join(VALIDATION_ALPHABETS),
                                 "val": list(VALIDATION_ALPHABETS), "test": "images_evaluation"}}
        return cls(load_split("train", config.data_root, progress=progress),
                   load_split("val", config.data_root, progress=progress), config.ways, config.shots,
                   config.queries, config.seed, tuple(config.val_ways), config.val_episodes,
                   description=description)

    @property
    def rng(self) -> np.random.Generator:
        return self.sampler.rng

    def sample(self, tasks: int, n_way: int | None = None, k_shot: int | None = None) -> Episode:
        return self.sampler.sample(tasks, n_way=n_way, k_shot=k_shot)

    def validate(self, learner: MetaLearner, meta: dict, device, steps: int | None = None) -> dict:
        """Query accuracy on the validation episodes, adapting as the app would on ``device`` (its precision):
        ``accuracy`` (the mean over the widths, also the ``score``) and, with several widths, each
        (``"5way"``, ...)."""
        result = {"precision": learner.adaptation_precision(torch.device(device))}
        summaries = []
        for ways, episodes in self.val_episodes.items():
            accs = []
            for ep in episodes:
                accs.extend(learner.query_accuracy(meta, ep.to(device), steps=steps).tolist())
            summaries.append(summarize(accs))
            if len(self.val_episodes) > 1:
                result[f"{ways}way"] = summaries[-1]["accuracy"]
        if len(summaries) == 1:
            result.update(summaries[0])
        else:
            result.update(accuracy=float(np.mean([s["accuracy"] for s in summaries])),
                          episodes=sum(s["episodes"] for s in summaries))
        result["score"] = result["accuracy"]
        return result


class SineTasks:
    """Sine-wave regression tasks (:mod:`metademo.data.sine`): each draws ``2 k_shot`` points, the first K the
    support set and the others the queries; scored by the mean squared error against the true sines on
    ``GRID`` after adaptation (``score`` is minus that error)."""

    def __init__(self, k_shot: int = 10, seed: int = 0, val_tasks: int = 100, val_seed: int = 2017,
                 description: dict | None = None):
        self.k_shot, self.rng = k_shot, np.random.default_rng(seed)
        val_rng = np.random.default_rng(val_seed)
        x, y, tasks = sample_task_batch(val_tasks, k_shot, val_rng)
        amplitude = torch.tensor([t.amplitude for t in tasks], dtype=torch.float64).view(-1, 1, 1)
        phase = torch.tensor([t.phase for t in tasks], dtype=torch.float64).view(-1, 1, 1)
        grid = GRID.to(torch.float64).view(1, -1, 1).expand(val_tasks, -1, -1)
        self.val = (x, y, grid.float(), (amplitude * torch.sin(grid - phase)).float())
        self.description = description or {"data": "sine waves, amplitude 0.1-5, phase 0-pi, x in [-5, 5]"}

    def sample(self, tasks: int, n_way: int | None = None, k_shot: int | None = None) -> Episode:
        k = k_shot or self.k_shot
        x, y, _ = sample_task_batch(tasks, 2 * k, self.rng)
        return Episode(x[:, :k], y[:, :k], x[:, k:], y[:, k:], 1)

    def validate(self, learner: MetaLearner, meta: dict, device, steps: int | None = None) -> dict:
        x, y, grid, truth = self.val
        params = learner.adapted_params(meta, x, y, 1, steps=steps)
        with torch.no_grad():
            mse = learner.task_loss(learner.logits(params, grid), truth).mean().item()
        return {"mse": mse, "score": -mse}


class NavigationTasks:
    """2-D navigation tasks (:mod:`metademo.data.navigation`): each is a goal uniform in the meta-training
    square and the seed of its sampling noise, carried as an :class:`Episode` (goals ``(T, 1, 2)`` as
    ``support_x``, seeds ``(T, 1)`` as ``support_y``; the learners sample their own episodes). Scored by the
    mean return after adapting to fixed validation goals (``score`` is that return)."""

    def __init__(self, seed: int = 0, val_tasks: int = 20, val_seed: int = VAL_SEED, description: dict | None = None):
        from ..data.navigation import sample_goals

        self.rng = np.random.default_rng(seed)
        self._sample_goals = sample_goals
        val_rng = np.random.default_rng(val_seed)
        self.val = (torch.from_numpy(sample_goals(val_tasks, val_rng)),
                    torch.from_numpy(val_rng.integers(0, 2**62, val_tasks)))
        self.description = description or {"data": "2-D navigation, goals uniform in [-0.5, 0.5]^2, horizon 100, "
                                                   "velocity clipped to [-0.1, 0.1] per axis"}

    def sample(self, tasks: int, n_way: int | None = None, k_shot: int | None = None) -> Episode:
        goals = torch.from_numpy(self._sample_goals(tasks, self.rng)).unsqueeze(1)
        seeds = torch.from_numpy(self.rng.integers(0, 2**62, (tasks, 1)))
        return Episode(goals, seeds, goals, seeds, 0)

    def validate(self, learner: MetaLearner, meta: dict, device, steps: int | None = None) -> dict:
        goals, seeds = self.val
        returns = [-s.loss.mean().item() for s in learner.adapt_steps(meta, goals, seeds, steps=steps)]
        # Scored by the mean return after steps 1..steps: a policy should improve at every step, not only the last.
        score = sum(returns[1:]) / max(1, len(returns) - 1)
        return {"return": returns[-1], "return_before": returns[0], "returns": returns, "score": score}
