"""Tests for metademo.data.preprocess: every input kind ends up in the same convention."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageOps

from metademo.data import preprocess as pp
from metademo.data.preprocess import open_image, preprocess, preprocess_batch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("METADEMO_DATA", REPO.parent / "shared" / "data"))
OMNIGLOT = DATA / "omniglot-py" / "images_background"


def glyph(width=160, height=120, centre=(50, 45), radius=25, stroke=5) -> Image.Image:
    """Black-on-white 'L' image: a ring with a cross, symmetric, placed off-centre."""
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    cx, cy = centre
    r = radius
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=0, width=stroke)
    draw.line((cx - r, cy, cx + r, cy), fill=0, width=stroke)
    draw.line((cx, cy - r, cx, cy + r), fill=0, width=stroke)
    return img


def png_bytes(img: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kwargs)
    return buf.getvalue()


def centre_of_mass(t: torch.Tensor) -> tuple[float, float]:
    a = t[0].numpy().astype(np.float64)
    ys, xs = np.mgrid[: a.shape[0], : a.shape[1]]
    return float((a * ys).sum() / a.sum()), float((a * xs).sum() / a.sum())


def check_convention(t: torch.Tensor, size: int = 28) -> None:
    assert t.shape == (1, size, size)
    assert t.dtype == torch.float32
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    assert float(t.max()) > 0.9, "ink should be close to 1"
    assert float(t.mean()) < 0.5, "background should dominate and be 0"
    cy, cx = centre_of_mass(t)
    mid = (size - 1) / 2
    assert abs(cy - mid) < 2 and abs(cx - mid) < 2, f"ink not centred: {(cy, cx)}"
    corners = t[0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert float(corners.max()) == 0.0


@pytest.fixture(scope="module")
def reference() -> torch.Tensor:
    return preprocess(glyph())


def test_reference_convention(reference):
    check_convention(reference)


def test_longer_side_fills_80_percent(reference):
    rows = np.flatnonzero(reference[0].numpy().max(axis=1) > 0.2)
    extent = rows[-1] - rows[0] + 1
    assert 20 <= extent <= 25  # 0.8 * 28 = 22.4


def test_polarity_does_not_matter(reference):
    light_on_dark = ImageOps.invert(glyph())
    assert torch.allclose(preprocess(light_on_dark), reference, atol=1e-5)


def test_deterministic():
    assert torch.equal(preprocess(glyph()), preprocess(glyph()))


def _rgba_transparent_background() -> Image.Image:
    # Opaque black ink on a fully transparent canvas, as drawing apps export it; the colour
    # of transparent pixels is black too, so ignoring alpha would give an all-black image.
    alpha = ImageOps.invert(glyph())
    img = Image.new("RGBA", alpha.size, (0, 0, 0, 0))
    img.putalpha(alpha)
    return img


def _rgba_opaque_card() -> Image.Image:
    # A white opaque card with dark ink, surrounded by a transparent (black) margin.
    base = glyph().convert("RGBA")
    alpha = Image.new("L", base.size, 0)
    ImageDraw.Draw(alpha).rectangle((5, 5, base.width - 6, base.height - 6), fill=255)
    base.putalpha(alpha)
    blank = Image.new("RGBA", base.size, (0, 0, 0, 0))
    return Image.composite(base, blank, alpha)


def _palette_with_transparency() -> Image.Image:
    img = glyph().convert("P")
    img.info["transparency"] = img.getpixel((0, 0))  # background index transparent
    return img


def _huge() -> Image.Image:
    # 4000x3000, 12 megapixels: must stay under the pixel limit and be handled quickly.
    return glyph(4000, 3000, centre=(1300, 1000), radius=600, stroke=120)


def _gif_first_frame_only() -> bytes:
    first = glyph()
    second = Image.new("L", first.size, 255)
    ImageDraw.Draw(second).rectangle((10, 10, 150, 30), fill=0)
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    return buf.getvalue()


CONVERSIONS = {
    "L": lambda: glyph(),
    "1 (binary)": lambda: glyph().point(lambda v: 255 if v > 127 else 0).convert("1"),
    "RGB": lambda: glyph().convert("RGB"),
    "RGB coloured ink on coloured paper": lambda: Image.merge(
        "RGB",
        [
            glyph().point(lambda v: 40 + v * 0.8),
            glyph().point(lambda v: 30 + v * 0.6),
            glyph().point(lambda v: 90 + v * 0.5),
        ],
    ),
    "RGBA transparent background": _rgba_transparent_background,
    "RGBA opaque card": _rgba_opaque_card,
    "LA": lambda: _rgba_transparent_background().convert("LA"),
    "CMYK": lambda: glyph().convert("RGB").convert("CMYK"),
    "I;16": lambda: Image.fromarray(np.asarray(glyph(), np.uint16) * 257),
    "I": lambda: glyph().convert("I"),
    "F": lambda: Image.fromarray(np.asarray(glyph(), np.float32) / 255),
    "P": lambda: glyph().convert("P"),
    "P with transparency": _palette_with_transparency,
    "huge 4000x3000": _huge,
    "numpy uint8": lambda: np.asarray(glyph()),
    "numpy uint16": lambda: np.asarray(glyph(), np.uint16) * 257,
    "numpy bool": lambda: np.asarray(glyph()) > 127,
    "numpy float": lambda: np.asarray(glyph(), np.float32) / 255,
    "numpy RGB": lambda: np.asarray(glyph().convert("RGB")),
    "numpy RGBA": lambda: np.asarray(_rgba_transparent_background()),
    "torch HxW": lambda: torch.from_numpy(np.array(glyph(), np.float32) / 255),
    "torch 1xHxW": lambda: torch.from_numpy(np.array(glyph(), np.float32) / 255)[None],
    "torch 3xHxW": lambda: torch.from_numpy(np.array(glyph().convert("RGB"))).permute(
        2, 0, 1
    ),
    "PNG bytes": lambda: png_bytes(glyph()),
    "16-bit PNG bytes": lambda: png_bytes(
        Image.fromarray(np.asarray(glyph(), np.uint16) * 257)
    ),
    "JPEG bytes": lambda: _jpeg(glyph()),
    "file object": lambda: io.BytesIO(png_bytes(glyph())),
    "animated GIF": _gif_first_frame_only,
}


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=70)
    return buf.getvalue()


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_every_input_kind_gives_the_same_glyph(name, reference):
    out = preprocess(CONVERSIONS[name]())
    check_convention(out)
    # Same drawing, same result (up to quantisation, resampling or compression noise).
    tolerance = (
        0.06
        if name in ("huge 4000x3000", "JPEG bytes", "1 (binary)", "numpy bool")
        else 0.02
    )
    assert float((out - reference).abs().mean()) < tolerance


def test_paths(tmp_path, reference):
    path = tmp_path / "glyph.png"
    glyph().save(path)
    assert torch.equal(preprocess(path), reference)  # pathlib.Path
    assert torch.equal(preprocess(str(path)), reference)  # str


def test_open_image_returns_pil_and_first_frame():
    img = open_image(_gif_first_frame_only())
    assert isinstance(img, Image.Image)
    # Frame 0 is the ring, whose centre pixel is background; frame 1 is a bar at the top.
    assert np.asarray(img.convert("L"))[20, 100] > 127


def test_aspect_ratio_is_kept():
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).rectangle((20, 90, 180, 110), fill=0)  # wide horizontal bar
    out = preprocess(img)[0].numpy() > 0.5
    rows, cols = out.any(axis=1).sum(), out.any(axis=0).sum()
    assert cols > 3 * rows


def test_uneven_lighting_photo(reference):
    # A photo of paper: light falls from one corner (0.95 -> 0.45), sensor noise, and a pen
    # stroke that darkens the paper rather than being pure black.
    rng = np.random.default_rng(0)
    h, w = 120, 160
    yy, xx = np.mgrid[:h, :w]
    paper = 0.95 - 0.5 * (xx / w + yy / h) / 2
    ink = 1 - np.asarray(glyph(), np.float64) / 255
    photo = paper * (1 - 0.7 * ink) + rng.normal(0, 0.015, (h, w))
    out = preprocess(np.clip(photo, 0, 1))
    check_convention(out)
    assert float((out - reference).abs().mean()) < 0.05


def test_size_parameter():
    out = preprocess(glyph(), size=64)
    check_convention(out, size=64)
    with pytest.raises(ValueError, match="size"):
        preprocess(glyph(), size=0)


def test_tiny_glyph_is_enlarged():
    img = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(img).ellipse((100, 200, 110, 210), outline=0, width=2)
    check_convention(preprocess(img))


def test_small_omniglot_like_speed():
    # Not a benchmark, just a guard against an accidental per-pixel Python loop.
    import time

    img = glyph(105, 105, centre=(52, 52))
    preprocess(img)
    start = time.perf_counter()
    for _ in range(20):
        preprocess(img)
    assert (time.perf_counter() - start) / 20 < 0.05


# -- errors ------------------------------------------------------------------------------------


def test_blank_images_raise():
    for blank in (
        Image.new("L", (105, 105), 255),
        Image.new("L", (105, 105), 0),
        np.full((50, 50), 0.7, np.float32),
    ):
        with pytest.raises(ValueError, match="blank"):
            preprocess(blank)
    noisy_paper = np.clip(np.random.default_rng(1).normal(0.8, 0.01, (100, 100)), 0, 1)
    with pytest.raises(ValueError, match="blank"):
        preprocess(noisy_paper)
    with pytest.raises(ValueError, match="blank"):
        preprocess(Image.new("RGBA", (50, 50), (0, 0, 0, 0)))  # fully transparent


def test_text_file_raises_naming_the_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, not an image\n")
    with pytest.raises(ValueError, match="notes.txt.*not an image"):
        preprocess(path)


def test_empty_inputs_raise(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        preprocess(b"")
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.png.*empty"):
        preprocess(path)
    with pytest.raises(ValueError, match="empty"):
        preprocess(np.zeros((0, 10), np.uint8))


def test_missing_file_raises(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        preprocess(tmp_path / "missing.png")


def test_truncated_png_raises():
    data = png_bytes(glyph())
    with pytest.raises(ValueError, match="truncated or corrupt"):
        preprocess(data[: len(data) // 2])


def test_pixel_limit(monkeypatch):
    monkeypatch.setattr(pp.limits, "MAX_PIXELS", 100 * 100)
    with pytest.raises(
        ValueError, match=r"^the image data is too large: 105 x 105 pixels, the limit is 10,000 pixels$"
    ):
        preprocess(png_bytes(glyph(105, 105, centre=(52, 52))))
    with pytest.raises(ValueError, match="too large"):
        preprocess(glyph(105, 105, centre=(52, 52)))  # PIL image
    with pytest.raises(ValueError, match="too large"):
        preprocess(np.zeros((200, 200), np.uint8))


def _png_header_only(width: int, height: int) -> bytes:
    # A valid PNG with no pixel data: enough for Pillow to read the claimed size.
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    chunk = b"IHDR" + ihdr
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + end
    )


@pytest.mark.parametrize("width,height", [(8000, 6000), (100_000, 100_000)])
def test_decompression_bomb_header(width, height):
    # 48 Mpx is over our limit but under Pillow's; 10 Gpx is refused by Pillow itself.
    with pytest.raises(ValueError, match="image data is too large"):
        open_image(_png_header_only(width, height))


def test_file_size_limit(monkeypatch, tmp_path):
    data = png_bytes(glyph())
    monkeypatch.setattr(pp.limits, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ValueError, match="too large.*MB"):
        preprocess(data)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="big.png.*too large"):
        preprocess(path)
    with pytest.raises(ValueError, match="too large"):
        preprocess(io.BytesIO(data))


@pytest.mark.parametrize(
    "bad,message",
    [
        (42, "unsupported image type int"),
        ({"pixels": []}, "unsupported image type dict"),
        (np.zeros((4, 4, 5), np.uint8), "unsupported array shape"),
        (np.full((4, 4), 2.0), r"\[0, 1\]"),
        (np.array([[np.nan, 0.0]]), "NaN"),
        (io.StringIO("text"), "binary mode"),
    ],
)
def test_unsupported_inputs_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        preprocess(bad)


def test_batch(reference):
    batch = preprocess_batch([glyph(), ImageOps.invert(glyph()), png_bytes(glyph())])
    assert batch.shape == (3, 1, 28, 28)
    assert torch.allclose(batch[1], reference, atol=1e-5)
    assert preprocess_batch([]).shape == (0, 1, 28, 28)
    with pytest.raises(ValueError, match=r"^image 2: the image looks blank"):
        preprocess_batch([glyph(), glyph(), Image.new("L", (30, 30), 255)])


@pytest.mark.skipif(not OMNIGLOT.is_dir(), reason=f"Omniglot not found under {DATA}")
def test_real_omniglot_image():
    path = min(OMNIGLOT.glob("*/*/*.png"))
    with Image.open(path) as img:
        assert img.size == (105, 105)
    out = preprocess(path)
    assert out.shape == (1, 28, 28)
    assert float(out.max()) > 0.9
    assert float(out.mean()) < 0.3
    assert float(out[0, [0, 0, -1, -1], [0, -1, 0, -1]].max()) == 0.0


def test_16bit_scaled_by_type_maximum():
    # A dark 16-bit image stays dark: values are divided by 65535, not by their own maximum.
    dark = Image.fromarray(np.full((8, 8), 200, np.uint16))
    assert dark.mode == "I;16"
    assert np.allclose(pp._to_gray(dark), 200 / 65535)
