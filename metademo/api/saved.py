"""Saved adapted classifiers: :func:`load_fitted` reads what :meth:`metademo.FittedClassifier.save` writes.

Nothing in the file is trusted (see :func:`load_fitted`); every failure is a ``ValueError`` naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..algorithms import REGISTRY, HParams, MetaLearner, get_algorithm
from ..data.bounded import read_at_most
from ..lazy import torch
from .checks import MAX_CLASSES, MAX_IMAGES, MAX_LR
from .describe import algorithm_info

if TYPE_CHECKING:
    from . import FittedClassifier

__all__ = ["FITTED_FORMAT", "MAX_FITTED_BYTES", "load_fitted"]

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
    from . import FittedClassifier, MetaClassifier

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
    return read_at_most(lambda: open(path, "rb"), MAX_FITTED_BYTES,
                        f"{path} is larger than {MAX_FITTED_BYTES // 2**20} MB: not a saved classifier",
                        lambda e: f"{path} cannot be read: {e.strerror or e}")


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
    from ..algorithms.inner_loop import MAX_STEPS

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
    try:
        learner = get_algorithm(algorithm)(HParams.from_dict(hp))
    except ValueError as e:  # e.g. per-step learning rates for a learner that has none
        raise bad(str(e)) from None

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
    adapts_by_steps = algorithm_info(learner.name).adapts_by_steps
    if adapts_by_steps and not step < len(history):
        raise bad(f"'step' is {step} but 'history' has {len(history)} steps")
    if not adapts_by_steps and (history or step):
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

