#!/usr/bin/env python
"""Meta-training throughput: our task-batched MAML against ``higher`` and a per-task ``torch.func`` loop.

Usage::

    python benchmarks/meta_train.py            # full run
    python benchmarks/meta_train.py --quick    # < 3 min on 2 idle cores: see below
    python benchmarks/meta_train.py --quick --meta-batch 2 --hidden 8 --check-tasks 1 --threads 1  # a smoke test
    python benchmarks/meta_train.py --meta-batch 8 --threads 1 --repeats 3

Setting: second-order MAML on Omniglot 5-way 1-shot with 15 queries per class, Conv-4 (64 channels),
a meta-batch of 32 tasks, inner learning rate 0.1, with 1 and with 5 inner steps. Three
implementations compute the meta-gradient of the *same* tasks from the *same* initial weights:

(a) ``ours``: what ``python -m metademo.train`` runs, ``parallel_meta_gradient(ProtoMAML(...), meta,
    episode, workers)``: on the CPU the tasks are shared out to one worker thread per torch thread,
    each running one torch thread and ``ProtoMAML.meta_gradient`` (MAML's) on its tasks with task-batched
    parameters (one convolution per task; grouped convolutions on accelerators), the first block
    computed by :func:`metademo.networks.ops.first_block` (fused in C where a compiler is found) and
    the later blocks' weight gradients by Winograd's method (:func:`metademo.networks.ops.conv3x3`);
(b) ``higher``: ``higher.innerloop_ctx`` over an ``nn.Module`` Conv-4 (``nn.Conv2d``,
    ``nn.GroupNorm(1, C)``, ``nn.ReLU``, ``nn.MaxPool2d``) of identical arithmetic, one task at a time;
    ``diffopt.step`` updates the body, the prototype head is updated by hand (higher's optimiser only
    knows the module's parameters);
(c) ``loop``: the textbook functorch MAML loop, ``torch.func.functional_call`` on that module with a
    dict of parameters, one task at a time, ``torch.autograd.grad(create_graph=True)``.

Every implementation starts each task from the prototype head of Proto-MAML, the one head whose step 0
depends on the network (MAML's zero head only makes the first step cheaper): row c = 2 mu_c, bias
-|mu_c|^2, mu_c the mean support embedding of class c), takes SGD steps on the support cross-entropy
over body and head together, and differentiates the mean over tasks of the query cross-entropy.
At step 0 the head is a function of the body, so the body's first inner gradient is the total
derivative through the head too; all three compute it that way (autograd does, given the graph).

Fairness: before anything is timed, :func:`check_agreement` asserts that the three meta-gradients agree
(per tensor ``||g_ours - g_base|| / ||g_base||`` under 1e-4) on the first few tasks of the benchmark's
own meta-batch, in float64 with the float64 originals of the initial weights (float64 agreement is
about 1e-13). float64 makes the check a test of the arithmetic rather than of rounding: in float32
the implementations differ by 1e-4 to 5e-4 at one step (at the threshold or above it; on the 32-task
meta-batch of seed 0, ours is 1.6e-4 from the float64 gradient and higher 4.5e-4) and, at five steps, by
up to about 1e-2 on single tasks, where a near-tie in a max-pool or a ReLU goes one way or the other
depending on the convolution algorithm's rounding (seen both ways: with oneDNN on, ours was the one
1.5% off the float64 gradient on such a task; with ``torch.backends.mkldnn.enabled = False``, the
baselines were). The float32 differences on the whole meta-batch (from the timing warm-up) are
printed for information. The baselines are written as their libraries are meant to be used, and
they reuse the support features of the prototype at step 0, as ours does. The baselines run as
their users run them, one task after another with torch's intra-op threads.

Timing: one warm-up call per implementation, then ``--repeats`` rounds in which the implementations
take turns (so a change of load on a shared machine hits all of them alike); the median time per
meta-batch gives tasks per second. A second table gives the training throughput of first-order
MAML, Meta-SGD, Reptile and ProtoNet through their ``meta_gradient`` on the same meta-batch.
``--quick`` keeps the setting (meta-batch 32 and all) but times one repeat, checks agreement on two
tasks instead of four, and skips the warm-up of that second table (the MAML timings before it have
warmed the kernels and the allocator).

Memory allocator: by default every implementation runs with the C library's malloc as it comes. With
glibc, the baselines, which run on the main thread, then spend much of their time in page faults
(about 20,000 per task here: glibc returns freed top-of-heap memory to the system and maps blocks of a
few MB one by one, and each 15 MB activation is faulted in again), while the worker threads of ``ours``
reuse their arenas' memory and see almost none. ``--keep-freed-memory`` sets glibc (``mallopt``) to keep
freed memory for the whole process, i.e. for all three: the faults vanish and the comparison is of the
implementations alone. Both are worth reading; the README gives both.

The last line is ``vs_higher=<ratio> vs_loop=<ratio>``: our tasks/s divided by theirs, 1 inner step.

Data: Omniglot's ``train`` split through :func:`metademo.data.omniglot.load_split` (``--data-root`` or
``$METADEMO_DATA``, as in the package); if Omniglot is absent, synthetic glyphs, and the output says so.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from metademo.algorithms import REGISTRY, ProtoMAML  # noqa: E402
from metademo.algorithms.base import Episode, HParams  # noqa: E402
from metademo.networks.conv4 import Conv4  # noqa: E402
from metademo.training.parallel import parallel_meta_gradient  # noqa: E402

N_WAY, K_SHOT, Q_QUERIES = 5, 1, 15
INNER_LR = 0.1
STEPS = (1, 5)
TOLERANCE = 1e-4  # max per-tensor relative difference of the meta-gradients (float64 check)

Grads = dict[str, torch.Tensor]


# --- the nn.Module Conv-4 of the baselines -------------------------------------------------------------
class Conv4Module(nn.Module):
    """Conv-4 as an ordinary ``nn.Module``, the same arithmetic as :class:`metademo.networks.conv4.Conv4`.

    Parameter names match ``Conv4.init_params`` (``conv1.weight``, ``norm1.bias``, ...), so its state
    dict loads into this module unchanged. ``forward`` returns the (B, hidden) embedding.
    """

    def __init__(self, hidden: int = 64, in_channels: int = 1, blocks: int = 4):
        super().__init__()
        self.blocks = blocks
        c = in_channels
        for i in range(1, blocks + 1):
            setattr(self, f"conv{i}", nn.Conv2d(c, hidden, 3, padding=1))
            setattr(self, f"norm{i}", nn.GroupNorm(1, hidden))  # LayerNorm over (C, H, W), per example
            c = hidden
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.blocks + 1):
            x = self.pool(self.relu(getattr(self, f"norm{i}")(getattr(self, f"conv{i}")(x))))
        return x.flatten(1)


def build(hidden: int, seed: int, dtype: torch.dtype) -> tuple[dict[str, torch.Tensor], Conv4Module]:
    """Meta-parameters for ``ours`` and an ``nn.Module`` holding equal copies of them."""
    init = Conv4(hidden=hidden).init_params(seed, dtype)
    module = Conv4Module(hidden).to(dtype)
    module.load_state_dict(init)
    meta = {k: v.clone().requires_grad_() for k, v in init.items()}
    return meta, module


def prototype_head(feats: torch.Tensor, y: torch.Tensor, n_way: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(S, D) support features of one task -> head weight 2 mu_c (N, D) and bias -|mu_c|^2 (N,)."""
    onehot = F.one_hot(y, n_way).to(feats.dtype)  # (S, N)
    mu = onehot.T @ feats / onehot.sum(0).clamp_min(1).unsqueeze(1)
    return 2 * mu, -(mu * mu).sum(1)


def task_tensors(episode: Episode, t: int):
    return episode.support_x[t], episode.support_y[t], episode.query_x[t], episode.query_y[t]


def first_tasks(episode: Episode, n: int) -> Episode:
    return Episode(episode.support_x[:n], episode.support_y[:n], episode.query_x[:n], episode.query_y[:n],
                   episode.n_way)


# --- the three implementations -----------------------------------------------------------------------
def ours_meta_gradient(learner: ProtoMAML, meta: dict[str, torch.Tensor], episode: Episode) -> Grads:
    return parallel_meta_gradient(learner, meta, episode)[0]


def higher_meta_gradient(module: Conv4Module, episode: Episode, steps: int, lr: float) -> Grads:
    """MAML with ``higher`` (its documented pattern: one ``innerloop_ctx`` per task)."""
    import higher  # imported here so that the rest of the module works without it

    names, params = zip(*module.named_parameters())
    opt = torch.optim.SGD(params, lr=lr)
    total = [torch.zeros_like(p) for p in params]
    tasks = episode.support_x.shape[0]
    for t in range(tasks):
        sx, sy, qx, qy = task_tensors(episode, t)
        with higher.innerloop_ctx(module, opt, copy_initial_weights=False) as (fmodel, diffopt):
            feats = fmodel(sx)
            weight, bias = prototype_head(feats, sy, episode.n_way)
            for step in range(steps):
                if step:
                    feats = fmodel(sx)
                loss = F.cross_entropy(feats @ weight.T + bias, sy)
                # The head is not a module parameter, so higher's optimiser cannot step it: by hand.
                g_weight, g_bias = torch.autograd.grad(loss, (weight, bias), create_graph=True)
                diffopt.step(loss)  # the body: gradient of the same loss at the same point
                weight, bias = weight - lr * g_weight, bias - lr * g_bias
            query_loss = F.cross_entropy(fmodel(qx) @ weight.T + bias, qy)
            grads = torch.autograd.grad(query_loss, params)
        for acc, g in zip(total, grads):
            acc.add_(g)
    return {k: g / tasks for k, g in zip(names, total)}


def loop_meta_gradient(module: Conv4Module, episode: Episode, steps: int, lr: float) -> Grads:
    """The textbook functorch MAML loop: ``functional_call`` with a dict of parameters, task by task."""
    meta = dict(module.named_parameters())
    total = {k: torch.zeros_like(v) for k, v in meta.items()}
    tasks = episode.support_x.shape[0]
    for t in range(tasks):
        sx, sy, qx, qy = task_tensors(episode, t)
        params = meta
        feats = functional_call(module, params, (sx,))
        weight, bias = prototype_head(feats, sy, episode.n_way)
        for step in range(steps):
            if step:
                feats = functional_call(module, params, (sx,))
            loss = F.cross_entropy(feats @ weight.T + bias, sy)
            *g_body, g_weight, g_bias = torch.autograd.grad(loss, [*params.values(), weight, bias],
                                                            create_graph=True)
            params = {k: v - lr * g for (k, v), g in zip(params.items(), g_body)}
            weight, bias = weight - lr * g_weight, bias - lr * g_bias
        query_loss = F.cross_entropy(functional_call(module, params, (qx,)) @ weight.T + bias, qy)
        for k, g in zip(meta, torch.autograd.grad(query_loss, list(meta.values()))):
            total[k].add_(g)
    return {k: g / tasks for k, g in total.items()}


def implementations(meta, module, episode: Episode, hidden: int, steps: int,
                    lr: float = INNER_LR) -> dict[str, Callable[[], Grads]]:
    learner = ProtoMAML(HParams(hidden=hidden, inner_lr=lr, train_steps=steps))
    return {"ours": lambda: ours_meta_gradient(learner, meta, episode),
            "higher": lambda: higher_meta_gradient(module, episode, steps, lr),
            "loop": lambda: loop_meta_gradient(module, episode, steps, lr)}


def max_relative_error(a: Grads, b: Grads) -> float:
    """max over tensors of ||a - b|| / ||b|| (absolute where ||b|| = 0); both must name the same tensors."""
    if set(a) != set(b):
        raise AssertionError(f"different parameters: {sorted(set(a) ^ set(b))}")
    worst = 0.0
    for k in a:
        diff, ref = (a[k] - b[k]).norm().item(), b[k].norm().item()
        worst = max(worst, diff / ref if ref > 0 else diff)
    return worst


def check_agreement(episode: Episode, hidden: int = 64, steps: tuple[int, ...] = STEPS, lr: float = INNER_LR,
                    seed: int = 0, dtype: torch.dtype = torch.float64) -> dict[int, dict[str, float]]:
    """Meta-gradients of ours, higher and the functorch loop on ``episode``, compared.

    Returns, for each number of inner steps, the max per-tensor relative error of ours against higher
    (``higher``) and against the loop (``loop``), of higher against the loop (``higher_vs_loop``), and
    the norm of our meta-gradient (``norm``, to show the comparison is not between zeros).
    """
    episode = episode.to("cpu", dtype)
    meta, module = build(hidden, seed, dtype)
    out = {}
    for k in steps:
        g = {name: fn() for name, fn in implementations(meta, module, episode, hidden, k, lr).items()}
        out[k] = {"higher": max_relative_error(g["ours"], g["higher"]),
                  "loop": max_relative_error(g["ours"], g["loop"]),
                  "higher_vs_loop": max_relative_error(g["higher"], g["loop"]),
                  "norm": math.sqrt(sum(v.pow(2).sum().item() for v in g["ours"].values()))}
    return out


# --- timing ------------------------------------------------------------------------------------------
def time_round_robin(fns: dict[str, Callable], repeats: int,
                     warmup: bool = True) -> tuple[dict[str, float], dict[str, object]]:
    """Warm up each function once, then ``repeats`` rounds taking turns; median seconds and warm-up results."""
    warm = {name: fn() for name, fn in fns.items()} if warmup else {}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}, warm


def keep_freed_memory() -> None:
    """glibc's malloc: never return freed memory to the system and never map large blocks one by one."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    if not (libc.mallopt(m_trim_threshold, 2**30) and libc.mallopt(m_mmap_threshold, 2**30)):
        raise SystemExit("mallopt refused the settings")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_report(keep_freed: bool = False) -> str:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        higher_version = metadata.version("higher")
    except metadata.PackageNotFoundError:
        higher_version = "not installed"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    allocator = "glibc malloc keeping freed memory" if keep_freed else "the C library's default malloc"
    return (f"machine: {cpu_model()}, {os.cpu_count()} cores ({usable} usable), load average {load}; {allocator}\n"
            f"python {platform.python_version()}, torch {torch.__version__}, higher {higher_version}, "
            f"torch threads {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})")


def load_pool(data_root: str | None, seed: int) -> tuple[torch.Tensor, str]:
    """Omniglot's train class pool, else synthetic glyphs; and a line saying which."""
    from metademo.data.omniglot import data_root as resolve_root
    from metademo.data.omniglot import load_split

    try:
        pool = load_split("train", root=data_root)
        return pool, (f"data: Omniglot train split, {pool.shape[0]} classes (with rotations), "
                      f"root {resolve_root(data_root)}")
    except FileNotFoundError as e:
        from metademo.data.synthetic import synthetic_dataset

        classes, drawings = 20, K_SHOT + Q_QUERIES
        images, _ = synthetic_dataset(classes, drawings, seed=seed)
        pool = (images * 255).round().to(torch.uint8).view(classes, drawings, *images.shape[-2:])
        return pool, (f"data: Omniglot NOT FOUND ({e}); using {classes} classes of synthetic glyphs "
                      f"(metademo.data.synthetic) instead")


def other_algorithms(meta_batch: Episode, hidden: int, seed: int, repeats: int,
                     warmup: bool = True) -> list[tuple[str, int, str, float]]:
    """(name, inner steps, what, median seconds) of each other learner's meta-gradient, as the trainer runs it."""
    rows = []
    for cls in REGISTRY.values():
        if cls is ProtoMAML:
            continue  # timed above
        what = cls.meta_gradient_kind()
        steps = {"no inner loop": 0, "no meta-graph": 5}.get(what, 1)  # Reptile: several plain SGD steps
        kw = {"hidden": hidden, "inner_lr": INNER_LR, "train_steps": steps} if steps else {"hidden": hidden}
        learner = cls(cls.default_hparams.replace(**kw))
        meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(seed).items()}
        median, _ = time_round_robin(
            {cls.__name__: lambda ln=learner, m=meta: parallel_meta_gradient(ln, m, meta_batch)}, repeats, warmup)
        rows.append((cls.__name__, steps, what, median[cls.__name__]))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and a smaller agreement check")
    p.add_argument("--meta-batch", type=int, default=32, help="tasks per meta-batch (default 32)")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats after one warm-up (default 5, quick 1)")
    p.add_argument("--check-tasks", type=int, default=None,
                   help="tasks of the meta-batch used for the float64 agreement check (default 4, quick 2)")
    p.add_argument("--hidden", type=int, default=64, help="Conv-4 channels (default 64)")
    p.add_argument("--data-root", default=None, help="folder holding omniglot-py/ (default: $METADEMO_DATA, "
                   "else ../shared/data)")
    p.add_argument("--seed", type=int, default=0, help="seed of the tasks and of the initial weights")
    p.add_argument("--keep-freed-memory", action="store_true",
                   help="set glibc's malloc to keep freed memory (no trimming, no mmap for large blocks) "
                        "for the whole process, i.e. for all three implementations: see the module docstring")
    args = p.parse_args(argv)
    if args.keep_freed_memory:
        keep_freed_memory()
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    check_tasks = min(args.check_tasks if args.check_tasks is not None else (2 if args.quick else 4),
                      args.meta_batch)
    if args.meta_batch < 1 or repeats < 1 or check_tasks < 1:
        p.error("--meta-batch, --repeats and --check-tasks must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    started, started_cpu = time.perf_counter(), time.process_time()

    from metademo.data.omniglot import EpisodeSampler

    print(machine_report(args.keep_freed_memory))
    pool, source = load_pool(args.data_root, args.seed)
    print(source)
    episode = EpisodeSampler(pool, N_WAY, K_SHOT, Q_QUERIES, seed=args.seed).sample(args.meta_batch)
    print(f"setting: MAML second order, {N_WAY}-way {K_SHOT}-shot, {Q_QUERIES} queries per class, "
          f"Conv-4 ({args.hidden} channels), meta-batch {args.meta_batch}, inner lr {INNER_LR}, "
          f"inner steps {' and '.join(map(str, STEPS))}; warm-up 1, median of {repeats}"
          f"{' (quick)' if args.quick else ''}")
    sys.stdout.flush()

    # 1. The three implementations compute the same meta-gradient (float64, first tasks of this meta-batch).
    t0 = time.perf_counter()
    agreement = check_agreement(first_tasks(episode, check_tasks), args.hidden, STEPS, INNER_LR, args.seed)
    print(f"\nagreement (float64, first {check_tasks} tasks; max over tensors of ||g_ours - g||/||g||), "
          f"{time.perf_counter() - t0:.1f} s:")
    for k, errs in agreement.items():
        print(f"  {k} step{'s' if k > 1 else ' '}: vs higher {errs['higher']:.2e}  vs loop {errs['loop']:.2e}  "
              f"(higher vs loop {errs['higher_vs_loop']:.2e}; |g_ours| = {errs['norm']:.3g})")
        for name in ("higher", "loop"):
            if not errs[name] < TOLERANCE:  # not an assert: it must hold under python -O too
                raise SystemExit(f"ours and {name} disagree at {k} steps: {errs[name]:.3e} >= {TOLERANCE}")
    sys.stdout.flush()

    # 2. Timing, float32, the whole meta-batch.
    meta, module = build(args.hidden, args.seed, torch.float32)
    tasks_per_s: dict[int, dict[str, float]] = {}
    seconds: dict[int, dict[str, float]] = {}
    for k in STEPS:
        median, warm = time_round_robin(implementations(meta, module, episode, args.hidden, k), repeats)
        seconds[k] = median
        tasks_per_s[k] = {name: args.meta_batch / s for name, s in median.items()}
        print(f"  float32, {k} step{'s' if k > 1 else ''}, all {args.meta_batch} tasks (information): "
              f"ours vs higher {max_relative_error(warm['ours'], warm['higher']):.2e}, "
              f"ours vs loop {max_relative_error(warm['ours'], warm['loop']):.2e}")
        sys.stdout.flush()

    labels = {"ours": "ours (task-batched)", "higher": "higher (per task)", "loop": "torch.func loop (per task)"}
    print(f"\n{'steps':>5}  {'implementation':<28}{'s/meta-batch':>13}{'tasks/s':>10}{'ours/this':>11}")
    for k in STEPS:
        for name in ("ours", "higher", "loop"):
            ratio = tasks_per_s[k]["ours"] / tasks_per_s[k][name]
            print(f"{k:>5}  {labels[name]:<28}{seconds[k][name]:>13.3f}{tasks_per_s[k][name]:>10.1f}{ratio:>10.2f}x")
    sys.stdout.flush()

    # 3. The other learners' training throughput on the same meta-batch.
    rows = [("ProtoMAML", k, "second order", seconds[k]["ours"]) for k in STEPS]
    # --quick skips their warm-up: the kernels and the allocator are warm from the MAML timings.
    rows += other_algorithms(episode, args.hidden, args.seed, repeats, warmup=not args.quick)
    print(f"\ntraining throughput, meta_gradient on the same {args.meta_batch}-task meta-batch "
          f"(Reptile adapts on support + queries):")
    width = max(len("algorithm"), *(len(name) for name, *_ in rows))
    print(f"  {'algorithm':<{width}}{'steps':>6}  {'':<28}{'s/meta-batch':>13}{'tasks/s':>10}")
    for name, k, what, s in rows:
        print(f"  {name:<{width}}{k:>6}  {what:<28}{s:>13.3f}{args.meta_batch / s:>10.1f}")

    print(f"\ntotal {time.perf_counter() - started:.1f} s ({time.process_time() - started_cpu:.1f} s of CPU); "
          f"load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg()) if hasattr(os, 'getloadavg') else 'n/a'}")
    one = tasks_per_s[1]
    print(f"vs_higher={one['ours'] / one['higher']:.2f} vs_loop={one['ours'] / one['loop']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
