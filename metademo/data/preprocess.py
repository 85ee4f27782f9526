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
limits are module constants, read at each call.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import os
import re
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from .. import pools
from ..lazy import torch

__all__ = [
    "FILL",
    "FORMATS",
    "INK_THRESHOLD",
    "MAX_BATCH_PIXELS",
    "MAX_FILE_BYTES",
    "MAX_JPEG_PIXELS",
    "MAX_JPEG_SAMPLES",
    "MAX_PIXELS",
    "BadImage",
    "open_image",
    "preprocess",
    "preprocess_batch",
]

#: Files (paths, bytes, file-like objects, data URLs) larger than this are refused.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Images decoded at full size have at most this many pixels: every format but JPEG (PNG, WebP, GIF, BMP,
#: TIFF... have no reduced decoding), JPEGs that :func:`open_image` returns whole, and PIL images and arrays
#: passed in. 25 million takes a 6K screen's screenshot (20.4 MP), a 24-megapixel camera's image saved as PNG
#: and a page scanned at 400 dpi. Pillow keeps 1 to 4 bytes per pixel and preprocessing converts and shrinks
#: a band of rows at a time, so one image at the limit adds about 150 MB to the process at its peak (measured).
MAX_PIXELS = 25_000_000
#: JPEG files (photos) that :func:`preprocess` decodes at reduced size (1/2 to 1/8, in libjpeg) may be larger:
#: a 48- or 64-megapixel phone photo decodes as 1000 x 750 or 1156 x 867 pixels. libjpeg still reads every
#: coefficient, so the time grows with the size; below Pillow's own warning (89 MP), above every phone but
#: those with 108- or 200-megapixel modes.
MAX_JPEG_PIXELS = 80_000_000
#: A progressive JPEG (or one whose colours come in separate scans) is kept whole in memory as coefficients,
#: 2 bytes per sample (a pixel has 1.5 samples in a phone photo's 4:2:0 sampling, 3 in 4:4:4), whatever the
#: size it decodes at: such files may have at most this many samples (160 MB): 53 megapixels at 4:2:0,
#: 26 at 4:4:4.
MAX_JPEG_SAMPLES = 80_000_000
#: ... and at most this many scans (start-of-scan markers anywhere in the file): libjpeg goes over the
#: coefficients once per scan. Encoders write 10 or so; thousands of tiny scans would take minutes.
MAX_JPEG_SCANS = 32
#: One call of :func:`preprocess_batch` (one request of the app or the API) decodes at most this many pixels
#: in all, so that it takes a few seconds at most (full-size decoding costs about 10 ms per megapixel on one
#: of the development machine's cores). A JPEG decoded at reduced size counts what its decoding costs in
#: the same currency (measured): a quarter of its pixels, or a fifth of them per scan for a progressive one.
#: 200 million: 8 images at :data:`MAX_PIXELS`, 66 12-megapixel phone photos, 18,000 Omniglot drawings.
MAX_BATCH_PIXELS = 200_000_000
#: libtiff decompresses a TIFF's strip or tile whole before Pillow unpacks it: at most this many bytes. A
#: 25-megapixel RGB image in one strip has 75 MB; a 16-bit RGBA one 200 MB, on top of Pillow's 100.
MAX_TIFF_STRIP_BYTES = 80 * 2**20
#: Pillow reads the chunks of a PNG, the segments of a JPEG header and the blocks of a GIF header one at a
#: time in Python (and joins a GIF's comment blocks one by one, in quadratic time): files with more than
#: this many are refused before Pillow sees them. Real files have a few dozen (a PNG's data in 8 KB chunks:
#: 2,600 for 20 MB; an uncompressed TIFF, one per strip).
MAX_BLOCKS = 20_000
#: Sub-blocks of a GIF's extensions before its first image (Pillow joins comments in quadratic time): real
#: files have a few, a hundred with XMP metadata.
MAX_GIF_BLOCKS = 1_000
#: The formats read: what browsers, phones, scanners and paint programs write. The other formats Pillow
#: opens are refused: each is one more decoder that strangers' files would reach, for images no one sends
#: (EPS runs Ghostscript; an ICO's embedded PNG may be far larger than its header says). BMP files
#: compressed by run lengths are refused too: Pillow decodes them in Python, a run at a time.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")
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
#: is decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself (DCT scaling: it never computes the full-size
#: pixels) as long as the longer side stays at least this long, then box-averaged down like other big
#: images. A 12-megapixel photo decodes at 500x375 in a quarter of the time and is worked on at 250x188.
#: The 28x28 result differs from full-size decoding by a few grey levels at the edges of the strokes.
JPEG_WORK_SIZE = 256
#: Big images are converted and shrunk this many pixels at a time (a band of rows), so that no full-size
#: copy is made (Pillow's shrinking of an image with alpha makes one, premultiplied).
BAND_PIXELS = 1 << 21


class BadImage(ValueError):
    """The ``ValueError`` of :func:`preprocess_batch` for an image it cannot use: ``"image 3: <reason>"``.

    ``index`` is the image's position in the batch, ``name`` its file name (for paths and named file
    objects; else None) and ``reason`` the message of :func:`preprocess` for it alone.
    """

    def __init__(self, index: int, reason: ValueError, name: str | None = None):
        super().__init__(f"image {index}: {reason}")
        self.index, self.reason, self.name = index, str(reason), name


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------


def open_image(obj: Any) -> Image.Image:
    """Decode ``obj`` into a PIL image, upright.

    Accepted inputs:

    * a ``PIL.Image.Image``;
    * a path (``str`` or ``os.PathLike``), raw ``bytes``/``bytearray``/``memoryview`` of an
      image file, or a binary file-like object (anything with ``.read()``), in one of :data:`FORMATS`;
    * a data URL, a string ``"data:image/png;base64,..."`` holding the file (what programs and agents
      can send in JSON);
    * a numpy array of shape HxW, HxWx1, HxWx2 (gray + alpha), HxWx3 (RGB) or HxWx4 (RGBA) with
      dtype uint8, uint16, bool, another integer type with values in 0..65535, or float with
      values in [0, 1];
    * a torch tensor of shape HxW, 1xHxW or CxHxW (C = 1..4), converted like the numpy array;
    * the value of Gradio's ImageEditor or Sketchpad, a dict whose ``"composite"`` is one of the above.

    The image is returned in its own mode (``'1'``, ``'L'``, ``'P'``, ``'RGBA'``, ``'I;16'``, ...):
    grayscale conversion and transparency are handled by :func:`preprocess`.  For animated
    images (GIF, APNG, WebP with more than one frame) only the first frame is used. An image whose EXIF
    orientation says it was stored sideways or mirrored (phone photos) is turned upright, and the
    orientation is removed from its metadata; a PIL image passed in is left as it is (a new one is
    returned).

    Raises ``ValueError`` for anything that cannot be used: unsupported types or formats, missing, empty,
    truncated, corrupt or non-image files, files over :data:`MAX_FILE_BYTES` and images with more than
    :data:`MAX_PIXELS` pixels.
    """
    return _open(obj, draft=False, budget=None)


def _open(obj: Any, draft: bool, budget: _Budget | None) -> Image.Image:
    """:func:`open_image`; with ``draft``, JPEG files are decoded at reduced size (see :data:`JPEG_WORK_SIZE`);
    the pixels decoded are taken from ``budget`` (if any) before decoding."""
    if isinstance(obj, dict) and "composite" in obj:
        if obj["composite"] is None:
            raise ValueError("the drawing is empty")
        obj = obj["composite"]
    if isinstance(obj, Image.Image):
        return _given(obj, budget)
    if isinstance(obj, str) and obj.startswith("data:"):
        return _decode(_data_url_bytes(obj), None, draft, budget)
    if isinstance(obj, (str, os.PathLike)):
        return _decode(_read_path(obj), os.fspath(obj), draft, budget)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        _check_file_size(len(data), "the image data")
        return _decode(data, None, draft, budget)
    if isinstance(obj, torch.Tensor):
        return _array_to_image(_tensor_to_array(obj), budget)
    if isinstance(obj, np.ndarray):
        return _array_to_image(obj, budget)
    if hasattr(obj, "read"):
        name = _file_name(obj)
        # Read one byte more than allowed so that an oversized stream is detected without
        # reading all of it.
        data = obj.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            # ValueError like every other unusable input, so callers need to catch one type.
            msg = "the file object must be opened in binary mode ('rb')"
            raise ValueError(msg)  # noqa: TRY004
        _check_file_size(len(data), _describe(name), at_least=True)
        return _decode(bytes(data), name, draft, budget)
    raise ValueError(
        f"unsupported image type {type(obj).__name__}: expected a PIL image, a file path, "
        "bytes, a binary file object, a numpy array or a torch tensor"
    )


def _file_name(obj: Any) -> str | None:
    """The name of a path or of a file object opened from one, else None."""
    if isinstance(obj, (str, os.PathLike)) and not (isinstance(obj, str) and obj.startswith("data:")):
        return os.fspath(obj)
    name = getattr(obj, "name", None) if hasattr(obj, "read") else None
    return name if isinstance(name, str) else None


def _describe(name: str | None) -> str:
    if not name:
        return "the image data"
    text = repr(name)  # quoted, with any newline or control character escaped
    return f"file {text if len(text) <= 1000 else text[:500] + '...' + text[-499:]}"


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
    except OSError as e:
        if os.path.isdir(name):  # IsADirectoryError on Linux, PermissionError on Windows
            raise ValueError(f"{name!r} is a folder, not an image file") from None
        raise ValueError(f"{_describe(name)} could not be opened ({e.strerror or type(e).__name__})") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        _check_file_size(size, _describe(name))
        try:
            # The size the file has, and one byte more to see whether it has grown since (a read of the whole
            # limit would allocate 20 MB first: a quarter of a small PNG's time).
            data = f.read(size + 1)
            if len(data) > size:
                data += f.read(MAX_FILE_BYTES + 1 - len(data))
        except OSError as e:
            raise ValueError(f"{_describe(name)} could not be read ({e.strerror or type(e).__name__})") from None
    _check_file_size(len(data), _describe(name), at_least=True)
    return data


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


def _check_pixels(width: int, height: int, what: str = "the image", limit: int | None = None,
                  kind: str = "") -> None:
    limit = MAX_PIXELS if limit is None else limit
    if width == 0 or height == 0:
        raise ValueError(f"{what} is empty ({width} x {height} pixels)")
    if width * height > limit:
        raise ValueError(f"{what} is too large: {width} x {height} pixels, the limit is {limit:,} pixels{kind}")


class _Budget:
    """The pixels a batch may still decode (:data:`MAX_BATCH_PIXELS`), taken by its images in their order:
    with two threads the image that goes over is the one it is when they take turns, so a batch names the
    same image however it runs. Every index takes its turn once (:meth:`take`, else :meth:`pass_turn`)."""

    def __init__(self, pixels: int):
        self.left = pixels
        self.turn = 0
        self._turns = threading.Condition()
        self._index = threading.local()

    def start(self, index: int) -> None:
        """The calling thread now works on image ``index``."""
        self._index.value = index

    def take(self, pixels: int, what: str) -> None:
        """Spend ``pixels`` on the current image, or raise ``ValueError`` if that would go over the budget."""
        index = self._index.value
        with self._turns:
            self._turns.wait_for(lambda: self.turn >= index)
            if self.turn > index:
                raise RuntimeError(f"image {index} took its turn twice")
            self.turn += 1
            self._turns.notify_all()
            if pixels > self.left:
                raise ValueError(f"{what} would take the images of this request over {MAX_BATCH_PIXELS:,} "
                                 "decoded pixels in all: send fewer or smaller images at a time")
            self.left -= pixels

    def pass_turn(self) -> None:
        """The current image takes nothing (it failed before decoding, or it is done)."""
        index = self._index.value
        with self._turns:
            self._turns.wait_for(lambda: self.turn >= index)
            if self.turn == index:
                self.turn += 1
                self._turns.notify_all()


def _spend(budget: _Budget | None, pixels: int, what: str) -> None:
    if budget is not None:
        budget.take(pixels, what)


def _pillow(step: Callable[[], Any], what: str, doing: str = "decoded") -> Any:
    """``step()``, a call into Pillow on a stranger's data: whatever it raises (Pillow's decoders raise
    OSError, SyntaxError, EOFError, ValueError, ZeroDivisionError, struct.error, KeyError, MemoryError...)
    becomes a ``ValueError`` naming the image. Only Pillow's calls go through here, so that an exception from
    metademo's own code is never taken for a bad file."""
    try:
        return step()
    except Image.DecompressionBombError as e:
        # Pillow refuses extreme sizes (its MAX_IMAGE_PIXELS) without telling the dimensions, only the count.
        match = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(match.group(1)):,} pixels" if match else "far too many pixels"
        raise ValueError(f"{what} is too large: {count}, the limit is {MAX_PIXELS:,} pixels") from None
    except UnidentifiedImageError:
        names = [{"WEBP": "WebP"}.get(f, f) for f in _formats()]
        raise ValueError(f"{what} is not an image file in a format metademo reads ({', '.join(names[:-1])} "
                         f"or {names[-1]})") from None
    except MemoryError:
        raise ValueError(f"{what} could not be {doing}: not enough memory") from None
    except Exception as e:  # noqa: BLE001 (see the docstring)
        detail = str(e) if isinstance(e, (OSError, SyntaxError, EOFError, ValueError)) and str(e) else type(e).__name__
        damage = "corrupt" if doing == "read" else "truncated or corrupt"
        raise ValueError(f"{what} could not be {doing}: it is {damage} ({detail[:200]})") from None


def _decode(data: bytes, name: str | None, draft: bool, budget: _Budget | None) -> Image.Image:
    what = _describe(name)
    layout = _check_structure(data, what)
    img = _pillow(lambda: Image.open(io.BytesIO(data), formats=_formats()), what, "read")
    # Image.open has only read the header: the budgets are checked before any pixel is decoded.
    if len(img.tile) > MAX_BLOCKS:
        raise ValueError(_hostile(what, f"{len(img.tile):,} strips or tiles"))
    if any(tile[0] == "bmp_rle" for tile in img.tile):
        raise ValueError(f"{what} is a BMP file compressed by run lengths, which metademo does not read: "
                         "save it as PNG")
    width, height = img.size
    if img.format in ("JPEG", "MPO") and layout is not None:
        pixels = _check_jpeg(img, data, layout, what, full=not draft)
    else:
        _check_pixels(width, height, what)
        if img.format == "TIFF":
            _check_tiff_strips(img, what)
        pixels = width * height
    _spend(budget, pixels, what)
    if draft and img.format in ("JPEG", "MPO"):
        _pillow(lambda: _draft(img), what)
        # The whole file in one read instead of Pillow's 64 KiB blocks: the decoder no longer stops at the
        # end of each block (2-3% of a photo's decoding time, measured; the pixels are the same).
        img.decodermaxblock = max(img.decodermaxblock, len(data))
    _pillow(img.load, what)  # the first frame of an animation
    return _upright(img, what)


@functools.cache
def _formats() -> tuple[str, ...]:
    """:data:`FORMATS` that this Pillow reads (AVIF needs Pillow 11.3 built with libavif)."""
    Image.init()
    return tuple(f for f in FORMATS if f in Image.OPEN)


def _check_structure(data: bytes, what: str) -> tuple[int, int] | None:
    """Refuse a PNG, JPEG or GIF file with more than :data:`MAX_BLOCKS` chunks or segments (or junk bytes
    between them), or :data:`MAX_GIF_BLOCKS` header blocks, before Pillow walks them. For a JPEG, returns its
    start of frame and the number of components of its first scan (see :func:`_check_jpeg`); else None."""
    layout = None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        limit = MAX_BLOCKS
        blocks = _png_chunks(data, limit)
    elif data.startswith(b"\xff\xd8"):
        limit = MAX_BLOCKS
        blocks, layout = _jpeg_segments(data, limit)
    elif data.startswith((b"GIF87a", b"GIF89a")):
        limit = MAX_GIF_BLOCKS
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
        _check_pixels(width, height, what, MAX_JPEG_PIXELS, " for a JPEG photo")
    if not multiscan:
        return width * height if full else width * height // 4
    limit = int(MAX_JPEG_SAMPLES / per_pixel)
    _check_pixels(width, height, what, limit, f" for a progressive JPEG with {per_pixel:g} samples per pixel")
    a = np.frombuffer(data, np.uint8)
    scans = int(np.count_nonzero(a[np.flatnonzero(a[:-1] == 0xFF) + 1] == 0xDA))
    if scans > MAX_JPEG_SCANS:
        raise ValueError(_hostile(what, f"{scans} scans, the limit is {MAX_JPEG_SCANS}"))
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
    if block * per_pixel / 8 > MAX_TIFF_STRIP_BYTES:
        raise ValueError(f"{what} is too large: {width} x {height} pixels in strips or tiles of "
                         f"{block * per_pixel / 8 / 2**20:.0f} MB, the limit is {MAX_TIFF_STRIP_BYTES / 2**20:.0f} MB "
                         "(save it as PNG)")


def _draft(img: Image.Image) -> None:
    """Ask libjpeg for the smallest DCT scale (1/2, 1/4, 1/8) that keeps the longer side at least
    :data:`JPEG_WORK_SIZE`, in grayscale when the file is colour or gray (it then decodes only the luma
    channel: the same weights as Pillow's RGB to L conversion, up to rounding)."""
    w, h = img.size
    scale = next((s for s in (8, 4, 2) if max(w, h) // s >= JPEG_WORK_SIZE), 1)
    if scale > 1 or img.mode == "RGB":
        # Pillow picks the largest scale that keeps both sides at least the size asked: a side shorter than
        # the scale (a 4097 x 3 strip) asks for 1 pixel, not 0 (which Pillow divides by).
        img.draft("L" if img.mode in ("RGB", "L") else None, (max(w // scale, 1), max(h // scale, 1)))


#: EXIF orientation -> the transposition that puts the image upright.
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: The metadata that holds an orientation, dropped from an image turned upright so that it is not turned twice.
_ORIENTATION_INFO = ("exif", "Raw profile type exif", "xmp", "XML:com.adobe.xmp")


def _upright(img: Image.Image, what: str) -> Image.Image:
    """``img`` (loaded) turned as its EXIF orientation says (what ``ImageOps.exif_transpose`` does, without a
    copy when there is nothing to do); damaged metadata is ignored (the pixels as stored)."""
    if (not any(key in img.info for key in _ORIENTATION_INFO) and not hasattr(img, "tag_v2")
            and getattr(img, "_exif", None) is None):
        return img  # nothing can say otherwise (most PNGs, and arrays): skip parsing
    try:
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # noqa: BLE001 (metadata Pillow cannot parse does not make the pixels unusable)
        return img
    method = _ORIENTATIONS.get(orientation) if isinstance(orientation, int) else None
    if method is None:
        return img
    out = _pillow(lambda: img.transpose(method), what)
    out.info = {key: value for key, value in img.info.items() if key not in _ORIENTATION_INFO}
    out.format = img.format  # what preprocessing knows a photo by
    return out


def _given(img: Image.Image, budget: _Budget | None) -> Image.Image:
    """A PIL image passed in: the first frame (an animation is rewound to frame 0, and copied), upright."""
    what = "the image"
    _check_pixels(*img.size, what)
    _spend(budget, img.width * img.height, what)

    def first_frame() -> Image.Image:
        if img.tell() == 0:
            img.load()
            return img
        img.seek(0)
        img.load()
        # A copy detaches frame 0 from the file so later seeks elsewhere cannot change it.
        return img.copy()

    out = _pillow(first_frame, what)
    _check_pixels(*out.size, what)  # a later frame may have been larger
    return _upright(out, what)


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
    work_size = JPEG_WORK_SIZE if img.format in ("JPEG", "MPO") else WORK_SIZE
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
    rows = factor * max(1, BAND_PIXELS // (width * factor))
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

    Steps: decode (:func:`open_image`; JPEG photos at reduced size), upright as the EXIF orientation says;
    grayscale, with transparent pixels made background; polarity from the median of the border pixels (the
    ink is what departs furthest from it); removal of uneven lighting and a threshold-like contrast stretch;
    crop to the pixels above :data:`INK_THRESHOLD`; pad to a centred square; area-average resize to ``size``.

    Raises ``ValueError`` for unreadable images and for blank ones (no strokes found), and for nothing else
    whatever the input. Deterministic: the same input always gives the same tensor.
    """
    _check_size(size)
    budget = _Budget(MAX_BATCH_PIXELS)
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


#: A batch with at least two encoded files (paths, bytes, data URLs) of this size or more, phone photos, is
#: preprocessed on two threads: decoding them releases the GIL, so two cores take about half the time (small
#: files would only contend for the GIL, and stay on one thread).
PARALLEL_BYTES = 256 * 1024


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
    attempt = functools.partial(_attempt, size=size, budget=_Budget(MAX_BATCH_PIXELS))
    if _cores() > 1 and sum(_encoded_bytes(obj) >= PARALLEL_BYTES for obj in objs) >= 2:
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
    w, h = img.size
    side = max(1, round(min(w, h) * WEBCAM_CROP))
    left, top = (w - side) // 2, (h - side) // 2
    return img.convert("RGB").crop((left, top, left + side, top + side))
