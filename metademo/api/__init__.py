"""The public Python API, in the style of scikit-learn: ``load_pretrained`` -> ``fit`` -> ``predict``.

Example::

    import metademo
    clf = metademo.load_pretrained("maml")
    fitted = clf.fit(["a1.png", "a2.png", "b1.png", "b2.png"], ["alpha", "alpha", "beta", "beta"])
    fitted.predict_proba(["query.png"])   # array([[0.93, 0.07]]), columns in fitted.classes_
    fitted.history                        # [{"step": 0, "loss": ..., "accuracy": ...}, ...]
    fitted.save("mine.safetensors"); metademo.load_fitted("mine.safetensors")   # the same probabilities
    task = metademo.load_task("task.zip"); clf.fit(task.images, task.labels)   # a task saved by the app

Inputs are validated here, once, with messages meant for people; everything below trusts them.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..algorithms import REGISTRY, MetaLearner, get_algorithm
from ..algorithms.base import last
from ..checkpoints import Checkpoint, load_checkpoint, write_safetensors
from ..data.preprocess import crop_to_ink, preprocess_batch, sketch_image, webcam_photo
from ..data.tasks import Task, load_task, save_task
from ..lazy import torch
from ..networks.conv4 import resolve_precision
from ..paths import assets_dir, default_device, weights_path  # noqa: F401 - part of the API
from .checks import (  # noqa: F401 - part of the API
    MAX_CLASSES,
    MAX_IMAGES,
    MAX_LR,
    MAX_STEPS,
    ImageError,
    check_image_count,
    check_lr,
    check_number,
    check_steps,
    check_whole,
    image_error,
)
from .describe import AlgorithmInfo, DeviceInfo, algorithm_info, device_info  # noqa: F401 - part of the API
from .saved import FITTED_FORMAT, MAX_FITTED_BYTES, load_fitted  # noqa: F401 - part of the API

# Re-exported for programs and the app, which call nothing below this package: task files
# (metademo.data.tasks) and the decoders of a drawing pad's arrays and a webcam's frames
# (metademo.data.preprocess). The rest is defined here and in this package's modules.
__all__ = ["Task", "load_task", "save_task", "crop_to_ink", "sketch_image", "webcam_photo"]

_CHUNK = 256  # queries per forward pass, to bound memory


def available_algorithms() -> list[str]:
    return list(REGISTRY)


def adaptation_precision(device: str | torch.device | None = None) -> str:
    """How the gradient-based models' inner loops compute on ``device`` (default :func:`default_device`):
    ``"bfloat16"`` on a CPU with bfloat16 instructions (AVX512-BF16 or AMX), where their later convolution
    blocks run about twice as fast, else ``"float32"``. ``METADEMO_PRECISION=float32`` (or ``bfloat16``)
    in the environment overrides it; meta-training always computes in float32."""
    return resolve_precision("auto", torch.device(device) if device is not None else default_device())


def load_pretrained(name: str, device: str | torch.device | None = None) -> MetaClassifier:
    """The shipped meta-learner ``name`` (see :func:`available_algorithms`), on ``device`` (auto if None)."""
    get_algorithm(name)  # ValueError for an unknown name
    path = weights_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no pretrained weights for {name!r}: {path} is missing. Train them with "
            f"`python -m metademo.train --algorithm {name} --out {path}` (see the README for the recipe).")
    return MetaClassifier.from_checkpoint(load_checkpoint(path), device)


def load_classifier(path: str | os.PathLike, device: str | torch.device | None = None) -> MetaClassifier:
    """A meta-learner from any checkpoint file written by ``python -m metademo.train``."""
    return MetaClassifier.from_checkpoint(load_checkpoint(path), device)


def prepare(images) -> Preprocessed:
    """Preprocess images once (any image :func:`metademo.data.preprocess.open_image` reads), for reuse:
    ``fit``, ``predict_proba``, ``predict`` and ``embed`` take the result as it is.

    The first unusable image raises :class:`ImageError` (a ``ValueError``): its ``index`` and ``reason``, and
    the message ``"image 2: the image looks blank: no strokes found"``.
    """
    return Preprocessed(_images_to_tensor(images))


def _as_list(x, what: str) -> list:
    if isinstance(x, (str, bytes, os.PathLike)) or not isinstance(x, (Sequence, np.ndarray, torch.Tensor)):
        raise ValueError(f"{what} must be a list, got {type(x).__name__}")
    return list(x)


class Preprocessed:
    """Images already preprocessed (a ``(n, 1, 28, 28)`` tensor from :func:`metademo.data.preprocess.preprocess`
    or ``preprocess_batch``): ``fit`` and ``predict_proba`` take them as they are instead of preprocessing
    them again. For callers that check each image themselves first (the app, to name a bad file)."""

    def __init__(self, tensor: torch.Tensor):
        if tensor.ndim != 4 or tuple(tensor.shape[1:]) != (1, 28, 28):
            raise ValueError(f"preprocessed images must be a (n, 1, 28, 28) tensor, got shape {tuple(tensor.shape)}")
        self.tensor = tensor

    def __len__(self) -> int:
        return len(self.tensor)

    def __getitem__(self, index) -> Preprocessed:
        index = [index] if isinstance(index, int) else index
        return Preprocessed(self.tensor[index])

    def __add__(self, other: Preprocessed) -> Preprocessed:
        return Preprocessed.join([self, other])

    @staticmethod
    def join(parts: Sequence[Preprocessed]) -> Preprocessed:
        """All the images of ``parts``, in order."""
        return Preprocessed(torch.cat([p.tensor for p in parts]))


def _images_to_tensor(images, what: str = "images") -> torch.Tensor:
    if isinstance(images, Preprocessed):
        check_image_count(len(images), what)
        return images.tensor
    images = _as_list(images, what)
    check_image_count(len(images), what)
    try:
        return preprocess_batch(images)
    except ValueError as e:
        raise image_error(e) from None


class MetaClassifier:
    """A meta-trained model, ready to adapt to new classes from a few examples. Never modified."""

    def __init__(self, learner: MetaLearner, meta_params: dict[str, torch.Tensor],
                 device: str | torch.device | None = None, metadata: dict | None = None):
        self.device = torch.device(device) if device is not None else default_device()
        self.learner = learner
        self.meta_params = {k: v.detach().to(self.device) for k, v in meta_params.items()}
        self.metadata = metadata or {}

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, device=None) -> MetaClassifier:
        return cls(ckpt.learner(), ckpt.params, device, {**ckpt.metadata, "algorithm": ckpt.algorithm})

    @property
    def algorithm(self) -> str:
        return self.learner.name

    @property
    def default_steps(self) -> int:
        return self.learner.hparams.test_steps

    @property
    def default_lr(self) -> float:
        return self.learner.hparams.inner_lr

    @property
    def info(self) -> AlgorithmInfo:
        """Its algorithm's :class:`AlgorithmInfo`, with this checkpoint's default steps and learning rate."""
        return algorithm_info(self.algorithm).with_defaults(self.default_steps, self.default_lr)

    def fingerprint(self) -> str:
        """SHA-256 of the meta-parameters: proof that adapting never changed them."""
        import hashlib

        h = hashlib.sha256()
        for k in sorted(self.meta_params):
            h.update(k.encode())
            h.update(self.meta_params[k].detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

    def settings(self, steps: int | None = None, lr: float | None = None) -> tuple[int, float]:
        """The inner steps and learning rate an adaptation asked for ``steps`` and ``lr`` takes: the defaults
        for None, each checked (``ValueError``); 0 steps for a learner without an inner loop."""
        return self._steps_lr(steps, lr)

    def record(self, images, labels, queries=None, answers=None, steps: int | None = None, lr: float | None = None,
               max_records: int = 40) -> AdaptationRecord:
        """Adapt as :meth:`fit` does and record what a page shows of it (:class:`AdaptationRecord`): at every
        inner step (every few beyond ``max_records``), the ``queries``' class probabilities and a 2-D map of the
        support's and queries' embeddings on axes shared by every step; the queries' accuracy per step where
        ``answers`` (one label, or None, per query) are known; and a :class:`Divergence` when the learning rate
        was too large (the predictions then use the last finite step)."""
        return self.recording(images, labels, queries, answers, steps, lr, max_records).result()

    def recording(self, images, labels, queries=None, answers=None, steps: int | None = None,
                  lr: float | None = None, max_records: int = 40) -> Recording:
        """:meth:`record` as it goes: iterate the :class:`Recording` for the classifier at each recorded step
        (live curves), then ``.result()`` for the record."""
        return Recording(self, images, labels, queries, answers, steps, lr, max_records)

    def fit(self, images, labels, steps: int | None = None, lr: float | None = None) -> FittedClassifier:
        """Adapt to the classes in ``labels`` from their example ``images``."""
        return last(self.fit_steps(images, labels, steps, lr))

    def fit_steps(self, images, labels, steps: int | None = None, lr: float | None = None
                  ) -> Iterator[FittedClassifier]:
        """Like :meth:`fit`, yielding the classifier after 0, 1, ..., ``steps`` inner steps (live curves)."""
        x, y, classes = self._support(images, labels)
        steps, lr = self._steps_lr(steps, lr)
        history: list[dict] = []
        last_good = None
        records_steps = algorithm_info(self.algorithm).adapts_by_steps
        for state in self.learner.adapt_steps(self.meta_params, x, y, len(classes), steps=steps, lr=lr):
            loss, acc = state.loss.item(), state.accuracy.item()
            diverged = not all(torch.isfinite(p).all() for p in state.params.values()) or not np.isfinite(loss)
            if records_steps:
                history.append({"step": state.step, "loss": loss, "accuracy": acc})
            if diverged:
                if last_good is not None:
                    warnings.warn(f"adaptation diverged at step {state.step} (lr={lr} is too large); "
                                  f"predictions use step {last_good.step}, the last finite one", RuntimeWarning,
                                  stacklevel=2)
                    yield FittedClassifier(self, classes, last_good.params, list(history), last_good.step, True)
                    return
                raise ValueError("the model gave non-finite outputs for these images; the checkpoint may be broken")
            last_good = state
            yield FittedClassifier(self, classes, state.params, list(history), state.step, False)

    def _support(self, images, labels):
        if not isinstance(images, Preprocessed):
            images = _as_list(images, "images")
        labels = _as_list(labels, "labels")
        if len(images) != len(labels):
            raise ValueError(f"got {len(images)} images but {len(labels)} labels; give one label per image")
        if not images:
            raise ValueError("no images given: give a few example images for each class")
        for lab in labels:
            if not isinstance(lab, Hashable) or (isinstance(lab, float) and not np.isfinite(lab)):
                raise ValueError(f"labels must be hashable values such as strings or ints, got {lab!r}")
        classes = _ordered_classes(labels)
        if len(classes) < 2:
            raise ValueError(f"need at least 2 classes to tell apart, got {len(classes)} ({classes!r})")
        if len(classes) > MAX_CLASSES:
            raise ValueError(f"at most {MAX_CLASSES} classes are supported, got {len(classes)}")
        x = _images_to_tensor(images).to(self.device).unsqueeze(0)  # validated once, here
        index = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([index[lab] for lab in labels], device=self.device).unsqueeze(0)
        return x, y, classes

    def _steps_lr(self, steps, lr):
        if not algorithm_info(self.algorithm).adapts_by_steps:
            return 0, self.default_lr if lr is None else lr  # nothing to step: any steps and lr are ignored
        steps = self.default_steps if steps is None else check_steps(steps)
        lr = self.default_lr if lr is None else check_lr(lr)
        return steps, lr


def _ordered_classes(labels: list) -> list:
    """Unique labels, sorted when they can be (as scikit-learn does), else in order of appearance."""
    unique = list(dict.fromkeys(labels))
    try:
        return sorted(unique)
    except TypeError:
        return unique


@dataclass
class FittedClassifier:
    """A meta-learner adapted to a set of classes. ``predict_proba`` columns follow ``classes_``."""

    model: MetaClassifier
    classes_: list
    params: dict[str, torch.Tensor]
    history: list[dict]
    step: int
    diverged: bool = False

    def predict_proba(self, images) -> np.ndarray:
        x = _images_to_tensor(images, "query images").to(self.model.device)
        return self.proba_of_tensor(x)

    def _per_chunk(self, fn, x: torch.Tensor) -> np.ndarray:
        """``fn(params, images)`` of (n, 1, 28, 28) images, ``_CHUNK`` at a time (one task), as float64."""
        with torch.no_grad():
            return np.concatenate([fn(self.params, chunk.unsqueeze(0))[0].double().cpu().numpy()
                                   for chunk in x.split(_CHUNK)])

    def proba_of_tensor(self, x: torch.Tensor) -> np.ndarray:
        """Probabilities of already preprocessed images (n, 1, 28, 28)."""
        learner = self.model.learner
        return self._per_chunk(lambda params, images: torch.softmax(learner.logits(params, images).double(), -1), x)

    def predict(self, images) -> list:
        return [self.classes_[i] for i in self.predict_proba(images).argmax(1)]

    def pair_scores(self, images) -> np.ndarray:
        """(n, N) score of each (image, class) pair, for learners that score pairs (Relation Networks:
        relation scores in (0, 1), columns in ``classes_``); ValueError for the others."""
        learner = self.model.learner
        if learner.pair_score_label is None:
            raise ValueError(f"{learner.title} does not score (image, class) pairs")
        return self._per_chunk(learner.pair_scores, _images_to_tensor(images, "query images").to(self.model.device))

    def embed(self, images) -> np.ndarray:
        """(n, d) features of the images under this classifier's network: the adapted network for the
        gradient-based learners (at this step), the meta-learned one for the learners that compare
        embeddings. The class scores are computed from these features (a linear head, distances to
        prototypes, cosine attention, or a relation module)."""
        x = _images_to_tensor(images, "images to embed").to(self.model.device)
        return self._per_chunk(self.model.learner.network.features, x)

    def save(self, path: str | os.PathLike) -> Path:
        """Write this adapted classifier to ``path`` (.safetensors; tensors plus JSON metadata, no pickle).

        The file holds the adapted tensors, the meta-parameters it started from (so the loaded one can
        adapt again) and the classes, history and step; :func:`load_fitted` reads it back and gives
        identical probabilities. Classes must be strings or numbers.
        """
        path = Path(path)
        if path.suffix != ".safetensors":
            raise ValueError(f"{path}: the file name must end in .safetensors")
        for c in self.classes_:
            if isinstance(c, bool) or not isinstance(c, (str, int, float)):
                raise ValueError(f"only classes that are strings or numbers can be saved, got {c!r}")
        tensors = {f"fitted.{k}": v.detach().cpu().clone() for k, v in self.params.items()}
        tensors.update({f"meta.{k}": v.detach().cpu().contiguous() for k, v in self.model.meta_params.items()})
        learner = self.model.learner
        meta = {"format": FITTED_FORMAT, "algorithm": learner.name, "hparams": learner.hparams.to_dict(),
                "classes": list(self.classes_), "history": self.history, "step": self.step,
                "diverged": self.diverged, "meta_fingerprint": self.model.fingerprint(),
                "model": {k: v for k, v in self.model.metadata.items() if k in ("training", "data", "note")}}
        return write_safetensors(path, tensors, {"metademo": json.dumps(meta, allow_nan=True)})



def warm_up() -> None:
    """Load now what the first images and models would otherwise wait for: torch."""
    torch.zeros(1)


def meta_train_live(algorithm: str = "protonet", seconds: float = 90, **kw) -> Iterator[dict]:
    """A short meta-training run from a random start, to watch (:mod:`metademo.training.live`): yields a report
    (``iteration``, ``seconds``, ``val_accuracy``, ``train_loss``, ``train_accuracy``, ``data``) before the
    first step and after every few; the last one also has ``model``, a :class:`MetaClassifier` that adapts
    like the pretrained ones. ``algorithm`` is one of :data:`LIVE_ALGORITHMS`."""
    from ..training.live import meta_train_live as train

    for report in train(algorithm, seconds, **kw):
        if "meta" in report:
            note = f"meta-trained live: {report['iteration']} iterations, {report['seconds']:.0f} s, {report['data']}"
            report["model"] = MetaClassifier(report.pop("learner"), report.pop("meta"), "cpu", {"note": note})
        yield report


# What builds on the classes above: recording an adaptation, comparing algorithms, the gallery, sine waves.
from .gallery import DRAWINGS, GALLERY, drawing_key, parse_key  # noqa: E402, F401 - part of the API
from .recording import (  # noqa: E402, F401 - part of the API
    AdaptationRecord,
    Comparison,
    Divergence,
    Recording,
    compare_algorithms,
    top_class,
)
from .sine import (  # noqa: E402, F401 - part of the API
    SineWave,
    adapt_sine_steps,
    adapt_sine_wave,
    evaluate_sine,
    load_sine_models,
    meta_train_sine,
    sine_model,
    sine_wave,
)


def __getattr__(name: str):
    # The live run's limits, read from the training layer only when asked (it imports the trainer), and the
    # sine models' constants (their module imports torch).
    if name in ("LIVE_ALGORITHMS", "MAX_SECONDS"):
        from ..training import live

        return getattr(live, name)
    if name in ("GRID", "SINE_INNER_LR"):
        from . import sine

        return getattr(sine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
