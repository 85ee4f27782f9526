"""The page: four tabs laid out with Gradio Blocks, wired to :mod:`metademo.ui.handlers`.

Nothing here computes anything; see the handlers. Building the page imports no torch (the models,
the gallery and torch itself load in the background, see :func:`warm_up`), so the server answers
within seconds of ``python app.py``.
"""

from __future__ import annotations

import logging
import math
import os
import threading

import gradio as gr

from . import handlers as h
from . import text, tools
from .gallery import PROVIDER
from .models import MODELS, get_sine_models

log = logging.getLogger("metademo.ui")

#: ``demo.queue(**QUEUE_OPTIONS)``: two jobs at a time fit two CPU cores; beyond ``max_size`` waiting
#: jobs (``METADEMO_MAX_QUEUE``, default 32), visitors are told the app is busy and to try again.
QUEUE_OPTIONS = {"default_concurrency_limit": 2, "max_size": int(os.environ.get("METADEMO_MAX_QUEUE") or 32)}
#: Gradio's drawing pad starts, and restarts after it is cleared, with no tool chosen ("select the draw tool
#: to start"). This script picks the brush whenever neither brush nor eraser is chosen. Purely cosmetic: if
#: the buttons are not found (another Gradio version, another language), it does nothing.
HEAD = """<script>
(() => {
    let off = 0;
    setInterval(() => {
        const pad = document.querySelector('#sketchpad');
        const brush = pad && pad.querySelector('button[aria-label="Brush"]');
        if (!brush || !pad.querySelector('canvas')) return;
        const eraser = pad.querySelector('button[aria-label="Erase"]');
        const chosen = brush.classList.contains('highlight') || (eraser && eraser.classList.contains('highlight'));
        off = chosen ? 0 : off + 1;
        if (off >= 3) { brush.click(); off = 0; }  // unchosen for a moment: the pad has finished (re)starting
    }, 200);
})();
</script>"""
#: ``demo.launch(state_session_capacity=MAX_SESSIONS)``: Gradio keeps every session it has seen (a visitor's page,
#: a program's client, each fresh API call) until this many newer ones have come; each costs the server about
#: 0.6 MB (its copy of the page's configuration, plus its gr.State values), so this bounds the memory they take
#: (``METADEMO_MAX_SESSIONS``, default 200, about 120 MB; Gradio's own default, 10,000, would allow 6 GB).
#: The least recently used session goes first; a visitor whose session went has to press Adapt again.
MAX_SESSIONS = int(os.environ.get("METADEMO_MAX_SESSIONS") or 200)
#: Seconds a visitor's adapted model (``gr.State``, about 0.5 MB) is kept after its last change
#: (``METADEMO_STATE_TTL``, default an hour); Gradio checks every second.
STATE_TTL = float(os.environ.get("METADEMO_STATE_TTL") or 3600)
COMPUTE = {"concurrency_id": "compute", "concurrency_limit": 2}  # every model-running event shares 2 slots
HIDDEN_API = {"api_visibility": "undocumented"}  # page plumbing: callable by clients, not in the API docs

CSS = """
.class-block {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 6px !important;}
#device-info {text-align: right; opacity: 0.85;}
#gallery-source p {font-size: 0.92em;}
.examples .caption-label, #episode-support .caption-label {display: none;}
.examples .grid-container, #episode-support .grid-container {
    grid-template-columns: repeat(var(--grid-cols), minmax(44px, 1fr)) !important;
    grid-template-rows: none !important; grid-auto-rows: auto !important; gap: 6px !important;}
.examples .thumbnail-lg, #episode-support .thumbnail-lg {aspect-ratio: 1 / 1; height: auto !important;}
.examples .grid-wrap, #episode-support .grid-wrap {padding-top: 34px !important;}
#episode-support .grid-container {max-width: calc(var(--grid-cols) * 140px);}
.small-buttons button {min-width: 0 !important;}
"""


def launch_options() -> dict:
    """Keyword arguments for ``demo.launch`` that style the page (Gradio 6 takes theme and css there)."""
    return {"theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="slate"), "css": CSS, "head": HEAD}


def warm_up() -> threading.Thread:
    """Load the gallery, torch, every pretrained classifier and the sine models in the background."""
    PROVIDER.start()

    def run():
        try:
            import metademo

            MODELS.preload(metademo.available_algorithms()).join()
            get_sine_models()
        except Exception:  # a missing model is reported again when someone uses it
            log.exception("warm-up failed")

    thread = threading.Thread(target=run, name="metademo-warm-up", daemon=True)
    thread.start()
    return thread


def _example_gallery(label: str, elem_id: str, columns: int = 5) -> gr.Gallery:
    return gr.Gallery(label=label, elem_id=elem_id, columns=columns, height=200, object_fit="contain",
                      format="png", interactive=False, allow_preview=False, buttons=[], type="filepath",
                      fit_columns=False, elem_classes="examples")


def _classifier_tab():
    gr.Markdown(text.CLASSIFIER_INTRO)
    gallery_md = gr.Markdown(text.gallery_notice("synthetic", "loading"), elem_id="gallery-source")
    with gr.Row():
        n_classes = gr.Slider(h.MIN_CLASSES, h.MAX_CLASSES, value=h.DEFAULT_CLASSES, step=1,
                              label="Number of classes", info=text.INFO["num_classes"], elem_id="n-classes")
        k_gallery = gr.Slider(1, 20, value=5, step=1, label="Drawings per gallery pick (K)",
                              info=text.INFO["k_gallery"], elem_id="k-gallery")
    blocks, names, galleries, selections, buttons = [], [], [], [], []
    with gr.Row(equal_height=False):
        for i in range(h.MAX_CLASSES):
            with gr.Column(visible=i < h.DEFAULT_CLASSES, min_width=330, elem_classes="class-block",
                           elem_id=f"class-{i + 1}") as block:
                names.append(gr.Textbox(value=f"class {i + 1}", label=f"Class {i + 1}: name", max_lines=1,
                                        elem_id=f"class-{i + 1}-name"))
                galleries.append(_example_gallery(f"Class {i + 1}: examples (click one to select it)",
                                                  f"class-{i + 1}-gallery"))
                with gr.Row(elem_classes="small-buttons"):
                    upload = gr.UploadButton("Upload", file_count="multiple", file_types=["image"], size="sm",
                                             elem_id=f"class-{i + 1}-upload")
                    pick = gr.Button("Pick from gallery", size="sm", elem_id=f"class-{i + 1}-pick")
                    draw = gr.Button("Add drawing", size="sm", elem_id=f"class-{i + 1}-draw")
                with gr.Row(elem_classes="small-buttons"):
                    remove = gr.Button("Remove selected", size="sm", variant="secondary",
                                       elem_id=f"class-{i + 1}-remove")
                    clear = gr.Button("Clear", size="sm", variant="secondary", elem_id=f"class-{i + 1}-clear")
                selections.append(gr.State(None))
                blocks.append(block)
                buttons.append((upload, pick, draw, remove, clear))

    gr.Markdown("### Draw, then adapt")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            sketch = gr.Sketchpad(label="Drawing pad", type="numpy", image_mode="RGBA", canvas_size=(300, 300),
                                  layers=False, height=380, elem_id="sketchpad",
                                  brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"))
            gr.Markdown(text.SKETCH_HELP)
        with gr.Column(scale=1, min_width=260):
            algorithm = gr.Dropdown(choices=text.ALGORITHMS, value="maml", label="Algorithm",
                                    info=text.INFO["algorithm"], elem_id="algorithm")
            steps = gr.Slider(0, h.MAX_STEPS, value=3, step=1, label="Inner steps", info=text.INFO["steps"],
                              elem_id="steps")
            lr = gr.Number(value=0.4, label="Inner learning rate", info=text.INFO["lr"], minimum=0,
                           maximum=h.MAX_LR, step=0.05, elem_id="lr")
            adapt_btn = gr.Button("Adapt", variant="primary", elem_id="adapt")
            algo_note = gr.Markdown(text.ALGORITHM_NOTES["maml"], elem_id="algorithm-note")
        with gr.Column(scale=2):
            adapt_plot = gr.Plot(label="Adaptation", elem_id="adapt-plot")
            adapt_status = gr.Markdown(elem_id="adapt-status")

    gr.Markdown("### Queries: what does the adapted model think these are?")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            queries = _example_gallery("Queries (click one to select it)", "queries", columns=6)
            with gr.Row(elem_classes="small-buttons"):
                q_upload = gr.UploadButton("Upload", file_count="multiple", file_types=["image"], size="sm",
                                           elem_id="queries-upload")
                q_pick = gr.Button("From gallery", size="sm", elem_id="queries-pick")
                q_draw = gr.Button("Add drawing", size="sm", elem_id="queries-draw")
            with gr.Row(elem_classes="small-buttons"):
                q_remove = gr.Button("Remove selected", size="sm", variant="secondary", elem_id="queries-remove")
                q_clear = gr.Button("Clear", size="sm", variant="secondary", elem_id="queries-clear")
                classify_btn = gr.Button("Classify", size="sm", variant="primary", elem_id="classify")
            gr.Markdown("*From gallery* adds a new drawing of each gallery character in your classes, so the "
                        "right answer is known (green = right, red = wrong).")
        with gr.Column(scale=2):
            pred_plot = gr.Plot(label="Predictions", elem_id="predictions-plot")
            pred_table = gr.Dataframe(headers=h.PRED_HEADERS, interactive=False, label="Predictions (table)",
                                      elem_id="predictions-table")
    q_selection = gr.State(None)
    fitted = gr.State(None, time_to_live=STATE_TTL)

    # --- wiring ---
    n_classes.change(h.show_classes, n_classes, blocks, api_name="show_classes", queue=False, **HIDDEN_API)
    for i, (upload, pick, draw, remove, clear) in enumerate(buttons):
        gal, sel, n = galleries[i], selections[i], i + 1
        upload.upload(h.add_uploads, [upload, gal], gal, api_name=f"add_uploads_{n}", **HIDDEN_API)
        pick.click(h.fill_from_gallery, [k_gallery, gal, *galleries], [gal, gallery_md],
                   api_name=f"fill_from_gallery_{n}", **HIDDEN_API)
        draw.click(h.add_drawing, [sketch, gal], gal, api_name=f"add_drawing_{n}", **HIDDEN_API)
        gal.select(h.select_index, None, sel, api_visibility="private", queue=False)
        gal.change(h.clear_selection, None, sel, api_visibility="private", queue=False)
        remove.click(h.remove_selected, [gal, sel], [gal, sel], api_name=f"remove_selected_{n}", **HIDDEN_API)
        clear.click(h.clear_examples, None, [gal, sel], api_name=f"clear_{n}", **HIDDEN_API)

    algorithm.change(h.algorithm_defaults, algorithm, [steps, lr, algo_note], api_name="algorithm_defaults")
    adapt_btn.click(h.adapt, [algorithm, steps, lr, n_classes, *names, *galleries, queries],
                    [adapt_plot, adapt_status, fitted, pred_plot, pred_table], api_name="adapt",
                    show_progress_on=[adapt_plot], **HIDDEN_API, **COMPUTE)

    q_upload.upload(h.add_query_uploads, [q_upload, queries], queries, api_name="add_query_uploads", **HIDDEN_API)
    q_pick.click(h.queries_from_gallery, [queries, n_classes, *galleries], queries, api_name="queries_from_gallery",
                 **HIDDEN_API)
    q_draw.click(h.add_query_drawing, [sketch, queries], queries, api_name="add_query_drawing", **HIDDEN_API)
    queries.select(h.select_index, None, q_selection, api_visibility="private", queue=False)
    q_remove.click(h.remove_selected, [queries, q_selection], [queries, q_selection], api_name="remove_query",
                   **HIDDEN_API)
    q_clear.click(h.clear_examples, None, [queries, q_selection], api_name="clear_queries", **HIDDEN_API)
    for trigger in (queries.change, classify_btn.click):
        trigger(h.classify_queries, [fitted, queries], [pred_plot, pred_table], api_name="classify_queries",
                **HIDDEN_API, **COMPUTE)
    queries.change(h.clear_selection, None, q_selection, api_visibility="private", queue=False)
    return algorithm, steps, lr, algo_note, gallery_md


def _compare_tab():
    gr.Markdown(text.COMPARE_INTRO)
    with gr.Row():
        n_way = gr.Slider(2, h.MAX_CLASSES, value=5, step=1, label="N-way", info=text.INFO["n_way"], elem_id="n-way")
        k_shot = gr.Slider(1, 10, value=1, step=1, label="K-shot", info=text.INFO["k_shot"], elem_id="k-shot")
        q_per = gr.Slider(1, 10, value=5, step=1, label="Queries per class", info=text.INFO["queries"],
                          elem_id="queries-per-class")
        c_steps = gr.Slider(0, 50, value=10, step=1, label="Inner steps", info=text.INFO["compare_steps"],
                            elem_id="compare-steps")
    with gr.Row():
        new_btn = gr.Button("New episode", elem_id="new-episode")
        run_btn = gr.Button("Run every algorithm on this episode", variant="primary", elem_id="run-compare")
    episode_info = gr.Markdown("Press *New episode* to draw one (or *Run*, which draws one if needed).",
                               elem_id="episode-info")
    support = gr.Gallery(label="Support set (the labelled examples, one column per class)", columns=10, height=260,
                         object_fit="contain", format="png", interactive=False, buttons=[], fit_columns=False,
                         allow_preview=False, elem_id="episode-support")
    compare_plot = gr.Plot(label="Comparison", elem_id="compare-plot")
    compare_table = gr.Dataframe(headers=h.COMPARE_HEADERS, interactive=False, label="Results (query accuracy)",
                                 elem_id="compare-table")
    episode = gr.State(None)
    new_btn.click(h.new_episode, [n_way, k_shot, q_per], [episode, support, episode_info], api_name="new_episode")
    run_btn.click(h.compare, [episode, n_way, k_shot, q_per, c_steps],
                  [compare_plot, compare_table, episode, support, episode_info], api_name="compare",
                  show_progress_on=[compare_plot], **COMPUTE)


def _sine_tab():
    gr.Markdown(text.SINE_INTRO)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            amplitude = gr.Slider(0.1, 5.0, value=3.0, step=0.1, label="Amplitude", info=text.INFO["amplitude"],
                                  elem_id="amplitude")
            phase = gr.Slider(0.0, round(math.pi, 2), value=1.0, step=0.01, label="Phase",
                              info=text.INFO["phase"], elem_id="phase")
            k_points = gr.Slider(1, 50, value=10, step=1, label="K points", info=text.INFO["k_points"],
                                 elem_id="k-points")
            sine_steps = gr.Slider(0, 50, value=10, step=1, label="Steps", info=text.INFO["sine_steps"],
                                   elem_id="sine-steps")
            sine_lr = gr.Number(value=0.01, label="Learning rate", info=text.INFO["sine_lr"], minimum=0,
                                maximum=1, step=0.005, elem_id="sine-lr")
            seed = gr.Number(value=0, precision=0, label="Seed of the points", minimum=0, elem_id="sine-seed")
            choice = gr.Radio(list(h.SINE_CHOICES), value=h.SINE_CHOICES[0], label="MAML model",
                              elem_id="maml-choice")
            with gr.Row():
                points_btn = gr.Button("New points", elem_id="new-points")
                sine_btn = gr.Button("Adapt", variant="primary", elem_id="sine-adapt")
        with gr.Column(scale=2):
            sine_plot = gr.Plot(label="Sine wave", elem_id="sine-plot")
            sine_status = gr.Markdown(elem_id="sine-status")
    gr.Markdown("### Meta-train MAML yourself")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            iterations = gr.Slider(500, 6000, value=2000, step=500, label="Meta-training iterations",
                                   info=text.INFO["iterations"], elem_id="iterations")
            train_seed = gr.Number(value=0, precision=0, label="Training seed", minimum=0, elem_id="train-seed")
            train_btn = gr.Button("Meta-train MAML", variant="primary", elem_id="sine-train")
            train_status = gr.Markdown(text.SINE_TRAIN_HELP, elem_id="train-status")
        with gr.Column(scale=2):
            train_plot = gr.Plot(label="Meta-training", elem_id="train-plot")
    trained = gr.State(None, time_to_live=STATE_TTL)
    inputs = [amplitude, phase, k_points, sine_steps, sine_lr, seed, choice, trained]
    points_btn.click(h.new_seed, None, seed, api_name="new_seed", queue=False, **HIDDEN_API).then(
        h.sine_adapt, inputs, [sine_plot, sine_status], api_name="sine_adapt_new_points", api_visibility="private",
        **COMPUTE)
    sine_btn.click(h.sine_adapt, inputs, [sine_plot, sine_status], api_name="sine_adapt",
                   show_progress_on=[sine_plot], **COMPUTE)
    train_btn.click(h.sine_train, [iterations, train_seed], [train_plot, train_status, trained, choice],
                    api_name="sine_train", show_progress_on=[train_plot], **COMPUTE)


def _learn_tab():
    gr.Markdown(text.LEARN)
    accuracy = gr.Markdown(text.accuracy_markdown(), elem_id="accuracy")
    gr.Markdown(text.API_HELP.replace("{url}", "http://127.0.0.1:7860/"))
    with gr.Accordion("Try /classify here", open=False):
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
                go = gr.Button("Classify", variant="primary", elem_id="api-go")
            with gr.Column():
                result = gr.JSON(label="result", elem_id="api-result")
    gr.api(h.model_hash, api_name="model_hash", **HIDDEN_API)
    go.click(h.labels_from_text, labels_text, labels, api_name="parse_labels", **HIDDEN_API).then(
        h.classify, [algorithm, support, labels, query_files, steps, lr], result, api_name="classify", **COMPUTE)
    return accuracy


def build_app() -> gr.Blocks:
    """The whole app (not launched). ``app.py`` queues and launches it; tests may inspect it."""
    with gr.Blocks(title="metademo: meta-learning, live", analytics_enabled=False,
                   delete_cache=(3600, 7200)) as demo:
        with gr.Row():
            with gr.Column(scale=4):
                gr.Markdown(text.HEADER)
            with gr.Column(scale=1, min_width=220):
                device = gr.Markdown("Models run on: …", elem_id="device-info")
        with gr.Tabs():
            with gr.Tab("Few-shot classifier", id="classifier"):
                algorithm, steps, lr, algo_note, gallery_md = _classifier_tab()
            with gr.Tab("Compare algorithms", id="compare"):
                _compare_tab()
            with gr.Tab("Sine-wave regression (classroom)", id="sine"):
                _sine_tab()
            with gr.Tab("Learn", id="learn"):
                accuracy = _learn_tab()
        # For programs and agents (and the MCP tool): the whole task in one JSON request, images as data URLs.
        gr.api(tools.classify_images, api_name="classify_images", **COMPUTE)
        demo.load(h.page_info, None, [device, gallery_md, accuracy], api_name="page_info", **HIDDEN_API)
        demo.load(h.algorithm_defaults, algorithm, [steps, lr, algo_note], api_visibility="private")
    return demo
