"""Images made to hurt: each ends in a clear ``ValueError`` or the right result, within the memory and time
that the limits of :mod:`metademo.data.preprocess` promise.

Memory is measured in a child process per case (its peak resident memory after decoding minus its resident
memory before, Linux's ``VmHWM`` reset through ``/proc/self/clear_refs``), so that one case's leftovers do not
hide another's peak. The files are built small (a 12000 x 12000 JPEG of flat paper is 2.5 MB).
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import ExifTags, Image, ImageDraw, ImageFile

from metademo.data import preprocess as pp

ROOT = Path(__file__).resolve().parents[1]

# --- builders ------------------------------------------------------------------------------------------------


def glyph(width: int, height: int, mode: str = "L", ink: int = 0, paper: int = 255) -> Image.Image:
    """An asymmetric glyph (an 'F' with a dot: every rotation and mirror image differs) on paper, scaled to
    the image."""
    img = Image.new("L", (width, height), paper)
    draw = ImageDraw.Draw(img)
    s = min(width, height)
    x0, y0 = (width - s // 2) // 2, (height - s // 2) // 2
    t = max(1, s // 25)
    draw.rectangle((x0, y0, x0 + t, y0 + s // 2), fill=ink)  # the stem
    draw.rectangle((x0, y0, x0 + s // 3, y0 + t), fill=ink)  # the top bar
    draw.rectangle((x0, y0 + s // 5, x0 + s // 5, y0 + s // 5 + t), fill=ink)  # the middle bar
    draw.ellipse((x0 + s // 3, y0 + s // 2 - 2 * t, x0 + s // 3 + 2 * t, y0 + s // 2), fill=ink)  # the dot
    return img if mode == "L" else img.convert(mode)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_chunks(extra: bytes, where: str = "before") -> bytes:
    """A small valid PNG with ``extra`` (chunks) before its image data or after it."""
    data = encode(glyph(64, 64), "PNG")
    idat = data.index(b"IDAT") - 4
    iend = data.index(b"IEND") - 4
    if where == "before":
        return data[:idat] + extra + data[idat:]
    return data[:iend] + extra + data[iend:]


def ztxt_bomb(n: int = 80, size: int = 2**20 - 1) -> bytes:
    """``n`` zTXt chunks, each a megabyte of text compressed to a kilobyte."""
    text = zlib.compress(b"a" * size, 9)
    return png_with_chunks(b"".join(chunk(b"zTXt", b"k%d\0\0" % i + text) for i in range(n)))


def iccp_bomb() -> bytes:
    return png_with_chunks(chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * 64 * 2**20, 9)))


def png_header_only(width: int, height: int, depth: int = 8, colour: int = 0) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + chunk(b"IEND", b""))


def png_zeros(width: int, height: int, depth: int = 1, colour: int = 0) -> bytes:
    """A PNG of ``width`` x ``height`` zero bytes per row, streamed through zlib (a bomb: tiny file)."""
    row = b"\0" * (1 + (width * depth * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour] + 7) // 8)
    c = zlib.compressobj(9)
    body = b"".join(c.compress(row) for _ in range(height)) + c.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + b"".join(chunk(b"IDAT", body[i:i + 2**16]) for i in range(0, len(body), 2**16)) + chunk(b"IEND", b""))


def gif_frames(n: int, size: int = 64) -> bytes:
    """An animated GIF of ``n`` frames, the first the glyph."""
    frames = [glyph(size, size)] + [Image.new("L", (size, size), 255 - (i % 200)) for i in range(n - 1)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10)


def gif_screen(width: int, height: int) -> bytes:
    """A GIF whose logical screen is ``width`` x ``height`` with the glyph as a 64 x 64 frame in its corner."""
    data = bytearray(encode(glyph(64, 64), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def gif_comment_bomb(blocks: int = 200_000) -> bytes:
    """A GIF with a comment of one-byte sub-blocks before its image (Pillow joins them in quadratic time)."""
    data = encode(glyph(64, 64), "GIF")
    image = data.index(b"\x2c", 13)
    return data[:image] + b"\x21\xfe" + b"\x01x" * blocks + b"\0" + data[image:]


def jpeg(img: Image.Image, **kw) -> bytes:
    return encode(img.convert("RGB") if img.mode not in ("L", "RGB", "CMYK") else img, "JPEG", **kw)


def jpeg_segment_bomb(n: int = 3_000_000) -> bytes:
    data = jpeg(glyph(64, 64))
    return data[:2] + b"\xff\xfe\x00\x02" * n + data[2:]


def tiff(width: int, height: int, bits: tuple[int, ...] = (8,), rows_per_strip: int | None = None,
         compression: int = 8, photometric: int = 1, value: int = 255) -> bytes:
    """A little-endian TIFF of flat pixels written by hand (Pillow does not write 16-bit RGBA or choose strips):
    ``compression`` 8 is deflate, 1 none."""
    rows = rows_per_strip or height
    row = bytes([value]) * (width * sum(bits) // 8)
    strips = []
    for top in range(0, height, rows):
        raw = [row] * min(rows, height - top)
        if compression == 8:
            c = zlib.compressobj(6)
            strips.append(b"".join(c.compress(r) for r in raw) + c.flush())
        else:
            strips.append(b"".join(raw))
    body = b"".join(strips)
    offsets = np.cumsum([8] + [len(s) for s in strips[:-1]]).tolist()
    n, extra_at = len(strips), 8 + len(body)
    extra = struct.pack(f"<{len(bits)}H", *bits) + struct.pack(f"<{n}I", *offsets)
    extra += struct.pack(f"<{n}I", *[len(s) for s in strips])
    bits_at, offsets_at, counts_at = extra_at, extra_at + 2 * len(bits), extra_at + 2 * len(bits) + 4 * n
    tags = [(256, 4, 1, width), (257, 4, 1, height),
            (258, 3, len(bits), bits_at if len(bits) > 2 else bits[0]), (259, 3, 1, compression),
            (262, 3, 1, photometric), (273, 4, n, offsets_at if n > 1 else offsets[0]), (277, 3, 1, len(bits)),
            (278, 4, 1, rows), (279, 4, n, counts_at if n > 1 else len(strips[0])), (284, 3, 1, 1)]
    if len(bits) == 4:
        tags.append((338, 3, 1, 2))
    ifd = struct.pack("<H", len(tags))
    for tag, kind, count, v in sorted(tags):
        ifd += struct.pack("<HHII", tag, kind, count, v) if kind == 4 or count > 2 else \
            struct.pack("<HHIHH", tag, kind, count, v, 0)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", extra_at + len(extra)) + body + extra + ifd


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """A grey photo of the glyph on paper with sensor noise (so that it compresses like a photo)."""
    g = np.asarray(glyph(width, height, ink=60, paper=225), np.float32)
    g += np.random.default_rng(seed).normal(0, 4, (height, width)).astype(np.float32)
    return Image.fromarray(np.clip(g, 0, 255).astype(np.uint8)).convert("RGB")


def rle8_bmp(width: int = 64, height: int = 64) -> bytes:
    """A BMP compressed by run lengths (8-bit): runs of one pixel, the costliest for Pillow's Python decoder."""
    rows = b"".join(b"\x01\x00" * width + b"\x00\x00" for _ in range(height)) + b"\x00\x01"
    palette = b"".join(bytes([v, v, v, 0]) for v in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(rows), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + palette + rows


# --- measuring in a child process ----------------------------------------------------------------------------

CHILD = r"""
import json, os, sys, time
from PIL import ExifTags, Image, ImageDraw, ImageFile
from metademo.data import preprocess as pp

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)

paths, how = sys.argv[1].split(os.pathsep), sys.argv[2]
for name, value in json.loads(sys.argv[3]).items():
    setattr(pp.limits, name, value)
warm = Image.new("L", (300, 300), 255)
ImageDraw.Draw(warm).ellipse((50, 50, 250, 250), outline=0, width=9)
pp.preprocess_batch([warm, warm])  # imports torch and numpy's pieces; starts no pool
items = [open(p, "rb").read() for p in paths] if how != "paths" else paths
with open("/proc/self/clear_refs", "w") as f:  # the peak (VmHWM) starts again from here
    f.write("5")
before = rss("VmRSS:")
start = time.perf_counter()
try:
    out = pp.preprocess_batch(items) if how in ("batch", "paths") else pp.preprocess(items[0])
    result = {"ok": out.tolist()}
except ValueError as e:
    result = {"error": str(e), "index": getattr(e, "index", None)}
seconds = time.perf_counter() - start
print(json.dumps({**result, "seconds": seconds, "peak_mb": rss("VmHWM:") - before}))
"""


def measure(paths: list[Path], how: str = "one", **patch) -> dict:
    """Preprocess the files (bytes; ``how``: "one" image, a "batch", or "paths") in a fresh process: its
    result or error, the seconds it took and the memory it added at its peak (MB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", CHILD, os.pathsep.join(map(str, paths)), how, json.dumps(patch)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"{[Path(p).name for p in paths]}: {out['peak_mb']:.0f} MB, {out['seconds']:.3f} s, "
          f"{out.get('error', 'ok')}")
    return out


needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="measures memory on Linux")


def png16(img: Image.Image) -> bytes:
    """``img`` (mode L) as a 16-bit RGBA PNG, written by hand (Pillow does not write them)."""
    a = np.asarray(img, np.uint16) * 257
    c = zlib.compressobj(6)
    body = b"".join(c.compress(b"\0" + np.repeat(row[:, None], 4, 1).astype(">u2").tobytes()) for row in a)
    body += c.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", img.width, img.height, 16, 6, 0, 0, 0))
            + b"".join(chunk(b"IDAT", body[i:i + 2**16]) for i in range(0, len(body), 2**16)) + chunk(b"IEND", b""))


def transparent_palette(img: Image.Image) -> bytes:
    p = img.convert("P")
    return encode(p, "PNG", transparency=int(p.getpixel((0, 0))))


def rgba(img: Image.Image) -> bytes:
    out = Image.new("RGBA", img.size, (0, 0, 0, 0))
    out.putalpha(Image.eval(img, lambda v: 255 - v))
    return encode(out, "PNG")


#: name -> (builder of the file, what preprocessing must say (a regex) or "ok", most MB added, most seconds)
#: The seconds are loose: the development machine's two cores are shared with other work.
CASES = {
    "PNG, 40 MP": (lambda: encode(glyph(8000, 5000, "RGB"), "PNG"),
                   r"is too large: 8000 x 5000 pixels, the limit is 25,000,000 pixels$", 20, 1),
    "PNG at the limit, RGBA": (lambda: rgba(glyph(5000, 5000)), "ok", 160, 8),
    "PNG at the limit, palette and transparency": (lambda: transparent_palette(glyph(5000, 5000)), "ok", 80, 8),
    "PNG at the limit, 16-bit RGBA": (lambda: png16(glyph(5000, 5000)), "ok", 160, 10),
    "PNG bomb, 20000 x 20000 1-bit": (lambda: png_zeros(20000, 20000), r"too large: 400,000,000 pixels", 20, 1),
    "PNG bomb, 5000 x 5000 1-bit": (lambda: png_zeros(5000, 5000), "looks blank", 90, 3),
    "PNG bomb, 10 gigapixels claimed": (lambda: png_header_only(100_000, 100_000), "too large", 20, 1),
    "PNG, zTXt bomb": (ztxt_bomb, r"corrupt \(Too much memory used in text chunks", 100, 3),
    "PNG, iCCP bomb": (iccp_bomb, r"corrupt \(Decompressed data too large", 20, 1),
    "PNG, a million empty chunks": (lambda: png_with_chunks(chunk(b"teSt", b"") * 1_000_000),
                                    "made to exhaust the decoder", 20, 1),
    "JPEG, 12000 x 12000": (lambda: jpeg(glyph(12000, 12000)),
                            r"12000 x 12000 pixels, the limit is 80,000,000 pixels for a JPEG photo", 20, 1),
    "JPEG, 12000 x 12000 progressive": (lambda: jpeg(glyph(12000, 12000), progressive=True), "too large", 20, 1),
    "JPEG, 8000 x 8000 (64 MP)": (lambda: jpeg(glyph(8000, 8000, "RGB"), quality=90), "ok", 50, 4),
    "JPEG, 48 MP photo": (lambda: jpeg(photo_like(8000, 6000), quality=92), "ok", 50, 4),
    "JPEG, 48 MP progressive 4:2:0": (lambda: jpeg(photo_like(8000, 6000), quality=92, progressive=True),
                                      "ok", 190, 10),
    "JPEG, 48 MP progressive 4:4:4": (lambda: jpeg(glyph(8000, 6000, "RGB"), progressive=True, subsampling=0),
                                      r"the limit is 26,666,666 pixels for a progressive JPEG", 20, 1),
    "JPEG, three million segments": (jpeg_segment_bomb, "made to exhaust the decoder", 20, 1),
    "GIF, 3000 frames": (lambda: gif_frames(3000), "ok", 20, 2),
    "GIF, 60000 x 60000 screen": (lambda: gif_screen(60000, 60000), "too large", 20, 1),
    "GIF, 5000 x 5000 screen": (lambda: gif_screen(5000, 5000), "ok", 80, 5),
    "GIF, comment bomb": (gif_comment_bomb, "made to exhaust the decoder", 20, 1),
    "TIFF, 16-bit RGBA in one strip": (lambda: tiff(5000, 5000, (16, 16, 16, 16), photometric=2),
                                       r"strips or tiles of 191 MB, the limit is 80 MB", 20, 1),
    "TIFF, 25000 strips": (lambda: tiff(200, 25000, rows_per_strip=1, compression=1), "25,000 strips", 20, 1),
    "BMP compressed by run lengths": (rle8_bmp, "compressed by run lengths", 20, 1),
}
SLOW = {"PNG at the limit, RGBA", "PNG at the limit, palette and transparency", "PNG at the limit, 16-bit RGBA",
        "JPEG, 12000 x 12000", "JPEG, 12000 x 12000 progressive", "JPEG, 8000 x 8000 (64 MP)", "JPEG, 48 MP photo",
        "JPEG, 48 MP progressive 4:2:0", "JPEG, 48 MP progressive 4:4:4", "GIF, 3000 frames",
        "PNG, 40 MP", "GIF, 5000 x 5000 screen"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The case's file, built once."""
    folder = tmp_path_factory.mktemp("hostile")

    def get(case: str) -> Path:
        path = folder / f"{abs(hash(case))}.bin"
        if not path.exists():
            path.write_bytes(CASES[case][0]())
        return path

    return get


@needs_proc
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in CASES])
def test_each_case_ends_in_a_clear_answer_within_budget(files, case):
    _, expected, most_mb, most_seconds = CASES[case]
    out = measure([files(case)])
    if expected == "ok":
        assert "ok" in out, out.get("error")
        assert np.asarray(out["ok"]).max() > 0.9  # a glyph, not a blank square
    else:
        assert "error" in out, "expected a ValueError"
        assert out["error"].startswith("the image ") and len(out["error"]) < 300, out["error"]
        assert __import__("re").search(expected, out["error"]), out["error"]
    assert out["peak_mb"] <= most_mb
    assert out["seconds"] <= most_seconds


@needs_proc
@pytest.mark.slow
def test_a_batch_at_the_limit_on_two_threads_stays_within_budget(files):
    """Four RGBA PNGs of 25 MP decoded two at a time: well under 500 MB."""
    out = measure([files("PNG at the limit, RGBA")] * 4, "batch", PARALLEL_BYTES=1)
    assert "ok" in out and len(out["ok"]) == 4
    assert out["peak_mb"] <= 400  # about 2 x 150 MB


@needs_proc
@pytest.mark.slow
def test_a_batch_of_progressive_photos_stops_at_the_budget(files):
    """Progressive 48 MP photos cost 96 million pixels each (10 scans): the third goes over 200 million and is
    refused before decoding; the two before it decode side by side (two coefficient buffers of 144 MB)."""
    case = "JPEG, 48 MP progressive 4:2:0"
    out = measure([files(case)] * 4, "batch", PARALLEL_BYTES=1)
    assert out["index"] == 2 and out["error"].startswith("image 2: the image data would take the images of this "
                                                         "request over 200,000,000 decoded pixels"), out
    assert out["peak_mb"] <= 400


# --- in this process ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(4097, 3), (3, 4097), (7, 3000), (3000, 7), (1, 1), (2, 9000)])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_thin_images_give_a_result_or_a_clear_error(size, fmt):
    """Pillow's draft divided by zero on thin JPEGs (a side shorter than the scale asked for); now they decode
    at reduced size. A line along a strip gives a (faint: the aspect ratio is kept) line across the middle of
    the square, or "blank" when nothing of it is left."""
    width, height = size
    a = np.full((height, width), 255, np.uint8)
    a[height // 2, width // 4:3 * width // 4 + 1] = 0  # a line along the middle
    a[height // 4:3 * height // 4 + 1, width // 2] = 0
    data = jpeg(Image.fromarray(a), quality=95) if fmt == "JPEG" else encode(Image.fromarray(a), "PNG")
    try:
        out = pp.preprocess(data)[0].numpy()
    except ValueError as e:
        assert str(e) == "the image looks blank: no strokes found"
        return
    across = out.sum(axis=1) if width > height else out.sum(axis=0)
    assert set(np.flatnonzero(across > 0)) <= {12, 13, 14, 15}, across


#: Orientation -> how the upright image is stored (the inverse of the turn that puts it upright).
STORED = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
          7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def oriented(upright: Image.Image, orientation: int, fmt: str, **kw) -> bytes:
    """``upright`` stored as a camera stores it: turned, with the EXIF orientation that turns it back."""
    method = STORED[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(stored, fmt, exif=exif, **kw)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF"])
def test_every_exif_orientation_is_put_upright(fmt, tmp_path):
    """A photo stored sideways or mirrored, with the Orientation tag 1 to 8, gives the upright photo's result
    through every way in: path, bytes, data URL, file object, PIL image and a batch. Lossless formats give
    exactly the same tensor; JPEG nearly (its 8x8 blocks fall elsewhere on a turned image)."""
    upright = glyph(320, 240)  # 320 x 240: whole 16 x 16 blocks, so JPEG turns its blocks with the image
    kw = {"quality": 95} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    expected = pp.preprocess(encode(upright, fmt, **kw))
    close = (lambda a, b: torch.equal(a, b)) if fmt != "JPEG" else \
        (lambda a, b: float((a - b).abs().max()) < 0.15 and float((a - b).abs().mean()) < 0.005)
    for orientation in range(1, 9):
        data = oriented(upright, orientation, fmt, **kw)
        path = tmp_path / f"{orientation}.{fmt.lower()}"
        path.write_bytes(data)
        url = "data:image/jpeg;base64," + base64.b64encode(data).decode()
        ways = [path, str(path), data, url, io.BytesIO(data), Image.open(io.BytesIO(data))]
        for way in ways:
            assert close(pp.preprocess(way), expected), (orientation, type(way))
        batch = pp.preprocess_batch([data, path, upright])
        assert close(batch[0], expected) and close(batch[1], expected)
        if orientation != 1:  # the test can fail: the pixels as stored give another glyph
            unturned = pp.preprocess(Image.open(io.BytesIO(encode(upright.transpose(STORED[orientation]), fmt,
                                                                   **kw))))
            assert float((unturned - expected).abs().mean()) > 0.05


def test_open_image_returns_the_image_upright_once():
    """open_image turns the photo and drops the orientation, so that opening its result again (as task files
    do, and the app with the PIL images it keeps) does not turn it twice; the image passed in is not changed."""
    upright = glyph(64, 48)
    data = oriented(upright, 6, "PNG")
    first = pp.open_image(data)
    assert first.size == (64, 48) and np.array_equal(np.asarray(first), np.asarray(upright))
    assert first.getexif().get(ExifTags.Base.Orientation) is None
    again = pp.open_image(first)
    assert np.array_equal(np.asarray(again), np.asarray(upright))
    given = Image.open(io.BytesIO(oriented(upright, 8, "PNG")))
    assert pp.open_image(given).size == (64, 48) and given.size == (48, 64)
    assert given.getexif().get(ExifTags.Base.Orientation) == 8


def test_a_jpeg_turned_by_its_orientation_is_still_decoded_reduced():
    photo = photo_like(3000, 4000)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(photo.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif, quality=90)
    img = pp._open(data, draft=True, budget=None)
    assert img.size == (375, 500) and img.format == "JPEG"  # 1/8 scale, upright: portrait again
    assert float((pp.preprocess(data) - pp.preprocess(encode(photo, "JPEG", quality=90))).abs().mean()) < 0.01


def test_damaged_exif_is_ignored():
    upright = glyph(64, 64)
    clean = encode(upright, "JPEG", quality=95)
    for junk in (b"Exif\0\0MM\0*\0\0\0\x08\xff\xff" + b"\x01" * 40, b"Exif\0\0II*\0\xff\xff\xff\x7f", b"Exif\0\0"):
        app1 = b"\xff\xe1" + struct.pack(">H", len(junk) + 2) + junk
        assert torch.equal(pp.preprocess(clean[:2] + app1 + clean[2:]), pp.preprocess(clean))


def test_mpo_photos_are_decoded_reduced():
    """Cameras and phones write two-image JPEGs (MPO); Pillow calls them MPO, and they are JPEGs all the same."""
    photo = photo_like(3000, 2000)
    data = encode(photo, "MPO", save_all=True, append_images=[photo], quality=90)
    img = pp._open(data, draft=True, budget=None)
    assert img.format == "MPO" and img.size == (375, 250)
    assert torch.equal(pp.preprocess(data), pp.preprocess(encode(photo, "JPEG", quality=90)))


@pytest.mark.parametrize("mode", ["P", "PA", "RGBA", "LA", "1", "I;16", "CMYK", "P with transparency"])
def test_shrinking_a_band_at_a_time_gives_the_same_pixels(mode, monkeypatch):
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (517, 2050, 4), np.uint8), "RGBA")
    if mode == "P with transparency":
        img = base.convert("RGB").convert("P")
        img.info["transparency"] = 3
    elif mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, (517, 2050), np.uint16))
    elif mode == "PA":
        img = base.convert("RGB").convert("P").convert("PA")
    else:
        img = base.convert(mode)
    whole = pp._canonical(img).reduce(3)
    monkeypatch.setattr(pp.limits, "BAND_PIXELS", 2050 * 7)
    banded = pp._shrunk(img, 3)
    assert banded.mode == whole.mode and banded.size == whole.size
    assert np.array_equal(np.asarray(banded), np.asarray(whole))


@pytest.mark.parametrize("data", [
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n",  # EPS: Pillow would run Ghostscript
    b"8BPS\0\1" + b"\0" * 40,  # Photoshop
    b"SIMPLE  =                    T" + b" " * 50,  # FITS
])
def test_formats_no_one_draws_in_are_refused(data):
    with pytest.raises(ValueError, match="not an image file in a format metademo reads"):
        pp.preprocess(data)


def test_an_ico_is_refused():
    with pytest.raises(ValueError, match="not an image file in a format metademo reads"):
        pp.preprocess(encode(glyph(64, 64), "ICO"))


def _samples() -> dict[str, bytes]:
    g = glyph(120, 90)
    return {"png": encode(g, "PNG"), "png16": png16(g), "jpeg": jpeg(g), "progressive": jpeg(g, progressive=True),
            "gif": gif_frames(3, 90), "webp": encode(g, "WEBP"), "tiff": encode(g, "TIFF", compression="tiff_lzw"),
            "bmp": encode(g, "BMP"), "apng": encode(g, "PNG", save_all=True, append_images=[g.rotate(90)])}


def _one_answer(data: bytes) -> None:
    """``preprocess`` returns a (1, 28, 28) tensor in [0, 1] or raises ValueError; nothing else escapes."""
    try:
        out = pp.preprocess(data)
    except ValueError as e:
        assert str(e) and len(str(e)) < 400
        return
    assert out.shape == (1, 28, 28) and float(out.min()) >= 0 and float(out.max()) <= 1


#: Damaged files that once raised something other than ValueError: (format, seed), kept for good.
REGRESSIONS: list[tuple[str, int]] = []


def test_truncated_files_give_a_clear_error():
    for name, data in _samples().items():
        for end in sorted({*range(0, 200, 7), *range(0, len(data), max(1, len(data) // 40))}):
            _one_answer(data[:end])
        if name != "gif":  # the GIF's first half holds its first frame whole: that is the image used
            with pytest.raises(ValueError, match="truncated or corrupt|corrupt|not an image file"):
                pp.preprocess(data[: len(data) // 2])


def test_damaged_files_give_a_result_or_a_clear_error():
    """Seeded random damage (bytes changed, removed, repeated) to a file of every format read."""
    samples = _samples()
    seeds = [(name, seed) for name in samples for seed in range(40)] + REGRESSIONS
    for name, seed in seeds:
        rng = np.random.default_rng(seed)
        data = bytearray(samples[name])
        for _ in range(int(rng.integers(1, 6))):
            at = int(rng.integers(0, len(data)))
            kind = rng.integers(0, 3)
            if kind == 0:
                data[at] = int(rng.integers(0, 256))
            elif kind == 1:
                del data[at:at + int(rng.integers(1, 64))]
            else:
                data[at:at] = data[at:at + int(rng.integers(1, 64))]
        _one_answer(bytes(data))


@pytest.mark.parametrize("error", [ZeroDivisionError("integer division or modulo by zero"), struct.error("x"),
                                   KeyError(4), OSError("broken data stream"), SyntaxError("not a TIFF"),
                                   EOFError(), MemoryError(), IndexError("x"), Image.DecompressionBombError(
                                       "Image size (200000000 pixels) exceeds limit")])
@pytest.mark.parametrize("stage", ["open", "load"])
def test_what_pillow_raises_becomes_a_value_error_naming_the_file(error, stage, monkeypatch, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(encode(glyph(64, 64), "PNG"))

    def fail(*args, **kw):
        raise error

    if stage == "open":  # reading the header
        monkeypatch.setattr(Image, "open", fail)
    else:  # decoding the pixels
        monkeypatch.setattr(ImageFile.ImageFile, "load", fail)
    with pytest.raises(ValueError, match=r"^file '.*photo\.png' (could not be (read|decoded)|is too large)") as e:
        pp.preprocess(path)
    assert type(e.value) is ValueError and e.value.__cause__ is None and e.value.__suppress_context__


def test_a_bug_of_ours_is_not_taken_for_a_bad_file(monkeypatch):
    def bug(*args):
        raise TypeError("a bug")

    monkeypatch.setattr(pp, "_ink_map", bug)
    with pytest.raises(TypeError, match="a bug"):
        pp.preprocess_batch([glyph(64, 64).convert("RGB")])
    # on two threads too, and the images after it still take their turns (no thread waits for ever)
    monkeypatch.setattr(pp.limits, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(pp, "_cores", lambda: 2)
    with pytest.raises(TypeError, match="a bug"):
        pp.preprocess_batch([encode(glyph(64, 64, "RGB"), "PNG")] * 6)


def test_a_batch_names_the_bad_image_in_the_middle(tmp_path, monkeypatch):
    """One bad file among good ones: the error names exactly its index and its file, the same on one thread or
    two, and its message keeps the form "image N: ..." that callers read."""
    paths = []
    for i in range(5):
        path = tmp_path / f"good {i}.png"
        path.write_bytes(encode(glyph(80, 60), "PNG"))
        paths.append(path)
    bad = tmp_path / "not\na photo.png"  # a name that would break a message in two
    bad.write_bytes(b"GIF89a" + b"\0" * 30)
    paths[2] = bad
    for threads in (False, True):
        if threads:
            monkeypatch.setattr(pp.limits, "PARALLEL_BYTES", 1)
            monkeypatch.setattr(pp, "_cores", lambda: 2)
        with pytest.raises(pp.BadImage) as e:
            pp.preprocess_batch(paths)
        assert isinstance(e.value, ValueError)
        assert e.value.index == 2 and e.value.name == str(bad)
        assert str(e.value).startswith(f"image 2: file {str(bad)!r} is not an image file in a format metademo reads "
                                       "(PNG, JPEG, GIF, WebP, BMP, TIFF")
        assert "\n" not in str(e.value)
        assert e.value.reason == str(e.value).removeprefix("image 2: ")


def test_the_batch_budget_names_the_same_image_on_one_thread_or_two(monkeypatch):
    images = [encode(glyph(100, 100), "PNG") for _ in range(6)]
    monkeypatch.setattr(pp.limits, "MAX_BATCH_PIXELS", 35_000)  # three and a half images
    for threads in (False, True):
        if threads:
            monkeypatch.setattr(pp.limits, "PARALLEL_BYTES", 1)
            monkeypatch.setattr(pp, "_cores", lambda: 2)
        for _ in range(5):
            with pytest.raises(ValueError, match=r"^image 3: the image data would take the images of this request "
                                                 r"over 35,000 decoded pixels in all") as e:
                pp.preprocess_batch(images)
            assert e.value.index == 3
    monkeypatch.setattr(pp.limits, "MAX_BATCH_PIXELS", 60_000)
    assert pp.preprocess_batch(images).shape == (6, 1, 28, 28)
    assert pp.preprocess(images[0]).shape == (1, 28, 28)  # each call has a budget of its own


def test_a_jpeg_counts_a_quarter_of_its_pixels(monkeypatch):
    """A 12-megapixel photo decoded at 1/8 scale costs a quarter of its pixels; read whole, all of them."""
    data = jpeg(photo_like(3000, 4000), quality=90)
    spent = []
    monkeypatch.setattr(pp._Budget, "take", lambda self, pixels, what: spent.append(pixels))
    pp.preprocess(data)
    pp.open_image(data)  # no budget
    assert spent == [3_000_000]
