"""Meta-SGD (Li, Zhou, Chen & Li 2017, arXiv:1707.09835).

MAML with a learned step size for every parameter: the inner update is ``p - alpha ⊙ grad`` and
``alpha`` (same shape as ``p``, sign free, so it learns direction too) is meta-learned with the
initialisation. The task's head has no fixed shape, so its rates are per embedding feature
(shared by all classes) and one rate for its biases, which keeps class order irrelevant.

At adaptation time, ``lr`` rescales the learned rates: ``alpha * lr / hparams.inner_lr``; the
default ``lr`` therefore uses them as learned.
"""

from __future__ import annotations

from ..lazy import torch
from .base import HParams
from .inner_loop import HEAD_KEYS, MAMLFamily

PREFIX = "lr."


class MetaSGD(MAMLFamily):
    name = "metasgd"
    title = "Meta-SGD"
    paper = "Li et al. 2017, Meta-SGD: Learning to Learn Quickly for Few-Shot Learning"
    summary = ("Meta-SGD learned its starting point *and* a step size for every weight (the learning rate "
               "here rescales them), so each step can go a long way.")
    colour = "#AB63FA"
    published = ("Li 2017", (99.53, 99.93, 95.93, 98.97))
    default_hparams = HParams(inner_lr=0.4, train_steps=3, test_steps=3)
    first_order = False

    def init_meta_params(self, seed=0, dtype=None):
        meta = super().init_meta_params(seed, dtype)
        dtype = meta["conv1.weight"].dtype
        a = self.hparams.inner_lr
        rates = {PREFIX + k: torch.full_like(v, a) for k, v in self.body(meta).items()}
        rates[PREFIX + "head.weight"] = torch.full((self.network.feature_dim,), a, dtype=dtype)
        rates[PREFIX + "head.bias"] = torch.full((1,), a, dtype=dtype)
        return {**meta, **rates}

    def learned_rates(self, names):
        return [k for k in names if k.startswith(PREFIX)]

    def step_sizes(self, meta, lr, n_way):
        scale = lr / self.hparams.inner_lr
        head = scale * self.head_scale(n_way)
        # Task-batched parameters have a leading task dimension; the rates broadcast over it.
        return {k[len(PREFIX):]: (head if k[len(PREFIX):] in HEAD_KEYS else scale) * v
                for k, v in meta.items() if k.startswith(PREFIX)}
