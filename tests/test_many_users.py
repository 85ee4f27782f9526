"""Many visitors at once on the real ``python app.py`` server: their sessions never mix and the
meta-parameters never change."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gradio_client import Client, handle_file

from metademo.ui.handlers import MAX_CLASSES

pytestmark = pytest.mark.slow


def _new_client(app_server) -> Client:
    return Client(app_server.url, verbose=False, ssl_verify=False)  # plain HTTP on localhost


def _run_together(work, n: int) -> list:
    """Run ``work(i)`` in n threads at once; return the errors they raised."""
    errors, start = [], threading.Barrier(n)

    def run(i):
        try:
            start.wait()
            work(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_visitors_at_once_see_only_their_own_classes(app_server, glyph_files):
    """Two sessions adapt at the same moment with different class names and examples, then classify.

    Each one's predictions name only its own classes and are right for its own examples, round after round.
    """
    chars = list(glyph_files)
    visitors = [
        {"names": ["alpha", "beta", "gamma"], "order": [0, 1, 2]},
        {"names": ["uno", "dos", "tres"], "order": [2, 0, 1]},  # the same characters, other names, other order
    ]
    for v in visitors:
        v["client"] = _new_client(app_server)
        v["galleries"] = [[{"image": handle_file(p), "caption": None} for p in glyph_files[chars[c]][:3]]
                          for c in v["order"]]
        v["queries"] = [{"image": handle_file(glyph_files[chars[c]][3]), "caption": None} for c in range(3)]
        # the right answer for the query of character c is the visitor's class holding character c
        v["expected"] = [v["names"][v["order"].index(c)] for c in range(3)]
    seen = {0: [], 1: []}

    def work(i):
        v = visitors[i]
        names = v["names"] + [""] * (MAX_CLASSES - 3)
        galleries = v["galleries"] + [[]] * (MAX_CLASSES - 3)
        for _ in range(3):
            v["client"].predict("protonet", 0, 0.4, 3, *names, *galleries, [], api_name="/adapt")
            table = v["client"].predict(v["queries"], api_name="/classify_queries")[3]  # chart, step, plot, table, map
            seen[i].append([row[1] for row in table["data"]])

    assert _run_together(work, 2) == []
    for i, v in enumerate(visitors):
        assert seen[i] == [v["expected"]] * 3, (v["names"], seen[i])


def test_200_adaptations_from_8_clients_leave_the_model_unchanged(app_server, glyph_files):
    """8 clients x 25 ``/classify`` calls, two different tasks taking turns: every answer equals the
    answer to the same task asked alone, and the meta-parameters' hash is the same before and after."""
    chars = list(glyph_files)
    tasks = []
    for names, order in ((["a", "b", "c"], [0, 1, 2]), (["x", "y"], [2, 1])):
        support = [handle_file(p) for c in order for p in glyph_files[chars[c]][:2]]
        labels = [n for n in names for _ in range(2)]
        queries = [handle_file(glyph_files[chars[c]][3]) for c in order]
        tasks.append((support, labels, queries))
    first = _new_client(app_server)
    before = first.predict("maml", api_name="/model_hash")
    alone = [first.predict("maml", *t, 2, None, api_name="/classify")["probabilities"] for t in tasks]
    answers: list[tuple[int, list]] = []
    lock = threading.Lock()

    def work(i):
        client = _new_client(app_server)
        for call in range(25):
            k = (i + call) % 2
            out = client.predict("maml", *tasks[k], 2, None, api_name="/classify")
            with lock:
                answers.append((k, out["probabilities"]))

    errors = _run_together(work, 8)
    assert errors == [] and len(answers) == 200
    for k, probs in answers:
        np.testing.assert_allclose(probs, alone[k], rtol=1e-5, atol=1e-7)
    assert first.predict("maml", api_name="/model_hash") == before
