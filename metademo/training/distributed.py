"""Data-parallel meta-training: ``torchrun --nproc_per_node=P -m metademo.train ...``.

Every process samples the same meta-batch (same seed), computes the meta-gradient of its own
contiguous share of the tasks, and the shares are averaged with an all-reduce (gloo on CPU, nccl on
CUDA) before the identical optimiser step on every process. This is DistributedDataParallel's
gradient averaging done explicitly: meta-gradients come from ``torch.autograd.grad`` (and Reptile's
is not a gradient at all), which DDP's backward hooks never see. Every process validates on the same
episodes (so all agree on the best); process 0 alone writes checkpoints.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from ..algorithms import Episode, MetaLearner
from .trainer import Trainer


def shard(episode: Episode, rank: int, world: int) -> Episode:
    t = episode.support_x.shape[0]
    if t % world:
        raise ValueError(f"meta-batch {t} must be divisible by the number of processes {world}")
    s = slice(rank * t // world, (rank + 1) * t // world)
    return Episode(episode.support_x[s], episode.support_y[s], episode.query_x[s], episode.query_y[s],
                   episode.n_way)


def distributed_meta_gradient(learner: MetaLearner, meta: dict, episode: Episode, **kw):
    """The meta-gradient of the whole ``episode`` batch, each process doing 1/world of the tasks."""
    rank, world = dist.get_rank(), dist.get_world_size()
    grads, metrics = learner.meta_gradient(meta, shard(episode, rank, world), **kw)
    first = next(iter(grads.values()))
    scalars = torch.tensor([metrics["loss"], metrics["accuracy"]], dtype=first.dtype, device=first.device)
    flat = torch.cat([g.reshape(-1) for g in grads.values()] + [scalars])
    dist.all_reduce(flat)
    flat /= world
    out, i = {}, 0
    for k, g in grads.items():
        out[k] = flat[i:i + g.numel()].view_as(g)
        i += g.numel()
    return out, {"loss": flat[i].item(), "accuracy": flat[i + 1].item()}


class DistributedTrainer(Trainer):
    def __init__(self, config, device="cpu", progress=True):
        device = torch.device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
        super().__init__(config, device, progress=progress and self.rank == 0)

    def meta_gradient(self, episode, **kw):
        return distributed_meta_gradient(self.learner, self.meta, episode, **kw)

    def save_checkpoint(self, val):
        if self.rank == 0:
            super().save_checkpoint(val)

    def save_state(self):
        if self.rank == 0:
            super().save_state()
        dist.barrier()
