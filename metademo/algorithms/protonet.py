"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017, arXiv:1703.05175).

Embed every image; a class's prototype is the mean embedding of its support examples; a query's
class scores are its negative squared Euclidean distances to the prototypes. Nothing is adapted by
gradient descent: "adaptation" is computing the prototypes, so there is no inner loop and no history.
"""

from __future__ import annotations

from ..lazy import torch
from .base import class_means
from .metric import MetricLearner


def negative_squared_distances(queries: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """(T, B, D) queries and (T, N, D) prototypes -> (T, B, N) scores ``-|q - mu|^2``."""
    q2 = (queries * queries).sum(-1, keepdim=True)
    p2 = (prototypes * prototypes).sum(-1).unsqueeze(-2)
    return -(q2 - 2 * queries @ prototypes.transpose(-1, -2) + p2).clamp_min(0)


class ProtoNet(MetricLearner):
    name = "protonet"
    title = "Prototypical Networks"
    paper = "Snell et al. 2017, Prototypical Networks for Few-shot Learning"
    summary = ("Prototypical Networks have no inner steps: each class is the average embedding (its "
               "*prototype*) of its examples, and a query goes to the nearest prototype.")
    colour = "#EF553B"
    published = ("Snell 2017", (98.8, 99.7, 96.0, 98.9))
    trains_live = True
    fitted_as = "prototypes"
    centre_name = "prototype"

    def summarise(self, meta, support_features, y, n_way):
        return {"prototypes": class_means(support_features, y, n_way)}

    def compare(self, params, features):
        return negative_squared_distances(features, params["prototypes"])
