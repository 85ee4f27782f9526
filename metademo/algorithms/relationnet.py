"""Relation Networks (Sung, Yang, Zhang, Xiang, Torr & Hospedales, CVPR 2018, arXiv:1711.06025).

The comparison itself is learned: an embedding module turns each image into feature maps, and a
relation module reads a class's feature maps stacked with a query's (channel-wise concatenation) and
outputs a *relation score* in (0, 1). Trained, as in the paper, by regressing the score of each
(query, class) pair to 1 for the query's class and 0 for the others (mean squared error).

Adapted to 28x28 Omniglot and to one checkpoint for any number of shots:

* embedding module: the first three Conv-4 blocks (64 maps of 3x3); relation module: one more such
  block on the 128 stacked channels (pooled to 1x1), then fully connected layers 64 -> 8 -> 1 with a
  ReLU between and a sigmoid at the end, as in the paper's relation module;
* a class's feature maps are the mean of its examples' maps (the paper sums them and trains one model
  per number of shots; the mean keeps their scale the same for any number of shots);
* normalisation is per example (as everywhere in this project) instead of batch normalisation, so a
  query's score never depends on the other queries.

The class scores returned are the relation scores before the sigmoid (their logits): the ranking is
the paper's, and a softmax over them gives probabilities; :meth:`RelationNet.pair_scores` gives the
scores themselves.
"""

from __future__ import annotations

import math

from ..lazy import F, torch
from ..networks.conv4 import Conv4
from .base import HParams, class_means
from .metric import MetricLearner

PAIRS_PER_CALL = 8192  # (query, class) pairs through the relation module at once, to bound memory


def _linear_init(out_features: int, in_features: int, g: torch.Generator, dtype, gain: float) -> torch.Tensor:
    w = torch.randn(out_features, in_features, generator=g, dtype=torch.float64) * math.sqrt(gain / in_features)
    return w.to(dtype)


class RelationNet(MetricLearner):
    name = "relationnet"
    title = "Relation Networks"
    paper = "Sung et al. 2018, Learning to Compare: Relation Network for Few-Shot Learning"
    summary = ("Relation Networks learn the comparison itself: a small network looks at a query beside each "
               "class's examples and gives the pair a relation score from 0 (unrelated) to 1 (same class).")
    colour = "#FF97FF"
    family = "relation"
    published = ("Sung 2018", (99.6, 99.8, 97.6, 99.1))
    pair_score_label = "relation score"
    fitted_as = "class feature maps to compare with"

    def __init__(self, hparams: HParams | None = None, network=None):
        super().__init__(hparams, network)
        hidden = self.hparams.hidden
        self.relation = Conv4(in_channels=2 * hidden, hidden=hidden, blocks=1)  # the relation module's first layers

    def default_network(self):
        return Conv4(hidden=self.hparams.hidden, blocks=3)  # the embedding module: (hidden, 3, 3) maps

    def init_meta_params(self, seed=0, dtype=None):
        params = self.network.init_params(seed, dtype)
        dtype = params["conv1.weight"].dtype
        params.update({f"relation.{k}": v for k, v in self.relation.init_params(seed + 1, dtype).items()})
        g = torch.Generator().manual_seed(seed + 2)
        hidden = self.hparams.hidden
        params["relation.fc1.weight"] = _linear_init(8, hidden, g, dtype, gain=2.0)
        params["relation.fc1.bias"] = torch.zeros(8, dtype=dtype)
        params["relation.fc2.weight"] = _linear_init(1, 8, g, dtype, gain=1.0)
        params["relation.fc2.bias"] = torch.zeros(1, dtype=dtype)
        return params

    def summarise(self, meta, support_features, y, n_way):
        return {"class_features": class_means(support_features, y, n_way)}

    def compare(self, params, features):
        t, b, d = features.shape
        classes = params["class_features"]  # (T, N, D)
        n = classes.shape[1]
        hidden = self.hparams.hidden
        side = int(round(math.sqrt(d // hidden)))
        per_call = max(1, PAIRS_PER_CALL // max(1, t * n))
        block = {k[len("relation."):]: v for k, v in params.items() if k.startswith(("relation.conv", "relation.norm"))}
        out = [self._relate(params, block, classes, chunk, hidden, side) for chunk in features.split(per_call, dim=1)]
        return torch.cat(out, dim=1)

    def _relate(self, params, block, classes, queries, hidden, side):
        t, b, _ = queries.shape
        n = classes.shape[1]
        c = classes.view(t, 1, n, hidden, side, side).expand(t, b, n, hidden, side, side)
        q = queries.view(t, b, 1, hidden, side, side).expand(t, b, n, hidden, side, side)
        pairs = torch.cat([c, q], dim=3).reshape(t * b * n, 2 * hidden, side, side)
        h = self.relation.features(block, pairs)  # (pairs, hidden)
        h = F.relu(F.linear(h, params["relation.fc1.weight"], params["relation.fc1.bias"]))
        return F.linear(h, params["relation.fc2.weight"], params["relation.fc2.bias"]).view(t, b, n)

    def task_loss(self, logits, y):
        target = F.one_hot(y, logits.shape[-1]).to(logits.dtype)
        return (torch.sigmoid(logits) - target).square().sum(-1).mean(-1)  # per query: summed over classes

    def pair_scores(self, params, x):
        """(T, B, N) relation scores in (0, 1) of (T, B, C, H, W) images against each class."""
        return torch.sigmoid(self.logits(params, x))
