"""Task files: a round trip keeps names, images and captions; broken or hostile zip files are refused
with a clear message, before anything is unpacked, and nothing is ever written to disk."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

import metademo
from metademo.data import tasks
from metademo.data.synthetic import synthetic_gallery


@pytest.fixture(scope="module")
def glyphs():
    return synthetic_gallery(3, 3, seed=3)


def _task_bytes(glyphs, **kw) -> bytes:
    buf = io.BytesIO()
    metademo.save_task(buf, ["alpha", "beta", "gamma"], glyphs, queries=[glyphs[0][2]], **kw)
    return buf.getvalue()


def test_round_trip_keeps_names_images_and_captions(glyphs, tmp_path):
    path = tmp_path / "task.zip"
    captions = [[f"c{c} #{j + 1}" for j in range(3)] for c in range(3)]
    metademo.save_task(path, ["alpha", "beta", "gamma"], glyphs, captions, [glyphs[1][2]], ["q"])
    task = metademo.load_task(path)
    assert task.names == ["alpha", "beta", "gamma"] and task.captions == captions
    assert task.labels == ["alpha"] * 3 + ["beta"] * 3 + ["gamma"] * 3
    assert len(task.queries) == 1 and task.query_captions == ["q"]
    for a, b in zip(task.images, [g for row in glyphs for g in row]):
        assert np.array_equal(np.asarray(a.convert("L")), np.asarray(b.convert("L")))
    assert metademo.prepare(task.images).tensor.shape == (9, 1, 28, 28)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task.zip"]  # opening wrote nothing


def _zip(entries: dict[str, bytes], manifest=None, compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if manifest is not None:
            zf.writestr("task.json", json.dumps(manifest))
    buf.seek(0)
    return buf


def _manifest(files_by_class):
    return {"format": tasks.FORMAT,
            "classes": [{"name": f"c{i}", "images": [{"file": f} for f in files]} for i, files in
                        enumerate(files_by_class)]}


def _png(glyphs, c=0, j=0) -> bytes:
    buf = io.BytesIO()
    glyphs[c][j].save(buf, format="PNG")
    return buf.getvalue()


def test_hostile_and_broken_files_are_refused_clearly(glyphs, tmp_path):
    png = _png(glyphs)
    cases = [
        (io.BytesIO(b"PK\x03\x04 not really a zip"), "not a zip archive"),
        (io.BytesIO(png), "not a zip archive"),
        (_zip({"a.png": png}), "no task.json"),
        (_zip({"../evil.png": png}, _manifest([["../evil.png"], ["../evil.png"]])), "unsafe file name"),
        (_zip({"/etc/evil.png": png}, _manifest([["/etc/evil.png"]])), "unsafe file name"),
        (_zip({"..\\evil.png": png}, _manifest([["..\\evil.png"]])), "unsafe file name"),
        (_zip({"C:/evil.png": png}, _manifest([["C:/evil.png"]])), "unsafe file name"),
        (_zip({"bomb.png": b"\0" * (7 * 2**20)}, _manifest([["bomb.png"]])), "zip bomb"),
        (_zip({"big.png": b"\0" * (tasks.MAX_FILE_BYTES + 1)}, _manifest([["big.png"]])), "at most 8 MB per file"),
        (_zip({f"{i}.png": b"x" for i in range(tasks.MAX_FILES + 1)}), "at most 1200 are opened"),
        (_zip({"a.png": b"this is text, not a picture"}, _manifest([["a.png"], ["a.png"]])),
         "image 1 of class 'c0'.*not a usable image"),
        (_zip({"a.png": png}, _manifest([["a.png"], ["missing.png"]])), "does not contain it"),
        (_zip({"task.json": b"{nope"}), "not valid JSON"),
        (_zip({"a.png": png}, {"format": "something/2", "classes": []}), "not a metademo task"),
        (_zip({"a.png": png}, {**_manifest([["a.png"]] * 21)}), "1 to 20 classes"),
        (_zip({"a.png": png}, {**_manifest([["a.png"], ["a.png"]]), "classes": [{"name": "x", "images": []}]}),
         "has no images"),
        (_zip({"a.png": png}, _manifest([["a.png"] * 51])), "at most 50 per class"),
    ]
    for source, message in cases:
        with pytest.raises(ValueError, match=message):
            metademo.load_task(source)
    # a decompression bomb inside a valid PNG: refused by the image's pixel limit
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, format="PNG")
    with pytest.raises(ValueError, match="pixels"):
        metademo.load_task(_zip({"a.png": bomb.getvalue()}, _manifest([["a.png"], ["a.png"]])))
    big = tmp_path / "big.zip"
    big.write_bytes(b"\0" * (tasks.MAX_ZIP_BYTES + 1))
    with pytest.raises(ValueError, match="at most 64 MB"):
        metademo.load_task(big)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zip"]


def test_saving_checks_names(glyphs):
    with pytest.raises(ValueError, match="same name"):
        metademo.save_task(io.BytesIO(), ["a", "a"], glyphs[:2])
    with pytest.raises(ValueError, match="2 class names but 3"):
        metademo.save_task(io.BytesIO(), ["a", "b"], glyphs)
