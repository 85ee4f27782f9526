"""What the algorithms and the device are, in plain values: everything a page or a report says of them.

:func:`algorithm_info` reads the registry once (the learner classes describe themselves, see
:class:`~metademo.algorithms.base.MetaLearner`), so no caller reads a learner's flags itself. Nothing here
imports torch, except :func:`device_info`, which describes it.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from ..algorithms import REGISTRY, get_algorithm
from ..algorithms.base import FAMILIES
from ..algorithms.inner_loop import HEADS

__all__ = ["AlgorithmInfo", "DeviceInfo", "algorithm_info", "device_info"]


@dataclass(frozen=True)
class AlgorithmInfo:
    """One algorithm as people see it. For one loaded model (its own default steps and learning rate), see
    :attr:`metademo.MetaClassifier.info`."""

    name: str  # registry name, e.g. "maml"
    title: str  # e.g. "first-order MAML"
    colour: str  # its colour in every chart
    family: str  # "initialisation", "metric" or "relation"
    family_description: str  # what the family does, e.g. "compare embeddings with a fixed metric"
    summary: str  # one or two plain sentences
    paper: str
    adapts_by_steps: bool  # takes inner gradient steps (False: steps and learning rate do not apply)
    default_steps: int  # inner steps when none are asked for (0 without an inner loop)
    default_lr: float | None  # inner learning rate when none is asked for (None without an inner loop)
    pair_score_label: str | None  # what it scores each (query, class) pair with, e.g. "relation score"
    centre_name: str  # what the mean embedding of a class is called, e.g. "prototype"
    head: str | None  # where the task's head starts: "zero", "prototype", or None (no head)
    head_description: str | None  # that start in a sentence
    fitted_as: str | None  # what adapting computes, for learners without steps ("prototypes")
    trains_live: bool  # learns something in a minute of meta-training on two CPU cores

    def with_defaults(self, steps: int, lr: float) -> AlgorithmInfo:
        """The same, with a checkpoint's own defaults (ignored without an inner loop)."""
        if not self.adapts_by_steps:
            return self
        return dataclasses.replace(self, default_steps=int(steps), default_lr=float(lr))


@functools.cache
def _info(cls) -> AlgorithmInfo:
    defaults, head = cls.inner_loop_defaults(), getattr(cls, "head", None)
    steps, lr = defaults or (0, None)
    return AlgorithmInfo(
        name=cls.name, title=cls.title, colour=cls.colour, family=cls.family,
        family_description=FAMILIES[cls.family], summary=cls.summary, paper=cls.paper,
        adapts_by_steps=defaults is not None, default_steps=steps, default_lr=lr,
        pair_score_label=cls.pair_score_label, centre_name=cls.centre_name, head=head,
        head_description=HEADS.get(head) if head else None, fitted_as=getattr(cls, "fitted_as", None),
        trains_live=cls.trains_live)


def algorithm_info(name: str | None = None):
    """Every algorithm's :class:`AlgorithmInfo`, by registry name in the order of ``available_algorithms()``;
    with ``name``, that one's (``ValueError`` for an unknown name). Read from the registry when called."""
    if name is None:
        return {n: _info(cls) for n, cls in REGISTRY.items()}
    if name not in REGISTRY:
        get_algorithm(name)  # the registry's message for an unknown name
        raise ValueError(f"{name!r} is not an image classifier; choose one of: {', '.join(REGISTRY)}")
    return _info(REGISTRY[name])


@dataclass(frozen=True)
class DeviceInfo:
    """Where the models compute."""

    type: str  # "cpu", "cuda" or "mps"
    name: str | None  # the GPU's name (CUDA), else None
    threads: int | None  # torch's threads (CPU), else None
    precision: str  # the inner loops' arithmetic: "bfloat16" or "float32" (see adaptation_precision)
    torch_version: str  # e.g. "2.7.1", without the build suffix


def device_info(device=None) -> DeviceInfo:
    """The device the models run on (default :func:`metademo.default_device`), described."""
    import torch

    from ..paths import default_device
    from . import adaptation_precision

    device = torch.device(device) if device is not None else default_device()
    return DeviceInfo(type=device.type,
                      name=torch.cuda.get_device_name(device) if device.type == "cuda" else None,
                      threads=torch.get_num_threads() if device.type == "cpu" else None,
                      precision=adaptation_precision(device), torch_version=torch.__version__.split("+")[0])
