"""The Gradio web app of metademo: ``build_app()`` lays out the page, ``warm_up()`` loads the models.

    from metademo.ui import build_app
    build_app().queue(**QUEUE_OPTIONS).launch(**launch_options())

The handlers (:mod:`metademo.ui.handlers`) are plain functions, testable without a browser.
"""

from .app import MAX_SESSIONS, QUEUE_OPTIONS, build_app, launch_options, warm_up

__all__ = ["build_app", "launch_options", "warm_up", "QUEUE_OPTIONS", "MAX_SESSIONS"]
