"""Inner-loop curvature: the largest eigenvalue of the support loss's Hessian scaled by the step sizes of the next
inner step, after each inner step, on episodes of the training alphabets.

Gradient descent with one step size ``a`` overshoots along every direction whose curvature exceeds ``2 / a``:
where ``a`` times the largest eigenvalue is above 2 the inner loop oscillates instead of descending. With step
sizes of their own per tensor (a head that steps ``n_way`` times as far, MAML++'s per-step rates, Meta-SGD's
per-weight rates) the step is ``p - P g`` for a diagonal ``P``, and the same bound holds for the largest
eigenvalue of ``P^1/2 H P^1/2`` (that of ``P H``). Meta-SGD's rates are sign-free: their magnitudes are used. The
eigenvalue is found by power iteration on Hessian-vector products (double backward) of one task's support loss,
in float32.

    python benchmarks/inner_curvature.py [--checkpoints maml,fomaml,training/stable/maml-anneal.safetensors]
    python benchmarks/inner_curvature.py --quick     # 1 episode, 2 steps, 3 iterations, the first 40 characters
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import QUICK_CHARACTERS  # noqa: E402
from metademo.algorithms.base import per_task_cross_entropy  # noqa: E402
from metademo.api import weights_path  # noqa: E402
from metademo.checkpoints import load_checkpoint  # noqa: E402
from metademo.data.omniglot import EpisodeSampler, load_split  # noqa: E402


def top_eigenvalue(learner, params: dict, x: torch.Tensor, y: torch.Tensor, iterations: int, seed: int,
                   sizes: dict | None = None) -> float:
    """The largest (most positive) eigenvalue of ``P^1/2 H P^1/2``, where H is the Hessian of the support loss
    (summed over the batch's tasks) at ``params`` and P the step sizes ``sizes`` (each broadcastable to its tensor;
    default 1: H itself). Power iteration finds the eigenvalue of largest magnitude; when that one is negative, a
    second run on the matrix shifted by it finds the largest positive one."""
    ps = {k: v.detach().requires_grad_() for k, v in params.items()}
    root = [torch.as_tensor(1.0 if sizes is None else sizes[k]).detach().abs().sqrt().expand_as(v)
            for k, v in ps.items()]
    with torch.enable_grad():
        loss = per_task_cross_entropy(learner.logits(ps, x), y).sum()
        grads = torch.autograd.grad(loss, list(ps.values()), create_graph=True)

        def power(shift: float) -> float:
            gen = torch.Generator().manual_seed(seed)
            v = [torch.randn(g.shape, generator=gen) for g in grads]
            value = 0.0
            for _ in range(iterations):
                norm = torch.sqrt(sum((a * a).sum() for a in v))
                v = [a / norm for a in v]
                hv = torch.autograd.grad(sum((g * r * a).sum() for g, r, a in zip(grads, root, v)), list(ps.values()),
                                         retain_graph=True)
                hv = [r * h.detach() - shift * a for r, h, a in zip(root, hv, v)]
                value = sum((h * a).sum() for h, a in zip(hv, v)).item()
                v = hv
            return value + shift

        value = power(0.0)
        return power(value) if value < 0 else value


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoints", default="maml,fomaml",
                   help="shipped names or .safetensors paths, comma-separated")
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--shots", type=int, default=1)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--iterations", type=int, default=20, help="power iterations")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-root")
    p.add_argument("--quick", action="store_true", help="a smoke test: 1 episode, 2 steps, 3 power iterations, "
                                                        "the first 40 training characters")
    args = p.parse_args(argv)
    if args.quick:
        args.episodes, args.steps, args.iterations = 1, 2, 3
    torch.set_num_threads(args.threads)
    pool = load_split("train", args.data_root, progress=False)
    if args.quick:
        pool = pool[:QUICK_CHARACTERS]
    print(f"training alphabets, {args.ways}-way {args.shots}-shot, {args.episodes} episodes, "
          f"{args.iterations} power iterations; float32", flush=True)
    for name in [c for c in args.checkpoints.split(",") if c]:
        ckpt = load_checkpoint(name if name.endswith(".safetensors") else weights_path(name))
        learner, lr = ckpt.learner(), ckpt.hparams.inner_lr
        if not learner.has_inner_loop:
            raise SystemExit(f"{name}: no inner loop")
        base = learner.step_sizes(ckpt.params, lr, args.ways)
        sampler = EpisodeSampler(pool, args.ways, args.shots, 1, seed=args.seed)
        totals = [0.0] * args.steps
        for e in range(args.episodes):
            ep = sampler.sample(1)
            for state in learner.adapt_steps(ckpt.params, ep.support_x, ep.support_y, ep.n_way, steps=args.steps,
                                             precision="float32"):
                if state.step:
                    # The sizes of the step that would start here, step + 1.
                    sizes = learner.sizes_at(ckpt.params, base, state.step + 1)
                    totals[state.step - 1] += top_eigenvalue(learner, state.params, ep.support_x, ep.support_y,
                                                             args.iterations, args.seed + e, sizes) / args.episodes
        cells = ", ".join(f"{s}: {t:.2f}" for s, t in enumerate(totals, 1))
        print(f"{name} (inner lr {lr:g}): step sizes x largest eigenvalue after steps {cells}", flush=True)


if __name__ == "__main__":
    main()
