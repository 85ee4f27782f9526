"""The inner loop shared by MAML, first-order MAML, Meta-SGD, Reptile and Proto-MAML.

Each task starts from the meta-learned network and a linear head with one row per class. The head is
built for the task, not stored, so one checkpoint serves any number of classes, and renaming or
reordering the classes permutes its rows and nothing else (probabilities are exactly equivariant to
class order). Two starting heads (``GradientLearner.head``):

* ``"zero"``: every row and bias is 0, so step 0 predicts uniformly (support loss exactly ln N, chance
  accuracy) and the inner steps do all the learning: the "zeroing trick" of Kao et al. 2022 ("MAML is
  a Noisy Contrastive Learner"). A meta-learned row copied to every class (UNICORN-MAML, Ye & Chao
  2022) is the same function: equal rows shift every logit alike and softmax ignores the shift, and
  the head's gradients do not depend on it. With a zero head the network's own gradient at step 0 is
  exactly 0 (the features reach the loss only through the head), so step 1 updates the head alone.
* ``"prototype"`` (Proto-MAML, Triantafillou et al. 2020): the row of class c is ``2 * mu_c`` and its
  bias ``-|mu_c|^2``, where ``mu_c`` is the mean support embedding of class c; step 0 is already a
  nearest-prototype classifier and gradient steps refine it.

The loop is plain gradient descent on the support cross-entropy, written as a pure function: each
step builds new tensors ``p - lr * g`` and never touches the meta-parameters. With
``create_graph=True`` the steps stay differentiable, which gives MAML its exact second-order
meta-gradient.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import ClassVar

from ..lazy import torch
from ..networks.conv4 import Params, linear, resolve_precision
from .base import (
    AdaptStep,
    HParams,
    MetaLearner,
    class_means,
    last,
    per_task_accuracy,
    per_task_cross_entropy,
    task_batched,
)

MAX_STEPS = 100
HEAD_KEYS = ["head.weight", "head.bias"]
STEP_LR_PREFIX = "steplr."  # meta-parameters of the per-step learning rates (``HParams.per_step_lrs``)


def check_steps_lr(steps: int, lr: float) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 0 to {MAX_STEPS}, got {steps!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr (the inner learning rate) must be a finite number above 0, got {lr!r}")


def pick(index: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The items ``index`` (T, B) of each task from task-batched tensors (T, S, ...)."""
    tasks = torch.arange(index.shape[0], device=index.device).unsqueeze(1)
    return tuple(t[tasks, index] for t in tensors)


def class_slices(y: torch.Tensor, n_way: int, shots: int):
    """Minibatches of ``shots`` images of every class from labels ``y`` (T, S) with as many of each: the
    function that :meth:`GradientLearner.descend` takes as ``batches``. Batch ``s`` holds, of every class, its
    images ``s * shots`` to ``(s + 1) * shots - 1`` in the order they come in ``y``, cycling."""
    t, total = y.shape
    counts = torch.stack([(y == c).sum(1) for c in range(n_way)], 1)  # (T, N)
    if total % n_way or not bool((counts == total // n_way).all()):
        raise ValueError("minibatches of every class need as many images of each class")
    per_class = total // n_way
    by_class = torch.argsort(y, dim=1, stable=True).view(t, n_way, per_class)  # (T, N, M) positions

    def batch(step: int) -> torch.Tensor:
        cols = (torch.arange(shots, device=y.device) + step * shots) % per_class
        return by_class[:, :, cols].reshape(t, n_way * shots)

    return batch


HEADS = {
    "zero": "a head of zeros: it predicts every class equally (chance) until the inner steps have learned",
    "prototype": "a head built from the class averages of the examples' embeddings (prototypes): it already "
                 "classifies like Prototypical Networks before the first step",
}


class GradientLearner(MetaLearner):
    """A meta-learner whose adaptation is gradient descent from a meta-learned initialisation.

    The loop itself knows nothing of classification: a learner says how a task starts
    (:meth:`initial_params`), how its outputs come from the network's features (:meth:`readout`), and
    how they are scored (:meth:`task_loss`, :meth:`task_accuracy`). The image classifiers build a linear
    head per task; the sine-wave regressor (:mod:`metademo.sine`) reads its network's output directly.
    """

    family = "initialisation"
    head: ClassVar[str | None] = "zero"  # the task's starting head, a key of HEADS (None: no head)

    @classmethod
    def live_hparams(cls) -> HParams:
        """A live run has a minute: one inner step while training, three at test time, a large step size."""
        return cls.default_hparams.replace(inner_lr=0.4, train_steps=1, test_steps=3)

    def initial_params(self, meta: Params, x: torch.Tensor, y: torch.Tensor, n_way: int, network=None
                       ) -> tuple[Params, torch.Tensor]:
        """Task-batched starting point (the meta-learned body and the task's head), and the support
        features (computed by ``network``, default the learner's own), which step 0 reuses."""
        network = network or self.network
        body = {}
        for k, v in self.body(meta).items():
            # At inference the meta-parameters are constants; gradients still need a graph leaf.
            body[k] = v if v.requires_grad else v.detach().requires_grad_()
        params = task_batched(body, x.shape[0])
        feats = network.features(params, x)
        if self.head == "prototype":
            mu = class_means(feats, y, n_way)
            params["head.weight"] = 2 * mu
            params["head.bias"] = -(mu * mu).sum(-1)
        elif self.head == "zero":
            params["head.weight"] = feats.new_zeros(x.shape[0], n_way, feats.shape[-1]).requires_grad_()
            params["head.bias"] = feats.new_zeros(x.shape[0], n_way).requires_grad_()
        return params, feats

    def step_sizes(self, meta: Params, lr: float, n_way: int) -> dict[str, torch.Tensor | float]:
        """Learning rate of each adapted tensor (broadcastable to its task-batched shape)."""
        sizes = dict.fromkeys(self.body(meta), lr)
        if self.head:
            sizes.update(dict.fromkeys(HEAD_KEYS, lr * self.head_scale(n_way)))
        return sizes

    def sizes_at(self, meta: Params, sizes: dict, step: int) -> dict:
        """The step sizes of inner step ``step`` (from 1): ``sizes`` times the learned per-step factor of each
        tensor (``HParams.per_step_lrs``; the last factor serves every later step), or ``sizes`` unchanged."""
        n = self.hparams.per_step_lrs
        if not n:
            return sizes
        i = min(step, n) - 1
        return {k: s * meta[STEP_LR_PREFIX + k][i] for k, s in sizes.items()}

    def head_scale(self, n_way: int) -> float:
        """How much larger the head's step is than the body's (``HParams.head_lr_per_class``)."""
        return float(n_way) if self.hparams.head_lr_per_class else 1.0

    def readout(self, params: Params, features: torch.Tensor) -> torch.Tensor:
        """The task's outputs from the network's features: class scores from the task's linear head."""
        return linear(features, params["head.weight"], params["head.bias"])

    def task_loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(T,) loss of each task, the one the inner steps descend (and the outer loop, on the queries)."""
        return per_task_cross_entropy(outputs, y)

    def task_accuracy(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
        return per_task_accuracy(outputs, y)

    def logits(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        return self.readout(params, self.network.features(params, x))

    def adaptation_precision(self, device) -> str:
        return self.network.at_precision(resolve_precision("auto", device)).precision

    def adapt_steps(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False,
                    precision="auto") -> Iterator[AdaptStep]:
        return self.descend(meta, x, y, n_way, steps, lr, create_graph, precision=precision)

    def adapted_params(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False,
                       precision="float32") -> Params:
        """The adapted parameters alone; float32 unless asked (the meta-gradients of training use this)."""
        return last(self.descend(meta, x, y, n_way, steps, lr, create_graph, final_loss=False,
                                 precision=precision)).params

    def descend(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False,
                final_loss: bool = True, precision: str = "float32", batches=None) -> Iterator[AdaptStep]:
        """:meth:`adapt_steps`; with ``final_loss=False`` the last step, unless it is step 0, skips the
        support loss (a forward pass of the support set) and carries ``None`` for loss and accuracy.
        ``precision`` is the network's (:func:`~metademo.networks.conv4.resolve_precision`); float32 by
        default, as meta-training computes. ``batches`` (meta-training on minibatches): ``batches(s)`` is a
        (T, B) index of the images of each task whose loss is taken after step ``s``, the loss that step
        ``s + 1`` descends; None: every image."""
        steps = self.hparams.test_steps if steps is None else steps
        lr = self.hparams.inner_lr if lr is None else lr
        check_steps_lr(steps, lr)
        network = self.network.at_precision(resolve_precision(precision, x.device))
        # At inference nothing needs the path back to the meta-parameters: cut it after each step.
        keep_graph = create_graph or any(v.requires_grad for v in meta.values())
        sizes = self.step_sizes(meta, lr, n_way)
        with torch.enable_grad():
            params, feats = self.initial_params(meta, x, y, n_way, network)
        loss = None
        for step in range(steps + 1):
            # Grad mode is set per step, never across a yield, so it cannot leak into the caller.
            with torch.enable_grad():
                if step:
                    # From a zero head the network's gradient is exactly 0 at step 1: only the head moves.
                    # The unmoved tensors still become new graph nodes (view_as), so that later steps'
                    # gradients are partial derivatives at fixed head, as after a real update.
                    moving = HEAD_KEYS if step == 1 and self.head == "zero" else list(params)
                    # Summing over tasks keeps each task's gradient its own: tasks share no parameters.
                    grads = dict(zip(moving, torch.autograd.grad(loss.sum(), [params[k] for k in moving],
                                                                 create_graph=create_graph, retain_graph=keep_graph)))
                    at = self.sizes_at(meta, sizes, step)
                    params = {k: p - at[k] * grads[k] if k in grads else p.view_as(p) for k, p in params.items()}
                    if not keep_graph:
                        params = {k: p.detach().requires_grad_() for k, p in params.items()}
                if step == steps and step and not final_loss:
                    yield AdaptStep(step, params, None, None)
                    return
                index = None if batches is None else batches(step)
                ys = y if index is None else pick(index, y)[0]
                if step:
                    xs = x if index is None else pick(index, x)[0]
                    outputs = self.readout(params, network.features(params, xs))
                else:  # the body is unchanged at step 0: its support features are those of the head
                    outputs = self.readout(params, feats)
                    if index is not None:
                        outputs = pick(index, outputs)[0]
                loss = self.task_loss(outputs, ys)
            yield AdaptStep(step, params, loss.detach(), self.task_accuracy(outputs.detach(), ys))

class MAMLFamily(GradientLearner):
    """Outer loop of MAML and its relatives: descend the query loss of the adapted parameters."""

    first_order = False
    learns_per_step_lrs = True

    def init_meta_params(self, seed=0, dtype=None):
        """The network's parameters and, with ``HParams.per_step_lrs`` = n, MAML++'s per-step learning-rate
        factors: n of them for every tensor the inner loop moves, starting at 1 (the plain step size)."""
        meta = super().init_meta_params(seed, dtype)
        n = self.hparams.per_step_lrs
        if n:
            ones = torch.ones(n, dtype=meta["conv1.weight"].dtype)
            moved = [*self.body(meta), *(HEAD_KEYS if self.head else [])]
            meta.update({STEP_LR_PREFIX + k: ones.clone() for k in moved})
        return meta

    @classmethod
    def meta_gradient_kind(cls) -> str:
        return "first order" if cls.first_order else "second order"

    def meta_gradient(self, meta, episode, first_order: bool | None = None, steps: int | None = None,
                      multi_step: bool = False, earlier_share: float = 1.0):
        """``first_order=True`` drops the second derivatives for this call (a first-order warm-up); ``steps``
        inner steps (default ``hparams.train_steps``). With ``multi_step`` the outer loss is the mean of the
        query losses after every inner step 1..steps (the multi-step loss of MAML++, Antoniou et al. 2019),
        so that every step, not only the last, must leave the task better than before. ``earlier_share``
        (1: that mean) scales the weight of each step before the last, 1/steps, by that factor, and the last
        step takes the rest: MAML++ anneals it towards a small floor, so that the loss ends on the final step."""
        if not 0.0 <= earlier_share <= 1.0:
            raise ValueError(f"earlier_share must lie in [0, 1], not {earlier_share}")
        first_order = self.first_order if first_order is None else first_order
        steps = self.hparams.train_steps if steps is None else steps
        adapted = self.descend(meta, episode.support_x, episode.support_y, episode.n_way, steps,
                               create_graph=not first_order, final_loss=False)
        if multi_step and steps > 1:
            losses = []
            for state in adapted:
                if state.step:
                    outputs = self.logits(state.params, episode.query_x)
                    losses.append(self.task_loss(outputs, episode.query_y).mean())
            n = len(losses)
            weights = torch.full((n,), earlier_share / n)
            weights[-1] = 1.0 - (n - 1) * earlier_share / n
            loss, final = (torch.stack(losses) * weights.to(losses[0])).sum(), losses[-1]
        else:
            outputs = self.logits(last(adapted).params, episode.query_x)
            loss = final = self.task_loss(outputs, episode.query_y).mean()
        grads = dict(zip(meta, torch.autograd.grad(loss, list(meta.values()), allow_unused=True)))
        # The network is always in the graph, a step size not always: one inner step from a zero head moves
        # the head alone (the body's gradient is exactly 0 there), so Meta-SGD's rates for the body go
        # unused, and with no inner step every rate does. Their meta-gradient is exactly 0.
        unused = [k for k, g in grads.items() if g is None]
        if set(unused) & set(self.body(meta)):
            raise RuntimeError(f"network parameters missing from the meta-graph: {unused}")
        grads = {k: torch.zeros_like(meta[k]) if g is None else g for k, g in grads.items()}
        metrics = {"loss": final.item()}
        accuracy = self.task_accuracy(outputs.detach(), episode.query_y)
        if accuracy is not None:
            metrics["accuracy"] = accuracy.mean().item()
        return grads, metrics
