"""Fuzzing what a stranger can send: image files (mutated PNG, JPEG, GIF and WebP), data URLs, drawing-pad and
webcam payloads, task zips (mutated archives, random task.json) and saved classifiers (mutated files).

Each test asserts only that the answer is a ``ValueError`` or a valid result, within the time budget. Runs are
seeded (``derandomize=True``: the same examples on every run) and small (all of them together in well under a
minute on two cores). ``METADEMO_FUZZ_SCALE=20`` runs 20 times as many examples, from fresh random seeds, to
look for new failures (``--hypothesis-show-statistics`` shows how the inputs were answered). A failing input is
written to ``$METADEMO_FUZZ_FAILURES`` (else a temporary folder; the failure message names the file); every
input that ever failed is kept in ``tests/fuzz_cases/`` and replayed by
:func:`test_every_case_that_ever_failed_still_passes`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from PIL import Image

import metademo
from metademo.algorithms import REGISTRY
from metademo.api import MetaClassifier
from metademo.data import preprocess, tasks
from metademo.data.synthetic import synthetic_gallery

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the seed files, in reports

CASES = Path(__file__).with_name("fuzz_cases")
SECONDS = 5.0  # per input, generous for a busy 2-core machine: the slowest valid input takes well under 1 s
SCALE = float(os.environ.get("METADEMO_FUZZ_SCALE", "1"))
FUZZ = settings(deadline=None, database=None, derandomize="METADEMO_FUZZ_SCALE" not in os.environ,
                print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


def _failures() -> Path:
    folder = Path(os.environ.get("METADEMO_FUZZ_FAILURES") or Path(tempfile.gettempdir()) / "metademo-fuzz-failures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _event(what: str) -> None:
    if currently_in_test_context():  # the cases replayed run outside Hypothesis
        event(what)


def _check(kind: str, data: bytes, ext: str, run, valid) -> None:
    """``run()`` must raise ValueError or return something ``valid`` accepts, within :data:`SECONDS`; else the
    input ``data`` is saved as ``<kind>-<hash>.<ext>`` and the test fails naming it."""
    start = time.perf_counter()
    try:
        result = run()
        problem = None if valid(result) else f"an invalid result: {result!r:.200}"
        _event("valid")
    except ValueError as e:
        problem = None
        _event(f"ValueError: {str(e).split('.safetensors ', 1)[-1][:40]}")
    except Exception as e:  # noqa: BLE001 (anything else is what fuzzing looks for)
        problem = f"{type(e).__name__}: {e}"
    seconds = time.perf_counter() - start
    if problem is None and seconds > SECONDS:
        problem = f"took {seconds:.1f} s"
    if problem is not None:
        path = _failures() / f"{kind}-{hashlib.sha1(data).hexdigest()[:12]}.{ext}"
        path.write_bytes(data)
        pytest.fail(f"{problem} (input saved as {path}; keep it in tests/fuzz_cases/)")


# --- seeds: small valid files of each kind ------------------------------------------------------------------

_GLYPH = synthetic_gallery(1, 1, seed=5)[0][0].resize((48, 48))
_GLYPHS = [row[0] for row in synthetic_gallery(3, 1, seed=6)]


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


SEEDS = {
    "png": _encode(_GLYPH, "PNG"),
    "png-rgba": _encode(_GLYPH.convert("RGBA"), "PNG"),
    "jpeg": _encode(_GLYPH.convert("RGB"), "JPEG", quality=80),
    "jpeg-progressive": _encode(_GLYPH, "JPEG", progressive=True),
    "gif": _encode(_GLYPH.convert("P"), "GIF"),
    "webp": _encode(_GLYPH.convert("RGB"), "WEBP", quality=80),
    "webp-lossless": _encode(_GLYPH, "WEBP", lossless=True),
}


@st.composite
def mutated(draw, seed: bytes, header: int = 64):
    """``seed`` with a few byte-level changes: bytes set (often in the first ``header`` bytes, where the sizes
    and kinds are), runs inserted or removed, or the end cut off."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        n = len(data)
        where = draw(st.one_of(st.integers(0, max(0, min(header, n) - 1)), st.integers(0, max(0, n - 1))))
        op = draw(st.sampled_from(["set", "set", "set", "insert", "delete", "cut", "extreme"]))
        if op == "set" and n:
            data[where] = draw(st.integers(0, 255))
        elif op == "extreme" and n >= 4:
            data[where:where + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                                                          b"\x00\x00\xff\xff"]))
        elif op == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[where:where + draw(st.integers(1, 16))]
        elif op == "cut":
            del data[where:]
    return bytes(data)


@st.composite
def image_files(draw):
    seed = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    return draw(st.one_of(mutated(seed), mutated(seed), st.binary(max_size=64).map(lambda b: seed[:16] + b)))


def _valid_tensor(t) -> bool:
    return (isinstance(t, torch.Tensor) and tuple(t.shape) == (1, 28, 28) and t.dtype == torch.float32
            and bool(torch.isfinite(t).all()) and float(t.min()) >= 0 and float(t.max()) <= 1)


def _valid_image(img) -> bool:
    return isinstance(img, Image.Image) and 0 < img.width * img.height <= preprocess.MAX_PIXELS


# --- images --------------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=examples(150))
@given(data=image_files())
def test_fuzz_image_files(data):
    _check("preprocess", data, "bin", lambda: preprocess.preprocess(data), _valid_tensor)


@settings(FUZZ, max_examples=examples(40))
@given(data=image_files(), mime=st.sampled_from(["image/png", "image/jpeg", "", "text/plain"]),
       garble=st.sampled_from(["", "=", "!", "\n", " ", "data:"]))
def test_fuzz_data_urls(data, mime, garble):
    url = f"data:{mime};base64," + base64.b64encode(data).decode() + garble
    _check("dataurl", url.encode(), "txt", lambda: preprocess.preprocess(url), _valid_tensor)


_ARRAY_DTYPES = [np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_]


@st.composite
def arrays(draw):
    """What a drawing pad or webcam sends as an array: any shape and dtype, values in and out of range."""
    shape = draw(st.sampled_from([(0,), (1, 1), (28, 28), (30, 20, 1), (16, 16, 2), (20, 24, 3), (12, 12, 4),
                                  (8, 8, 5), (2, 2, 2, 2), (0, 5, 3), (1, 40)]))
    dtype = draw(st.sampled_from(_ARRAY_DTYPES))
    fill = draw(st.sampled_from(["zeros", "ones", "ink", "random", "huge", "negative", "nan"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if fill == "nan" and np.issubdtype(dtype, np.floating):
        a = np.full(shape, np.nan)
    elif fill == "huge":
        a = np.full(shape, 1e6)
    elif fill == "negative":
        a = -rng.random(shape) * 300
    elif fill == "random":
        a = rng.random(shape) * (1 if np.issubdtype(dtype, np.floating) else 255)
    elif fill == "ink" and len(shape) >= 2:
        a = np.ones(shape) * (1 if np.issubdtype(dtype, np.floating) else 255)
        a[tuple(slice(s // 4, s // 2 + 1) for s in shape[:2])] = 0
    else:
        a = np.full(shape, 0 if fill == "zeros" else 1)
    with np.errstate(invalid="ignore", over="ignore"):
        return a.astype(dtype)


def payloads():
    """Values of Gradio's Sketchpad/ImageEditor and webcam components, well- and ill-formed."""
    leaf = st.one_of(st.none(), arrays(), image_files(), image_files().map(
        lambda b: "data:image/png;base64," + base64.b64encode(b).decode()),
        st.text(max_size=20).filter(lambda s: not os.path.exists(s)),  # text is a path to the API: none that exist
        st.integers(), st.just(_GLYPH), st.lists(st.integers(0, 255), max_size=4))
    editor = st.fixed_dictionaries({}, optional={"composite": leaf, "background": leaf,
                                                 "layers": st.lists(leaf, max_size=2)})
    return st.one_of(leaf, editor)


def _payload_bytes(value) -> bytes:
    return repr(value).encode()[:100_000]


@settings(FUZZ, max_examples=examples(120))
@given(value=payloads())
def test_fuzz_drawing_pad_and_webcam_payloads(value):
    _check("sketch", _payload_bytes(value), "txt", lambda: preprocess.sketch_image(value),
           lambda img: img is None or (_valid_image(img) and img.mode == "L"))
    _check("webcam", _payload_bytes(value), "txt", lambda: preprocess.webcam_photo(value),
           lambda img: img is None or (_valid_image(img) and img.mode == "RGB"))
    _check("prepare", _payload_bytes(value), "txt", lambda: metademo.prepare([value]),
           lambda p: tuple(p.tensor.shape) == (1, 1, 28, 28) and bool(torch.isfinite(p.tensor).all()))


# --- task zips ----------------------------------------------------------------------------------------------

_SMALL = {"a.png": SEEDS["png"], "b.png": SEEDS["png-rgba"], "c.jpg": SEEDS["jpeg"], "d.gif": SEEDS["gif"]}
_MANIFEST = {"format": tasks.FORMAT, "classes": [{"name": "alpha", "images": [{"file": "a.png", "caption": "x"}]},
                                                 {"name": "beta", "images": [{"file": "b.png"}, {"file": "c.jpg"}]}],
             "queries": [{"file": "d.gif"}]}


def _zip(files: dict, manifest, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("task.json", manifest if isinstance(manifest, bytes) else json.dumps(manifest))
    return buf.getvalue()


VALID_TASK = _zip(_SMALL, _MANIFEST)
STORED_TASK = _zip(_SMALL, _MANIFEST, zipfile.ZIP_STORED)


def _valid_task(task) -> bool:
    return (isinstance(task, tasks.Task) and 1 <= len(task.names) <= tasks.MAX_CLASSES
            and len(task.examples) == len(task.captions) == len(task.names)
            and all(len(e) == len(c) for e, c in zip(task.examples, task.captions))
            and len(task.queries) == len(task.query_captions)
            and all(_valid_image(i) and max(i.size) <= tasks.KEEP_SIDE for i in task.images + task.queries))


def _load_task_check(data: bytes) -> None:
    _check("task", data, "zip", lambda: tasks.load_task(data), _valid_task)


@settings(FUZZ, max_examples=examples(80))
@given(data=st.one_of(mutated(VALID_TASK, header=200), mutated(STORED_TASK, header=200)))
def test_fuzz_mutated_task_zips(data):
    _load_task_check(data)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=4), max_leaves=12)
_FILES = st.sampled_from(["a.png", "b.png", "c.jpg", "d.gif", "missing.png", "../a.png", "/a.png", "", "task.json"])
_CAPTION = st.one_of(st.none(), st.text(max_size=5), st.text(min_size=199, max_size=202), _JSON)
_ENTRY = st.one_of(*[st.fixed_dictionaries({"file": _FILES}, optional={"caption": _CAPTION})] * 8, _JSON)
_NAME = st.one_of(*[st.sampled_from(["alpha", "beta", "gamma", "beta "])] * 3, st.text(max_size=90), _JSON)
_CLASS = st.one_of(*[st.fixed_dictionaries({"name": _NAME, "images": st.lists(_ENTRY, min_size=1, max_size=4)})] * 4,
                   st.fixed_dictionaries({"name": _NAME, "images": _JSON}), _JSON)
_TASK_JSON = st.one_of(
    *[st.fixed_dictionaries({"format": st.just(tasks.FORMAT), "classes": st.lists(_CLASS, min_size=1, max_size=4)},
                            optional={"queries": st.one_of(st.lists(_ENTRY, max_size=3), st.none())})] * 4,
    st.fixed_dictionaries({"format": st.one_of(st.just(tasks.FORMAT), _JSON), "classes": st.one_of(
        st.lists(_CLASS, max_size=4), _JSON)}, optional={"queries": st.one_of(st.lists(_ENTRY, max_size=3), _JSON)}),
    _JSON,
)


@settings(FUZZ, max_examples=examples(100))
@given(manifest=_TASK_JSON, images=st.dictionaries(st.sampled_from(sorted(_SMALL)), image_files(), max_size=2))
def test_fuzz_task_json_and_the_images_it_names(manifest, images):
    _load_task_check(_zip({**_SMALL, **images}, json.dumps(manifest).encode()))


# --- saved classifiers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_file(tmp_path_factory):
    learner = REGISTRY["maml"](REGISTRY["maml"].default_hparams.replace(hidden=8))
    clf = MetaClassifier(learner, learner.init_meta_params(seed=3), device="cpu")
    gallery = synthetic_gallery(2, 2, seed=4)
    fitted = clf.fit([g for row in gallery for g in row], ["a", "a", "b", "b"], steps=1, lr=0.1)
    folder = tmp_path_factory.mktemp("fuzz-fitted")
    return fitted.save(folder / "seed.safetensors").read_bytes(), folder / "case.safetensors"


def _valid_fitted(fitted) -> bool:
    if not isinstance(fitted, metademo.FittedClassifier) or not 2 <= len(fitted.classes_) <= 20:
        return False
    proba = fitted.predict_proba(_GLYPHS)  # it must be usable, not only loaded
    return proba.shape == (len(_GLYPHS), len(fitted.classes_)) and bool(np.isfinite(proba).all())


def _load_fitted_check(data: bytes, path: Path) -> None:
    path.write_bytes(data)
    _check("fitted", data, "safetensors", lambda: metademo.load_fitted(path, device="cpu"), _valid_fitted)


@settings(FUZZ, max_examples=examples(60), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_mutated_saved_classifiers(fitted_file, data):
    seed, path = fitted_file
    header = int.from_bytes(seed[:8], "little") + 8
    _load_fitted_check(data.draw(mutated(seed, header=header)), path)


@settings(FUZZ, max_examples=examples(60), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_saved_classifier_metadata(fitted_file, data):
    seed, path = fitted_file
    n = int.from_bytes(seed[:8], "little")
    header = json.loads(seed[8:8 + n])
    meta = json.loads(header["__metadata__"]["metademo"])
    special = st.sampled_from([math.inf, -math.inf, math.nan, 10**30, -1, 0, 2.5, True, None, "", [], {}, [1, 2]])
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(sorted(meta) + ["format", "new"]))
        meta[key] = data.draw(st.one_of(_JSON, special))
        if isinstance(meta.get("hparams"), dict) and meta["hparams"] and data.draw(st.booleans()):
            meta["hparams"][data.draw(st.sampled_from(sorted(meta["hparams"])))] = data.draw(special)
    if data.draw(st.integers(0, 9)) == 0:
        meta = data.draw(_JSON)  # not even an object
    header["__metadata__"]["metademo"] = json.dumps(meta)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    _load_fitted_check(len(text).to_bytes(8, "little") + text + seed[8 + n:], path)


# --- every case that ever failed ----------------------------------------------------------------------------


def _replay(path: Path, tmp_path: Path) -> None:
    data = path.read_bytes()
    kind = path.name.split("-", 1)[0]
    if kind == "preprocess":
        _check(kind, data, "bin", lambda: preprocess.preprocess(data), _valid_tensor)
    elif kind == "dataurl":
        _check(kind, data, "txt", lambda: preprocess.preprocess(data.decode()), _valid_tensor)
    elif kind == "task":
        _load_task_check(data)
    elif kind == "fitted":
        _load_fitted_check(data, tmp_path / "case.safetensors")
    else:
        raise AssertionError(f"{path.name}: unknown kind of case {kind!r}")


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.name != "README.md"))
def test_every_case_that_ever_failed_still_passes(case, tmp_path):
    _replay(CASES / case, tmp_path)
