"""Photos decoded at 1/8 scale from the DC coefficients alone (``kernels/jpeg_dc.c``), in C.

Preprocessing asks for a phone photo's luma at 1/8 scale (see :data:`metademo.data.preprocess.JPEG_WORK_SIZE`).
libjpeg, through Pillow, computes it the long way; :func:`luma_eighth` gives the same pixels, bit for bit,
in about half the time, by skipping the AC coefficients instead of decoding them. It takes the common files
(baseline Huffman-coded, gray or luma and chroma) and declines the rest, which Pillow then decodes as before.

Optional like every compiled part (:mod:`metademo.compiled`): without a compiler it always declines.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from .. import compiled

SOURCES = [Path(__file__).with_name("kernels") / "jpeg_dc.c"]


def _declare(lib: ctypes.CDLL) -> None:
    lib.jdc_luma.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.jdc_luma.restype = ctypes.c_int


def load() -> ctypes.CDLL | None:
    """The compiled decoder, built on first use; None where it cannot be had."""
    return compiled.library("jpeg_dc", SOURCES, _declare)


def luma_eighth(data: bytes, width: int, height: int) -> np.ndarray | None:
    """The luma of the JPEG file ``data`` (``width`` x ``height`` pixels) at 1/8 scale, a uint8 array of
    ``ceil(height / 8)`` x ``ceil(width / 8)``: what Pillow gives after ``draft("L", (width // 8, height //
    8))``. None when the file is not one the decoder takes, or it is damaged, or there is no compiler."""
    lib = load()
    if lib is None:
        return None
    out = np.empty(((height + 7) // 8, (width + 7) // 8), dtype=np.uint8)
    if lib.jdc_luma(data, len(data), out.ctypes.data, out.shape[1], out.shape[0]):
        return None
    return out
