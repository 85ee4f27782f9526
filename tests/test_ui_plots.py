"""The classifier's figures are built from plain dicts without plotly's per-property checks (for speed):
checking them changes nothing, and the predictions chart's grid is the one ``make_subplots`` makes."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from metademo.ui import plots


def checked(fig: go.Figure) -> dict:
    """The figure as plotly's checked constructor makes it (it raises on any invalid property)."""
    return json.loads(go.Figure(fig.to_dict()).to_json())


def as_json(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


def figures(seed: int):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 12)), int(rng.integers(2, 11))
    names = [f"class {i}" for i in range(c)]
    probs = rng.dirichlet(np.ones(c), n)
    probs[0] = 1 / c  # a tie
    truth = [None if rng.random() < 0.3 else int(rng.integers(c)) for _ in range(n)]
    correct = [None if t is None else bool(rng.random() < 0.5) for t in truth]
    yield plots.predictions_figure(rng.random((n, 28, 28)), probs, names, truth, correct)
    yield plots.predictions_figure(rng.random((n, 28, 28)), probs, names)
    labels = np.repeat(np.arange(c), 3)
    support, centres, queries = rng.normal(size=(3 * c, 2)), rng.normal(size=(c, 2)), rng.normal(size=(n, 2))
    predicted = [None if rng.random() < 0.2 else int(rng.integers(c)) for _ in range(n)]
    yield plots.embedding_figure(support, labels, names, centres, queries, predicted, "Embeddings after 3 steps",
                                 bounds=((-3.0, 3.0), (-2.0, 4.0)), correct=correct)
    yield plots.embedding_figure(support, labels, names, centres)
    history = [{"step": i, "loss": float(rng.random() * (1000 if i > 2 and seed % 2 else 2)),
                "accuracy": float(rng.random())} for i in range(6)]
    history[-1]["loss"] = float("nan")
    yield plots.adaptation_figure(history, 5, "MAML adapting to your classes", diverged_at=5, n_classes=c,
                                  query_accuracy=[(i, 0.5) for i in range(6)], selected=2)
    yield plots.adaptation_figure(history[:1], 0, "")
    yield plots.empty_figure("Press Adapt first.", 200)


@pytest.mark.parametrize("seed", range(8))
def test_checking_the_figures_changes_nothing(seed):
    for fig in figures(seed):
        assert as_json(fig) == checked(fig)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 30])
def test_the_predictions_grid_is_make_subplots_grid(n):
    probs = np.full((n, 4), 0.1)
    probs[:, 1] = 0.7
    fig = plots.predictions_figure(np.zeros((n, 28, 28)), probs, list("abcd"))
    total = fig.layout.height
    reference = make_subplots(rows=n, cols=2, column_widths=[0.12, 0.88], horizontal_spacing=0.03,
                              vertical_spacing=34 / total if n > 1 else 0)
    ours, theirs = as_json(fig)["layout"], json.loads(reference.to_json())["layout"]
    for key, axis in theirs.items():
        if key.startswith(("xaxis", "yaxis")):
            assert ours[key]["domain"] == axis["domain"] and ours[key]["anchor"] == axis["anchor"], key
    assert {k for k in ours if k.startswith(("xaxis", "yaxis"))} == {k for k in theirs if k.startswith(("xaxis",
                                                                                                        "yaxis"))}
    # each query's title sits on top of its row, as make_subplots puts subplot titles
    tops = [ours[f"yaxis{2 * i + 2}"]["domain"][1] for i in range(n)]
    assert [a["y"] for a in ours["annotations"]] == tops
    assert [t.xaxis for t in fig.data] == [("x" if k == 1 else f"x{k}") for k in range(1, 2 * n + 1)]
