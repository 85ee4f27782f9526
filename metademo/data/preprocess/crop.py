"""Cropping to the ink, centring in a square with a margin, resizing to the network's size."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from . import limits


def _crop_and_resize(ink: np.ndarray, size: int) -> np.ndarray:
    mask = ink > limits.INK_THRESHOLD
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the image looks blank: no strokes found")
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    side = max(math.ceil(max(h, w) / limits.FILL), 1)
    canvas = np.zeros((side, side), dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = crop
    # BOX (area average) when shrinking: antialiased and without ringing; bilinear when a
    # tiny glyph has to be enlarged.
    resample = Image.Resampling.BOX if side >= size else Image.Resampling.BILINEAR
    out = Image.fromarray(canvas).resize((size, size), resample)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)
