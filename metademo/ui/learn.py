"""The "Learn" tab and the programmatic endpoints: ``/classify`` (adapt and classify in one call) and
``/model_hash``. ``/classify`` is a public API: its signature and answers stay as they are."""

from __future__ import annotations

import json
import os

import gradio as gr

from metademo import api

from . import text
from .common import (
    COMPUTE,
    HIDDEN_API,
    algorithm_name,
    checked,
    file_name,
    friendly,
    plain,
    prepare_naming,
    steps_and_lr,
    user_error,
)
from .i18n import ui
from .models import MODELS


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


def _check_images(paths: list[str], what: str) -> api.Preprocessed:
    """Every image preprocessed once (the API then takes them as they are), naming the first bad one."""

    def name(i: int, reason: str) -> str:
        path = paths[i]
        reason = reason.replace(f"File {path!r}", "It").replace(str(path), file_name(path))
        return f"{what.capitalize()} file {i + 1} ({file_name(path)}): {reason}"

    return prepare_naming(paths, name)


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
        checked(api.check_image_count, len(files), what)
    steps, lr = steps_and_lr(steps, lr)
    support_x = _check_images(support, "support")  # each image once: errors name the file
    query_x = _check_images(queries, "query")
    return classification(name, support_x, labels, query_x, steps, lr)


def classification(name: str, support, labels: list, query_x, steps: int | None, lr: float | None) -> dict:
    """Adapt the model ``name`` to checked support images and labels, classify the preprocessed queries:
    the JSON answer of ``/classify`` (and of the tool for agents)."""
    if not isinstance(query_x, api.Preprocessed):
        query_x = api.Preprocessed(query_x)
    clf = MODELS.get(name)
    fitted = clf.fit(support, labels, steps=steps, lr=lr)
    if fitted.diverged:
        gr.Warning("The adaptation diverged; the predictions use the last finite step.")
    probs = fitted.predict_proba(query_x)
    classes = list(fitted.classes_)
    return plain({
        "algorithm": name,
        "classes": classes,
        "probabilities": probs.tolist(),
        "predictions": [classes[i] for i in probs.argmax(1)],
        "history": fitted.history,
        "steps": fitted.step,
        "lr": (clf.info.default_lr if lr is None else lr) if clf.info.adapts_by_steps else None,
        "diverged": fitted.diverged,
        "device": str(clf.device),
    })


@friendly
def model_hash(algorithm: str) -> str:
    """API ``/model_hash``: the SHA-256 of a loaded model's meta-parameters (they never change)."""
    return MODELS.get(algorithm_name(algorithm)).fingerprint()


def build():
    """The tab's layout and wiring (inside a ``gr.Tab``); returns the accuracy table."""
    gr.Markdown(ui.LEARN)
    gr.Markdown(ui.STABLE_LOOPS, elem_id="stable-loops")
    gr.Markdown(ui.THREE_PICTURES, elem_id="three-pictures")
    accuracy = gr.Markdown(text.accuracy_markdown(), elem_id="accuracy")
    gr.Markdown(ui.API_HELP)
    with gr.Accordion(ui.LABELS["try_classify"], open=False):
        with gr.Row(equal_height=False):
            with gr.Column():
                algorithm = gr.Dropdown(choices=text.ALGORITHMS, value="maml", allow_custom_value=True,
                                        label="algorithm", elem_id="api-algorithm")
                support = gr.File(file_count="multiple", label="support_files", elem_id="api-support")
                labels_text = gr.Textbox(label="support labels, one per support file (comma-separated)",
                                         placeholder="alpha, alpha, beta, beta", elem_id="api-labels-text")
                labels = gr.JSON(label="support_labels (as sent to /classify)", elem_id="api-labels")
                query_files = gr.File(file_count="multiple", label="query_files", elem_id="api-queries")
                # Text fields, because an empty number field sends 0 (a valid step count) rather than nothing
                steps = gr.Textbox(value="", label="steps, a whole number (empty: the model's default)",
                                   placeholder="the model's default", elem_id="api-steps")
                lr = gr.Textbox(value="", label="lr, the inner learning rate (empty: the model's default)",
                                placeholder="the model's default", elem_id="api-lr")
                go = gr.Button(ui.LABELS["classify"], variant="primary", elem_id="api-go")
            with gr.Column():
                result = gr.JSON(label="result", elem_id="api-result")
    gr.api(model_hash, api_name="model_hash", **HIDDEN_API)
    go.click(labels_from_text, labels_text, labels, api_name="parse_labels", **HIDDEN_API).then(
        classify, [algorithm, support, labels, query_files, steps, lr], result, api_name="classify", **COMPUTE)
    return accuracy
