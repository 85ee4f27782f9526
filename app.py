"""Start the metademo web app: ``python app.py``, then open http://127.0.0.1:7860.

Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them itself; the
defaults are 127.0.0.1:7860). No share link, no analytics. The page is served at once; the models,
the gallery and torch load in a background thread.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry

from metademo.ui import QUEUE_OPTIONS, build_app, launch_options, warm_up  # noqa: E402

demo = build_app()

if __name__ == "__main__":
    demo.queue(**QUEUE_OPTIONS).launch(
        share=False,
        max_file_size="10mb",
        show_error=False,  # only gr.Error messages reach the browser, never tracebacks
        enable_monitoring=False,
        ssr_mode=False,
        prevent_thread_lock=True,
        **launch_options(),
    )
    warm_up()  # after the server answers, so that loading never delays the first page
    demo.block_thread()
