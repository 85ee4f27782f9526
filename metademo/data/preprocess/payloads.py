"""What a web page sends: drawing pads and webcam frames."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from .decode import open_image

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
