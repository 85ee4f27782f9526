"""2-D navigation, MAML's reinforcement-learning picture (Finn et al. 2017, section 5.3): the navigation
tab's policies, their meta-training and their evaluation.

Three learners (:mod:`metademo.algorithms.navigation`) share a Gaussian MLP policy and the same adaptation,
policy-gradient steps on the return of 20 sampled episodes: MAML (exact second order, DiCE), first-order MAML,
and a baseline trained on all goals at once. Each is meta-trained from scratch by the project's one outer loop
(:class:`~metademo.training.trainer.Trainer` on :class:`~metademo.training.tasks.NavigationTasks`) and saved as
a checkpoint like the other models::

    python -m metademo.navigation train --out-dir assets      # all three, on the CPU
    python -m metademo.navigation evaluate                    # the README's table

Adaptation never writes a model's parameters.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator

import numpy as np
import torch

from .algorithms import NAVIGATORS
from .checkpoints import Checkpoint, load_checkpoint
from .paths import assets_dir

KINDS = {cls.kind: cls.name for cls in NAVIGATORS.values()}  # "maml" -> "nav_maml", ...
RECIPES = {  # each shipped model's recipe (Adam, meta-batch of 20 goals, inner step size 0.01)
    # MAML and first-order MAML: 100 iterations of one inner step, then 1 to 3 steps with the multi-step loss.
    "maml": {"iterations": 600, "meta_lr": 3e-4, "inner_lr": 0.01, "train_steps": 1, "train_steps_max": 3,
             "multi_step_loss": True, "fixed_steps_iterations": 100},
    "fomaml": {"iterations": 400, "meta_lr": 1e-3, "inner_lr": 0.01, "train_steps": 1, "train_steps_max": 3,
               "multi_step_loss": True, "fixed_steps_iterations": 100},
    "baseline": {"iterations": 250, "meta_lr": 3e-3, "inner_lr": 0.01},
}
META_BATCH = 20
EVAL_GOALS = 200
EVAL_SEED = 2017  # held-out goals come from their own stream, never a training seed's
EVAL_STEPS = 3


RECIPE_OPTIONS = ("iterations", "meta_lr", "inner_lr", "train_steps", "train_steps_max", "multi_step_loss",
                  "fixed_steps_iterations")


def trainer_for(kind: str, out: str | None = None, seed: int = 0, val_every: int = 25, progress: bool = True,
                **overrides):
    """The project's outer loop set up to meta-train the ``kind`` learner from a seeded random start, by its
    recipe (:data:`RECIPES`) with any of its options (:data:`RECIPE_OPTIONS`) overridden by keyword; an
    override of None keeps the recipe's. Its ``iterate()`` yields every validation report (iteration,
    seconds, ``val_return``...)."""
    from .training.tasks import NavigationTasks
    from .training.trainer import TrainConfig, Trainer

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    unknown = sorted(set(overrides) - set(RECIPE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown recipe options {unknown}; the options are {list(RECIPE_OPTIONS)}")
    defaults = {"train_steps": 1, "train_steps_max": None, "multi_step_loss": False, "fixed_steps_iterations": 0}
    r = {**defaults, **RECIPES[kind], **{k: v for k, v in overrides.items() if v is not None}}
    command = (f"python -m metademo.navigation train --kind {kind} --iterations {r['iterations']} --seed {seed} "
               f"--meta-lr {r['meta_lr']:g} --train-steps {r['train_steps']}"
               + (f" --train-steps-max {r['train_steps_max']}" if r["train_steps_max"] else "")
               + (" --multi-step-loss" if r["multi_step_loss"] else "")
               + (f" --fixed-steps-iterations {r['fixed_steps_iterations']}" if r["fixed_steps_iterations"] else "")
               + (f" --inner-lr {r['inner_lr']:g}" if r.get("inner_lr") else ""))
    cfg = TrainConfig(KINDS[kind], out, ways=1, shots=1, queries=0, meta_batch=META_BATCH, seed=seed,
                      val_every=val_every, recipe=command, **{k: r.get(k) for k in RECIPE_OPTIONS})
    return Trainer(cfg, progress=progress, tasks=NavigationTasks(seed))


def train(kind: str, out: str | None = None, seed: int = 0, val_every: int = 25, progress: bool = True,
          **overrides):
    """Meta-train the ``kind`` learner (:func:`trainer_for`, the same arguments); returns the trainer (its
    ``meta`` and ``log``)."""
    trainer = trainer_for(kind, out, seed, val_every, progress, **overrides)
    for report in trainer.iterate():
        if progress:
            print(f"{kind} it {report['iteration']:4d}  {report['seconds']:6.1f}s  train return "
                  f"{report['train_return']:7.2f}  val return {report['val_return_before']:7.2f} -> "
                  f"{report['val_return']:7.2f}", file=sys.stderr, flush=True)
    return trainer


def load_navigation_models(folder=None) -> dict[str, Checkpoint]:
    """The shipped policies, ``{"maml": ..., "fomaml": ..., "baseline": ...}``."""
    folder = assets_dir() if folder is None else folder
    return {kind: load_checkpoint(f"{folder}/{name}.safetensors") for kind, name in KINDS.items()}


def adapt_to_goal(ckpt: Checkpoint, goal, steps: int = EVAL_STEPS, seed: int = 0, episodes: int | None = None
                  ) -> Iterator[dict]:
    """Adapt a policy to one goal, yielding ``{"step", "return", "paths"}`` after 0..``steps`` inner steps:
    the mean return of the episodes its policy sampled at that step and their (N, 101, 2) paths."""
    learner = ckpt.learner()
    goal = torch.as_tensor(np.asarray(goal, dtype=np.float32)).view(1, 2)
    for state in learner.adapt_steps(ckpt.params, goal, torch.tensor([seed]), steps=steps, episodes=episodes):
        yield {"step": state.step, "return": -float(state.loss[0]), "paths": state.rollout.path()[0].numpy()}


def returns_by_step(ckpt: Checkpoint, goals: int = EVAL_GOALS, steps: int = EVAL_STEPS, seed: int = EVAL_SEED
                    ) -> np.ndarray:
    """(steps + 1, goals) the mean return of the 20 episodes sampled after 0..``steps`` inner steps, on ``goals``
    held-out goals drawn with ``seed`` (the same goals and sampling seeds for every model)."""
    from .data.navigation import sample_goals

    rng = np.random.default_rng(seed)
    g = torch.from_numpy(sample_goals(goals, rng))
    seeds = torch.from_numpy(rng.integers(0, 2**62, goals))
    return np.stack([-s.loss.numpy() for s in ckpt.learner().adapt_steps(ckpt.params, g, seeds, steps=steps)])


def mean_ci(values: np.ndarray) -> tuple[float, float]:
    """The mean of ``values`` (over goals, the last axis) and its 95% confidence interval's half-width."""
    return float(values.mean(-1)), float(1.96 * values.std(-1, ddof=1) / math.sqrt(values.shape[-1]))


def evaluate(ckpt: Checkpoint, goals: int = EVAL_GOALS, steps: int = EVAL_STEPS, seed: int = EVAL_SEED) -> list[dict]:
    """Mean return (and its 95% confidence interval over goals) after 0..``steps`` inner steps on ``goals``
    held-out goals drawn with ``seed``; each step's return is that of the 20 episodes it samples."""
    return [dict(zip(("step", "return", "ci95"), (i, *mean_ci(r))))
            for i, r in enumerate(returns_by_step(ckpt, goals, steps, seed))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="meta-train the policies from scratch")
    t.add_argument("--kind", choices=sorted(KINDS), action="append", help="default: all three")
    t.add_argument("--out-dir", default="assets")
    t.add_argument("--iterations", type=int)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--meta-lr", type=float)
    t.add_argument("--train-steps", type=int)
    t.add_argument("--train-steps-max", type=int, help="draw each iteration's inner steps from train-steps..this")
    t.add_argument("--multi-step-loss", action="store_true", default=None,
                   help="the outer objective is the mean return after every inner step")
    t.add_argument("--fixed-steps-iterations", type=int, help="a warm-up: this many iterations at --train-steps")
    t.add_argument("--inner-lr", type=float, help="the inner step size (default: the recipe's)")
    e = sub.add_parser("evaluate", help="returns after 0..3 inner steps on held-out goals")
    e.add_argument("--folder", default=None)
    e.add_argument("--goals", type=int, default=EVAL_GOALS)
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    if args.command == "train":
        for kind in args.kind or list(KINDS):
            start = time.perf_counter()
            train(kind, f"{args.out_dir}/{KINDS[kind]}.safetensors", args.seed,
                  **{option: getattr(args, option) for option in RECIPE_OPTIONS})
            print(f"{kind}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
        return 0
    models = load_navigation_models(args.folder)
    returns = {kind: returns_by_step(ckpt, args.goals) for kind, ckpt in models.items()}
    cells = lambda rows: " | ".join("{:+.1f} ± {:.1f}".format(*mean_ci(r)) for r in rows)  # noqa: E731
    print(f"Mean return on {args.goals} held-out goals (seed {EVAL_SEED}), 95% CI over goals; "
          "each step samples 20 episodes")
    print("| learner | " + " | ".join(f"step {s}" for s in range(EVAL_STEPS + 1)) + " |")
    print("|---|" + "---|" * (EVAL_STEPS + 1))
    for kind, r in returns.items():
        print(f"| {NAVIGATORS[KINDS[kind]].title} | " + cells(r).replace("+", "") + " |")
    print("\nPaired differences on the same goals (95% CI over goals):")
    print("| difference | " + " | ".join(f"step {s}" for s in range(EVAL_STEPS + 1)) + " |")
    print("|---|" + "---|" * (EVAL_STEPS + 1))
    for kind in ("maml", "fomaml"):
        title = NAVIGATORS[KINDS[kind]].title
        print(f"| {title} - baseline | " + cells(returns[kind] - returns["baseline"]) + " |")
        print(f"| {title} - its step 0 | " + cells(returns[kind] - returns[kind][:1]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
