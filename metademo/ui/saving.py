"""Save and share, in the "Few-shot classifier" tab: a task (class names, images, queries) as one zip file
that opens again (a teacher prepares it, students open it), and the adapted classifier as a safetensors
file that ``metademo.load_fitted`` reads. Each download is written into a private folder of its own."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
import time

import gradio as gr

from metademo import api

from .common import MAX_CLASSES, MAX_QUERIES, MIN_CLASSES, friendly, items, user_error, whole
from .i18n import t

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
            raise user_error(t("task_needs_examples", n=i + 1, name=clean[-1]))
    path = os.path.join(_scratch_dir(), "metademo-task.zip")
    api.save_task(path, clean, [[img for img, _ in items(g)] for g in galleries],
                  [[c for _, c in items(g)] for g in galleries], [img for img, _ in queries], [c for _, c in queries])
    return path


@friendly
def open_task(file):
    """Open a task zip: (number of classes, 10 names, 10 galleries, queries, cleared session, message)."""
    path = getattr(file, "name", file)
    if isinstance(path, dict):
        path = path.get("path")
    if not isinstance(path, (str, os.PathLike)):
        raise user_error(t("choose_task"))
    task = api.load_task(path)
    if len(task.names) > MAX_CLASSES or len(task.names) < MIN_CLASSES:
        raise user_error(t("task_classes", count=len(task.names), low=MIN_CLASSES, high=MAX_CLASSES,
                           most=api.MAX_CLASSES))
    names = [gr.update(value=task.names[i] if i < len(task.names) else f"class {i + 1}") for i in range(MAX_CLASSES)]
    galleries = [list(zip(task.examples[i], task.captions[i])) if i < len(task.names) else []
                 for i in range(MAX_CLASSES)]
    queries = list(zip(task.queries, task.query_captions))[:MAX_QUERIES]
    message = t("opened_task", count=len(task.names), names=", ".join(task.names), examples=len(task.images),
                queries=len(task.queries))
    return (len(task.names), *names, *galleries, queries, None, message)


@friendly
def download_classifier(session):
    """Write the session's adapted classifier (``metademo.load_fitted`` reads it); returns its path."""
    if session is None:
        raise user_error(t("nothing_to_download"))
    fitted = dataclasses.replace(session.fitted, classes_=list(session.names))
    path = os.path.join(_scratch_dir(), f"metademo-{session.model.algorithm}-classifier.safetensors")
    fitted.save(path)
    return path
