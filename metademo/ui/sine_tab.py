"""The "Sine-wave regression" tab: the classic MAML picture, and meta-training MAML live.

The waves, the models, their adaptation (with its error over the whole wave) and their meta-training come
from the API (:mod:`metademo.api.sine`); this module draws them.
"""

from __future__ import annotations

import math
import time

import gradio as gr
import numpy as np

from metademo import api

from . import plots
from .common import COMPUTE, HIDDEN_API, STATE_TTL, checked, friendly, whole
from .i18n import t, ui
from .models import get_sine_models

SINE_CHOICES = ("pretrained MAML", "the MAML you trained")
MAX_FRAMES = 40  # chart updates per adaptation; more steps update every few steps
FRAME_PAUSE = 0.04  # seconds between chart updates, so that a fast adaptation still visibly grows


def new_seed() -> int:
    """A fresh random seed (the 'new points' button)."""
    return int(np.random.default_rng().integers(0, 1_000_000))


def model_choices():
    """The MAML menu's choices, named in the visitor's language (on page load; the values stay)."""
    return gr.update(choices=[(t(key), value) for key, value in zip(("choice_pretrained", "choice_trained"),
                                                                    SINE_CHOICES)])


@friendly
def sine_adapt(amplitude, phase, k, steps, lr, seed, maml_choice=SINE_CHOICES[0], trained=None):
    """Adapt MAML and the baseline to K points of one wave, yielding (chart, status) after each step."""
    wave = api.sine_wave(amplitude, phase, k, 0 if seed is None else seed)
    steps = checked(api.check_steps, steps, "Steps", text=True)
    lr = None if lr in (None, "") else lr  # the model's own when empty; the API checks it
    maml, baseline = get_sine_models()
    label = t("sine_pretrained")
    if maml_choice == SINE_CHOICES[1]:
        if trained and trained.get("params"):
            maml = api.sine_model(trained["params"], "your MAML")
            label = t("sine_yours", iterations=trained.get("iterations", "?"))
        else:
            gr.Warning(t("no_trained_maml"))
    curves = {label: [], t("sine_baseline"): []}
    every = max(1, math.ceil(steps / MAX_FRAMES))
    for a, b in zip(api.adapt_sine_wave(maml, wave, steps, lr), api.adapt_sine_wave(baseline, wave, steps, lr)):
        for seq, record in zip(curves.values(), (a, b)):
            seq.append(record["prediction"])
        step = a["step"]
        if step % every == 0 or step == steps:
            errors = ", ".join(f"{n} **{r['error']:.3f}**" if math.isfinite(r["error"])
                               else f"{n} **{t('diverged_word')}**" for n, r in zip(curves, (a, b)))
            status = t("sine_status", step=step, steps=steps, errors=errors)
            yield plots.sine_figure(wave.grid, wave.truth, wave.x, wave.y, curves, step, steps), status
            if FRAME_PAUSE and step < steps:
                time.sleep(FRAME_PAUSE * 2)
    if not all(np.isfinite(seq[-1]).all() for seq in curves.values()):
        gr.Warning(t("sine_diverged", lr=lr if lr is not None else api.SINE_INNER_LR))


@friendly
def sine_train(iterations, seed, progress=gr.Progress()):  # noqa: B008
    """Meta-train MAML on sine waves from scratch, yielding (chart, status, trained state, model choice)."""
    iterations = whole(iterations, "Iterations", 100, 20_000)
    seed = whole(seed if seed is not None else 0, "The seed", 0, 2**32 - 1)
    every = max(10, iterations // 80)
    its, losses = [], []
    start = time.perf_counter()
    params = None
    for it, loss, latest in api.meta_train_sine(iterations, seed, "maml", every):
        params = latest
        its.append(it)
        losses.append(loss)
        if progress is not None:
            progress((it, iterations), desc=t("meta_training_maml"), unit="iterations")
        status = t("sine_iteration", iteration=it, iterations=iterations, loss=loss,
                   seconds=time.perf_counter() - start)
        yield plots.meta_loss_figure(its, losses, iterations), status, gr.skip(), gr.skip()
    wall = time.perf_counter() - start
    trained = {"params": params, "iterations": iterations, "seed": seed, "loss": losses[-1], "curve": losses}
    status = t("sine_done", iterations=iterations, seconds=wall, loss=losses[-1])
    yield plots.meta_loss_figure(its, losses, iterations), status, trained, SINE_CHOICES[1]



def build() -> None:
    """The tab's layout and wiring (inside a ``gr.Tab``)."""
    gr.Markdown(ui.SINE_INTRO)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            amplitude = gr.Slider(0.1, 5.0, value=3.0, step=0.1, label=ui.LABELS["amplitude"],
                                  info=ui.INFO["amplitude"],
                                  elem_id="amplitude")
            phase = gr.Slider(0.0, round(math.pi, 2), value=1.0, step=0.01, label=ui.LABELS["phase"],
                              info=ui.INFO["phase"], elem_id="phase")
            k_points = gr.Slider(1, 50, value=10, step=1, label=ui.LABELS["k_points"], info=ui.INFO["k_points"],
                                 elem_id="k-points")
            sine_steps = gr.Slider(0, 50, value=10, step=1, label=ui.LABELS["sine_steps"], info=ui.INFO["sine_steps"],
                                   elem_id="sine-steps")
            sine_lr = gr.Number(value=0.01, label=ui.LABELS["learning_rate"], info=ui.INFO["sine_lr"], minimum=0,
                                maximum=1, step=0.005, elem_id="sine-lr")
            seed = gr.Number(value=0, precision=0, label=ui.LABELS["points_seed"], minimum=0, elem_id="sine-seed")
            choice = gr.Radio(list(SINE_CHOICES), value=SINE_CHOICES[0], label=ui.LABELS["maml_model"],
                              elem_id="maml-choice")
            with gr.Row():
                points_btn = gr.Button(ui.LABELS["new_points"], elem_id="new-points")
                sine_btn = gr.Button(ui.LABELS["adapt"], variant="primary", elem_id="sine-adapt")
        with gr.Column(scale=2):
            sine_plot = gr.Plot(label=ui.LABELS["sine_plot"], elem_id="sine-plot")
            sine_status = gr.Markdown(elem_id="sine-status")
    gr.Markdown(ui.HEADINGS["sine_train"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            iterations = gr.Slider(500, 6000, value=2000, step=500, label=ui.LABELS["iterations"],
                                   info=ui.INFO["iterations"], elem_id="iterations")
            train_seed = gr.Number(value=0, precision=0, label=ui.LABELS["training_seed"], minimum=0,
                                   elem_id="train-seed")
            train_btn = gr.Button(ui.LABELS["train_maml"], variant="primary", elem_id="sine-train")
            train_status = gr.Markdown(ui.SINE_TRAIN_HELP, elem_id="train-status")
        with gr.Column(scale=2):
            train_plot = gr.Plot(label=ui.LABELS["meta_training_plot"], elem_id="train-plot")
    trained = gr.State(None, time_to_live=STATE_TTL)
    inputs = [amplitude, phase, k_points, sine_steps, sine_lr, seed, choice, trained]
    gr.on(None, model_choices, None, choice, api_visibility="private", queue=False)  # in the page's language
    points_btn.click(new_seed, None, seed, api_name="new_seed", queue=False, **HIDDEN_API).then(
        sine_adapt, inputs, [sine_plot, sine_status], api_name="sine_adapt_new_points", api_visibility="private",
        **COMPUTE)
    sine_btn.click(sine_adapt, inputs, [sine_plot, sine_status], api_name="sine_adapt",
                   show_progress_on=[sine_plot], **COMPUTE)
    train_btn.click(sine_train, [iterations, train_seed], [train_plot, train_status, trained, choice],
                    api_name="sine_train", show_progress_on=[train_plot], **COMPUTE)
