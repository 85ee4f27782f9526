"""MAML: Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017, arXiv:1703.03400).

Learns an initialisation from which a few gradient steps on a task's support set do well on its
queries. The meta-gradient differentiates *through* the inner steps (second order: it contains the
Hessian-vector products that first-order variants drop); here it is exact, because the inner loop
is a pure function built with ``create_graph=True``.

Example::

    learner = MAML()
    meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(seed=0).items()}
    grads, metrics = learner.meta_gradient(meta, episode)     # an Episode of T tasks
    adapted = learner.adapt(meta, support_x, support_y, n_way=5).params
    scores = learner.logits(adapted, query_x)
"""

from .base import HParams
from .inner_loop import MAMLFamily


class MAML(MAMLFamily):
    name = "maml"
    title = "MAML"
    paper = "Finn et al. 2017, Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks"
    summary = ("MAML learned a starting point from which a few gradient steps on your examples fit them "
               "well. Its outer loop differentiates *through* those steps.")
    colour = "#636EFA"
    published = ("Finn 2017", (98.7, 99.9, 95.8, 98.9))
    default_hparams = HParams(inner_lr=0.4, train_steps=3, test_steps=3)
    first_order = False
