"""The API's limits and the checks of numbers people send (steps, learning rates, counts), written once.

Every check raises ``ValueError`` with a plain message naming what was wrong, ``what`` being how the caller
calls the value ("steps", "Inner steps", "The amplitude"...): the page and the API apply the same rules
in the same words. ``text=True`` also takes numbers written as text ("3", "0.4"), as a form sends them.

A bad image raises :class:`ImageError`, a ``ValueError`` that also says which image (its index among those
given) and why, so that a caller can name it in its own terms ("Class 2, example 3: ...") without reading
the message.
"""

from __future__ import annotations

import math
import re

from ..algorithms.inner_loop import MAX_STEPS

__all__ = ["ImageError", "MAX_CLASSES", "MAX_IMAGES", "MAX_LR", "MAX_STEPS", "check_image_count", "check_lr",
           "check_number", "check_steps", "check_whole"]

MAX_CLASSES = 20
MAX_IMAGES = 1000  # per call: enough for 20 classes x 50 shots, small enough to answer quickly
MAX_LR = 10.0


class ImageError(ValueError):
    """An image that cannot be used: ``index`` (0-based, among the images given) and ``reason`` ("the image
    looks blank: no strokes found"). Its message is ``"image <index>: <reason>"``."""

    def __init__(self, index: int, reason: str):
        super().__init__(f"image {index}: {reason}")
        self.index, self.reason = index, reason

    def __reduce__(self):  # pickled (and copied) with its attributes, e.g. between processes
        return type(self), (self.index, self.reason)


# metademo.data.preprocess.preprocess_batch raises its error for a bad image with the image's index and reason
# as attributes; a data layer without them documents the message as "image <index>: <reason>", raised from the
# image's own ValueError, and that is read here (the one place that reads it).
_BATCH_ERROR = re.compile(r"image (\d+): ")


def image_error(e: ValueError) -> ValueError:
    """``preprocess_batch``'s error for a bad image as an :class:`ImageError` (any other ValueError as it is)."""
    if isinstance(e, ImageError):
        return e
    index, reason = getattr(e, "index", None), getattr(e, "reason", None)
    if isinstance(index, int) and isinstance(reason, str):
        return ImageError(index, reason)
    match = _BATCH_ERROR.match(str(e))
    if match is None:
        return e
    reason = str(e.__cause__) if isinstance(e.__cause__, ValueError) else str(e)[match.end():]
    return ImageError(int(match.group(1)), reason)


def _as_float(value, text: bool) -> float:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not text):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def check_whole(value, what: str, lo: int, hi: int, *, text: bool = False) -> int:
    """``value`` as an int from ``lo`` to ``hi`` (a float with no fraction counts: 3.0 is 3)."""
    f = _as_float(value, text)
    if not math.isfinite(f) or not f.is_integer() or not lo <= f <= hi:
        raise ValueError(f"{what} must be a whole number from {lo} to {hi}, got {value!r}")
    return int(f)


def check_number(value, what: str, lo: float, hi: float, *, lo_open: bool = False, text: bool = False) -> float:
    """``value`` as a finite float from ``lo`` (excluded with ``lo_open``) to ``hi``."""
    f = _as_float(value, text)
    if not math.isfinite(f) or f > hi or f < lo or (lo_open and f <= lo):
        bound = f"above {lo}" if lo_open else f"at least {lo}"
        raise ValueError(f"{what} must be a number {bound} and at most {hi}, got {value!r}")
    return f


def check_steps(value, what: str = "steps", *, text: bool = False) -> int:
    """Inner steps: a whole number from 0 to :data:`MAX_STEPS`."""
    return check_whole(value, what, 0, MAX_STEPS, text=text)


def check_lr(value, what: str = "lr (the inner learning rate)", hi: float = MAX_LR, *, text: bool = False) -> float:
    """An inner learning rate: a number above 0 and at most ``hi`` (:data:`MAX_LR`)."""
    return check_number(value, what, 0, hi, lo_open=True, text=text)


def check_image_count(n: int, what: str = "images") -> None:
    """At least one image and at most :data:`MAX_IMAGES` in one call."""
    if n < 1:
        raise ValueError(f"{what}: no images given")
    if n > MAX_IMAGES:
        raise ValueError(f"{what}: {n} images is too many; at most {MAX_IMAGES} per call")
