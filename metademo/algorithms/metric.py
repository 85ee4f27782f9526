"""What the learners that compare embeddings share (Prototypical, Matching and Relation Networks).

Each embeds every image once with the meta-learned network, summarises the support set (prototypes,
the support embeddings themselves, class features) and scores each query against that summary.
Nothing is adapted by gradient descent, so there is no inner loop: "adaptation" is the summary, one
step 0 with no history. A query's embedding ignores the task and the other queries (non-transductive),
which also lets the evaluation embed a pool of images once and score many episodes from it
(:meth:`MetricLearner.scores`).
"""

from __future__ import annotations

from typing import ClassVar

from ..lazy import torch
from ..networks.conv4 import Params
from .base import AdaptStep, HParams, MetaLearner, per_task_accuracy, per_task_cross_entropy


class MetricLearner(MetaLearner):
    family = "metric"
    default_hparams = HParams(inner_lr=0.0, train_steps=0, test_steps=0)
    has_inner_loop = False
    embeds_independently = True
    fitted_as: ClassVar[str]  # what computing the summary gives, for the page ("prototypes")

    # --- what a subclass says --------------------------------------------------------------------
    def summarise(self, meta: Params, support_features: torch.Tensor, y: torch.Tensor, n_way: int) -> Params:
        """The tensors the comparison needs of the support set ((T, S, D) features, (T, S) labels)."""
        raise NotImplementedError

    def compare(self, params: Params, features: torch.Tensor) -> torch.Tensor:
        """(T, B, N) class scores of (T, B, D) query features, given the meta-parameters and summary."""
        raise NotImplementedError

    def task_loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(T,) training loss of each task (cross-entropy unless the paper says otherwise)."""
        return per_task_cross_entropy(logits, y)

    # --- the protocol, built on them -------------------------------------------------------------
    def scores(self, meta, support_features, support_y, n_way, query_features):
        return self.compare({**meta, **self.summarise(meta, support_features, support_y, n_way)}, query_features)

    def fitted_params(self, meta: Params, x: torch.Tensor, y: torch.Tensor, n_way: int) -> tuple[Params, torch.Tensor]:
        """The meta-parameters (shared by all tasks) plus the support set's summary, and its features."""
        feats = self.embed(meta, x)
        return {**meta, **self.summarise(meta, feats, y, n_way)}, feats

    def adapt_steps(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False, precision="auto"):
        params, feats = self.fitted_params(meta, x, y, n_way)
        logits = self.compare(params, feats)  # the support's own scores
        yield AdaptStep(0, params, self.task_loss(logits, y).detach(), per_task_accuracy(logits.detach(), y))

    def logits(self, params, x):
        return self.compare(params, self.embed(params, x))

    def meta_gradient(self, meta, episode):
        params, _ = self.fitted_params(meta, episode.support_x, episode.support_y, episode.n_way)
        logits = self.logits(params, episode.query_x)
        loss = self.task_loss(logits, episode.query_y).mean()
        grads = torch.autograd.grad(loss, list(meta.values()))
        metrics = {"loss": loss.item(),
                   "accuracy": per_task_accuracy(logits.detach(), episode.query_y).mean().item()}
        return dict(zip(meta, grads)), metrics
