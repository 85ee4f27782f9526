"""Where the project keeps what it derives: one rule for every cache (data, compiled kernels)."""

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
