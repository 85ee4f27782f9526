"""Watch the outer loop, in the "Few-shot classifier" tab: meta-train a small model from a random start for
a minute (:func:`metademo.api.meta_train_live`) with its validation curve, then adapt with it beside the
pretrained ones ("Your meta-trained model" in the Algorithm menu). One run at a time for the whole app."""

from __future__ import annotations

import threading

import gradio as gr

from metademo import api

from . import plots
from .common import algorithm_defaults, algorithm_name, friendly, user_error, whole
from .i18n import algorithm_note, t
from .session import YOURS
from .text import ALGORITHMS, TITLES

_TRAINING = threading.Lock()  # one meta-training at a time: it takes both cores


def algorithm_choices():
    """The Algorithm menu's choices with "Your meta-trained model" in the visitor's language (on page load)."""
    return gr.update(choices=[*ALGORITHMS, (t("yours"), YOURS[1])])


@friendly
def choose_algorithm(algorithm, trained):
    """Steps, learning rate and note for the chosen algorithm (a pretrained one or the one trained here)."""
    if algorithm != YOURS[1]:
        return algorithm_defaults(algorithm)
    if trained is None:
        return gr.skip(), gr.skip(), t("train_first")
    info = trained.info
    note = t("your_model", note=trained.metadata.get("note", "")) + algorithm_note(trained.algorithm)
    if not info.adapts_by_steps:
        return gr.update(value=0, interactive=False), gr.update(value=None, interactive=False), note
    return (gr.update(value=info.default_steps, interactive=True),
            gr.update(value=info.default_lr, interactive=True), note)


@friendly
def meta_train(algorithm, seconds, progress=gr.Progress()):  # noqa: B008 - Gradio's idiom
    """Meta-train a small model from scratch, yielding (chart, status, trained model, algorithm menu)."""
    name = algorithm_name(algorithm)
    if name not in api.LIVE_ALGORITHMS:
        raise user_error(t("live_runs", titles=", ".join(TITLES[n] for n in api.LIVE_ALGORITHMS)))
    seconds = whole(seconds, "The training time", 10, api.MAX_SECONDS)
    if not _TRAINING.acquire(blocking=False):
        raise user_error(t("busy"))
    try:
        if progress is not None:
            progress(0, desc=t("loading_alphabets"))
        reports, title = [], t("meta_training_title", title=TITLES[name])
        for report in api.meta_train_live(name, seconds=seconds):
            reports.append(report)
            if progress is not None:
                progress((min(report["seconds"], seconds), seconds), desc=t("meta_training"), unit="s")
            status = t("iteration_status", iteration=report["iteration"], seconds=report["seconds"],
                       accuracy=100 * report["val_accuracy"], data=report["data"])
            if "model" not in report:
                yield plots.outer_loop_figure(reports, title), status, gr.skip(), gr.skip()
        status = t("done_status", iteration=report["iteration"], seconds=report["seconds"],
                   start=100 * reports[0]["val_accuracy"], accuracy=100 * report["val_accuracy"], yours=t("yours"))
        yield plots.outer_loop_figure(reports, title), status, report["model"], YOURS[1]
    finally:
        _TRAINING.release()
