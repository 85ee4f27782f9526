"""Omniglot (Lake et al. 2015): loading, caching, the train/validation/test split, episodes.

The images are read through ``torchvision.datasets.Omniglot`` (``root``/``background``/``download``,
the torchvision contract), passed once through :func:`metademo.data.preprocess.preprocess` (the same
function that prepares a user's drawing, so training and use see identical conventions), and cached
as a 28x28 uint8 array in a git-ignored folder. A warm load reads one ``.npz``.

Split (by alphabet, so no character is ever seen in two parts):

* ``train``: images_background minus :data:`VALIDATION_ALPHABETS`, each character also rotated by
  90, 180 and 270 degrees as three extra classes (Santoro et al. 2016);
* ``val``: the fixed held-out :data:`VALIDATION_ALPHABETS` of images_background;
* ``test``: images_evaluation (20 alphabets, 659 characters), never used to choose anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..lazy import torch
from ..paths import PROJECT_ROOT, cache_dir
from .episodes import Episode

VALIDATION_ALPHABETS = ("Bengali", "Futurama", "Hebrew", "Tagalog")
IMAGE_SIZE = 28
CACHE_VERSION = 1
SPLITS = ("train", "val", "test")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """``root``, else ``$METADEMO_DATA``, else ``../shared/data`` beside the project."""
    return Path(root or os.environ.get("METADEMO_DATA") or PROJECT_ROOT.parent / "shared" / "data")


def omniglot_available(root: str | os.PathLike | None = None, background: bool = False) -> bool:
    folder = "images_background" if background else "images_evaluation"
    return (data_root(root) / "omniglot-py" / folder).is_dir()


@dataclass
class OmniglotSet:
    """One half of Omniglot as arrays: 20 drawings of each character."""

    images: np.ndarray  # (characters, 20, 28, 28) uint8, ink = 255
    characters: list[str]  # "Alphabet/characterNN", one per row of ``images``

    @property
    def alphabets(self) -> list[str]:
        return [c.split("/")[0] for c in self.characters]

    def subset(self, keep: np.ndarray) -> OmniglotSet:
        return OmniglotSet(self.images[keep], [c for c, k in zip(self.characters, keep) if k])


def load_omniglot(root: str | os.PathLike | None = None, background: bool = True, download: bool = False,
                  progress: bool = True) -> OmniglotSet:
    """Load images_background (``background=True``) or images_evaluation, from cache when possible."""
    name = "background" if background else "evaluation"
    cache = cache_dir() / f"omniglot_{name}_{IMAGE_SIZE}px_v{CACHE_VERSION}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as f:
            return OmniglotSet(f["images"], [str(c) for c in f["characters"]])
    data = _read_omniglot(data_root(root), background, download, progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, images=data.images, characters=np.array(data.characters))
    tmp.replace(cache)  # atomic: an interrupted build never leaves a half-written cache
    return data


def _torchvision_omniglot():
    from torchvision.datasets import Omniglot

    class ExtractedOmniglot(Omniglot):
        """torchvision's Omniglot, also accepting an extracted copy whose .zip files were deleted."""

        def _check_integrity(self) -> bool:
            return Path(self.root, self._get_target_folder()).is_dir() or super()._check_integrity()

    return ExtractedOmniglot


def _read_omniglot(root: Path, background: bool, download: bool, progress: bool) -> OmniglotSet:
    from tqdm.auto import tqdm

    from .preprocess import preprocess

    try:
        ds = _torchvision_omniglot()(str(root), background=background, download=download)
    except RuntimeError as e:  # torchvision's "Dataset not found or corrupted"
        raise FileNotFoundError(
            f"Omniglot not found under {root}/omniglot-py. Point --data-root or METADEMO_DATA at the folder "
            f"that holds omniglot-py/, or pass download=True (--download) on a machine that is online.") from e
    folder = Path(ds.target_folder)
    by_character: dict[int, list[np.ndarray]] = {}
    items = ds._flat_character_images  # [(file name, character index)], in torchvision's fixed order
    for file, label in tqdm(items, desc=f"Preparing Omniglot {'background' if background else 'evaluation'} "
                            "(once)", disable=not progress, unit="img"):
        glyph = preprocess(folder / ds._characters[label] / file, size=IMAGE_SIZE)
        by_character.setdefault(label, []).append((glyph[0].numpy() * 255).round().astype(np.uint8))
    images = np.stack([np.stack(by_character[i][:20]) for i in range(len(ds._characters))])
    return OmniglotSet(images, list(ds._characters))


def load_split(split: str, root: str | os.PathLike | None = None, download: bool = False,
               rotations: bool | None = None, progress: bool = True) -> torch.Tensor:
    """Class pool of a split as a uint8 tensor (classes, 20, 28, 28); see the module docstring."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split == "test":
        pool = load_omniglot(root, background=False, download=download, progress=progress).images
    else:
        data = load_omniglot(root, background=True, download=download, progress=progress)
        held_out = np.array([a in VALIDATION_ALPHABETS for a in data.alphabets])
        pool = data.images[held_out if split == "val" else ~held_out]
    pool = torch.from_numpy(np.ascontiguousarray(pool))
    if rotations if rotations is not None else split == "train":
        pool = torch.cat([torch.rot90(pool, k, dims=(2, 3)) for k in range(4)])
    return pool


class EpisodeSampler:
    """Seeded N-way K-shot Q-query episodes from a class pool (classes, drawings, H, W) of uint8.

    Each task draws ``n_way`` distinct classes, gives them labels 0..N-1 in random order, and
    ``k_shot + q_queries`` distinct drawings of each. Support and query sets are class-major.
    """

    def __init__(self, pool: torch.Tensor, n_way: int, k_shot: int, q_queries: int, seed: int = 0):
        classes, drawings = pool.shape[:2]
        if not 2 <= n_way <= classes:
            raise ValueError(f"n_way must be from 2 to {classes}, got {n_way}")
        if k_shot < 1 or q_queries < 1 or k_shot + q_queries > drawings:
            raise ValueError(f"need k_shot >= 1, q_queries >= 1 and k_shot + q_queries <= {drawings}")
        self.pool, self.n_way, self.k_shot, self.q_queries = pool, n_way, k_shot, q_queries
        self.rng = np.random.default_rng(seed)

    def sample_indices(self, tasks: int = 1, n_way: int | None = None, k_shot: int | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(T, N, 1) class and (T, N, K+Q) drawing indices into the pool; the first K drawings are support.
        ``n_way`` and ``k_shot`` override the sampler's for this call."""
        n, k, q = n_way or self.n_way, k_shot or self.k_shot, self.q_queries
        classes, drawings = self.pool.shape[:2]
        cls = np.stack([self.rng.choice(classes, n, replace=False) for _ in range(tasks)])  # (T, N)
        idx = np.stack([[self.rng.choice(drawings, k + q, replace=False) for _ in range(n)] for _ in range(tasks)])
        return torch.from_numpy(cls)[..., None], torch.from_numpy(idx)

    def sample(self, tasks: int = 1, n_way: int | None = None, k_shot: int | None = None) -> Episode:
        n, k, q = n_way or self.n_way, k_shot or self.k_shot, self.q_queries
        classes, drawings = self.pool.shape[:2]
        if not 2 <= n <= classes or k < 1 or k + q > drawings:
            raise ValueError(f"cannot sample {n}-way {k}-shot {q}-query tasks from {classes} classes of {drawings}")
        imgs = self.pool[self.sample_indices(tasks, n, k)]  # (T, N, K+Q, H, W)
        imgs = imgs.float().div_(255).unsqueeze(3)  # (T, N, K+Q, 1, H, W)
        labels = torch.arange(n).view(1, n, 1)

        def part(sl, m):
            return imgs[:, :, sl].reshape(tasks, n * m, *imgs.shape[3:]), labels.expand(tasks, n, m).reshape(tasks, -1)

        sx, sy = part(slice(0, k), k)
        qx, qy = part(slice(k, k + q), q)
        return Episode(sx, sy, qx, qy, n)


@dataclass
class LakeRun:
    """One of Lake et al.'s 20 official 20-way one-shot runs (within one evaluation alphabet)."""

    name: str
    support: list[Path]  # training/classNN.png, one drawing of each of 20 characters
    queries: list[Path]  # test/itemNN.png
    targets: list[int]  # for each query, the index into ``support`` of its character


def load_lake_runs(root: str | os.PathLike | None = None) -> list[LakeRun]:
    base = data_root(root) / "omniglot-py" / "one-shot-classification" / "all_runs"
    if not base.is_dir():
        raise FileNotFoundError(f"Lake et al.'s one-shot runs not found at {base}")
    runs = []
    for run_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        support = sorted((run_dir / "training").glob("*.png"))
        index = {p.relative_to(base).as_posix(): i for i, p in enumerate(support)}
        queries, targets = [], []
        for line in (run_dir / "class_labels.txt").read_text().split("\n"):
            if line.strip():
                item, answer = line.split()
                queries.append(base / item)
                targets.append(index[answer])
        runs.append(LakeRun(run_dir.name, support, queries, targets))
    return runs
