"""A few-shot task as one zip file: the classes (names and example images) and, optionally, queries.

A teacher prepares a task in the app (or in Python) and saves it; students open it and get the same
classes. The file holds ``task.json`` and one PNG per image::

    task.json            {"format": "metademo-task/1", "classes": [{"name": "alpha", "images": [
                            {"file": "classes/0/0.png", "caption": "..."}, ...]}, ...], "queries": [...]}
    classes/0/0.png ...
    queries/0.png ...

Opening a file trusts nothing in it, and every problem is a ``ValueError`` that says what is wrong and in
which file. Before anything is unpacked: the archive's size, the size of its directory (the list of its
files), its number of files, each file's and the total unpacked size, the compression ratio, the
compression method (deflate or none; no encryption) and the names (no ``..``, absolute paths, drive
letters, backslashes or two files of one name). ``task.json`` is then read (at most
:data:`MAX_MANIFEST_BYTES`) and checked whole, every type and count, before any image is read. Only the
files it names are read, each once however often it is named (the task's lists then hold the same image
object), as PNG, JPEG, GIF or WebP: the image's size is read from its header and checked against a pixel
budget per image and for the whole task (pixels and bytes) before it is decoded (by
:func:`~metademo.data.preprocess.open_image`), and an image larger than :data:`KEEP_SIDE` is kept reduced to
that size. So whatever a file holds, opening it decodes at most :data:`MAX_TASK_PIXELS` pixels and
:data:`MAX_TASK_BYTES` bytes of images. The images are returned as PIL images in memory: nothing is ever
written to disk.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import stat
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from PIL import Image

from .bounded import read_at_most

FORMAT = "metademo-task/1"
MAX_ZIP_BYTES = 64 * 2**20  # the archive itself
MAX_FILES = 1200  # 20 classes x 50 examples, queries and task.json, with room to spare
MAX_DIRECTORY_BYTES = 2**20  # the zip's list of its files: 1200 entries with names far longer than ours
MAX_FILE_BYTES = 8 * 2**20  # one unpacked file
MAX_TOTAL_BYTES = 200 * 2**20  # everything unpacked
MAX_RATIO = 200  # unpacked / packed size of one file over 1 MB; PNGs of drawings compress about 10:1
MAX_MANIFEST_BYTES = 2**20  # task.json: 1100 images with 200-character captions take about 350 kB
MAX_CLASSES = 20  # as metademo.api.MAX_CLASSES (the data layer does not import the API)
MAX_PER_CLASS = 50
MAX_QUERIES = 100
MAX_NAME = 80  # characters of a class name
MAX_CAPTION = 200  # characters of a caption; longer ones are dropped
#: Pixels of one image of a task (a 12-megapixel phone photo fits; :func:`save_task` writes at most
#: KEEP_SIDE x KEEP_SIDE), checked from the file's header before it is decoded.
MAX_IMAGE_PIXELS = 16_000_000
#: Pixels of all the distinct images of a task together (1100 drawings of 300 x 300 fit): what bounds the time
#: decoding takes (about a second for PNGs, three for progressive JPEGs).
MAX_TASK_PIXELS = 100_000_000
#: Memory of all the distinct images of a task together, decoded, as Pillow keeps them (a byte a pixel for gray
#: and palette images, four for colour: 190 colour webcam photos of 576 x 576 fit): what bounds the memory an
#: opened task holds. With one image being decoded on top (WebP's decoder takes about 16 bytes a pixel, so at
#: most 250 MB), opening a task adds at most about 500 MB to the peak.
MAX_TASK_BYTES = 256 * 2**20
#: Images are kept at most this many pixels on their longer side: what preprocessing works on
#: (:data:`~metademo.data.preprocess.WORK_SIZE`); larger ones are box-averaged down, as it would do.
KEEP_SIDE = 1024
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")  # the decoders a task's images may use

# What zipfile raises for a damaged or hostile archive: all mean the same to a user.
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
            ValueError, zlib.error, struct.error, OverflowError, IndexError, KeyError)


@dataclass
class Task:
    """Classes (names, example images and optional captions, in order) and optional query images.

    A file that ``task.json`` names several times gives the same image object each time."""

    names: list[str]
    examples: list[list[Image.Image]]
    captions: list[list[str | None]] = field(default_factory=list)
    queries: list[Image.Image] = field(default_factory=list)
    query_captions: list[str | None] = field(default_factory=list)

    @property
    def images(self) -> list[Image.Image]:
        """Every example image, class after class (for ``fit``)."""
        return [img for imgs in self.examples for img in imgs]

    @property
    def labels(self) -> list[str]:
        """The class name of each of :attr:`images`."""
        return [name for name, imgs in zip(self.names, self.examples) for _ in imgs]


# ----------------------------------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------------------------------


def _png(image) -> bytes:
    from .preprocess import open_image

    img = _shrink(open_image(image))
    if img.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def save_task(target, names, examples, captions=None, queries=(), query_captions=None) -> None:
    """Write a task zip to ``target`` (a path or a binary file object).

    ``examples[c]`` are the images of class ``names[c]`` (anything ``open_image`` reads); ``captions``
    (same shape, optional) travel with them, e.g. where a gallery drawing came from. Images larger than
    :data:`KEEP_SIDE` on a side are written reduced to that size, as :func:`load_task` would keep them.
    """
    names = [str(n) for n in names]
    if len(names) != len(examples):
        raise ValueError(f"got {len(names)} class names but {len(examples)} lists of examples")
    _check_names(names)
    captions = captions or [[None] * len(ex) for ex in examples]
    query_captions = query_captions or [None] * len(queries)
    manifest = {"format": FORMAT, "classes": [], "queries": []}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for c, (name, images) in enumerate(zip(names, examples)):
            entry = {"name": name, "images": []}
            for j, (img, cap) in enumerate(zip(images, captions[c])):
                file = f"classes/{c}/{j}.png"
                zf.writestr(file, _png(img))
                entry["images"].append({"file": file, "caption": _caption(cap)})
            manifest["classes"].append(entry)
        for j, (img, cap) in enumerate(zip(queries, query_captions)):
            file = f"queries/{j}.png"
            zf.writestr(file, _png(img))
            manifest["queries"].append({"file": file, "caption": _caption(cap)})
        zf.writestr("task.json", json.dumps(manifest, indent=1))


def _caption(caption) -> str | None:
    return caption if isinstance(caption, str) and len(caption) <= MAX_CAPTION else None


def _check_names(names: list[str]) -> None:
    if not 1 <= len(names) <= MAX_CLASSES:
        raise ValueError(f"a task has 1 to {MAX_CLASSES} classes, this one has {len(names)}")
    for n in names:
        if not n.strip() or len(n) > MAX_NAME:
            raise ValueError(f"class names must be 1 to {MAX_NAME} characters, got {n!r:.100}")
    if len(set(names)) != len(names):
        raise ValueError("two classes have the same name")


def _shrink(img: Image.Image) -> Image.Image:
    """``img`` box-averaged down to at most :data:`KEEP_SIDE` pixels on its longer side (itself when it is
    no larger), first converted as preprocessing converts it (palettes and bits to gray or colour, with alpha)."""
    factor = math.ceil(max(img.size) / KEEP_SIDE)
    if factor <= 1:
        return img
    mode, alpha = img.mode, "transparency" in img.info
    if mode in ("1", "L"):
        mode = "LA" if alpha else "L"
    elif mode in ("P", "PA"):
        mode = "RGBA" if alpha or mode == "PA" else "RGB"
    elif mode == "RGB":
        mode = "RGBA" if alpha else "RGB"
    elif mode.startswith("I;16"):
        mode = "I"
    elif mode in ("La", "RGBa"):
        mode = mode.upper()
    elif mode not in ("LA", "RGBA", "I", "F"):
        mode = "RGB"  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    return (img if img.mode == mode else img.convert(mode)).reduce(factor)


# ----------------------------------------------------------------------------------------------
# Opening: the archive
# ----------------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return False
    return ".." not in PurePosixPath(name).parts


def _open_source(source, stack: contextlib.ExitStack):
    """A seekable binary file of the task, its size checked."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        fp, size = io.BytesIO(source), len(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            fp = stack.enter_context(open(source, "rb"))  # noqa: SIM115 (closed by the stack)
            st = os.fstat(fp.fileno())
        except OSError as e:
            raise ValueError(f"the task file cannot be read: {e.strerror or e}") from None
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("the task file is not a regular file")
        size = st.st_size
    elif hasattr(source, "read") and hasattr(source, "seek"):
        fp = source
        try:
            size = fp.seek(0, io.SEEK_END)
            fp.seek(0)
            if not isinstance(fp.read(0), bytes):
                raise ValueError("the task file must be opened in binary mode ('rb')")
        except (OSError, AttributeError, io.UnsupportedOperation) as e:
            raise ValueError(f"the task file cannot be read: {e}") from None
    else:
        raise ValueError(f"a task file is a path, bytes or a binary file object, got {type(source).__name__}")
    if size > MAX_ZIP_BYTES:
        raise ValueError(f"the task file is {size / 2**20:.0f} MB; at most {MAX_ZIP_BYTES // 2**20} MB are opened")
    return fp


def _check_directory(fp) -> None:
    """Refuse a zip whose directory (the list of its files, read whole by ``zipfile``) is larger than
    :data:`MAX_DIRECTORY_BYTES` or counts more than :data:`MAX_FILES` files, before ``zipfile`` reads it: a 64 MB
    directory would be a million entries, half a gigabyte of Python objects."""
    end_record = getattr(zipfile, "_EndRecData", None)  # what ZipFile itself reads; private, so optional
    if end_record is None:
        return
    try:
        record = end_record(fp)
    except _DAMAGED:
        record = None  # ZipFile says what is wrong below
    fp.seek(0)
    if record is None:
        return
    entries, size = record[zipfile._ECD_ENTRIES_TOTAL], record[zipfile._ECD_SIZE]
    if entries > MAX_FILES:
        raise ValueError(f"the task file holds {entries} files; at most {MAX_FILES} are opened")
    if size > MAX_DIRECTORY_BYTES:
        raise ValueError(f"the task file's list of files takes {size / 2**20:.1f} MB; at most "
                         f"{MAX_DIRECTORY_BYTES // 2**20} MB are read")


def _archive(fp) -> zipfile.ZipFile:
    _check_directory(fp)
    try:
        return zipfile.ZipFile(fp)
    except _DAMAGED:
        raise ValueError("this is not a task file: it is not a zip archive, or a damaged one "
                         "(save one with 'Download task')") from None


def _check_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        raise ValueError(f"the task file holds {len(infos)} files; at most {MAX_FILES} are opened")
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if not _safe_name(name):
            raise ValueError(f"the task file contains an unsafe file name ({name!r:.80}); it was not opened")
        if name in members:
            raise ValueError(f"the task file holds two files named {name!r:.80}; it was not opened")
        if info.flag_bits & 0x1:
            raise ValueError(f"{name!r:.80} in the task file is encrypted; task files are not")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"{name!r:.80} in the task file uses compression method {info.compress_type}; "
                             "task files use deflate or none")
        if info.file_size > MAX_FILE_BYTES:
            raise ValueError(f"{name!r:.80} in the task file is {info.file_size / 2**20:.0f} MB unpacked; "
                             f"at most {MAX_FILE_BYTES // 2**20} MB per file")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise ValueError(f"{name!r:.80} in the task file unpacks to {info.file_size / 2**20:.1f} MB from "
                             f"{info.compress_size} bytes, more than {MAX_RATIO} times its packed size "
                             "(a zip bomb?); it was not opened")
        total += info.file_size
        members[name] = info
    if total > MAX_TOTAL_BYTES:
        raise ValueError(f"the task file unpacks to {total / 2**20:.0f} MB; at most {MAX_TOTAL_BYTES // 2**20} MB")
    return members


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The file's bytes, never more than ``limit`` (whatever its header claims: read with a bound)."""
    return read_at_most(lambda: zf.open(info), limit,
                        f"{info.filename!r:.80} in the task file is larger than {limit / 2**20:g} MB",
                        lambda e: f"{info.filename!r:.80} in the task file is damaged ({e})", _DAMAGED)


# ----------------------------------------------------------------------------------------------
# Opening: task.json
# ----------------------------------------------------------------------------------------------


def _number(text: str) -> int:
    # JSON numbers are not used; a long one would only cost time (int() is quadratic in its digits).
    if len(text) > 20:
        raise ValueError("a number in task.json is too long")
    return int(text)


def _constant(name: str):
    raise ValueError(f"task.json holds {name}, which is not JSON")


def _manifest(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]):
    info = members.get("task.json")
    if info is None:
        raise ValueError("this zip file is not a task: it has no task.json (save one with 'Download task')")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ValueError(f"task.json in the task file is {info.file_size / 2**20:.1f} MB; at most "
                         f"{MAX_MANIFEST_BYTES // 2**20} MB")
    data = _read(zf, info, MAX_MANIFEST_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("task.json in the task file is not UTF-8 text") from None
    try:
        return json.loads(text, parse_int=_number, parse_constant=_constant)
    except RecursionError:
        raise ValueError("task.json in the task file is nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"task.json in the task file is not valid JSON ({str(e):.100})") from None


def _malformed(what: str) -> ValueError:
    return ValueError(f"task.json in the task file is malformed: {what}")


def _entries(value, cls: str | None, members: dict) -> list[tuple[str, str | None]]:
    """(file, caption) of each image entry of class ``cls``'s list in task.json (None: the queries'), every
    type and name checked."""
    what = "the queries" if cls is None else f"class {cls!r}"
    if not isinstance(value, list):
        raise _malformed(f"the images of {what} must be a list, not {type(value).__name__}")
    if cls is None and len(value) > MAX_QUERIES:
        raise ValueError(f"the task has {len(value)} queries; at most {MAX_QUERIES}")
    if cls is not None and len(value) > MAX_PER_CLASS:
        raise ValueError(f"class {cls!r} has {len(value)} images; at most {MAX_PER_CLASS} per class")
    out = []
    for j, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise _malformed(f"image {j + 1} of {what} must be an object, not {type(entry).__name__}")
        file, caption = entry.get("file"), entry.get("caption")
        if not isinstance(file, str):
            raise _malformed(f"image {j + 1} of {what} has no file name")
        if caption is not None and not isinstance(caption, str):
            raise _malformed(f"the caption of image {j + 1} of {what} must be text, not {type(caption).__name__}")
        if not _safe_name(file):
            raise ValueError(f"task.json in the task file names an unsafe file ({file!r:.80}); it was not opened")
        if file not in members:
            raise ValueError(f"the task file lists {file!r:.80} but does not contain it")
        out.append((file, _caption(caption)))
    return out


def _parse(manifest, members: dict):
    """Class names, each class's (file, caption) pairs and the queries', from task.json, all checked."""
    if not isinstance(manifest, dict):
        raise _malformed(f"it must hold an object ({{...}}), not {type(manifest).__name__}")
    fmt = manifest.get("format")
    if fmt != FORMAT:
        shown = repr(fmt)[:40] if isinstance(fmt, str) or fmt is None else type(fmt).__name__
        raise ValueError(f"the task file is not a metademo task (format {shown}, expected {FORMAT!r})")
    classes = manifest.get("classes")
    queries = manifest.get("queries")
    if not isinstance(classes, list):
        raise _malformed("'classes' must be a list")
    if queries is not None and not isinstance(queries, list):
        raise _malformed("'queries' must be a list")
    if not 1 <= len(classes) <= MAX_CLASSES:
        raise ValueError(f"task.json in the task file: a task has 1 to {MAX_CLASSES} classes, this one has "
                         f"{len(classes)}")
    for i, cls in enumerate(classes):
        if not isinstance(cls, dict):
            raise _malformed(f"class {i + 1} must be an object, not {type(cls).__name__}")
        if not isinstance(cls.get("name"), str):
            raise _malformed(f"class {i + 1} has no name")
    names = [cls["name"] for cls in classes]
    try:
        _check_names(names)
    except ValueError as e:
        raise ValueError(f"task.json in the task file: {e}") from None
    examples = []
    for name, cls in zip(names, classes):
        images = cls.get("images")
        if isinstance(images, list) and not images:
            raise ValueError(f"class {name!r} in the task file has no images")
        examples.append(_entries(images, name, members))
    return names, examples, _entries(queries or [], None, members)


# ----------------------------------------------------------------------------------------------
# Opening: the images
# ----------------------------------------------------------------------------------------------


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow keeps in memory for a pixel of ``mode``: one byte for gray and palette images, two for
    16-bit gray, four for everything else (colour is padded to four)."""
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


def _header(data: bytes, file: str, what: str) -> tuple[int, int, str]:
    """Width, height and mode from an image file's header, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
                return img.width, img.height, img.mode
    except Image.DecompressionBombError:
        raise ValueError(f"{what} ({file!r:.80}) is not a usable image: it has far too many pixels") from None
    except Exception:  # noqa: BLE001 (Pillow reports a bad header with many exception types)
        raise ValueError(f"{what} ({file!r:.80}) is not a usable image: it is not a PNG, JPEG, GIF or WebP "
                         "file, or its header is damaged") from None


class _Images:
    """Each file of the archive decoded at most once, within the task's budgets of pixels and bytes."""

    def __init__(self, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]):
        self.zf, self.members = zf, members
        self.decoded: dict[str, Image.Image] = {}
        self.pixels = self.bytes = 0

    def __call__(self, file: str, what: str) -> Image.Image:
        if file in self.decoded:
            return self.decoded[file]
        from .preprocess import open_image

        data = _read(self.zf, self.members[file], MAX_FILE_BYTES)
        width, height, mode = _header(data, file, what)
        cost = self._spend(width * height, width * height * _bytes_per_pixel(mode), file, what,
                           f"{width} x {height} pixels")
        try:
            img = open_image(data)
        except ValueError as e:
            raise ValueError(f"{what} ({file!r:.80}) is not a usable image: {e}") from None
        pixels = img.width * img.height
        if pixels > cost[0] or pixels * _bytes_per_pixel(img.mode) > cost[1]:  # more than the header said
            self._spend(max(0, pixels - cost[0]), max(0, pixels * _bytes_per_pixel(img.mode) - cost[1]), file,
                        what, f"{img.width} x {img.height} pixels")
        kept = _shrink(img)
        if kept is not img:
            img.close()  # now, not when the garbage collector finds it: a decoder may hold its own copy
        self.decoded[file] = kept
        return kept

    def _spend(self, pixels: int, size_bytes: int, file: str, what: str, size: str) -> tuple[int, int]:
        if pixels > MAX_IMAGE_PIXELS:
            raise ValueError(f"{what} ({file!r:.80}) is too large: {size}; a task's images have at most "
                             f"{MAX_IMAGE_PIXELS:,} pixels each")
        self.pixels += pixels
        self.bytes += size_bytes
        if self.pixels > MAX_TASK_PIXELS:
            raise ValueError(f"the images of the task file hold more than {MAX_TASK_PIXELS:,} pixels in all "
                             f"(reached at {file!r:.80}); it was not opened")
        if self.bytes > MAX_TASK_BYTES:
            raise ValueError(f"the images of the task file take more than {MAX_TASK_BYTES // 2**20} MB decoded "
                             f"(reached at {file!r:.80}); it was not opened")
        return pixels, size_bytes


def load_task(source) -> Task:
    """Read a task zip (a path, bytes or a binary file object); ``ValueError`` for anything broken or hostile."""
    with contextlib.ExitStack() as stack:
        zf = stack.enter_context(_archive(_open_source(source, stack)))
        members = _check_members(zf)
        names, examples, queries = _parse(_manifest(zf, members), members)
        image = _Images(zf, members)
        task = Task(names, [], [], [], [])
        for name, entries in zip(names, examples):
            task.examples.append([image(file, f"image {j + 1} of class {name!r}") for j, (file, _) in
                                  enumerate(entries)])
            task.captions.append([caption for _, caption in entries])
        task.queries = [image(file, f"query {j + 1}") for j, (file, _) in enumerate(queries)]
        task.query_captions = [caption for _, caption in queries]
    return task
