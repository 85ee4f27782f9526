"""Sine-wave regression tasks, the toy problem of MAML (Finn et al. 2017, section 5.1).

A task is the function ``y = amplitude * sin(x - phase)`` with the amplitude uniform in [0.1, 5.0]
and the phase uniform in [0, pi]; its inputs are uniform in [-5, 5]. A K-shot task gives K such
(x, y) pairs. Each task is a clean sine, but the tasks disagree: averaged over the family the output
at x is only ``E[amplitude] * E[sin(x - phase)] = -(2 * 2.55 / pi) cos(x)``, about ``-1.6 cos(x)``
(phases span half a period, so the sines mostly cancel). That mean function is what a network
trained on all tasks jointly learns, and it still leaves a mean squared error of about 3 per task.

Points are returned as ``torch.float32`` tensors of shape (K, 1) (one input feature), ready for
:class:`~metademo.networks.mlp.MLP`. Randomness comes from a ``numpy.random.Generator``
(``numpy.random.default_rng(seed)``), so a seed reproduces the same tasks and points anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

AMPLITUDE_RANGE = (0.1, 5.0)
PHASE_RANGE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)
GRID = torch.linspace(X_RANGE[0], X_RANGE[1], 200)  # where predictions are drawn and errors measured


@dataclass(frozen=True)
class SineTask:
    amplitude: float
    phase: float

    def __call__(self, x):
        """``amplitude * sin(x - phase)``; a torch tensor stays a tensor, anything else becomes numpy."""
        if isinstance(x, torch.Tensor):
            return self.amplitude * torch.sin(x - self.phase)
        return self.amplitude * np.sin(np.asarray(x) - self.phase)


def sample_tasks(n: int, rng: np.random.Generator) -> list[SineTask]:
    """``n`` tasks with amplitude and phase drawn uniformly from their ranges."""
    amplitudes = rng.uniform(*AMPLITUDE_RANGE, size=n)
    phases = rng.uniform(*PHASE_RANGE, size=n)
    return [SineTask(float(a), float(p)) for a, p in zip(amplitudes, phases)]


def sample_points(task: SineTask, k: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """K points of one task: x uniform in X_RANGE, y = task(x); both float32 tensors of shape (K, 1)."""
    x = rng.uniform(*X_RANGE, size=(k, 1))
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(task(x).astype(np.float32))


def sample_task_batch(n_tasks: int, k: int, rng: np.random.Generator
                      ) -> tuple[torch.Tensor, torch.Tensor, list[SineTask]]:
    """A meta-batch: ``n_tasks`` fresh tasks with K points each.

    Returns x and y as float32 tensors of shape (T, K, 1) and the list of T tasks. Vectorised over
    tasks, since meta-training draws one batch per iteration.
    """
    amplitudes = rng.uniform(*AMPLITUDE_RANGE, size=(n_tasks, 1, 1))
    phases = rng.uniform(*PHASE_RANGE, size=(n_tasks, 1, 1))
    x = rng.uniform(*X_RANGE, size=(n_tasks, k, 1))
    y = amplitudes * np.sin(x - phases)
    tasks = [SineTask(float(a), float(p)) for a, p in zip(amplitudes.ravel(), phases.ravel())]
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32)), tasks
