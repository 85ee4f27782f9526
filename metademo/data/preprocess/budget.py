"""What decoding may cost: file sizes, pixels per image and per batch, and Pillow's errors as ``ValueError``."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import limits


def _check_file_size(n_bytes: int, what: str, at_least: bool = False) -> None:
    if n_bytes == 0:
        raise ValueError(f"{what} is empty (0 bytes)")
    if n_bytes > limits.MAX_FILE_BYTES:
        size = (
            f"more than {limits.MAX_FILE_BYTES / 2**20:.0f}"
            if at_least
            else f"{n_bytes / 2**20:.1f}"
        )
        raise ValueError(
            f"{what} is too large: {size} MB, the limit is {limits.MAX_FILE_BYTES / 2**20:.0f} MB"
        )


def _check_pixels(width: int, height: int, what: str = "the image", limit: int | None = None,
                  kind: str = "") -> None:
    limit = limits.MAX_PIXELS if limit is None else limit
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
                raise ValueError(f"{what} would take the images of this request over {limits.MAX_BATCH_PIXELS:,} "
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
        raise ValueError(f"{what} is too large: {count}, the limit is {limits.MAX_PIXELS:,} pixels") from None
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

@functools.cache
def _formats() -> tuple[str, ...]:
    """:data:`FORMATS` that this Pillow reads (AVIF needs Pillow 11.3 built with libavif)."""
    Image.init()
    return tuple(f for f in limits.FORMATS if f in Image.OPEN)
