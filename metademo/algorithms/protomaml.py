"""Proto-MAML (Triantafillou et al., ICLR 2020, "Meta-Dataset", arXiv:1903.03096).

MAML whose task head starts from the prototypes instead of zeros: the row of class c is
``2 * mu_c`` and its bias ``-|mu_c|^2`` (``mu_c`` the mean support embedding of class c), which makes
step 0 the nearest-prototype classifier of Prototypical Networks (squared Euclidean distance, up to a
term equal for every class). The inner steps then fine-tune network and head together, and the outer
loop differentiates through them as MAML does, including through the head's dependence on the
network. Set beside MAML, it shows what a good starting head buys.
"""

from .base import HParams
from .maml import MAML


class ProtoMAML(MAML):
    name = "protomaml"
    title = "Proto-MAML"
    paper = "Triantafillou et al. 2020, Meta-Dataset (section 3.2, Proto-MAML)"
    summary = ("Proto-MAML is MAML with a head that starts from the class averages of the embeddings, so "
               "the inner steps fine-tune a classifier that is already good.")
    colour = "#19D3F3"
    head = "prototype"
    published = None  # Meta-Dataset reports no Omniglot figures in the standard N-way K-shot setting
    default_hparams = HParams(inner_lr=0.4, train_steps=3, test_steps=3)
