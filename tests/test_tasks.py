"""Task files: a round trip keeps names, images and captions; broken or hostile zip files are refused
with a clear message, before anything is unpacked, and nothing is ever written to disk."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import warnings
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



# --- hostile archives: each a ValueError naming the file, within the memory and time budget ------------------


def _blank_png(mode="L", size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format="PNG")
    return buf.getvalue()


def _everywhere(file, n_classes=20, per_class=50, queries=100):
    """A manifest naming ``file`` as every example of 20 classes and as 100 queries: 1100 times."""
    return {"format": tasks.FORMAT, "queries": [{"file": file}] * queries,
            "classes": [{"name": f"c{i}", "images": [{"file": file}] * per_class} for i in range(n_classes)]}


# Offsets of fields in a central directory entry; a local header has each 2 bytes earlier.
_FIELDS = {"flag_bits": (8, "<H"), "compress_type": (10, "<H"), "compress_size": (20, "<I"), "file_size": (24, "<I")}


def _patch(data: bytes, name: str, local: bool = False, **fields) -> bytes:
    """``data`` (a zip) with fields of ``name``'s central directory entry replaced, and with ``local`` of its
    local header too (the lies a hand-edited archive can tell)."""
    out = bytearray(data)
    pos = 0
    while (pos := out.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46:pos + 46 + n] == name.encode():
            header = struct.unpack_from("<I", out, pos + 42)[0]
            for key, value in fields.items():
                at, fmt = _FIELDS[key]
                struct.pack_into(fmt, out, pos + at, value)
                if local:
                    struct.pack_into(fmt, out, header + at - 2, value)
            return bytes(out)
        pos += 4
    raise AssertionError(f"{name} is not in the zip")


def _refused(source, *fragments):
    with pytest.raises(ValueError) as info:
        metademo.load_task(source)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    return str(info.value)


def test_a_file_named_1100_times_is_decoded_once_and_kept_small(monkeypatch):
    from metademo.data import preprocess

    calls = []
    real = preprocess.open_image
    monkeypatch.setattr(preprocess, "open_image", lambda obj: calls.append(1) or real(obj))
    big = _blank_png("L", (3000, 2000))
    task = metademo.load_task(_zip({"a.png": big}, _everywhere("a.png")).getvalue())
    assert len(calls) == 1
    assert len(task.images) == 1000 and len(task.queries) == 100
    assert len({id(img) for img in task.images + task.queries}) == 1  # one image, shared
    assert task.images[0].size == (1000, 667)  # kept at most KEEP_SIDE on a side, box-averaged by 3


def test_the_task_pixel_budget_counts_distinct_images_before_decoding(monkeypatch):
    from metademo.data import preprocess

    calls = []
    real = preprocess.open_image
    monkeypatch.setattr(preprocess, "open_image", lambda obj: calls.append(1) or real(obj))
    files = {f"{i}.png": _blank_png("L", (4000, 4000 - i)) for i in range(7)}  # 16 megapixels each
    source = _zip(files, _manifest([list(files)[:4], list(files)[4:]]))
    _refused(source, "more than 100,000,000 pixels in all", "'6.png'")
    assert len(calls) == 6  # the seventh was refused from its header, before decoding
    _refused(_zip({"a.png": _blank_png("1", (4001, 4000))}, _manifest([["a.png"], ["a.png"]])),
             "image 1 of class 'c0' ('a.png') is too large: 4001 x 4000 pixels", "16,000,000 pixels each")
    # colour takes 4 bytes a pixel: 16 colour images of 4 megapixels (16 MB each) fill the memory budget
    calls.clear()
    files = {f"{i}.png": _blank_png("RGBA", (2048, 2048)) for i in range(17)}
    source = _zip(files, _manifest([list(files)[:8], list(files)[8:]]))
    _refused(source, "take more than 256 MB decoded", "'16.png'")
    assert len(calls) == 16


_CHILD = textwrap.dedent("""
    import resource, sys, time
    from metademo.data import tasks
    data = open(sys.argv[1], "rb").read()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        task = tasks.load_task(data)
        result = f"{len(task.images) + len(task.queries)} images"
    except ValueError as e:
        result = f"ValueError: {e}"
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print(f"{grown:.0f} {seconds:.3f} {result}")
""")


def _peak_and_time(tmp_path, data: bytes) -> tuple[float, float, str]:
    """Opening ``data`` in a fresh process: (MB added to its peak memory, seconds, result)."""
    path = tmp_path / "task.zip"
    path.write_bytes(data)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=120,
                         cwd=str(tasks.__file__).rsplit("/metademo/", 1)[0], check=True).stdout
    grown, seconds, result = out.split(" ", 2)
    return float(grown), float(seconds), result.strip()


def test_the_914_byte_task_bomb_opens_within_the_memory_and_time_budget(tmp_path):
    # One 40-megapixel PNG (155 kB of zeros, 160 MB decoded) named 1100 times: 176 GB if each were decoded.
    bomb = _zip({"a.png": _blank_png("RGBA", (6324, 6324))}, _everywhere("a.png"), zipfile.ZIP_DEFLATED).getvalue()
    assert len(bomb) < 1200
    grown, seconds, result = _peak_and_time(tmp_path, bomb)
    assert result.startswith("ValueError: image 1 of class 'c0' ('a.png') is too large: 6324 x 6324"), result
    assert grown < 100 and seconds < 2, (grown, seconds)
    # The largest image a task may hold (16 megapixels, RGBA: 64 MB decoded), named 1100 times: decoded once.
    grown, seconds, result = _peak_and_time(tmp_path, _zip({"a.png": _blank_png("RGBA", (4000, 4000))},
                                                           _everywhere("a.png")).getvalue())
    assert result == "1100 images" and grown < 300 and seconds < 3, (grown, seconds, result)


def test_lying_and_unusual_archives_are_refused_by_name(glyphs):
    png = _png(glyphs)
    big = _zip({"a.png": b"\0" * (2 * 2**20)}, _manifest([["a.png"], ["a.png"]])).getvalue()
    _refused(_patch(big, "a.png", compress_size=0), "'a.png' in the task file unpacks to 2.0 MB from 0 bytes",
             "zip bomb")
    valid = _zip({"a.png": png, "b.png": png}, _manifest([["a.png"], ["b.png"]])).getvalue()
    # a file's size written smaller than its data: read with a bound, found damaged
    _refused(_patch(valid, "a.png", local=True, file_size=40), "'a.png' in the task file is damaged")
    _refused(_patch(valid, "task.json", local=True, file_size=10), "'task.json' in the task file is damaged")
    # ...or larger: the data, whole and matching its checksum, is what is read
    assert metademo.load_task(_patch(valid, "b.png", local=True, file_size=len(png) + 1000)).names == ["c0", "c1"]
    _refused(_patch(valid, "a.png", flag_bits=1), "'a.png' in the task file is encrypted")
    _refused(_patch(valid, "a.png", compress_type=zipfile.ZIP_BZIP2), "'a.png'", "compression method 12")
    _refused(_patch(valid, "a.png", local=True, compress_type=99), "'a.png'", "compression method 99")
    duplicate = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(duplicate, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        zf.writestr("a.png", png)
        zf.writestr("a.png", b"something else")
        zf.writestr("task.json", json.dumps(_manifest([["a.png"], ["a.png"]])))
    _refused(duplicate, "two files named 'a.png'")
    many = _zip({f"{i}": b"" for i in range(tasks.MAX_FILES + 1)}).getvalue()
    _refused(many, "holds 1201 files; at most 1200")
    # a directory that claims a million entries is refused before zipfile reads it
    end = many.rindex(b"PK\x05\x06")
    claims = bytearray(many)
    struct.pack_into("<HH", claims, end + 8, 1000, 1000)
    struct.pack_into("<I", claims, end + 12, 40 * 2**20)
    _refused(bytes(claims), "list of files takes 40.0 MB")
    # zip64 records are read as any other archive
    zip64 = io.BytesIO()
    with zipfile.ZipFile(zip64, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("a.png", png), ("task.json", json.dumps(_manifest([["a.png"], ["a.png"]])).encode())]:
            with zf.open(name, "w", force_zip64=True) as f:
                f.write(data)
    assert metademo.load_task(zip64.getvalue()).names == ["c0", "c1"]
    _refused(io.StringIO("text"), "binary mode")
    _refused(12, "a task file is a path, bytes or a binary file object, got int")


@pytest.mark.parametrize("manifest, fragments", [
    (b"\xff\xfe{}", ["task.json", "not UTF-8"]),
    (b"[" * 200_000 + b"]" * 200_000, ["task.json", "nested too deeply"]),
    (b'{"format": 1' + b"0" * 100_000 + b"}", ["task.json", "not valid JSON", "number", "too long"]),
    (b'{"format": NaN}', ["task.json", "not valid JSON", "NaN"]),
    (b'["metademo-task/1"]', ["task.json", "malformed", "object", "not list"]),
    (b'{"format": ["metademo-task/1"]}', ["not a metademo task", "format list"]),
    (b'{"format": "metademo-task/1", "classes": {}}', ["malformed", "'classes' must be a list"]),
    (b'{"format": "metademo-task/1", "classes": ["a", "b"]}', ["malformed", "class 1 must be an object, not str"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": 5}]}', ["malformed", "class 1 has no name"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "a", "images": {"file": "a.png"}}]}',
     ["malformed", "the images of class 'a' must be a list, not dict"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "a", "images": ["a.png"]}]}',
     ["malformed", "image 1 of class 'a' must be an object, not str"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "a", "images": [{"file": ["a.png"]}]}]}',
     ["malformed", "image 1 of class 'a' has no file name"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "a", "images": [{"file": "a.png", "caption": 3}]}]}',
     ["malformed", "caption of image 1 of class 'a' must be text, not int"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "a", "images": [{"file": "a.png"}]}], "queries": 1}',
     ["malformed", "'queries' must be a list"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "a", "images": [{"file": "../a.png"}]}]}',
     ["task.json", "unsafe file", "'../a.png'"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "'
     + np.random.default_rng(0).bytes(2**19).hex().encode() + b'", "images": []}]}',
     ["task.json in the task file is 1.0 MB; at most 1 MB"]),
    (b'{"format": "metademo-task/1", "classes": [{"name": "' + b"x" * 81 + b'", "images": []}]}',
     ["task.json in the task file: class names must be 1 to 80 characters"]),
], ids=["not-utf8", "deep", "long-number", "nan", "list", "format-list", "classes-object", "class-text", "name-number",
        "images-object", "image-text", "file-list", "caption-number", "queries-number", "unsafe-name", "huge",
        "long-name"])
def test_task_json_is_checked_whole_before_any_image_is_read(glyphs, monkeypatch, manifest, fragments):
    from metademo.data import preprocess

    monkeypatch.setattr(preprocess, "open_image", lambda obj: pytest.fail("an image was decoded"))
    _refused(_zip({"a.png": _png(glyphs), "task.json": manifest}), *fragments)


def test_captions_that_are_too_long_are_dropped_and_the_bom_is_allowed(glyphs):
    manifest = _manifest([["a.png"], ["a.png"]])
    manifest["classes"][0]["images"][0]["caption"] = "x" * (tasks.MAX_CAPTION + 1)
    manifest["classes"][1]["images"][0]["caption"] = "fine"
    bom = b"\xef\xbb\xbf"
    task = metademo.load_task(_zip({"a.png": _png(glyphs), "task.json": bom + json.dumps(manifest).encode()}))
    assert task.captions == [[None], ["fine"]]
