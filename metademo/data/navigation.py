"""2-D navigation, MAML's reinforcement-learning picture (Finn et al. 2017, section 5.3).

A point starts at the origin of the plane and moves by a velocity it chooses, clipped to [-0.1, 0.1] on each
axis, for 100 steps. Its reward at each step is minus its distance to a goal it is not told: the task is the
goal, and the only way to learn where it is, is from the rewards of a few episodes. Meta-training draws goals
uniformly in [-0.5, 0.5]^2.

:class:`NavigationEnv` is the standard ``gymnasium.Env`` interface (reset and step, one episode at a time).
The learners roll out many episodes of many tasks at once with :func:`transition`, the same dynamics on torch
tensors; the tests check that the two step alike.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..lazy import torch

HORIZON = 100  # steps per episode
MAX_SPEED = 0.1  # each coordinate of the velocity is clipped to [-MAX_SPEED, MAX_SPEED]
GOAL_RANGE = 0.5  # meta-training goals are uniform in [-GOAL_RANGE, GOAL_RANGE]^2


def sample_goals(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) float32 goals, uniform in the meta-training square."""
    return rng.uniform(-GOAL_RANGE, GOAL_RANGE, size=(n, 2)).astype(np.float32)


def transition(position: torch.Tensor, action: torch.Tensor, goal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of any number of episodes: (..., 2) positions, actions and goals -> next positions and rewards
    (minus the distance from the next position to the goal)."""
    position = position + action.clamp(-MAX_SPEED, MAX_SPEED)
    return position, -torch.linalg.vector_norm(position - goal, dim=-1)


class NavigationEnv(gym.Env):
    """A point in the plane looking for a hidden goal. ``goal`` fixes the task; without one, each reset draws a
    goal in the meta-training square from the environment's random generator (``reset(seed=...)``); a reset
    may also set it (``options={"goal": (x, y)}``)."""

    metadata = {"render_modes": []}

    def __init__(self, goal=None, horizon: int = HORIZON):
        bound = horizon * MAX_SPEED  # the farthest a point gets from the origin on each axis
        self.observation_space = gym.spaces.Box(-bound, bound, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-MAX_SPEED, MAX_SPEED, shape=(2,), dtype=np.float32)
        self.fixed_goal = None if goal is None else self._check_goal(goal)
        self.horizon = horizon
        self.goal = self.fixed_goal
        self.position = np.zeros(2, np.float32)
        self.t = 0

    @staticmethod
    def _check_goal(goal) -> np.ndarray:
        try:
            g = np.asarray(goal, dtype=np.float32).reshape(-1)
        except (TypeError, ValueError) as e:
            raise ValueError(f"a goal must be two numbers, got {goal!r:.80}") from e
        if g.shape != (2,) or not np.isfinite(g).all():
            raise ValueError(f"a goal must be two finite numbers, got {goal!r:.80}")
        return g

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options and "goal" in options:
            self.goal = self._check_goal(options["goal"])
        elif self.fixed_goal is not None:
            self.goal = self.fixed_goal
        else:
            self.goal = sample_goals(1, self.np_random)[0]
        self.position = np.zeros(2, np.float32)
        self.t = 0
        return self.position.copy(), {"goal": self.goal.copy()}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32).reshape(2), -MAX_SPEED, MAX_SPEED)
        self.position = (self.position + action).astype(np.float32)
        reward = -float(np.linalg.norm(self.position - self.goal))
        self.t += 1
        return self.position.copy(), reward, False, self.t >= self.horizon, {"goal": self.goal.copy()}
