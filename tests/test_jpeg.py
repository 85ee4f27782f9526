"""The compiled 1/8-scale JPEG decoder (``metademo/data/kernels/jpeg_dc.c``) gives libjpeg's pixels, bit for bit.

libjpeg, through Pillow's ``draft("L", ...)`` at 1/8 scale, is the reference: on files of every kind the
decoder takes (sizes, qualities, chroma subsampling, gray, optimised Huffman tables with long codes, restart
markers), on the benchmark's phone photos, and on damaged files, where it must either decline or give what
libjpeg gives. Preprocessing then gives identical tensors with and without it.
"""

from __future__ import annotations

import io
import os
import shutil
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks import inputs
from metademo.data import jpeg, preprocess


def _libjpeg(data: bytes) -> np.ndarray | Exception:
    """What Pillow gives at 1/8 scale in grayscale, or the error it raises."""
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
        img.draft("L", (w // 8, h // 8))
        assert img.decoderconfig[0] == 8 and img.mode == "L"
        img.load()
        return np.asarray(img)
    except (OSError, SyntaxError, ValueError) as e:
        return e


def _file(rng, size=None, **options) -> bytes:
    w, h = size or (int(v) for v in rng.integers(16, 300, 2))
    kind = rng.integers(0, 3)
    if kind == 0:  # noise: long codes, extreme DC values
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    elif kind == 1:  # smooth
        y, x = np.mgrid[0:h, 0:w]
        a = np.stack([x * 255 // w, y * 255 // h, (x + y) % 256], -1).astype(np.uint8)
    else:  # black and white patches
        a = np.where(rng.random((h // 5 + 1, w // 5 + 1, 1)) < 0.5, 0, 255).repeat(5, 0).repeat(5, 1)[:h, :w]
        a = a.repeat(3, -1).astype(np.uint8)
    img = Image.fromarray(a)
    if options.pop("gray", False):
        img = img.convert("L")
    buf = io.BytesIO()
    img.save(buf, "JPEG", **options)
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray | None:
    w, h = Image.open(io.BytesIO(data)).size
    return jpeg.luma_eighth(data, w, h)


@pytest.fixture(autouse=True)
def _decoder():
    if jpeg.load() is None:
        if (shutil.which("cc") or shutil.which("gcc")) and os.environ.get("METADEMO_NATIVE") != "0":
            pytest.fail("there is a C compiler, but the decoder did not build")
        pytest.skip("no compiled decoder here: Pillow decodes every file")


def test_same_pixels_as_libjpeg_on_every_kind_of_file():
    rng = np.random.default_rng(0)
    kinds = set()
    for trial in range(160):
        options = {"quality": int(rng.integers(1, 101)), "optimize": bool(trial % 2), "gray": trial % 5 == 0}
        if not options["gray"]:
            options["subsampling"] = trial % 3  # 4:4:4, 4:2:2, 4:2:0
        if trial % 4 == 1:
            options["restart_marker_blocks"] = int(rng.integers(1, 40))
        elif trial % 4 == 2:
            options["restart_marker_rows"] = int(rng.integers(1, 4))
        data = _file(rng, **options)
        header = data[:data.index(b"\xff\xda")]
        assert (b"\xff\xdd\x00\x04" in header) == (trial % 4 in (1, 2))  # restart markers where asked for
        got = _decode(data)
        assert got is not None, options  # every baseline file is taken
        np.testing.assert_array_equal(got, _libjpeg(data), err_msg=str(options))
        kinds.add((options["gray"], options.get("subsampling"), trial % 4))
    assert len(kinds) == 3 * 4 + 4  # every combination came up


def test_same_pixels_as_libjpeg_on_phone_photos():
    for i, glyph in enumerate(inputs.omniglot_pngs(2, seed=5)):
        with open(inputs.phone_photo(glyph, seed=i), "rb") as f:
            data = f.read()
        got = _decode(data)
        assert got is not None and got.shape == (500, 375)
        np.testing.assert_array_equal(got, _libjpeg(data))


def test_declines_what_it_does_not_take():
    rng = np.random.default_rng(1)
    base = _file(rng, (64, 48), quality=80)
    assert _decode(base) is not None
    progressive = _file(rng, (64, 48), progressive=True)
    buf = io.BytesIO()
    Image.new("CMYK", (64, 48), (10, 20, 30, 40)).save(buf, "JPEG")
    cmyk = buf.getvalue()
    sof = base.index(b"\xff\xc0")
    rgb_ids = bytearray(base)  # components named R, G, B: libjpeg may take them for RGB
    rgb_ids[sof + 10], rgb_ids[sof + 13], rgb_ids[sof + 16] = b"RGB"
    no_end = base[:-2]  # the end-of-image marker missing
    unknown_marker = base[:2] + b"\xff\xf0\x00\x04ab" + base[2:]  # JPG0: libjpeg refuses it
    assert base[2:4] == b"\xff\xe0"
    adobe = base[:2] + b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00" + base[2:]
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 120, 120)).save(buf, "JPEG")  # flat: only the DC code of length 2 is used
    standard = b"\xff\xc4\x00\x1f\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1] + [0] * 7)
    assert standard in buf.getvalue()
    # Two DC codes of length 8 instead of one of 8 and one of 9: the second is all ones, which libjpeg refuses.
    all_ones = buf.getvalue().replace(standard, standard[:5] + bytes([0, 1, 5, 1, 1, 1, 1, 2, 0] + [0] * 7))
    assert isinstance(_libjpeg(all_ones), Exception)
    declined = {"progressive": progressive, "a code of all ones": all_ones, "CMYK": cmyk, "R, G, B": bytes(rgb_ids),
                "no end": no_end, "unknown marker": unknown_marker, "Adobe": adobe, "not a JPEG": b"GIF89a" + base}
    for name, data in declined.items():
        assert jpeg.luma_eighth(data, 64, 48) is None, name
    assert jpeg.luma_eighth(base, 65, 48) is None  # not the file's size: declined, nothing written out of bounds


def test_damaged_files_are_declined_or_decoded_as_libjpeg_does():
    """Changed, inserted, deleted bytes and truncation anywhere: no crash, and a file the decoder takes gives
    libjpeg's pixels (it fails this when it trusts data libjpeg would not, as a first version did with a
    missing end of image)."""
    rng = np.random.default_rng(2)
    taken = declined = 0
    for trial in range(150):
        options = {"quality": int(rng.integers(30, 101)), "optimize": bool(trial % 2)}
        if trial % 3 == 0:
            options["restart_marker_blocks"] = int(rng.integers(1, 10))
        good = bytearray(_file(rng, **options))
        for _ in range(3):
            data = good.copy()
            where = int(rng.integers(2, len(data)))
            match rng.integers(0, 4):
                case 0:
                    for k in rng.integers(2, len(data), int(rng.integers(1, 4))):
                        data[k] = int(rng.integers(0, 256))
                case 1:
                    data = data[:where]
                case 2:
                    data[where:where] = bytes(rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8))
                case _:
                    del data[where:where + int(rng.integers(1, 8))]
            try:
                w, h = Image.open(io.BytesIO(bytes(data))).size
            except (OSError, SyntaxError, ValueError):
                continue  # preprocessing never gets that far
            got = jpeg.luma_eighth(bytes(data), w, h)
            if got is None:
                declined += 1
                continue
            taken += 1
            expected = _libjpeg(bytes(data))
            assert isinstance(expected, np.ndarray), expected
            np.testing.assert_array_equal(got, expected)
    assert taken > 50 and declined > 100, (taken, declined)


def test_preprocessing_is_the_same_with_or_without_it():
    """Phone photos, and a photo with restart markers and a size that is not a multiple of 8 or 16."""
    glyph = inputs.omniglot_pngs(1, seed=6)[0]
    rgb = inputs.photo_array(glyph, seed=3, size=(2101, 2803))
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=85, restart_marker_rows=2)
    photos = [inputs.phone_photo(glyph, seed=0), buf.getvalue()]
    calls = []
    real = jpeg.luma_eighth

    def spy(*args):
        calls.append(out := real(*args))
        return out

    with mock.patch.object(jpeg, "luma_eighth", spy):
        fast = [preprocess.preprocess(p) for p in photos]
    assert len(calls) == 2 and all(c is not None for c in calls)  # the decoder did the work
    with mock.patch.object(jpeg, "luma_eighth", lambda *args: None):
        slow = [preprocess.preprocess(p) for p in photos]
    for a, b in zip(fast, slow, strict=True):
        assert torch.equal(a, b)


def test_threads_decode_side_by_side():
    """One buffer is kept between calls for one thread at a time; the others allocate their own."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    files = [_file(rng, (int(rng.integers(300, 900)), int(rng.integers(300, 900))), quality=95) for _ in range(6)]
    expected = [_decode(f) for f in files]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            for got, want in zip(pool.map(_decode, files * 4), expected * 4, strict=True):
                np.testing.assert_array_equal(got, want)


def test_a_batch_of_photos_is_preprocessed_on_two_threads_with_the_same_results(monkeypatch):
    """Photos (large files) go two at a time; the tensors, and the first bad image's error, are the same."""
    glyphs = inputs.omniglot_pngs(3, seed=7)
    photos = [inputs.phone_photo(g, seed=i) for i, g in enumerate(glyphs)]
    with open(photos[0], "rb") as f:
        in_memory = f.read()
    blank = io.BytesIO()
    Image.new("L", (1200, 900), 255).save(blank, "JPEG")  # large enough to count, and blank
    batch = [photos[0], glyphs[0], in_memory, photos[1], glyphs[1], photos[2]]
    used = []
    real = preprocess._pool

    def spy():
        used.append(True)
        return real()

    monkeypatch.setattr(preprocess, "_pool", spy)
    monkeypatch.setattr(preprocess, "_cores", lambda: 2)
    monkeypatch.setattr(preprocess, "PARALLEL_BYTES", len(blank.getvalue()) - 1)
    parallel = preprocess.preprocess_batch(batch)
    assert used  # two threads did it
    assert torch.equal(parallel, torch.stack([preprocess.preprocess(x) for x in batch]))
    bad = [photos[0], glyphs[0], blank.getvalue(), photos[1], b"not an image", photos[2]]
    with pytest.raises(ValueError, match=r"^image 2: the image looks blank"):
        preprocess.preprocess_batch(bad)
    used.clear()
    monkeypatch.setattr(preprocess, "PARALLEL_BYTES", 10**9)  # nothing counts as large: one thread
    with pytest.raises(ValueError, match=r"^image 2: the image looks blank"):
        preprocess.preprocess_batch(bad)
    assert torch.equal(preprocess.preprocess_batch(batch), parallel) and not used
