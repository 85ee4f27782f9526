"""From a decoded image (or tensor, or array) to one grayscale array: modes, alpha, wide pixels, shrinking a
band of rows at a time."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from ...lazy import torch
from . import limits
from .budget import _Budget, _check_pixels, _spend


def _tensor_to_array(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    # Tensors are channel-first (CxHxW); numpy arrays are channel-last.
    if t.ndim == 3 and t.shape[0] <= 4:
        t = t.permute(1, 2, 0)
    return t.numpy()


def _array_to_image(a: np.ndarray, budget: _Budget | None = None) -> Image.Image:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ValueError(
            f"unsupported array shape {a.shape}: expected HxW, HxWx1, HxWx2, HxWx3 or HxWx4"
        )
    if a.size == 0:
        raise ValueError(f"the image array is empty (shape {a.shape})")
    _check_pixels(a.shape[1], a.shape[0])
    _spend(budget, a.shape[0] * a.shape[1], "the image")

    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ValueError("the image array contains NaN or infinite values")
        lo, hi = float(a.min()), float(a.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(
                f"float image values must be in [0, 1], got values from {lo:g} to {hi:g}"
            )
        a = np.clip(a, 0.0, 1.0)
        if a.ndim == 2:
            return Image.fromarray(a.astype(np.float32))
        a = np.round(a * 255).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 65535:
            raise ValueError(
                f"integer image values must be in 0..65535, got values from {lo} to {hi}"
            )
        if a.dtype != np.uint8 and (a.dtype == np.uint16 or hi > 255):
            if a.ndim == 2:
                return Image.fromarray(np.ascontiguousarray(a, dtype=np.uint16))
            a = (a.astype(np.uint32) >> 8).astype(
                np.uint8
            )  # colour images: keep 8 bits
        a = a.astype(np.uint8)
    else:
        raise ValueError(f"unsupported array dtype {a.dtype}")

    # Pillow picks L, LA, RGB or RGBA from the number of channels.
    return Image.fromarray(np.ascontiguousarray(a))


# ----------------------------------------------------------------------------------------------
# Grayscale and transparency
# ----------------------------------------------------------------------------------------------


def _canonical(img: Image.Image) -> Image.Image:
    """Convert to one of the modes L, LA, RGB, RGBA, I or F."""
    mode = img.mode
    has_transparency = "transparency" in img.info
    if mode in ("1", "L"):
        return img.convert("LA" if has_transparency else "L")
    if mode in ("P", "PA"):
        return img.convert("RGBA" if (has_transparency or mode == "PA") else "RGB")
    if mode == "RGB":
        return img.convert("RGBA") if has_transparency else img
    if mode in ("LA", "RGBA", "I", "F"):
        return img
    if mode == "La":
        return img.convert("LA")
    if mode == "RGBa":
        return img.convert("RGBA")
    if mode.startswith("I;16"):
        return img.convert("I")
    try:
        return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    except (ValueError, OSError):
        raise ValueError(f"unsupported image mode {mode!r}") from None


def _to_gray(img: Image.Image) -> np.ndarray:
    """Grayscale float32 array in [0, 1], transparency resolved (not yet polarity-corrected)."""
    bits16 = img.mode.startswith("I;16")
    work_size = limits.JPEG_WORK_SIZE if img.format in ("JPEG", "MPO") else limits.WORK_SIZE
    factor = math.ceil(max(img.size) / work_size)
    img = _canonical(img) if factor == 1 else _shrunk(img, factor)

    if img.mode in ("I", "F"):
        return _scale_wide(np.asarray(img, dtype=np.float64), bits16).astype(np.float32)

    gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if img.mode not in ("LA", "RGBA"):
        return gray
    alpha = np.asarray(img.getchannel("A"), dtype=np.float32) / 255.0
    return _resolve_alpha(gray, alpha)


def _shrunk(img: Image.Image, factor: int) -> Image.Image:
    """``_canonical(img).reduce(factor)``: the same pixels, a band of rows at a time (:data:`BAND_PIXELS`) where
    converting or reducing the whole image would copy it (modes other than L, RGB, I and F; transparency).
    Bands are whole multiples of ``factor`` rows, so every output pixel averages the same input pixels."""
    if img.mode in ("L", "RGB", "I", "F") and "transparency" not in img.info:
        return img.reduce(factor)
    width, height = img.size
    rows = factor * max(1, limits.BAND_PIXELS // (width * factor))
    out = None
    for top in range(0, height, rows):
        band = _canonical(img.crop((0, top, width, min(height, top + rows)))).reduce(factor)
        if out is None:
            out = Image.new(band.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        out.paste(band, (0, top // factor))
    return out


def _scale_wide(a: np.ndarray, bits16: bool) -> np.ndarray:
    """Scale a mode 'I' or 'F' image to [0, 1] by the maximum of its type, not its own range,
    so that a dim 16-bit scan keeps its true brightness."""
    if not np.isfinite(a).all():
        raise ValueError("the image contains NaN or infinite values")
    lo, hi = a.min(), a.max()
    if bits16:
        return a / 65535.0
    if lo >= 0 and hi <= 1:
        return a  # float image already in [0, 1]
    # 32-bit 'I' images have no fixed range: guess 8 or 16 bits, else use the image's range.
    if lo >= 0 and hi <= 255:
        return a / 255.0
    if lo >= 0 and hi <= 65535:
        return a / 65535.0
    return (a - lo) / (hi - lo)


def _resolve_alpha(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    opaque = alpha > 0.5
    if alpha.min() > 0.99:
        return gray  # alpha channel present but unused
    if not opaque.any():
        return np.ones_like(gray)  # nothing visible: blank
    visible = gray[opaque]
    lo, hi = np.percentile(visible, [1, 99])
    if hi - lo < 0.15 or opaque.mean() < 0.5:
        # The visible pixels are the strokes themselves (typical of drawing apps with a
        # transparent canvas): their colour carries no information, alpha is the ink mask.
        # Render them as dark ink on white; polarity detection takes it from there.
        return 1.0 - alpha
    # The opaque part has a background of its own (most of it); transparent pixels take
    # that background colour so they are not mistaken for ink.
    background = float(np.median(visible))
    return alpha * gray + (1.0 - alpha) * background


# ----------------------------------------------------------------------------------------------
# Polarity, lighting and contrast
# ----------------------------------------------------------------------------------------------
