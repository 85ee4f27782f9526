"""Thread pools shared across a process: one per name and size, made on first use.

Work that releases the GIL (torch's kernels, compiled C, image decoding) runs side by side on worker
threads; sharing one pool per purpose keeps the number of threads bounded however many callers there are.
A forked child gets pools of its own, since the parent's threads do not exist in it.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_pools: dict[tuple[str, int, int], ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(name: str, workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` threads named ``name``."""
    key = (name, workers, os.getpid())
    with _lock:
        if key not in _pools:
            _pools[key] = ThreadPoolExecutor(workers, thread_name_prefix=name)
        return _pools[key]
