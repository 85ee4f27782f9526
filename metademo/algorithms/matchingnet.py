"""Matching Networks (Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, NeurIPS 2016, arXiv:1606.04080).

Embed every image with the same network; a query attends over the support examples with a softmax of
its cosine similarities to them, and its probability of a class is the attention that falls on that
class's examples: ``p(c | q) = sum_{i: y_i = c} softmax_i(s * cos(f(q), f(x_i)))``.

Two choices, said plainly: the full-context embeddings (the paper's LSTMs that re-read the whole
support set, used for its miniImageNet results) are not used, so the embedding of an image is the
network's alone; and the cosines are multiplied by a meta-learned scale ``s`` (an inverse
temperature, ``exp(log_scale)``, started at 10) because a softmax over raw cosines in [-1, 1] can never
be confident. The class scores returned are ``log p(c | q)``, so a softmax over them gives ``p`` exactly.
"""

from __future__ import annotations

import math

from ..lazy import F, torch
from .metric import MetricLearner

INITIAL_SCALE = 10.0


class MatchingNet(MetricLearner):
    name = "matchingnet"
    title = "Matching Networks"
    paper = "Vinyals et al. 2016, Matching Networks for One Shot Learning"
    summary = ("Matching Networks have no inner steps: a query looks at every example, weighs each by how "
               "alike their embeddings point (cosine similarity), and each class gets the weight of its "
               "examples.")
    colour = "#B6E880"
    published = ("Vinyals 2016", (98.1, 98.9, 93.8, 98.5))
    fitted_as = "embedded examples to attend over"

    def init_meta_params(self, seed=0, dtype=None):
        params = self.network.init_params(seed, dtype)
        dtype = params["conv1.weight"].dtype
        params["log_scale"] = torch.full((1,), math.log(INITIAL_SCALE), dtype=dtype)
        return params

    def summarise(self, meta, support_features, y, n_way):
        return {"support": F.normalize(support_features, dim=-1),
                "support_onehot": F.one_hot(y, n_way).to(support_features.dtype)}

    def compare(self, params, features):
        attention = params["log_scale"].exp() * F.normalize(features, dim=-1) @ params["support"].transpose(-1, -2)
        # log sum_{i in c} exp(a_i) for each class c: the attention's normaliser is the same for every
        # class, and a softmax over the classes removes it.
        others = params["support_onehot"].unsqueeze(-3) == 0  # (T, 1, S, N): example i is not of class c
        return torch.logsumexp(attention.unsqueeze(-1).masked_fill(others, float("-inf")), dim=-2)
