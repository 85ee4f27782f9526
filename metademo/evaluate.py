"""Evaluate a checkpoint on the Omniglot evaluation alphabets.

    python -m metademo.evaluate --checkpoint maml --ways 5 --shots 1 --episodes 1000 [--json]
    python -m metademo.evaluate --checkpoint maml --lake-runs [--json]

Prints the mean accuracy with its 95% confidence interval (1.96 std / sqrt(episodes)); with ``--json``
the last line is one JSON object with ``accuracy`` (0 to 1), ``ci95`` and ``episodes``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from .checkpoints import load_checkpoint
from .data.omniglot import load_lake_runs, load_split
from .paths import default_device, weights_path
from .training.evaluation import evaluate_episodes, evaluate_lake_runs


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m metademo.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="a .safetensors file, or a shipped name such as maml")
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--shots", type=int, default=1)
    p.add_argument("--queries", type=int, default=15, help="queries per class (default 15)")
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--steps", type=int, help="inner steps (default: the checkpoint's)")
    p.add_argument("--lr", type=float, help="inner learning rate (default: the checkpoint's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=10, help="episodes evaluated together")
    p.add_argument("--lake-runs", action="store_true", help="score Lake et al.'s 20 official one-shot runs")
    p.add_argument("--split", default="test", choices=["test", "val"], help="test = images_evaluation")
    p.add_argument("--data-root", help="folder holding omniglot-py/ (default $METADEMO_DATA or ../shared/data)")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int)
    p.add_argument("--json", action="store_true", help="end with one JSON line")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    path = Path(args.checkpoint)
    if not path.suffix:
        path = weights_path(args.checkpoint)
    device = torch.device(args.device or default_device())
    try:
        ckpt = load_checkpoint(path, device)
        learner, meta = ckpt.learner(), ckpt.params
        if args.lake_runs:
            result = evaluate_lake_runs(learner, meta, load_lake_runs(args.data_root), args.steps, args.lr, device)
            setting = "Lake et al. 20 one-shot runs (20-way 1-shot)"
        else:
            pool = load_split(args.split, args.data_root)
            result = evaluate_episodes(learner, meta, pool, args.ways, args.shots, args.queries, args.episodes,
                                       args.seed, args.batch, args.steps, args.lr, device, progress=True)
            setting = f"{args.ways}-way {args.shots}-shot, {args.queries} queries/class"
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    precision, steps = learner.adaptation_precision(device), learner.inner_steps(args.steps)
    result = {"checkpoint": str(path), "algorithm": ckpt.algorithm, "setting": setting, "steps": steps,
              "precision": precision, **result}
    arithmetic = f", inner loop in {precision}" if steps else ""
    print(f"{ckpt.algorithm}: {setting}: {100 * result['accuracy']:.2f}% ± {100 * result['ci95']:.2f}% "
          f"({result['episodes']} episodes{arithmetic})")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
