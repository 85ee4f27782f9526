"""Two CPU processes (gloo) compute the same meta-gradient as one process on the same tasks."""

import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from metademo.algorithms import MAML, Reptile
from metademo.training.distributed import distributed_meta_gradient
from tests.test_algorithms import make_episode

LEARNERS = (MAML, Reptile)  # a true meta-gradient, and Reptile's update direction


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(cls):
    learner = cls(cls.default_hparams.replace(hidden=4, train_steps=2))
    meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(seed=3, dtype=torch.float64).items()}
    return learner, meta


def worker(rank, world, port, folder):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        for cls in LEARNERS:
            grads, metrics = distributed_meta_gradient(*setup(cls), make_episode(tasks=4))
            if rank == 0:
                save_file({k: v.contiguous() for k, v in grads.items()}, f"{folder}/{cls.name}.safetensors",
                          metadata={"loss": repr(metrics["loss"])})
    finally:
        dist.destroy_process_group()


def test_two_processes_give_the_single_process_meta_gradient(tmp_path):
    mp.start_processes(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True, start_method="spawn")
    for cls in LEARNERS:
        path = str(tmp_path / f"{cls.name}.safetensors")
        grads = load_file(path)
        with safe_open(path, framework="pt") as f:
            loss = float(f.metadata()["loss"])
        learner, meta = setup(cls)
        expected, expected_metrics = learner.meta_gradient(meta, make_episode(tasks=4))
        for k in expected:
            torch.testing.assert_close(grads[k], expected[k], rtol=1e-10, atol=1e-13)
        assert abs(loss - expected_metrics["loss"]) <= 1e-10 * abs(expected_metrics["loss"])
