"""Optional C code, compiled on first use with the system's C compiler and called through ``ctypes``.

Conv-4's kernels (:mod:`metademo.networks.native`) use it. Their sources are plain C (no Python or torch
headers), compiled once per machine with ``cc -O3 -march=native`` into ``kernels/`` of the cache folder
(``$METADEMO_CACHE``, else the project's git-ignored ``.cache/``). ``ctypes`` releases the GIL during a call,
so threads run them side by side.

Loading a library runs code in this process (its constructors run as it loads), so only a library that this
user built is loaded, from one place: the ``kernels/`` folder is created private (mode 0700), and before a
library is loaded the folder and the file are checked without following links (each must belong to this
process's user and be writable by no one else; the folder must be a folder, the library a regular file), and
the library is loaded through the file descriptor that was checked, so nothing can be swapped in between. There
is no other place (no shared temporary folder): where the cache folder cannot be used, :func:`library` warns
once, returns None and the callers compute the same results with torch. A build that fails is reported once
per process, with the compiler's message.

Everything compiled is optional: without a compiler, on other platforms, or with ``METADEMO_NATIVE=0``,
:func:`library` returns None and the callers compute the same results another way.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import platform
import shutil
import stat
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from .paths import cache_dir

FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-shared", "-fPIC"]
_lock = threading.Lock()
_libraries: dict[str, ctypes.CDLL | None] = {}
_descriptors: dict[str, int] = {}  # each loaded library's checked file, open for the life of the process
_warned: set[str] = set()


class _Unusable(Exception):
    """The cache folder, or a library in it, is not safe or not possible to use."""


class _BuildFailed(Exception):
    """The compiler did not produce the library."""


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


def kernel_dir() -> Path:
    """Where libraries are built and loaded from: ``kernels/`` in :func:`metademo.paths.cache_dir`."""
    return cache_dir() / "kernels"


def _check(st: os.stat_result, path: Path, folder: bool) -> None:
    """Refuse what another user could have written: ``st`` (from ``lstat`` or ``fstat``) must be a folder
    (``folder``) or a regular file, owned by this process's user, writable by no one else."""
    if stat.S_ISLNK(st.st_mode):
        raise _Unusable(f"{path} is a symbolic link")
    if not (stat.S_ISDIR if folder else stat.S_ISREG)(st.st_mode):
        raise _Unusable(f"{path} is not a {'folder' if folder else 'regular file'}")
    if st.st_uid != os.geteuid():
        raise _Unusable(f"{path} belongs to another user (uid {st.st_uid})")
    if st.st_mode & 0o022:
        raise _Unusable(f"{path} can be written by other users (mode {stat.S_IMODE(st.st_mode):o})")


def _open_checked(path: Path, folder: bool, dir_fd: int | None = None) -> int:
    """A descriptor of ``path`` (a name in ``dir_fd`` when given), opened without following a link and checked."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_DIRECTORY if folder else 0)
    name = path.name if dir_fd is not None else path
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _Unusable(f"{path} is a symbolic link or not a {'folder' if folder else 'file'}") from None
        raise
    try:
        _check(os.fstat(fd), path, folder)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_folder() -> tuple[Path, int]:
    """The kernels folder, created private where missing, and a descriptor of it, checked."""
    folder = kernel_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check(os.lstat(folder), folder, folder=True)
        return folder, _open_checked(folder, folder=True)
    except OSError as e:
        raise _Unusable(f"{folder} cannot be created or opened ({e.strerror or e})") from None


def _key(sources: Sequence[Path], compiler: str) -> str:
    texts = [source.read_text() for source in sources]
    return hashlib.sha256("\0".join([*texts, compiler, *FLAGS, cpu_id(), platform.machine()])
                          .encode()).hexdigest()[:16]


def _compile(name: str, sources: Sequence[Path], compiler: str, folder: Path, dfd: int, target: str) -> None:
    """Build ``target`` in the folder ``dfd``: into a private temporary file, then renamed (atomic: another
    process may be building the same file)."""
    if not os.access(folder, os.W_OK):
        raise _Unusable(f"{folder} is not writable")
    tmp = f".{target}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        done = subprocess.run([compiler, *FLAGS, "-o", str(folder / tmp), *map(str, sources)],
                              capture_output=True, text=True, errors="replace", timeout=120)
        if done.returncode:
            message = (done.stderr or done.stdout).strip()[-4000:]
            raise _BuildFailed(f"{compiler} exited with status {done.returncode}:\n{message}")
        fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        try:
            os.fchmod(fd, 0o700)  # private whatever the umask; checked again before it is loaded
        finally:
            os.close(fd)
        os.replace(tmp, target, src_dir_fd=dfd, dst_dir_fd=dfd)
    except (OSError, subprocess.SubprocessError) as e:
        raise _BuildFailed(f"{compiler} could not build it ({e})") from None
    finally:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass


def _load(name: str, sources: Sequence[Path], compiler: str) -> tuple[ctypes.CDLL, int]:
    """The library, built where missing, loaded through the descriptor of the file that was checked."""
    folder, dfd = _open_folder()
    try:
        target = f"{name}_{_key(sources, compiler)}.so"
        try:
            fd = _open_checked(folder / target, folder=False, dir_fd=dfd)
        except FileNotFoundError:
            _compile(name, sources, compiler, folder, dfd, target)
            fd = _open_checked(folder / target, folder=False, dir_fd=dfd)
    finally:
        os.close(dfd)
    via = f"/proc/self/fd/{fd}"  # the checked file itself, whatever its name points to by now
    try:
        return ctypes.CDLL(via if os.path.exists(via) else str(folder / target)), fd
    except OSError:
        os.close(fd)
        raise


def _warn(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def library(name: str, sources: Sequence[Path], declare: Callable[[ctypes.CDLL], None]) -> ctypes.CDLL | None:
    """The library ``name`` built from ``sources`` (on first use; later calls return the same one), after
    ``declare`` has set its functions' argument types; None where it cannot be had."""
    if name in _libraries:
        return _libraries[name]
    with _lock:
        if name in _libraries:
            return _libraries[name]
        lib = None
        compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if os.environ.get("METADEMO_NATIVE", "1") != "0" and compiler and sys.platform.startswith("linux"):
            try:
                lib, _descriptors[name] = _load(name, sources, compiler)
                declare(lib)
            except _Unusable as e:
                lib = None
                _warn(f"compiled kernels are off: {e}; the slower torch code is used instead")
            except _BuildFailed as e:
                lib = None
                _warn(f"could not compile {name}, the slower torch code is used instead: {e}")
            except (OSError, AttributeError) as e:
                lib = None
                _warn(f"could not load the compiled {name} ({e}); the slower torch code is used instead")
        _libraries[name] = lib
    return lib
