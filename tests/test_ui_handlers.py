"""The web app's event handlers as plain functions (no server, no browser), and its helpers.

Handlers receive what Gradio would pass them (galleries as lists of (image, caption) pairs, drawings
as dicts with a "composite" array) and return plain values, figures and ``gr.update``/``gr.skip``
dicts. ``gr.Warning`` outside a running app becomes a ``UserWarning``, which the tests catch.
"""

from __future__ import annotations

import threading
import time

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image, ImageDraw

from metademo import api
from metademo.data import gallery as gallery_mod
from metademo.data.gallery import (
    DRAWINGS,
    PROVIDER,
    GalleryProvider,
    OmniglotSource,
    SyntheticSource,
    drawing_key,
    parse_key,
)
from metademo.ui import capture, outer_loop, plots, session, sine_tab, text
from metademo.ui import handlers as h
from metademo.ui.models import ModelCache, get_sine_models
from metademo.ui.text import RIGHT, TIE, WRONG

pytestmark = pytest.mark.usefixtures("pretrained_assets")
SKIP = {"__type__": "update"}


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(session, "FRAME_PAUSE", 0)
    monkeypatch.setattr(sine_tab, "FRAME_PAUSE", 0)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """As the app runs (see configure_torch): tiny tensors are much faster on one thread on a busy machine."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def source():
    PROVIDER.wait(60)
    return PROVIDER.current()


def fill(k=3, exclude=()):
    """A class filled from the gallery, as the Gallery value the browser would send back."""
    examples, notice = h.fill_from_gallery(k, None, *exclude)
    assert "Gallery:" in notice
    return examples


def classes(n=3, k=3):
    out = []
    for _ in range(n):
        out.append(fill(k, out))
    return out


def drawing(stroke=True, size=120) -> dict:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))  # transparent, like the sketchpad's canvas
    if stroke:
        ImageDraw.Draw(img).line([(20, 20), (90, 100), (100, 30)], fill=(0, 0, 0, 255), width=8)
    return {"background": None, "layers": [], "composite": np.asarray(img)}


def save_png(img: Image.Image, path) -> str:
    img.save(path)
    return str(path)


def adapt_args(galleries, names=None, n=None):
    n = n or len(galleries)
    names = list(names or [f"class {i + 1}" for i in range(n)])
    names += [""] * (h.MAX_CLASSES - len(names))
    gals = list(galleries) + [None] * (h.MAX_CLASSES - len(galleries))
    return names, gals


# --- text, plots, models, gallery ---------------------------------------------------------------------

def test_algorithm_titles_match_the_registry():
    import metademo
    from metademo.algorithms import get_algorithm

    assert [name for _, name in text.ALGORITHMS] == metademo.available_algorithms()
    assert all(get_algorithm(name).title == title for title, name in text.ALGORITHMS)


def test_accuracy_markdown_reads_the_file_or_says_not_measured(tmp_path):
    assert "Not measured yet" in text.accuracy_markdown(tmp_path / "missing.md")
    (tmp_path / "acc.md").write_text("| algorithm | accuracy |\n|---|---|\n| MAML | 98% |\n")
    assert "| MAML | 98% |" in text.accuracy_markdown(tmp_path / "acc.md")
    (tmp_path / "empty.md").write_text("  \n")
    assert "Not measured yet" in text.accuracy_markdown(tmp_path / "empty.md")


def test_drawing_keys_round_trip():
    assert parse_key(drawing_key("Angelic/character01", 2)) == ("Angelic/character01", 2)
    assert parse_key("drawing") is None and parse_key(None) is None and parse_key("x #0") is None


def test_the_embedding_map_has_two_axes_of_fixed_sign():
    """The map's axes (metademo.api.recording.pca_basis): the largest loading of each is positive, whatever
    sign the SVD gives them, so the same points always give the same picture (and mirrored points a mirrored
    one). The first assertion checks that the SVD itself gives a negative loading for some of these point sets,
    so that the test fails without the sign rule."""
    from metademo.api.recording import pca_basis

    rng = np.random.default_rng(0)
    sets = [rng.normal(size=(12, 64)) * np.linspace(5, 0.1, 64) for _ in range(6)]
    sets += [-p + 3 for p in sets]

    def largest_loadings(axes):
        return axes[np.arange(2), np.abs(axes).argmax(1)]

    raw = [np.linalg.svd(p - p.mean(0), full_matrices=False)[2][:2] for p in sets]
    assert any((largest_loadings(v) < 0).any() for v in raw)
    for p in sets:
        mean, axes = pca_basis(p)
        assert axes.shape == (2, 64) and (largest_loadings(axes) > 0).all()
        np.testing.assert_allclose(np.abs(axes @ axes.T), np.eye(2), atol=1e-12)  # orthonormal
    a = (sets[0] - pca_basis(sets[0])[0]) @ pca_basis(sets[0])[1].T
    b = (sets[6] - pca_basis(sets[6])[0]) @ pca_basis(sets[6])[1].T
    np.testing.assert_allclose(a, -b, atol=1e-9)  # mirrored points, mirrored picture: no flip of the axes
    mean, axes = pca_basis(sets[0][:1])
    assert axes.shape == (2, 64) and not axes.any()


def test_adaptation_figure_survives_a_diverged_step():
    history = [{"step": 0, "loss": 1.0, "accuracy": 0.5}, {"step": 1, "loss": float("nan"), "accuracy": 0.3}]
    fig = plots.adaptation_figure(history, 5, "t", diverged_at=1)
    assert list(fig.data[0].y) == [1.0, None]
    fig.to_json()  # serialisable


def test_predictions_figure_has_an_image_and_bars_per_query():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    fig = plots.predictions_figure(np.zeros((2, 28, 28)), probs, ["a", "b", "c"], [0, 1])
    kinds = [type(t).__name__ for t in fig.data]
    assert kinds == ["Image", "Bar", "Image", "Bar"]
    assert list(fig.data[1].y) == ["a", "b", "c"]
    titles = " ".join(a.text for a in fig.layout.annotations)
    assert "✓ right" in titles and "✗ wrong (it is b)" in titles


def test_model_cache_loads_each_model_once_across_threads():
    calls = []

    def loader(name):
        calls.append(name)
        time.sleep(0.05)
        return object()

    cache = ModelCache(loader)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("maml"))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["maml"] and len({id(g) for g in got}) == 1
    assert cache.loaded() == ["maml"]


def test_gallery_falls_back_to_synthetic_fast_when_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("METADEMO_CACHE", str(tmp_path / "cache"))  # no cached Omniglot either
    monkeypatch.setattr(gallery_mod, "_can_reach", lambda host, timeout: False)
    provider = GalleryProvider(root=tmp_path / "no-data", download=True)
    start = time.monotonic()
    assert provider.wait(10)
    assert time.monotonic() - start < 5
    assert provider.status == "synthetic" and provider.current().synthetic
    assert text.gallery_notice(provider.kind, provider.status).startswith("Gallery: **synthetic glyphs**")


def test_gallery_downloads_only_the_evaluation_set_when_online(tmp_path, monkeypatch):
    monkeypatch.setenv("METADEMO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(gallery_mod, "_can_reach", lambda host, timeout: True)
    calls = []

    def fake_load(root, background, download, progress):
        calls.append((background, download))
        if not download:
            raise FileNotFoundError("not here")
        return type("Set", (), {"images": np.zeros((3, 20, 28, 28), np.uint8),
                                "characters": ["A/character01", "A/character02", "B/character01"]})()

    monkeypatch.setattr("metademo.data.omniglot.load_omniglot", fake_load)
    provider = GalleryProvider(root=tmp_path / "no-data", download=True)
    assert provider.wait(10)
    assert provider.status == "omniglot" and len(provider.current()) == 3
    assert all(background is False for background, _ in calls) and calls[-1] == (False, True)


def test_gallery_without_download_stays_synthetic(tmp_path, monkeypatch):
    monkeypatch.setenv("METADEMO_CACHE", str(tmp_path / "cache"))
    reached = []
    monkeypatch.setattr(gallery_mod, "_can_reach", lambda *a: reached.append(a) or True)
    provider = GalleryProvider(root=tmp_path / "no-data", download=False)
    assert provider.wait(10) and provider.current().synthetic and not reached


def test_gallery_sources_give_black_on_white_drawings_and_model_inputs():
    ink = np.zeros((2, DRAWINGS, 28, 28), np.uint8)
    ink[:, :, 8:20, 12:16] = 255
    for src in (OmniglotSource(ink, ["X/character01", "X/character02"]), SyntheticSource(50)):
        img = src.drawing(1, 3)
        arr = np.asarray(img)
        assert img.mode == "L" and arr.max() == 255 and arr.min() < 100 and np.median(arr) == 255
        x = src.tensor(1, [0, 5])
        assert tuple(x.shape) == (2, 1, 28, 28) and float(x.max()) > 0.5
        i, js = src.pick(np.random.default_rng(0), 4, exclude=[src.name(0)])
        assert i != 0 and len(set(js)) == 4
    with pytest.raises(ValueError, match="already in use"):
        OmniglotSource(ink, ["X/character01", "X/character02"]).pick(
            np.random.default_rng(0), 2, ["X/character01", "X/character02"])


# --- page-level handlers -------------------------------------------------------------------------------

def test_page_info_names_the_device_and_the_gallery():
    device, notice, accuracy = h.page_info()
    assert any(d in device for d in ("**cpu**", "**cuda**", "**mps**"))
    assert notice.startswith("Gallery:")
    assert "ccuracy" in accuracy


def test_show_classes():
    updates = h.show_classes(4)
    assert [u["visible"] for u in updates] == [True] * 4 + [False] * 6
    for bad in (1, 11, 2.5, None):
        with pytest.raises(gr.Error):
            h.show_classes(bad)


def test_algorithm_defaults_follow_the_checkpoint():
    import metademo

    clf = metademo.load_pretrained("reptile")
    steps, lr, note = h.algorithm_defaults("reptile")
    assert steps["value"] == clf.default_steps and lr["value"] == pytest.approx(clf.default_lr)
    assert steps["interactive"] and "Reptile" in note
    steps, lr, note = h.algorithm_defaults("Prototypical Networks")  # a title works too
    assert steps["interactive"] is False and lr["interactive"] is False and "no inner steps" in note
    with pytest.raises(gr.Error, match="Unknown algorithm"):
        h.algorithm_defaults("SVM")


# --- building classes ------------------------------------------------------------------------------------

def test_add_uploads_keeps_images_and_skips_the_rest(tmp_path, source):
    good = [save_png(source.drawing(0, j), tmp_path / f"a{j}.png") for j in range(3)]
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    blank = save_png(Image.new("L", (40, 40), 255), tmp_path / "blank.png")
    existing = [(good[0], "a0.png")]
    with pytest.warns(UserWarning, match="notes.txt.*; blank.png \\(The image looks blank"):
        out, prepared = h.add_uploads([good[1], str(bad), blank, good[2]], existing)
    assert [c for _, c in out] == ["a0.png", "a1.png", "a2.png"]
    assert sorted(prepared) == sorted(good[1:])  # each usable upload preprocessed once, kept for Adapt
    with pytest.warns(UserWarning, match="At most 2"):
        assert len(h.add_uploads(good, [], limit=2)[0]) == 2
    assert h.add_uploads(None, existing, prepared) == (existing, prepared)


def test_uploads_are_preprocessed_once(tmp_path, source, monkeypatch):
    """Adapt and Classify reuse what the upload preprocessed; an upload whose file changed is preprocessed again."""
    paths = [save_png(source.drawing(c, j), tmp_path / f"c{c}_{j}.png") for c in range(2) for j in range(3)]
    prepared, galleries = {}, []
    for c in range(2):
        gallery, prepared = h.add_uploads(paths[3 * c:3 * c + 3], [], prepared)
        galleries.append(gallery)
    queries, prepared = h.add_query_uploads(paths[2::3], [], prepared)
    calls = []
    real = api.prepare
    monkeypatch.setattr(api, "prepare", lambda images: calls.append(list(images)) or real(images))
    names, gals = adapt_args(galleries)
    state = list(h.adapt("protonet", None, None, 2, None, *names, *gals, queries, None, prepared))[-1][2]
    h.classify_queries(state, queries, prepared)
    assert calls == []  # nothing preprocessed again
    expected = real(paths)
    assert np.array_equal(state.support.tensor.numpy(), expected.tensor.numpy())
    Image.new("L", (40, 40), 255).save(paths[5])  # a changed file: preprocessed again (it is blank now)
    with pytest.warns(UserWarning, match="Query 2 .*blank"):
        h.classify_queries(state, queries, prepared)
    assert calls == [[paths[5]]]


def test_add_drawing_appends_the_drawing():
    out = h.add_drawing(drawing(), [("x.png", "x.png")])
    assert len(out) == 2 and out[1][1] == "drawing"
    img = out[1][0]
    assert isinstance(img, Image.Image)
    # the stroke (x 20..100, y 20..100, 8 px wide, on a 120 px transparent pad) cropped with a margin, black on white
    arr = np.asarray(img.convert("L"))
    assert max(img.size) < 120 and min(img.size) >= 80, img.size
    assert arr.min() < 50 and np.median(arr) == 255
    assert (arr[0] == 255).all() and (arr[-1] == 255).all() and (arr[:, 0] == 255).all() and (arr[:, -1] == 255).all()
    with pytest.warns(UserWarning, match="empty"):
        assert h.add_drawing(drawing(stroke=False), out) == SKIP
    with pytest.warns(UserWarning, match="empty"):
        assert h.add_drawing(None, out) == SKIP


def test_fill_from_gallery_gives_k_drawings_of_a_new_character_each_time():
    first = fill(4)
    keys = [parse_key(c) for _, c in first]
    assert len(first) == 4 and len({k[0] for k in keys}) == 1 and len({k[1] for k in keys}) == 4
    assert all(isinstance(img, Image.Image) for img, _ in first)
    others = classes(3, 1)
    for _ in range(5):  # never the class's own character, never another class's
        again, _ = h.fill_from_gallery(2, first, *others, first)
        char = parse_key(again[0][1])[0]
        assert char not in {parse_key(c)[0] for g in [first, *others] for _, c in g}
    with pytest.raises(gr.Error) as e:
        h.fill_from_gallery(0, None)
    assert e.value.message == "The number of gallery drawings must be a whole number from 1 to 20, got 0"


def test_select_remove_and_clear():
    examples = [("a.png", "a"), ("b.png", "b"), ("c.png", "c")]
    evt = type("Evt", (), {"index": 1})()
    assert h.select_index(evt) == 1
    assert h.remove_selected(examples, 1) == ([("a.png", "a"), ("c.png", "c")], None)
    with pytest.warns(UserWarning, match="select"):
        assert h.remove_selected(examples, None) == (SKIP, None)
    with pytest.warns(UserWarning):
        assert h.remove_selected(examples, 7) == (SKIP, None)
    assert h.clear_examples() == ([], None) and h.clear_selection() is None


def test_query_uploads_and_drawings_use_the_query_limit(tmp_path, source, monkeypatch):
    monkeypatch.setattr(capture, "MAX_QUERIES", 2)
    paths = [save_png(source.drawing(1, j), tmp_path / f"q{j}.png") for j in range(3)]
    with pytest.warns(UserWarning, match="At most 2"):
        queries, _ = h.add_query_uploads(paths, None)
    assert [c for _, c in queries] == ["q0.png", "q1.png"]
    with pytest.warns(UserWarning, match="At most 2"):
        assert h.add_query_drawing(drawing(), queries) == SKIP
    assert len(h.add_query_drawing(drawing(), queries[:1])) == 2


def test_new_seed_and_labels_from_text():
    seeds = [h.new_seed() for _ in range(200)]
    assert all(type(x) is int and 0 <= x < 1_000_000 for x in seeds)
    assert len(set(seeds)) >= 195 and max(seeds) > 900_000 and min(seeds) < 100_000  # spread over the range
    assert h.labels_from_text("a, b ,c") == ["a", "b", "c"]
    assert h.labels_from_text('["x", 2]') == ["x", 2]
    assert h.labels_from_text("") == []
    with pytest.raises(gr.Error, match="must not be empty"):
        h.labels_from_text("a,,b")


def test_queries_from_gallery_are_unused_drawings_of_the_class_characters():
    galleries = classes(3, 5)
    queries = h.queries_from_gallery(None, 2, *galleries)  # only the 2 active classes
    assert len(queries) == 2
    chars = [parse_key(g[0][1])[0] for g in galleries]
    used = {parse_key(c) for g in galleries for _, c in g}
    for (_, caption), char in zip(queries, chars[:2]):
        assert parse_key(caption)[0] == char and parse_key(caption) not in used
    more = h.queries_from_gallery(queries, 2, *galleries)
    assert len(more) == 4 and len({c for _, c in more}) == 4
    with pytest.warns(UserWarning, match="with 'Gallery' first"):
        assert h.queries_from_gallery(None, 2, [("x.png", "x.png")], [("y.png", "y.png")]) == SKIP


# --- adapting and predicting -----------------------------------------------------------------------------

def test_adapt_streams_the_curve_then_predicts():
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries, ["alpha", "beta", "gamma"])
    frames = list(h.adapt("maml", 4, 0.4, 3, None, *names, *gals, queries))
    assert len(frames) == 6  # steps 0..4, then the final frame
    for i, (chart, status, state, slider, pred, _, _) in enumerate(frames[:-1]):
        assert isinstance(chart, go.Figure) and state == SKIP and pred == SKIP and slider == SKIP
        assert len(chart.data[0].x) == i + 1 and f"step {i} of 4" in status
    chart, status, state, slider, pred, table, emb = frames[-1]
    assert len(chart.data[0].x) == 5 and "adapted to 3 classes from 9 examples" in status
    assert [t.name for t in chart.data][2] == "query accuracy (%)"  # the queries' answers are known
    assert state.names == ["alpha", "beta", "gamma"] and len(state.fitted.history) == 5
    assert state.characters == [[parse_key(g[0][1])[0]] for g in galleries]
    assert len(state.support) == 9 and state.record.recorded_steps == [0, 1, 2, 3, 4]
    assert slider["maximum"] == 4 and slider["value"] == 4 and slider["interactive"]
    assert [type(t).__name__ for t in pred.data] == ["Image", "Bar"] * 3
    assert len(table["data"]) == 3 and {r[3] for r in table["data"]} == {"alpha", "beta", "gamma"}
    assert {r[4] for r in table["data"]} <= {RIGHT, WRONG}  # in words, not by colour alone
    stars = [t for t in emb.data if t.marker.symbol == "star"]
    assert len(stars) == 3 and any(t.name == "queries" for t in emb.data)
    # the same session classifies new queries without new preprocessing of the support set
    out = h.classify_queries(state, queries[:1])
    assert len(out[3]["data"]) == 1 and out[3]["data"][0][:4] == table["data"][0][:4]


def test_the_step_slider_shows_each_steps_probabilities_and_embeddings():
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries)
    # The model's own inner learning rate: at a rate so large that one step fits the support set, the support
    # loss and with it the features' gradient vanish, and the map would rightly stand still.
    state = list(h.adapt("fomaml", 3, None, 3, None, *names, *gals, queries))[-1][2]
    charts = [h.step_chart(state, k) for k in range(4)]
    rec = state.record
    assert rec.probabilities.shape == (4, 3, 3)
    zero = rec.probabilities[0]
    assert state.info.head == "zero" and np.allclose(zero, 1 / 3)  # a zero head predicts uniformly at step 0
    assert rec.query_accuracy[0] == (0, 0.0)  # a tie is no answer: wrong
    assert not np.allclose(rec.probabilities[0], rec.probabilities[3])  # the steps changed the answers
    for k, (chart, pred, table, emb) in enumerate(charts):
        shown = [float(x) for x in pred.data[1].x]
        assert np.allclose(shown, 100 * rec.probabilities[k][0])
        assert chart.layout.shapes[-1].x0 == pytest.approx(k - 0.3)  # the chosen step is marked on the curve
        assert ("before adapting" in emb.layout.title.text) == (k == 0)
        assert [r[4] == RIGHT for r in table["data"]] == rec.correct(k)
    assert [r[4] for r in charts[0][2]["data"]] == [WRONG] * 3  # the tie at step 0, as the query accuracy says
    assert [r[1] for r in charts[0][2]["data"]] == [TIE] * 3  # shown as a tie, not as the first class
    queries_at_0 = [t for t in charts[0][3].data if t.name == "queries"][0]
    assert all("tie" in t and "✗" in t for t in queries_at_0.text) and set(queries_at_0.marker.color) == {"#444"}
    # the map's axes are the same at every step (the slider moves the points, not the axes) and hold them all
    ranges = {(tuple(emb.layout.xaxis.range), tuple(emb.layout.yaxis.range)) for _, _, _, emb in charts}
    assert len(ranges) == 1
    (x0, x1), (y0, y1) = ranges.pop()
    points = np.concatenate([rec.support_map.reshape(-1, 2), rec.query_map.reshape(-1, 2)])
    assert (points[:, 0] >= x0).all() and (points[:, 0] <= x1).all()
    assert (points[:, 1] >= y0).all() and (points[:, 1] <= y1).all()
    # the map's axes are shared by every step, so the points move and the axes stay
    assert not np.allclose(rec.support_map[0], rec.support_map[3])
    stars = [t for t in charts[3][3].data if t.marker.symbol == "star"]
    assert np.allclose([[t.x[0], t.y[0]] for t in stars], rec.centre_map[3])
    assert h.step_chart(None, 2)[0] == SKIP


def test_the_live_preview_answers_from_the_session_fast():
    galleries = classes(3, 3)
    names, gals = adapt_args(galleries, ["alpha", "beta", "gamma"])
    state = list(h.adapt("protonet", None, None, 3, None, *names, *gals, None))[-1][2]
    assert h.live_preview(None, drawing()) is None  # not adapted yet: no bars
    assert h.live_preview(state, drawing(stroke=False)) is None  # blank pad: no bars
    assert h.live_preview(state, None) is None
    bars = h.live_preview(state, drawing(size=300))
    assert list(bars) == ["alpha", "beta", "gamma"] and sum(bars.values()) == pytest.approx(1)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        h.live_preview(state, drawing(size=300))
        times.append(time.perf_counter() - start)
    assert sorted(times)[2] < 0.5  # about 0.05 s here; generous for a busy test machine
    # a webcam photo of the same drawing gets bars too
    photo = Image.new("RGB", (640, 480), (235, 235, 235))
    ImageDraw.Draw(photo).line([(260, 150), (320, 330), (380, 150)], fill=(20, 20, 20), width=14)
    assert list(h.live_preview_photo(state, np.asarray(photo))) == ["alpha", "beta", "gamma"]


def test_adapt_with_many_steps_limits_chart_updates(monkeypatch):
    monkeypatch.setattr(session, "MAX_FRAMES", 5)
    names, gals = adapt_args(classes(2, 2))
    frames = list(h.adapt("fomaml", 20, 0.1, 2, None, *names, *gals, None))
    assert len(frames) == 7 and frames[-1][2].steps == 20  # steps 0, 4, ..., 20, then the final frame
    assert frames[-1][2].record.recorded_steps == [0, 4, 8, 12, 16, 20]
    assert "Add queries" in frames[-1][4].layout.annotations[0].text
    assert h.step_view(frames[-1][2], 7)[2].layout.title.text.startswith("Embeddings after 4")


def test_adapt_protonet_shows_embeddings_not_a_curve():
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries)
    frames = list(h.adapt("protonet", 7, 99, 3, None, *names, *gals, queries))  # steps and lr are ignored
    assert len(frames) == 1
    chart, status, state, slider, pred, table, emb = frames[0]
    stars = [t for t in emb.data if t.marker.symbol == "star"]
    assert len(stars) == 3 and any(t.name == "queries" for t in emb.data)
    assert "no inner steps" in chart.layout.annotations[0].text and slider["interactive"] is False
    assert state.fitted.step == 0 and state.fitted.history == [] and "prototypes" in status
    assert len(table["data"]) == 3


def test_relation_networks_show_their_relation_scores_as_a_heat_map():
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries, ["alpha", "beta", "gamma"])
    chart, status, state, slider, pred, table, emb = list(h.adapt("relationnet", 5, 0.4, 3, None, *names, *gals,
                                                                  queries))[-1]
    (heat,) = chart.data
    assert heat.type == "heatmap" and list(heat.x) == ["alpha", "beta", "gamma"] and len(heat.y) == 3
    expected = state.fitted.pair_scores([q[0] for q in queries])  # the API's relation scores, in (0, 1)
    assert np.allclose(np.asarray(heat.z), expected) and ((expected > 0) & (expected < 1)).all()
    assert (expected.argmax(1) == state.record.probabilities[0].argmax(1)).all()  # the ranking is the scores'
    assert "relation score" in chart.layout.title.text.replace("<br>", " ") and slider["interactive"] is False
    assert state.fitted.history == [] and "class feature maps" in status
    assert any(t.marker.symbol == "star" for t in emb.data)  # the embedding module's map
    # without queries the chart says what will appear
    chart = list(h.adapt("relationnet", None, None, 3, None, *names, *gals, None))[-1][0]
    assert "relation scores" in chart.layout.annotations[0].text


def test_matching_networks_adapt_without_pretending_an_inner_loop():
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries)
    frames = list(h.adapt("matchingnet", 4, 0.4, 3, None, *names, *gals, queries))
    assert len(frames) == 1
    chart, status, state, slider, pred, table, emb = frames[0]
    assert "no inner steps" in chart.layout.annotations[0].text and "embedded examples" in status
    assert len(table["data"]) == 3 and state.record.recorded_steps == [0]
    with pytest.raises(ValueError, match="does not score"):
        state.fitted.pair_scores([q[0] for q in queries])


def test_an_unreadable_query_does_not_undo_the_adaptation():
    names, gals = adapt_args(classes(2, 2))
    blank = [(Image.new("L", (50, 50), 255), "blank.png")]
    with pytest.raises(gr.Error, match="Query 1 \\(blank.png\\).*blank"):
        list(h.adapt("fomaml", 1, 0.1, 2, None, *names, *gals, blank))
    state = list(h.adapt("fomaml", 1, 0.1, 2, None, *names, *gals, None))[-1][2]
    with pytest.warns(UserWarning, match="Query 1 \\(blank.png\\).*blank"):
        chart, slider, pred, table, emb = h.classify_queries(state, blank)
    assert state.record is not None and table["data"] == [] and "Add queries" in pred.layout.annotations[0].text


def test_adapt_refuses_unusable_input_with_clear_messages(tmp_path):
    galleries = classes(2, 2)
    names, gals = adapt_args(galleries)
    blank = save_png(Image.new("L", (40, 40), 255), tmp_path / "blank.png")
    cases = [
        (("maml", 3, 0.4, 2, None, *adapt_args([galleries[0], None])[0], *adapt_args([galleries[0], None])[1]),
         "Class 2 .* has no examples"),
        (("maml", 3, 0.4, 2, None, *adapt_args(galleries, ["same", "same"])[0], *gals), "Two classes are called"),
        (("maml", 3, 0, 2, None, *names, *gals), "learning rate"),
        (("maml", 3, 11, 2, None, *names, *gals), "learning rate"),
        (("maml", 101, 0.4, 2, None, *names, *gals), "Inner steps"),
        (("k-NN", 3, 0.4, 2, None, *names, *gals), "Unknown algorithm"),
        (("maml", 3, 0.4, 12, None, *names, *gals), "number of classes"),
        (("maml", 3, 0.4, 2, None, *names, *adapt_args([galleries[0], galleries[1] + [(blank, "blank.png")]])[1]),
         "Class 2 \\('class 2'\\), example 3: the image looks blank"),
    ]
    for args, message in cases:
        with pytest.raises(gr.Error, match=message):
            list(h.adapt(*args))


class _Diverging(api.MetaClassifier):
    """A real model whose adaptation reports a blow-up at step 2, as a far too large learning rate does."""

    def __init__(self, losses=(1.0, 40.0, float("nan"))):
        real = api.load_pretrained("fomaml")
        super().__init__(real.learner, real.meta_params, real.device, real.metadata)
        self.losses = losses

    def fit_steps(self, images, labels, steps=None, lr=None):
        import dataclasses

        real = list(super().fit_steps(images, labels, steps=len(self.losses) - 1, lr=0.01))
        for i, fitted in enumerate(real):
            hist = [{"step": k, "loss": v, "accuracy": 0.5} for k, v in enumerate(self.losses[:i + 1])]
            if not np.isfinite(self.losses[i]):
                yield dataclasses.replace(real[i - 1], history=hist, diverged=True)
                return
            yield dataclasses.replace(fitted, history=hist)


def test_divergence_warns_and_still_shows_the_curve(monkeypatch):
    monkeypatch.setattr(session, "MODELS", ModelCache(lambda name: _Diverging()))
    names, gals = adapt_args(classes(2, 1))
    with pytest.warns(UserWarning, match="diverged at step 2.*too large"):
        frames = list(h.adapt("maml", 30, 10.0, 2, None, *names, *gals, None))
    chart, status, state, slider, *_ = frames[-1]
    assert state.record.divergence == api.Divergence("diverged", 2, 1, 1.0, 40.0)
    assert state.fitted.diverged and state.fitted.step == 1 and "diverged at step 2" in status
    assert list(chart.data[0].y) == [1.0, 40.0, None] and slider["maximum"] == 1
    assert chart.layout.shapes  # the "diverged" marker line


def test_an_exploding_loss_warns_too(monkeypatch):
    monkeypatch.setattr(session, "MODELS", ModelCache(lambda name: _Diverging((0.5, 30.0, 4e6, 1.2))))
    names, gals = adapt_args(classes(2, 1))
    with pytest.warns(UserWarning, match="exploded .*too large"):
        frames = list(h.adapt("maml", 3, 10.0, 2, None, *names, *gals, None))
    chart, status, state, *_ = frames[-1]
    assert state.record.divergence == api.Divergence("exploded", 2, 3, 0.5, 4e6)  # 4e6 > 100 x 0.5 at step 2
    assert not state.fitted.diverged and "exploded (up to 4e+06, from 0.5)" in status
    assert chart.layout.yaxis.type == "log"


def test_a_normal_adaptation_does_not_warn(recwarn):
    names, gals = adapt_args(classes(2, 2))
    list(h.adapt("maml", 2, 0.01, 2, None, *names, *gals, None))
    assert not [w for w in recwarn if "too large" in str(w.message)]


def test_a_huge_learning_rate_on_a_real_model_is_reported_as_the_api_diagnoses_it(source):
    """Each class holds one drawing of each of three characters, so the support loss cannot fall, and steps of
    rate 10 overshoot: the loss explodes (or, on other arithmetic, stops being finite). The page says which, at
    which step, in one warning, as the API's diagnosis has it."""
    mixed = [[(source.drawing(c, j), None) for c in range(3)] for j in range(3)]
    names, gals = adapt_args(mixed)
    with pytest.warns(UserWarning) as warned:
        frames = list(h.adapt("maml", 10, 10.0, 3, None, *names, *gals, None))
    chart, status, state, *_ = frames[-1]
    d = state.record.divergence
    assert d is not None and isinstance(chart, go.Figure)
    losses = [x["loss"] for x in state.fitted.history]
    if d.kind == "diverged":
        expected = (f"The adaptation diverged at step {d.step}: the learning rate 10 is too large. The predictions "
                    f"use step {d.used_step}, the last good one. Try a smaller learning rate.")
        assert not np.isfinite(losses[d.step]) and state.fitted.step == d.used_step == d.step - 1
    else:
        expected = (f"The support loss exploded (up to {max(losses):.3g}, from {losses[0]:.3g}): the learning rate "
                    "10 is too large, so the steps overshoot. Try a smaller learning rate.")
        assert d.kind == "exploded" and all(np.isfinite(losses)) and state.fitted.step == 10
        assert losses[d.step] > 100 * losses[0] >= max(losses[:d.step])  # the first step past the bound
    assert [str(w.message) for w in warned if "too large" in str(w.message)] == [expected]
    assert status.endswith(f"⚠️ {expected}")


def test_predictions_before_adapting_or_without_queries_are_placeholders():
    chart, slider, fig, table, emb = h.classify_queries(None, [("q.png", "q")])
    assert "Adapt" in fig.layout.annotations[0].text and table["data"] == [] and chart == SKIP
    names, gals = adapt_args(classes(2, 1))
    state = list(h.adapt("protonet", None, None, 2, None, *names, *gals, None))[-1][2]
    chart, slider, fig, table, emb = h.classify_queries(state, [])
    assert "Add queries" in fig.layout.annotations[0].text


def test_unexpected_errors_become_a_short_message(caplog):
    @h.friendly
    def broken():
        raise KeyError("internal detail")

    with pytest.raises(gr.Error) as e:
        broken()
    assert "logged" in e.value.message and "internal detail" not in e.value.message
    assert "internal detail" in caplog.text


# --- comparison -------------------------------------------------------------------------------------------

def test_new_episode_and_compare_every_algorithm():
    episode, shown, info = h.new_episode(3, 2, 2)
    assert len(episode["characters"]) == 3 and len(shown["value"]) == 6 and "3-way 2-shot" in info
    assert shown["columns"] == 3  # one column per class
    assert [c.split(":")[0] for _, c in shown["value"]] == ["class 1", "class 2", "class 3"] * 2
    assert all(not set(s) & set(q) for s, q in zip(episode["support"], episode["query"]))
    from metademo.api import weights_path

    present = [t for t, n in text.ALGORITHMS if weights_path(n).is_file()]  # a missing checkpoint is skipped
    frames = list(h.compare(episode, 3, 2, 2, 3))
    assert len(frames) == len(present)  # one frame per algorithm as it finishes
    chart, table, ep, shown2, info2 = frames[-1]
    assert ep is episode and shown2 == SKIP  # the same episode was used
    rows = {r[0]: r for r in table["data"]}
    assert list(rows) == present
    assert rows["Prototypical Networks"][1] == 0 and rows["MAML"][1] == 3
    assert all(r[5] > 0 for r in rows.values())
    for trace in chart.data:
        if trace.mode == "lines+markers":
            assert all(0 <= y <= 100 for y in trace.y) and len(trace.y) == 4


def test_compare_draws_a_new_episode_when_needed():
    frames = list(h.compare(None, 2, 1, 1, 0))
    chart, table, ep, shown, info = frames[0]
    assert ep["n_way"] == 2 and len(shown["value"]) == 2 and "2-way 1-shot" in info
    with pytest.raises(gr.Error, match="at most 20"):
        list(h.compare(None, 2, 10, 11, 1))
    with pytest.raises(gr.Error, match="N-way"):
        h.new_episode(1, 1, 1)


# --- sine waves ---------------------------------------------------------------------------------------------

def test_sine_adapt_streams_both_models():
    frames = list(h.sine_adapt(2.0, 0.5, 5, 3, 0.01, 1))
    assert len(frames) == 4
    fig, status = frames[-1]
    names = {t.name for t in fig.data}
    assert {"true wave", "prediction", "K = 5 points"} <= names
    labels = ["MAML (pretrained)", "baseline (pretrained on all waves)"]
    assert [a.text for a in fig.layout.annotations] == [f"<b>{n}</b>: after 3 of 3 steps" for n in labels]
    # each panel's fit is the API's after 3 steps, and the status gives its error over the whole wave
    truth = np.asarray(next(t for t in fig.data if t.name == "true wave").y)
    fits = [np.asarray(t.y) for t in fig.data if t.name == "prediction"]
    wave = api.sine_wave(2.0, 0.5, 5, 1)
    records = [list(api.adapt_sine_wave(m, wave, 3, 0.01))[-1] for m in get_sine_models()]
    assert len(fits) == 2 and all(np.allclose(f, r["prediction"]) for f, r in zip(fits, records))
    errors = [float(np.mean((f - truth) ** 2)) for f in fits]
    assert np.allclose(errors, [r["error"] for r in records])
    assert status == "Step 3 of 3. Error over the whole wave (MSE): " + ", ".join(
        f"{n} **{e:.3f}**" for n, e in zip(labels, errors))


def test_sine_adapt_rejects_bad_input_and_falls_back_to_the_pretrained_maml():
    with pytest.raises(gr.Error, match="amplitude"):
        list(h.sine_adapt(9, 0.5, 5, 3, 0.01, 1))
    with pytest.raises(gr.Error, match="K"):
        list(h.sine_adapt(2, 0.5, 0, 3, 0.01, 1))
    with pytest.warns(UserWarning, match="not meta-trained"):
        frames = list(h.sine_adapt(2, 0.5, 5, 1, 0.01, 1, h.SINE_CHOICES[1], None))
    assert "pretrained" in frames[-1][1]


def test_sine_train_streams_the_meta_loss_and_hands_over_the_model():
    frames = list(h.sine_train(100, 3))
    assert len(frames) == 11  # every 10 iterations, then the final frame
    fig, status, trained, choice = frames[-1]
    assert len(fig.data[0].x) == 10 and "Done: 100 iterations" in status
    assert choice == h.SINE_CHOICES[1] and set(trained["params"]) >= {"fc1.weight"}
    frames = list(h.sine_adapt(2.0, 0.5, 5, 1, 0.01, 1, h.SINE_CHOICES[1], trained))
    assert "your MAML (100 iterations)" in frames[-1][1]
    with pytest.raises(gr.Error, match="Iterations"):
        list(h.sine_train(5, 0))


# --- the programmatic API ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory, source):
    d = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(1)
    chars = rng.choice(len(source), 2, replace=False)
    return {name: [save_png(source.drawing(int(c), j), d / f"{name}{j}.png") for j in range(4)]
            for name, c in zip(("beta", "alpha"), chars)}


def test_classify_returns_probabilities_per_query(files):
    support = files["beta"][:2] + files["alpha"][:2]
    out = h.classify("MAML", support, ["beta", "beta", "alpha", "alpha"], [files["alpha"][3], files["beta"][3]], None)
    assert out["classes"] == ["alpha", "beta"]  # sorted labels, as scikit-learn does
    probs = np.array(out["probabilities"])
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1)
    assert out["predictions"] == [out["classes"][i] for i in probs.argmax(1)]
    assert [r["step"] for r in out["history"]] == list(range(out["steps"] + 1))
    out = h.classify("protonet", support, "beta, beta, alpha, alpha", [files["alpha"][3]], 5)
    assert out["history"] == [] and out["steps"] == 0 and np.array(out["probabilities"]).shape == (1, 2)
    out = h.classify("reptile", support, '["beta", "beta", "alpha", "alpha"]', [files["alpha"][3]], 2.0)
    assert out["steps"] == 2


def test_classify_errors_are_readable(files, tmp_path):
    support, labels, q = files["beta"][:2] + files["alpha"][:2], ["b", "b", "a", "a"], [files["alpha"][3]]
    text_file = tmp_path / "readme.txt"
    text_file.write_text("hello")
    cases = [
        (("knn", support, labels, q, None), "Unknown algorithm"),
        (("maml", [], labels, q, None), "no files"),
        (("maml", support, labels[:3], q, None), "4 support images but 3 labels"),
        (("maml", support, labels, None, None), "query_files: no files"),
        (("maml", support, labels, [str(text_file)], None), "Query file 1 \\(readme.txt\\)"),
        (("maml", support, labels, q, 101), "steps must be a whole number"),
        (("maml", support, labels, q, 2.5), "steps must be a whole number"),
        (("maml", support, ["a"] * 4, q, None), "at least 2 classes"),
        (("maml", support, [["x"], "b", "a", "a"], q, None), "Labels must be strings"),
    ]
    for args, message in cases:
        with pytest.raises(gr.Error, match=message) as e:
            h.classify(*args)
        assert "Traceback" not in e.value.message and "/tmp/" not in e.value.message


# --- webcam photos, task files, the adapted classifier ----------------------------------------------------

def _photo_url(ink=True, fmt="JPEG") -> str:
    """A webcam frame as the page sends it: a data URL of a photo of paper, with or without a character."""
    import base64
    import io

    img = Image.new("RGB", (640, 480), (228, 226, 220))
    if ink:
        ImageDraw.Draw(img).line([(250, 140), (320, 340), (390, 140)], fill=(30, 30, 40), width=16)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


def test_add_photo_takes_the_live_frame_or_the_snapshot_in_one_action():
    out = h.add_photo(_photo_url(), None, [("x.png", "x")])
    assert len(out) == 2 and out[1][1] == "photo" and out[1][0].size == (384, 384)  # the middle of the frame
    snapshot = np.asarray(Image.new("RGB", (320, 240), "white"))
    snapshot = snapshot.copy()
    snapshot[60:180, 150:170] = 20
    assert h.add_photo(None, snapshot, [])[0][1] == "photo"
    with pytest.warns(UserWarning, match="webcam is not on"):
        assert h.add_photo(None, None, []) == SKIP
    with pytest.warns(UserWarning, match="models know handwritten characters"):
        assert h.add_photo(_photo_url(ink=False), None, []) == SKIP
    with pytest.raises(gr.Error, match="base64"):
        h.add_photo("data:image/png;base64,@@@", None, [])
    assert len(h.add_query_photo(_photo_url(fmt="PNG"), None, None)) == 1


def test_download_task_then_open_it_gives_the_same_classes_and_predictions():
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries, ["alpha", "beta", "gamma"])
    path = h.download_task(3, *names, *gals, queries)
    assert path.endswith(".zip")
    n, *rest = h.open_task(path)
    opened_names, opened_gals = rest[:10], rest[10:20]
    opened_queries, session, message = rest[20:]
    assert n == 3 and [u["value"] for u in opened_names[:3]] == ["alpha", "beta", "gamma"]
    assert [len(g) for g in opened_gals] == [3, 3, 3] + [0] * 7 and session is None and "3 classes" in message
    assert [c for _, c in opened_gals[0]] == [c for _, c in galleries[0]]  # captions (right answers) travel too
    before = list(h.adapt("protonet", None, None, 3, None, *names, *gals, queries))[-1]
    after = list(h.adapt("protonet", None, None, 3, None, *[u["value"] for u in opened_names], *opened_gals,
                         opened_queries))[-1]
    assert np.allclose(before[2].record.probabilities[-1], after[2].record.probabilities[-1])
    assert before[5]["data"] == after[5]["data"]
    with pytest.raises(gr.Error, match="has no examples"):
        h.download_task(3, *names, *adapt_args(galleries[:2])[1], None)


def test_open_task_refuses_hostile_files_clearly(tmp_path):
    import zipfile

    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../../evil.png", b"x")
        zf.writestr("task.json", "{}")
    with pytest.raises(gr.Error, match="unsafe file name") as e:
        h.open_task(str(bad))
    assert "Traceback" not in e.value.message
    notzip = tmp_path / "notes.zip"
    notzip.write_text("hello")
    with pytest.raises(gr.Error, match="not a zip archive"):
        h.open_task(str(notzip))
    with pytest.raises(gr.Error, match="Choose a task file"):
        h.open_task(None)
    assert not (tmp_path.parent / "evil.png").exists()


def test_download_classifier_loads_back_with_identical_probabilities(tmp_path):
    import metademo

    galleries = classes(2, 3)
    queries = h.queries_from_gallery(None, 2, *galleries)
    names, gals = adapt_args(galleries, ["alpha", "beta"])
    state = list(h.adapt("fomaml", 2, 0.1, 2, None, *names, *gals, queries))[-1][2]
    with pytest.raises(gr.Error, match="Adapt"):
        h.download_classifier(None)
    path = h.download_classifier(state)
    loaded = metademo.load_fitted(path)
    assert loaded.classes_ == ["alpha", "beta"]
    assert np.array_equal(loaded.predict_proba([img for img, _ in queries]), state.record.probabilities[-1])


@pytest.mark.slow
def test_meta_train_live_then_adapt_with_your_model(monkeypatch):
    """The outer loop on the page: a short run streams its validation curve, then the model adapts like a
    pretrained one. (The real section runs for a minute; here a few seconds of ProtoNet.)"""
    import metademo.training.live as live

    monkeypatch.setattr(live, "MAX_SECONDS", 180)
    frames = list(h.meta_train("protonet", 10))
    chart, status, model, choice = frames[-1]
    assert choice == "yours" and "Done" in status and model.algorithm == "protonet"
    assert len(chart.data[0].x) == len(frames) and chart.data[0].x[0] == 0
    assert all(f[2] == SKIP for f in frames[:-1])
    with pytest.raises(gr.Error, match="one at a time|right now"):
        outer_loop._TRAINING.acquire()
        try:
            list(h.meta_train("protonet", 10))
        finally:
            outer_loop._TRAINING.release()
    galleries = classes(3, 3)
    queries = h.queries_from_gallery(None, 3, *galleries)
    names, gals = adapt_args(galleries)
    last = list(h.adapt("yours", None, None, 3, None, *names, *gals, queries, model))[-1]
    assert "Your meta-trained model" in last[1] and len(last[5]["data"]) == 3
    with pytest.raises(gr.Error, match="not meta-trained a model yet"):
        list(h.adapt("yours", None, None, 3, None, *names, *gals, queries, None))
    steps, lr, note = h.choose_algorithm("yours", model)
    assert steps["interactive"] is False and "meta-trained live" in note
    with pytest.raises(gr.Error, match="Live meta-training runs"):
        list(h.meta_train("maml", 10))
