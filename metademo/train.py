"""Meta-train a model on Omniglot: ``python -m metademo.train --algorithm maml --out assets/maml.safetensors``.

Validates every ``--val-every`` iterations on held-out background alphabets, keeps the best model in
``--out``, and with ``--resume`` continues an interrupted run from ``--out``.state.safetensors.
Distributed: ``torchrun --nproc_per_node=P -m metademo.train ...`` splits each meta-batch over P processes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

from .algorithms import REGISTRY
from .training.trainer import TrainConfig, Trainer


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m metademo.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--algorithm", required=True, choices=list(REGISTRY))
    p.add_argument("--out", required=True, help="checkpoint to write (.safetensors); the best on validation")
    p.add_argument("--ways", type=int, default=5, help="classes per training task (default 5)")
    p.add_argument("--shots", type=int, default=1, help="support examples per class (default 1)")
    p.add_argument("--queries", type=int, default=15, help="query examples per class (default 15)")
    p.add_argument("--meta-batch", type=int, default=16, help="tasks per outer step (default 16)")
    p.add_argument("--iterations", type=int, default=2000, help="outer steps (default 2000)")
    p.add_argument("--meta-lr", type=float, default=1e-3, help="outer learning rate (Reptile: its epsilon)")
    p.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                   help="outer learning rate over the run: constant, or cosine-annealed to 0 (Adam)")
    p.add_argument("--inner-lr", type=float, help="inner learning rate (default: the algorithm's)")
    p.add_argument("--train-steps", type=int, help="inner steps while meta-training")
    p.add_argument("--test-steps", type=int, help="default inner steps when adapting to a new task")
    p.add_argument("--val-every", type=int, default=100, help="validate and checkpoint every N iterations")
    p.add_argument("--val-episodes", type=int, default=200)
    p.add_argument("--first-order-iterations", type=int, default=0,
                   help="MAML, Meta-SGD, Proto-MAML: first-order meta-gradients for the first N iterations")
    p.add_argument("--ways-max", type=int, help="draw each outer step's classes from --ways to this (default: fixed)")
    p.add_argument("--shots-max", type=int, help="draw each outer step's shots from --shots to this")
    p.add_argument("--train-steps-max", type=int, help="draw each outer step's inner steps from --train-steps to this")
    p.add_argument("--multi-step-loss", action="store_true",
                   help="MAML family: the outer loss is the mean query loss after every inner step (MAML++)")
    p.add_argument("--multi-step-anneal", type=int, default=0,
                   help="MAML family, with --multi-step-loss: over this many iterations the weight of the steps "
                        "before the last falls to 3%% of the mean's, the loss ending on the final step (MAML++)")
    p.add_argument("--head-lr-per-class", action="store_true",
                   help="the task head steps by inner_lr x classes, so every width learns alike")
    p.add_argument("--per-step-lrs", type=int,
                   help="MAML family: learn a step-size factor per layer for each of the first N inner steps (MAML++'s "
                        "LSLR; later steps take the last)")
    p.add_argument("--train-batch-shots", type=int,
                   help="Reptile: each inner step of meta-training on N images of every class, the next N for the next "
                        "step (the paper's minibatches; default: every image at every step)")
    p.add_argument("--rates-lr-scale", type=float, default=1.0,
                   help="Meta-SGD: its per-weight learning rates step at this fraction of --meta-lr (default 1)")
    p.add_argument("--val-ways", default="5", help="widths of the 1-shot validation tasks, e.g. 5,20 (default 5)")
    p.add_argument("--pause-file", help="while this file exists, training waits between iterations (untimed)")
    p.add_argument("--max-minutes", type=float, help="stop after so many minutes of training (continue with --resume)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", help="folder holding omniglot-py/ (default $METADEMO_DATA or ../shared/data)")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--resume", action="store_true", help="continue from --out.state.safetensors if present")
    return p.parse_args(argv)


def recipe(argv=None) -> str:
    """The training command as typed, without the options that do not change the result."""
    words = list(sys.argv[1:] if argv is None else argv)
    skip = {"--resume": 0, "--pause-file": 1, "--max-minutes": 1, "--data-root": 1, "--device": 1}
    kept, i = [], 0
    while i < len(words):
        name = words[i].split("=", 1)[0]
        if name in skip:
            i += 1 + (skip[name] if "=" not in words[i] else 0)
            continue
        kept.append(words[i])
        i += 1
    return " ".join(["python -m metademo.train", *kept])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from .paths import default_device

    device = args.device or str(default_device())
    cfg = TrainConfig(algorithm=args.algorithm, out=args.out, ways=args.ways, shots=args.shots,
                      queries=args.queries, meta_batch=args.meta_batch, iterations=args.iterations,
                      meta_lr=args.meta_lr, lr_schedule=args.lr_schedule, inner_lr=args.inner_lr,
                      train_steps=args.train_steps, test_steps=args.test_steps, seed=args.seed,
                      val_every=args.val_every, val_episodes=args.val_episodes,
                      first_order_iterations=args.first_order_iterations, data_root=args.data_root,
                      ways_max=args.ways_max, shots_max=args.shots_max, train_steps_max=args.train_steps_max,
                      multi_step_loss=args.multi_step_loss, multi_step_anneal=args.multi_step_anneal,
                      head_lr_per_class=args.head_lr_per_class or None, per_step_lrs=args.per_step_lrs,
                      train_batch_shots=args.train_batch_shots, rates_lr_scale=args.rates_lr_scale,
                      val_ways=tuple(int(w) for w in args.val_ways.split(",")),
                      pause_file=args.pause_file, max_minutes=args.max_minutes, recipe=recipe(argv))
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        from .training.distributed import DistributedTrainer as trainer_cls
    else:
        trainer_cls = Trainer
    try:
        trainer = trainer_cls(cfg, device=device)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.resume and trainer.load_state():
        print(f"resuming at iteration {trainer.iteration} (best validation {trainer.best:.4f})", file=sys.stderr)
    result = trainer.run()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
