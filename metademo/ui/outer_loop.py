"""Watch the outer loop, in the "Few-shot classifier" tab: meta-train a small model from a random start for
a minute (:func:`metademo.api.meta_train_live`) with its validation curve, then adapt with it beside the
pretrained ones ("Your meta-trained model" in the Algorithm menu). One run at a time for the whole app."""

from __future__ import annotations

import threading

import gradio as gr

from metademo import api

from . import plots, text
from .common import algorithm_defaults, algorithm_name, friendly, user_error, whole
from .session import YOURS
from .text import TITLES

_TRAINING = threading.Lock()  # one meta-training at a time: it takes both cores


@friendly
def choose_algorithm(algorithm, trained):
    """Steps, learning rate and note for the chosen algorithm (a pretrained one or the one trained here)."""
    if algorithm != YOURS[1]:
        return algorithm_defaults(algorithm)
    if trained is None:
        return gr.skip(), gr.skip(), ("⚠️ You have not meta-trained a model yet: press **Meta-train** in section 6, "
                                      "then adapt with it here.")
    info = trained.info
    note = f"Your model: {trained.metadata.get('note', '')}. " + text.ALGORITHM_NOTES[trained.algorithm]
    if not info.adapts_by_steps:
        return gr.update(value=0, interactive=False), gr.update(value=None, interactive=False), note
    return (gr.update(value=info.default_steps, interactive=True),
            gr.update(value=info.default_lr, interactive=True), note)


@friendly
def meta_train(algorithm, seconds, progress=gr.Progress()):  # noqa: B008 - Gradio's idiom
    """Meta-train a small model from scratch, yielding (chart, status, trained model, algorithm menu)."""
    name = algorithm_name(algorithm)
    if name not in api.LIVE_ALGORITHMS:
        raise user_error(f"Live meta-training runs {', '.join(TITLES[n] for n in api.LIVE_ALGORITHMS)}.")
    seconds = whole(seconds, "The training time", 10, api.MAX_SECONDS)
    if not _TRAINING.acquire(blocking=False):
        raise user_error("Someone is meta-training a model right now (one at a time, as it takes all the "
                         "processor). Try again in a minute.")
    try:
        if progress is not None:
            progress(0, desc="Loading the training alphabets")
        reports, title = [], f"Meta-training {TITLES[name]} from a random start"
        for report in api.meta_train_live(name, seconds=seconds):
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
