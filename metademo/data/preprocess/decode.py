"""Decoding strangers' files within budgets (bytes, pixels per image and per batch), upright as their EXIF
orientation says."""

from __future__ import annotations

import base64
import binascii
import io
import os
from typing import Any

import numpy as np
from PIL import ExifTags, Image

from ...lazy import torch
from . import limits
from .budget import _Budget, _check_file_size, _check_pixels, _formats, _pillow, _spend
from .convert import _array_to_image, _tensor_to_array
from .structure import _check_jpeg, _check_structure, _check_tiff_strips, _hostile


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
        data = obj.read(limits.MAX_FILE_BYTES + 1)
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
                data += f.read(limits.MAX_FILE_BYTES + 1 - len(data))
        except OSError as e:
            raise ValueError(f"{_describe(name)} could not be read ({e.strerror or type(e).__name__})") from None
    _check_file_size(len(data), _describe(name), at_least=True)
    return data




def _decode(data: bytes, name: str | None, draft: bool, budget: _Budget | None) -> Image.Image:
    what = _describe(name)
    layout = _check_structure(data, what)
    img = _pillow(lambda: Image.open(io.BytesIO(data), formats=_formats()), what, "read")
    # Image.open has only read the header: the budgets are checked before any pixel is decoded.
    if len(img.tile) > limits.MAX_BLOCKS:
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






def _draft(img: Image.Image) -> None:
    """Ask libjpeg for the smallest DCT scale (1/2, 1/4, 1/8) that keeps the longer side at least
    :data:`JPEG_WORK_SIZE`, in grayscale when the file is colour or gray (it then decodes only the luma
    channel: the same weights as Pillow's RGB to L conversion, up to rounding)."""
    w, h = img.size
    scale = next((s for s in (8, 4, 2) if max(w, h) // s >= limits.JPEG_WORK_SIZE), 1)
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
