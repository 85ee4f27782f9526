"""The Gradio web app of metademo: ``build_app()`` lays out the page, ``warm_up()`` loads the models.

    from metademo.ui import build_app
    build_app().queue(**QUEUE_OPTIONS).launch(**launch_options())

One module per tab (:mod:`~metademo.ui.classifier`, :mod:`~metademo.ui.compare`, :mod:`~metademo.ui.sine_tab`,
:mod:`~metademo.ui.learn`) holds its layout and its handlers, plain functions testable without a browser
(:mod:`metademo.ui.handlers` names them all). The handlers call :mod:`metademo.api`.
"""

from .gradio_import import skip_stub_regeneration

skip_stub_regeneration()  # before .app imports gradio: 1.3 to 1.9 s less cold start

from .app import MAX_SESSIONS, QUEUE_OPTIONS, build_app, launch_options, warm_up  # noqa: E402

__all__ = ["build_app", "launch_options", "warm_up", "QUEUE_OPTIONS", "MAX_SESSIONS"]
