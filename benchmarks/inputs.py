"""What people really send, made from Omniglot glyphs: for the benchmarks and the preprocessing tests.

* :func:`episode`: the benchmarks' 5-way 5-shot episode with 10 queries, as the paths of Omniglot files;
* :func:`omniglot_pngs`: original Omniglot files (105x105 1-bit PNGs, black on white), as a person uploads
  them (synthetic glyphs saved as PNG when Omniglot is not on the machine);
* :func:`phone_photo`: a 3000x4000 JPEG (quality 90) like a phone photo of the glyph drawn large with a
  dark pen on paper: off-white, slightly uneven paper, a lighting gradient and vignette, sensor noise,
  soft stroke edges;
* :func:`sketch`: what Gradio's Sketchpad sends with ``type="numpy", image_mode="RGBA"``: an RGBA array,
  transparent background, opaque black antialiased strokes (or the editor's dict with a ``"composite"``).

Photos are written to ``.cache/inputs/`` (git-ignored; ``METADEMO_CACHE`` moves it) and reused.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
PHOTO_SIZE = (3000, 4000)  # width, height: a 12-megapixel portrait photo
SKETCH_SIZE = 300  # the app's drawing pad


def cache_dir() -> Path:
    d = Path(os.environ.get("METADEMO_CACHE") or ROOT / ".cache") / "inputs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def omniglot_pngs(n: int, seed: int = 0) -> list[str]:
    """Paths of ``n`` original Omniglot evaluation PNGs (seeded choice), else of synthetic glyph PNGs."""
    from metademo.data.omniglot import data_root

    folder = data_root() / "omniglot-py" / "images_evaluation"
    files = sorted(folder.glob("*/*/*.png")) if folder.is_dir() else []
    if files:
        rng = np.random.default_rng(seed)
        return [str(files[i]) for i in rng.choice(len(files), n, replace=False)]
    from metademo.data.synthetic import synthetic_gallery

    out = []
    for i, img in enumerate(g for row in synthetic_gallery(n, 1, seed=seed) for g in row):
        p = cache_dir() / f"synthetic_{seed}_{i}.png"
        if not p.exists():
            img.convert("1").save(p)
        out.append(str(p))
    return out


def episode(ways=5, shots=5, per_class_queries=2, seed=0):
    """Paths of original Omniglot evaluation files (``ways`` seeded characters; synthetic glyph PNGs without
    Omniglot): (support, labels, queries), ``shots`` drawings then ``per_class_queries`` of each character."""
    from metademo.data.omniglot import data_root

    folder = data_root() / "omniglot-py" / "images_evaluation"
    chars = sorted(p for p in folder.glob("*/*") if p.is_dir()) if folder.is_dir() else []
    if not chars:  # no Omniglot: synthetic glyphs saved as 1-bit PNGs
        files = omniglot_pngs(ways * (shots + per_class_queries), seed=seed)
        groups = [files[i::ways] for i in range(ways)]
    else:
        rng = np.random.default_rng(seed)
        groups = [sorted(str(p) for p in chars[i].glob("*.png"))[: shots + per_class_queries]
                  for i in rng.choice(len(chars), ways, replace=False)]
    support = [p for g in groups for p in g[:shots]]
    labels = [f"class {i}" for i in range(ways) for _ in range(shots)]
    queries = [p for g in groups for p in g[shots:]]
    return support, labels, queries


def _glyph_ink(path: str, size: int) -> np.ndarray:
    """The glyph's ink (0..1 float32), scaled to ``size`` pixels with soft edges, as a pen line photographs."""
    g = Image.open(path).convert("L")
    ink = Image.fromarray(255 - np.asarray(g)).resize((size, size), Image.Resampling.BILINEAR)
    ink = ink.filter(ImageFilter.GaussianBlur(size / 400))
    return np.asarray(ink, np.float32) / 255.0


def photo_array(glyph_path: str, seed: int = 0, size: tuple[int, int] = PHOTO_SIZE) -> np.ndarray:
    """RGB uint8 array (height, width, 3): the glyph drawn large on paper and photographed."""
    rng = np.random.default_rng(seed)
    w, h = size
    # Lighting: a linear gradient in a random direction and a vignette, on a coarse grid then smoothed up.
    gh, gw = h // 50, w // 50
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    yy, xx = yy / gh - 0.5, xx / gw - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = 1.0 + 0.12 * (np.cos(angle) * xx + np.sin(angle) * yy) - 0.25 * (xx ** 2 + yy ** 2)
    uneven = Image.fromarray(rng.standard_normal((8, 6)).astype(np.float32)).resize((gw, gh), Image.Resampling.BICUBIC)
    light += 0.03 * np.asarray(uneven, np.float32)  # paper that is not quite flat
    light = np.asarray(Image.fromarray(light.astype(np.float32)).resize((w, h), Image.Resampling.BILINEAR), np.float32)
    paper = np.array([236, 231, 220], np.float32) * rng.uniform(0.85, 1.0)  # off-white, warm
    pen = np.array([45, 45, 70], np.float32)  # dark blue-black ink
    side = int(min(w, h) * rng.uniform(0.55, 0.75))
    ink = np.zeros((h, w), np.float32)
    top = int(rng.integers(h // 8, h - side - h // 8))
    left = int(rng.integers(w // 10, w - side - w // 10 + 1))
    ink[top:top + side, left:left + side] = _glyph_ink(glyph_path, side)
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = (paper[c] * (1 - ink) + pen[c] * ink) * light
    img += rng.normal(0, 3.0, (h, w, 1)).astype(np.float32)  # sensor noise, mostly in brightness
    return np.clip(img, 0, 255).astype(np.uint8)


def phone_photo(glyph_path: str, seed: int = 0, quality: int = 90) -> str:
    """Path of a 3000x4000 JPEG photo of the glyph on paper (made once, then read from the cache)."""
    path = cache_dir() / f"photo_{Path(glyph_path).stem}_{seed}_q{quality}.jpg"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        Image.fromarray(photo_array(glyph_path, seed)).save(tmp, "JPEG", quality=quality)
        tmp.replace(path)
    return str(path)


def sketch(glyph_path: str, seed: int = 0, as_dict: bool = False):
    """The glyph as drawn on the app's pad: (300, 300, 4) uint8, transparent background, black strokes
    with antialiased alpha edges, placed and sized as a person would draw it. ``as_dict``: the
    ImageEditor's ``{"background", "layers", "composite"}``."""
    rng = np.random.default_rng(seed)
    side = int(SKETCH_SIZE * rng.uniform(0.5, 0.8))
    alpha = np.zeros((SKETCH_SIZE, SKETCH_SIZE), np.float32)
    top, left = (int(v) for v in rng.integers(0, SKETCH_SIZE - side, 2))
    alpha[top:top + side, left:left + side] = _glyph_ink(glyph_path, side)
    rgba = np.zeros((SKETCH_SIZE, SKETCH_SIZE, 4), np.uint8)
    rgba[..., 3] = np.round(np.clip(alpha * 1.5, 0, 1) * 255).astype(np.uint8)
    if not as_dict:
        return rgba
    background = np.zeros_like(rgba)
    return {"background": background, "layers": [rgba.copy()], "composite": rgba}
