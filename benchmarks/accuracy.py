"""Accuracy of the shipped checkpoints on the Omniglot evaluation alphabets, beside the published numbers.

    python benchmarks/accuracy.py [--episodes 1000] [--algorithms maml,protonet] [--settings 5w1s,20w5s]
    python benchmarks/accuracy.py --quick    # a smoke test in seconds, into a temporary folder

Writes ``docs/accuracy.json`` (every figure, merged with earlier runs so algorithms can be evaluated
one at a time), ``docs/accuracy.md`` (the table the README and the app show) and
``docs/time_to_accuracy.png`` (validation accuracy against training wall time, from each checkpoint's
validation log). Every number is the mean over seeded episodes (15 queries per class) with its 95%
confidence interval; the same command reproduces it (``python -m metademo.evaluate`` gives one cell).
``--quick`` is a smoke test: 3 episodes of 5-way 1-shot (unless asked otherwise) drawn from the first 40
characters only (the metric learners embed the whole pool for every setting), 1 of the Lake runs, and the
same three files written into a new temporary folder, fresh rather than merged; ``docs/`` and the README
stay as they are. It runs one torch thread unless ``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from metademo.algorithms import REGISTRY  # noqa: E402
from metademo.api import algorithm_info, weights_path  # noqa: E402
from metademo.checkpoints import load_checkpoint  # noqa: E402
from metademo.data.omniglot import load_lake_runs, load_split  # noqa: E402
from metademo.training.evaluation import evaluate_episodes, evaluate_lake_runs  # noqa: E402

DOCS = ROOT / "docs"
ALGORITHMS = list(REGISTRY)
TITLES = {name: cls.title for name, cls in REGISTRY.items()}
SETTINGS = {"5w1s": (5, 1), "5w5s": (5, 5), "20w1s": (20, 1), "20w5s": (20, 5)}
QUICK_CHARACTERS, QUICK_LAKE_RUNS = 40, 1  # --quick: the first characters of the pool, the first Lake runs


def evaluate(args) -> dict:
    path = Path(args.json)
    results = json.loads(path.read_text()) if path.exists() else {}
    pool = load_split("test", args.data_root)
    runs = load_lake_runs(args.data_root)
    if args.quick:
        pool, runs = pool[:QUICK_CHARACTERS], runs[:QUICK_LAKE_RUNS]
        print(f"quick: the first {len(pool)} characters of the pool, the first {len(runs)} of the Lake runs",
              flush=True)
    for name in args.algorithms:
        ckpt = load_checkpoint(weights_path(name))
        learner, meta = ckpt.learner(), ckpt.params
        row = results.setdefault(name, {})
        row["steps"] = learner.default_steps
        # The arithmetic of the inner loop, as the app and the API adapt on this machine.
        row["precision"] = learner.adaptation_precision(torch.device("cpu"))
        row["training"] = {k: ckpt.metadata.get("training", {}).get(k)
                           for k in ("iterations", "wall_seconds", "threads", "device", "hardware")}
        for key in args.settings:
            ways, shots = SETTINGS[key]
            episodes = args.episodes_for.get(key, args.episodes)
            start = time.perf_counter()
            r = evaluate_episodes(learner, meta, pool, ways, shots, 15, episodes, args.seed, args.batch,
                                  progress=True)
            r["seconds"] = round(time.perf_counter() - start, 1)
            row[key] = r
            print(f"{name} {key}: {100 * r['accuracy']:.2f} ± {100 * r['ci95']:.2f} ({episodes} episodes, "
                  f"{r['seconds']} s)", flush=True)
        if args.lake:
            row["lake"] = evaluate_lake_runs(learner, meta, runs)
            print(f"{name} Lake runs: {100 * row['lake']['accuracy']:.1f}", flush=True)
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
    return results


def arithmetic_note(precision_of: dict[str, str | None]) -> str:
    """The sentence saying in which arithmetic the inner loops of the algorithms measured adapted, from each
    algorithm's recorded precision (None: recorded before there was a choice, float32)."""
    groups: dict[str, list[str]] = {}
    for name in ALGORITHMS:
        if algorithm_info(name).adapts_by_steps and name in precision_of:
            groups.setdefault(precision_of[name] or "float32", []).append(TITLES[name])
    listed = "; ".join(f"{p} for " + ", ".join(names) for p, names in groups.items())
    return f"Inner loops adapted as the app and the API adapt on the machine that measured them: {listed}."


def cell(r: dict | None) -> str:
    if not r:
        return "n/a"
    return f"{100 * r['accuracy']:.2f} ± {100 * r['ci95']:.2f}"


def markdown(results: dict) -> str:
    lines = ["| algorithm | steps | 5-way 1-shot | 5-way 5-shot | 20-way 1-shot | 20-way 5-shot | Lake runs |",
             "|---|---|---|---|---|---|---|"]
    for name in ALGORITHMS:
        r = results.get(name, {})
        lake = f"{100 * r['lake']['accuracy']:.1f}" if "lake" in r else "n/a"
        lines.append(f"| **{TITLES[name]}** (ours) | {r.get('steps', '')} | "
                     + " | ".join(cell(r.get(k)) for k in SETTINGS) + f" | {lake} |")
    for cls in REGISTRY.values():  # published 5w1s, 5w5s, 20w1s, 20w5s (%), mostly on a random split
        if cls.published:
            source, nums = cls.published
            lines.append(f"| {cls.title} ({source}) | | " + " | ".join("" if n is None else f"{n}" for n in nums)
                         + " | |")
    lines += ["| people (Lake 2015) | | | | | | 95.5 |", "| Bayesian Program Learning (Lake 2015) | | | | | | 96.7 |",
              "| Siamese network (Koch 2015) | | | | | | 92.0 |"]
    groups: dict[tuple, list[str]] = {}  # episode counts per setting -> the algorithms evaluated so
    for name in ALGORITHMS:
        r = results.get(name, {})
        groups.setdefault(tuple(r[k]["episodes"] for k in SETTINGS if k in r), []).append(TITLES[name])
    counts = "; ".join(", ".join(names) + ": " + " / ".join(str(n) for n in key) for key, names in groups.items())
    return "\n".join([
        "# Accuracy on Omniglot",
        "",
        "Ours: images_evaluation (20 alphabets, 659 characters never seen in training), mean query accuracy "
        "(%) over seeded episodes with 15 queries per class, ± the 95% confidence interval "
        f"(1.96 std / sqrt(episodes)); episodes (5w1s / 5w5s / 20w1s / 20w5s): {counts}. "
        f"{arithmetic_note({n: r.get('precision') for n, r in results.items()})} "
        "Lake runs: the 20 official within-alphabet 20-way one-shot runs of Lake et al. (2015). "
        "Published numbers below ours: most use a random 1200-character train/test split, which mixes "
        "alphabets and is easier than our background/evaluation alphabet split.",
        "",
        *lines,
        "",
        "Reproduce: `python benchmarks/accuracy.py` (all), or one cell with "
        "`python -m metademo.evaluate --checkpoint maml --ways 5 --shots 1 --episodes 1000`; "
        "Lake runs: `python -m metademo.evaluate --checkpoint maml --lake-runs`.",
        "",
    ])


def validation_logs() -> dict[str, tuple[dict, list[dict]]]:
    """Each shipped checkpoint's training metadata and validation log (iteration, seconds, val_accuracy)."""
    logs = {}
    for name in ALGORITHMS:
        path = weights_path(name)
        if path.exists():
            meta = load_checkpoint(path).metadata
            logs[name] = (meta.get("training", {}), meta.get("validation", {}).get("log", []))
    return logs


def time_to_accuracy_markdown(levels=(0.90, 0.95)) -> str:
    """When each model's validation accuracy (5-way 1-shot, held-out background alphabets) first reached each
    level, in minutes of training wall time, from its checkpoint's log."""
    head = "| model | " + " | ".join(f"{100 * a:.0f}% after" for a in levels) + " | best | checkpoint after | on |"
    lines = [head, "|---|" + "---|" * (len(levels) + 3)]
    for name, (training, log) in validation_logs().items():
        cells = []
        for level in levels:
            hit = next((e for e in log if e["val_accuracy"] >= level), None)
            cells.append(f"{hit['seconds'] / 60:.0f} min (iteration {hit['iteration']})" if hit else "not reached")
        best = max(log, key=lambda e: e["val_accuracy"]) if log else None
        best_cell = f"{100 * best['val_accuracy']:.1f}% at iteration {best['iteration']}" if best else ""
        last = log[-1] if log else {"seconds": training.get("wall_seconds") or 0, "iteration": 0}
        lines.append(f"| {TITLES[name]} | " + " | ".join(cells) + f" | {best_cell} | {last['seconds'] / 60:.0f} min, "
                     f"{last['iteration']} of {training.get('planned_iterations', '?')} iterations | "
                     f"{training.get('hardware', '')} |")
    return "\n".join(lines)


def plot(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, (_, log) in validation_logs().items():
        if not log:
            continue
        ax.plot([e["seconds"] / 60 for e in log], [100 * e["val_accuracy"] for e in log], "o-",
                label=TITLES[name], markersize=3, color=REGISTRY[name].colour)
    for level in (90, 95):
        ax.axhline(level, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("training wall time (minutes, 2-core CPU)")
    ax.set_ylabel("validation accuracy, 5-way 1-shot (%)")
    ax.set_title("Time to accuracy (held-out background alphabets)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--algorithms", default=",".join(ALGORITHMS))
    p.add_argument("--settings", default=None, help="default all four (quick 5w1s)")
    p.add_argument("--episodes", type=int, default=None, help="episodes per setting (default 1000, quick 3)")
    p.add_argument("--episodes-for", default="", help="per-setting overrides, e.g. 20w5s=200,20w1s=300")
    p.add_argument("--no-lake", dest="lake", action="store_false")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--threads", type=int, help="torch threads (default torch's; quick 1: on tasks this small more "
                   "threads gain nothing, and on a busy machine waiting threads spin)")
    p.add_argument("--data-root")
    p.add_argument("--only-docs", action="store_true", help="rewrite the table and plot from accuracy.json")
    p.add_argument("--json", default=None,
                   help="results file to update (default docs/accuracy.json; parallel runs: one file each, then "
                        "--merge them)")
    p.add_argument("--merge", nargs="*", default=[], help="results files to merge into --json first")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: 3 episodes of 5w1s from the first 40 characters, 1 Lake run, everything "
                        "written to a new temporary folder (docs/ and the README untouched)")
    args = p.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="metademo-accuracy-")) if args.quick else DOCS
    args.json = args.json or str(out / "accuracy.json")
    if args.episodes is None:
        args.episodes = 3 if args.quick else 1000
    args.algorithms = [a for a in args.algorithms.split(",") if a]
    args.settings = [s for s in (args.settings or ("5w1s" if args.quick else ",".join(SETTINGS))).split(",") if s]
    args.episodes_for = {k: int(v) for k, v in (kv.split("=") for kv in args.episodes_for.split(",") if kv)}
    if args.quick and not args.threads:
        args.threads = 1
    if args.threads:
        torch.set_num_threads(args.threads)
    merged = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else {}
    for extra in args.merge:  # per algorithm, per setting: a partial run replaces only what it measured
        for name, row in json.loads(Path(extra).read_text()).items():
            merged.setdefault(name, {}).update(row)
    if args.merge:
        Path(args.json).write_text(json.dumps(merged, indent=1))
    if args.only_docs:
        results = merged
    else:
        results = evaluate(args)
    if Path(args.json).resolve() != (out / "accuracy.json").resolve():
        return  # a partial run: merge it into docs/accuracy.json, then write the docs
    table = markdown(results)
    (out / "accuracy.md").write_text(table)
    plot(out / "time_to_accuracy.png")
    times = time_to_accuracy_markdown()
    if not args.quick:
        update_readme(table, times)
    print(table)
    print(times)
    if args.quick:
        print(f"quick run: accuracy.json, accuracy.md and time_to_accuracy.png written to {out}")


def update_readme(table: str, times: str) -> None:
    """Put the accuracy table and the time-to-accuracy table into the README, between their markers."""
    readme = ROOT / "README.md"  # the README shows the same table, between two markers
    text = readme.read_text()
    start, end = "<!-- accuracy:start -->", "<!-- accuracy:end -->"
    if start in text and end in text:
        body = table.split("\n", 2)[2]  # without the page title
        text = text[: text.index(start) + len(start)] + "\n" + body + text[text.index(end):]
        readme.write_text(text)
    text = readme.read_text()
    start, end = "<!-- time:start -->", "<!-- time:end -->"
    if start in text and end in text:
        readme.write_text(text[: text.index(start) + len(start)] + "\n" + times + "\n" + text[text.index(end):])


if __name__ == "__main__":
    main()
