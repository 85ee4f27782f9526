"""Every kind of bad input, through the Python API and through the running app.

Each case has one expected message: the API raises ``ValueError`` with it, the app's ``/classify``
(or the page's ``/adapt``) answers a Gradio error with it, never a traceback, and the server keeps
serving. Unusual but valid images (transparent, CMYK, 16-bit, inverted, a huge photo, an animated
GIF, a photo stored sideways with its EXIF orientation) are classified as the glyph they show, through both.
(``tests/test_hostile_images.py`` has the files made to hurt.)
"""

from __future__ import annotations

import io
import math
import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw, ImageOps

import metademo
from metademo.api import MetaClassifier
from metademo.ui.handlers import MAX_CLASSES as UI_MAX_CLASSES
from metademo.ui.handlers import MAX_EXAMPLES
from tests.test_hostile_images import gif_comment_bomb, jpeg


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no pixels: what a decompression bomb looks like to a reader."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + end


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose header claims ``width`` x ``height`` pixels."""
    data = bytearray(jpeg(Image.new("L", (64, 64), 255)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _strip() -> bytes:
    img = Image.new("L", (60000, 2), 255)
    ImageDraw.Draw(img).line((0, 0, 59999, 1), fill=0)
    return _png(img)


#: name -> (file name, bytes, the message both channels must give)
BAD_FILES = {
    "not an image": ("notes.png", lambda glyph: b"definitely not a picture", "not an image file"),
    "empty file": ("empty.png", lambda glyph: b"", r"empty \(0 bytes\)"),
    "truncated PNG": ("cut.png", lambda glyph: glyph[: len(glyph) // 2], "truncated or corrupt"),
    "decompression bomb": ("bomb.png", lambda glyph: _png_header_only(100_000, 100_000),
                           "is too large: 10,000,000,000 pixels"),
    "48 megapixels": ("big.png", lambda glyph: _png_header_only(8000, 6000),
                      "is too large: 8000 x 6000 pixels, the limit is 25,000,000 pixels"),
    "a 12000 x 12000 JPEG": ("huge.jpg", lambda glyph: _jpeg_claiming(12000, 12000),
                             "is too large: 12000 x 12000 pixels, the limit is 80,000,000 pixels for a JPEG photo"),
    "a GIF comment bomb": ("comments.gif", lambda glyph: gif_comment_bomb(), "made to exhaust the decoder"),
    "an EPS file (Ghostscript)": ("drawing.eps", lambda glyph: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n",
                                  "not an image file in a format metademo reads"),
    "absurd 60000 x 2 strip": ("strip.png", lambda glyph: _strip(), "looks blank"),
    "blank page": ("blank.png", lambda glyph: _png(Image.new("L", (64, 64), 255)), "looks blank"),
}


def _variants(path: str) -> dict[str, bytes]:
    """One glyph in the unusual but valid forms people upload."""
    g = Image.open(path).convert("L")
    alpha = ImageOps.invert(g)
    transparent = Image.new("RGBA", g.size, (0, 0, 0, 0))
    transparent.putalpha(alpha)
    cmyk = io.BytesIO()
    g.convert("RGB").convert("CMYK").save(cmyk, "JPEG", quality=90)
    photo = io.BytesIO()
    big = g.convert("RGB").resize((4000, 4000), Image.BILINEAR)
    noise = np.random.default_rng(0).integers(-12, 12, (4000, 4000, 1))
    paper = np.asarray(big, np.int16) * np.array([0.95, 0.9, 0.8]) + noise  # yellowish paper, sensor noise
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).save(photo, "JPEG", quality=85)
    gif = io.BytesIO()
    other = Image.new("L", g.size, 255)
    ImageDraw.Draw(other).rectangle((10, 10, 90, 30), fill=0)
    g.save(gif, "GIF", save_all=True, append_images=[other], duration=100, loop=0)
    sideways = io.BytesIO()  # a phone photo held upright, stored turned, with the EXIF orientation that says so
    exif = Image.Exif()
    exif[0x0112] = 6
    g.convert("RGB").transpose(Image.Transpose.ROTATE_90).save(sideways, "JPEG", quality=90, exif=exif)
    return {
        "transparent.png": _png(transparent),
        "sideways.jpg": sideways.getvalue(),
        "cmyk.jpg": cmyk.getvalue(),
        "16bit.png": _png(Image.fromarray(np.asarray(g, np.uint16) * 257)),
        "inverted.png": _png(ImageOps.invert(g)),
        "photo_4000x4000.jpg": photo.getvalue(),
        "animated.gif": gif.getvalue(),
    }


@pytest.fixture(scope="module")
def files(glyph_files, tmp_path_factory) -> dict:
    """Good support files (3 characters x 3), a good query, each bad file and each unusual variant, on disk."""
    d = tmp_path_factory.mktemp("inputs")
    chars = list(glyph_files)
    support = [p for c in chars for p in glyph_files[c][:3]]
    labels = [c for c in chars for _ in range(3)]
    glyph = Path(glyph_files[chars[0]][0]).read_bytes()
    bad = {}
    for case, (name, make, _) in BAD_FILES.items():
        (d / name).write_bytes(make(glyph))
        bad[case] = str(d / name)
    variants = {}
    for name, data in _variants(glyph_files[chars[0]][3]).items():
        (d / name).write_bytes(data)
        variants[name] = str(d / name)
    return {"support": support, "labels": labels, "query": glyph_files[chars[1]][3], "bad": bad,
            "variants": variants, "chars": chars}


@pytest.fixture(scope="module")
def maml(pretrained_assets) -> MetaClassifier:
    return metademo.load_pretrained("maml")


@pytest.fixture(scope="module")
def client(app_server) -> Client:
    return Client(app_server.url, verbose=False, ssl_verify=False)  # plain HTTP on localhost


def _upload(paths):
    return [handle_file(p) for p in paths]


def _app_error(client, match, *args, api_name="/classify"):
    with pytest.raises(Exception, match="(?i)" + match) as e:  # gradio_client's AppError; a capital first letter
        client.predict(*args, api_name=api_name)
    text = str(e.value)
    assert "Traceback" not in text and 'File "' not in text, text
    return text


def _still_serving(client, files):
    out = client.predict("protonet", _upload(files["support"]), files["labels"], _upload([files["query"]]), None,
                         None, api_name="/classify")
    assert out["predictions"] == [files["chars"][1]]


# --- bad files --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_through_the_api(maml, files, case):
    message = BAD_FILES[case][2]
    with pytest.raises(ValueError, match=message):
        maml.fit([*files["support"], files["bad"][case]], [*files["labels"], files["labels"][0]])
    fitted = maml.fit(files["support"], files["labels"])
    with pytest.raises(ValueError, match=message):
        fitted.predict_proba([files["query"], files["bad"][case]])


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_through_the_app(client, files, case):
    message = BAD_FILES[case][2]
    name = BAD_FILES[case][0]
    text = _app_error(client, f"Query file 2 \\({name}\\).*{message}", "maml", _upload(files["support"]),
                      files["labels"], _upload([files["query"], files["bad"][case]]), None, None)
    assert "/tmp" not in text  # the file is named, the server's folders are not
    _app_error(client, f"Support file 10 \\({name}\\).*{message}", "maml",
               _upload([*files["support"], files["bad"][case]]), [*files["labels"], "x"], _upload([files["query"]]),
               None, None)
    _still_serving(client, files)


def test_a_file_over_the_size_limit_through_the_api(maml, files, tmp_path, monkeypatch):
    from metademo.data import preprocess as pp

    big = tmp_path / "huge.png"
    big.write_bytes(Path(files["query"]).read_bytes() + b"\0" * (pp.MAX_FILE_BYTES + 1))
    with pytest.raises(ValueError, match="huge.png.*too large"):
        maml.fit([*files["support"][:8], str(big)], files["labels"])


@pytest.mark.slow
def test_a_file_over_the_upload_limit_is_refused_by_the_app(app_server, client, files):
    """The app takes uploads up to 10 MB; a bigger one is refused at the door with a plain HTTP error."""
    boundary = "metademoboundary"
    data = b"\x89PNG" + b"\0" * (11 * 2**20)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(app_server.url + "gradio_api/upload", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=60)
    assert e.value.code == 413 and "size" in e.value.read().decode().lower()
    _still_serving(client, files)


# --- bad arguments ------------------------------------------------------------------------------------------

#: name -> (change to a good call, the message): the same call through the API and through /classify
BAD_ARGUMENTS = {
    "a single class": (dict(labels=["a"] * 9), "at least 2 classes"),
    "21 classes": (dict(support=21, labels=[f"c{i}" for i in range(21)]), "at most 20 classes"),
    "1001 images": (dict(support=1001, labels=["a", "b"] * 500 + ["c"]), "1001 images is too many"),
    "too few labels": (dict(labels=["a"] * 4 + ["b"] * 4), "9 support images but 8 labels|one label per image"),
    "unknown algorithm": (dict(algorithm="resnet"), "unknown algorithm 'resnet'"),
    "steps 101": (dict(steps=101), "steps"),
    "steps -1": (dict(steps=-1), "steps"),
    "steps 2.5": (dict(steps=2.5), "steps"),
    "steps NaN": (dict(steps=math.nan), "steps"),
    "lr 0": (dict(lr=0.0), "lr"),
    "lr -1": (dict(lr=-1.0), "lr"),
    "lr 1e6": (dict(lr=1e6), "lr"),
    "lr NaN": (dict(lr=math.nan), "lr"),
    "lr infinite": (dict(lr=math.inf), "lr"),
}


def _bad_call(files, change):
    n = change.get("support", len(files["support"]))
    support = (files["support"] * (n // len(files["support"]) + 1))[:n]
    return (change.get("algorithm", "maml"), support, change.get("labels", files["labels"]),
            [files["query"]], change.get("steps"), change.get("lr"))


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_through_the_api(pretrained_assets, files, case):
    change, message = BAD_ARGUMENTS[case]
    algorithm, support, labels, query, steps, lr = _bad_call(files, change)
    with pytest.raises(ValueError, match=message):
        metademo.load_pretrained(algorithm).fit(support, labels, steps=steps, lr=lr).predict_proba(query)


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_arguments_through_the_app(client, files, case):
    change, message = BAD_ARGUMENTS[case]
    algorithm, support, labels, query, steps, lr = _bad_call(files, change)
    # JSON cannot carry NaN or infinity: a client sends them as strings, which must be refused the same way
    steps, lr = (str(v) if isinstance(v, float) and not math.isfinite(v) else v for v in (steps, lr))
    _app_error(client, message, algorithm, _upload(support), labels, _upload(query), steps, lr)
    _still_serving(client, files)


# --- the page's Adapt button, called as its endpoint -----------------------------------------------------

def _adapt_args(files, n_classes=3, names=None, galleries=None, steps=1, lr=0.4, algorithm="maml"):
    chars = files["chars"]
    names = names if names is not None else chars
    if galleries is None:
        galleries = [[{"image": handle_file(p), "caption": None} for p in files["support"][3 * i:3 * i + 3]]
                     for i in range(len(chars))]
    names = (list(names) + [""] * UI_MAX_CLASSES)[:UI_MAX_CLASSES]
    galleries = (list(galleries) + [[]] * UI_MAX_CLASSES)[:UI_MAX_CLASSES]
    return (algorithm, steps, lr, n_classes, *names, *galleries, [])


#: name -> (keyword changes to a good Adapt press, the message)
BAD_PAGE_INPUT = {
    "a class with no examples": (dict(n_classes=4), "Class 4.*has no examples yet"),
    # the page's sliders and dropdown check their own ranges before the handler runs
    "a single class": (dict(n_classes=1), "Value 1 is less than minimum value 2"),
    "11 classes": (dict(n_classes=11), "Value 11 is greater than maximum value 10"),
    "two classes with one name": (dict(names=["x", "x", "y"]), "Two classes are called 'x'"),
    "too many examples": ("many", f"at most {MAX_EXAMPLES} per class"),
    "steps 1000": (dict(steps=1000), "Value 1000 is greater than maximum value 100"),
    "lr 0": (dict(lr=0), "learning rate must be a number above 0"),
    "lr 100": (dict(lr=100), "Value 100 is greater than maximum value 10"),
    "unknown algorithm": (dict(algorithm="resnet"), "resnet is not in the list of choices"),
    "lr NaN": (dict(lr="nan"), ""),  # the page cannot send it; from a program it is refused without a traceback
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_PAGE_INPUT))
def test_bad_page_input_through_the_app(client, files, case):
    change, message = BAD_PAGE_INPUT[case]
    if change == "many":
        one = {"image": handle_file(files["support"][0]), "caption": None}
        change = dict(galleries=[[one] * (MAX_EXAMPLES + 1), [one], [one]])
    _app_error(client, message, *_adapt_args(files, **change), api_name="/adapt")
    _still_serving(client, files)


@pytest.mark.slow
def test_a_diverging_adaptation_warns_and_draws_the_curve(client, files):
    """A learning rate far too large: the page shows the curve and a warning, not an error.

    The classes are mixed up (each holds one drawing of every character), so the support loss starts
    high and steps of rate 10 overshoot.
    """
    mixed = [[{"image": handle_file(p), "caption": None} for p in files["support"][i::3]] for i in range(3)]
    chart, status, *_ = client.predict(*_adapt_args(files, galleries=mixed, steps=40, lr=10), api_name="/adapt")
    assert chart["type"] == "plotly"
    assert "learning rate 10 is too large" in status and ("diverged" in status or "exploded" in status)
    out = client.predict("maml", _upload(files["support"]), [0, 1, 2] * 3, _upload([files["query"]]), 40, 10,
                         api_name="/classify")
    assert out["steps"] <= 40 and np.isfinite(np.array(out["probabilities"], dtype=float)).all()


# --- unusual but valid images --------------------------------------------------------------------------------

def test_unusual_images_are_recognised_through_the_api(maml, files):
    variants = list(files["variants"].values())
    probs = maml.fit(files["support"], files["labels"]).predict_proba(variants)
    chars = files["chars"]
    assert [chars[i] for i in probs.argmax(1)] == [chars[0]] * len(variants), dict(zip(files["variants"], probs))


@pytest.mark.slow
def test_unusual_images_are_recognised_through_the_app(client, files):
    variants = list(files["variants"].values())
    out = client.predict("maml", _upload(files["support"]), files["labels"], _upload(variants), None, None,
                         api_name="/classify")
    assert out["predictions"] == [files["chars"][0]] * len(variants), out["probabilities"]
