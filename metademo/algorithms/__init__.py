"""The meta-learning algorithms, one file each, and their registry.

A new algorithm is one new file with a :class:`~metademo.algorithms.base.MetaLearner` subclass and
one line in ``REGISTRY``.
"""

from .base import AdaptStep, Episode, HParams, MetaLearner
from .fomaml import FOMAML
from .maml import MAML
from .matchingnet import MatchingNet
from .metasgd import MetaSGD
from .navigation import NavFOMAML, NavMAML, NavPretrained
from .protomaml import ProtoMAML
from .protonet import ProtoNet
from .relationnet import RelationNet
from .reptile import Reptile
from .sine import SineMAML, SinePretrained

REGISTRY: dict[str, type[MetaLearner]] = {cls.name: cls for cls in (
    MAML, FOMAML, MetaSGD, Reptile, ProtoMAML,  # learn an initialisation that adapts by gradient steps
    ProtoNet, MatchingNet,  # compare embeddings with a fixed metric
    RelationNet,  # learn the comparison itself
)}


# Learners of sine-wave regression (not image classifiers): the sine tab's MAML and its baseline.
REGRESSORS: dict[str, type[MetaLearner]] = {cls.name: cls for cls in (SineMAML, SinePretrained)}

# Policies of 2-D navigation (meta-reinforcement learning): the navigation tab's learners and its baseline.
NAVIGATORS: dict[str, type[MetaLearner]] = {cls.name: cls for cls in (NavMAML, NavFOMAML, NavPretrained)}


def get_algorithm(name: str) -> type[MetaLearner]:
    """The learner class registered as ``name`` (an image classifier of :data:`REGISTRY`, or a regressor)."""
    try:
        for registry in (REGISTRY, REGRESSORS, NAVIGATORS):
            if name in registry:
                return registry[name]
        raise KeyError(name)
    except (KeyError, TypeError):
        raise ValueError(f"unknown algorithm {name!r}; choose one of: {', '.join(REGISTRY)}") from None


__all__ = ["REGISTRY", "REGRESSORS", "NAVIGATORS", "get_algorithm", "AdaptStep", "Episode", "HParams", "MetaLearner",
           "SineMAML", "SinePretrained", "NavMAML", "NavFOMAML", "NavPretrained",
           "MAML", "FOMAML", "MetaSGD", "Reptile", "ProtoMAML", "ProtoNet",
           "MatchingNet", "RelationNet"]
