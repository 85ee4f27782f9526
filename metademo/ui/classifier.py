"""The "Few-shot classifier" tab's layout and wiring: capture examples, adapt, watch each inner step, classify,
save and share, watch the outer loop.

What each part does lives in a module of its own: :mod:`~metademo.ui.capture` (the class cards' and the
queries' buttons), :mod:`~metademo.ui.session` (Adapt, the step slider, the queries' predictions, the live
preview), :mod:`~metademo.ui.saving` (tasks and the adapted classifier as files) and
:mod:`~metademo.ui.outer_loop` (meta-training live). The browser side is ``static/classifier.js``
(:func:`head`); the events below call its helpers.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from metademo import api

from . import capture, text
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
    show_classes,
)
from .outer_loop import choose_algorithm, meta_train
from .saving import download_classifier, download_task, open_task
from .session import PRED_HEADERS, YOURS, adapt, classify_queries, live_preview_pad, live_preview_photo, step_chart
from .text import TITLES

#: The browser-side helpers (``static/classifier.js``), for the page's ``<head>``: inlined, so that the app
#: serves no file of its own.
SCRIPT = Path(__file__).with_name("static") / "classifier.js"


def head() -> str:
    js = SCRIPT.read_text(encoding="utf-8")
    if "</script" in js.lower():
        raise ValueError(f"{SCRIPT} must not contain '</script'")
    return f"<script>\n{js}</script>"


#: Events' ``js=`` hooks, calling the helpers of ``static/classifier.js``.
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
    prepared = gr.State({}, time_to_live=STATE_TTL)  # the visitor's uploads, each preprocessed once
    frame = gr.Textbox(visible=False, elem_id="webcam-frame")  # filled in the browser by GRAB
    pad_frame = gr.Textbox(visible=False, elem_id="pad-frame")  # filled in the browser by PAD_FRAME
    pad_preview = gr.Button("Preview the pad", visible="hidden", elem_id="pad-preview")  # pressed by classifier.js

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
            live_algo = gr.Radio([(TITLES[n], n) for n in api.LIVE_ALGORITHMS], value=api.LIVE_ALGORITHMS[0],
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
        upload.upload(capture.add_query_uploads if is_query else capture.add_uploads, [upload, gal, prepared],
                      [gal, prepared], api_name=f"add_uploads{suffix}", **HIDDEN_API)
        draw.click(capture.add_query_drawing if is_query else capture.add_drawing, [sketch, gal], gal,
                   api_name=f"add_drawing{suffix}", **HIDDEN_API).then(None, None, None, js=CLEAR_PAD)
        photo.click(capture.add_query_photo if is_query else capture.add_photo, [frame, webcam, gal], gal, js=GRAB,
                    api_name=f"add_photo{suffix}", **HIDDEN_API)
        if is_query:
            pick.click(capture.queries_from_gallery, [queries, n_classes, *galleries], queries,
                       api_name="queries_from_gallery", **HIDDEN_API)
        else:
            pick.click(capture.fill_from_gallery, [k_gallery, gal, *galleries], [gal, gallery_md],
                       api_name=f"fill_from_gallery{suffix}", **HIDDEN_API)
        gal.select(capture.select_index, None, sel, api_visibility="private", queue=False)
        gal.change(capture.clear_selection, None, sel, api_visibility="private", queue=False)
        remove.click(capture.remove_selected, [gal, sel], [gal, sel], api_name=f"remove_selected{suffix}",
                     **HIDDEN_API)
        clear.click(capture.clear_examples, None, [gal, sel], api_name=f"clear{suffix}", **HIDDEN_API)

    algorithm.change(choose_algorithm, [algorithm, trained], [steps, lr, algo_note], api_name="algorithm_defaults")
    adapt_btn.click(adapt, [algorithm, steps, lr, n_classes, *names, *galleries, queries, trained, prepared],
                    [adapt_plot, adapt_status, session, step, pred_plot, pred_table, embed_plot], api_name="adapt",
                    show_progress_on=[adapt_plot], **HIDDEN_API, **COMPUTE)
    step.input(step_chart, [session, step], [adapt_plot, pred_plot, pred_table, embed_plot], api_name="show_step",
                      trigger_mode="always_last", **HIDDEN_API, concurrency_id="view", concurrency_limit=4)
    for trigger in (queries.change, classify_btn.click):
        trigger(classify_queries, [session, queries, prepared], [adapt_plot, step, pred_plot, pred_table, embed_plot],
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
