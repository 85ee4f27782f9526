"""Capture, in the "Few-shot classifier" tab: what each class card's (and the queries') buttons do.

*Upload* (several files at once), *Drawing* (what is on the pad; the page then clears the pad), *Photo* (the
webcam's current frame, in one click) and *Gallery* (K drawings of an unseen character; for the queries, a
new drawing of each class's character, so the right answers are known). A gallery value is a list of
``(image, caption)`` pairs; a gallery drawing's caption names its character (``metademo.api.drawing_key``).

Each upload is preprocessed once, here, to check it: the session keeps the result (``prepared``, a
``gr.State``, see :func:`~metademo.ui.common.remember`) for *Adapt* and *Classify*.
"""

from __future__ import annotations

import os

import gradio as gr
import numpy as np

from metademo import api

from .common import (
    MAX_CLASSES,
    MAX_EXAMPLES,
    MAX_QUERIES,
    MIN_CLASSES,
    characters_of,
    file_name,
    friendly,
    gallery_status,
    items,
    reason_of,
    remember,
    whole,
)
from .i18n import t


def _room(current: list, added: list, limit: int) -> list:
    room = max(limit - len(current), 0)
    if len(added) > room:
        gr.Warning(t("kept_some", limit=limit, room=room, count=len(added)))
        added = added[:room]
    return current + added


@friendly
def add_uploads(files, examples, prepared=None, limit: int = MAX_EXAMPLES):
    """Append uploaded image files (paths) to a class's (or the queries') examples; skip unusable ones.
    Returns the examples and the session's preprocessed uploads, with these."""
    current = items(examples)
    paths = [files] if isinstance(files, (str, os.PathLike)) else list(files or [])
    added, skipped = [], []
    for path in paths:
        path = getattr(path, "name", path)  # a tempfile wrapper from older clients
        try:
            image = api.prepare([path])
        except api.ImageError as e:
            reason = reason_of(e, path)
            skipped.append(f"{file_name(path)} ({reason[:1].upper() + reason[1:]})")
            continue
        added.append((str(path), file_name(path)))
        prepared = remember(prepared, path, image)
    if skipped:
        gr.Warning(t("skipped", files="; ".join(skipped)))
    return _room(current, added, limit), prepared if prepared is not None else {}


def _has_ink(img) -> bool:
    try:
        api.prepare([img])
    except ValueError:
        return False
    return True


@friendly
def add_drawing(sketch, examples, limit: int = MAX_EXAMPLES):
    """Append the drawing on the pad to a class's (or the queries') examples. The page then clears the
    pad in the browser (its own bin button), ready for the next drawing."""
    try:
        img = api.sketch_image(sketch)
    except ValueError:
        img = None
    if img is None or not _has_ink(img):
        gr.Warning(t("empty_pad"))
        return gr.skip()
    return _append(examples, api.crop_to_ink(img), "drawing", limit)


@friendly
def add_photo(frame, snapshot, examples, limit: int = MAX_EXAMPLES):
    """Append a webcam photo: ``frame`` is the live camera's current frame (a data URL the page grabs
    when the button is pressed), ``snapshot`` the webcam component's own captured photo, used when
    there is no live frame."""
    img = api.webcam_photo(frame) if isinstance(frame, str) and frame.startswith("data:") else None
    if img is None and snapshot is not None:
        img = api.webcam_photo(snapshot)
    if img is None:
        gr.Warning(t("no_camera"))
        return gr.skip()
    if not _has_ink(img):
        gr.Warning(t("no_ink"))
        return gr.skip()
    return _append(examples, img, "photo", limit)


def _append(examples, img, caption: str, limit: int):
    """The examples with one more image, or a warning (and no change) when the list is full."""
    current = items(examples)
    if len(current) >= limit:
        gr.Warning(t("full", limit=limit))
        return gr.skip()
    return current + [(img, caption)]


@friendly
def fill_from_gallery(k, examples, *all_classes):
    """Replace a class's examples with ``k`` drawings of a random unseen character (one no class holds,
    including this one: each press gives another character). Returns the examples and the gallery line."""
    k = whole(k, "The number of gallery drawings", 1, api.DRAWINGS)
    source = api.GALLERY.current()
    used = set(characters_of(examples))
    for other in all_classes:
        used.update(characters_of(other))
    i, js = source.pick(np.random.default_rng(), k, exclude=used)
    name = source.name(i)
    return [(source.drawing(i, j), api.drawing_key(name, j)) for j in js], gallery_status()


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
        gr.Warning(t("select_first"))
        return gr.skip(), None
    return current[:selected] + current[selected + 1:], None


def clear_selection():
    """Forget the selected example (its gallery changed)."""
    return None


def clear_examples():
    """Empty a gallery (and its selection)."""
    return [], None


@friendly
def add_query_uploads(files, queries, prepared=None):
    return add_uploads(files, queries, prepared, limit=MAX_QUERIES)


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
    used = {api.parse_key(c) for _, c in current} | {api.parse_key(c) for ex in class_examples
                                                      for _, c in items(ex)}
    rng = np.random.default_rng()
    added = []
    for examples in class_examples[:n]:
        chars = characters_of(examples)
        found = api.GALLERY.find(chars[0]) if chars else None
        if found is None:
            continue
        source, i = found
        free = [j for j in range(api.DRAWINGS) if (chars[0], j) not in used]
        if free:
            j = int(rng.choice(free))
            added.append((source.drawing(i, j), api.drawing_key(chars[0], j)))
    if not added:
        gr.Warning(t("gallery_first"))
        return gr.skip()
    return _room(current, added, MAX_QUERIES)
