"""Synthetic Omniglot-like characters, deterministic by seed.

A *class* (one made-up character) is a set of 1-4 pen strokes, each a smooth Catmull-Rom
curve through a few random control points on a unit canvas ((0, 0) top left, (1, 1) bottom
right).  A *sample* of the class is the same strokes drawn as a person would redraw them: a
small random affine distortion of the whole character (rotation, scale, shear, translation),
noise on every control point and a varying pen width.  Samples are rendered like Omniglot
images: black strokes on white, 'L' mode, 105x105 by default.

Useful for tests, demos and sanity checks of the meta-learning code without the real data:
the same seeds always give the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from metademo.data.preprocess import preprocess

__all__ = ["GlyphClass", "make_glyph_class", "synthetic_dataset", "synthetic_gallery"]

#: Supersampling factor: strokes are drawn this many times larger, then box-averaged down,
#: which gives antialiased edges like Omniglot's scanned drawings resized.
SUPERSAMPLE = 4
#: Points evaluated on each Catmull-Rom segment.
POINTS_PER_SEGMENT = 12


@dataclass(frozen=True, eq=False)
class GlyphClass:
    """One synthetic character: its strokes (control points on the unit canvas) and pen width."""

    seed: int
    strokes: tuple[np.ndarray, ...]  # each (k, 2) array of x, y control points, k >= 2
    width: float  # pen width as a fraction of the canvas side

    def render(self, sample_seed: int, size: int = 105) -> Image.Image:
        """Draw one handwritten-looking sample: 'L' mode, black strokes on white, size x size.

        The variation depends on both the class seed and ``sample_seed``, and is deterministic.
        """
        _check_seed(sample_seed, "sample_seed")
        if not isinstance(size, int) or size < 8:
            raise ValueError(f"size must be an integer >= 8, got {size!r}")
        rng = np.random.default_rng([self.seed, sample_seed])
        transform = _random_affine(rng)
        width = self.width * rng.uniform(0.8, 1.2)

        big = size * SUPERSAMPLE
        canvas = Image.new("L", (big, big), 255)
        draw = ImageDraw.Draw(canvas)
        pen = max(1, round(width * big))
        for control in self.strokes:
            jittered = control + rng.normal(0.0, 0.015, control.shape)
            points = _catmull_rom(jittered) @ transform[:, :2].T + transform[:, 2]
            xy = [(float(x), float(y)) for x, y in points * big]
            draw.line(xy, fill=0, width=pen, joint="curve")
            # Round pen tips: ImageDraw draws flat line ends.
            r = pen / 2
            for x, y in (xy[0], xy[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
        return canvas.resize((size, size), Image.Resampling.BOX)


def _check_seed(seed: int, name: str) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")


def make_glyph_class(seed: int) -> GlyphClass:
    """Make a random character of 1-4 smooth strokes; the same seed gives the same character."""
    _check_seed(seed, "seed")
    rng = np.random.default_rng(seed)
    strokes: list[np.ndarray] = []
    for _ in range(int(rng.integers(1, 5))):
        if strokes and rng.random() < 0.5:
            # Real characters are connected: start on a point of an earlier stroke.
            curve = _catmull_rom(strokes[int(rng.integers(len(strokes)))])
            start = curve[int(rng.integers(len(curve)))]
        else:
            start = rng.uniform(0.0, 1.0, 2)
        if rng.random() < 0.15:
            strokes.append(_loop(rng, start))
        else:
            strokes.append(_random_walk(rng, start))
    strokes = _fit_to_canvas(strokes, rng.uniform(0.5, 0.65))
    for s in strokes:
        s.setflags(write=False)  # classes are shared values: keep them immutable
    return GlyphClass(
        seed=int(seed), strokes=tuple(strokes), width=float(rng.uniform(0.022, 0.04))
    )


def _random_walk(rng: np.random.Generator, start: np.ndarray) -> np.ndarray:
    # A pen moving in a fairly steady direction: steps turn by at most ~100 degrees, so curves
    # bend but rarely fold back on themselves.
    n = int(rng.integers(2, 6))
    angle = rng.uniform(0, 2 * np.pi)
    points = [start]
    for _ in range(n - 1):
        angle += rng.uniform(-1.7, 1.7)
        step = rng.uniform(0.2, 0.45)
        points.append(points[-1] + step * np.array([np.cos(angle), np.sin(angle)]))
    return np.array(points)


def _loop(rng: np.random.Generator, start: np.ndarray) -> np.ndarray:
    # A closed or nearly closed loop (like 'o' or a hook), starting at ``start``.
    radius = rng.uniform(0.12, 0.3, 2)
    phase = rng.uniform(0, 2 * np.pi)
    sweep = rng.uniform(1.4, 2.0) * np.pi * rng.choice([-1, 1])
    t = phase + np.linspace(0, sweep, 7)
    ellipse = np.stack([radius[0] * np.cos(t), radius[1] * np.sin(t)], axis=1)
    return ellipse - ellipse[0] + start


def _fit_to_canvas(strokes: list[np.ndarray], extent: float) -> list[np.ndarray]:
    """Scale and centre the strokes so their longer side spans ``extent`` of the canvas."""
    curves = np.concatenate([_catmull_rom(s) for s in strokes])
    lo, hi = curves.min(axis=0), curves.max(axis=0)
    scale = extent / max(float((hi - lo).max()), 1e-6)
    centre = (lo + hi) / 2
    return [(s - centre) * scale + 0.5 for s in strokes]


def _catmull_rom(control: np.ndarray) -> np.ndarray:
    """Points on the uniform Catmull-Rom spline through all the control points."""
    p = np.concatenate([control[:1], control, control[-1:]])  # repeat the ends
    t = np.linspace(0, 1, POINTS_PER_SEGMENT, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    segments = []
    for i in range(len(control) - 1):
        p0, p1, p2, p3 = p[i], p[i + 1], p[i + 2], p[i + 3]
        segments.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                + (3 * p1 - p0 - 3 * p2 + p3) * t3
            )
        )
    segments.append(control[-1:])
    return np.concatenate(segments)


def _random_affine(rng: np.random.Generator) -> np.ndarray:
    """A 2x3 matrix: small rotation, scale, shear and shift about the canvas centre."""
    angle = np.deg2rad(rng.uniform(-10, 10))
    scale = rng.uniform(0.9, 1.1) * np.exp(
        rng.uniform(-0.05, 0.05, 2)
    )  # mild anisotropy
    shear = rng.uniform(-0.15, 0.15)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    linear = rotation @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag(scale)
    shift = rng.uniform(-0.04, 0.04, 2)
    centre = np.array([0.5, 0.5])
    return np.column_stack([linear, centre + shift - linear @ centre])


def _class_seed(seed: int, index: int) -> int:
    # Independent, well-mixed seeds for the classes of one gallery.
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def synthetic_gallery(
    num_classes: int, samples_per_class: int, seed: int = 0, size: int = 105
) -> list[list[Image.Image]]:
    """``num_classes`` lists of ``samples_per_class`` rendered samples (PIL 'L' images)."""
    _check_seed(seed, "seed")
    if num_classes < 0 or samples_per_class < 0:
        raise ValueError("num_classes and samples_per_class must be non-negative")
    classes = [make_glyph_class(_class_seed(seed, c)) for c in range(num_classes)]
    return [[g.render(s, size=size) for s in range(samples_per_class)] for g in classes]


def synthetic_dataset(
    num_classes: int, samples_per_class: int, seed: int = 0, size: int = 28
) -> tuple[torch.Tensor, torch.Tensor]:
    """Preprocessed synthetic images and labels, grouped by class.

    Returns ``images`` of shape ``(num_classes * samples_per_class, 1, size, size)`` (float32,
    ink = 1, see :mod:`metademo.data.preprocess`) and ``labels`` (int64, 0 .. num_classes-1).
    """
    gallery = synthetic_gallery(num_classes, samples_per_class, seed=seed)
    images = [preprocess(img, size=size) for row in gallery for img in row]
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class)
    if not images:
        return torch.zeros((0, 1, size, size)), labels
    return torch.stack(images), labels
