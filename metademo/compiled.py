"""Optional C code, compiled on first use with the system's C compiler and called through ``ctypes``.

Two libraries use it: Conv-4's kernels (:mod:`metademo.networks.native`) and the JPEG decoder that
preprocessing takes photos with (:mod:`metademo.data.jpeg`). Their sources are plain C (no Python or torch
headers), compiled once per machine with ``cc -O3 -march=native`` into ``$METADEMO_CACHE`` (else the
project's git-ignored ``.cache/``). ``ctypes`` releases the GIL during a call, so threads run them side by side.

Everything compiled is optional: without a compiler, on other platforms, or with ``METADEMO_NATIVE=0``,
:func:`library` returns None and the callers compute the same results another way.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .paths import cache_dir

FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-shared", "-fPIC"]
_lock = threading.Lock()
_libraries: dict[str, ctypes.CDLL | None] = {}


def cpu_id() -> str:
    """The CPU's flags line from ``/proc/cpuinfo`` (else the processor's name): what ``-march=native`` depends
    on, so a library built here must not be loaded on another CPU; :func:`metademo.networks.ops.native_bfloat16`
    reads its instruction sets from it too."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _build(name: str, sources: Sequence[Path], compiler: str) -> Path:
    texts = [source.read_text() for source in sources]
    key = hashlib.sha256("\0".join([*texts, compiler, *FLAGS, cpu_id(), platform.machine()])
                         .encode()).hexdigest()[:16]
    for folder in (cache_dir() / "kernels", Path(tempfile.gettempdir()) / "metademo-kernels"):
        target = folder / f"{name}_{key}.so"
        if target.is_file():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}_{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            subprocess.run([compiler, *FLAGS, "-o", str(tmp), *map(str, sources)], check=True,
                           capture_output=True, timeout=120)
            os.replace(tmp, target)  # atomic: another process may be building the same file
            return target
        except (OSError, subprocess.SubprocessError):
            continue
    raise OSError(f"could not build {name}")


def library(name: str, sources: Sequence[Path], declare: Callable[[ctypes.CDLL], None]) -> ctypes.CDLL | None:
    """The library ``name`` built from ``sources`` (on first use; later calls return the same one), after
    ``declare`` has set its functions' argument types; None where it cannot be had."""
    if name in _libraries:
        return _libraries[name]
    with _lock:
        if name in _libraries:
            return _libraries[name]
        lib = None
        try:
            compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
            if os.environ.get("METADEMO_NATIVE", "1") != "0" and compiler and sys.platform.startswith("linux"):
                lib = ctypes.CDLL(str(_build(name, sources, compiler)))
                declare(lib)
        except (OSError, AttributeError):
            lib = None
        _libraries[name] = lib
    return lib
