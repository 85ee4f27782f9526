"""Where the ink is: polarity from the border, uneven lighting removed, a threshold-like contrast stretch."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from . import limits


def _quantiles(a: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Nearest-rank quantiles (q in [0, 1]): exactly the values a full sort would give at those ranks."""
    flat = a.ravel()
    ranks = [min(flat.size - 1, max(0, round(q * (flat.size - 1)))) for q in qs]
    return _select(flat, ranks)


#: Histogram bins of :func:`_select`.
_BINS = 256


def _select(flat: np.ndarray, ranks: list[int]) -> list[float]:
    """The values at ``ranks`` in sorted order (what ``np.partition`` gives), found with a histogram first.

    One pass bins the values (binning is monotone, so the bin holding a rank holds exactly the values that
    can be at that rank); only that bin is partitioned. On a clean image most pixels are exactly the
    minimum (no ink, or ink after background removal), which ``np.partition`` handles slowly and this
    answers from a count. Several times faster than one partial sort from about 10,000 pixels on.
    """
    if flat.size < 4096:
        part = np.partition(flat, sorted(set(ranks)))
        return [float(part[r]) for r in ranks]
    lo, hi = flat.min(), flat.max()
    if lo == hi:
        return [float(lo)] * len(ranks)
    scale = _BINS / (float(hi) - float(lo))
    if not math.isfinite(scale):
        part = np.partition(flat, sorted(set(ranks)))
        return [float(part[r]) for r in ranks]
    idx = ((flat - lo) * scale).astype(np.intp)
    np.minimum(idx, _BINS - 1, out=idx)
    ends = np.cumsum(np.bincount(idx, minlength=_BINS))
    out = []
    for r in ranks:
        b = int(np.searchsorted(ends, r, side="right"))
        start = int(ends[b - 1]) if b else 0
        if b == 0 and r < np.count_nonzero(flat == lo):
            out.append(float(lo))
            continue
        sub = flat[idx == b]
        out.append(float(np.partition(sub, r - start)[r - start]))
    return out


def _select_rows(rows: np.ndarray, k: int) -> np.ndarray:
    """``np.partition(rows, k, axis=1)[:, k]``, the k-th smallest value of each row, found as in
    :func:`_select`: rows whose k-th value is the array's minimum (blocks of a clean image with no ink, or
    little) from a count, the others by partitioning only the histogram bin that holds it."""
    if rows.size < 4096:
        return np.partition(rows, k, axis=1)[:, k]
    lo, hi = rows.min(), rows.max()
    if lo == hi:
        return np.full(rows.shape[0], lo, dtype=rows.dtype)
    scale = _BINS / (float(hi) - float(lo))
    if not math.isfinite(scale):
        return np.partition(rows, k, axis=1)[:, k]
    out = np.full(rows.shape[0], lo, dtype=rows.dtype)
    todo = np.flatnonzero(np.count_nonzero(rows == lo, axis=1) <= k)
    if todo.size == 0:
        return out
    sub = rows[todo]
    idx = ((sub - lo) * scale).astype(np.intp)
    np.minimum(idx, _BINS - 1, out=idx)
    n = len(todo)
    counts = np.bincount((idx + (np.arange(n) * _BINS)[:, None]).ravel(), minlength=n * _BINS)
    ends = np.cumsum(counts.reshape(n, _BINS), axis=1)
    bins = np.count_nonzero(ends <= k, axis=1)
    starts = np.where(bins > 0, ends[np.arange(n), np.maximum(bins - 1, 0)], 0)
    for j, i in enumerate(todo):
        values = sub[j][idx[j] == bins[j]]
        r = k - int(starts[j])
        out[i] = np.partition(values, r)[r]
    return out


def _box3(a: np.ndarray) -> np.ndarray:
    """3x3 box average (valid part only), cheap noise suppression for extreme values."""
    if min(a.shape) < 3:
        return a
    rows = a[:-2] + a[1:-1] + a[2:]
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / 9.0


def _ink_map(gray: np.ndarray) -> np.ndarray:
    """Map a grayscale image to ink = 1, background = 0.  Raises ValueError if blank."""
    h, w = gray.shape
    b = max(1, round(0.02 * min(h, w)))
    border = np.concatenate(
        [gray[:b].ravel(), gray[-b:].ravel(), gray[:, :b].ravel(), gray[:, -b:].ravel()]
    )
    (background,) = _quantiles(border, [0.5])
    smooth = _box3(gray)
    lo, hi = float(smooth.min()), float(smooth.max())
    # Ink is whatever departs furthest from the background (the border is mostly background):
    # this works for grey paper or dim photos where "bright border" alone would be ambiguous.
    x = 1.0 - gray if background - lo >= hi - background else gray.copy()

    # Subtracting a smooth background estimate removes uneven lighting (shadows, vignetting)
    # in photos of paper; on clean scans the estimate is simply constant.
    x = np.clip(x - _background_field(x), 0.0, None)

    (median,) = _quantiles(x, [0.5])
    (mad,) = _quantiles(np.abs(x - median), [0.5])
    noise = 1.4826 * mad  # robust standard deviation of the (majority) background
    # The strongest ink, found on a 3x3-smoothed copy so that single noisy or hot pixels
    # cannot pose as strokes, while a glyph of a few dozen pixels in a big image still counts.
    peak = float(_box3(x).max())
    if peak < max(limits.MIN_CONTRAST, 5 * noise):
        raise ValueError("the image looks blank: no strokes found")
    # Threshold-like contrast stretch: noise and faint shading go to 0, anything at least 60 %
    # as strong as the strongest ink goes to 1, so pen, pencil and marker all give a clean
    # glyph.
    low = max(0.15 * peak, 3 * noise)
    high = max(0.6 * peak, low + 0.05)
    return np.clip((x - low) / (high - low), 0.0, 1.0).astype(np.float32)


def _background_field(x: np.ndarray) -> np.ndarray:
    """Smooth estimate of the background level of an ink-positive image."""
    h, w = x.shape
    block = max(8, math.ceil(max(h, w) / 8))
    gh, gw = math.ceil(h / block), math.ceil(w / block)
    # Pad by repeating the last row and column (np.pad is slow on small images).
    padded = np.empty((gh * block, gw * block), dtype=x.dtype)
    padded[:h, :w] = x
    padded[h:, :w] = x[-1]
    padded[:, w:] = padded[:, w - 1 : w]
    blocks = (
        padded.reshape(gh, block, gw, block).transpose(0, 2, 1, 3).reshape(gh, gw, -1)
    )
    # Strokes cover only a minority of most blocks, so a low quantile is the background...
    k = blocks.shape[-1] // 5
    level = _select_rows(blocks.reshape(gh * gw, -1), k).reshape(gh, gw)
    # ...and a 3x3 opening (minimum, then maximum, over neighbouring blocks) replaces blocks
    # densely covered with ink by their neighbours' level, while following smooth gradients.
    # Padding by linear extrapolation lets the opening follow gradients up to the edges.
    padded_level = np.pad(level, 1, mode="reflect", reflect_type="odd")
    level = _filter3(_filter3(padded_level, np.minimum), np.maximum)[1:-1, 1:-1]
    # Bilinear upsampling of the block grid, rows then columns. Each output pixel mixes two grid points, so
    # this is written out rather than done as matrix products: numpy's threaded BLAS, on a machine whose
    # cores are busy, made these small products take most of the time of a whole preprocessing.
    i0, i1, f = _interpolation(h, gh)
    rows = level[i0] * (1 - f)[:, None] + level[i1] * f[:, None]
    j0, j1, g = _interpolation(w, gw)
    return (rows[:, j0] * (1 - g) + rows[:, j1] * g).astype(np.float32)


def _filter3(a: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Apply ``op`` (np.minimum or np.maximum) over each 3x3 neighbourhood, edges included."""
    out = a.copy()
    out[1:] = op(out[1:], a[:-1])
    out[:-1] = op(out[:-1], a[1:])
    rows = out.copy()
    out[:, 1:] = op(out[:, 1:], rows[:, :-1])
    out[:, :-1] = op(out[:, :-1], rows[:, 1:])
    return out


@functools.lru_cache(maxsize=64)
def _interpolation(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation between ``n_in`` block centres at ``n_out`` pixels: for each pixel the indices of
    the two grid points around it and the weight f of the second (value = (1 - f) v[i0] + f v[i1]); linear
    extrapolation in the outer half blocks, so gradients continue to the image edges."""
    if n_in == 1:
        i0 = i1 = np.zeros(n_out, dtype=np.intp)
        frac = np.zeros(n_out)
    else:
        pos = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        i0 = np.clip(np.floor(pos).astype(np.intp), 0, n_in - 2)
        i1 = i0 + 1
        frac = pos - i0
    for a in (i0, i1, frac):
        a.setflags(write=False)
    return i0, i1, frac


def _binary_ink(img: Image.Image) -> np.ndarray | None:
    """:func:`_ink_map` of a 1-bit image (Omniglot's PNGs, scans), or None where it cannot shortcut.

    On pixels that are only 0 or 1 every step above reduces to counting: the border's median is its
    majority, the ink is the minority colour, the background field is 0 unless some block is more than
    80 % ink, the noise is 0, and the contrast stretch maps ink to exactly 1 and background to exactly 0.
    The result is identical to the general path's (a test compares them); images where a shortcut
    does not hold (mostly ink, or dense blocks of ink) return None and take the general path.
    """
    if img.mode != "1" or "transparency" in img.info or max(img.size) > limits.WORK_SIZE:
        return None
    white = np.asarray(img)
    h, w = white.shape
    b = max(1, round(0.02 * min(h, w)))
    border = (np.count_nonzero(white[:b]) + np.count_nonzero(white[-b:]) + np.count_nonzero(white[:, :b])
              + np.count_nonzero(white[:, -b:]))
    n_border = 2 * b * (h + w)
    # The median of the border (nearest rank), then polarity: the ink departs from the background.
    background_white = n_border - border <= round(0.5 * (n_border - 1))
    n_white = np.count_nonzero(white)
    if background_white or n_white == 0:
        ink = ~white
        n_ink = white.size - n_white
    else:
        ink = white
        n_ink = n_white
    if n_ink == 0:
        raise ValueError("the image looks blank: no strokes found")
    if white.size - n_ink <= round(0.5 * (white.size - 1)):
        return None  # mostly ink: the median is ink, the noise estimate is not 0
    # The background field is 0 unless a block's 20 % quantile is ink (edge blocks padded by repetition:
    # the last row and column count again for each padded one).
    block = max(8, math.ceil(max(h, w) / 8))
    gh, gw = math.ceil(h / block), math.ceil(w / block)
    bands = np.add.reduceat(ink.view(np.uint8), np.arange(0, h, block), axis=0, dtype=np.intp)  # (gh, w)
    bands[-1] += (gh * block - h) * ink[-1]
    counts = np.add.reduceat(bands, np.arange(0, w, block), axis=1)  # (gh, gw)
    counts[:, -1] += (gw * block - w) * bands[:, -1]
    if (counts >= block * block - block * block // 5).any():
        return None
    return ink.astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Cropping, centring, resizing
# ----------------------------------------------------------------------------------------------
