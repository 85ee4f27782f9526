"""Sine-wave regression learners, MAML's first illustration (Finn et al. 2017, section 5.1).

Both share the paper's network, an MLP 1-40-40-1 with ReLU (passed in like any learner's network), and the
same adaptation, plain gradient descent on the support set's mean squared error with step size 0.01, on
the image models' inner loop (there is one inner loop in the project):

* :class:`SineMAML` learns an initialisation such that *one* such step on a new task's K points already
  fits the task; its meta-gradient is exact second order.
* :class:`SinePretrained`, the baseline, is trained jointly on all tasks: its "meta-gradient" is the
  gradient of plain regression on every point of the meta-batch, no inner step. Tasks disagree, so it
  learns their mean function (about ``-1.6 cos(x)``), from which a few small gradient steps barely move.
"""

from __future__ import annotations

from ..lazy import torch
from .base import HParams
from .inner_loop import MAMLFamily


def per_task_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(T, B, 1) predictions and targets -> (T,) mean squared error of each task ((B, 1) -> scalar)."""
    return ((pred - y) ** 2).mean((-2, -1))


class SineMAML(MAMLFamily):
    """No task head (the network's output is the prediction), every parameter adapted, mean squared error
    for the inner steps and for the outer loop (exact second order)."""

    name = "sine_maml"
    title = "MAML"
    paper = "Finn et al. 2017, section 5.1"
    summary = "MAML learned a starting point from which one gradient step on K points fits a new sine."
    colour = "#636EFA"
    head = None
    first_order = False
    learns_per_step_lrs = False  # its network's parameters alone
    kind = "maml"
    default_hparams = HParams(hidden=40, inner_lr=0.01, train_steps=1, test_steps=10)

    def default_network(self):
        from ..networks.mlp import MLP  # it imports torch: not when the page merely lists the learners

        return MLP((1, self.hparams.hidden, self.hparams.hidden, 1), "relu")

    def init_meta_params(self, seed=0, dtype=None):
        return self.network.init_params(seed, dtype or torch.float32)

    def body(self, meta):
        return dict(meta)

    def readout(self, params, features):
        return features  # the network's output is the prediction

    def task_loss(self, outputs, y):
        return per_task_mse(outputs, y)

    def task_accuracy(self, outputs, y):
        return None

    def outer_optimizer(self, params, lr):
        # The fused kernel updates all eight tensors at once: a quarter of an outer step's time saved.
        return torch.optim.Adam(params, lr=lr, fused=True)


class SinePretrained(SineMAML):
    """The pretrained baseline: regression on all the points of all the tasks at once; adapts as MAML does."""

    name = "sine_baseline"
    title = "pretrained baseline"
    paper = "Finn et al. 2017, section 5.1 (the baseline)"
    summary = "Trained on all tasks at once, it learned their average, from which small steps barely move."
    colour = "#EF553B"
    kind = "baseline"

    def meta_gradient(self, meta, episode, **kw):
        x = torch.cat([episode.support_x, episode.query_x], 1)
        y = torch.cat([episode.support_y, episode.query_y], 1)
        with torch.enable_grad():
            loss = self.task_loss(self.network(meta, x), y).mean()
            grads = torch.autograd.grad(loss, list(meta.values()))
        return dict(zip(meta, grads)), {"loss": loss.item()}
