"""Compiled code is built and loaded only from this user's private cache folder: a library planted anywhere
else (the shared temporary folder), or in a folder or file another user could write, is never loaded (its
constructor, which would run as it loads, never runs); a failed build is reported once, with the compiler's
message; and without a usable folder everything still works, in torch."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest

from metademo import compiled

COMPILER = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
pytestmark = pytest.mark.skipif(COMPILER is None or not sys.platform.startswith("linux"),
                                reason="needs a C compiler on Linux")

GOOD = "int answer(void) { return 42; }\n"


def _declare(lib):
    lib.answer.restype = ctypes.c_int


def _planted(tmp_path: Path, marker: Path) -> Path:
    """A library whose constructor writes ``marker`` (what a planted library's code could do as it loads)."""
    source = tmp_path / "planted.c"
    source.write_text(textwrap.dedent(f"""
        #include <stdio.h>
        __attribute__((constructor)) static void planted(void) {{
            FILE *f = fopen("{marker}", "w");
            if (f) {{ fputs("ran", f); fclose(f); }}
        }}
        int answer(void) {{ return 7; }}
    """))
    out = tmp_path / "planted.so"
    subprocess.run([COMPILER, "-shared", "-fPIC", "-o", str(out), str(source)], check=True, capture_output=True)
    return out


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A source file, a fresh cache folder (``METADEMO_CACHE``), a library name no other test uses and the
    marker a planted library would write."""
    monkeypatch.setenv("METADEMO_NATIVE", "1")
    monkeypatch.setenv("METADEMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(compiled, "_warned", set())
    source = tmp_path / "answer.c"
    source.write_text(GOOD)
    name = f"t{os.getpid()}_{tmp_path.name}".replace("-", "_")
    marker = tmp_path / "marker"
    target_name = f"{name}_{compiled._key([source], COMPILER)}.so"
    return source, name, marker, target_name


def _library(name, source):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib = compiled.library(name, [source], _declare)
    return lib, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_the_library_is_built_private_and_loaded_once(setup, tmp_path):
    source, name, _, target_name = setup
    lib, messages = _library(name, source)
    assert lib is not None and lib.answer() == 42 and messages == []
    folder = tmp_path / "cache" / "kernels"
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700
    assert sorted(os.listdir(folder)) == [target_name]  # no temporary file left behind
    assert stat.S_IMODE(os.lstat(folder / target_name).st_mode) == 0o700
    assert compiled.library(name, [source], _declare) is lib


def test_a_library_planted_in_the_shared_temporary_folder_is_never_loaded(setup, tmp_path, monkeypatch):
    source, name, marker, target_name = setup
    # No usable cache folder (its parent is a file): before, the library was then taken from
    # $TMPDIR/metademo-kernels/, where any local user can put one under the name computed from public inputs.
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("METADEMO_CACHE", str(tmp_path / "file" / "cache"))
    shared = tmp_path / "tmp"
    (shared / "metademo-kernels").mkdir(parents=True)
    shutil.copy(_planted(tmp_path, marker), shared / "metademo-kernels" / target_name)
    monkeypatch.setenv("TMPDIR", str(shared))
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    lib, messages = _library(name, source)
    assert lib is None and not marker.exists()
    assert len(messages) == 1 and "compiled kernels are off" in messages[0] and "cannot be created" in messages[0]
    assert compiled.library(name, [source], _declare) is None  # decided once


def _plant_in_cache(tmp_path, marker, target_name, folder_mode=0o700) -> Path:
    folder = tmp_path / "cache" / "kernels"
    folder.mkdir(parents=True)
    shutil.copy(_planted(tmp_path, marker), folder / target_name)
    os.chmod(folder / target_name, 0o755)
    os.chmod(folder, folder_mode)
    return folder


def test_a_cache_folder_others_can_write_is_refused(setup, tmp_path):
    source, name, marker, target_name = setup
    _plant_in_cache(tmp_path, marker, target_name, folder_mode=0o777)
    lib, messages = _library(name, source)
    assert lib is None and not marker.exists()
    assert messages == [f"compiled kernels are off: {tmp_path / 'cache' / 'kernels'} can be written by other users "
                        "(mode 777); the slower torch code is used instead"]


def test_a_library_others_can_write_is_refused(setup, tmp_path):
    source, name, marker, target_name = setup
    folder = _plant_in_cache(tmp_path, marker, target_name)
    os.chmod(folder / target_name, 0o666)
    lib, messages = _library(name, source)
    assert lib is None and not marker.exists()
    assert len(messages) == 1 and f"{folder / target_name} can be written by other users (mode 666)" in messages[0]


def test_links_are_not_followed(setup, tmp_path, monkeypatch):
    source, name, marker, target_name = setup
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    shutil.copy(_planted(tmp_path, marker), elsewhere / target_name)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "kernels").symlink_to(elsewhere)  # the folder a link
    lib, messages = _library(name, source)
    assert lib is None and not marker.exists() and "symbolic link" in messages[0]
    # the library a link (in a private folder of ours) to the planted one
    monkeypatch.setenv("METADEMO_CACHE", str(tmp_path / "cache2"))
    (tmp_path / "cache2" / "kernels").mkdir(parents=True, mode=0o700)
    other = name + "_b"  # a fresh name: the first answer is kept per process
    link = tmp_path / "cache2" / "kernels" / target_name.replace(name, other, 1)
    link.symlink_to(elsewhere / target_name)
    lib, messages = _library(other, source)
    assert lib is None and not marker.exists()
    assert messages == [f"compiled kernels are off: {link} is a symbolic link or not a file; the slower torch code "
                        "is used instead"]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_or_library_of_another_user_is_refused(setup, tmp_path):
    source, name, marker, target_name = setup
    folder = _plant_in_cache(tmp_path, marker, target_name)
    os.chown(folder, 65534, 65534)
    lib, messages = _library(name, source)
    assert lib is None and not marker.exists()
    assert len(messages) == 1 and f"{folder} belongs to another user (uid 65534)" in messages[0]
    os.chown(folder, 0, 0)
    other = name + "_b"  # a fresh name: the first answer is kept per process
    os.rename(folder / target_name, folder / target_name.replace(name, other, 1))
    os.chown(folder / target_name.replace(name, other, 1), 65534, 65534)
    lib, messages = _library(other, source)
    assert lib is None and not marker.exists()
    assert len(messages) == 1 and "belongs to another user (uid 65534)" in messages[0]


def test_a_failed_build_warns_once_with_the_compilers_message(setup, tmp_path, monkeypatch):
    source, name, _, _ = setup
    source.write_text("int answer(void) { return 42 }\n")  # a missing semicolon
    log = tmp_path / "compiler.log"
    wrapper = tmp_path / "cc-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{COMPILER}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("CC", str(wrapper))
    lib, messages = _library(name, source)
    assert lib is None and len(messages) == 1
    assert messages[0].startswith(f"could not compile {name}, the slower torch code is used instead: {wrapper} "
                                  "exited with status 1:")
    assert re.search(r"answer\.c:1:\d+: error: expected .;. before .}. token", messages[0]), messages[0]
    lib, again = _library(name, source)
    assert lib is None and again == [] and log.read_text() == "run\n"  # reported and tried once per process
    assert [p.name for p in (tmp_path / "cache" / "kernels").iterdir()] == []  # nothing half-built left


def test_switched_off_means_no_build_and_no_warning(setup, tmp_path, monkeypatch):
    source, name, _, _ = setup
    monkeypatch.setenv("METADEMO_NATIVE", "0")
    lib, messages = _library(name, source)
    assert lib is None and messages == [] and not (tmp_path / "cache").exists()


def test_the_network_kernels_never_load_a_planted_library(tmp_path):
    """The real case, in a fresh process: Conv-4's kernels with no usable cache folder and a library planted
    under their name in the shared temporary folder; the network still computes (in torch)."""
    from metademo.networks import native

    marker = tmp_path / "marker"
    (tmp_path / "file").write_text("")
    shared = tmp_path / "tmp"
    (shared / "metademo-kernels").mkdir(parents=True)
    target = f"kernels_{compiled._key(native.SOURCES, COMPILER)}.so"
    shutil.copy(_planted(tmp_path, marker), shared / "metademo-kernels" / target)
    env = {**os.environ, "METADEMO_NATIVE": "1", "METADEMO_CACHE": str(tmp_path / "file" / "cache"),
           "TMPDIR": str(shared), "CC": COMPILER}
    code = ("import torch, warnings; warnings.simplefilter('always')\n"
            "from metademo.networks import native\n"
            "from metademo.algorithms import REGISTRY\n"
            "print(native.load())\n"
            "learner = REGISTRY['protonet']()\n"
            "f = learner.network.features(learner.init_meta_params(), torch.rand(1, 3, 1, 28, 28))\n"
            "print(tuple(f.shape))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                         cwd=Path(compiled.__file__).parents[1])
    assert out.returncode == 0, out.stderr
    assert not marker.exists()
    assert out.stdout.split("\n")[:2] == ["None", "(1, 3, 64)"]
    assert "compiled kernels are off" in out.stderr
