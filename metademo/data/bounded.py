"""Reading a file that strangers send, with a bound: never more bytes than a limit, whatever a header claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO


def read_at_most(opener: Callable[[], BinaryIO], limit: int, too_large: str,
                 cannot_read: Callable[[BaseException], str],
                 errors: tuple[type[BaseException], ...] = (OSError,)) -> bytes:
    """The bytes of the file ``opener()`` opens, read with one bounded read of at most ``limit + 1`` bytes.

    ``ValueError(too_large)`` when the file holds more than ``limit`` bytes, ``ValueError(cannot_read(e))``
    when opening or reading it raises one of ``errors``."""
    try:
        with opener() as f:
            data = f.read(limit + 1)
    except errors as e:
        raise ValueError(cannot_read(e)) from None
    if len(data) > limit:
        raise ValueError(too_large)
    return data
