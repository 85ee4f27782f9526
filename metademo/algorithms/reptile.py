"""Reptile (Nichol, Achiam & Schulman 2018, arXiv:1803.02999).

Adapt to each task with plain SGD (here on all of the task's labelled data, support and queries; with
``HParams.train_batch_shots`` = k, as in the paper, each step on a minibatch: k images of every class, the
next k for the next step), then move the initialisation towards the adapted weights:
``theta <- theta + eps * (mean_i W_i - theta)``.
No gradient flows through the inner loop. :meth:`Reptile.meta_gradient` returns
``theta - mean_i W_i``, so one SGD step with learning rate ``eps`` on it is exactly that update (and
Adam on it is the "Reptile with Adam" variant of the paper).
"""

from __future__ import annotations

from ..lazy import torch
from .base import HParams, last
from .inner_loop import GradientLearner, class_slices


class Reptile(GradientLearner):
    name = "reptile"
    title = "Reptile"
    paper = "Nichol et al. 2018, On First-Order Meta-Learning Algorithms"
    summary = ("Reptile learned its starting point by repeatedly training on a single task for a few steps and "
               "nudging the starting point towards the result.")
    colour = "#FFA15A"
    published = ("Nichol 2018", (97.68, 99.48, 89.43, 97.12))
    default_hparams = HParams(inner_lr=0.1, train_steps=5, test_steps=10)
    trains_on_minibatches = True

    @classmethod
    def meta_gradient_kind(cls) -> str:
        return "no meta-graph"  # several plain SGD steps; the update is theta - mean(W)

    def outer_optimizer(self, params, lr):
        """Plain SGD: a step of size ``eps`` on ``theta - mean(W)`` is exactly the Reptile update."""
        return torch.optim.SGD(params, lr=lr)

    def outer_lr(self, base, iteration, iterations, schedule="linear"):
        """The paper's schedule whatever is asked: ``eps`` annealed linearly to 0 over the run."""
        return base * (1 - iteration / iterations)

    def meta_gradient(self, meta, episode, steps: int | None = None):
        """``steps`` inner SGD steps (default ``hparams.train_steps``)."""
        steps = self.hparams.train_steps if steps is None else steps
        theta = {k: v.detach() for k, v in meta.items()}
        x = torch.cat([episode.support_x, episode.query_x], 1)
        y = torch.cat([episode.support_y, episode.query_y], 1)
        shots = self.hparams.train_batch_shots
        batches = class_slices(y, episode.n_way, shots) if shots else None
        states = self.descend(theta, x, y, episode.n_way, steps=steps, final_loss=False, batches=batches)
        first = next(states)  # before any update: how well the initialisation alone does (on the first batch)
        metrics = {"loss": first.loss.mean().item(), "accuracy": first.accuracy.mean().item()}
        final = last(states) if steps else first
        grads = {k: theta[k] - final.params[k].detach().mean(0) for k in theta}
        return grads, metrics
