"""Where the project finds and keeps things: the shipped weights, every cache (data, compiled kernels), and
the device models run on."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """``$METADEMO_CACHE``, else ``.cache/`` in the project (git-ignored)."""
    return Path(os.environ.get("METADEMO_CACHE") or PROJECT_ROOT / ".cache")


def assets_dir() -> Path:
    """``$METADEMO_ASSETS`` if set, else the project's ``assets/`` (the shipped weights; read at each call)."""
    return Path(os.environ.get("METADEMO_ASSETS") or PROJECT_ROOT / "assets")


def weights_path(name: str) -> Path:
    """The shipped weights of the model ``name`` (``maml``, ``sine_maml``...)."""
    return assets_dir() / f"{name}.safetensors"


def default_device():
    """The best device here: CUDA, else Apple's MPS, else the CPU (a ``torch.device``)."""
    from .lazy import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
