"""Where the app's gallery drawings come from (data only: the page says which, see ``metademo.ui``).

The gallery is Omniglot's *evaluation* alphabets (characters the models never saw while being
meta-trained) when they are on this machine, else synthetic glyphs, and the page says which.
:class:`GalleryProvider` finds out in a background thread, so the page never waits for it:

1. the cached arrays or the extracted images (``metademo.data.omniglot.load_omniglot``);
2. failing that, and unless ``METADEMO_GALLERY_DOWNLOAD=0``, a quick check that the internet can be
   reached (a few seconds at most), then torchvision's downloader for the evaluation set only, into
   the project's cache folder (the shared data folder is never written to);
3. meanwhile, and for good if both fail, synthetic glyphs.

Drawings are named ``"<character> #<n>"`` (for example ``"Angelic/character01 #3"``): the name says
which character and which of its 20 drawings it is, so captions alone tell which characters a class
holds and which drawings are still unused, with no extra per-visitor state.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import socket
import threading
from pathlib import Path

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

DRAWINGS = 20  # drawings of each character (Omniglot's 20 people; as many synthetic samples)
SYNTHETIC_CHARACTERS = 1000
SYNTHETIC_SEED = 7_000_000  # synthetic character i is make_glyph_class(SYNTHETIC_SEED + i)
PROBE_HOST = ("raw.githubusercontent.com", 443)  # where torchvision downloads Omniglot from
_KEY = re.compile(r"^(?P<name>.+?) #(?P<n>\d+)$")


def drawing_key(name: str, j: int) -> str:
    """Caption of drawing ``j`` (0-based) of character ``name``."""
    return f"{name} #{j + 1}"


def parse_key(caption) -> tuple[str, int] | None:
    """``(character name, drawing index)`` from a caption made by :func:`drawing_key`, else None."""
    if not isinstance(caption, str):
        return None
    m = _KEY.match(caption.strip())
    if not m or int(m["n"]) < 1:
        return None
    return m["name"], int(m["n"]) - 1


class GallerySource:
    """Characters with 20 drawings each. ``drawing`` gives a picture, ``tensor`` the model's input."""

    kind = "base"

    @property
    def synthetic(self) -> bool:
        return self.kind == "synthetic"

    def __len__(self) -> int:
        raise NotImplementedError

    def name(self, i: int) -> str:
        raise NotImplementedError

    def index(self, name: str) -> int | None:
        raise NotImplementedError

    def drawing(self, i: int, j: int) -> Image.Image:
        """Drawing ``j`` of character ``i``: a PIL 'L' image, black ink on white."""
        raise NotImplementedError

    def tensor(self, i: int, js):
        """Drawings ``js`` of character ``i``, preprocessed: a float tensor (len(js), 1, 28, 28), ink = 1."""
        from .preprocess import preprocess_batch

        return preprocess_batch([self.drawing(i, j) for j in js])

    def pick(self, rng: np.random.Generator, k: int, exclude=()) -> tuple[int, list[int]]:
        """A random character not in ``exclude`` (names) and ``k`` distinct random drawings of it."""
        if not 1 <= k <= DRAWINGS:
            raise ValueError(f"the number of drawings must be from 1 to {DRAWINGS}, got {k}")
        excluded = {self.index(n) for n in exclude} - {None}
        free = np.setdiff1d(np.arange(len(self)), np.fromiter(excluded, int, len(excluded)))
        if free.size == 0:
            raise ValueError("every character of the gallery is already in use")
        i = int(rng.choice(free))
        return i, sorted(int(j) for j in rng.choice(DRAWINGS, k, replace=False))


class OmniglotSource(GallerySource):
    """Omniglot's evaluation characters: original images when extracted, else the cached 28x28 arrays."""

    kind = "omniglot"

    def __init__(self, images: np.ndarray, characters: list[str], folder: Path | None = None):
        self.images = images  # (characters, 20, 28, 28) uint8, ink = 255
        self.characters = list(characters)
        self.folder = folder if folder is not None and Path(folder).is_dir() else None
        self._index = {c: i for i, c in enumerate(self.characters)}

    def __len__(self):
        return len(self.characters)

    def name(self, i):
        return self.characters[i]

    def index(self, name):
        return self._index.get(name)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - sources live as long as the app
    def _files(self, i: int) -> list[Path] | None:
        if self.folder is None:
            return None
        # torchvision's order (os.listdir), the same order the cached arrays were built in
        folder = self.folder / self.characters[i]
        try:
            files = [folder / f for f in os.listdir(folder) if f.endswith(".png")]
        except OSError:
            return None
        return files if len(files) >= DRAWINGS else None

    def drawing(self, i, j):
        files = self._files(i)
        if files is not None:
            try:
                with Image.open(files[j]) as img:
                    return img.convert("L")
            except OSError:
                pass
        ink = self.images[i, j]
        return Image.fromarray(255 - ink, "L").resize((84, 84), Image.Resampling.NEAREST)

    def tensor(self, i, js):
        if self._files(i) is not None:  # the originals, exactly as an uploaded file would be seen
            return super().tensor(i, js)
        import torch

        return torch.from_numpy(self.images[i, list(js)]).float().div(255).unsqueeze(1)


class SyntheticSource(GallerySource):
    """Made-up characters from :mod:`metademo.data.synthetic`, rendered on demand."""

    kind = "synthetic"

    def __init__(self, n: int = SYNTHETIC_CHARACTERS):
        self.n = n

    def __len__(self):
        return self.n

    def name(self, i):
        return f"synthetic/glyph{i:04d}"

    def index(self, name):
        m = re.fullmatch(r"synthetic/glyph(\d{4,})", name or "")
        return int(m[1]) if m and int(m[1]) < self.n else None

    @functools.lru_cache(maxsize=512)  # noqa: B019
    def drawing(self, i, j):
        from .synthetic import make_glyph_class

        return make_glyph_class(SYNTHETIC_SEED + i).render(j)


def _download_root() -> Path:
    from .omniglot import cache_dir

    return cache_dir() / "downloads"


def _can_reach(host: tuple[str, int], timeout: float) -> bool:
    try:
        with socket.create_connection(host, timeout=timeout):
            return True
    except OSError:
        return False


class GalleryProvider:
    """The current gallery source, switching from synthetic to Omniglot when it becomes available.

    Holds only data shared by everyone (read-only images), never anything about a visitor.
    """

    def __init__(self, root: str | os.PathLike | None = None, download: bool | None = None,
                 probe_timeout: float = 3.0):
        self.root = root
        if download is None:
            download = os.environ.get("METADEMO_GALLERY_DOWNLOAD", "1").lower() not in ("0", "false", "no")
        self.download = download
        self.probe_timeout = probe_timeout
        self.synthetic_source = SyntheticSource()
        self._omniglot: OmniglotSource | None = None
        self.status = "loading"  # loading -> omniglot | downloading -> omniglot | synthetic
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> GalleryProvider:
        """Look for Omniglot in a background thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="metademo-gallery", daemon=True)
                self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the search has finished (tests); True if it has."""
        self.start()
        return self._done.wait(timeout)

    def _run(self):
        try:
            if self._load(download=False):
                return
            if not self.download:
                return
            if not _can_reach(PROBE_HOST, self.probe_timeout):
                log.info("gallery: offline, using synthetic glyphs")
                return
            self.status = "downloading"
            log.info("gallery: downloading the Omniglot evaluation set into %s", _download_root())
            self._load(download=True)
        except Exception:  # never let the gallery take the app down
            log.exception("gallery: could not load Omniglot; using synthetic glyphs")
        finally:
            if self._omniglot is None:
                self.status = "synthetic"
            self._done.set()

    def _load(self, download: bool) -> bool:
        from .omniglot import cache_dir, data_root, load_omniglot, omniglot_available

        roots = [_download_root()] if download else [data_root(self.root), _download_root()]
        cached = any(cache_dir().glob("omniglot_evaluation_*.npz"))
        for root in roots:
            if not (download or cached or omniglot_available(root, background=False)):
                continue  # nothing to read: skip torchvision's (slow) import and checks
            try:
                data = load_omniglot(root, background=False, download=download, progress=False)
            except FileNotFoundError:
                continue
            except OSError as e:  # a failed or interrupted download
                log.info("gallery: Omniglot not loaded from %s: %s", root, e)
                continue
            self._omniglot = OmniglotSource(data.images, data.characters,
                                            Path(root) / "omniglot-py" / "images_evaluation")
            self.status = "omniglot"
            log.info("gallery: Omniglot evaluation set, %d characters", len(data.characters))
            return True
        return False

    # --- use ---------------------------------------------------------------------------------
    def current(self) -> GallerySource:
        self.start()
        return self._omniglot if self._omniglot is not None else self.synthetic_source

    def find(self, name: str) -> tuple[GallerySource, int] | None:
        """The source and index of a character by name, whichever source it came from."""
        for source in (self._omniglot, self.synthetic_source):
            if source is not None:
                i = source.index(name)
                if i is not None:
                    return source, i
        return None

    @property
    def kind(self) -> str:
        """``"omniglot"`` or ``"synthetic"``: where :meth:`current` drawings come from now."""
        return self.current().kind


#: The gallery everyone shares (read-only data).
PROVIDER = GalleryProvider()
