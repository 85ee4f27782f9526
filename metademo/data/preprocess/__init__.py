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

:func:`open_image` decodes the input (see its docstring for what is accepted), upright as its EXIF
orientation says, and raises ``ValueError`` with a readable message for anything it cannot use.
:func:`preprocess` does the rest: grayscale, transparency, polarity, lighting and contrast, cropping,
centring and resizing.

The border of the image is taken to be background, so a photo should be cropped to the paper
(a dark desk around a white sheet would be mistaken for the background and the sheet for ink).

Images come from strangers, so decoding is budgeted before it starts, in bytes (:data:`MAX_FILE_BYTES`), in
decoded pixels per image (:data:`MAX_PIXELS`, and for photos decoded at reduced size :data:`MAX_JPEG_PIXELS`
and :data:`MAX_JPEG_SAMPLES`) and per batch (:data:`MAX_BATCH_PIXELS`), and in the structure Pillow walks
in Python (:data:`MAX_BLOCKS`). Whatever a file holds, the answer is a result or a ``ValueError``. The
limits are the constants of :mod:`metademo.data.preprocess.limits`, read at each call (change them
there). The steps live in modules of their own: :mod:`~.decode` (with :mod:`~.budget` and :mod:`~.structure`),
:mod:`~.convert`, :mod:`~.ink`, :mod:`~.crop`, and :mod:`~.payloads` for what a web page sends.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ... import pools
from ...lazy import torch
from . import limits
from .budget import _Budget
from .convert import _canonical, _shrunk, _to_gray  # noqa: F401  (tests reach them here)
from .crop import _crop_and_resize
from .decode import BadImage, _file_name, _open, open_image
from .ink import _binary_ink, _ink_map
from .payloads import crop_to_ink, sketch_image, webcam_photo

__all__ = [
    "FILL",
    "FORMATS",
    "INK_THRESHOLD",
    "MAX_BATCH_PIXELS",
    "MAX_FILE_BYTES",
    "MAX_JPEG_PIXELS",
    "MAX_JPEG_SAMPLES",
    "MAX_PIXELS",
    "WORK_SIZE",
    "BadImage",
    "open_image",
    "preprocess",
    "preprocess_batch",
    "sketch_image",
    "crop_to_ink",
    "webcam_photo",
]


def preprocess(obj: Any, size: int = 28) -> torch.Tensor:
    """Convert one image (anything :func:`open_image` accepts) to the Omniglot convention.

    Returns a float32 tensor of shape ``(1, size, size)``, values in [0, 1], ink = 1.0,
    background = 0.0, the ink centred with its longer side filling 80 % of the square.

    Steps: decode (:func:`open_image`; JPEG photos at reduced size), upright as the EXIF orientation says;
    grayscale, with transparent pixels made background; polarity from the median of the border pixels (the
    ink is what departs furthest from it); removal of uneven lighting and a threshold-like contrast stretch;
    crop to the pixels above :data:`INK_THRESHOLD`; pad to a centred square; area-average resize to ``size``.

    Raises ``ValueError`` for unreadable images and for blank ones (no strokes found), and for nothing else
    whatever the input. Deterministic: the same input always gives the same tensor.
    """
    _check_size(size)
    budget = _Budget(limits.MAX_BATCH_PIXELS)
    budget.start(0)
    return _preprocess(obj, size, budget)


def _preprocess(obj: Any, size: int, budget: _Budget) -> torch.Tensor:
    img = _open(obj, draft=True, budget=budget)
    ink = _binary_ink(img)
    if ink is None:
        ink = _ink_map(_to_gray(img))
    return torch.from_numpy(_crop_and_resize(ink, size))[None]


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")




def preprocess_batch(objs: Iterable[Any], size: int = 28) -> torch.Tensor:
    """Preprocess several images into a ``(n, 1, size, size)`` tensor (see :data:`PARALLEL_BYTES` for when
    it uses two threads; the result is the same), decoding at most :data:`MAX_BATCH_PIXELS` in all.

    A bad image raises :class:`BadImage`, a ``ValueError`` whose message starts with its index, e.g.
    ``"image 3: the image looks blank: no strokes found"`` (the first bad one in the order given), and which
    has the index, the file name (if any) and the reason as attributes.
    """
    _check_size(size)
    objs = list(objs)
    if not objs:
        return torch.zeros((0, 1, size, size), dtype=torch.float32)
    attempt = functools.partial(_attempt, size=size, budget=_Budget(limits.MAX_BATCH_PIXELS))
    if _cores() > 1 and sum(_encoded_bytes(obj) >= limits.PARALLEL_BYTES for obj in objs) >= 2:
        results = list(_pool().map(attempt, range(len(objs)), objs))
    else:
        results = []
        for i, obj in enumerate(objs):
            results.append(attempt(i, obj))
            if isinstance(results[-1], ValueError):
                break
    for i, result in enumerate(results):
        if isinstance(result, ValueError):
            raise BadImage(i, result, _file_name(objs[i])) from result
    return torch.stack(results)


def _attempt(index: int, obj: Any, size: int, budget: _Budget) -> torch.Tensor | ValueError:
    budget.start(index)
    try:
        return _preprocess(obj, size, budget)
    except ValueError as e:
        return e
    finally:
        budget.pass_turn()


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



def __getattr__(name: str):
    """The limits (:data:`MAX_PIXELS` and the rest) read here are those of :mod:`.limits`, at the time of
    reading; change them there (``preprocess.limits.MAX_PIXELS = n``), where the code reads them."""
    if name.isupper() and hasattr(limits, name):
        return getattr(limits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
