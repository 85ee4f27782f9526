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

from .algorithms import REGISTRY, HParams, MetaLearner, get_algorithm
from .algorithms.base import last
from .algorithms.inner_loop import check_steps_lr
from .checkpoints import Checkpoint, load_checkpoint, write_safetensors
from .data.preprocess import crop_to_ink, preprocess_batch, sketch_image, webcam_photo
from .data.tasks import Task, load_task, save_task
from .lazy import torch
from .networks.conv4 import resolve_precision
from .paths import assets_dir, default_device, weights_path  # noqa: F401 - part of the API

# Re-exported for programs and the app, which call nothing below this module: task files
# (metademo.data.tasks) and the decoders of a drawing pad's arrays and a webcam's frames
# (metademo.data.preprocess). The rest is defined here.
__all__ = ["Task", "load_task", "save_task", "crop_to_ink", "sketch_image", "webcam_photo"]

MAX_CLASSES = 20
MAX_IMAGES = 1000  # per call: enough for 20 classes x 50 shots, small enough to answer quickly
MAX_LR = 10.0
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

    Raises ``ValueError`` naming the first unusable image (``"image 2: the image looks blank ..."``).
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
        if not len(images):
            raise ValueError(f"{what}: no images given")
        if len(images) > MAX_IMAGES:
            raise ValueError(f"{what}: {len(images)} images is too many; at most {MAX_IMAGES} per call")
        return images.tensor
    images = _as_list(images, what)
    if not images:
        raise ValueError(f"{what}: no images given")
    if len(images) > MAX_IMAGES:
        raise ValueError(f"{what}: {len(images)} images is too many; at most {MAX_IMAGES} per call")
    return preprocess_batch(images)


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

    def fingerprint(self) -> str:
        """SHA-256 of the meta-parameters: proof that adapting never changed them."""
        import hashlib

        h = hashlib.sha256()
        for k in sorted(self.meta_params):
            h.update(k.encode())
            h.update(self.meta_params[k].detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

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
        for state in self.learner.adapt_steps(self.meta_params, x, y, len(classes), steps=steps, lr=lr):
            loss, acc = state.loss.item(), state.accuracy.item()
            diverged = not all(torch.isfinite(p).all() for p in state.params.values()) or not np.isfinite(loss)
            if self.learner.has_inner_loop:
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
        steps = self.default_steps if steps is None else steps
        lr = self.default_lr if lr is None else lr
        if isinstance(steps, float) and steps.is_integer():
            steps = int(steps)
        if not self.learner.has_inner_loop:
            return 0, lr  # ProtoNet has nothing to step; any steps/lr are ignored
        check_steps_lr(steps, lr)
        if lr > MAX_LR:
            raise ValueError(f"lr (the inner learning rate) must be at most {MAX_LR}, got {lr}")
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


FITTED_FORMAT = "metademo-fitted/1"
MAX_FITTED_BYTES = 64 * 2**20  # a saved classifier of the shipped size takes 1 to 2 MB
MAX_HIDDEN = 256  # channels of a saved classifier's network (the shipped ones have 64)
MAX_LABEL = 200  # characters of a class label in a saved classifier


def load_fitted(path: str | os.PathLike, device: str | torch.device | None = None) -> FittedClassifier:
    """An adapted classifier written by :meth:`FittedClassifier.save` (safetensors: never unpickled).

    Nothing in the file is trusted: it is read whole (at most :data:`MAX_FITTED_BYTES`), its metadata is
    checked (types, ranges, a known algorithm and format), and its tensors must be exactly those the
    algorithm's network has (names, shapes, float32, finite numbers) and the meta-parameters must match their
    recorded fingerprint. Anything else raises ``ValueError``; a missing file ``FileNotFoundError``.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: only .safetensors files are loaded (they cannot run code)")
    data = _read_fitted(path)
    meta = _fitted_metadata(data, path)
    if meta.get("format") != FITTED_FORMAT:
        shown = repr(meta.get("format"))[:60] if isinstance(meta.get("format"), (str, type(None))) else "?"
        raise ValueError(f"{path} is not a saved metademo classifier (format {shown}); "
                         "checkpoints of meta-learners load with metademo.load_classifier")
    learner, classes, history, step, diverged, extra = _check_fitted_metadata(meta, path)
    meta_params, params = _check_fitted_tensors(_fitted_tensors(data, path), learner, len(classes), path)
    model = MetaClassifier(learner, meta_params, device, {"algorithm": learner.name, **extra})
    if isinstance(meta.get("meta_fingerprint"), str) and model.fingerprint() != meta["meta_fingerprint"]:
        raise ValueError(f"{path} is damaged or was altered: its meta-parameters do not match the fingerprint "
                         "saved with them")
    fitted = FittedClassifier(model, classes, {k: v.to(model.device) for k, v in params.items()}, history, step,
                              diverged)
    try:
        proba = fitted.proba_of_tensor(_probe_images().to(model.device))
    except (RuntimeError, ValueError, KeyError, IndexError) as e:
        raise ValueError(f"{path} is not a usable saved classifier: it fails on an image ({e})") from None
    if proba.shape != (len(_probe_images()), len(classes)) or not np.isfinite(proba).all():
        raise ValueError(f"{path} is not a usable saved classifier: its numbers overflow (the probabilities "
                         "of test images are not finite)")
    return fitted


def _probe_images() -> torch.Tensor:
    """Preprocessed test images a saved classifier must give finite probabilities for: blank, a cross, noise
    (weights that are finite but huge make the network's sums overflow)."""
    cross = torch.zeros(1, 1, 28, 28)
    cross[..., 12:16, 4:24] = cross[..., 4:24, 12:16] = 1
    noise = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    return torch.cat([torch.zeros(1, 1, 28, 28), cross, noise])


def _read_fitted(path: Path) -> bytes:
    """The whole file, read once (a file mapped into memory could change while it is read), with a bound."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except OSError as e:
        raise ValueError(f"{path} cannot be read: {e.strerror or e}") from None
    import stat

    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path} is not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FITTED_BYTES + 1)
    except OSError as e:
        raise ValueError(f"{path} cannot be read: {e.strerror or e}") from None
    if len(data) > MAX_FITTED_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FITTED_BYTES // 2**20} MB: not a saved classifier")
    return data


def _json_number(text: str) -> int:
    if len(text) > 20:  # int() is quadratic in the digits; no number of a saved classifier is that long
        raise ValueError("a number is too long")
    return int(text)


def _fitted_metadata(data: bytes, path: Path) -> dict:
    """The ``metademo`` metadata of a saved classifier, read by the safetensors library."""
    def unreadable(why: str) -> ValueError:
        return ValueError(f"{path} is not a readable saved classifier: {why}")

    text = _read_safetensors(data, path, metadata_only=True).get("metademo")
    if not isinstance(text, str):
        raise unreadable("it has no metademo metadata")
    try:
        meta = json.loads(text, parse_int=_json_number)
    except RecursionError:
        raise unreadable("its metadata is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError too
        raise unreadable(f"{str(e):.200}") from None
    if not isinstance(meta, dict):
        raise unreadable(f"its metadata is a {type(meta).__name__}, not an object")
    return meta


def _fitted_tensors(data: bytes, path: Path) -> dict[str, torch.Tensor]:
    return _read_safetensors(data, path)


def _read_safetensors(data: bytes, path: Path, metadata_only: bool = False) -> dict:
    """The file's metadata (``metadata_only``) or tensors, parsed by the safetensors library from the bytes
    already read (bounded, once): they are handed to it as an in-memory file that nothing else can change."""
    from safetensors import SafetensorError, safe_open

    def parse(name: str) -> dict:
        with safe_open(name, framework="pt") as f:
            return dict(f.metadata() or {}) if metadata_only else {k: f.get_tensor(k) for k in f.keys()}

    try:
        if hasattr(os, "memfd_create"):  # Linux: an anonymous file in memory
            fd = os.memfd_create("metademo-fitted", 0)
            try:
                os.write(fd, data)
                return parse(f"/proc/self/fd/{fd}")
            finally:
                os.close(fd)
        import tempfile

        with tempfile.TemporaryDirectory() as folder:  # elsewhere: a private folder of our own
            copy = Path(folder) / "fitted.safetensors"
            copy.write_bytes(data)
            return parse(str(copy))
    except (SafetensorError, ValueError, TypeError, RuntimeError, OverflowError, KeyError, OSError) as e:
        raise ValueError(f"{path} is not a readable saved classifier: {str(e):.200}") from None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_fitted_metadata(meta: dict, path: Path):
    """(learner, classes, history, step, diverged, model metadata) from checked metadata."""
    from .algorithms.inner_loop import MAX_STEPS

    def bad(what: str) -> ValueError:
        return ValueError(f"{path} is not a valid saved classifier: {what}")

    algorithm = meta.get("algorithm")
    if not isinstance(algorithm, str) or algorithm not in REGISTRY:
        raise bad(f"unknown algorithm {algorithm!r:.60}; known: {', '.join(REGISTRY)}")
    hp = meta.get("hparams")
    fields = set(HParams.__dataclass_fields__)
    if not isinstance(hp, dict) or not set(hp) <= fields:
        raise bad(f"'hparams' must be an object with some of {', '.join(sorted(fields))}")
    hidden, lr = hp.get("hidden", HParams.hidden), hp.get("inner_lr", HParams.inner_lr)
    if not isinstance(hidden, int) or isinstance(hidden, bool) or not 1 <= hidden <= MAX_HIDDEN:
        raise bad(f"'hidden' must be a whole number from 1 to {MAX_HIDDEN}")
    if not _is_number(lr) or not 0 <= lr <= MAX_LR:  # NaN and infinities fail too
        raise bad(f"'inner_lr' must be a number from 0 to {MAX_LR}")
    for key in ("train_steps", "test_steps"):
        v = hp.get(key, 0)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_STEPS:
            raise bad(f"'{key}' must be a whole number from 0 to {MAX_STEPS}")
    if not isinstance(hp.get("extra", {}), dict):
        raise bad("'extra' must be an object")
    learner = get_algorithm(algorithm)(HParams.from_dict(hp))

    classes = meta.get("classes")
    if not isinstance(classes, list) or not 2 <= len(classes) <= MAX_CLASSES:
        raise bad(f"'classes' must be a list of 2 to {MAX_CLASSES} labels")
    for c in classes:
        if not ((isinstance(c, str) and len(c) <= MAX_LABEL) or (_is_number(c) and np.isfinite(c))):
            raise bad(f"class labels must be texts of at most {MAX_LABEL} characters or finite numbers, "
                      f"got {c!r:.60}")
    if len(set(classes)) != len(classes):
        raise bad("two classes have the same label")

    history, step, diverged = meta.get("history", []), meta.get("step"), meta.get("diverged", False)
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= MAX_STEPS:
        raise bad(f"'step' must be a whole number from 0 to {MAX_STEPS}, got {step!r:.40}")
    if not isinstance(diverged, bool):
        raise bad("'diverged' must be true or false")
    if not isinstance(history, list) or len(history) > MAX_STEPS + 1:
        raise bad(f"'history' must be a list of at most {MAX_STEPS + 1} steps")
    for i, h in enumerate(history):
        if (not isinstance(h, dict) or set(h) != {"step", "loss", "accuracy"} or h["step"] != i
                or isinstance(h["step"], bool) or not _is_number(h["loss"]) or not _is_number(h["accuracy"])):
            raise bad(f"step {i} of 'history' must be {{\"step\": {i}, \"loss\": <number>, \"accuracy\": "
                      "<number>}")
    if learner.has_inner_loop and not step < len(history):
        raise bad(f"'step' is {step} but 'history' has {len(history)} steps")
    if not learner.has_inner_loop and (history or step):
        raise bad(f"{learner.title} has no inner steps, but 'history' or 'step' has some")
    fingerprint = meta.get("meta_fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise bad("'meta_fingerprint' must be text")
    model = meta.get("model", {})
    if not isinstance(model, dict) or not isinstance(model.get("note", ""), str):
        raise bad("'model' must be an object (its 'note' a text)")
    extra = {k: v for k, v in model.items() if k in ("training", "data", "note")}
    return learner, list(classes), history, step, diverged, extra


def _check_fitted_tensors(tensors: dict, learner: MetaLearner, n_way: int, path: Path):
    """The meta-parameters and the adapted parameters, each exactly what ``learner`` has (names, shapes,
    float32, finite)."""
    def bad(what: str) -> ValueError:
        return ValueError(f"{path} is not a valid saved classifier: {what}")

    for k, v in tensors.items():
        if v.dtype != torch.float32:
            raise bad(f"tensor {k!r:.80} is {str(v.dtype).removeprefix('torch.')}, not float32")
        if not torch.isfinite(v).all():
            raise bad(f"tensor {k!r:.80} holds NaN or infinite values")
    meta_params = {k[5:]: v for k, v in tensors.items() if k.startswith("meta.")}
    params = {k[7:]: v for k, v in tensors.items() if k.startswith("fitted.")}
    unknown = sorted(k for k in tensors if not k.startswith(("meta.", "fitted.")))
    if unknown:
        raise bad(f"unexpected tensor {unknown[0]!r:.80}")
    _same_shapes(meta_params, {k: tuple(v.shape) for k, v in learner.init_meta_params().items()}, "meta.", bad)
    # What adapting to n_way classes gives, from blank images: the adapted tensors' names and shapes (some
    # learners keep one row per support image, so their count is read from the file and checked the same way).
    expected = _adapted_shapes(learner, meta_params, n_way, n_way)
    if expected != {k: tuple(v.shape) for k, v in params.items()}:
        supports = {v.shape[d] for k, v in params.items() if k in expected and v.ndim == len(expected[k])
                    for d in range(v.ndim) if expected[k][d] == n_way != v.shape[d]}
        if len(supports) == 1 and n_way <= (n := supports.pop()) <= MAX_IMAGES:
            expected = _adapted_shapes(learner, meta_params, n_way, n)
    _same_shapes(params, expected, "fitted.", bad)
    return meta_params, params


def _adapted_shapes(learner: MetaLearner, meta_params: dict, n_way: int, n_support: int) -> dict:
    x = torch.zeros(1, n_support, 1, 28, 28)
    y = (torch.arange(n_support) % n_way).unsqueeze(0)
    state = next(iter(learner.adapt_steps(meta_params, x, y, n_way, steps=0, lr=learner.hparams.inner_lr or 0.1,
                                          precision="float32")))
    return {k: tuple(v.shape) for k, v in state.params.items()}


def _same_shapes(found: dict, expected: dict, prefix: str, bad) -> None:
    missing = sorted(set(expected) - set(found))
    if missing:
        raise bad(f"tensor {prefix + missing[0]!r:.80} is missing")
    extra = sorted(set(found) - set(expected))
    if extra:
        raise bad(f"unexpected tensor {prefix + extra[0]!r:.80}")
    for k, shape in sorted(expected.items()):
        if tuple(found[k].shape) != shape:
            raise bad(f"tensor {prefix + k!r:.80} has shape {tuple(found[k].shape)}, expected {shape}")


def meta_train_live(algorithm: str = "protonet", seconds: float = 90, **kw) -> Iterator[dict]:
    """A short meta-training run from a random start, to watch (:mod:`metademo.training.live`): yields a report
    (``iteration``, ``seconds``, ``val_accuracy``, ``train_loss``, ``train_accuracy``, ``data``) before the
    first step and after every few; the last one also has ``model``, a :class:`MetaClassifier` that adapts
    like the pretrained ones. ``algorithm`` is one of :data:`LIVE_ALGORITHMS`."""
    from .training.live import meta_train_live as train

    for report in train(algorithm, seconds, **kw):
        if "meta" in report:
            note = f"meta-trained live: {report['iteration']} iterations, {report['seconds']:.0f} s, {report['data']}"
            report["model"] = MetaClassifier(report.pop("learner"), report.pop("meta"), "cpu", {"note": note})
        yield report


def __getattr__(name: str):
    # The live run's limits, read from the training layer only when asked (it imports the trainer).
    if name in ("LIVE_ALGORITHMS", "MAX_SECONDS"):
        from .training import live

        return getattr(live, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
