"""Which episode should *Compare algorithms* open on? The one where the algorithms differ most.

    python benchmarks/compare_default.py [--episodes 40] [--widths 5,10] [--shots 1] [--steps 10]
    python benchmarks/compare_default.py --quick    # a smoke test: 1 episode of each width

Draws seeded episodes as the tab does (the page's gallery: Omniglot's evaluation characters, K support and 5
query drawings of each character) for each width the page offers to compare, runs every shipped model
through them as the tab does (:func:`metademo.api.compare_algorithms`, each model at its default inner
learning rate, up to ``--steps`` inner steps), and prints each model's mean query accuracy at its default
steps and after the last step, with two measures of how far apart the models are: the spread (best minus
worst model, at default steps) and the mean gap between two models, each with the standard deviation of
its per-episode values. The tab's default is the setting with the larger mean gap.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from metademo import api  # noqa: E402

QUERIES = 5  # the tab's default queries per class


def episode(source, rng, n, k):
    chars = rng.choice(len(source), n, replace=False)
    images, labels, queries, answers = [], [], [], []
    for c, i in enumerate(chars):
        perm = rng.permutation(api.DRAWINGS)
        images += [source.drawing(int(i), int(j)) for j in perm[:k]]
        labels += [c] * k
        queries += [source.drawing(int(i), int(j)) for j in perm[k:k + QUERIES]]
        answers += [c] * QUERIES
    return api.prepare(images), labels, api.prepare(queries), answers


def measure(source, n, k, episodes, steps, seed, models):
    """{title: (E, 2) accuracy at default steps and after the last step}, one row per episode."""
    rng = np.random.default_rng(seed)
    acc: dict[str, list] = {}
    for _ in range(episodes):
        support, labels, queries, answers = episode(source, rng, n, k)
        for r in api.compare_algorithms(support, labels, queries, answers, steps, list(models), models.get):
            if r.skipped:
                continue
            d = len(r.accuracy) - 1 if r.default_step is None else r.default_step
            acc.setdefault(r.title, []).append((r.accuracy[d], r.accuracy[-1]))
    return {t: np.array(v) for t, v in acc.items()}


def gaps(acc: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per episode: the spread (best minus worst model) and the mean absolute gap between two models, both at
    default steps."""
    table = np.stack([v[:, 0] for v in acc.values()])  # (models, episodes)
    spread = table.max(0) - table.min(0)
    pairs = [np.abs(a - b) for a, b in itertools.combinations(table, 2)]
    return spread, np.mean(pairs, 0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--widths", default="5,10")
    parser.add_argument("--shots", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes = 1
    torch.set_num_threads(args.threads)
    api.GALLERY.start().wait()
    source = api.GALLERY.current()
    models = {name: api.load_pretrained(name) for name in api.available_algorithms()}
    print(f"gallery: {source.kind if hasattr(source, 'kind') else type(source).__name__}, {len(source)} characters; "
          f"{args.episodes} episodes per setting, {QUERIES} queries per class, {args.steps} steps; seed {args.seed}")
    best = None
    for n in (int(w) for w in args.widths.split(",")):
        tick = time.perf_counter()
        acc = measure(source, n, args.shots, args.episodes, args.steps, args.seed, models)
        spread, gap = gaps(acc)
        print(f"\n{n}-way {args.shots}-shot ({time.perf_counter() - tick:.0f} s)")
        print("| algorithm | at default steps | after step " + str(args.steps) + " |\n|---|---|---|")
        for title, a in acc.items():
            print(f"| {title} | {100 * a[:, 0].mean():.1f} | {100 * a[:, 1].mean():.1f} |")
        print(f"spread (best - worst) {100 * spread.mean():.1f} ± {100 * spread.std():.1f} points; "
              f"mean gap between two models {100 * gap.mean():.1f} ± {100 * gap.std():.1f} points")
        if best is None or gap.mean() > best[1]:
            best = (n, gap.mean())
    print(f"\nlargest mean gap: {best[0]}-way {args.shots}-shot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
