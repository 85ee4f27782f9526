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
from .i18n import ui
from .outer_loop import choose_algorithm, meta_train
from .saving import download_classifier, download_task, open_task
from .session import (
    PRED_HEADERS,
    YOURS,
    adapt,
    classify_queries,
    empty_table,
    live_preview_pad,
    live_preview_photo,
    step_chart,
)
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
SAVE = "() => { if (window.metademoSave) window.metademoSave(); }"


def _example_gallery(label: str, elem_id: str, columns: int = 4) -> gr.Gallery:
    return gr.Gallery(label=label, elem_id=elem_id, columns=columns, height="auto", object_fit="contain",
                      format="png", interactive=False, allow_preview=False, buttons=[], type="filepath",
                      fit_columns=False, elem_classes="examples")


def _capture_buttons(prefix: str):
    with gr.Row(elem_classes="small-buttons"):  # one row that wraps (page.css)
        upload = gr.UploadButton(ui.LABELS["upload"], file_count="multiple", file_types=["image"], size="sm",
                                 elem_id=f"{prefix}-upload")
        draw = gr.Button(ui.LABELS["drawing"], size="sm", elem_id=f"{prefix}-draw")
        photo = gr.Button(ui.LABELS["photo"], size="sm", elem_id=f"{prefix}-photo")
        pick = gr.Button(ui.LABELS["gallery"], size="sm", elem_id=f"{prefix}-pick")
        remove = gr.Button(ui.LABELS["remove"], size="sm", variant="secondary", elem_id=f"{prefix}-remove")
        clear = gr.Button(ui.LABELS["clear"], size="sm", variant="secondary", elem_id=f"{prefix}-clear")
    return upload, draw, photo, pick, remove, clear


def build():
    """The tab's layout and wiring (inside a ``gr.Tab``). Returns what the page fills on load."""
    gr.Markdown(ui.CLASSIFIER_INTRO)
    gallery_md = gr.Markdown(text.gallery_notice("synthetic", "loading"), elem_id="gallery-source")
    session = gr.State(None, time_to_live=STATE_TTL)
    prepared = gr.State({}, time_to_live=STATE_TTL)  # the visitor's uploads, each preprocessed once
    frame = gr.Textbox(visible=False, elem_id="webcam-frame")  # filled in the browser by GRAB
    pad_frame = gr.Textbox(visible=False, elem_id="pad-frame")  # filled in the browser by PAD_FRAME
    # pressed by classifier.js
    pad_preview = gr.Button(ui.LABELS["pad_preview"], visible="hidden", elem_id="pad-preview")

    # The projector layout: capture and the class cards on the left, Adapt, the live preview and the curve on
    # the right (as Teachable Machine keeps classes, training and preview side by side); one column on a phone.
    with gr.Row(equal_height=False, elem_id="workbench"):
        with gr.Column(scale=3, min_width=320, elem_id="capture-and-classes"):
            gr.Markdown(ui.HEADINGS["capture"])
            with gr.Row(equal_height=False):
                with gr.Column(min_width=240):
                    sketch = gr.Sketchpad(label=ui.LABELS["pad"], type="numpy", image_mode="RGBA",
                                          canvas_size=(300, 300), layers=False, height=250, elem_id="sketchpad",
                                          brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"))
                    gr.Markdown(ui.SKETCH_HELP, elem_classes="help")
                with gr.Column(min_width=240):
                    webcam = gr.Image(label=ui.LABELS["webcam"], sources=["webcam"], type="numpy", height=250,
                                      elem_id="webcam", webcam_options=gr.WebcamOptions(mirror=False))
                    gr.Markdown(ui.WEBCAM_HELP, elem_classes="help")

            gr.Markdown(ui.HEADINGS["classes"])
            gr.Markdown(ui.CAPTURE_HELP, elem_classes="help")
            blocks, names, galleries, selections, buttons = [], [], [], [], []
            with gr.Row(equal_height=False):
                for i in range(MAX_CLASSES):
                    with gr.Column(visible=i < DEFAULT_CLASSES, min_width=220, elem_classes="class-block",
                                   elem_id=f"class-{i + 1}") as block:
                        names.append(gr.Textbox(value=f"class {i + 1}", label=ui.LABELS["class_name"].format(i + 1),
                                                max_lines=1, elem_id=f"class-{i + 1}-name"))
                        galleries.append(_example_gallery(ui.LABELS["class_examples"].format(i + 1),
                                                          f"class-{i + 1}-gallery"))
                        buttons.append(_capture_buttons(f"class-{i + 1}"))
                        selections.append(gr.State(None))
                        blocks.append(block)

            with gr.Row():  # below the cards, as "add a class" is in Teachable Machine
                n_classes = gr.Slider(MIN_CLASSES, MAX_CLASSES, value=DEFAULT_CLASSES, step=1,
                                      label=ui.LABELS["num_classes"], info=ui.INFO["num_classes"],
                                      elem_id="n-classes")
                k_gallery = gr.Slider(1, 20, value=5, step=1, label=ui.LABELS["k_gallery"],
                                      info=ui.INFO["k_gallery"], elem_id="k-gallery")

        with gr.Column(scale=2, min_width=320, elem_id="adapt-and-preview"):
            gr.Markdown(ui.HEADINGS["adapt"])
            algorithm = gr.Dropdown(choices=[*text.ALGORITHMS, YOURS], value="maml", label=ui.LABELS["algorithm"],
                                    info=ui.INFO["algorithm"], elem_id="algorithm")
            with gr.Row():
                steps = gr.Slider(0, MAX_STEPS, value=3, step=1, label=ui.LABELS["steps"], info=ui.INFO["steps"],
                                  elem_id="steps", min_width=160)
                lr = gr.Number(value=0.4, label=ui.LABELS["lr"], info=ui.INFO["lr"], minimum=0,
                               maximum=MAX_LR, step=0.05, elem_id="lr", min_width=160)
            adapt_btn = gr.Button(ui.LABELS["adapt"], variant="primary", elem_id="adapt")
            algo_note = gr.Markdown(text.ALGORITHM_NOTES["maml"], elem_id="algorithm-note", elem_classes="help")
            live = gr.Label(label=ui.LABELS["live"], num_top_classes=10, elem_id="live-preview")
            gr.Markdown(ui.LIVE_HELP, elem_classes="help")
            adapt_plot = gr.Plot(label=ui.LABELS["adapt_plot"], elem_id="adapt-plot")
            adapt_status = gr.Markdown(elem_id="adapt-status")
            step = gr.Slider(0, 1, value=0, step=1, label=ui.LABELS["step"], info=ui.INFO["step_shown"],
                             interactive=False, elem_id="step-slider")

    gr.Markdown(ui.HEADINGS["queries"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300, elem_classes="class-block", elem_id="queries-block"):
            queries = _example_gallery(ui.LABELS["queries"], "queries", columns=6)
            q_buttons = _capture_buttons("queries")
            classify_btn = gr.Button(ui.LABELS["classify"], size="sm", variant="primary", elem_id="classify")
            gr.Markdown(ui.QUERY_HELP, elem_classes="help")
        with gr.Column(scale=2, min_width=300):
            pred_plot = gr.Plot(label=ui.LABELS["pred_plot"], elem_id="predictions-plot")
            pred_table = gr.Dataframe(headers=PRED_HEADERS, interactive=False, label=ui.LABELS["pred_table"],
                                      elem_id="predictions-table")
    embed_plot = gr.Plot(label=ui.LABELS["embed_plot"], elem_id="embedding-plot")

    gr.Markdown(ui.HEADINGS["save"])
    with gr.Row(equal_height=False):
        with gr.Column(min_width=260):
            save_btn = gr.Button(ui.LABELS["download_task"], elem_id="download-task")
            open_btn = gr.UploadButton(ui.LABELS["open_task"], file_types=[".zip"], file_count="single",
                                       elem_id="open-task")
            gr.Markdown(ui.TASK_HELP, elem_classes="help")
        with gr.Column(min_width=260):
            export_btn = gr.Button(ui.LABELS["download_classifier"], elem_id="download-classifier")
            gr.Markdown(ui.EXPORT_HELP, elem_classes="help")
        with gr.Column(min_width=260):
            # The file of the last download: pressed by the page itself right after it is written (SAVE), so one
            # click of a Download button saves it.
            files = gr.DownloadButton(ui.LABELS["save_again"], visible="hidden", elem_id="download-file",
                                      size="sm")
            task_status = gr.Markdown(elem_id="task-status")

    gr.Markdown(ui.HEADINGS["outer"])
    gr.Markdown(ui.OUTER_LOOP_HELP, elem_classes="help")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            live_algo = gr.Radio([(TITLES[n], n) for n in api.LIVE_ALGORITHMS], value=api.LIVE_ALGORITHMS[0],
                                 label=ui.LABELS["live_algorithm"], info=ui.INFO["live_algorithm"],
                                 elem_id="live-algorithm")
            seconds = gr.Slider(20, 120, value=60, step=10, label=ui.LABELS["live_seconds"],
                                info=ui.INFO["live_seconds"], elem_id="live-seconds")
            train_btn = gr.Button(ui.LABELS["meta_train"], variant="primary", elem_id="meta-train")
        with gr.Column(scale=2, min_width=300):
            outer_plot = gr.Plot(label=ui.LABELS["outer_plot"], elem_id="outer-plot")
            outer_status = gr.Markdown(elem_id="outer-status")
    trained = gr.State(None, time_to_live=STATE_TTL)
    q_selection = gr.State(None)

    # --- wiring ---
    gr.on(None, empty_table, None, pred_table, api_visibility="private", queue=False)  # on load, in the page's language
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
                   **HIDDEN_API).success(None, None, None, js=SAVE)
    open_btn.upload(open_task, open_btn, [n_classes, *names, *galleries, queries, session, task_status],
                    api_name="open_task", **HIDDEN_API)
    train_btn.click(meta_train, [live_algo, seconds], [outer_plot, outer_status, trained, algorithm],
                    api_name="meta_train", show_progress_on=[outer_plot], **HIDDEN_API, **COMPUTE)
    export_btn.click(download_classifier, session, files, api_name="download_classifier",
                     **HIDDEN_API).success(None, None, None, js=SAVE)
    return algorithm, steps, lr, algo_note, gallery_md
