"""2-D navigation, MAML's reinforcement-learning picture (:mod:`metademo.navigation`), for pages and notebooks.

    models = load_navigation_models()                          # {"maml", "fomaml", "baseline"}
    for record in adapt_to_goal(models["maml"], (0.3, -0.2)):  # before adapting, then after each step
        record["step"], record["return"], record["paths"]      # paths: (episodes, 101, 2) positions
    for report in meta_train_navigation(iterations=60):       # MAML from scratch, a report every few steps
        report["iteration"], report["return_before"], report["return_after"]

:mod:`metademo.navigation` (and torch with it) is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from .checks import check_whole

__all__ = ["GOAL_LIMIT", "adapt_to_goal", "check_goal", "load_navigation_models", "meta_train_navigation",
           "random_goal"]

GOAL_LIMIT = 1.0  # a goal may lie anywhere in [-1, 1]^2 (meta-training drew them in [-0.5, 0.5]^2)
TRAIN_RANGE = 0.5
MAX_STEPS = 10
MAX_EPISODES = 50
MAX_LIVE_ITERATIONS = 1000
KINDS = ("maml", "fomaml", "baseline")  # the shipped policies


def check_goal(x, y) -> tuple[float, float]:
    """Two finite numbers in [-GOAL_LIMIT, GOAL_LIMIT], else a ValueError."""
    goal = []
    for value, what in ((x, "the goal's x"), (y, "the goal's y")):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise ValueError(f"{what} must be a number, got {value!r:.40}")
        if not math.isfinite(value) or abs(value) > GOAL_LIMIT:
            raise ValueError(f"{what} must be a number from {-GOAL_LIMIT} to {GOAL_LIMIT}, got {value!r}")
        goal.append(float(value))
    return goal[0], goal[1]


def random_goal(seed: int | None = None) -> tuple[float, float]:
    """A goal uniform in the meta-training square [-0.5, 0.5]^2."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-TRAIN_RANGE, TRAIN_RANGE, 2)
    return round(float(x), 3), round(float(y), 3)


@lru_cache(maxsize=2)
def load_navigation_models(folder=None) -> dict:
    """The shipped policies (checkpoints), ``{"maml", "fomaml", "baseline"}``, loaded once."""
    from ..navigation import load_navigation_models as load

    return load(folder)


def adapt_to_goal(model, goal, steps: int = 3, seed: int = 0, episodes: int = 20) -> Iterator[dict]:
    """Adapt a policy (a checkpoint of :func:`load_navigation_models`, or ``"maml"``, ``"fomaml"``,
    ``"baseline"``) to ``goal`` (x, y), yielding ``{"step", "return", "paths"}`` before adapting and after each
    inner step: each step samples ``episodes`` episodes of the current policy, and its return is their mean."""
    from .. import navigation

    goal = check_goal(*_pair(goal))
    steps = check_whole(steps, "steps", 0, MAX_STEPS)
    seed = check_whole(seed, "the seed", 0, 2**62)
    episodes = check_whole(episodes, "episodes", 2, MAX_EPISODES)
    if isinstance(model, str):
        if model not in KINDS:
            raise ValueError(f"model must be one of {', '.join(KINDS)}, got {model!r:.40}")
        model = load_navigation_models()[model]
    return navigation.adapt_to_goal(model, goal, steps, seed, episodes)


def _pair(goal):
    try:
        x, y = goal
    except (TypeError, ValueError):
        raise ValueError(f"a goal is two numbers (x, y), got {goal!r:.60}") from None
    return x, y


def meta_train_navigation(iterations: int = 60, seed: int = 0, every: int = 5) -> Iterator[dict]:
    """Meta-train MAML from scratch by the project's outer loop, yielding after every ``every`` iterations
    ``{"iteration", "seconds", "return_before", "return_after"}`` (mean returns on fixed validation goals before
    and after one inner step) and, last, ``{"done": True, "model": checkpoint}`` (usable by
    :func:`adapt_to_goal`)."""
    from .. import navigation
    from ..checkpoints import Checkpoint

    iterations = check_whole(iterations, "iterations", 1, MAX_LIVE_ITERATIONS)
    seed = check_whole(seed, "the seed", 0, 2**32 - 1)
    every = check_whole(every, "every", 1, MAX_LIVE_ITERATIONS)
    # Trained in the caller's thread, a few iterations per report: a caller that stops reading stops training.
    trainer = navigation.trainer_for("maml", None, seed, val_every=every, progress=False, iterations=iterations)
    for r in trainer.iterate():
        yield {"iteration": r["iteration"], "seconds": r["seconds"], "return_before": r["val_return_before"],
               "return_after": r["val_return"]}
    meta = {k: v.detach().clone() for k, v in trainer.meta.items()}
    yield {"done": True, "model": Checkpoint(trainer.learner.name, trainer.learner.hparams, meta,
                                             {"training": {"iterations": iterations, "seed": seed}})}
