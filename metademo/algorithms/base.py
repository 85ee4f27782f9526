"""What every meta-learner shares: the episode format, the adaptation protocol, how it describes itself.

A meta-learner is stateless: it holds hyperparameters only. Meta-parameters are a plain ``dict`` of
tensors that it creates (:meth:`MetaLearner.init_meta_params`) and reads but never writes. Adapting
to a task returns *new* tensors, so any number of threads may adapt the same loaded model at once.

All methods work on batches of tasks that share the number of classes: tensors carry a leading task
dimension ``T`` (``support_x`` is (T, S, C, H, W)), which lets the network run every task of a
meta-batch in one grouped call.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar, TypeVar

from ..data.episodes import Episode  # noqa: F401 - the algorithms' input, defined with the data
from ..lazy import F, torch
from ..networks.conv4 import Conv4, Params

T = TypeVar("T")
MAX_PER_STEP_LRS = 100  # the most inner steps with a learning rate of their own (HParams.per_step_lrs)
MAX_TRAIN_BATCH_SHOTS = 100  # the most images of each class in one inner step's minibatch (HParams.train_batch_shots)


@dataclass(frozen=True)
class HParams:
    hidden: int = 64
    inner_lr: float = 0.4  # step size of the inner loop (Meta-SGD: the initial per-parameter rate)
    train_steps: int = 1  # inner steps during meta-training
    test_steps: int = 3  # default inner steps when adapting to a new task
    # The task head's step size is ``inner_lr * n_way`` instead of ``inner_lr``. The mean support loss gives
    # each class's row of a head a gradient of about 1/N of the loss's, so with one step size for every
    # width a 20-way head learns four times slower than a 5-way one; scaled, every row moves as far
    # whatever the number of classes (the body's step is unchanged). False in checkpoints trained before.
    head_lr_per_class: bool = False
    # MAML++'s learned per-layer, per-step learning rates (Antoniou et al. 2019): every adapted tensor has a
    # meta-learned factor on its step size for each of the first ``per_step_lrs`` inner steps, and the later
    # steps take the last one. 0 (and in checkpoints trained before): one step size for every step.
    per_step_lrs: int = 0
    # Reptile's minibatches (Nichol et al. 2018): in meta-training each inner step descends the loss of this many
    # images of every class, the next ones for the next step, cycling through the task's images (labelled support
    # and queries); 0 (and in checkpoints trained before): every image at every step. Adapting to a new task
    # always uses the whole support set.
    train_batch_shots: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> HParams:
        return cls(**d)

    def replace(self, **kw) -> HParams:
        return replace(self, **kw)


@dataclass
class AdaptStep:
    """The state of an adaptation after ``step`` inner updates, with its support loss and accuracy."""

    step: int
    params: Params  # task-batched: every tensor has a leading task dimension
    loss: torch.Tensor | None  # (T,) support loss at ``params`` (None only from ``descend(final_loss=False)``)
    accuracy: torch.Tensor | None  # (T,)


def last(items: Iterable[T]) -> T:
    """The final item of an iterator (e.g. the end of an adaptation), consuming it."""
    return deque(items, maxlen=1).pop()


def per_task_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(T, B, N) logits and (T, B) labels -> (T,) mean cross-entropy of each task."""
    t, b, n = logits.shape
    return F.cross_entropy(logits.reshape(t * b, n), y.reshape(t * b), reduction="none").view(t, b).mean(1)


def per_task_accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(-1) == y).to(logits.dtype).mean(1)


def class_means(features: torch.Tensor, y: torch.Tensor, n_way: int) -> torch.Tensor:
    """(T, S, D) features, (T, S) labels -> (T, N, D) mean feature of each class."""
    onehot = F.one_hot(y, n_way).to(features.dtype)  # (T, S, N)
    counts = onehot.sum(1).clamp_min(1).unsqueeze(-1)  # (T, N, 1)
    return onehot.transpose(1, 2) @ features / counts


def task_batched(params: Params, t: int) -> Params:
    """Give every tensor a leading task dimension of size t (a view, no copy)."""
    return {k: v.unsqueeze(0).expand(t, *v.shape) for k, v in params.items()}


FAMILIES = {
    "initialisation": "learn an initialisation that a few gradient steps adapt to each task",
    "metric": "compare embeddings with a fixed metric",
    "relation": "learn the comparison itself",
}


class MetaLearner:
    """Base class. Subclasses describe themselves (the class variables below: everything the page, the
    benchmarks and the docs say of an algorithm comes from here) and implement the three verbs."""

    name: ClassVar[str]  # registry name, e.g. "maml"
    title: ClassVar[str]  # how people call it, e.g. "first-order MAML"
    paper: ClassVar[str]
    summary: ClassVar[str]  # one or two plain sentences for the page
    colour: ClassVar[str]  # its colour in every chart
    family: ClassVar[str]  # a key of FAMILIES
    published: ClassVar[tuple[str, tuple[float | None, ...]] | None] = None  # (source, 5w1s, 5w5s, 20w1s, 20w5s)
    default_hparams: ClassVar[HParams] = HParams()
    learns_per_step_lrs: ClassVar[bool] = False  # whether ``HParams.per_step_lrs`` may be above 0
    trains_on_minibatches: ClassVar[bool] = False  # whether ``HParams.train_batch_shots`` may be above 0
    has_inner_loop: ClassVar[bool] = True  # adapts by gradient steps on the support set
    embeds_independently: ClassVar[bool] = False  # each image's embedding ignores the task (see scores)
    pair_score_label: ClassVar[str | None] = None  # learners that score (query, class) pairs: what the score is
    centre_name: ClassVar[str] = "class centre"  # what the mean embedding of a class is called on the page
    trains_live: ClassVar[bool] = False  # learns something in a minute of meta-training on two CPU cores

    @classmethod
    def meta_gradient_kind(cls) -> str:
        """What its meta-gradient goes through, in words, as the benchmarks print it: "no inner loop" for a
        metric learner (its loss is a plain function of its embeddings)."""
        return "inner loop" if cls.has_inner_loop else "no inner loop"

    @classmethod
    def inner_loop_defaults(cls) -> tuple[int, float] | None:
        """The inner steps and learning rate of an adaptation that asks for neither (its class's defaults), or
        None for a learner without an inner loop: steps and a learning rate do not apply to it."""
        if not cls.has_inner_loop:
            return None
        return cls.default_hparams.test_steps, cls.default_hparams.inner_lr

    @classmethod
    def live_hparams(cls) -> HParams:
        """Hyperparameters of a live meta-training run (about a minute on two CPU cores)."""
        return cls.default_hparams

    def __init__(self, hparams: HParams | None = None, network=None):
        self.hparams = hparams or self.default_hparams
        self._check_option("per_step_lrs", MAX_PER_STEP_LRS, self.learns_per_step_lrs,
                           "does not learn per-step learning rates")
        self._check_option("train_batch_shots", MAX_TRAIN_BATCH_SHOTS, self.trains_on_minibatches,
                           "does not meta-train on minibatches")
        self.network = network if network is not None else self.default_network()

    def _check_option(self, name: str, maximum: int, supported: bool, refusal: str) -> None:
        """Raise ValueError unless ``hparams.<name>`` is a whole number from 0 to ``maximum``, and 0 where this
        learner lacks the feature it turns on (``supported``); hparams may come from a file off the network."""
        value = getattr(self.hparams, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise ValueError(f"{name} must be a whole number from 0 to {maximum}, got {value!r}")
        if value and not supported:
            raise ValueError(f"{self.title} {refusal} ({name} must be 0)")

    def default_network(self):
        """The network built when none is given: Conv-4 with ``hparams.hidden`` channels, for 28x28 images."""
        return Conv4(hidden=self.hparams.hidden)

    # --- how the outer loop moves the meta-parameters ---------------------------------------------
    def outer_optimizer(self, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
        """The optimiser that descends :meth:`meta_gradient`: Adam."""
        return torch.optim.Adam(params, lr=lr)

    def learned_rates(self, names) -> list[str]:
        """Which of the meta-parameters ``names`` are learned per-weight step sizes (Meta-SGD's): none here."""
        return []

    def outer_lr(self, base: float, iteration: int, iterations: int, schedule: str = "constant") -> float:
        """The outer learning rate at ``iteration`` of ``iterations``: ``base`` throughout (``"constant"``), or
        annealed to 0 along a half cosine (``"cosine"``, as MAML++ anneals Adam's)."""
        if schedule == "cosine":
            return base * 0.5 * (1 + math.cos(math.pi * iteration / iterations))
        if schedule != "constant":
            raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose constant or cosine")
        return base

    def init_meta_params(self, seed: int = 0, dtype: torch.dtype | None = None) -> Params:
        return self.network.init_params(seed, dtype)

    def body(self, meta: Params) -> Params:
        """The network's parameters among the meta-parameters."""
        return {k: v for k, v in meta.items() if k.startswith(("conv", "norm"))}

    # --- the three verbs -------------------------------------------------------------------------
    def adapt_steps(self, meta: Params, x: torch.Tensor, y: torch.Tensor, n_way: int,
                    steps: int | None = None, lr: float | None = None,
                    create_graph: bool = False, precision: str = "auto") -> Iterator[AdaptStep]:
        """Yield the task-adapted parameters after 0, 1, ..., ``steps`` inner updates.

        ``precision`` is the arithmetic of an inner loop's convolutions: ``"auto"`` (bfloat16 on a CPU with
        bfloat16 instructions, else float32: :func:`~metademo.networks.conv4.resolve_precision`),
        ``"float32"`` or ``"bfloat16"``. Learners without an inner loop compute in float32."""
        raise NotImplementedError

    def logits(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """(T, B, N) class scores of (T, B, C, H, W) images under adapted ``params``."""
        raise NotImplementedError

    def meta_gradient(self, meta: Params, episode: Episode) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
        """The direction the outer loop descends (a gradient for an optimiser) and training metrics."""
        raise NotImplementedError

    # --- conveniences built on the verbs ---------------------------------------------------------
    def adapt(self, meta: Params, x: torch.Tensor, y: torch.Tensor, n_way: int, **kw) -> AdaptStep:
        return last(self.adapt_steps(meta, x, y, n_way, **kw))

    def adapted_params(self, meta: Params, x: torch.Tensor, y: torch.Tensor, n_way: int, **kw) -> Params:
        """``adapt(...).params``; learners whose final support loss costs a forward pass skip it here."""
        return self.adapt(meta, x, y, n_way, **kw).params

    def embed(self, meta: Params, x: torch.Tensor) -> torch.Tensor:
        """Features of images under the meta-learned network (before any adaptation)."""
        return self.network.features(self.body(meta), x)

    @property
    def default_steps(self) -> int:
        """The inner steps of an adaptation that asks for none: :meth:`inner_steps` of None."""
        return self.inner_steps(None)

    def inner_steps(self, steps: int | None = None) -> int:
        """The inner steps an adaptation asked for ``steps`` takes (None: ``hparams.test_steps``); always 0
        for a learner without an inner loop, which has nothing to step."""
        if not self.has_inner_loop:
            return 0
        return self.hparams.test_steps if steps is None else steps

    def embed_pool(self, meta: Params, pool: torch.Tensor, device=None) -> torch.Tensor | None:
        """(classes, drawings, D) embeddings of a (classes, drawings, H, W) uint8 pool, each image embedded
        once, for a learner that ``embeds_independently``: :meth:`scores` then classifies any episode of the
        pool from them, as adapting to it would (that summary is the whole adaptation: step 0 only). None for
        a learner that adapts its embedding to each task."""
        if not self.embeds_independently:
            return None
        with torch.no_grad():
            flat = pool.flatten(0, 1).unsqueeze(1)
            feats = torch.cat([self.embed(meta, c.to(device).float().div(255)) for c in flat.split(1000)])
        return feats.view(*pool.shape[:2], -1)

    def scores(self, meta: Params, support_features: torch.Tensor, support_y: torch.Tensor, n_way: int,
               query_features: torch.Tensor) -> torch.Tensor:
        """(T, Q, N) class scores from embeddings (:meth:`embed`), for learners that set
        ``embeds_independently``: the evaluation embeds a pool of images once and scores many episodes."""
        raise NotImplementedError(f"{self.name} adapts its embedding to each task")

    def pair_scores(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """(T, B, N) scores of each (query, class) pair, for learners with a ``pair_score_label``."""
        raise NotImplementedError(f"{self.name} does not score (query, class) pairs")

    def adaptation_precision(self, device: torch.device) -> str:
        """The arithmetic :meth:`adapt_steps` uses by default on ``device``: float32, unless an inner loop
        resolves ``"auto"`` otherwise (:class:`~metademo.algorithms.inner_loop.GradientLearner`)."""
        return "float32"

    def query_accuracy(self, meta: Params, episode: Episode, steps: int | None = None,
                       lr: float | None = None) -> torch.Tensor:
        """(T,) query accuracy of each task after adaptation, without building a meta-graph, at the precision
        of inference (``adapt_steps``'s ``"auto"``)."""
        params = self.adapted_params(meta, episode.support_x, episode.support_y, episode.n_way, steps=steps, lr=lr,
                                     precision="auto")
        with torch.no_grad():
            return per_task_accuracy(self.logits(params, episode.query_x), episode.query_y)
