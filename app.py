"""Start the metademo web app: ``python app.py``, then open http://127.0.0.1:7860.

Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio reads them itself; the
defaults are 127.0.0.1:7860). No share link, no analytics. The page is served at once; the models
and the gallery load in a background thread afterwards.
"""

import os

# Before gradio and torch are imported:
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry
# One torch thread per job: the queue runs two jobs at once on two cores, and these small tensors only
# get slower with more threads on a busy machine. METADEMO_TORCH_THREADS overrides it.
os.environ.setdefault("OMP_NUM_THREADS",
                      os.environ.get("METADEMO_TORCH_THREADS") or str(max(1, (os.cpu_count() or 2) // 2)))

from metademo.ui import MAX_SESSIONS, QUEUE_OPTIONS, build_app, launch_options, warm_up  # noqa: E402

demo = build_app()

if __name__ == "__main__":
    demo.queue(**QUEUE_OPTIONS).launch(
        share=False,
        max_file_size="10mb",
        show_error=False,  # only gr.Error messages reach the browser, never tracebacks
        enable_monitoring=False,
        ssr_mode=False,
        prevent_thread_lock=True,
        mcp_server=True,  # agents: the tools at /gradio_api/mcp/ (streamable HTTP), see the README
        state_session_capacity=MAX_SESSIONS,  # bounded memory: see metademo.ui.app.MAX_SESSIONS
        **launch_options(),
    )
    warm_up()  # after the server answers, so that loading never delays the first page
    demo.block_thread()
