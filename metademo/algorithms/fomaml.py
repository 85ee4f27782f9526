"""First-order MAML (Finn et al. 2017, section 5.2; Nichol et al. 2018).

MAML with the inner-loop gradients treated as constants: the meta-gradient is the query-loss
gradient at the adapted parameters, carried back through the identity part of each update (and, for
a head built from the support set, its dependence on the network) but not through the gradients
themselves. It needs no
second derivatives and is cheaper; on Omniglot it loses little.
"""

from .base import HParams
from .inner_loop import MAMLFamily


class FOMAML(MAMLFamily):
    name = "fomaml"
    title = "first-order MAML"
    paper = "Finn et al. 2017 (first-order approximation, section 5.2)"
    summary = ("First-order MAML: like MAML, but cheaper to meta-train, because its outer loop ignores the "
               "second derivatives of the inner steps.")
    colour = "#00CC96"
    published = ("Finn 2017", (98.3, 99.2, 89.4, 97.9))
    default_hparams = HParams(inner_lr=0.4, train_steps=3, test_steps=3)
    first_order = True
    trains_live = True
