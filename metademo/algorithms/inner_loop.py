"""The inner loop shared by MAML, first-order MAML, Meta-SGD and Reptile.

Each task starts from the meta-learned network and a **prototype-initialised linear head**
(Triantafillou et al. 2020, "Proto-MAML"): the row of class c is ``2 * mu_c`` and its bias
``-|mu_c|^2``, where ``mu_c`` is the mean support embedding of class c. Three things follow:

* one checkpoint serves any number of classes (the head is built from the support set, not stored);
* relabelling or reordering the classes permutes the head's rows and nothing else, so the
  probabilities are exactly equivariant to class order (a learned N-way head is not);
* step 0 is already a nearest-prototype classifier, and gradient steps refine it.

The loop is plain gradient descent on the support cross-entropy, written as a pure function: each
step builds new tensors ``p - lr * g`` and never touches the meta-parameters. With
``create_graph=True`` the steps stay differentiable, which gives MAML its exact second-order
meta-gradient.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..networks.conv4 import Params, linear
from .base import AdaptStep, MetaLearner, class_means, last, per_task_accuracy, per_task_cross_entropy, task_batched

MAX_STEPS = 100


def check_steps_lr(steps: int, lr: float) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 0 to {MAX_STEPS}, got {steps!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr (the inner learning rate) must be a finite number above 0, got {lr!r}")


class GradientLearner(MetaLearner):
    """A meta-learner whose adaptation is gradient descent from a meta-learned initialisation."""

    def initial_params(self, meta: Params, x: torch.Tensor, y: torch.Tensor, n_way: int
                       ) -> tuple[Params, torch.Tensor]:
        """Task-batched starting point (the meta-learned body and the prototype head), and the support
        features it was built from, which step 0 reuses."""
        body = {}
        for k, v in self.body(meta).items():
            # At inference the meta-parameters are constants; gradients still need a graph leaf.
            body[k] = v if v.requires_grad else v.detach().requires_grad_()
        params = task_batched(body, x.shape[0])
        feats = self.network.features(params, x)
        mu = class_means(feats, y, n_way)
        params["head.weight"] = 2 * mu
        params["head.bias"] = -(mu * mu).sum(-1)
        return params, feats

    def step_sizes(self, meta: Params, lr: float) -> dict[str, torch.Tensor | float]:
        """Learning rate of each adapted tensor (broadcastable to its task-batched shape)."""
        return dict.fromkeys([*self.body(meta), "head.weight", "head.bias"], lr)

    def logits(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        return linear(self.network.features(params, x), params["head.weight"], params["head.bias"])

    def adapt_steps(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False) -> Iterator[AdaptStep]:
        return self.descend(meta, x, y, n_way, steps, lr, create_graph)

    def adapted_params(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False) -> Params:
        return last(self.descend(meta, x, y, n_way, steps, lr, create_graph, final_loss=False)).params

    def descend(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False,
                final_loss: bool = True) -> Iterator[AdaptStep]:
        """:meth:`adapt_steps`; with ``final_loss=False`` the last step, unless it is step 0, skips the
        support loss (a forward pass of the support set) and carries ``None`` for loss and accuracy."""
        steps = self.hparams.test_steps if steps is None else steps
        lr = self.hparams.inner_lr if lr is None else lr
        check_steps_lr(steps, lr)
        # At inference nothing needs the path back to the meta-parameters: cut it after each step.
        keep_graph = create_graph or any(v.requires_grad for v in meta.values())
        sizes = self.step_sizes(meta, lr)
        with torch.enable_grad():
            params, feats = self.initial_params(meta, x, y, n_way)
        loss = None
        for step in range(steps + 1):
            # Grad mode is set per step, never across a yield, so it cannot leak into the caller.
            with torch.enable_grad():
                if step:
                    # Summing over tasks keeps each task's gradient its own: tasks share no parameters.
                    grads = torch.autograd.grad(loss.sum(), list(params.values()), create_graph=create_graph,
                                                retain_graph=keep_graph)
                    params = {k: p - sizes[k] * g for (k, p), g in zip(params.items(), grads)}
                    if not keep_graph:
                        params = {k: p.detach().requires_grad_() for k, p in params.items()}
                if step == steps and step and not final_loss:
                    yield AdaptStep(step, params, None, None)
                    return
                if step:
                    logits = self.logits(params, x)
                else:  # the body is unchanged at step 0: its support features are those of the head
                    logits = linear(feats, params["head.weight"], params["head.bias"])
                loss = per_task_cross_entropy(logits, y)
            yield AdaptStep(step, params, loss.detach(), per_task_accuracy(logits.detach(), y))

class MAMLFamily(GradientLearner):
    """Outer loop of MAML and its relatives: descend the query loss of the adapted parameters."""

    first_order = False

    def meta_gradient(self, meta, episode):
        params = self.adapted_params(meta, episode.support_x, episode.support_y, episode.n_way,
                                     steps=self.hparams.train_steps, create_graph=not self.first_order)
        logits = self.logits(params, episode.query_x)
        loss = per_task_cross_entropy(logits, episode.query_y).mean()
        grads = torch.autograd.grad(loss, list(meta.values()))
        metrics = {"loss": loss.item(),
                   "accuracy": per_task_accuracy(logits.detach(), episode.query_y).mean().item()}
        return dict(zip(meta, grads)), metrics
