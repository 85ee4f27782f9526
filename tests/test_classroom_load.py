"""A small class at once on the real ``python app.py`` server: 4 students build classes, adapt, add
queries and preview the pad for 5 seconds together, through the endpoints the page calls
(``benchmarks/classroom.py``; its full run, 30 students, gives the README's figures). No request fails
or is turned away, and the server's memory stays bounded. Timings are the benchmark's to measure."""

from __future__ import annotations

import pytest

from benchmarks.classroom import run_class

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
