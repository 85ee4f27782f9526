"""The server forgets: an adapted model goes after its time to live, and sessions beyond the app's capacity go
with their memory (a real ``python app.py`` with a small capacity and a short time to live)."""

from __future__ import annotations

import threading
import time

import pytest

from benchmarks.appclient import PageClient, data_url, memory_mb
from benchmarks.soak import adapt_args

from .conftest import serve

pytestmark = pytest.mark.slow
CAPACITY, TTL = 10, 4  # sessions, seconds


@pytest.fixture(scope="module")
def server(pretrained_assets, tmp_path_factory):
    yield from serve(pretrained_assets, tmp_path_factory.mktemp("sessions"), METADEMO_MAX_SESSIONS=str(CAPACITY),
                     METADEMO_STATE_TTL=str(TTL))


@pytest.fixture(scope="module")
def task(glyph_files):
    chars = list(glyph_files)
    support = [p for c in chars for p in glyph_files[c][:3]]
    labels = [c for c in chars for _ in range(3)]
    return support, labels, [glyph_files[c][3] for c in chars]


def test_an_adapted_model_is_deleted_after_its_time_to_live(server, task):
    support, labels, _ = task
    visitor = PageClient(server.url)
    files = visitor.upload(support)
    visitor.call("adapt", *adapt_args(files, labels, n_classes=3))
    query = [{"image": files[0], "caption": None}]
    assert visitor.call("classify_queries", query)[3]["data"], "the model should answer right after adapting"
    time.sleep(TTL + 2.5)  # Gradio deletes expired state every second
    assert visitor.call("classify_queries", query)[3]["data"] == []  # "Press 'Adapt' first"


def test_memory_stays_bounded_over_many_new_sessions(server, task):
    """Each new session costs the server about 0.6 MB until it is dropped: 150 calls past the capacity would
    add about 90 MB if sessions were kept (Gradio's default keeps 10,000)."""
    support, labels, queries = task
    body = ([data_url(p) for p in support], labels, [data_url(p) for p in queries], "protonet", None, None)

    def calls(n):
        errors = []

        def run():
            client = PageClient(server.url, fresh_sessions=True)
            for _ in range(n // 2):
                try:
                    assert len(client.call("classify_images", *body)[0]["probabilities"]) == len(queries)
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(e)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []

    calls(3 * CAPACITY)  # warm-up: the session store is full, allocator pools are made
    before = memory_mb(server.process.pid)
    calls(150)
    growth = memory_mb(server.process.pid) - before
    print(f"\nresident memory growth over 150 new sessions: {growth:+.1f} MB")
    assert growth < 30
