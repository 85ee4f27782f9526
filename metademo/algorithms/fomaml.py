"""First-order MAML (Finn et al. 2017, section 5.2; Nichol et al. 2018).

MAML with the inner-loop gradients treated as constants: the meta-gradient is the query-loss
gradient at the adapted parameters, carried back through the identity part of each update (and the
prototype head's dependence on the network) but not through the gradients themselves. It needs no
second derivatives and is cheaper; on Omniglot it loses little.
"""

from .base import HParams
from .inner_loop import MAMLFamily


class FOMAML(MAMLFamily):
    name = "fomaml"
    title = "first-order MAML"
    paper = "Finn et al. 2017 (first-order approximation, section 5.2)"
    default_hparams = HParams(inner_lr=0.4, train_steps=1, test_steps=3)
    first_order = True
