"""Checkpoints: safetensors tensors plus JSON metadata. Loading never unpickles anything.

The metadata (one JSON string under the key ``metademo``) records what is needed to rebuild and
trust a model: algorithm, network, hyperparameters, training data and split, iterations, seed and
evaluation results.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from safetensors import SafetensorError

from .algorithms import HParams, get_algorithm
from .lazy import LazyModule, torch

safetensors_torch = LazyModule("safetensors.torch")

FORMAT = "metademo-checkpoint/1"


@dataclass
class Checkpoint:
    algorithm: str
    hparams: HParams
    params: dict[str, torch.Tensor]
    metadata: dict = field(default_factory=dict)  # everything else: network, training, evaluation

    def learner(self):
        return get_algorithm(self.algorithm)(self.hparams)


def save_checkpoint(path: str | os.PathLike, ckpt: Checkpoint) -> None:
    meta = {**ckpt.metadata, "format": FORMAT, "algorithm": ckpt.algorithm, "hparams": ckpt.hparams.to_dict(),
            "network": {"name": "conv4", "hidden": ckpt.hparams.hidden, "norm": "layer", "input": [1, 28, 28]}}
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in ckpt.params.items()}
    write_safetensors(path, tensors, {"metademo": json.dumps(meta)})


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
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a metademo checkpoint (format {meta.get('format')!r})")
    algorithm = meta.pop("algorithm")
    hparams = HParams.from_dict(meta.pop("hparams"))
    get_algorithm(algorithm)  # fails clearly on an unknown name
    return Checkpoint(algorithm, hparams, params, meta)
