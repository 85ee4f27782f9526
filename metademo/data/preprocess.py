"""Turn any user image of a hand-drawn character into the Omniglot tensor convention.

The convention used everywhere in metademo (training on Omniglot, synthetic glyphs and
images uploaded by users) is:

* a float tensor of shape ``(1, size, size)`` (``size`` = 28 by default) with values in [0, 1];
* ink (the strokes) is 1.0 and the background is 0.0, i.e. white strokes on black, as in most
  MAML code, whatever the polarity of the original image;
* the ink is cropped to its bounding box and centred in a square, with a margin so that the
  longer side of the ink fills :data:`FILL` (80 %) of the square; the aspect ratio is kept.

Because every image goes through the same steps, a character photographed with a phone, drawn
in a paint program on a transparent canvas, or taken from Omniglot (105x105 1-bit PNGs, black
strokes on white) ends up looking alike to the network.

:func:`open_image` decodes the input (see its docstring for what is accepted) and raises
``ValueError`` with a readable message for anything it cannot use.  :func:`preprocess` does the
rest: grayscale, transparency, polarity, lighting and contrast, cropping, centring and resizing.

The border of the image is taken to be background, so a photo should be cropped to the paper
(a dark desk around a white sheet would be mistaken for the background and the sheet for ink).
The limits (:data:`MAX_PIXELS`, :data:`MAX_FILE_BYTES`) are module constants, read at each call.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from .. import pools
from ..lazy import torch
from . import jpeg

__all__ = [
    "FILL",
    "INK_THRESHOLD",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "open_image",
    "preprocess",
    "preprocess_batch",
]

#: Images with more pixels than this are refused (protects against decompression bombs).
MAX_PIXELS = 40_000_000
#: Files (paths, bytes, file-like objects) larger than this are refused.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: After normalisation, pixels above this value count as ink for the bounding box.
INK_THRESHOLD = 0.2
#: Fraction of the output square taken by the longer side of the ink's bounding box.
FILL = 0.8
#: Big images are box-averaged down to at most this many pixels on their longer side first:
#: plenty for a 28x28 result (JPEGs: see JPEG_WORK_SIZE).
WORK_SIZE = 1024
#: Smallest ink/background contrast (on a 0-1 scale) that is not considered blank.
MIN_CONTRAST = 0.1
#: JPEGs (photos) are worked on at most this many pixels on their longer side instead of WORK_SIZE. The file
#: is decoded at 1/2, 1/4 or 1/8 scale by the decoder itself (DCT scaling: it never computes the full-size
#: pixels) as long as the longer side stays at least this long, then box-averaged down like other big
#: images. A 12-megapixel photo decodes at 500x375 in a quarter of the time and is worked on at 250x188.
#: The 28x28 result differs from full-size decoding by a few grey levels at the edges of the strokes.
JPEG_WORK_SIZE = 256


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------


def open_image(obj: Any) -> Image.Image:
    """Decode ``obj`` into a PIL image.

    Accepted inputs:

    * a ``PIL.Image.Image``;
    * a path (``str`` or ``os.PathLike``), raw ``bytes``/``bytearray``/``memoryview`` of an
      image file, or a binary file-like object (anything with ``.read()``);
    * a data URL, a string ``"data:image/png;base64,..."`` holding the file (what programs and agents
      can send in JSON);
    * a numpy array of shape HxW, HxWx1, HxWx2 (gray + alpha), HxWx3 (RGB) or HxWx4 (RGBA) with
      dtype uint8, uint16, bool, another integer type with values in 0..65535, or float with
      values in [0, 1];
    * a torch tensor of shape HxW, 1xHxW or CxHxW (C = 1..4), converted like the numpy array;
    * the value of Gradio's ImageEditor or Sketchpad, a dict whose ``"composite"`` is one of the above.

    The image is returned in its own mode (``'1'``, ``'L'``, ``'P'``, ``'RGBA'``, ``'I;16'``, ...):
    grayscale conversion and transparency are handled by :func:`preprocess`.  For animated
    images (GIF, APNG, WebP with more than one frame) only the first frame is used.

    Raises ``ValueError`` for anything that cannot be used: unsupported types, missing, empty,
    truncated or non-image files, files over :data:`MAX_FILE_BYTES` and images with more than
    :data:`MAX_PIXELS` pixels.
    """
    return _open(obj, draft=False)


def _open(obj: Any, draft: bool) -> Image.Image:
    """:func:`open_image`; with ``draft``, JPEG files are decoded at reduced size (see :data:`JPEG_WORK_SIZE`)."""
    if isinstance(obj, dict) and "composite" in obj:
        if obj["composite"] is None:
            raise ValueError("the drawing is empty")
        obj = obj["composite"]
    if isinstance(obj, Image.Image):
        _check_pixels(*obj.size)
        try:
            img = _first_frame(obj)
        except _DAMAGED as e:
            raise ValueError(
                f"the image could not be decoded: it is truncated or corrupt ({e})"
            ) from None
    elif isinstance(obj, str) and obj.startswith("data:"):
        img = _decode(_data_url_bytes(obj), name=None, draft=draft)
    elif isinstance(obj, (str, os.PathLike)):
        img = _decode(_read_path(obj), name=os.fspath(obj), draft=draft)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        _check_file_size(len(data), "the image data")
        img = _decode(data, name=None, draft=draft)
    elif isinstance(obj, torch.Tensor):
        img = _array_to_image(_tensor_to_array(obj))
    elif isinstance(obj, np.ndarray):
        img = _array_to_image(obj)
    elif hasattr(obj, "read"):
        name = getattr(obj, "name", None)
        name = name if isinstance(name, str) else None
        # Read one byte more than allowed so that an oversized stream is detected without
        # reading all of it.
        data = obj.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            # ValueError like every other unusable input, so callers need to catch one type.
            msg = "the file object must be opened in binary mode ('rb')"
            raise ValueError(msg)  # noqa: TRY004
        _check_file_size(len(data), _describe(name), at_least=True)
        img = _decode(bytes(data), name=name, draft=draft)
    else:
        raise ValueError(
            f"unsupported image type {type(obj).__name__}: expected a PIL image, a file path, "
            "bytes, a binary file object, a numpy array or a torch tensor"
        )
    _check_pixels(*img.size)
    return img


def _describe(name: str | None) -> str:
    return f"file {name!r}" if name else "the image data"


def _data_url_bytes(url: str) -> bytes:
    """The file in a base64 data URL (``data:[<media type>];base64,<data>``)."""
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise ValueError("a data URL must look like 'data:image/png;base64,<the file in base64>'")
    # Check the size before decoding: base64 takes 4 characters for 3 bytes.
    _check_file_size(len(payload) * 3 // 4, "the image data", at_least=True)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the data URL is not valid base64") from None


def _read_path(path: str | os.PathLike) -> bytes:
    name = os.fspath(path)
    # One open and one fstat: system calls are a good part of the time of a small PNG.
    try:
        f = open(name, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise ValueError(f"no such file: {name!r}") from None
    except OSError:
        if os.path.isdir(name):  # IsADirectoryError on Linux, PermissionError on Windows
            raise ValueError(f"{name!r} is a folder, not an image file") from None
        raise
    with f:
        _check_file_size(os.fstat(f.fileno()).st_size, _describe(name))
        return f.read()


def _check_file_size(n_bytes: int, what: str, at_least: bool = False) -> None:
    if n_bytes == 0:
        raise ValueError(f"{what} is empty (0 bytes)")
    if n_bytes > MAX_FILE_BYTES:
        size = (
            f"more than {MAX_FILE_BYTES / 2**20:.0f}"
            if at_least
            else f"{n_bytes / 2**20:.1f}"
        )
        raise ValueError(
            f"{what} is too large: {size} MB, the limit is {MAX_FILE_BYTES / 2**20:.0f} MB"
        )


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"image too large: {width} x {height} pixels, the limit is {MAX_PIXELS:,} pixels"
        )
    if width == 0 or height == 0:
        raise ValueError(f"the image is empty ({width} x {height} pixels)")


# Pillow reports damaged files with many exception types; all mean the same to a user.
_DAMAGED = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    MemoryError,
)


def _decode(data: bytes, name: str | None, draft: bool = False) -> Image.Image:
    what = _describe(name)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning fires at a higher limit than ours, checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        # Pillow refuses extreme sizes without telling us the dimensions, only the count.
        match = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(match.group(1)):,} pixels" if match else "too many pixels"
        raise ValueError(
            f"image too large: {count}, the limit is {MAX_PIXELS:,} pixels"
        ) from None
    except UnidentifiedImageError:
        raise ValueError(
            f"{what} is not an image file (or not in a format Pillow can read)"
        ) from None
    except _DAMAGED as e:
        raise ValueError(f"{what} could not be read: it is corrupt ({e})") from None
    # Image.open has only read the header: refuse huge images before decoding the pixels.
    _check_pixels(*img.size)
    if draft and img.format == "JPEG":
        width, height = img.size
        if _draft(img) == 8 and img.mode == "L":
            # The same pixels as libjpeg's, in about half the time, for the files it takes.
            luma = jpeg.luma_eighth(data, width, height)
            if luma is not None:
                return _jpeg_image(img, luma)
        # The whole file in one read instead of Pillow's 64 KiB blocks: the decoder no longer stops at the
        # end of each block (2-3% of a photo's decoding time, measured; the pixels are the same).
        img.decodermaxblock = max(img.decodermaxblock, len(data))
    try:
        return _first_frame(img)
    except _DAMAGED as e:
        raise ValueError(
            f"{what} could not be decoded: it is truncated or corrupt ({e})"
        ) from None


def _draft(img: Image.Image) -> int:
    """Ask the JPEG decoder for the smallest DCT scale (1/2, 1/4, 1/8) that keeps the longer side at least
    :data:`JPEG_WORK_SIZE`, in grayscale when the file is colour or gray (it then decodes only the luma
    channel: the same weights as Pillow's RGB to L conversion, up to rounding). Returns the scale's
    denominator (1: full size)."""
    w, h = img.size
    scale = next((s for s in (8, 4, 2) if max(w, h) // s >= JPEG_WORK_SIZE), 1)
    if scale > 1 or img.mode == "RGB":
        img.draft("L" if img.mode in ("RGB", "L") else None, (w // scale, h // scale))
    return scale


def _jpeg_image(img: Image.Image, luma: np.ndarray) -> Image.Image:
    """The image that the pixels ``luma`` decoded from ``img``'s file make, with its format and information."""
    out = Image.fromarray(luma)
    out.format, out.info = img.format, img.info  # what preprocessing knows a photo by
    return out


def _first_frame(img: Image.Image) -> Image.Image:
    """Load the pixels; for animated images, of the first frame only (a PIL image passed in
    is rewound to frame 0)."""
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)
        img.load()
        # A copy detaches frame 0 from the file so later seeks elsewhere cannot change it.
        return img.copy()
    img.load()
    return img


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


def _array_to_image(a: np.ndarray) -> Image.Image:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ValueError(
            f"unsupported array shape {a.shape}: expected HxW, HxWx1, HxWx2, HxWx3 or HxWx4"
        )
    if a.size == 0:
        raise ValueError(f"the image array is empty (shape {a.shape})")
    _check_pixels(a.shape[1], a.shape[0])

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
    work_size = JPEG_WORK_SIZE if img.format == "JPEG" else WORK_SIZE
    img = _canonical(img)
    factor = math.ceil(max(img.size) / work_size)
    if factor > 1:
        img = img.reduce(factor)

    if img.mode in ("I", "F"):
        return _scale_wide(np.asarray(img, dtype=np.float64), bits16).astype(np.float32)

    gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if img.mode not in ("LA", "RGBA"):
        return gray
    alpha = np.asarray(img.getchannel("A"), dtype=np.float32) / 255.0
    return _resolve_alpha(gray, alpha)


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
    if peak < max(MIN_CONTRAST, 5 * noise):
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
    if img.mode != "1" or "transparency" in img.info or max(img.size) > WORK_SIZE:
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


def _crop_and_resize(ink: np.ndarray, size: int) -> np.ndarray:
    mask = ink > INK_THRESHOLD
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the image looks blank: no strokes found")
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    side = max(math.ceil(max(h, w) / FILL), 1)
    canvas = np.zeros((side, side), dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = crop
    # BOX (area average) when shrinking: antialiased and without ringing; bilinear when a
    # tiny glyph has to be enlarged.
    resample = Image.Resampling.BOX if side >= size else Image.Resampling.BILINEAR
    out = Image.fromarray(canvas).resize((size, size), resample)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def preprocess(obj: Any, size: int = 28) -> torch.Tensor:
    """Convert one image (anything :func:`open_image` accepts) to the Omniglot convention.

    Returns a float32 tensor of shape ``(1, size, size)``, values in [0, 1], ink = 1.0,
    background = 0.0, the ink centred with its longer side filling 80 % of the square.

    Steps: decode (:func:`open_image`); grayscale, with transparent pixels made background;
    polarity from the median of the border pixels (the ink is what departs furthest from it);
    removal of uneven lighting and a threshold-like contrast stretch; crop to the pixels above
    :data:`INK_THRESHOLD`; pad to a centred square; area-average resize to ``size``.

    Raises ``ValueError`` for unreadable images and for blank ones (no strokes found).
    Deterministic: the same input always gives the same tensor.
    """
    _check_size(size)
    img = _open(obj, draft=True)
    ink = _binary_ink(img)
    if ink is None:
        ink = _ink_map(_to_gray(img))
    return torch.from_numpy(_crop_and_resize(ink, size))[None]


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")


#: A batch with at least two encoded files (paths, bytes, data URLs) of this size or more, phone photos, is
#: preprocessed on two threads: decoding them releases the GIL, so two cores take about half the time (small
#: files would only contend for the GIL, and stay on one thread).
PARALLEL_BYTES = 256 * 1024


def preprocess_batch(objs: Iterable[Any], size: int = 28) -> torch.Tensor:
    """Preprocess several images into a ``(n, 1, size, size)`` tensor (see :data:`PARALLEL_BYTES` for when
    it uses two threads; the result is the same).

    A bad image raises ``ValueError`` whose message starts with its index, e.g.
    ``"image 3: the image looks blank: no strokes found"`` (the first bad one in the order given).
    """
    _check_size(size)
    objs = list(objs)
    if not objs:
        return torch.zeros((0, 1, size, size), dtype=torch.float32)
    if _cores() > 1 and sum(_encoded_bytes(obj) >= PARALLEL_BYTES for obj in objs) >= 2:
        results = list(_pool().map(functools.partial(_attempt, size=size), objs))
    else:
        results = []
        for obj in objs:
            results.append(_attempt(obj, size))
            if isinstance(results[-1], ValueError):
                break
    for i, result in enumerate(results):
        if isinstance(result, ValueError):
            raise ValueError(f"image {i}: {result}") from result
    return torch.stack(results)


def _attempt(obj: Any, size: int) -> torch.Tensor | ValueError:
    try:
        return preprocess(obj, size)
    except ValueError as e:
        return e


def _encoded_bytes(obj: Any) -> int:
    """The size of an encoded image file given as a path, bytes or a data URL; 0 for anything else."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return len(obj)
    if isinstance(obj, str) and obj.startswith("data:"):
        return len(obj) * 3 // 4
    if isinstance(obj, (str, os.PathLike)):
        try:
            return os.stat(obj).st_size
        except (OSError, ValueError):
            return 0
    return 0


@functools.cache
def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _pool() -> ThreadPoolExecutor:
    """Two threads, shared by every batch of the process (so two concurrent batches still use two)."""
    return pools.pool("preprocess", 2)


# ----------------------------------------------------------------------------------------------
# What a web page sends: drawing pads and webcam frames
# ----------------------------------------------------------------------------------------------

#: Fraction of a webcam frame's height kept, as a centred square: the edges of a photo (a hand,
#: the desk around the paper) would otherwise be taken for the background or for ink.
WEBCAM_CROP = 0.8


def sketch_image(value: Any) -> Image.Image | None:
    """The drawing of a drawing pad as black ink on white (mode 'L'), or None when there is none.

    ``value`` is what Gradio's Sketchpad/ImageEditor sends (a dict whose ``"composite"`` is an array,
    an image or a path; ``"background"`` when there is no composite) or an image itself. A
    transparent canvas is painted white first, so the strokes' alpha becomes ink.
    """
    img = value
    if isinstance(value, dict):
        img = value.get("composite")
        if img is None:
            img = value.get("background")
    if img is None:
        return None
    img = open_image(img)
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("L")


def crop_to_ink(img: Image.Image) -> Image.Image:
    """A black-on-white drawing cut to a square around its ink, with a margin (a tidy thumbnail)."""
    arr = np.asarray(img.convert("L"))
    rows, cols = np.flatnonzero((arr < 128).any(1)), np.flatnonzero((arr < 128).any(0))
    if rows.size == 0:
        return img
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = int(max(bottom - top, right - left) * 1.25) + 8
    canvas = Image.new("L", (side, side), 255)
    canvas.paste(img.convert("L").crop((left, top, right, bottom)),
                 ((side - (right - left)) // 2, (side - (bottom - top)) // 2))
    return canvas


def webcam_photo(value: Any) -> Image.Image | None:
    """A webcam frame (a ``data:image/...;base64,`` URL as a page sends it, or any image :func:`open_image`
    reads) as a centred square crop (:data:`WEBCAM_CROP` of its height), or None when there is none.

    Raises ``ValueError`` for a malformed data URL or image.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    img = open_image(value)
    img = _first_frame(img) if getattr(img, "is_animated", False) else img
    w, h = img.size
    side = max(1, round(min(w, h) * WEBCAM_CROP))
    left, top = (w - side) // 2, (h - side) // 2
    return img.convert("RGB").crop((left, top, left + side, top + side))
