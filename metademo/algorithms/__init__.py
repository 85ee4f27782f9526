"""The meta-learning algorithms, one file each, and their registry.

A new algorithm is one new file with a :class:`~metademo.algorithms.base.MetaLearner` subclass and
one line in ``REGISTRY``.
"""

from .base import AdaptStep, Episode, HParams, MetaLearner
from .fomaml import FOMAML
from .maml import MAML
from .matchingnet import MatchingNet
from .metasgd import MetaSGD
from .protomaml import ProtoMAML
from .protonet import ProtoNet
from .relationnet import RelationNet
from .reptile import Reptile

REGISTRY: dict[str, type[MetaLearner]] = {cls.name: cls for cls in (
    MAML, FOMAML, MetaSGD, Reptile, ProtoMAML,  # learn an initialisation that adapts by gradient steps
    ProtoNet, MatchingNet,  # compare embeddings with a fixed metric
    RelationNet,  # learn the comparison itself
)}


def get_algorithm(name: str) -> type[MetaLearner]:
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown algorithm {name!r}; choose one of: {', '.join(REGISTRY)}") from None


__all__ = ["REGISTRY", "get_algorithm", "AdaptStep", "Episode", "HParams", "MetaLearner",
           "MAML", "FOMAML", "MetaSGD", "Reptile", "ProtoMAML", "ProtoNet",
           "MatchingNet", "RelationNet"]
