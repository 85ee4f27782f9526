"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017, arXiv:1703.05175).

Embed every image; a class's prototype is the mean embedding of its support examples; a query's
class scores are its negative squared Euclidean distances to the prototypes. Nothing is adapted by
gradient descent: "adaptation" is computing the prototypes, so there is no inner loop and no history.
"""

import torch

from .base import AdaptStep, HParams, MetaLearner, class_means, per_task_accuracy, per_task_cross_entropy


def negative_squared_distances(queries: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """(T, B, D) queries and (T, N, D) prototypes -> (T, B, N) scores ``-|q - mu|^2``."""
    q2 = (queries * queries).sum(-1, keepdim=True)
    p2 = (prototypes * prototypes).sum(-1).unsqueeze(-2)
    return -(q2 - 2 * queries @ prototypes.transpose(-1, -2) + p2).clamp_min(0)


class ProtoNet(MetaLearner):
    name = "protonet"
    title = "Prototypical Networks"
    paper = "Snell et al. 2017, Prototypical Networks for Few-shot Learning"
    summary = ("Prototypical Networks have no inner steps: each class is the average embedding (its "
               "*prototype*) of its examples, and a query goes to the nearest prototype.")
    colour = "#EF553B"
    family = "metric"
    published = ("Snell 2017", (98.8, 99.7, 96.0, 98.9))
    default_hparams = HParams(inner_lr=0.0, train_steps=0, test_steps=0)
    has_inner_loop = False
    embeds_independently = True

    def scores(self, support_features, support_y, n_way, query_features):
        return negative_squared_distances(query_features, class_means(support_features, support_y, n_way))

    def adapt_steps(self, meta, x, y, n_way, steps=None, lr=None, create_graph=False):
        params = self.body(meta)  # shared by all tasks: nothing is adapted
        feats = self.network.features(params, x)
        params["prototypes"] = class_means(feats, y, n_way)
        logits = negative_squared_distances(feats, params["prototypes"])  # the support's own scores, for free
        loss = per_task_cross_entropy(logits, y)
        yield AdaptStep(0, params, loss.detach(), per_task_accuracy(logits.detach(), y))

    def logits(self, params, x):
        return negative_squared_distances(self.network.features(params, x), params["prototypes"])

    def meta_gradient(self, meta, episode):
        final = self.adapt(meta, episode.support_x, episode.support_y, episode.n_way)
        logits = self.logits(final.params, episode.query_x)
        loss = per_task_cross_entropy(logits, episode.query_y).mean()
        grads = torch.autograd.grad(loss, list(meta.values()))
        metrics = {"loss": loss.item(),
                   "accuracy": per_task_accuracy(logits.detach(), episode.query_y).mean().item()}
        return dict(zip(meta, grads)), metrics
