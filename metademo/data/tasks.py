"""A few-shot task as one zip file: the classes (names and example images) and, optionally, queries.

A teacher prepares a task in the app (or in Python) and saves it; students open it and get the same
classes. The file holds ``task.json`` and one PNG per image::

    task.json            {"format": "metademo-task/1", "classes": [{"name": "alpha", "images": [
                            {"file": "classes/0/0.png", "caption": "..."}, ...]}, ...], "queries": [...]}
    classes/0/0.png ...
    queries/0.png ...

Opening a file trusts nothing in it. The archive's size, its number of files, each file's and the
total unpacked size, and the compression ratio are checked before anything is unpacked (zip bombs);
names with ``..``, absolute paths, drive letters or backslashes are refused; only the files that
``task.json`` names are read, each as an image (decoded by :func:`~metademo.data.preprocess.open_image`,
with its pixel limit), and they are returned as PIL images in memory: nothing is ever written to disk,
so nothing can be written outside the caller's folder. Every problem is a ``ValueError`` saying what
is wrong.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from PIL import Image

FORMAT = "metademo-task/1"
MAX_ZIP_BYTES = 64 * 2**20  # the archive itself
MAX_FILES = 1200  # 20 classes x 50 examples, queries and task.json, with room to spare
MAX_FILE_BYTES = 8 * 2**20  # one unpacked file
MAX_TOTAL_BYTES = 200 * 2**20  # everything unpacked
MAX_RATIO = 200  # unpacked / packed size of one file; PNGs of drawings compress about 10:1
MAX_CLASSES = 20  # as metademo.api.MAX_CLASSES (the data layer does not import the API)
MAX_PER_CLASS = 50
MAX_QUERIES = 100
MAX_NAME = 80  # characters of a class name


@dataclass
class Task:
    """Classes (names, example images and optional captions, in order) and optional query images."""

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


def _png(image) -> bytes:
    from .preprocess import open_image

    img = open_image(image)
    if img.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def save_task(target, names, examples, captions=None, queries=(), query_captions=None) -> None:
    """Write a task zip to ``target`` (a path or a binary file object).

    ``examples[c]`` are the images of class ``names[c]`` (anything ``open_image`` reads); ``captions``
    (same shape, optional) travel with them, e.g. where a gallery drawing came from.
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
                entry["images"].append({"file": file, "caption": cap if isinstance(cap, str) else None})
            manifest["classes"].append(entry)
        for j, (img, cap) in enumerate(zip(queries, query_captions)):
            file = f"queries/{j}.png"
            zf.writestr(file, _png(img))
            manifest["queries"].append({"file": file, "caption": cap if isinstance(cap, str) else None})
        zf.writestr("task.json", json.dumps(manifest, indent=1))


def _check_names(names: list[str]) -> None:
    if not 1 <= len(names) <= MAX_CLASSES:
        raise ValueError(f"a task has 1 to {MAX_CLASSES} classes, this one has {len(names)}")
    for n in names:
        if not n.strip() or len(n) > MAX_NAME:
            raise ValueError(f"class names must be 1 to {MAX_NAME} characters, got {n!r:.100}")
    if len(set(names)) != len(names):
        raise ValueError("two classes have the same name")


def _safe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return False
    return ".." not in PurePosixPath(name).parts


def _archive(source) -> zipfile.ZipFile:
    try:
        if isinstance(source, (str, os.PathLike)):
            size = os.path.getsize(source)
        else:
            source.seek(0, io.SEEK_END)
            size = source.tell()
            source.seek(0)
    except OSError as e:
        raise ValueError(f"the task file cannot be read: {e.strerror or e}") from None
    if size > MAX_ZIP_BYTES:
        raise ValueError(f"the task file is {size / 2**20:.0f} MB; at most {MAX_ZIP_BYTES // 2**20} MB are opened")
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ValueError("this is not a task file: it is not a zip archive (save one with 'Download task')") from None


def _check_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        raise ValueError(f"the task file holds {len(infos)} files; at most {MAX_FILES} are opened")
    total = 0
    for info in infos:
        if not _safe_name(info.filename):
            raise ValueError(f"the task file contains an unsafe file name ({info.filename!r:.80}); it was not opened")
        if info.file_size > MAX_FILE_BYTES:
            raise ValueError(f"{info.filename!r:.80} in the task file is {info.file_size / 2**20:.0f} MB unpacked; "
                             f"at most {MAX_FILE_BYTES // 2**20} MB per file")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise ValueError(f"{info.filename!r:.80} in the task file unpacks to {info.file_size // info.compress_size}"
                             " times its packed size (a zip bomb?); it was not opened")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ValueError(f"the task file unpacks to {total / 2**20:.0f} MB; at most {MAX_TOTAL_BYTES // 2**20} MB")
    return {info.filename: info for info in infos}


def _read(zf: zipfile.ZipFile, members: dict, name: str) -> bytes:
    info = members.get(name) if isinstance(name, str) else None
    if info is None:
        raise ValueError(f"the task file lists {name!r:.80} but does not contain it")
    try:
        with zf.open(info) as f:
            data = f.read(MAX_FILE_BYTES + 1)  # never more than the limit, whatever the header claims
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        raise ValueError(f"{name!r:.80} in the task file is damaged or encrypted ({e})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{name!r:.80} in the task file is larger than {MAX_FILE_BYTES // 2**20} MB")
    return data


def _image(zf, members, entry, what: str) -> tuple[Image.Image, str | None]:
    from .preprocess import open_image

    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise ValueError(f"task.json is malformed: {what} has no file")
    data = _read(zf, members, entry["file"])
    try:
        img = open_image(data)
        img.load()
    except ValueError as e:
        raise ValueError(f"{what} ({entry['file']!r:.80}) is not a usable image: {e}") from None
    caption = entry.get("caption")
    return img, caption if isinstance(caption, str) and len(caption) <= 200 else None


def load_task(source) -> Task:
    """Read a task zip (a path or a binary file object); ``ValueError`` for anything broken or hostile."""
    with _archive(source) as zf:
        members = _check_members(zf)
        if "task.json" not in members:
            raise ValueError("this zip file is not a task: it has no task.json (save one with 'Download task')")
        try:
            manifest = json.loads(_read(zf, members, "task.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("the task file's task.json is not valid JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"the task file is not a metademo task (format {manifest.get('format')!r:.40}, "
                             f"expected {FORMAT!r})" if isinstance(manifest, dict) else "task.json is malformed")
        classes, queries = manifest.get("classes"), manifest.get("queries") or []
        if not isinstance(classes, list) or not isinstance(queries, list):
            raise ValueError("task.json is malformed: 'classes' and 'queries' must be lists")
        names = [c.get("name") if isinstance(c, dict) else None for c in classes]
        if not all(isinstance(n, str) for n in names):
            raise ValueError("task.json is malformed: every class needs a name")
        _check_names(names)
        if len(queries) > MAX_QUERIES:
            raise ValueError(f"the task has {len(queries)} queries; at most {MAX_QUERIES}")
        task = Task(names, [], [], [], [])
        for c, cls in zip(names, classes):
            entries = cls.get("images")
            if not isinstance(entries, list) or not entries:
                raise ValueError(f"class {c!r} in the task file has no images")
            if len(entries) > MAX_PER_CLASS:
                raise ValueError(f"class {c!r} has {len(entries)} images; at most {MAX_PER_CLASS} per class")
            pairs = [_image(zf, members, e, f"image {j + 1} of class {c!r}") for j, e in enumerate(entries)]
            task.examples.append([p[0] for p in pairs])
            task.captions.append([p[1] for p in pairs])
        for j, entry in enumerate(queries):
            img, cap = _image(zf, members, entry, f"query {j + 1}")
            task.queries.append(img)
            task.query_captions.append(cap)
    return task
