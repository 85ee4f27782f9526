"""The real ``python app.py`` server on localhost, driven by gradio_client through its API endpoints."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file

from metademo.algorithms import REGISTRY

pytestmark = pytest.mark.slow
STARTUP_LIMIT = float(os.environ.get("METADEMO_STARTUP_LIMIT", "20"))  # s; a loose bound (goal 5 s: latency.py)


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server.url, verbose=False)


def test_starts_quickly_and_serves_the_page(app_server):
    import urllib.request

    print(f"\ncold start: {app_server.startup_seconds:.1f} s until the page answered")
    assert app_server.startup_seconds < STARTUP_LIMIT
    with urllib.request.urlopen(app_server.url, timeout=10) as r:
        page = r.read().decode()
    assert "metademo" in page


def test_the_page_is_built_without_importing_torch_or_rewriting_gradio_stubs():
    """Importing torch takes as long as everything else before the server answers: it waits for the
    first model, in the background loading after launch (metademo.lazy)."""
    import subprocess
    import sys

    script = ("import sys\nfrom metademo.ui import build_app\nbuild_app()\n"
              "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
              "from metademo.algorithms import REGISTRY\n"
              "REGISTRY['maml']().init_meta_params()\n"  # the first use imports it
              "print('torch' in sys.modules)\n"
              "import gradio.component_meta as meta\n"
              "print(meta.create_or_modify_pyi.__module__)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    # and without Gradio regenerating its type stubs (metademo.ui.gradio_import)
    assert out.stdout.split("\n")[:3] == ["[]", "True", "metademo.ui.gradio_import"]


def test_the_public_api_lists_the_main_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/classify", "/compare", "/new_episode", "/sine_adapt", "/sine_train", "/algorithm_defaults"} <= set(
        endpoints)
    params = [p["parameter_name"] for p in endpoints["/classify"]["parameters"]]
    assert params == ["algorithm", "support_files", "support_labels", "query_files", "steps", "lr"]


def test_classify_happy_path(client, glyph_files):
    support = glyph_files["char2"][:2] + glyph_files["char0"][:2] + glyph_files["char1"][:2]
    labels = ["gamma", "gamma", "alpha", "alpha", "beta", "beta"]
    queries = [glyph_files["char0"][3], glyph_files["char1"][3], glyph_files["char2"][3]]
    out = client.predict("maml", [handle_file(p) for p in support], labels, [handle_file(p) for p in queries], None,
                         api_name="/classify")
    assert out["classes"] == ["alpha", "beta", "gamma"]
    probs = np.array(out["probabilities"])
    assert probs.shape == (3, 3) and np.allclose(probs.sum(1), 1) and (probs >= 0).all()
    assert out["predictions"] == [out["classes"][i] for i in probs.argmax(1)]
    assert [h["step"] for h in out["history"]] == list(range(out["steps"] + 1)) and out["steps"] >= 1
    out = client.predict("protonet", [handle_file(p) for p in support], labels, [handle_file(queries[0])], 0,
                         api_name="/classify")
    assert out["history"] == [] and len(out["probabilities"]) == 1


def test_bad_input_gives_a_clear_error_and_the_server_keeps_serving(client, glyph_files, tmp_path):
    support = [handle_file(p) for p in glyph_files["char0"][:2] + glyph_files["char1"][:2]]
    labels = ["a", "a", "b", "b"]
    query = [handle_file(glyph_files["char0"][3])]
    not_image = tmp_path / "notes.txt"
    not_image.write_text("definitely not a picture")
    cases = [
        (("resnet", support, labels, query, None), "Unknown algorithm"),
        (("maml", support, labels[:3], query, None), "4 support images but 3 labels"),
        (("maml", support + [handle_file(str(not_image))], labels + ["c"], query, None), "Support file 5"),
        (("maml", support, labels, query, 500), "steps must be a whole number from 0 to 100"),
        (("maml", support, labels, [], None), "query_files: no files"),
    ]
    for args, message in cases:
        with pytest.raises(Exception, match=message) as e:
            client.predict(*args, api_name="/classify")
        assert "Traceback" not in str(e.value) and "/tmp/" not in str(e.value)
    out = client.predict("fomaml", support, labels, query, 2, api_name="/classify")
    assert out["classes"] == ["a", "b"] and out["steps"] == 2


def test_compare_runs_every_algorithm(client):
    episode_gallery, info = client.predict(3, 1, 2, api_name="/new_episode")  # a gallery update: one column per class
    assert len(episode_gallery["value"]) == 3 and episode_gallery["columns"] == 3 and "3-way 1-shot" in info
    chart, table, gallery, info = client.predict(3, 1, 2, 2, api_name="/compare")
    assert [row[0] for row in table["data"]] == [cls.title for cls in REGISTRY.values()]
    assert chart["type"] == "plotly"


def test_sine_adapt_and_defaults(client):
    chart, status = client.predict(2.5, 1.0, 5, 3, 0.01, 7, "pretrained MAML", api_name="/sine_adapt")
    assert chart["type"] == "plotly" and "Step 3 of 3" in status
    steps, lr, note = client.predict("protonet", api_name="/algorithm_defaults")
    assert steps["value"] == 0 and steps["interactive"] is False and "prototype" in note  # gr.update dicts
    with pytest.raises(Exception, match="Value 50 is greater than maximum value 5.0"):  # Gradio's own slider check
        client.predict(50, 1.0, 5, 3, 0.01, 7, "pretrained MAML", api_name="/sine_adapt")
    with pytest.raises(Exception, match=r"K \(the number of points\) must be a whole number from 1 to 50, got 2\.5"):
        client.predict(2.5, 1.0, 2.5, 3, 0.01, 7, "pretrained MAML", api_name="/sine_adapt")  # the API's check


def test_sine_train_streams_to_the_end(client):
    chart, status, choice = client.predict(500, 1, api_name="/sine_train")
    assert "Done: 500 iterations" in status and choice == "the MAML you trained"


def test_gallery_fill_endpoint(client):
    gallery, notice = client.predict(4, [], *([[]] * 10), api_name="/fill_from_gallery_1")
    assert len(gallery) == 4 and notice.startswith("Gallery:")
    captions = {item["caption"].rsplit(" #", 1)[0] for item in gallery}
    assert len(captions) == 1


def test_a_full_queue_says_busy_try_again_and_recovers(client, glyph_files, app_server):
    """Two long jobs run, the queue fills up (the test server's is small), and the next job is turned away."""
    from gradio_client.utils import Status

    jobs = [client.submit(6000, i, api_name="/sine_train") for i in range(2 + app_server.queue_size)]
    try:
        deadline = time.monotonic() + 60
        while any(j.status().code in (Status.STARTING, Status.JOINING_QUEUE) for j in jobs):
            assert time.monotonic() < deadline, [j.status().code for j in jobs]
            time.sleep(0.2)
        extra = client.submit(6000, 99, api_name="/sine_train")
        with pytest.raises(Exception, match="(?i)queue is full.*try again"):
            extra.result(timeout=60)
    finally:
        for j in jobs:
            j.cancel()
    deadline = time.monotonic() + 90  # the running ones stop at their next chart update
    while not all(j.done() for j in jobs) and time.monotonic() < deadline:
        time.sleep(0.5)
    support = [glyph_files["char0"][0], glyph_files["char1"][0]]
    out = client.predict("protonet", [handle_file(p) for p in support], ["a", "b"], [handle_file(support[0])], None,
                         api_name="/classify")
    assert out["classes"] == ["a", "b"]


def test_queue_is_configured_for_two_cores():
    from metademo.ui import QUEUE_OPTIONS

    assert QUEUE_OPTIONS["default_concurrency_limit"] == 2 and 0 < QUEUE_OPTIONS["max_size"] <= 64


def test_no_share_link_and_no_analytics(app_server):
    log = Path(app_server.log).read_text()
    assert "gradio.live" not in log
    source = (Path(__file__).resolve().parents[1] / "app.py").read_text()
    assert "GRADIO_ANALYTICS_ENABLED" in source and "share=False" in source
    assert "server_port" not in source and "server_name" not in source  # Gradio reads the env vars itself


@pytest.mark.parametrize("path", ["/etc/passwd", "../../README.md", "README.md", "%2e%2e/%2e%2e/etc/passwd"])
def test_files_outside_the_app_folders_are_never_served(app_server, path):
    import urllib.error
    import urllib.request

    for prefix in ("gradio_api/file=", "file="):
        try:
            with urllib.request.urlopen(app_server.url + prefix + path, timeout=10) as r:
                body = r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            assert e.code in (403, 404), e.code
            continue
        # Some routes answer 200 with the app's page instead of a 404: never with the file itself.
        assert "root:" not in body and "# metademo" not in body and "sdk_version" not in body


def test_the_pages_script_is_inlined_and_its_file_not_served(app_server):
    """static/classifier.js goes into the page's head as text: the app serves no folder of its own for it."""
    import json
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(app_server.url + "config", timeout=10) as r:
        config = json.loads(r.read().decode())
    assert "window.metademoPadFrame" in config["head"] and "window.metademoGrab" in config["head"]
    script = Path(__file__).resolve().parents[1] / "metademo" / "ui" / "static" / "classifier.js"
    for prefix in ("gradio_api/file=", "file="):
        try:
            with urllib.request.urlopen(app_server.url + prefix + str(script), timeout=10) as r:
                body = r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            assert e.code in (403, 404), e.code
            continue
        assert "metademoPadFrame" not in body

