"""The "Compare algorithms" tab: one episode of unseen characters through every algorithm.

The episode's drawings come from the API's gallery (:data:`metademo.api.GALLERY`); query accuracy after
each inner step, and the time taken, from :func:`metademo.api.compare_algorithms`.
"""

from __future__ import annotations

import gradio as gr
import numpy as np

from metademo import api

from . import plots
from .common import COMPUTE, MAX_CLASSES, MIN_CLASSES, checked, friendly, message_of, user_error, whole
from .i18n import t, ui
from .models import MODELS
from .text import ALGORITHMS

DRAWINGS = api.DRAWINGS

COMPARE_HEADERS = ["algorithm", "inner steps", "before adapting (step 0)", "after the last step",
                   "after its default steps", "time (ms)"]


def _episode_sizes(n_way, k_shot, queries):
    n = whole(n_way, "N-way", MIN_CLASSES, MAX_CLASSES)
    k = whole(k_shot, "K-shot", 1, DRAWINGS - 1)
    q = whole(queries, "Queries per class", 1, DRAWINGS - 1)
    if k + q > DRAWINGS:
        raise user_error(t("too_many_drawings", most=DRAWINGS, k=k, q=q))
    return n, k, q


def _episode_view(episode: dict):
    """The support images, one column per class (a gallery update), and a line describing the episode."""
    shown = []
    for shot in range(episode["k_shot"]):  # row by row: shot 1 of every class, then shot 2, ...
        for c, (name, js) in enumerate(zip(episode["characters"], episode["support"])):
            found = api.GALLERY.find(name)
            if found is not None and shot < len(js):
                source, i = found
                shown.append((source.drawing(i, js[shot]), t("support_caption", n=c + 1,
                                                             key=api.drawing_key(name, js[shot]))))
    kind = t("kind_synthetic" if episode["kind"] == "synthetic" else "kind_omniglot")
    info = t("episode_info", n=episode["n_way"], k=episode["k_shot"], kind=kind, q=episode["queries"],
             characters=", ".join(f"{c + 1}. `{n}`" for c, n in enumerate(episode["characters"])))
    return gr.update(value=shown, columns=episode["n_way"]), info


@friendly
def new_episode(n_way, k_shot, queries_per_class):
    """Draw a random episode of unseen characters; returns (episode, support images, description)."""
    n, k, q = _episode_sizes(n_way, k_shot, queries_per_class)
    source = api.GALLERY.current()
    rng = np.random.default_rng()
    chars = rng.choice(len(source), n, replace=False)
    support, query = [], []
    for _ in chars:
        perm = rng.permutation(DRAWINGS)
        support.append(sorted(int(j) for j in perm[:k]))
        query.append(sorted(int(j) for j in perm[k:k + q]))
    episode = {"kind": source.kind, "characters": [source.name(int(c)) for c in chars], "support": support,
               "query": query, "n_way": n, "k_shot": k, "queries": q}
    return (episode, *_episode_view(episode))


def _episode_matches(episode, n, k, q) -> bool:
    return (isinstance(episode, dict) and (episode.get("n_way"), episode.get("k_shot"), episode.get("queries"))
            == (n, k, q) and all(api.GALLERY.find(c) is not None for c in episode.get("characters", [])))


def _compare_table(results):
    rows = []
    for r in results:
        acc = r["accuracy"]
        d = r.get("default_step")
        rows.append([r["title"], r["steps"], f"{100 * acc[0]:.0f}%", f"{100 * acc[-1]:.0f}%",
                     "" if d is None else t("default_steps_cell", percent=100 * acc[d], steps=d),
                     round(r["time_ms"], 1)])
    headers = [t(k) for k in ("col_algorithm", "col_inner_steps", "col_before", "col_after_last",
                              "col_after_default", "col_time")]
    return {"headers": headers, "data": rows}


def empty_table() -> dict:
    """The results table before anything has run (the page's first value, in its language)."""
    return _compare_table([])


@friendly
def compare(episode, n_way, k_shot, queries_per_class, steps, progress=gr.Progress()):  # noqa: B008
    """Run one episode through every algorithm, yielding (chart, table, episode, support images, text)."""
    n, k, q = _episode_sizes(n_way, k_shot, queries_per_class)
    steps = checked(api.check_steps, steps, "Inner steps", text=True)
    if _episode_matches(episode, n, k, q):
        shown, info = gr.skip(), gr.skip()
    else:
        episode, shown, info = new_episode(n, k, q)
    images, labels, queries, answers = [], [], [], []
    for c, name in enumerate(episode["characters"]):
        source, i = api.GALLERY.find(name)
        images += [source.drawing(i, j) for j in episode["support"][c]]
        labels += [c] * len(episode["support"][c])
        queries += [source.drawing(i, j) for j in episode["query"][c]]
        answers += [c] * len(episode["query"][c])
    support, queries = api.prepare(images), api.prepare(queries)  # once, for every algorithm
    results = []
    for a, (title, name) in enumerate(ALGORITHMS):
        if progress is not None:
            progress((a, len(ALGORITHMS)), desc=t("adapting_algorithm", title=title), unit="algorithms")
        (r,) = api.compare_algorithms(support, labels, queries, answers, steps, [name], MODELS.get)
        if r.skipped:
            gr.Warning(t("skipped_algorithm", title=title, reason=message_of(r.skipped)))
            continue
        results.append({"name": r.name, "title": r.title, "colour": r.colour, "steps": len(r.accuracy) - 1,
                        "accuracy": r.accuracy, "default_step": r.default_step, "time_ms": 1000 * r.seconds})
        yield plots.compare_figure(results, n, steps), _compare_table(results), episode, shown, info
        shown, info = gr.skip(), gr.skip()
    if not results:
        raise user_error(t("nothing_to_compare"))


def build() -> None:
    """The tab's layout and wiring (inside a ``gr.Tab``)."""
    gr.Markdown(ui.COMPARE_INTRO)
    with gr.Row():
        n_way = gr.Slider(2, MAX_CLASSES, value=MAX_CLASSES, step=1, label=ui.LABELS["n_way"], info=ui.INFO["n_way"],
                          elem_id="n-way")
        k_shot = gr.Slider(1, 10, value=1, step=1, label=ui.LABELS["k_shot"], info=ui.INFO["k_shot"], elem_id="k-shot")
        q_per = gr.Slider(1, 10, value=5, step=1, label=ui.LABELS["queries_per_class"], info=ui.INFO["queries"],
                          elem_id="queries-per-class")
        c_steps = gr.Slider(0, 50, value=10, step=1, label=ui.LABELS["inner_steps"], info=ui.INFO["compare_steps"],
                            elem_id="compare-steps")
    with gr.Row():
        new_btn = gr.Button(ui.LABELS["new_episode"], elem_id="new-episode")
        run_btn = gr.Button(ui.LABELS["run_compare"], variant="primary", elem_id="run-compare")
    episode_info = gr.Markdown(ui.EPISODE_HINT,
                               elem_id="episode-info")
    support = gr.Gallery(label=ui.LABELS["support_set"], columns=10, height=260,
                         object_fit="contain", format="png", interactive=False, buttons=[], fit_columns=False,
                         allow_preview=False, elem_id="episode-support")
    compare_plot = gr.Plot(label=ui.LABELS["comparison"], elem_id="compare-plot")
    compare_table = gr.Dataframe(headers=COMPARE_HEADERS, interactive=False, label=ui.LABELS["results"],
                                 elem_id="compare-table")
    episode = gr.State(None)
    gr.on(None, empty_table, None, compare_table, api_visibility="private", queue=False)  # in the page's language
    new_btn.click(new_episode, [n_way, k_shot, q_per], [episode, support, episode_info], api_name="new_episode")
    run_btn.click(compare, [episode, n_way, k_shot, q_per, c_steps],
                  [compare_plot, compare_table, episode, support, episode_info], api_name="compare",
                  show_progress_on=[compare_plot], **COMPUTE)
