"""Structure bombs: files whose chunks, segments, blocks or strips Pillow would walk in Python for minutes,
refused from their bytes before Pillow sees them."""

from __future__ import annotations

import struct

import numpy as np
from PIL import Image

from . import limits
from .budget import _check_pixels, _pillow


def _check_structure(data: bytes, what: str) -> tuple[int, int] | None:
    """Refuse a PNG, JPEG or GIF file with more than :data:`MAX_BLOCKS` chunks or segments (or junk bytes
    between them), or :data:`MAX_GIF_BLOCKS` header blocks, before Pillow walks them. For a JPEG, returns its
    start of frame and the number of components of its first scan (see :func:`_check_jpeg`); else None."""
    layout = None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        limit = limits.MAX_BLOCKS
        blocks = _png_chunks(data, limit)
    elif data.startswith(b"\xff\xd8"):
        limit = limits.MAX_BLOCKS
        blocks, layout = _jpeg_segments(data, limit)
    elif data.startswith((b"GIF87a", b"GIF89a")):
        limit = limits.MAX_GIF_BLOCKS
        blocks = _gif_blocks(data, limit)
    else:
        return None
    if blocks > limit:
        raise ValueError(_hostile(what, f"more than {limit:,} chunks, segments or blocks in its structure"))
    return layout


def _hostile(what: str, why: str) -> str:
    return f"{what} could not be read: it is corrupt or made to exhaust the decoder ({why})"


def _png_chunks(data: bytes, limit: int) -> int:
    """The number of chunks of a PNG file, counted up to the end, IEND or ``limit`` + 1."""
    pos, n, end = 8, 0, len(data)
    while pos + 8 <= end and n <= limit:
        length, kind = struct.unpack_from(">I4s", data, pos)
        n += 1
        if kind == b"IEND":
            break
        pos += 12 + length
    return n


def _jpeg_segments(data: bytes, limit: int) -> tuple[int, tuple[int, int] | None]:
    """The number of marker segments (and junk or fill bytes, which Pillow skips one by one) of a JPEG file
    up to its first scan, and (start-of-frame marker, components in the first scan) or None when the walk
    ends without them (Pillow or libjpeg then say what is wrong)."""
    pos, n, end, frame = 2, 0, len(data), 0
    while pos + 4 <= end and n <= limit:
        n += 1
        if data[pos] != 0xFF or data[pos + 1] in (0x00, 0xFF):  # junk, or a fill byte before a marker
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: its length, then the number of components in it
            return n, (frame, data[pos + 4]) if frame and pos + 4 < end else None
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame (not DHT, JPG, DAC)
            frame = marker
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return n, None


def _gif_blocks(data: bytes, limit: int) -> int:
    """The number of extension sub-blocks of a GIF file before its first image, counted up to ``limit`` + 1."""
    if len(data) < 13:
        return 0
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # after the global colour table
    n, end = 0, len(data)
    while pos + 1 < end and data[pos] == 0x21 and n <= limit:  # an extension: label, sub-blocks, 0
        pos += 2
        while pos < end and data[pos] and n <= limit:
            n += 1
            pos += 1 + data[pos]
        pos += 1
    return n


def _check_jpeg(img: Image.Image, data: bytes, layout: tuple[int, int], what: str, full: bool) -> int:
    """Check a JPEG file's size against the limits; return the pixels it costs (see :data:`MAX_BATCH_PIXELS`).

    ``layout`` (from :func:`_jpeg_segments`): a progressive file, or one whose first scan does not hold
    every component, makes libjpeg keep all the coefficients (:data:`MAX_JPEG_SAMPLES`) and go over them once
    per scan (:data:`MAX_JPEG_SCANS`). ``full``: decoded at full size (:data:`MAX_PIXELS`)."""
    width, height = img.size
    frame, first_scan = layout
    components = getattr(img, "layer", None) or [(0, 1, 1, 0)] * 3
    hmax = max(max(c[1] for c in components), 1)
    vmax = max(max(c[2] for c in components), 1)
    per_pixel = sum(max(c[1], 1) * max(c[2], 1) for c in components) / (hmax * vmax)  # samples per pixel
    multiscan = frame in (0xC2, 0xC6, 0xCA, 0xCE) or first_scan < len(components)
    if full:
        _check_pixels(width, height, what)
    else:
        _check_pixels(width, height, what, limits.MAX_JPEG_PIXELS, " for a JPEG photo")
    if not multiscan:
        return width * height if full else width * height // 4
    limit = int(limits.MAX_JPEG_SAMPLES / per_pixel)
    _check_pixels(width, height, what, limit, f" for a progressive JPEG with {per_pixel:g} samples per pixel")
    a = np.frombuffer(data, np.uint8)
    scans = int(np.count_nonzero(a[np.flatnonzero(a[:-1] == 0xFF) + 1] == 0xDA))
    if scans > limits.MAX_JPEG_SCANS:
        raise ValueError(_hostile(what, f"{scans} scans, the limit is {limits.MAX_JPEG_SCANS}"))
    return (width * height if full else 0) + width * height * max(scans, 1) // 5


def _check_tiff_strips(img: Image.Image, what: str) -> None:
    """Refuse a TIFF whose strips or tiles, decompressed, are larger than :data:`MAX_TIFF_STRIP_BYTES`.
    (Tags a stranger wrote may hold anything: whatever is not a number counts as the largest possible.)"""
    # Pillow converts a tag's value when it is first read: a damaged one raises there.
    tags = _pillow(lambda: {tag: img.tag_v2.get(tag) for tag in (258, 278, 284, 322, 323)}, what, "read")
    tags = {tag: value for tag, value in tags.items() if value is not None}
    width, height = img.size

    def number(tag: int, default: int) -> int:
        value = tags.get(tag, default)
        value = value[0] if isinstance(value, tuple) and value else value
        return int(value) if isinstance(value, int) and value > 0 else default

    bits = tags.get(258, (1,))
    bits = [b if isinstance(b, int) and b > 0 else 64 for b in (bits if isinstance(bits, tuple) else (bits,))] or [64]
    per_pixel = sum(bits) if number(284, 1) == 1 else max(bits)  # samples together, or one plane per strip
    if 322 in tags and 323 in tags:  # tiles
        block = number(322, width) * number(323, height)
    else:
        block = width * min(number(278, height), height)
    if block * per_pixel / 8 > limits.MAX_TIFF_STRIP_BYTES:
        limit = limits.MAX_TIFF_STRIP_BYTES / 2**20
        raise ValueError(f"{what} is too large: {width} x {height} pixels in strips or tiles of "
                         f"{block * per_pixel / 8 / 2**20:.0f} MB, the limit is {limit:.0f} MB (save it as PNG)")
