"""The session, in the "Few-shot classifier" tab: what *Adapt* leaves behind, and what the page shows of it.

*Adapt* asks the API for the whole adaptation (:meth:`metademo.api.MetaClassifier.recording`): the curve
grows step by step, then the session (a ``gr.State``) keeps the support images, preprocessed once, and the
:class:`~metademo.api.AdaptationRecord`. With them the page shows, without adapting again: the class bars
for whatever is on the drawing pad (live preview), and for every recorded inner step the queries'
probabilities and the embedding map (the step slider). New queries re-record the same adaptation
(deterministic) with them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import gradio as gr

from metademo import api

from . import plots
from .common import (
    COMPUTING,
    MAX_CLASSES,
    MAX_EXAMPLES,
    MIN_CLASSES,
    PREVIEW_YIELD,
    algorithm_name,
    characters_of,
    friendly,
    items,
    prepare_naming,
    steps_and_lr,
    user_error,
    whole,
)
from .i18n import algorithm_text, t
from .models import MODELS
from .text import TITLES

MAX_FRAMES = 40  # chart updates (and recorded steps for the slider) per adaptation
FRAME_PAUSE = 0.04  # seconds between chart updates, so that a fast adaptation still visibly grows
PRED_HEADERS = ["query", "prediction", "confidence", "right answer", "correct?"]  # English; see _headers
YOURS = ("Your meta-trained model", "yours")  # the extra choice of the Algorithm menu
NOT_ADAPTED = "not_adapted"  # a key of metademo.ui.text.MESSAGES


def _headers() -> list[str]:
    """The predictions table's column names, in the visitor's language."""
    return [t(k) for k in ("col_query", "col_prediction", "col_confidence", "col_answer", "col_correct")]


def empty_table() -> dict:
    """The predictions table before anything is classified (the page's first value, in its language)."""
    return {"headers": _headers(), "data": []}


@dataclasses.dataclass
class Session:
    """A visitor's adapted classifier and what the page shows of it (kept in a ``gr.State``)."""

    algorithm: str  # a registry name, or "yours"
    model: object  # the MetaClassifier that adapted (a pretrained one, or one meta-trained on the page)
    names: list[str]
    characters: list[list[str]]  # gallery characters of each class (for the queries' right answers)
    support: api.Preprocessed
    labels: list[int]
    steps: int
    lr: float | None
    record: api.AdaptationRecord  # for the current queries

    @property
    def fitted(self) -> api.FittedClassifier:
        """After the last finite step: the live preview and the download use it."""
        return self.record.fitted

    @property
    def info(self) -> api.AlgorithmInfo:
        return self.model.info


def _support(names: Sequence, galleries: Sequence, prepared=None):
    """Validated class names, the support images (preprocessed once), labels and gallery characters."""
    if len(names) != len(galleries):
        raise user_error("Internal mismatch between class names and examples.")
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise user_error(t("classes_range", low=MIN_CLASSES, high=MAX_CLASSES, count=len(names)))
    clean, images, labels, characters = [], [], [], []
    for i, (name, gallery) in enumerate(zip(names, galleries)):
        name = (name or "").strip() if isinstance(name, str) else ""
        name = name or f"class {i + 1}"
        if name in clean:
            raise user_error(t("same_name", name=name))
        examples = items(gallery)
        if not examples:
            raise user_error(t("no_examples", n=i + 1, name=name))
        if len(examples) > MAX_EXAMPLES:
            raise user_error(t("too_many_examples", n=i + 1, name=name, count=len(examples), limit=MAX_EXAMPLES))
        clean.append(name)
        images += [img for img, _ in examples]
        labels += [i] * len(examples)
        characters.append(characters_of(examples))
    where = [(labels[j], sum(1 for x in labels[:j] if x == labels[j])) for j in range(len(labels))]

    def what(j: int, reason: str) -> str:
        c, k = where[j]
        return t("bad_example", n=c + 1, name=clean[c], k=k + 1, reason=reason[0].lower() + reason[1:])

    return clean, prepare_naming(images, what, prepared), labels, characters


def _queries(queries, prepared=None) -> tuple[api.Preprocessed | None, list]:
    pairs = items(queries)
    if not pairs:
        return None, pairs

    def what(j: int, reason: str) -> str:
        return t("bad_query", n=j + 1, name=pairs[j][1] or t("image"), reason=reason[0].lower() + reason[1:])

    return prepare_naming([img for img, _ in pairs], what, prepared), pairs


def _answer(caption, characters: list[list[str]]) -> int | None:
    """The class of a gallery query (the one class holding its character), or None."""
    key = api.parse_key(caption)
    if key is None:
        return None
    owners = [c for c, chars in enumerate(characters) if key[0] in chars]
    return owners[0] if len(owners) == 1 else None


def _record(session: Session, queries, prepared=None) -> api.AdaptationRecord:
    """The session's adaptation again (deterministic), recorded with ``queries``."""
    query, pairs = _queries(queries, prepared)
    return session.model.record(session.support, session.labels, query,
                                [_answer(c, session.characters) for _, c in pairs], session.steps, session.lr,
                                MAX_FRAMES)


def _empty_view(message: str):  # a key of metademo.ui.text.MESSAGES
    return (plots.empty_figure(t(message), 200), {"headers": _headers(), "data": []},
            plots.empty_figure(t("map_after_adapt"), 300))


def _as_step(step) -> int | None:
    try:
        return int(step)
    except (TypeError, ValueError):
        return None


def step_view(session: Session | None, step):
    """Predictions chart, predictions table and embedding map at inner step ``step`` (no model runs)."""
    if session is None or session.record is None:
        return _empty_view(NOT_ADAPTED)
    rec, info, names = session.record, session.info, session.names
    k = rec.index(_as_step(step))
    shown = rec.recorded_steps[k]
    when = (t("before_adapting") if shown == 0 else t("after_one_step") if shown == 1 else t("after_steps", n=shown)) \
        if info.adapts_by_steps else t("no_inner_steps")
    probs = None if rec.probabilities is None else rec.probabilities[k]
    correct = rec.correct(k)
    emb = plots.embedding_figure(rec.support_map[k], rec.support_labels, names, rec.centre_map[k],
                                 None if probs is None else rec.query_map[k],
                                 None if probs is None else [api.top_class(p) for p in probs],
                                 t("map_title", when=when),
                                 centre_name=_centre_name(session), bounds=plots.map_bounds(rec), correct=correct)
    if probs is None:
        fig = plots.empty_figure(t("add_queries"), 200)
        return fig, {"headers": _headers(), "data": []}, emb
    fig = plots.predictions_figure(rec.query_images, probs, names, rec.answers, correct)
    rows = []
    for i, (p, truth, right) in enumerate(zip(probs, rec.answers, correct)):
        best, top = int(p.argmax()), api.top_class(p)
        rows.append([i + 1, names[best] if top is not None else t("tie"), f"{100 * p[best]:.1f}%",
                     "" if truth is None else names[truth], "" if right is None else t("right" if right else "wrong")])
    return fig, {"headers": _headers(), "data": rows}, emb


show_step = friendly(step_view)


def _slider(session: Session | None):
    if session is None:
        return gr.update(minimum=0, maximum=1, value=0, interactive=False)
    top = session.fitted.step if session.fitted.diverged else session.steps
    return gr.update(minimum=0, maximum=max(top, 1), value=top, interactive=top > 0)


def _title(name: str) -> str:
    return TITLES.get(name) or t("yours")


def _centre_name(session: Session) -> str:
    name = session.algorithm if session.algorithm in TITLES else getattr(session.model, "algorithm", "")
    return algorithm_text(name, "centre_name") if name in TITLES else session.info.centre_name


def _chart(session: Session, selected: int | None = None):
    title, rec = _title(session.algorithm), session.record
    label = session.info.pair_score_label
    if label and session.algorithm in TITLES:
        label = algorithm_text(session.algorithm, "pair_score_label")
    if not rec.history and label and rec.pair_scores is not None:
        return plots.pair_scores_figure(rec.pair_scores, session.names, label,
                                        t("pair_title", title=title, label=label))
    if not rec.history and label:
        return plots.empty_figure(t("no_steps_scores", title=title, label=label), 200)
    if not rec.history:
        return plots.empty_figure(t("no_steps_map", title=title), 200)
    d = rec.divergence
    return plots.adaptation_figure(rec.history, session.steps,
                                   t("adapting_title", title=title, count=len(session.names)),
                                   d.step if d and d.kind == "diverged" else None, n_classes=len(session.names),
                                   query_accuracy=rec.query_accuracy or None, selected=selected)


def _after_queries(session: Session | None, queries, step=None, prepared=None):
    """Recompute the record for the current queries: (chart, slider, predictions, table, embedding map)."""
    if session is None:
        return (gr.skip(), _slider(None), *_empty_view(NOT_ADAPTED))
    try:
        session.record = _record(session, queries, prepared)
    except gr.Error as e:  # an unreadable query must not undo the adaptation
        gr.Warning(e.message)
        session.record = _record(session, None)
    step = session.record.recorded_steps[-1] if step is None else step
    return (_chart(session, step if session.steps else None), gr.skip(), *step_view(session, step))


@friendly
def classify_queries(session, queries, prepared=None):
    """Queries changed (or Classify): (chart, slider, predictions, table, embedding map) for them."""
    with COMPUTING:
        return _after_queries(session, queries, prepared=prepared)


def _model(algorithm, trained):
    """(name, MetaClassifier): a pretrained model, or the one meta-trained on this page ("yours")."""
    if algorithm == YOURS[1]:
        if trained is None:
            raise user_error(t("not_trained"))
        return YOURS[1], trained
    name = algorithm_name(algorithm)
    return name, MODELS.get(name)


def _warning(record: api.AdaptationRecord) -> str | None:
    d, lr = record.divergence, record.lr
    if d is None:
        return None
    if d.kind == "diverged":
        return t("diverged", step=d.step, lr=lr, used=d.used_step)
    return t("exploded", peak=d.peak_loss, start=d.start_loss, lr=lr)


def run_adaptation(algorithm, steps, lr, names, galleries, queries=None, progress=None, trained=None,
                   prepared=None):
    """Adapt a meta-learner to the classes, yielding (chart, status, session, slider, predictions chart,
    table, embedding map). Intermediate yields update the chart and the status only (``gr.skip()``)."""
    name, clf = _model(algorithm, trained)
    info = clf.info
    names, support, labels, characters = _support(names, galleries, prepared)
    query, pairs = _queries(queries, prepared)
    title = _title(name)
    if info.adapts_by_steps:
        steps, lr = steps_and_lr(steps, lr, "Inner steps", "The inner learning rate")
    else:
        steps, lr = 0, None  # nothing to step: the page's steps and learning rate do not apply
    recording = clf.recording(support, labels, query, [_answer(c, characters) for _, c in pairs], steps, lr,
                              MAX_FRAMES)
    steps = recording.steps
    if progress is not None:
        progress((0, max(steps, 1)), desc=t("adapting"), unit="steps")
    skip = (gr.skip(),) * 5
    for fitted in recording:
        if progress is not None:
            progress((fitted.step, max(steps, 1)), desc=t("adapting"), unit="steps")
        # Alone, the chart grows step by step; while other model jobs run (or wait their turn in the queue),
        # they matter more: no in-between frames and pauses (the last chart still shows every step).
        if info.adapts_by_steps and COMPUTING.running <= 1:
            last = fitted.history[-1]
            status = t("step_status", title=title, step=last["step"], steps=steps, loss=last["loss"])
            chart_title = t("adapting_title", title=title, count=len(names))
            yield plots.adaptation_figure(fitted.history, steps, chart_title, n_classes=len(names)), status, *skip
            if FRAME_PAUSE and fitted.step < steps:
                time.sleep(FRAME_PAUSE)
    record = recording.result()
    session = Session(name, clf, names, characters, support, labels, steps, record.lr, record)
    elapsed, fitted = 1000 * record.seconds, record.fitted
    if info.adapts_by_steps:
        good = fitted.history[fitted.step]
        status = t("adapted_status", title=title, classes=len(names), examples=len(support), steps=steps,
                   lr=record.lr, ms=elapsed, accuracy=100 * good["accuracy"], loss=good["loss"])
        message = _warning(record)
        if message:
            gr.Warning(message)
            status += f"\n\n⚠️ {message}"
    else:
        fitted_as = algorithm_text(name, "fitted_as") if name in TITLES else info.fitted_as
        status = t("fitted_status", title=title, fitted_as=fitted_as, classes=len(names), examples=len(support),
                   ms=elapsed)
    top = fitted.step
    yield (_chart(session, top if info.adapts_by_steps else None), status, session, _slider(session),
           *step_view(session, top))


@friendly
def adapt(algorithm, steps, lr, n_classes, progress=gr.Progress(), *values):  # noqa: B008 - Gradio's idiom
    """The Adapt button. ``values``: the 10 class names, the 10 class galleries, the queries, then the model
    meta-trained on the page (or None) and the session's preprocessed uploads.

    ``progress`` comes before ``*values`` because Gradio fills it in only among the positional
    parameters; a direct call may pass None.
    """
    n = whole(n_classes, "The number of classes", MIN_CLASSES, MAX_CLASSES)
    if len(values) < 2 * MAX_CLASSES:
        raise user_error("Internal error: adapt needs the names and examples of all classes.")
    names, galleries = values[:MAX_CLASSES], values[MAX_CLASSES:2 * MAX_CLASSES]
    queries, trained, prepared = (list(values[2 * MAX_CLASSES:]) + [None] * 3)[:3]
    with COMPUTING:
        yield from run_adaptation(algorithm, steps, lr, list(names[:n]), list(galleries[:n]), queries, progress,
                                  trained, prepared)


@friendly
def step_chart(session, step):
    """The chart with the chosen step marked, and that step's predictions and embedding map."""
    if session is None:
        return (gr.skip(), *_empty_view(NOT_ADAPTED))
    return (_chart(session, int(step) if session.steps else None), *step_view(session, step))


# --- live preview -----------------------------------------------------------------------------------------

@friendly
def live_preview(session, sketch=None, photo=None):
    """Class probabilities of the drawing on the pad (or a webcam photo), from the session's adapted
    classifier: a dict for ``gr.Label``. Runs on every stroke, so it does nothing else, and gives way to the
    model jobs running (see :class:`~metademo.ui.common.Computing`)."""
    if session is None:
        return None
    if PREVIEW_YIELD:
        COMPUTING.wait_idle(PREVIEW_YIELD)
    try:
        img = api.sketch_image(sketch) if photo is None else api.webcam_photo(photo)
    except ValueError:
        return None
    if img is None:
        return None
    try:
        x = api.prepare([img])
    except ValueError:
        return None  # a blank pad: no bars
    probs = session.fitted.predict_proba(x)[0]
    return {name: float(p) for name, p in zip(session.names, probs)}


@friendly
def live_preview_pad(frame, session):
    """The live preview from the page's own small copy of the pad (a PNG data URL that the browser draws
    stroke by stroke, see ``static/classifier.js``): no wait for the pad to export and upload its full-size
    image."""
    return live_preview(session, frame)


@friendly
def live_preview_photo(session, photo):
    return live_preview(session, None, photo)
