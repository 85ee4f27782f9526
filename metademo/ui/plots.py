"""The app's plotly figures. Each function takes plain numbers and arrays and returns a Figure."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative

from metademo.api import top_class

from .i18n import t

PALETTE = qualitative.Plotly  # 10 distinct colours, one per class
TEMPLATE = "plotly_white"
# The default template, applied as each figure is made: naming it in every update_layout would copy and
# validate the whole template each time (about 30 ms a figure, most of an adaptation's time on the page).
pio.templates.default = TEMPLATE
MAX_QUERIES_SHOWN = 30


def _wrap(title: str, width: int = 36) -> str:
    """A long title on lines of about ``width`` characters, so that a phone's narrow chart shows it whole."""
    if not title or "<br>" in title or len(title) <= width:
        return title
    lines = [""]
    for word in title.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return "<br>".join(lines)


def _base_layout(title: str, height: int = 360) -> dict:
    # The legend below the chart, never over the title (as a phone's narrow chart would make them).
    return {"title": {"text": _wrap(title), "x": 0.01, "xanchor": "left"}, "height": height + 60,
            "margin": {"l": 50, "r": 20, "t": 80, "b": 100},
            "legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0, "xanchor": "left",
                       "x": 0}}


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(**_base_layout(title, height))
    return fig


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain dicts, its properties not checked one by one: plotly's checks took most of the time
    of the classifier's figures (made for every Adapt, classification and step), about 25 ms of the 30 ms
    of a predictions chart. ``tests/test_ui_plots.py`` checks that checking them would change nothing."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def empty_figure(message: str, height: int = 300) -> go.Figure:
    """A blank chart with a message in the middle (before anything has run)."""
    layout = {**_base_layout("", height), "height": height,
              "xaxis": {"visible": False}, "yaxis": {"visible": False},
              "annotations": [{"text": message, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                               "showarrow": False, "font": {"size": 15, "color": "#666"}}]}
    layout["margin"] = {**layout["margin"], "b": 40}
    return _figure([], layout)


def _finite(v) -> float | None:
    """The number, or None (a gap in the line) when it is missing or not finite (a diverged step)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def class_color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# --- few-shot classifier ---------------------------------------------------------------------------

def adaptation_figure(history: Sequence[dict], total_steps: int, title: str,
                      diverged_at: int | None = None, n_classes: int | None = None,
                      query_accuracy: Sequence[tuple[int, float]] | None = None,
                      selected: int | None = None) -> go.Figure:
    """Support loss (left axis) and support accuracy (right axis) after each inner step so far; with
    ``n_classes``, chance is marked: accuracy 1/N and the loss of a uniform guess, ln N. With
    ``query_accuracy`` ((step, accuracy) pairs, for queries whose answers are known) a third curve;
    ``selected`` marks the step shown below the chart.

    Built in one go (no make_subplots): it is redrawn after every step while the model adapts.
    """
    steps = [h["step"] for h in history]
    loss = [_finite(h["loss"]) for h in history]
    accuracy = [None if _finite(h["accuracy"]) is None else 100 * h["accuracy"] for h in history]
    top = max(total_steps, 1)
    finite = [v for v in loss if v is not None and v > 0]
    exploding = bool(finite) and max(finite) > 50 * finite[0]  # a log axis keeps the start readable
    layout = {
        "xaxis": {"title": {"text": t("inner_step")}, "range": [-0.3, top + 0.3], "dtick": max(1, round(top / 10))},
        "yaxis": {"title": {"text": t("loss_axis_log" if exploding else "loss_axis")},
                  "type": "log" if exploding else "linear", "rangemode": "tozero"},
        "yaxis2": {"title": {"text": t("accuracy_axis")}, "range": [-3, 103], "overlaying": "y", "side": "right",
                   "showgrid": False},
    }
    shapes, annotations = [], []
    if n_classes:
        chance = {"color": "#999", "dash": "dash", "width": 1}
        shapes.append({"type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": 100 / n_classes,
                       "y1": 100 / n_classes, "yref": "y2", "line": chance})
        annotations.append({"x": 1, "xref": "paper", "y": 100 / n_classes, "yref": "y2", "showarrow": False,
                            "text": t("chance", percent=100 / n_classes), "xanchor": "right", "yanchor": "bottom",
                            "font": {"color": "#777", "size": 11}})
        if not exploding:
            shapes.append({"type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": math.log(n_classes),
                           "y1": math.log(n_classes), "yref": "y", "line": {**chance, "color": "#e8a598"}})
            annotations.append({"x": 0, "xref": "paper", "y": math.log(n_classes), "yref": "y", "showarrow": False,
                                "text": t("uniform_loss", n=n_classes), "xanchor": "left",
                                "yanchor": "bottom", "font": {"color": "#c9705f", "size": 11}})
    if diverged_at is not None:
        shapes.append({"type": "line", "x0": diverged_at, "x1": diverged_at, "y0": 0, "y1": 1,
                       "yref": "paper", "line": {"color": "#d62728", "dash": "dash"}})
        annotations.append({"x": diverged_at, "y": 1, "yref": "paper", "text": t("diverged_mark"),
                            "showarrow": False, "xanchor": "right", "yanchor": "bottom",
                            "font": {"color": "#d62728"}})
    if selected is not None:
        shapes.append({"type": "rect", "x0": selected - 0.3, "x1": selected + 0.3, "y0": 0, "y1": 1,
                       "yref": "paper", "fillcolor": "#ffd43b", "opacity": 0.25, "line": {"width": 0}})
    layout.update({key: value for key, value in (("shapes", shapes), ("annotations", annotations)) if value})
    data = [{"type": "scatter", "x": steps, "y": loss, "name": t("support_loss"), "mode": "lines+markers",
             "line": {"color": "#EF553B", "width": 3}},
            {"type": "scatter", "x": steps, "y": accuracy, "name": t("support_accuracy"), "mode": "lines+markers",
             "yaxis": "y2", "line": {"color": "#636EFA", "width": 3, "dash": "dot"}}]
    if query_accuracy:
        data.append({"type": "scatter", "x": [s for s, _ in query_accuracy],
                     "y": [100 * a for _, a in query_accuracy], "name": t("query_accuracy"),
                     "mode": "lines+markers", "yaxis": "y2", "line": {"color": "#2f9e44", "width": 3}})
    return _figure(data, {**layout, **_base_layout(title)})


def map_bounds(record, margin: float = 0.08) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y ranges holding every point of every recorded step of an adaptation (the API's
    :class:`~metademo.api.AdaptationRecord`), so that the map's axes stay put while the slider moves."""
    parts = [record.support_map, record.centre_map]
    if record.query_map is not None:
        parts.append(record.query_map)
    pts = np.concatenate([np.asarray(p, dtype=float).reshape(-1, 2) for p in parts])
    pts = pts[np.isfinite(pts).all(1)]
    if not len(pts):
        return (-1.0, 1.0), (-1.0, 1.0)
    lo, hi = pts.min(0), pts.max(0)
    pad = margin * np.maximum(hi - lo, 1e-3)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def embedding_figure(support: np.ndarray, support_labels: Sequence[int], classes: Sequence[str],
                     prototypes: np.ndarray, queries: np.ndarray | None = None,
                     query_predictions: Sequence[int | None] | None = None, title: str = "",
                     centre_name: str = "prototype", bounds=None,
                     correct: Sequence[bool | None] | None = None) -> go.Figure:
    """Support embeddings (dots), class centres (stars) and queries (crosses), already on a 2-D map (the API's
    :class:`~metademo.api.AdaptationRecord`: axes shared by every step). ``bounds`` ((x0, x1), (y0, y1), see
    :func:`map_bounds`) fixes the axes; a query predicted as None (a tie) is grey; with ``correct``, each
    query's label says right or wrong in words."""
    sxy, pxy = np.asarray(support), np.asarray(prototypes)
    qxy = np.asarray(queries) if queries is not None and len(queries) else np.zeros((0, 2))
    labels = np.asarray(support_labels)
    data = []
    for c, name in enumerate(classes):
        color = class_color(c)
        pts = sxy[labels == c]
        data.append({"type": "scatter", "x": pts[:, 0], "y": pts[:, 1], "mode": "markers", "name": f"{name}",
                     "legendgroup": str(c), "marker": {"color": color, "size": 10, "opacity": 0.75}})
        data.append({"type": "scatter", "x": [pxy[c, 0]], "y": [pxy[c, 1]], "mode": "markers",
                     "name": f"{name}: {centre_name}", "legendgroup": str(c), "showlegend": False,
                     "marker": {"color": color, "size": 22, "symbol": "star",
                                "line": {"color": "black", "width": 1.5}}})
    if len(qxy):
        preds = list(query_predictions) if query_predictions is not None else [None] * len(qxy)
        colors = ["#444" if k is None else class_color(k) for k in preds]
        marks = list(correct) if correct is not None else [None] * len(qxy)
        texts = [f"Q{i + 1}" + ("" if i >= len(marks) or marks[i] is None else (" ✓" if marks[i] else " ✗"))
                 + (t("tie_mark") if preds[i] is None and query_predictions is not None else "")
                 for i in range(len(qxy))]
        data.append({"type": "scatter", "x": qxy[:, 0], "y": qxy[:, 1], "mode": "markers+text",
                     "name": t("queries_trace"), "text": texts, "textposition": "top center",
                     "marker": {"color": colors, "size": 13, "symbol": "x", "line": {"color": "black", "width": 1}}})
    xaxis = {"title": {"text": t("axis_1")}, "zeroline": False}
    yaxis = {"title": {"text": t("axis_2")}, "zeroline": False}
    if bounds is not None:
        (x0, x1), (y0, y1) = bounds
        xaxis.update(range=[x0, x1], autorange=False)
        yaxis.update(range=[y0, y1], autorange=False)
    else:
        yaxis.update(scaleanchor="x", scaleratio=1)
    title = title or f"Embeddings: examples (dots), {centre_name}s (stars), queries (crosses)"
    return _figure(data, {"xaxis": xaxis, "yaxis": yaxis, **_base_layout(title, 420)})


def predictions_figure(images: np.ndarray, probabilities: np.ndarray, classes: Sequence[str],
                       truth: Sequence[int | None] | None = None,
                       correct: Sequence[bool | None] | None = None) -> go.Figure:
    """One row per query: the image as the model sees it (28x28) and a probability bar per class.

    The most likely class is drawn dark; when the right answer is known, green means right, red wrong
    (``correct``, default: the most likely class is the answer; a tie is wrong in the API's record).
    """
    probabilities = np.asarray(probabilities)[:MAX_QUERIES_SHOWN]
    images = np.asarray(images)[: len(probabilities)]
    n, c = probabilities.shape
    truth = list(truth)[:n] if truth is not None else [None] * n
    if correct is None:
        correct = [None if t is None else t == int(p.argmax()) for p, t in zip(probabilities, truth)]
    correct = list(correct)[:n]
    row_px = max(70, 18 * c + 16)  # the bars
    gap_px = 34  # room for each query's title
    total = (row_px + gap_px) * n + 40
    # make_subplots(rows=n, cols=2, column_widths=[0.12, 0.88], horizontal_spacing=0.03, vertical_spacing=gap),
    # worked out as it does, without its per-property checks
    spacing, gap = 0.03, gap_px / total if n > 1 else 0
    widths = [(1.0 - spacing) * (w / float(sum((0.12, 0.88)))) for w in (0.12, 0.88)]
    height = (1.0 - gap * (n - 1)) / n
    columns = [[0.0, widths[0]], [widths[0] + spacing, widths[0] + spacing + widths[1]]]
    names = [str(x) for x in classes]
    data, annotations = [], []
    layout = _base_layout("", total)
    for i in range(n):
        below = n - 1 - i  # rows below this one
        bottom = sum([height] * below) + below * gap  # summed as make_subplots does, to the last bit
        rows = [min(max(bottom, 0.0), 1.0), min(max(bottom + height, 0.0), 1.0)]
        image, bars = 2 * i + 1, 2 * i + 2  # the axes' numbers, row by row
        rgb = np.repeat((255 * (1 - np.clip(images[i], 0, 1)))[..., None], 3, axis=-1).astype(np.uint8)
        data.append({"type": "image", "z": rgb, "hoverinfo": "skip", "xaxis": _axis("x", image),
                     "yaxis": _axis("y", image)})
        best = int(probabilities[i].argmax())
        colors = []
        for k in range(c):
            if k != best:
                colors.append("#c7d3e8")
            elif correct[i] is None:
                colors.append("#3b5bdb")
            else:
                colors.append("#2f9e44" if correct[i] else "#e03131")
        data.append({"type": "bar", "x": probabilities[i] * 100, "y": names, "orientation": "h",
                     "marker": {"color": colors},
                     "text": [f"{name} · {100 * p:.1f}%" for name, p in zip(names, probabilities[i])],
                     "textposition": "auto", "insidetextanchor": "start", "cliponaxis": False, "showlegend": False,
                     "hovertemplate": "%{y}: %{x:.1f}%<extra></extra>", "xaxis": _axis("x", bars),
                     "yaxis": _axis("y", bars)})
        layout[_axis("xaxis", image)] = {"anchor": _axis("y", image), "domain": columns[0], "visible": False}
        layout[_axis("yaxis", image)] = {"anchor": _axis("x", image), "domain": rows, "visible": False}
        layout[_axis("xaxis", bars)] = {"anchor": _axis("y", bars), "domain": columns[1], "range": [0, 118],
                                        "showticklabels": i == n - 1, "ticksuffix": "%"}
        # the class names are written on the bars: tick labels would run into the query's picture on a phone
        layout[_axis("yaxis", bars)] = {"anchor": _axis("x", bars), "domain": rows, "autorange": "reversed",
                                        "showticklabels": False}
        title = _row_title(i, probabilities[i], classes, truth[i], correct[i])
        if title:
            annotations.append({"text": title, "x": 0.12 + 0.03, "xanchor": "left", "xref": "paper", "y": rows[1],
                                "yanchor": "bottom", "yref": "paper", "showarrow": False, "font": {"size": 13}})
    layout.update(annotations=annotations, margin={"l": 10, "r": 30, "t": 34, "b": 30}, bargap=0.25, height=total)
    return _figure(data, layout)


def _axis(kind: str, k: int) -> str:
    """The name of subplot ``k``'s axis: "x", "x2"... (``kind`` "x" or "y") or "xaxis", "xaxis2"..."""
    return kind if k == 1 else f"{kind}{k}"


def pair_scores_figure(scores: np.ndarray, classes: Sequence[str], label: str, title: str) -> go.Figure:
    """A heat map of queries (rows) by classes (columns) of a score in [0, 1] (Relation Networks'
    relation scores), each cell written out."""
    scores = np.asarray(scores, dtype=float)[:MAX_QUERIES_SHOWN]
    n = len(scores)
    rows = [f"Q{i + 1}" for i in range(n)]
    fig = go.Figure(go.Heatmap(z=scores, x=[str(c) for c in classes], y=rows, zmin=0, zmax=1,
                               colorscale="Blues", colorbar={"title": {"text": label}},
                               text=[[f"{v:.2f}" for v in row] for row in scores], texttemplate="%{text}",
                               hovertemplate=f"%{{y}}, %{{x}}: {label} %{{z:.3f}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title_text=t("query"))
    fig.update_xaxes(title_text=t("class"), side="top")
    return _layout(fig, title, max(220, 34 * n + 140))


def _row_title(i: int, probs: np.ndarray, classes, truth: int | None, correct: bool | None) -> str:
    best, top = int(np.argmax(probs)), top_class(probs)
    shown = classes[best] if top is not None else t("tie")
    text = t("query_row", n=i + 1, shown=shown, percent=100 * probs[best])
    if truth is not None:
        text += " " + t("right") if correct else (" " + t("wrong") + ("" if top is None and truth == best else
                                                                    t("it_is", name=classes[truth])))
    return text


# --- comparison --------------------------------------------------------------------------------------

def compare_figure(results: Sequence[dict], n_way: int, steps: int) -> go.Figure:
    """Query accuracy against inner step, one line per algorithm (no inner loop: one point at step 0).

    Each result has ``title``, ``colour``, ``accuracy`` (a list, one value per step from 0) and
    optionally ``default_step`` (marked with a ring).
    """
    fig = go.Figure()
    for r in results:
        color = r.get("colour") or "#333"
        acc = [100 * a for a in r["accuracy"]]
        if len(acc) == 1:  # no inner loop: a point at step 0, and a faint line for reference
            fig.add_trace(go.Scatter(x=[0], y=acc, mode="markers", name=r["title"],
                                     marker={"color": color, "size": 14, "symbol": "diamond"}))
            fig.add_trace(go.Scatter(x=[0, max(steps, 1)], y=[acc[0]] * 2, mode="lines", showlegend=False,
                                     hoverinfo="skip", line={"color": color, "dash": "dot", "width": 1.5}))
            continue
        fig.add_trace(go.Scatter(x=list(range(len(acc))), y=acc, mode="lines+markers", name=r["title"],
                                 line={"color": color, "width": 3}, marker={"size": 6}))
        d = r.get("default_step")
        if d is not None and d < len(acc):
            fig.add_trace(go.Scatter(x=[d], y=[acc[d]], mode="markers", showlegend=False,
                                     hovertemplate=f"{r['title']}: default steps ({d})<extra></extra>",
                                     marker={"color": "rgba(0,0,0,0)", "size": 16,
                                             "line": {"color": color, "width": 2.5}}))
    fig.add_hline(y=100 / n_way, line={"color": "#999", "dash": "dash", "width": 1},
                  annotation_text=t("chance", percent=100 / n_way), annotation_position="bottom right")
    fig.update_xaxes(title_text=t("inner_step"), range=[-0.3, max(steps, 1) + 0.3],
                     dtick=max(1, round(max(steps, 1) / 10)))
    fig.update_yaxes(title_text=t("query_accuracy"), range=[0, 103])
    return _layout(fig, f"{n_way}-way episode: query accuracy after each inner step (rings: default steps)", 420)


# --- sine waves ---------------------------------------------------------------------------------------

def sine_figure(x_grid: np.ndarray, y_true: np.ndarray, x_points: np.ndarray, y_points: np.ndarray,
                curves: dict[str, Sequence[np.ndarray]], step: int, total_steps: int) -> go.Figure:
    """Side by side, one panel per model: the true wave, the K points and the fit after each step so far.

    Built in one go (no make_subplots): it is redrawn after every step.
    """
    names = list(curves)
    gap = 0.04
    width = (1 - gap * (len(names) - 1)) / len(names)
    x_grid, y_true = np.asarray(x_grid).ravel(), np.asarray(y_true).ravel()
    x_points, y_points = np.ravel(x_points), np.ravel(y_points)
    layout, traces, annotations = {}, [], []
    ys = [y_true, y_points]
    for col, name in enumerate(names, start=1):
        xa, ya = ("x", "y") if col == 1 else (f"x{col}", f"y{col}")
        left = (col - 1) * (width + gap)
        layout["xaxis" if col == 1 else f"xaxis{col}"] = {"domain": [left, left + width], "title": {"text": "x"},
                                                          "anchor": ya}
        shared = {} if col == 1 else {"matches": "y", "showticklabels": False}
        layout["yaxis" if col == 1 else f"yaxis{col}"] = {"anchor": xa, **shared}
        seq = curves[name]
        last = min(step, len(seq) - 1)
        annotations.append({"text": t("panel_title", name=name, step=last, steps=total_steps), "x": left + width / 2,
                            "y": 1.0, "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                            "showarrow": False, "font": {"size": 14}})
        traces.append(go.Scatter(x=x_grid, y=y_true, mode="lines", name=t("true_wave"), showlegend=col == 1,
                                 legendgroup="true", xaxis=xa, yaxis=ya,
                                 line={"color": "black", "dash": "dash", "width": 2}))
        for s in range(last + 1):
            current = s == last
            label = t("prediction") if current else t("before_adapting") if s == 0 else t("earlier_steps")
            y = np.asarray(seq[s]).ravel()
            ys.append(y)
            traces.append(go.Scatter(
                x=x_grid, y=y, mode="lines", name=label, legendgroup=label, xaxis=xa, yaxis=ya,
                showlegend=col == 1 and (current or s in (0, 1)), hoverinfo=None if current else "skip",
                line={"color": "#e8590c" if current else ("#adb5bd" if s == 0 else "rgba(232,89,12,0.22)"),
                      "width": 3.5 if current else 1.5}))
        traces.append(go.Scatter(x=x_points, y=y_points, mode="markers", name=t("k_points_trace", k=len(x_points)),
                                 showlegend=col == 1, legendgroup="points", xaxis=xa, yaxis=ya,
                                 marker={"color": "#1c7ed6", "size": 11, "line": {"color": "white", "width": 1}}))
    finite = np.concatenate([y[np.isfinite(y)] for y in ys])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-5.0, 5.0)
    lo, hi = max(lo, -12.0), min(hi, 12.0)
    pad = 0.1 * max(hi - lo, 1.0)
    layout["yaxis"]["range"] = [lo - pad, hi + pad]
    layout["annotations"] = annotations
    fig = go.Figure(data=traces, layout=layout)
    _layout(fig, "", 420)
    fig.update_layout(margin={"t": 80, "b": 40}, height=420,
                      legend={"yref": "paper", "y": 1.08, "xanchor": "right", "x": 1})
    return fig


def meta_loss_figure(iterations: Sequence[int], losses: Sequence[float], total: int) -> go.Figure:
    """The meta-loss (mean squared error after adaptation) during meta-training, as it comes."""
    fig = go.Figure(go.Scatter(x=list(iterations), y=list(losses), mode="lines", name=t("meta_loss"),
                               line={"color": "#7048e8", "width": 2}))
    fig.update_xaxes(title_text=t("meta_iteration"), range=[0, max(total, 1)])
    fig.update_yaxes(title_text=t("loss_after_adapting"), type="log")
    return _layout(fig, t("sine_training_title"), 320)


def outer_loop_figure(reports: Sequence[dict], title: str) -> go.Figure:
    """Validation accuracy (held-out tasks) and training accuracy against meta-training iteration."""
    its = [r["iteration"] for r in reports]
    fig = go.Figure([
        go.Scatter(x=its, y=[100 * r["val_accuracy"] for r in reports], mode="lines+markers",
                   name=t("validation_trace"),
                   line={"color": "#2f9e44", "width": 3}),
        go.Scatter(x=its[1:], y=[100 * r["train_accuracy"] for r in reports[1:]], mode="lines",
                   name=t("training_trace"), line={"color": "#adb5bd", "width": 2, "dash": "dot"}),
    ])
    fig.add_hline(y=20, line={"color": "#999", "dash": "dash", "width": 1}, annotation_text=t("chance", percent=20),
                  annotation_position="bottom right")
    fig.update_xaxes(title_text=t("outer_axis"), rangemode="tozero")
    fig.update_yaxes(title_text=t("outer_accuracy_axis"), range=[0, 102])
    return _layout(fig, title, 340)
