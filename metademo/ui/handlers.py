"""Every event handler of the app, as plain Python functions of plain values.

Nothing here needs a browser: tests call these functions directly with the values Gradio would pass
(strings, numbers, lists of ``(image, caption)`` pairs for galleries, dicts for drawings) and look at
what they return. Streaming handlers are generators. Errors a person can fix raise ``gr.Error`` with
a readable message; anything unexpected is logged here and reported as a short apology, never as a
stack trace. Visitor data lives only in the values passed in and returned (``gr.State``), never in
module globals; the only shared things are the read-only models and gallery images.

Gallery captions carry the provenance of gallery drawings (``"Angelic/character01 #3"``, see
:mod:`metademo.ui.gallery`), which is how "pick queries from the gallery" knows the right answers.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Sequence

import gradio as gr
import numpy as np
from PIL import Image

from . import plots
from .gallery import DRAWINGS, PROVIDER, drawing_key, parse_key
from .models import MODELS, get_sine_models
from .text import ALGORITHM_NOTES, ALGORITHMS, TITLES, accuracy_markdown

log = logging.getLogger("metademo.ui")

MIN_CLASSES, MAX_CLASSES, DEFAULT_CLASSES = 2, 10, 3
MAX_EXAMPLES = 50  # per class
MAX_QUERIES = 30
MAX_STEPS = 100  # as metademo.algorithms.inner_loop.MAX_STEPS
MAX_LR = 10.0  # as metademo.api.MAX_LR
MAX_IMAGES = 1000  # per list in one /classify call, as metademo.api.MAX_IMAGES
MAX_FRAMES = 40  # chart updates per adaptation; more steps update every few steps
FRAME_PAUSE = 0.04  # seconds between chart updates, so that a fast adaptation still visibly grows
EXPLODED = 100  # a support loss this many times its starting value means the learning rate is too large
SINE_CHOICES = ("pretrained MAML", "the MAML you trained")
GENERIC_ERROR = "Something went wrong on the server (it has been logged). Please try again."
PRED_HEADERS = ["query", "prediction", "confidence", "right answer", "correct?"]
COMPARE_HEADERS = ["algorithm", "inner steps", "before adapting (step 0)", "after the last step",
                   "after its default steps", "time (ms)"]


# --- errors -----------------------------------------------------------------------------------------

def _message(e: BaseException) -> str:
    text = str(e).strip().strip("'\"") or type(e).__name__
    return text[0].upper() + text[1:]


def user_error(message: str) -> gr.Error:
    """A gr.Error for a mistake the visitor can fix (shown in the page; no traceback in the log)."""
    return gr.Error(message, print_exception=False)


def friendly(fn):
    """Turn ValueError/FileNotFoundError into gr.Error and log anything else (plain functions and generators)."""

    def translate(e: Exception) -> gr.Error:
        if isinstance(e, gr.Error):
            return e
        if isinstance(e, (ValueError, FileNotFoundError)):
            return user_error(_message(e))
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(GENERIC_ERROR, print_exception=False)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:
                raise translate(e) from None
        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            raise translate(e) from None
    return wrapper


# --- small validators -----------------------------------------------------------------------------

def _whole(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or value is None:
        raise user_error(f"{what} must be a whole number from {lo} to {hi}, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise user_error(f"{what} must be a whole number from {lo} to {hi}, got {value!r}") from None
    if not math.isfinite(f) or not f.is_integer() or not lo <= f <= hi:
        raise user_error(f"{what} must be a whole number from {lo} to {hi}, got {value!r}")
    return int(f)


def _number(value, what: str, lo: float, hi: float, lo_open: bool = False) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = math.nan
    if isinstance(value, bool) or not math.isfinite(f) or f > hi or f < lo or (lo_open and f <= lo):
        bound = f"above {lo}" if lo_open else f"at least {lo}"
        raise user_error(f"{what} must be a number {bound} and at most {hi}, got {value!r}")
    return f


def algorithm_name(value) -> str:
    """A registry name from a name or a title, any case ("MAML", "maml", "Meta-SGD" ...)."""
    if isinstance(value, str):
        key = value.strip().lower()
        for title, name in ALGORITHMS:
            if key in (name, title.lower()):
                return name
    choices = ", ".join(f"{name!r}" for _, name in ALGORITHMS)
    raise user_error(f"Unknown algorithm {value!r}: choose one of {choices}.")


# --- gallery values -------------------------------------------------------------------------------------

def items(value) -> list[tuple[object, str | None]]:
    """A Gallery value (``[(image, caption), ...]``, images alone, or None) as a list of pairs."""
    out = []
    for item in value or []:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            img, caption = item
        elif isinstance(item, dict):  # the JSON form a client may send
            img = item.get("image") or item.get("path")
            if isinstance(img, dict):
                img = img.get("path") or img.get("url")
            caption = item.get("caption")
        else:
            img, caption = item, None
        out.append((img, caption))
    return out


def characters_of(value) -> list[str]:
    """Names of the gallery characters among the examples, most frequent first."""
    keys = [parse_key(c) for _, c in items(value)]
    return [name for name, _ in Counter(k[0] for k in keys if k).most_common()]


def _file_name(path) -> str:
    return os.path.basename(str(path)) or "image"


# --- page-level handlers --------------------------------------------------------------------------

@friendly
def device_markdown() -> str:
    """Which device the models run on."""
    import torch

    import metademo

    device = metademo.default_device()
    text = f"Models run on **{device.type}**"
    if device.type == "cuda":
        text += f" ({torch.cuda.get_device_name(device)})"
    elif device.type == "cpu":
        text += f" ({torch.get_num_threads()} threads)"
    return text + f" · PyTorch {torch.__version__.split('+')[0]}"


@friendly
def gallery_status() -> str:
    return PROVIDER.notice()


@friendly
def accuracy_table() -> str:
    return accuracy_markdown()


@friendly
def page_info() -> tuple[str, str, str]:
    """On page load: the device line, where the gallery comes from, and the accuracy table."""
    return device_markdown(), gallery_status(), accuracy_table()


def show_classes(n_classes) -> list[dict]:
    """Show the first ``n_classes`` class blocks and hide the others."""
    n = _whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    return [gr.update(visible=i < n) for i in range(MAX_CLASSES)]


@friendly
def algorithm_defaults(algorithm) -> tuple[dict, dict, str]:
    """Default inner steps and learning rate of the chosen algorithm's checkpoint, and a note on it."""
    name = algorithm_name(algorithm)
    note = ALGORITHM_NOTES[name]
    try:
        clf = MODELS.get(name)
        steps, lr, inner = clf.default_steps, clf.default_lr, clf.learner.has_inner_loop
    except FileNotFoundError as e:
        from metademo.algorithms import get_algorithm

        cls = get_algorithm(name)
        steps, lr, inner = cls.default_hparams.test_steps, cls.default_hparams.inner_lr, cls.has_inner_loop
        note += f"\n\n⚠️ {_message(e)}"
    if not inner:
        return (gr.update(value=0, interactive=False), gr.update(value=None, interactive=False), note)
    return (gr.update(value=int(steps), interactive=True), gr.update(value=float(lr), interactive=True),
            note + f" Checkpoint defaults: {steps} steps, learning rate {lr:g}.")


# --- building the classes -----------------------------------------------------------------------------

def _checked_upload(path) -> str | None:
    """None if ``path`` is a usable image (readable, not blank), else why not."""
    from metademo.data.preprocess import preprocess

    try:
        preprocess(path)
    except ValueError as e:
        return _message(e)
    return None


@friendly
def add_uploads(files, examples, limit: int = MAX_EXAMPLES) -> list:
    """Append uploaded image files (paths) to a class's (or the queries') examples."""
    current = items(examples)
    paths = [files] if isinstance(files, (str, os.PathLike)) else list(files or [])
    added, skipped = [], []
    for path in paths:
        path = getattr(path, "name", path)  # a tempfile wrapper from older clients
        problem = _checked_upload(path)
        if problem:
            skipped.append(f"{_file_name(path)} ({problem})")
        else:
            added.append((str(path), _file_name(path)))
    if skipped:
        gr.Warning("Skipped what is not a usable image: " + "; ".join(skipped))
    room = max(limit - len(current), 0)
    if len(added) > room:
        gr.Warning(f"At most {limit} images here; kept the first {room} of the {len(added)} new ones.")
        added = added[:room]
    return current + added


def _sketch_image(sketch) -> Image.Image | None:
    """The drawing from a Sketchpad value (a dict with 'composite'), as a PIL image, or None."""
    if sketch is None:
        return None
    if isinstance(sketch, dict):
        img = sketch.get("composite")
        if img is None:
            img = sketch.get("background")
    else:
        img = sketch
    if img is None:
        return None
    if isinstance(img, (str, os.PathLike)):
        with Image.open(img) as opened:
            img = opened.copy()
    elif isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    if not isinstance(img, Image.Image):
        return None
    if img.mode in ("RGBA", "LA", "P"):  # transparent canvas: paint it white
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("L")


def _crop_to_ink(img: Image.Image) -> Image.Image:
    """The drawing cut to a square around its ink, with a margin (a tidy thumbnail; the model crops anyway)."""
    arr = np.asarray(img)
    rows, cols = np.flatnonzero((arr < 128).any(1)), np.flatnonzero((arr < 128).any(0))
    if rows.size == 0:
        return img
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = int(max(bottom - top, right - left) * 1.25) + 8
    canvas = Image.new("L", (side, side), 255)
    canvas.paste(img.crop((left, top, right, bottom)), ((side - (right - left)) // 2, (side - (bottom - top)) // 2))
    return canvas


@friendly
def add_drawing(sketch, examples, limit: int = MAX_EXAMPLES):
    """Append the drawing on the pad to a class's (or the queries') examples.

    The pad is left as it is (its bin icon clears it): in Gradio 6.31 a pad cleared by an event's output
    stops sending later drawings to the server.
    """
    from metademo.data.preprocess import preprocess

    img = _sketch_image(sketch)
    blank = img is None
    if not blank:
        try:
            preprocess(img)
        except ValueError:
            blank = True
    if blank:
        gr.Warning("The drawing pad is empty: draw a character on it first (if you just drew one, it may still "
                   "be saving: wait a second and press 'Add drawing' again).")
        return gr.skip()
    current = items(examples)
    if len(current) >= limit:
        gr.Warning(f"At most {limit} images here: remove one first.")
        return gr.skip()
    return current + [(_crop_to_ink(img), "drawing")]


@friendly
def fill_from_gallery(k, examples, *all_classes):
    """Replace a class's examples with ``k`` drawings of a random unseen character.

    ``all_classes`` are the examples of every class, so the new character differs from all of them
    (including the one this class held: each press gives another character).
    """
    k = _whole(k, "The number of gallery drawings", 1, DRAWINGS)
    source = PROVIDER.current()
    used = set(characters_of(examples))
    for other in all_classes:
        used.update(characters_of(other))
    i, js = source.pick(np.random.default_rng(), k, exclude=used)
    name = source.name(i)
    return [(source.drawing(i, j), drawing_key(name, j)) for j in js], PROVIDER.notice()


def select_index(evt: gr.SelectData) -> int | None:
    """The index of the example a visitor clicked (kept in a gr.State for 'remove selected')."""
    index = getattr(evt, "index", None)
    if isinstance(index, (list, tuple)):
        index = index[0] if index else None
    return index if isinstance(index, int) else None


@friendly
def remove_selected(examples, selected):
    """Remove the selected example; returns the examples and a cleared selection."""
    current = items(examples)
    if not isinstance(selected, int) or not 0 <= selected < len(current):
        gr.Warning("Click an image first to select it, then press 'Remove selected'.")
        return gr.skip(), None
    return current[:selected] + current[selected + 1:], None


def clear_selection():
    """Forget the selected example (its gallery changed)."""
    return None


def clear_examples():
    """Empty a gallery (and its selection)."""
    return [], None


# --- queries --------------------------------------------------------------------------------------------

@friendly
def add_query_uploads(files, queries) -> list:
    return add_uploads(files, queries, limit=MAX_QUERIES)


@friendly
def add_query_drawing(sketch, queries):
    return add_drawing(sketch, queries, limit=MAX_QUERIES)


@friendly
def queries_from_gallery(queries, n_classes, *class_examples):
    """One new drawing of each gallery character in the active classes, as queries with known answers."""
    n = _whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    current = items(queries)
    used = {parse_key(c) for _, c in current} | {parse_key(c) for ex in class_examples for _, c in items(ex)}
    rng = np.random.default_rng()
    added = []
    for examples in class_examples[:n]:
        chars = characters_of(examples)
        if not chars:
            continue
        found = PROVIDER.find(chars[0])
        if found is None:
            continue
        source, i = found
        free = [j for j in range(DRAWINGS) if (chars[0], j) not in used]
        if not free:
            continue
        j = int(rng.choice(free))
        added.append((source.drawing(i, j), drawing_key(chars[0], j)))
    if not added:
        gr.Warning("Fill at least one class with 'Pick from gallery' first: the gallery queries are new "
                   "drawings of those characters, so the right answers are known.")
        return gr.skip()
    room = max(MAX_QUERIES - len(current), 0)
    if len(added) > room:
        gr.Warning(f"At most {MAX_QUERIES} queries: remove some first.")
        added = added[:room]
    return current + added


# --- adapting -----------------------------------------------------------------------------------------

def _support(names: Sequence, galleries: Sequence):
    """Validated class names, images, integer labels and each class's gallery characters."""
    if len(names) != len(galleries):
        raise user_error("Internal mismatch between class names and examples.")
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise user_error(f"Use from {MIN_CLASSES} to {MAX_CLASSES} classes, got {len(names)}.")
    clean, images, labels, characters = [], [], [], []
    for i, (name, gallery) in enumerate(zip(names, galleries)):
        name = (name or "").strip() if isinstance(name, str) else ""
        name = name or f"class {i + 1}"
        if name in clean:
            raise user_error(f"Two classes are called {name!r}: give each class its own name.")
        examples = items(gallery)
        if not examples:
            raise user_error(f"Class {i + 1} ({name!r}) has no examples yet: upload some, draw one, or press "
                             "'Pick from gallery'.")
        if len(examples) > MAX_EXAMPLES:
            raise user_error(f"Class {i + 1} ({name!r}) has {len(examples)} examples; at most {MAX_EXAMPLES} per "
                             "class are used. Remove some.")
        clean.append(name)
        images += [img for img, _ in examples]
        labels += [i] * len(examples)
        characters.append(characters_of(examples))
    return clean, images, labels, characters


def _fitted(state: dict):
    """Rebuild the adapted classifier kept in a session's state (the shared model plus its own tensors)."""
    from metademo.api import FittedClassifier

    model = MODELS.get(state["algorithm"])
    return FittedClassifier(model, list(range(len(state["names"]))), state["params"], state["history"],
                            state["step"], state["diverged"])


def _query_tensor(queries):
    from metademo.data.preprocess import preprocess

    pairs = items(queries)
    tensors = []
    for i, (img, caption) in enumerate(pairs):
        try:
            tensors.append(preprocess(img))
        except ValueError as e:
            raise user_error(f"Query {i + 1} ({caption or 'image'}): {_message(e)}") from None
    import torch

    return torch.stack(tensors), pairs


def _truth(caption, characters: list[list[str]]) -> int | None:
    key = parse_key(caption)
    if key is None:
        return None
    owners = [c for c, chars in enumerate(characters) if key[0] in chars]
    return owners[0] if len(owners) == 1 else None


def _empty_predictions(message: str):
    return plots.empty_figure(message, 200), {"headers": PRED_HEADERS, "data": []}


def predict_queries(state, queries):
    """Probabilities of every query for every class, as a chart (one row per query) and a table."""
    if not items(queries):
        return _empty_predictions("Add queries (upload, draw or pick from the gallery) to see predictions.")
    if not state:
        return _empty_predictions("Press 'Adapt' first: the model has not learned your classes yet.")
    x, pairs = _query_tensor(queries)
    fitted = _fitted(state)
    probs = fitted.proba_of_tensor(x.to(fitted.model.device))
    names = state["names"]
    truth = [_truth(caption, state["characters"]) for _, caption in pairs]
    fig = plots.predictions_figure(x[:, 0].numpy(), probs, names, truth)
    rows = []
    for i, (p, t) in enumerate(zip(probs, truth)):
        best = int(p.argmax())
        rows.append([i + 1, names[best], f"{100 * p[best]:.1f}%", "" if t is None else names[t],
                     "" if t is None else ("yes" if t == best else "no")])
    return fig, {"headers": PRED_HEADERS, "data": rows}


classify_queries = friendly(predict_queries)


def _predictions_or_message(state, queries):
    """Predictions after adapting; a query that cannot be read must not undo the adaptation."""
    try:
        return predict_queries(state, queries)
    except gr.Error as e:
        gr.Warning(e.message)
        return _empty_predictions(e.message)


def _protonet_figure(clf, images, labels, names, queries, fitted):
    import torch

    from metademo.data.preprocess import preprocess_batch

    with torch.no_grad():
        body = clf.learner.body(clf.meta_params)
        x = preprocess_batch(images).to(clf.device)
        emb = clf.learner.network.features(body, x).cpu().numpy()
        y = np.asarray(labels)
        protos = np.stack([emb[y == c].mean(0) for c in range(len(names))])
        q_emb = q_pred = None
        try:
            qx = _query_tensor(queries)[0] if items(queries) else None
        except gr.Error:
            qx = None  # reported with the predictions
        if qx is not None:
            qx = qx.to(clf.device)
            q_emb = clf.learner.network.features(body, qx).cpu().numpy()
            q_pred = fitted.proba_of_tensor(qx).argmax(1).tolist()
    return plots.embedding_figure(emb, labels, names, protos, q_emb, q_pred,
                                  "ProtoNet: each class is the mean of its examples' embeddings (2-D PCA)")


def run_adaptation(algorithm, steps, lr, names, galleries, queries=None, progress=None):
    """Adapt a pretrained model to the classes, yielding (chart, status, state, predictions chart, table).

    Intermediate yields update only the chart and the status (``gr.skip()`` for the rest); the last
    one carries the session state (the adapted tensors) and the predictions for the queries.
    """
    name = algorithm_name(algorithm)
    names, images, labels, characters = _support(names, galleries)
    clf = MODELS.get(name)
    title = TITLES[name]
    inner = clf.learner.has_inner_loop
    if inner:
        steps = clf.default_steps if steps is None else _whole(steps, "Inner steps", 0, MAX_STEPS)
        lr = clf.default_lr if lr in (None, "") else _number(lr, "The inner learning rate", 0, MAX_LR, True)
    else:
        steps, lr = 0, None
    every = max(1, math.ceil(steps / MAX_FRAMES))
    if progress is not None:
        progress((0, max(steps, 1)), desc="Adapting", unit="steps")
    spent, tick = 0.0, time.perf_counter()  # time spent adapting, not drawing charts
    fitted = None
    for fitted in clf.fit_steps(images, labels, steps=steps, lr=lr):
        spent += time.perf_counter() - tick
        if progress is not None:
            progress((fitted.step, max(steps, 1)), desc="Adapting", unit="steps")
        if inner and (fitted.step % every == 0 or fitted.step == steps or fitted.diverged):
            last = fitted.history[-1]
            status = f"**{title}**: step {last['step']} of {steps} · support loss {last['loss']:.3f}"
            yield (plots.adaptation_figure(fitted.history, steps, f"{title} adapting to your {len(names)} classes",
                                           n_classes=len(names)),
                   status, gr.skip(), gr.skip(), gr.skip())
            if FRAME_PAUSE and fitted.step < steps:
                time.sleep(FRAME_PAUSE)
        tick = time.perf_counter()
    elapsed = 1000 * spent
    state = {"algorithm": name, "names": names, "characters": characters,
             "params": {k: v.detach() for k, v in fitted.params.items()}, "history": fitted.history,
             "step": fitted.step, "diverged": fitted.diverged, "steps": steps, "lr": lr}
    if inner:
        diverged_at = fitted.history[-1]["step"] if fitted.diverged else None
        chart = plots.adaptation_figure(fitted.history, steps, f"{title} adapting to your {len(names)} classes",
                                        diverged_at, n_classes=len(names))
        good = fitted.history[fitted.step]
        status = (f"**{title}** adapted to {len(names)} classes from {len(images)} examples: {steps} steps of "
                  f"learning rate {lr:g} in {elapsed:.0f} ms. Support accuracy {100 * good['accuracy']:.0f}%, "
                  f"loss {good['loss']:.3f}.")
        message = None
        if fitted.diverged:
            message = (f"The adaptation diverged at step {diverged_at}: the learning rate {lr:g} is too large. "
                       f"The predictions use step {fitted.step}, the last good one. Try a smaller learning rate.")
        else:
            losses = [x["loss"] for x in fitted.history]
            peak = max(losses)
            if peak > EXPLODED * max(losses[0], 0.1):
                message = (f"The support loss exploded (up to {peak:.3g}, from {losses[0]:.3g}): the learning rate "
                           f"{lr:g} is too large, so the steps overshoot. Try a smaller learning rate.")
        if message:
            gr.Warning(message)
            status += f"\n\n⚠️ {message}"
    else:
        chart = _protonet_figure(clf, images, labels, names, queries, fitted)
        status = (f"**{title}**: prototypes of {len(names)} classes from {len(images)} examples in {elapsed:.0f} ms "
                  "(no inner steps).")
    yield chart, status, state, *_predictions_or_message(state, queries)


@friendly
def adapt(algorithm, steps, lr, n_classes, progress=gr.Progress(), *values):  # noqa: B008 - Gradio's idiom
    """The Adapt button. ``values``: the 10 class names, the 10 class galleries, then the queries.

    ``progress`` comes before ``*values`` because Gradio fills it in only among the positional
    parameters; a direct call may pass None.
    """
    n = _whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    if len(values) < 2 * MAX_CLASSES:
        raise user_error("Internal error: adapt needs the names and examples of all classes.")
    names, galleries = values[:MAX_CLASSES], values[MAX_CLASSES:2 * MAX_CLASSES]
    queries = values[2 * MAX_CLASSES] if len(values) > 2 * MAX_CLASSES else None
    yield from run_adaptation(algorithm, steps, lr, list(names[:n]), list(galleries[:n]), queries, progress)


# --- comparison -----------------------------------------------------------------------------------------

def _episode_sizes(n_way, k_shot, queries):
    n = _whole(n_way, "N-way", MIN_CLASSES, MAX_CLASSES)
    k = _whole(k_shot, "K-shot", 1, DRAWINGS - 1)
    q = _whole(queries, "Queries per class", 1, DRAWINGS - 1)
    if k + q > DRAWINGS:
        raise user_error(f"K-shot + queries per class must be at most {DRAWINGS} (each character has "
                         f"{DRAWINGS} drawings), got {k} + {q}.")
    return n, k, q


def _episode_view(episode: dict):
    """The support images, one column per class (a gallery update), and a line describing the episode."""
    shown = []
    for shot in range(episode["k_shot"]):  # row by row: shot 1 of every class, then shot 2, ...
        for c, (name, js) in enumerate(zip(episode["characters"], episode["support"])):
            found = PROVIDER.find(name)
            if found is not None and shot < len(js):
                source, i = found
                shown.append((source.drawing(i, js[shot]), f"class {c + 1}: {drawing_key(name, js[shot])}"))
    kind = "synthetic glyphs" if episode["kind"] == "synthetic" else "Omniglot evaluation characters"
    info = (f"**{episode['n_way']}-way {episode['k_shot']}-shot episode** of {kind} (the models never saw them), "
            f"{episode['queries']} queries per class: " + ", ".join(f"{c + 1}. `{n}`"
                                                                   for c, n in enumerate(episode["characters"])))
    return gr.update(value=shown, columns=episode["n_way"]), info


@friendly
def new_episode(n_way, k_shot, queries_per_class):
    """Draw a random episode of unseen characters; returns (episode, support images, description)."""
    n, k, q = _episode_sizes(n_way, k_shot, queries_per_class)
    source = PROVIDER.current()
    rng = np.random.default_rng()
    chars = rng.choice(len(source), n, replace=False)
    support, query = [], []
    for _ in chars:
        perm = rng.permutation(DRAWINGS)
        support.append(sorted(int(j) for j in perm[:k]))
        query.append(sorted(int(j) for j in perm[k:k + q]))
    episode = {"kind": source.kind, "characters": [source.name(int(c)) for c in chars], "support": support,
               "query": query, "n_way": n, "k_shot": k, "queries": q}
    return (episode, *_episode_view(episode))


def _episode_matches(episode, n, k, q) -> bool:
    return (isinstance(episode, dict) and (episode.get("n_way"), episode.get("k_shot"), episode.get("queries"))
            == (n, k, q) and all(PROVIDER.find(c) is not None for c in episode.get("characters", [])))


def _compare_table(results):
    rows = []
    for r in results:
        acc = r["accuracy"]
        d = r.get("default_step")
        rows.append([r["title"], r["steps"], f"{100 * acc[0]:.0f}%", f"{100 * acc[-1]:.0f}%",
                     "" if d is None else f"{100 * acc[d]:.0f}% ({d} steps)", round(r["time_ms"], 1)])
    return {"headers": COMPARE_HEADERS, "data": rows}


@friendly
def compare(episode, n_way, k_shot, queries_per_class, steps, progress=gr.Progress()):  # noqa: B008
    """Run one episode through every algorithm, yielding (chart, table, episode, support images, text)."""
    import torch

    n, k, q = _episode_sizes(n_way, k_shot, queries_per_class)
    steps = _whole(steps, "Inner steps", 0, MAX_STEPS)
    if _episode_matches(episode, n, k, q):
        shown, info = gr.skip(), gr.skip()
    else:
        episode, shown, info = new_episode(n, k, q)
    images, labels, query_x, query_y = [], [], [], []
    for c, name in enumerate(episode["characters"]):
        source, i = PROVIDER.find(name)
        images += [source.drawing(i, j) for j in episode["support"][c]]
        labels += [c] * len(episode["support"][c])
        query_x.append(source.tensor(i, episode["query"][c]))
        query_y += [c] * len(episode["query"][c])
    query_x, query_y = torch.cat(query_x), np.asarray(query_y)
    results = []
    for a, (title, name) in enumerate(ALGORITHMS):
        if progress is not None:
            progress((a, len(ALGORITHMS)), desc=f"Adapting {title}", unit="algorithms")
        try:
            clf = MODELS.get(name)
        except FileNotFoundError as e:
            gr.Warning(f"{title} skipped: {_message(e)}")
            continue
        s = steps if clf.learner.has_inner_loop else 0
        qx = query_x.to(clf.device)
        accuracy, spent = [], 0.0
        tick = time.perf_counter()
        for fitted in clf.fit_steps(images, labels, steps=s):
            spent += time.perf_counter() - tick
            accuracy.append(float((fitted.proba_of_tensor(qx).argmax(1) == query_y).mean()))
            tick = time.perf_counter()
        tick = time.perf_counter()
        fitted.proba_of_tensor(qx)  # the time to classify the queries once, as a user would
        spent += time.perf_counter() - tick
        default = min(clf.default_steps, len(accuracy) - 1) if clf.learner.has_inner_loop else None
        results.append({"name": name, "title": title, "steps": len(accuracy) - 1, "accuracy": accuracy,
                        "default_step": default, "time_ms": 1000 * spent})
        yield plots.compare_figure(results, n, steps), _compare_table(results), episode, shown, info
        shown, info = gr.skip(), gr.skip()
    if not results:
        raise user_error("No pretrained model could be loaded, so there is nothing to compare.")


# --- sine waves -------------------------------------------------------------------------------------------

def new_seed() -> int:
    """A fresh random seed (the 'new points' button)."""
    return int(np.random.default_rng().integers(0, 1_000_000))


@friendly
def sine_adapt(amplitude, phase, k, steps, lr, seed, maml_choice=SINE_CHOICES[0], trained=None):
    """Adapt MAML and the baseline to K points of one wave, yielding (chart, status) after each step."""
    from metademo.data.sine import SineTask, sample_points
    from metademo.sine import GRID, INNER_LR, SineModel, adapt_sine_steps

    amplitude = _number(amplitude, "The amplitude", 0.1, 5.0)
    phase = _number(phase, "The phase", 0.0, 2 * math.pi)
    k = _whole(k, "K (the number of points)", 1, 50)
    steps = _whole(steps, "Steps", 0, MAX_STEPS)
    lr = INNER_LR if lr in (None, "") else _number(lr, "The learning rate", 0.0, 1.0, True)
    seed = _whole(seed if seed is not None else 0, "The seed", 0, 2**32 - 1)
    task = SineTask(amplitude, phase)
    x, y = sample_points(task, k, np.random.default_rng(seed))
    maml, baseline = get_sine_models()
    label = "MAML (pretrained)"
    if maml_choice == SINE_CHOICES[1]:
        if trained and trained.get("params"):
            maml = SineModel("your MAML", trained["params"], INNER_LR, "maml")
            label = f"your MAML ({trained.get('iterations', '?')} iterations)"
        else:
            gr.Warning("You have not meta-trained a MAML yet (press 'Meta-train MAML'); showing the pretrained one.")
    grid = GRID.numpy()
    truth = task(grid)
    curves = {label: [], "baseline (pretrained on all waves)": []}
    every = max(1, math.ceil(steps / MAX_FRAMES))
    for a, b in zip(adapt_sine_steps(maml, x, y, steps, lr), adapt_sine_steps(baseline, x, y, steps, lr)):
        for seq, record in zip(curves.values(), (a, b)):
            seq.append(record["prediction"])
        step = a["step"]
        if step % every == 0 or step == steps:
            errors = [float(np.mean((seq[-1] - truth) ** 2)) for seq in curves.values()]
            status = f"Step {step} of {steps}. Error over the whole wave (MSE): " + ", ".join(
                f"{n} **{e:.3f}**" if math.isfinite(e) else f"{n} **diverged**" for n, e in zip(curves, errors))
            yield plots.sine_figure(grid, truth, x.numpy(), y.numpy(), curves, step, steps), status
            if FRAME_PAUSE and step < steps:
                time.sleep(FRAME_PAUSE * 2)
    if not all(np.isfinite(seq[-1]).all() for seq in curves.values()):
        gr.Warning(f"A model diverged: the learning rate {lr:g} is too large for these points.")


@friendly
def sine_train(iterations, seed, progress=gr.Progress()):  # noqa: B008
    """Meta-train MAML on sine waves from scratch, yielding (chart, status, trained state, model choice)."""
    from metademo.sine import meta_train_sine

    iterations = _whole(iterations, "Iterations", 100, 20_000)
    seed = _whole(seed if seed is not None else 0, "The seed", 0, 2**32 - 1)
    every = max(10, iterations // 80)
    its, losses = [], []
    start = time.perf_counter()
    params = None
    for it, loss, latest in meta_train_sine(iterations, seed, "maml", every):
        params = latest
        its.append(it)
        losses.append(loss)
        if progress is not None:
            progress((it, iterations), desc="Meta-training MAML", unit="iterations")
        status = f"Iteration {it} of {iterations} · meta-loss {loss:.3f} · {time.perf_counter() - start:.0f} s"
        yield plots.meta_loss_figure(its, losses, iterations), status, gr.skip(), gr.skip()
    wall = time.perf_counter() - start
    trained = {"params": params, "iterations": iterations, "seed": seed, "loss": losses[-1], "curve": losses}
    status = (f"Done: {iterations} iterations in {wall:.0f} s, final meta-loss {losses[-1]:.3f}. "
              "'The MAML you trained' is now selected above: press **Adapt** to see it learn a new wave.")
    yield plots.meta_loss_figure(its, losses, iterations), status, trained, SINE_CHOICES[1]


# --- the programmatic API -----------------------------------------------------------------------------------

def _file_list(value, what: str) -> list[str]:
    if value is None or value == "" or value == []:
        raise user_error(f"{what}: no files given; send a list of image files.")
    if isinstance(value, (str, os.PathLike, dict)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise user_error(f"{what} must be a list of image files, got {type(value).__name__}.")
    paths = []
    for f in value:
        if isinstance(f, dict):
            f = f.get("path")
        f = getattr(f, "name", f)
        if not isinstance(f, (str, os.PathLike)):
            raise user_error(f"{what} must be a list of image files, got an item of type {type(f).__name__}.")
        paths.append(str(f))
    return paths


def parse_labels(value) -> list:
    """Labels from a list, a JSON list or a comma-separated string ("a, a, b, b")."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = [part.strip() for part in text.split(",")] if text else []
        value = parsed if isinstance(parsed, list) else [parsed]
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)):
        raise user_error(f"support_labels must be a list with one label per support image, got {value!r:.60}.")
    labels = []
    for lab in value:
        if isinstance(lab, bool) or not isinstance(lab, (str, int)):
            raise user_error(f"Labels must be strings or whole numbers, got {lab!r:.40}.")
        if isinstance(lab, str) and not lab.strip():
            raise user_error("Labels must not be empty.")
        labels.append(lab.strip() if isinstance(lab, str) else lab)
    return labels


def _labels(value, n: int) -> list:
    labels = parse_labels(value)
    if len(labels) != n:
        raise user_error(f"Got {n} support images but {len(labels)} labels: give one label per image.")
    return labels


labels_from_text = friendly(parse_labels)


def _check_images(paths: list[str], what: str):
    from metademo.data.preprocess import preprocess

    out = []
    for i, path in enumerate(paths):
        try:
            out.append(preprocess(path))
        except ValueError as e:
            reason = _message(e).replace(f"File {path!r}", "It").replace(str(path), _file_name(path))
            raise user_error(f"{what.capitalize()} file {i + 1} ({_file_name(path)}): {reason}") from None
    import torch

    return torch.stack(out)


def _plain(x):
    """Numpy scalars and the like as JSON-safe Python values (non-finite numbers as None)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@friendly
def classify(algorithm, support_files, support_labels, query_files, steps=None, lr=None) -> dict:
    """API ``/classify``: adapt to labelled support images, then classify the query images.

    Returns ``{"algorithm", "classes", "probabilities" (one row per query, columns in the order of
    "classes"), "predictions", "history", "steps", "lr", "diverged", "device"}``.
    """
    name = algorithm_name(algorithm)
    support = _file_list(support_files, "support_files")
    labels = _labels(support_labels, len(support))
    queries = _file_list(query_files, "query_files")
    for what, files in (("support_files", support), ("query_files", queries)):
        if len(files) > MAX_IMAGES:
            raise user_error(f"{what}: {len(files)} images is too many; at most {MAX_IMAGES} per call.")
    if steps in ("", None):
        steps = None
    else:
        steps = _whole(steps, "steps", 0, MAX_STEPS)
    lr = None if lr in ("", None) else _number(lr, "lr (the inner learning rate)", 0, MAX_LR, lo_open=True)
    from metademo.api import Preprocessed

    support_x = _check_images(support, "support")  # each image once: errors name the file
    query_x = _check_images(queries, "query")
    return classification(name, Preprocessed(support_x), labels, query_x, steps, lr)


def classification(name: str, support, labels: list, query_x, steps: int | None, lr: float | None) -> dict:
    """Adapt the model ``name`` to checked support images and labels, classify the preprocessed queries:
    the JSON answer of ``/classify`` (and of the tool for agents)."""
    clf = MODELS.get(name)
    fitted = clf.fit(support, labels, steps=steps, lr=lr)
    if fitted.diverged:
        gr.Warning("The adaptation diverged; the predictions use the last finite step.")
    probs = fitted.proba_of_tensor(query_x.to(clf.device))
    classes = list(fitted.classes_)
    return _plain({
        "algorithm": name,
        "classes": classes,
        "probabilities": probs.tolist(),
        "predictions": [classes[i] for i in probs.argmax(1)],
        "history": fitted.history,
        "steps": fitted.step,
        "lr": (clf.default_lr if lr is None else lr) if clf.learner.has_inner_loop else None,
        "diverged": fitted.diverged,
        "device": str(clf.device),
    })


@friendly
def model_hash(algorithm: str) -> str:
    """API ``/model_hash``: the SHA-256 of a loaded model's meta-parameters (they never change)."""
    return MODELS.get(algorithm_name(algorithm)).fingerprint()
