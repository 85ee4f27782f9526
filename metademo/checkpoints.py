"""Checkpoints of every model: safetensors tensors plus JSON metadata. Loading never unpickles anything.

The metadata (one JSON string under the key ``metademo``) records what is needed to rebuild and
trust a model: algorithm, network, hyperparameters, training data and split, iterations, seed and
evaluation results. The image classifiers and the sine-wave models are written alike; files of the
sine models' earlier format (``metademo-sine/1``) are read too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from safetensors import SafetensorError

from .algorithms import HParams, get_algorithm
from .lazy import LazyModule, torch
from .networks import build, describe

safetensors_torch = LazyModule("safetensors.torch")

FORMAT = "metademo-checkpoint/1"
SINE_FORMAT = "metademo-sine/1"  # the sine models' earlier format, read only


@dataclass
class Checkpoint:
    algorithm: str
    hparams: HParams
    params: dict[str, torch.Tensor]
    metadata: dict = field(default_factory=dict)  # everything else: training, evaluation
    network: object = None  # the learner's network (None: the algorithm's default for ``hparams``)

    def learner(self):
        return get_algorithm(self.algorithm)(self.hparams, network=self.network)


def save_checkpoint(path: str | os.PathLike, ckpt: Checkpoint) -> Path:
    meta = {**ckpt.metadata, "format": FORMAT, "algorithm": ckpt.algorithm, "hparams": ckpt.hparams.to_dict(),
            "network": describe(ckpt.learner().network)}
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in ckpt.params.items()}
    return write_safetensors(path, tensors, {"metademo": json.dumps(meta)})


def write_safetensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    """Write atomically: a crash mid-write never leaves a broken file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    safetensors_torch.save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("metademo", "{}"))


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> Checkpoint:
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: only .safetensors checkpoints are loaded (they cannot run code)")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        meta = read_metadata(path)
        params = safetensors_torch.load_file(str(path), device=str(device))
    except (SafetensorError, json.JSONDecodeError, OSError) as e:
        raise ValueError(f"{path} is not a readable metademo checkpoint: {e}") from e
    if meta.get("format") == SINE_FORMAT:
        meta = _from_sine_format(meta)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a metademo checkpoint (format {meta.get('format')!r})")
    try:
        algorithm = meta.pop("algorithm")
        hparams = HParams.from_dict(meta.pop("hparams"))
        cls = get_algorithm(algorithm)  # fails clearly on an unknown name
        network = build(meta["network"]) if _describes_network(meta.get("network")) else None
        learner = cls(hparams, network=network)
        expected = {k: tuple(v.shape) for k, v in learner.init_meta_params().items()}
    except (KeyError, TypeError) as e:
        raise ValueError(f"{path} is not a readable metademo checkpoint: missing or wrong {e}") from None
    except ValueError as e:
        raise ValueError(f"{path} is not a readable metademo checkpoint: {e}") from None
    if {k: tuple(v.shape) for k, v in params.items()} != expected:
        raise ValueError(f"{path}: its tensors do not match a {algorithm} model of its network")
    meta.pop("format")
    return Checkpoint(algorithm, hparams, params, meta, learner.network)


def _describes_network(description) -> bool:
    """Whether a checkpoint's ``network`` entry rebuilds its network. Image checkpoints written before
    networks were recorded in full name Conv-4 with its width only: theirs is the algorithm's default."""
    return isinstance(description, dict) and (description.get("name") != "conv4" or "blocks" in description)


def _from_sine_format(meta: dict) -> dict:
    """A sine model's metadata in the earlier format, as a checkpoint's."""
    from .algorithms.sine import SineMAML

    try:
        algorithm = {"maml": "sine_maml", "baseline": "sine_baseline"}[meta.pop("kind")]
        network = meta.pop("network")
        hparams = SineMAML.default_hparams.replace(hidden=network["sizes"][1], inner_lr=float(meta.pop("inner_lr")))
    except (KeyError, TypeError, IndexError, ValueError) as e:
        raise ValueError(f"an incomplete sine model: {e}") from None
    return {**meta, "format": FORMAT, "algorithm": algorithm, "hparams": hparams.to_dict(), "network": network}
