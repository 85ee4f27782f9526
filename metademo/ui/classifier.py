"""The "Few-shot classifier" tab: capture examples, adapt, watch each inner step, classify, save and share.

Capture works the way a class does: each class card takes examples by *Upload* (several files at
once), *Drawing* (what is on the pad; the pad then clears itself), *Photo* (the webcam's current
frame, in one click) and *Gallery* (K drawings of an unseen character). Queries take the same four.

After *Adapt* the session keeps the adapted classifier (:class:`metademo.FittedClassifier`) and the
support images, preprocessed once (:func:`metademo.prepare`). With them the page shows, without
adapting again: the class bars for whatever is on the drawing pad (live preview), and for every
inner step the queries' probabilities and a 2-D map of the network's embeddings (the step slider).
Tasks (class names and images) save to one zip file and open again; the adapted classifier
downloads as a safetensors file that ``metademo.load_fitted`` reads.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence

import gradio as gr
import numpy as np

from metademo.api import (
    LIVE_ALGORITHMS,
    MAX_SECONDS,
    FittedClassifier,
    Preprocessed,
    crop_to_ink,
    load_task,
    meta_train_live,
    prepare,
    save_task,
    sketch_image,
    webcam_photo,
)
from metademo.data.gallery import DRAWINGS, PROVIDER, drawing_key, parse_key

from . import plots, text
from .common import (
    COMPUTE,
    DEFAULT_CLASSES,
    HIDDEN_API,
    MAX_CLASSES,
    MAX_EXAMPLES,
    MAX_LR,
    MAX_QUERIES,
    MAX_STEPS,
    MIN_CLASSES,
    STATE_TTL,
    algorithm_defaults,
    algorithm_name,
    characters_of,
    file_name,
    friendly,
    items,
    number,
    show_classes,
    user_error,
    whole,
)
from .models import MODELS
from .text import TITLES

MAX_FRAMES = 40  # chart updates (and recorded steps for the slider) per adaptation
FRAME_PAUSE = 0.04  # seconds between chart updates, so that a fast adaptation still visibly grows
EXPLODED = 100  # a support loss this many times its starting value means the learning rate is too large
PRED_HEADERS = ["query", "prediction", "confidence", "right answer", "correct?"]
NO_INK = ("No clear ink in the photo. The models know handwritten characters: hold up one character drawn "
          "with a dark, thick pen on white paper, filling the middle of the picture, and try again.")
NO_CAMERA = ("The webcam is not on: press the camera picture above the class cards, allow the browser to use "
             "the camera, then press Photo again.")
EMPTY_PAD = ("The drawing pad is empty: draw a character on it first (if you just drew one, it may still be "
             "saving: wait a second and press Drawing again).")

# --- capture --------------------------------------------------------------------------------------------


def _reason(e: Exception, image=None) -> str:
    """Why an image cannot be used, without its index in a batch or the server's path to it."""
    text = re.sub(r"^image \d+: ", "", str(e).strip())
    if isinstance(image, (str, os.PathLike)):
        text = text.replace(f"file {str(image)!r}", "it").replace(str(image), file_name(image))
    return text[:1].upper() + text[1:]


def _room(current: list, added: list, limit: int) -> list:
    room = max(limit - len(current), 0)
    if len(added) > room:
        gr.Warning(f"At most {limit} images here; kept {room} of the {len(added)} new ones.")
        added = added[:room]
    return current + added


@friendly
def add_uploads(files, examples, limit: int = MAX_EXAMPLES) -> list:
    """Append uploaded image files (paths) to a class's (or the queries') examples; skip unusable ones."""
    current = items(examples)
    paths = [files] if isinstance(files, (str, os.PathLike)) else list(files or [])
    added, skipped = [], []
    for path in paths:
        path = getattr(path, "name", path)  # a tempfile wrapper from older clients
        try:
            prepare([path])
        except ValueError as e:
            skipped.append(f"{file_name(path)} ({_reason(e, path)})")
            continue
        added.append((str(path), file_name(path)))
    if skipped:
        gr.Warning("Skipped what is not a usable image: " + "; ".join(skipped))
    return _room(current, added, limit)


def _has_ink(img) -> bool:
    try:
        prepare([img])
    except ValueError:
        return False
    return True


@friendly
def add_drawing(sketch, examples, limit: int = MAX_EXAMPLES):
    """Append the drawing on the pad to a class's (or the queries') examples. The page then clears the
    pad in the browser (its own bin button), ready for the next drawing."""
    try:
        img = sketch_image(sketch)
    except ValueError:
        img = None
    if img is None or not _has_ink(img):
        gr.Warning(EMPTY_PAD)
        return gr.skip()
    return _append(examples, crop_to_ink(img), "drawing", limit)


@friendly
def add_photo(frame, snapshot, examples, limit: int = MAX_EXAMPLES):
    """Append a webcam photo: ``frame`` is the live camera's current frame (a data URL the page grabs
    when the button is pressed), ``snapshot`` the webcam component's own captured photo, used when
    there is no live frame."""
    img = webcam_photo(frame) if isinstance(frame, str) and frame.startswith("data:") else None
    if img is None and snapshot is not None:
        img = webcam_photo(snapshot)
    if img is None:
        gr.Warning(NO_CAMERA)
        return gr.skip()
    if not _has_ink(img):
        gr.Warning(NO_INK)
        return gr.skip()
    return _append(examples, img, "photo", limit)


def _append(examples, img, caption: str, limit: int):
    """The examples with one more image, or a warning (and no change) when the list is full."""
    current = items(examples)
    if len(current) >= limit:
        gr.Warning(f"At most {limit} images here: remove one first.")
        return gr.skip()
    return current + [(img, caption)]


@friendly
def fill_from_gallery(k, examples, *all_classes):
    """Replace a class's examples with ``k`` drawings of a random unseen character (one no class holds,
    including this one: each press gives another character). Returns the examples and the gallery line."""
    from .common import gallery_status

    k = whole(k, "The number of gallery drawings", 1, DRAWINGS)
    source = PROVIDER.current()
    used = set(characters_of(examples))
    for other in all_classes:
        used.update(characters_of(other))
    i, js = source.pick(np.random.default_rng(), k, exclude=used)
    name = source.name(i)
    return [(source.drawing(i, j), drawing_key(name, j)) for j in js], gallery_status()


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


@friendly
def add_query_uploads(files, queries) -> list:
    return add_uploads(files, queries, limit=MAX_QUERIES)


@friendly
def add_query_drawing(sketch, queries):
    return add_drawing(sketch, queries, limit=MAX_QUERIES)


@friendly
def add_query_photo(frame, snapshot, queries):
    return add_photo(frame, snapshot, queries, limit=MAX_QUERIES)


@friendly
def queries_from_gallery(queries, n_classes, *class_examples):
    """One new drawing of each gallery character in the active classes, as queries with known answers."""
    n = whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    current = items(queries)
    used = {parse_key(c) for _, c in current} | {parse_key(c) for ex in class_examples for _, c in items(ex)}
    rng = np.random.default_rng()
    added = []
    for examples in class_examples[:n]:
        chars = characters_of(examples)
        found = PROVIDER.find(chars[0]) if chars else None
        if found is None:
            continue
        source, i = found
        free = [j for j in range(DRAWINGS) if (chars[0], j) not in used]
        if free:
            j = int(rng.choice(free))
            added.append((source.drawing(i, j), drawing_key(chars[0], j)))
    if not added:
        gr.Warning("Fill at least one class with 'Gallery' first: the gallery queries are new drawings of "
                   "those characters, so the right answers are known.")
        return gr.skip()
    return _room(current, added, MAX_QUERIES)


# --- the session: what Adapt leaves behind ---------------------------------------------------------------

@dataclasses.dataclass
class Session:
    """A visitor's adapted classifier and what the page shows of it (kept in a ``gr.State``)."""

    algorithm: str
    model: object  # the MetaClassifier that adapted (a pretrained one, or one meta-trained on the page)
    names: list[str]
    characters: list[list[str]]  # gallery characters of each class (for the queries' right answers)
    support: Preprocessed
    labels: list[int]
    steps: int
    lr: float | None
    fitted: FittedClassifier  # after the last (finite) step: the live preview and the download use it
    record: dict | None = None  # per recorded step, for the current queries (see _record)


def _prepare_examples(images: Sequence, what) -> Preprocessed:
    """Preprocess each image once, naming the one that cannot be used."""
    parts = []
    for j, img in enumerate(images):
        try:
            parts.append(prepare([img]))
        except ValueError as e:
            reason = _reason(e, img)
            raise user_error(f"{what(j)}: {reason[0].lower() + reason[1:]}") from None
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def _support(names: Sequence, galleries: Sequence):
    """Validated class names, the support images (preprocessed once), labels and gallery characters."""
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
            raise user_error(f"Class {i + 1} ({name!r}) has no examples yet: upload some, add a drawing or a "
                             "photo, or press 'Gallery'.")
        if len(examples) > MAX_EXAMPLES:
            raise user_error(f"Class {i + 1} ({name!r}) has {len(examples)} examples; at most {MAX_EXAMPLES} per "
                             "class are used. Remove some.")
        clean.append(name)
        images += [img for img, _ in examples]
        labels += [i] * len(examples)
        characters.append(characters_of(examples))
    where = [(labels[j], sum(1 for x in labels[:j] if x == labels[j])) for j in range(len(labels))]
    support = _prepare_examples(images, lambda j: f"Class {where[j][0] + 1} ({clean[where[j][0]]!r}), example "
                                                  f"{where[j][1] + 1}")
    return clean, support, labels, characters


def _queries(queries) -> tuple[Preprocessed | None, list]:
    pairs = items(queries)
    if not pairs:
        return None, pairs
    return _prepare_examples([img for img, _ in pairs], lambda j: f"Query {j + 1} ({pairs[j][1] or 'image'})"), pairs


def _truth(caption, characters: list[list[str]]) -> int | None:
    key = parse_key(caption)
    if key is None:
        return None
    owners = [c for c, chars in enumerate(characters) if key[0] in chars]
    return owners[0] if len(owners) == 1 else None


def _recorded(step: int, steps: int, diverged: bool = False) -> bool:
    every = max(1, math.ceil(steps / MAX_FRAMES))
    return step % every == 0 or step == steps or diverged


class _Recorder:
    """Collects, at the recorded steps of an adaptation, the queries' probabilities and the embeddings
    of support and queries (the API's ``predict_proba`` and ``embed``), for the step slider."""

    def __init__(self, session_like, query: Preprocessed | None, pairs: list):
        self.query, self.pairs = query, pairs
        self.support = session_like.support
        self.truth = [_truth(c, session_like.characters) for _, c in pairs]
        self.steps, self.probs, self.emb = [], [], []
        self.pair_scores = None  # of the queries, at the last recorded step (learners that score pairs)

    def add(self, fitted: FittedClassifier) -> None:
        self.steps.append(fitted.step)
        both = self.support if self.query is None else self.support + self.query
        self.emb.append(fitted.embed(both))
        self.probs.append(None if self.query is None else fitted.predict_proba(self.query))
        if self.query is not None and fitted.model.learner.pair_score_label:
            self.pair_scores = fitted.pair_scores(self.query)

    def done(self) -> dict:
        mean, axes = plots.pca_basis(np.concatenate(self.emb))  # one map for every step: points move, axes stay
        xy = [(e - mean) @ axes.T for e in self.emb]
        known = [(i, t) for i, t in enumerate(self.truth) if t is not None]
        accuracy = []
        if known and self.query is not None:
            idx, ans = np.array([i for i, _ in known]), np.array([t for _, t in known])
            accuracy = [(s, float((p[idx].argmax(1) == ans).mean())) for s, p in zip(self.steps, self.probs)]
        images = None if self.query is None else self.query.tensor[:, 0].numpy()
        return {"steps": self.steps, "probs": self.probs, "xy": xy, "truth": self.truth, "images": images,
                "query_accuracy": accuracy, "pair_scores": self.pair_scores}


def _record(session: Session, queries) -> dict:
    """The step-by-step record for ``queries``: the session's adaptation again (deterministic), with the
    queries' probabilities and everyone's embeddings at the recorded steps."""
    query, pairs = _queries(queries)
    rec = _Recorder(session, query, pairs)
    for fitted in session.model.fit_steps(session.support, session.labels, steps=session.steps, lr=session.lr):
        if _recorded(fitted.step, session.steps, fitted.diverged):
            rec.add(fitted)
    return rec.done()


def _nearest(record: dict, step) -> int:
    """Index of the recorded step nearest at or below ``step``."""
    try:
        step = int(step)
    except (TypeError, ValueError):
        step = record["steps"][-1]
    below = [i for i, s in enumerate(record["steps"]) if s <= step]
    return below[-1] if below else 0


def _empty_view(message: str):
    return (plots.empty_figure(message, 200), {"headers": PRED_HEADERS, "data": []},
            plots.empty_figure("The embedding map appears after Adapt.", 300))


def step_view(session: Session | None, step):
    """Predictions chart, predictions table and embedding map at inner step ``step`` (no model runs)."""
    if session is None or session.record is None:
        return _empty_view("Press 'Adapt' first: the model has not learned your classes yet.")
    rec = session.record
    k = _nearest(rec, step)
    shown = rec["steps"][k]
    names, n_support = session.names, len(session.support)
    xy = rec["xy"][k]
    labels = np.asarray(session.labels)
    centres = np.stack([xy[:n_support][labels == c].mean(0) for c in range(len(names))])
    inner = session.model.learner.has_inner_loop
    when = ("before adapting (step 0)" if shown == 0 else f"after {shown} inner step{'s' * (shown > 1)}") if inner \
        else "no inner steps"
    head = session.model.learner.centre_name
    q_xy, q_pred = None, None
    probs = rec["probs"][k]
    if probs is not None:
        q_xy, q_pred = xy[n_support:], probs.argmax(1).tolist()
    emb = plots.embedding_figure(xy[:n_support], labels, names, centres, q_xy, q_pred,
                                 f"The network's embeddings, {when} (2-D PCA, same axes for every step)",
                                 projected=True, centre_name=head)
    if probs is None:
        fig, table = plots.empty_figure("Add queries (upload, draw, photo or gallery) to see predictions.", 200), \
            {"headers": PRED_HEADERS, "data": []}
        return fig, table, emb
    truth = rec["truth"]
    fig = plots.predictions_figure(rec["images"], probs, names, truth)
    rows = []
    for i, (p, t) in enumerate(zip(probs, truth)):
        best = int(p.argmax())
        rows.append([i + 1, names[best], f"{100 * p[best]:.1f}%", "" if t is None else names[t],
                     "" if t is None else ("yes" if t == best else "no")])
    return fig, {"headers": PRED_HEADERS, "data": rows}, emb


show_step = friendly(step_view)


def _slider(session: Session | None):
    if session is None:
        return gr.update(minimum=0, maximum=1, value=0, interactive=False)
    top = session.fitted.step if session.fitted.diverged else session.steps
    return gr.update(minimum=0, maximum=max(top, 1), value=top, interactive=top > 0)


def _title(name: str) -> str:
    return TITLES.get(name) or YOURS[0]


def _chart(session: Session, selected: int | None = None):
    title = _title(session.algorithm)
    history = session.fitted.history
    label = session.model.learner.pair_score_label
    if not history and label and session.record and session.record.get("pair_scores") is not None:
        return plots.pair_scores_figure(session.record["pair_scores"], session.names, label,
                                        f"{title}: the {label} of each query with each class "
                                        "(no inner steps)")
    if not history and label:
        return plots.empty_figure(f"{title} has no inner steps. Add queries to see their {label}s.", 200)
    if not history:
        return plots.empty_figure(f"{title} has no inner steps: the map below shows what it does.", 200)
    diverged_at = history[-1]["step"] if session.fitted.diverged else None
    accuracy = session.record["query_accuracy"] if session.record else None
    return plots.adaptation_figure(history, session.steps, f"{title} adapting to your {len(session.names)} classes",
                                   diverged_at, n_classes=len(session.names), query_accuracy=accuracy,
                                   selected=selected)


def _after_queries(session: Session | None, queries, step=None):
    """Recompute the record for the current queries: (chart, slider, predictions, table, embedding map)."""
    if session is None:
        return (gr.skip(), _slider(None), *_empty_view("Press 'Adapt' first: the model has not learned your "
                                                      "classes yet."))
    try:
        session.record = _record(session, queries)
    except gr.Error as e:  # an unreadable query must not undo the adaptation
        gr.Warning(e.message)
        session.record = _record(session, None)
    step = session.record["steps"][-1] if step is None else step
    return (_chart(session, step if session.steps else None), gr.skip(), *step_view(session, step))


@friendly
def classify_queries(session, queries, step=None):
    """Queries changed (or Classify): (chart, slider, predictions, table, embedding map) for them."""
    return _after_queries(session, queries, step)


def _model(algorithm, trained):
    """(name, MetaClassifier): a pretrained model, or the one meta-trained on this page ("yours")."""
    if algorithm == YOURS[1]:
        if trained is None:
            raise user_error("You have not meta-trained a model yet: press 'Meta-train' in section 6 first.")
        return YOURS[1], trained
    name = algorithm_name(algorithm)
    return name, MODELS.get(name)


def run_adaptation(algorithm, steps, lr, names, galleries, queries=None, progress=None, trained=None):
    """Adapt a meta-learner to the classes, yielding (chart, status, session, slider, predictions chart,
    table, embedding map). Intermediate yields update the chart and the status only (``gr.skip()``)."""
    name, clf = _model(algorithm, trained)
    names, support, labels, characters = _support(names, galleries)
    query, pairs = _queries(queries)
    title = _title(name)
    inner = clf.learner.has_inner_loop
    if inner:
        steps = clf.default_steps if steps is None else whole(steps, "Inner steps", 0, MAX_STEPS)
        lr = clf.default_lr if lr in (None, "") else number(lr, "The inner learning rate", 0, MAX_LR, True)
    else:
        steps, lr = 0, None
    if progress is not None:
        progress((0, max(steps, 1)), desc="Adapting", unit="steps")
    skip = (gr.skip(),) * 5
    spent, tick = 0.0, time.perf_counter()  # time spent adapting, not drawing charts
    fitted = None
    session = Session(name, clf, names, characters, support, labels, steps, lr, None)
    rec = _Recorder(session, query, pairs)
    for fitted in clf.fit_steps(support, labels, steps=steps, lr=lr):
        spent += time.perf_counter() - tick
        if progress is not None:
            progress((fitted.step, max(steps, 1)), desc="Adapting", unit="steps")
        if _recorded(fitted.step, steps, fitted.diverged):
            rec.add(fitted)
            if inner:
                last = fitted.history[-1]
                status = f"**{title}**: step {last['step']} of {steps} · support loss {last['loss']:.3f}"
                yield (plots.adaptation_figure(fitted.history, steps, f"{title} adapting to your {len(names)} "
                                               "classes", n_classes=len(names)), status, *skip)
                if FRAME_PAUSE and fitted.step < steps:
                    time.sleep(FRAME_PAUSE)
        tick = time.perf_counter()
    elapsed = 1000 * spent
    session.fitted = fitted
    session.record = rec.done()
    if inner:
        good = fitted.history[fitted.step]
        status = (f"**{title}** adapted to {len(names)} classes from {len(support)} examples: {steps} steps of "
                  f"learning rate {lr:g} in {elapsed:.0f} ms. Support accuracy {100 * good['accuracy']:.0f}%, "
                  f"loss {good['loss']:.3f}. Move the *step* slider to see each step.")
        message = None
        if fitted.diverged:
            diverged_at = fitted.history[-1]["step"]
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
        status = (f"**{title}**: {session.model.learner.fitted_as} for {len(names)} classes from {len(support)} "
                  f"examples in {elapsed:.0f} ms (no inner steps).")
    top = fitted.step
    yield (_chart(session, top if inner else None), status, session, _slider(session), *step_view(session, top))


@friendly
def adapt(algorithm, steps, lr, n_classes, progress=gr.Progress(), *values):  # noqa: B008 - Gradio's idiom
    """The Adapt button. ``values``: the 10 class names, the 10 class galleries, the queries, then the model
    meta-trained on the page (or None).

    ``progress`` comes before ``*values`` because Gradio fills it in only among the positional
    parameters; a direct call may pass None.
    """
    n = whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    if len(values) < 2 * MAX_CLASSES:
        raise user_error("Internal error: adapt needs the names and examples of all classes.")
    names, galleries = values[:MAX_CLASSES], values[MAX_CLASSES:2 * MAX_CLASSES]
    queries = values[2 * MAX_CLASSES] if len(values) > 2 * MAX_CLASSES else None
    trained = values[2 * MAX_CLASSES + 1] if len(values) > 2 * MAX_CLASSES + 1 else None
    yield from run_adaptation(algorithm, steps, lr, list(names[:n]), list(galleries[:n]), queries, progress,
                              trained)


@friendly
def step_chart(session, step):
    """The chart with the chosen step marked, and that step's predictions and embedding map."""
    if session is None:
        return (gr.skip(), *_empty_view("Press 'Adapt' first: the model has not learned your classes yet."))
    return (_chart(session, int(step) if session.steps else None), *step_view(session, step))


# --- live preview -----------------------------------------------------------------------------------------

@friendly
def live_preview(session, sketch=None, photo=None):
    """Class probabilities of the drawing on the pad (or a webcam photo), from the session's adapted
    classifier: a dict for ``gr.Label``. Runs on every stroke, so it does nothing else."""
    if session is None:
        return None
    try:
        img = sketch_image(sketch) if photo is None else webcam_photo(photo)
    except ValueError:
        return None
    if img is None:
        return None
    try:
        x = prepare([img])
    except ValueError:
        return None  # a blank pad: no bars
    probs = session.fitted.predict_proba(x)[0]
    return {name: float(p) for name, p in zip(session.names, probs)}


@friendly
def live_preview_pad(frame, session):
    """The live preview from the page's own small copy of the pad (a PNG data URL that the browser draws
    stroke by stroke, see ``HEAD``): no wait for the pad to export and upload its full-size image."""
    return live_preview(session, frame)


@friendly
def live_preview_photo(session, photo):
    return live_preview(session, None, photo)


# --- save, open, export ------------------------------------------------------------------------------------

_SCRATCH: list[tuple[float, str]] = []  # (created, folder) of files handed to Gradio for download
_SCRATCH_LOCK = threading.Lock()
SCRATCH_TTL = 3600.0


def _scratch_dir() -> str:
    """A new private folder for one download (Gradio copies the file into its own cache); folders older
    than an hour are removed."""
    now = time.time()
    with _SCRATCH_LOCK:
        while _SCRATCH and now - _SCRATCH[0][0] > SCRATCH_TTL:
            shutil.rmtree(_SCRATCH.pop(0)[1], ignore_errors=True)
        folder = tempfile.mkdtemp(prefix="metademo-")
        _SCRATCH.append((now, folder))
    return folder


@friendly
def download_task(n_classes, *values):
    """Write the classes (names, images, captions) and the queries as one zip; returns its path."""
    n = whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    names, galleries = list(values[:MAX_CLASSES])[:n], list(values[MAX_CLASSES:2 * MAX_CLASSES])[:n]
    queries = items(values[2 * MAX_CLASSES]) if len(values) > 2 * MAX_CLASSES else []
    clean = []
    for i, (name, gallery) in enumerate(zip(names, galleries)):
        name = (name or "").strip() if isinstance(name, str) else ""
        clean.append(name or f"class {i + 1}")
        if not items(gallery):
            raise user_error(f"Class {i + 1} ({clean[-1]!r}) has no examples yet: a task needs examples of every "
                             "class.")
    path = os.path.join(_scratch_dir(), "metademo-task.zip")
    save_task(path, clean, [[img for img, _ in items(g)] for g in galleries],
              [[c for _, c in items(g)] for g in galleries], [img for img, _ in queries], [c for _, c in queries])
    return path


@friendly
def open_task(file):
    """Open a task zip: (number of classes, 10 names, 10 galleries, queries, cleared session, message)."""
    path = getattr(file, "name", file)
    if isinstance(path, dict):
        path = path.get("path")
    if not isinstance(path, (str, os.PathLike)):
        raise user_error("Choose a task file (.zip) saved with 'Download task'.")
    task = load_task(path)
    if len(task.names) > MAX_CLASSES or len(task.names) < MIN_CLASSES:
        raise user_error(f"This task has {len(task.names)} classes; the page shows {MIN_CLASSES} to {MAX_CLASSES} "
                         "(in Python, metademo.load_task opens it with up to 20).")
    names = [gr.update(value=task.names[i] if i < len(task.names) else f"class {i + 1}") for i in range(MAX_CLASSES)]
    galleries = [list(zip(task.examples[i], task.captions[i])) if i < len(task.names) else []
                 for i in range(MAX_CLASSES)]
    queries = list(zip(task.queries, task.query_captions))[:MAX_QUERIES]
    message = (f"Opened a task with {len(task.names)} classes ({', '.join(task.names)}), {len(task.images)} "
               f"examples and {len(task.queries)} queries. Press **Adapt**.")
    return (len(task.names), *names, *galleries, queries, None, message)


@friendly
def download_classifier(session):
    """Write the session's adapted classifier (``metademo.load_fitted`` reads it); returns its path."""
    if session is None:
        raise user_error("Press 'Adapt' first: there is no adapted classifier to download yet.")
    fitted = dataclasses.replace(session.fitted, classes_=list(session.names))
    path = os.path.join(_scratch_dir(), f"metademo-{session.model.algorithm}-classifier.safetensors")
    fitted.save(path)
    return path


# --- the outer loop, live ---------------------------------------------------------------------------------

YOURS = ("Your meta-trained model", "yours")  # the extra choice of the Algorithm menu
_TRAINING = threading.Lock()  # one meta-training at a time: it takes both cores


@friendly
def choose_algorithm(algorithm, trained):
    """Steps, learning rate and note for the chosen algorithm (a pretrained one or the one trained here)."""
    if algorithm != YOURS[1]:
        return algorithm_defaults(algorithm)
    if trained is None:
        return gr.skip(), gr.skip(), ("⚠️ You have not meta-trained a model yet: press **Meta-train** in section 6, "
                                      "then adapt with it here.")
    note = f"Your model: {trained.metadata.get('note', '')}. " + text.ALGORITHM_NOTES[trained.algorithm]
    if not trained.learner.has_inner_loop:
        return gr.update(value=0, interactive=False), gr.update(value=None, interactive=False), note
    return (gr.update(value=trained.default_steps, interactive=True),
            gr.update(value=trained.default_lr, interactive=True), note)


@friendly
def meta_train(algorithm, seconds, progress=gr.Progress()):  # noqa: B008 - Gradio's idiom
    """Meta-train a small model from scratch, yielding (chart, status, trained model, algorithm menu)."""
    name = algorithm_name(algorithm)
    if name not in LIVE_ALGORITHMS:
        raise user_error(f"Live meta-training runs {', '.join(TITLES[n] for n in LIVE_ALGORITHMS)}.")
    seconds = whole(seconds, "The training time", 10, MAX_SECONDS)
    if not _TRAINING.acquire(blocking=False):
        raise user_error("Someone is meta-training a model right now (one at a time, as it takes all the "
                         "processor). Try again in a minute.")
    try:
        if progress is not None:
            progress(0, desc="Loading the training alphabets")
        reports, title = [], f"Meta-training {TITLES[name]} from a random start"
        for report in meta_train_live(name, seconds=seconds):
            reports.append(report)
            if progress is not None:
                progress((min(report["seconds"], seconds), seconds), desc="Meta-training", unit="s")
            status = (f"Iteration {report['iteration']} · {report['seconds']:.0f} s of training · validation "
                      f"accuracy **{100 * report['val_accuracy']:.0f}%** on unseen characters · data: "
                      f"{report['data']}")
            if "model" not in report:
                yield plots.outer_loop_figure(reports, title), status, gr.skip(), gr.skip()
        status = (f"Done: {report['iteration']} outer-loop iterations in {report['seconds']:.0f} s; validation "
                  f"accuracy from {100 * reports[0]['val_accuracy']:.0f}% (random start) to "
                  f"**{100 * report['val_accuracy']:.0f}%**. *{YOURS[0]}* is now chosen in section 3: press "
                  "**Adapt** to use it on your classes, beside the pretrained ones.")
        yield plots.outer_loop_figure(reports, title), status, report["model"], YOURS[1]
    finally:
        _TRAINING.release()


# --- layout ------------------------------------------------------------------------------------------------

#: Browser-side helpers the events below call (``js=``). ``metademoGrab`` takes the live webcam's current
#: frame (unmirrored) as a data URL; ``metademoClearPad`` presses the pad's own bin button (clearing the
#: pad from the server in Gradio 6.31 leaves it unable to send later drawings).
HEAD = """<script>
window.metademoGrab = () => {
    const v = document.querySelector('#webcam video');
    if (!v || !v.videoWidth || v.readyState < 2) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    c.getContext('2d').drawImage(v, 0, 0);
    return c.toDataURL('image/jpeg', 0.92);
};
window.metademoClearPad = () => {
    const b = document.querySelector('#sketchpad button[aria-label="Clear canvas"]');
    if (b) b.click();
};
// The live preview keeps its own small copy of the pad: the pointer's strokes, redrawn at 128x128 in
// black on white, sent (as a PNG data URL of about 1 kB) while drawing and at the end of each stroke.
// Waiting for the pad's own export and upload of its full-size image would take about a second. No frame
// goes in a stroke's first EVERY ms: the server answers one frame at a time, so a frame of a quick
// stroke's first points would only delay the one sent at its end.
(() => {
    const SIZE = 128, PAD = 300, BRUSH = 10, EVERY = 120;  // canvas_size and brush of the Sketchpad below
    const strokes = [];
    let current = null, lastSent = 0, strokeStart = 0;
    const onPad = (e) => e.target && e.target.closest && e.target.closest('#sketchpad canvas');
    const point = (e, el) => {
        const r = el.getBoundingClientRect();
        return [(e.clientX - r.left) / r.width * SIZE, (e.clientY - r.top) / r.height * SIZE];
    };
    window.metademoPadFrame = () => {
        if (!strokes.length) return null;
        const c = document.createElement('canvas');
        c.width = SIZE; c.height = SIZE;
        const g = c.getContext('2d');
        g.fillStyle = 'white'; g.fillRect(0, 0, SIZE, SIZE);
        g.strokeStyle = 'black'; g.fillStyle = 'black';
        g.lineWidth = BRUSH / PAD * SIZE; g.lineCap = 'round'; g.lineJoin = 'round';
        for (const s of strokes) {
            g.beginPath(); g.moveTo(s[0][0], s[0][1]);
            for (const [x, y] of s.slice(1)) g.lineTo(x, y);
            if (s.length === 1) g.lineTo(s[0][0] + 0.01, s[0][1]);
            g.stroke();
        }
        return c.toDataURL('image/png');
    };
    window.metademoPreviewTimes = [];
    const send = () => {
        const b = document.querySelector('#pad-preview');
        if (!b) return;
        lastSent = performance.now();
        window.metademoPreviewSent = window.metademoPreviewSent || lastSent;  // the oldest frame not answered
        b.click();
    };
    document.addEventListener('pointerdown', (e) => {
        const el = onPad(e);
        if (!el) return;
        current = [point(e, el)];
        strokes.push(current);
        strokeStart = performance.now();
    }, true);
    document.addEventListener('pointermove', (e) => {
        const el = onPad(e);
        if (!current || !el) return;
        current.push(point(e, el));
        const now = performance.now();
        if (now - lastSent > EVERY && now - strokeStart > EVERY) send();
    }, true);
    document.addEventListener('pointerup', () => {
        if (!current) return;
        current = null;
        send();
    }, true);
    document.addEventListener('click', (e) => {
        const b = e.target && e.target.closest && e.target.closest('#sketchpad button');
        if (!b) return;
        const what = b.getAttribute('aria-label') || '';
        if (what === 'Clear canvas') strokes.length = 0;
        else if (what === 'Undo') strokes.pop();
    }, true);
    // Round trips as the browser sees them, from sending a frame to new bars (for the tests and the README):
    // [since the oldest frame not yet answered, since the newest], the answer's true age lies between.
    const bars = (live) => live.innerText.split('\\n').filter((line) => !/^[0-9.]+s$/.test(line.trim())).join('\\n');
    const watch = () => {
        const live = document.querySelector('#live-preview');
        if (!live) return setTimeout(watch, 500);
        let shown = bars(live);
        new MutationObserver(() => {
            const now = bars(live);
            if (now === shown) return;  // the status timer ticked, the bars did not change
            shown = now;
            if (window.metademoPreviewSent) {  // since the oldest and the newest frame not yet answered
                const t = performance.now();
                window.metademoPreviewTimes.push([t - window.metademoPreviewSent, t - lastSent]);
                window.metademoPreviewSent = null;
            }
        }).observe(live, {childList: true, subtree: true, characterData: true});
    };
    watch();
})();
</script>"""
PAD_FRAME = "(frame, session) => [window.metademoPadFrame ? window.metademoPadFrame() : null, session]"
GRAB = "(frame, snapshot, gallery) => [window.metademoGrab ? window.metademoGrab() : null, snapshot, gallery]"
CLEAR_PAD = "() => { if (window.metademoClearPad) window.metademoClearPad(); }"


def _example_gallery(label: str, elem_id: str, columns: int = 5) -> gr.Gallery:
    return gr.Gallery(label=label, elem_id=elem_id, columns=columns, height=170, object_fit="contain",
                      format="png", interactive=False, allow_preview=False, buttons=[], type="filepath",
                      fit_columns=False, elem_classes="examples")


def _capture_buttons(prefix: str):
    with gr.Row(elem_classes="small-buttons"):
        upload = gr.UploadButton("Upload", file_count="multiple", file_types=["image"], size="sm",
                                 elem_id=f"{prefix}-upload")
        draw = gr.Button("Drawing", size="sm", elem_id=f"{prefix}-draw")
        photo = gr.Button("Photo", size="sm", elem_id=f"{prefix}-photo")
        pick = gr.Button("Gallery", size="sm", elem_id=f"{prefix}-pick")
    with gr.Row(elem_classes="small-buttons"):
        remove = gr.Button("Remove selected", size="sm", variant="secondary", elem_id=f"{prefix}-remove")
        clear = gr.Button("Clear", size="sm", variant="secondary", elem_id=f"{prefix}-clear")
    return upload, draw, photo, pick, remove, clear


def build():
    """The tab's layout and wiring (inside a ``gr.Tab``). Returns what the page fills on load."""
    gr.Markdown(text.CLASSIFIER_INTRO)
    gallery_md = gr.Markdown(text.gallery_notice("synthetic", "loading"), elem_id="gallery-source")
    session = gr.State(None, time_to_live=STATE_TTL)
    frame = gr.Textbox(visible=False, elem_id="webcam-frame")  # filled in the browser by GRAB
    pad_frame = gr.Textbox(visible=False, elem_id="pad-frame")  # filled in the browser by PAD_FRAME
    pad_preview = gr.Button("Preview the pad", visible="hidden", elem_id="pad-preview")  # pressed by HEAD's script

    gr.Markdown("### 1. Draw or show a character")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            sketch = gr.Sketchpad(label="Drawing pad", type="numpy", image_mode="RGBA", canvas_size=(300, 300),
                                  layers=False, height=360, elem_id="sketchpad",
                                  brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"))
            gr.Markdown(text.SKETCH_HELP, elem_classes="help")
        with gr.Column(scale=1, min_width=300):
            webcam = gr.Image(label="Webcam", sources=["webcam"], type="numpy", height=360, elem_id="webcam",
                              webcam_options=gr.WebcamOptions(mirror=False))
            gr.Markdown(text.WEBCAM_HELP, elem_classes="help")
        with gr.Column(scale=1, min_width=260):
            live = gr.Label(label="Live preview: what the adapted model thinks of the pad", num_top_classes=10,
                            elem_id="live-preview")
            gr.Markdown(text.LIVE_HELP, elem_classes="help")

    gr.Markdown("### 2. Your classes")
    with gr.Row():
        n_classes = gr.Slider(MIN_CLASSES, MAX_CLASSES, value=DEFAULT_CLASSES, step=1, label="Number of classes",
                              info=text.INFO["num_classes"], elem_id="n-classes")
        k_gallery = gr.Slider(1, 20, value=5, step=1, label="Drawings per gallery pick (K)",
                              info=text.INFO["k_gallery"], elem_id="k-gallery")
    gr.Markdown(text.CAPTURE_HELP, elem_classes="help")
    blocks, names, galleries, selections, buttons = [], [], [], [], []
    with gr.Row(equal_height=False):
        for i in range(MAX_CLASSES):
            with gr.Column(visible=i < DEFAULT_CLASSES, min_width=300, elem_classes="class-block",
                           elem_id=f"class-{i + 1}") as block:
                names.append(gr.Textbox(value=f"class {i + 1}", label=f"Class {i + 1}: name", max_lines=1,
                                        elem_id=f"class-{i + 1}-name"))
                galleries.append(_example_gallery(f"Class {i + 1}: examples (click one to select it)",
                                                  f"class-{i + 1}-gallery"))
                buttons.append(_capture_buttons(f"class-{i + 1}"))
                selections.append(gr.State(None))
                blocks.append(block)

    gr.Markdown("### 3. Adapt: the inner loop")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            algorithm = gr.Dropdown(choices=[*text.ALGORITHMS, YOURS], value="maml", label="Algorithm",
                                    info=text.INFO["algorithm"], elem_id="algorithm")
            steps = gr.Slider(0, MAX_STEPS, value=3, step=1, label="Inner steps", info=text.INFO["steps"],
                              elem_id="steps")
            lr = gr.Number(value=0.4, label="Inner learning rate", info=text.INFO["lr"], minimum=0,
                           maximum=MAX_LR, step=0.05, elem_id="lr")
            adapt_btn = gr.Button("Adapt", variant="primary", elem_id="adapt")
            algo_note = gr.Markdown(text.ALGORITHM_NOTES["maml"], elem_id="algorithm-note")
        with gr.Column(scale=2, min_width=300):
            adapt_plot = gr.Plot(label="Adaptation", elem_id="adapt-plot")
            adapt_status = gr.Markdown(elem_id="adapt-status")
            step = gr.Slider(0, 1, value=0, step=1, label="Step shown below", info=text.INFO["step_shown"],
                             interactive=False, elem_id="step-slider")

    gr.Markdown("### 4. Queries: what does the adapted model think these are?")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300, elem_classes="class-block", elem_id="queries-block"):
            queries = _example_gallery("Queries (click one to select it)", "queries", columns=6)
            q_buttons = _capture_buttons("queries")
            classify_btn = gr.Button("Classify", size="sm", variant="primary", elem_id="classify")
            gr.Markdown(text.QUERY_HELP, elem_classes="help")
        with gr.Column(scale=2, min_width=300):
            pred_plot = gr.Plot(label="Predictions at the chosen step", elem_id="predictions-plot")
            pred_table = gr.Dataframe(headers=PRED_HEADERS, interactive=False, label="Predictions (table)",
                                      elem_id="predictions-table")
    embed_plot = gr.Plot(label="Embedding map at the chosen step", elem_id="embedding-plot")

    gr.Markdown("### 5. Save and share")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=260):
            save_btn = gr.Button("Download task", elem_id="download-task")
            open_btn = gr.UploadButton("Open task", file_types=[".zip"], file_count="single", elem_id="open-task")
            gr.Markdown(text.TASK_HELP, elem_classes="help")
        with gr.Column(min_width=260):
            export_btn = gr.Button("Download classifier", elem_id="download-classifier")
            gr.Markdown(text.EXPORT_HELP, elem_classes="help")
        with gr.Column(min_width=260):
            files = gr.File(label="Your file (click to save it)", interactive=False, elem_id="download-file")
            task_status = gr.Markdown(elem_id="task-status")

    gr.Markdown("### 6. Watch the outer loop: meta-train a model yourself")
    gr.Markdown(text.OUTER_LOOP_HELP, elem_classes="help")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            live_algo = gr.Radio([(TITLES[n], n) for n in LIVE_ALGORITHMS], value=LIVE_ALGORITHMS[0],
                                 label="Algorithm to meta-train", info=text.INFO["live_algorithm"],
                                 elem_id="live-algorithm")
            seconds = gr.Slider(20, 120, value=60, step=10, label="Training time (seconds)",
                                info=text.INFO["live_seconds"], elem_id="live-seconds")
            train_btn = gr.Button("Meta-train", variant="primary", elem_id="meta-train")
        with gr.Column(scale=2, min_width=300):
            outer_plot = gr.Plot(label="Outer loop", elem_id="outer-plot")
            outer_status = gr.Markdown(elem_id="outer-status")
    trained = gr.State(None, time_to_live=STATE_TTL)
    q_selection = gr.State(None)

    # --- wiring ---
    n_classes.change(show_classes, n_classes, blocks, api_name="show_classes", queue=False, **HIDDEN_API)
    targets = [(galleries[i], selections[i], buttons[i], f"_{i + 1}", MAX_EXAMPLES) for i in range(MAX_CLASSES)]
    targets.append((queries, q_selection, q_buttons, "_queries", MAX_QUERIES))
    for gal, sel, (upload, draw, photo, pick, remove, clear), suffix, _ in targets:
        is_query = suffix == "_queries"
        upload.upload(add_query_uploads if is_query else add_uploads, [upload, gal], gal,
                      api_name=f"add_uploads{suffix}", **HIDDEN_API)
        draw.click(add_query_drawing if is_query else add_drawing, [sketch, gal], gal,
                   api_name=f"add_drawing{suffix}", **HIDDEN_API).then(None, None, None, js=CLEAR_PAD)
        photo.click(add_query_photo if is_query else add_photo, [frame, webcam, gal], gal, js=GRAB,
                    api_name=f"add_photo{suffix}", **HIDDEN_API)
        if is_query:
            pick.click(queries_from_gallery, [queries, n_classes, *galleries], queries,
                       api_name="queries_from_gallery", **HIDDEN_API)
        else:
            pick.click(fill_from_gallery, [k_gallery, gal, *galleries], [gal, gallery_md],
                       api_name=f"fill_from_gallery{suffix}", **HIDDEN_API)
        gal.select(select_index, None, sel, api_visibility="private", queue=False)
        gal.change(clear_selection, None, sel, api_visibility="private", queue=False)
        remove.click(remove_selected, [gal, sel], [gal, sel], api_name=f"remove_selected{suffix}", **HIDDEN_API)
        clear.click(clear_examples, None, [gal, sel], api_name=f"clear{suffix}", **HIDDEN_API)

    algorithm.change(choose_algorithm, [algorithm, trained], [steps, lr, algo_note], api_name="algorithm_defaults")
    adapt_btn.click(adapt, [algorithm, steps, lr, n_classes, *names, *galleries, queries, trained],
                    [adapt_plot, adapt_status, session, step, pred_plot, pred_table, embed_plot], api_name="adapt",
                    show_progress_on=[adapt_plot], **HIDDEN_API, **COMPUTE)
    step.input(step_chart, [session, step], [adapt_plot, pred_plot, pred_table, embed_plot], api_name="show_step",
                      trigger_mode="always_last", **HIDDEN_API, concurrency_id="view", concurrency_limit=4)
    for trigger in (queries.change, classify_btn.click):
        trigger(classify_queries, [session, queries], [adapt_plot, step, pred_plot, pred_table, embed_plot],
                api_name="classify_queries", **HIDDEN_API, **COMPUTE)
    pad_preview.click(live_preview_pad, [pad_frame, session], live, js=PAD_FRAME, api_name="live_preview",
                      trigger_mode="always_last", show_progress="hidden", concurrency_id="preview",
                      concurrency_limit=2, **HIDDEN_API)
    webcam.change(live_preview_photo, [session, webcam], live, api_visibility="private", trigger_mode="always_last",
                  show_progress="hidden", concurrency_id="preview", concurrency_limit=2)

    save_btn.click(download_task, [n_classes, *names, *galleries, queries], files, api_name="download_task",
                   **HIDDEN_API)
    open_btn.upload(open_task, open_btn, [n_classes, *names, *galleries, queries, session, task_status],
                    api_name="open_task", **HIDDEN_API)
    train_btn.click(meta_train, [live_algo, seconds], [outer_plot, outer_status, trained, algorithm],
                    api_name="meta_train", show_progress_on=[outer_plot], **HIDDEN_API, **COMPUTE)
    export_btn.click(download_classifier, session, files, api_name="download_classifier", **HIDDEN_API)
    return algorithm, steps, lr, algo_note, gallery_md
