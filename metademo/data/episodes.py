"""An episode: a batch of few-shot tasks (support and query sets), the unit every learner works on.

It lives with the data (the samplers build it; the algorithms, the trainer and the evaluation read it),
so the data layer needs nothing from the algorithms.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lazy import torch


@dataclass
class Episode:
    """A batch of T few-shot tasks with ``n_way`` classes each (labels 0..n_way-1)."""

    support_x: torch.Tensor  # (T, S, C, H, W)
    support_y: torch.Tensor  # (T, S)
    query_x: torch.Tensor  # (T, Q, C, H, W)
    query_y: torch.Tensor  # (T, Q)
    n_way: int

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Episode:
        dtype = dtype or self.support_x.dtype
        return Episode(self.support_x.to(device, dtype), self.support_y.to(device),
                       self.query_x.to(device, dtype), self.query_y.to(device), self.n_way)

    def task(self, i: int) -> Episode:
        """The i-th task alone, still with a task dimension of 1."""
        s = slice(i, i + 1)
        return Episode(self.support_x[s], self.support_y[s], self.query_x[s], self.query_y[s], self.n_way)
