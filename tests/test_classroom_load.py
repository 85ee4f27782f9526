"""A small class at once on the real ``python app.py`` server: 4 students build classes, adapt, add
queries and preview the pad for 5 seconds together, through the endpoints the page calls
(``benchmarks/classroom.py``; its full run, 30 students, gives the README's figures). No request fails
or is turned away, and the server's memory stays bounded. Timings are the benchmark's to measure."""

from __future__ import annotations

import threading
import time

import pytest

from benchmarks.classroom import run_class
from metademo.ui.common import Computing

GROWTH_LIMIT_MB = 200  # a few sessions' adapted models and uploads; 30 students grow it by about as much


@pytest.mark.slow
def test_four_students_at_once_get_every_answer_and_memory_stays_bounded(app_server):
    rec, _, (before, peak, after) = run_class(app_server.url, students=4, seconds=5, pid=app_server.process.pid)
    assert rec.failures == [] and rec.turned_away == 0
    counts = {kind: len(t) for kind, t in rec.times.items()}
    assert counts["adapt"] == counts["classify_queries"] == counts["add_uploads_queries"] == 4
    assert 4 * 3 <= counts["add_uploads"] == counts["add_drawing"] <= 4 * 5  # 3 to 5 classes each
    assert counts["live_preview"] >= 4 * 5  # at least one frame a second each: every frame got its bars
    assert peak - before < GROWTH_LIMIT_MB, (before, peak, after)


def test_gradio_keeps_no_event_history_to_summarise():
    """Gradio's queue, as the app sets it up, keeps one event record and never summarises the records in a
    pandas table (its default: 10,000 kept, all summarised after every event, even with monitoring off)."""
    from metademo.ui import QUEUE_OPTIONS, build_app

    queue = build_app().queue(**QUEUE_OPTIONS)._queue
    assert queue.ANALYTICS_MAX_EVENTS == 1
    assert queue.ANAYLTICS_CACHE_FREQUENCY >= 10**9  # Gradio's spelling
    assert queue.compute_analytics_summary([{"function": "adapt", "status": "success", "process_time": 1.0}]) \
        == {"functions": {}}  # nothing computed


def test_a_running_model_job_holds_the_gate_until_it_ends():
    gate = Computing()
    assert gate.wait_idle(0) and gate.running == 0
    with gate:
        start = time.monotonic()
        assert not gate.wait_idle(0.2)  # a job runs: the caller waits out its timeout
        assert 0.15 < time.monotonic() - start < 2
    ended = threading.Event()

    def job():
        with gate:
            ended.wait(5)

    thread = threading.Thread(target=job)
    thread.start()
    while not gate.running:
        time.sleep(0.01)
    threading.Timer(0.3, ended.set).start()
    start = time.monotonic()
    assert gate.wait_idle(10)  # released when the job ends, not at the timeout
    assert 0.2 < time.monotonic() - start < 5
    thread.join()


def test_the_live_preview_gives_way_to_adaptations(monkeypatch):
    """While a model job (Adapt, classifying queries) runs, a preview frame waits for it, at most
    PREVIEW_YIELD seconds; adapting counts itself as running, and stops counting when it ends."""
    from metademo.ui import handlers as h
    from metademo.ui import session
    from tests.test_ui_handlers import adapt_args, classes, drawing

    names, gals = adapt_args(classes(3, 3), ["alpha", "beta", "gamma"])
    seen = []
    monkeypatch.setattr(session, "FRAME_PAUSE", 0)
    outs = []
    for out in h.adapt("maml", 3, 0.4, 3, None, *names, *gals, None):
        outs.append(out)
        seen.append(session.COMPUTING.running)
    state = outs[-1][2]
    assert len(seen) == 5 and set(seen) == {1}  # alone: a chart at each step (0 to 3), then the result
    assert session.COMPUTING.running == 0
    monkeypatch.setattr(session, "PREVIEW_YIELD", 0.3)
    with session.COMPUTING:
        start = time.monotonic()
        bars = h.live_preview(state, drawing())
        waited = time.monotonic() - start
    assert list(bars) == ["alpha", "beta", "gamma"]
    assert waited >= 0.3
