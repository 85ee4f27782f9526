"""The page: four tabs, one module each (:mod:`~metademo.ui.classifier`, :mod:`~metademo.ui.compare`,
:mod:`~metademo.ui.sine_tab`, :mod:`~metademo.ui.learn`), each with its layout and its handlers.

Nothing here computes anything. The models and the gallery load in the background (see
:func:`warm_up`), so the server answers within seconds of ``python app.py``.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import gradio as gr

from metademo import api

from . import classifier, compare, learn, navigation_tab, sine_tab, tools
from .common import COMPUTE, HIDDEN_API, MAX_SESSIONS, STATE_TTL, algorithm_defaults, page_info  # noqa: F401
from .i18n import I18N, ui
from .models import MODELS, get_sine_models
from .outer_loop import algorithm_choices

log = logging.getLogger("metademo.ui")

#: ``demo.queue(**QUEUE_OPTIONS)``: two jobs at a time fit two CPU cores; beyond ``max_size`` waiting
#: jobs (``METADEMO_MAX_QUEUE``, default 32), visitors are told the app is busy and to try again.
QUEUE_OPTIONS = {"default_concurrency_limit": 2, "max_size": int(os.environ.get("METADEMO_MAX_QUEUE") or 32)}
#: Gradio keeps a record of every event (up to 10,000) for its monitoring dashboard and, after each event,
#: summarises all of them in a pandas table, even with monitoring off (as here): with a class sending
#: preview frames, a fifth of the server's time, growing with every event. One record, never summarised
#: (Gradio reads these when the queue starts; set them before to choose otherwise).
GRADIO_QUEUE_ENV = {"GRADIO_ANALYTICS_MAX_EVENTS": "1", "GRADIO_ANALYTICS_CACHE_FREQUENCY": str(10**9)}
for _name, _value in GRADIO_QUEUE_ENV.items():
    os.environ.setdefault(_name, _value)
#: The page's styles (``static/page.css``), inlined like the script.
CSS = (Path(__file__).with_name("static") / "page.css").read_text(encoding="utf-8")


def launch_options() -> dict:
    """Keyword arguments for ``demo.launch`` that style the page (Gradio 6 takes theme and css there) and
    translate it (``i18n``: the page's texts in every language, see :mod:`metademo.ui.i18n`)."""
    return {"theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="slate"), "css": CSS,
            "head": classifier.head(), "i18n": I18N}


def warm_up() -> threading.Thread:
    """Load the gallery, torch, the classifiers and the sine models, in the background."""
    api.GALLERY.start()

    def run():
        try:
            MODELS.preload(api.available_algorithms()).join()
            get_sine_models()
            api.warm_up()
        except Exception:  # a missing model is reported again when someone uses it
            log.exception("warm-up failed")

    thread = threading.Thread(target=run, name="metademo-warm-up", daemon=True)
    thread.start()
    return thread


def build_app() -> gr.Blocks:
    """The whole app (not launched). ``app.py`` queues and launches it; tests may inspect it."""
    with gr.Blocks(title="metademo: meta-learning, live", analytics_enabled=False,
                   delete_cache=(3600, 7200)) as demo:
        with gr.Row():
            with gr.Column(scale=4):
                gr.Markdown(ui.HEADER)
            with gr.Column(scale=1, min_width=220):
                device = gr.Markdown("Models run on: …", elem_id="device-info")
        with gr.Tabs():
            with gr.Tab(ui.TABS["classifier"], id="classifier"):
                algorithm, steps, lr, algo_note, gallery_md = classifier.build()
            with gr.Tab(ui.TABS["compare"], id="compare"):
                compare.build()
            with gr.Tab(ui.TABS["sine"], id="sine"):
                sine_tab.build()
            with gr.Tab(ui.TABS["navigation"], id="navigation"):
                navigation_tab.build()
            with gr.Tab(ui.TABS["learn"], id="learn"):
                accuracy = learn.build()
        # For programs and agents (and the MCP tool): the whole task in one JSON request, images as data URLs.
        gr.api(tools.classify_images, api_name="classify_images", **COMPUTE)
        demo.load(page_info, None, [device, gallery_md, accuracy], api_name="page_info", **HIDDEN_API)
        demo.load(algorithm_defaults, algorithm, [steps, lr, algo_note], api_visibility="private")
        demo.load(algorithm_choices, None, algorithm, api_visibility="private", queue=False)  # in the page's language
    return demo
