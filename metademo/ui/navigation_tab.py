"""The "2-D navigation" tab: meta-reinforcement learning. A person clicks where the hidden goal is; the page
shows the episodes of MAML's policy before adapting and after each policy-gradient step, and the same for a
baseline pretrained on all goals at once; a button meta-trains MAML from scratch with a live return curve.

The policies, their adaptation and their meta-training come from the API (:mod:`metademo.api.navigation`);
this module draws them.
"""

from __future__ import annotations

import base64
import html
import io

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from metademo.api import navigation as nav

from .common import COMPUTE, STATE_TTL, friendly, whole
from .i18n import t, ui
from .text import NAVIGATION_INTRO

SIZE = 360  # pixels of the square field, which shows [-1, 1]^2
STEP_COLOURS = ("#9e9e9e", "#636EFA", "#00CC96", "#FFA15A", "#AB63FA", "#19D3F3")
CHOICES = {"pretrained MAML": "maml", "first-order MAML": "fomaml", "the MAML you trained": "trained"}
BASELINE = "baseline (pretrained on all goals)"
PATHS_SHOWN = 5  # episodes drawn per step (of the 20 each step samples)
DEFAULT_GOAL = (0.3, -0.3)

INTRO = NAVIGATION_INTRO  # in metademo.ui.text, with the page's other texts


def to_pixel(x: float, y: float) -> tuple[float, float]:
    return (x + 1) / 2 * SIZE, (1 - y) / 2 * SIZE


def to_world(px: float, py: float) -> tuple[float, float]:
    """The goal (x, y) of a click at pixel (px, py) of the field."""
    x, y = px / SIZE * 2 - 1, 1 - py / SIZE * 2
    return round(float(np.clip(x, -1, 1)), 3), round(float(np.clip(y, -1, 1)), 3)


def picture(a: np.ndarray, alt: str) -> str:
    """A field as a plain, non-interactive <img> (the baseline's is only to look at: a clickable image
    component would put a button around it)."""
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    src = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return (f'<img src="{src}" alt="{html.escape(alt)}" width="{a.shape[1]}" height="{a.shape[0]}" '
            'style="max-width:100%;height:auto">')


def field(goal, records: list[dict] | None = None, title: str = "") -> np.ndarray:
    """The square with the goal and each step's first episodes, an (SIZE, SIZE, 3) image."""
    img = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(img)
    for v in np.linspace(-1, 1, 9):
        a, b = to_pixel(v, -1), to_pixel(v, 1)
        draw.line([a, b], fill="#eeeeee")
        a, b = to_pixel(-1, v), to_pixel(1, v)
        draw.line([a, b], fill="#eeeeee")
    lo, hi = to_pixel(-0.5, 0.5), to_pixel(0.5, -0.5)
    for i in range(int(lo[0]), int(hi[0]), 8):  # the meta-training square, dashed
        draw.line([(i, lo[1]), (i + 4, lo[1])], fill="#bbbbbb")
        draw.line([(i, hi[1]), (i + 4, hi[1])], fill="#bbbbbb")
    for i in range(int(lo[1]), int(hi[1]), 8):
        draw.line([(lo[0], i), (lo[0], i + 4)], fill="#bbbbbb")
        draw.line([(hi[0], i), (hi[0], i + 4)], fill="#bbbbbb")
    for record in records or []:
        colour = STEP_COLOURS[min(record["step"], len(STEP_COLOURS) - 1)]
        for path in record["paths"][:PATHS_SHOWN]:
            draw.line([to_pixel(*p) for p in path], fill=colour, width=2 if record["step"] else 1)
    ox, oy = to_pixel(0, 0)
    draw.rectangle([ox - 3, oy - 3, ox + 3, oy + 3], fill="black")
    gx, gy = to_pixel(*goal)
    draw.ellipse([gx - 7, gy - 7, gx + 7, gy + 7], outline="#d62728", width=3)
    draw.line([gx - 10, gy, gx + 10, gy], fill="#d62728", width=2)
    draw.line([gx, gy - 10, gx, gy + 10], fill="#d62728", width=2)
    if title:
        draw.text((6, 4), title, fill="black")
    return np.asarray(img)


def returns_figure(curves: dict[str, list[float]], steps: int) -> go.Figure:
    fig = go.Figure()
    for name, values in curves.items():
        fig.add_trace(go.Scatter(x=list(range(len(values))), y=values, mode="lines+markers", name=name))
    fig.update_layout(title={"text": t("nav_returns_title"), "x": 0.01}, height=300,
                      margin={"l": 50, "r": 20, "t": 60, "b": 40}, xaxis_title=t("inner_steps_axis"),
                      yaxis_title=t("return_axis"),
                      xaxis={"range": [-0.2, steps + 0.2], "dtick": 1})
    return fig


def training_figure(its: list[int], before: list[float], after: list[float], iterations: int) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=its, y=before, mode="lines+markers", name=t("before_adapting_trace")))
    fig.add_trace(go.Scatter(x=its, y=after, mode="lines+markers", name=t("after_one_step_trace")))
    fig.update_layout(title={"text": t("nav_training_title"), "x": 0.01}, height=300,
                      margin={"l": 50, "r": 20, "t": 60, "b": 40}, xaxis_title=t("outer_iterations"),
                      yaxis_title=t("return_axis"), xaxis={"range": [0, iterations]})
    return fig


@friendly
def nav_adapt(goal, choice=None, steps=3, seed=0, trained=None):
    """Adapt the chosen MAML and the baseline to the goal: (field, baseline field, returns chart, status)."""
    goal = nav.check_goal(*goal) if goal else DEFAULT_GOAL
    steps = whole(steps, "Steps", 0, nav.MAX_STEPS)
    seed = whole(seed if seed is not None else 0, "The seed", 0, 2**31)
    kind = CHOICES.get(choice or "pretrained MAML", "maml")
    model, label = kind, choice or "pretrained MAML"
    if kind == "trained":
        if trained is None:
            gr.Warning(t("no_trained_maml"))
            model, label = "maml", "pretrained MAML"
        else:
            model = trained
    mine = list(nav.adapt_to_goal(model, goal, steps, seed))
    base = list(nav.adapt_to_goal("baseline", goal, steps, seed))
    curves = {label: [r["return"] for r in mine], BASELINE: [r["return"] for r in base]}
    status = t("nav_status", x=goal[0], y=goal[1], steps=steps,
               returns=", ".join(f"{name} **{c[0]:.1f} → {c[-1]:.1f}**" for name, c in curves.items()))
    return (field(goal, mine, label), picture(field(goal, base, BASELINE), t("nav_paths", name=BASELINE)),
            returns_figure(curves, steps), status)


def nav_click(goal, choice, steps, seed, trained, evt: gr.SelectData):
    """A click on the field: the goal moves there and both policies adapt to it."""
    goal = to_world(*evt.index)
    return (goal, *nav_adapt(goal, choice, steps, seed, trained))


def nav_random(choice, steps, seed, trained):
    goal = nav.random_goal()
    return (goal, *nav_adapt(goal, choice, steps, seed, trained))


@friendly
def nav_train(iterations, seed):
    """Meta-train MAML from scratch, yielding (chart, status, trained model, model choice)."""
    iterations = whole(iterations, "Iterations", 10, nav.MAX_LIVE_ITERATIONS)
    seed = whole(seed if seed is not None else 0, "The seed", 0, 2**32 - 1)
    its, before, after = [], [], []
    for report in nav.meta_train_navigation(iterations, seed, every=max(5, iterations // 20)):
        if report.get("done"):
            status = t("nav_done", iterations=iterations)
            yield training_figure(its, before, after, iterations), status, report["model"], "the MAML you trained"
            return
        its.append(report["iteration"])
        before.append(report["return_before"])
        after.append(report["return_after"])
        status = t("nav_iteration", iteration=report["iteration"], iterations=iterations, seconds=report["seconds"],
                   before=before[-1], after=after[-1])
        yield training_figure(its, before, after, iterations), status, gr.skip(), gr.skip()


def policy_choices():
    """The Policy menu's choices, named in the visitor's language (on page load; the values stay)."""
    names = {"pretrained MAML": t("choice_pretrained"), "the MAML you trained": t("choice_trained")}
    return gr.update(choices=[(names.get(value, value), value) for value in CHOICES])


def build() -> None:
    """The tab's layout and wiring (inside a ``gr.Tab``)."""
    gr.Markdown(ui.NAVIGATION_INTRO)
    goal = gr.State(DEFAULT_GOAL)
    trained = gr.State(None, time_to_live=STATE_TTL)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            choice = gr.Radio(list(CHOICES), value="pretrained MAML", label=ui.LABELS["policy"], elem_id="nav-choice")
            steps = gr.Slider(0, nav.MAX_STEPS, value=3, step=1, label=ui.LABELS["inner_steps"], elem_id="nav-steps")
            seed = gr.Number(value=0, precision=0, minimum=0, label=ui.LABELS["episodes_seed"], elem_id="nav-seed")
            with gr.Row():
                random_btn = gr.Button(ui.LABELS["random_goal"], elem_id="nav-random")
                adapt_btn = gr.Button(ui.LABELS["adapt"], variant="primary", elem_id="nav-adapt")
            status = gr.Markdown(ui.NAV_HINT, elem_id="nav-status")
        with gr.Column(scale=3):
            with gr.Row():
                maml_img = gr.Image(field(DEFAULT_GOAL), label=ui.LABELS["nav_field"], interactive=False,
                                    buttons=[], elem_id="nav-field", height=SIZE, width=SIZE)
                base_img = gr.HTML(picture(field(DEFAULT_GOAL), f"{BASELINE}: the field before adapting"),
                                   label=ui.LABELS["nav_baseline"], elem_id="nav-baseline")
            chart = gr.Plot(label=ui.LABELS["nav_returns"], elem_id="nav-returns")
    gr.Markdown(ui.HEADINGS["nav_train"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            iterations = gr.Slider(20, 400, value=100, step=10, label=ui.LABELS["iterations"],
                                   elem_id="nav-iterations")
            train_seed = gr.Number(value=0, precision=0, minimum=0, label=ui.LABELS["training_seed"],
                                   elem_id="nav-train-seed")
            train_btn = gr.Button(ui.LABELS["train_maml"], variant="primary", elem_id="nav-train")
            train_status = gr.Markdown(elem_id="nav-train-status")
        with gr.Column(scale=3):
            train_plot = gr.Plot(label=ui.LABELS["meta_training_plot"], elem_id="nav-train-plot")
    gr.on(None, policy_choices, None, choice, api_visibility="private", queue=False)  # in the page's language
    outputs = [maml_img, base_img, chart, status]
    maml_img.select(nav_click, [goal, choice, steps, seed, trained], [goal, *outputs], api_visibility="private",
                    **COMPUTE)
    random_btn.click(nav_random, [choice, steps, seed, trained], [goal, *outputs], api_visibility="private", **COMPUTE)
    adapt_btn.click(nav_adapt, [goal, choice, steps, seed, trained], outputs, api_name="navigation_adapt", **COMPUTE)
    train_btn.click(nav_train, [iterations, train_seed], [train_plot, train_status, trained, choice],
                    api_name="navigation_train", **COMPUTE)
