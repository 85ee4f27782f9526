"""Sine-wave regression, the first illustration of MAML (Finn et al. 2017, "Model-Agnostic
Meta-Learning for Fast Adaptation of Deep Networks", section 5.1): the sine tab's models.

Each task is a sine ``amplitude * sin(x - phase)`` (see :mod:`metademo.data.sine`), seen through K=10
points. Two learners (:mod:`metademo.algorithms.sine`) share the paper's network, an MLP 1-40-40-1 with
ReLU, and the same adaptation, plain gradient descent on the support MSE with step size 0.01: MAML, which
learns an initialisation that one such step fits to a new task, and a baseline pretrained on all tasks
jointly. They are meta-trained by the project's one outer loop (:class:`~metademo.training.trainer.Trainer`
on :class:`~metademo.training.tasks.SineTasks`) and saved as checkpoints like the image models.

Train both from scratch in well under a minute on a laptop CPU, or load the shipped ones::

    python -m metademo.sine --out-dir assets

    from metademo.sine import load_sine_models, adapt_sine
    maml, baseline = load_sine_models()
    curve = adapt_sine(maml, x, y, steps=10)  # [{"step", "loss", "prediction" on GRID}, ...]

Adaptation is a pure function of the model: it builds new tensors and never writes the model's. Nothing
here changes torch's process-wide settings: the app runs one torch thread per job, and the command line
sets one thread for itself.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .algorithms import REGRESSORS
from .algorithms.inner_loop import check_steps_lr
from .algorithms.sine import SineMAML, per_task_mse
from .checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from .data.sine import GRID, sample_task_batch
from .networks.conv4 import Params
from .networks.mlp import MLP
from .paths import assets_dir

log = logging.getLogger(__name__)

NETWORK = MLP((1, 40, 40, 1), "relu")
LEARNERS = {cls.kind: cls for cls in REGRESSORS.values()}  # "maml" -> SineMAML, "baseline" -> SinePretrained
KINDS = tuple(LEARNERS)
INNER_LR = SineMAML.default_hparams.inner_lr  # the paper's step size, for training and test, MAML and baseline
TRAIN_STEPS = SineMAML.default_hparams.train_steps  # inner steps during meta-training
TEST_STEPS = SineMAML.default_hparams.test_steps  # inner steps at test time
META_BATCH = 25  # tasks per outer step
K_SHOT = 10  # support points per task (meta-training draws as many query points again)
META_LR = 1e-3  # Adam
DEFAULT_ITERATIONS = {"maml": 4000, "baseline": 4000}
EVAL_SEED = 2017  # test tasks come from their own stream, never the training seed's
FILENAMES = {kind: f"{cls.name}.safetensors" for kind, cls in LEARNERS.items()}


@dataclass
class SineModel:
    name: str
    params: Params  # plain dict of tensors; never written in place
    inner_lr: float = INNER_LR
    kind: str = "maml"  # "maml" or "baseline"
    network: MLP = field(default_factory=lambda: NETWORK)
    metadata: dict = field(default_factory=dict)  # training and evaluation records

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def learner(self) -> SineMAML:
        cls = LEARNERS[self.kind]
        return cls(cls.default_hparams.replace(hidden=self.network.sizes[1], inner_lr=self.inner_lr), self.network)

    def predict(self, x: torch.Tensor | None = None) -> np.ndarray:
        """The unadapted model's outputs at ``x`` (default: GRID), a float32 array of shape (N,)."""
        dtype = self.params["fc1.weight"].dtype
        x = GRID.to(dtype).reshape(-1, 1) if x is None else _as_column(x, "x", dtype)
        with torch.no_grad():
            return self.network(self.params, x)[:, 0].numpy()


# ----------------------------------------------------------------------------------------------- adaptation


def _as_column(values, what: str, dtype: torch.dtype) -> torch.Tensor:
    """Numbers, a list, a numpy array or a tensor of shape (K,) or (K, 1) -> a (K, 1) tensor."""
    if isinstance(values, torch.Tensor):
        t = values.detach().to("cpu", dtype)
    else:
        try:
            t = torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=dtype)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{what} must be numbers, got {values!r:.80}") from e
    if t.dim() > 2 or (t.dim() == 2 and t.shape[1] != 1):
        raise ValueError(f"{what} must have shape (K,) or (K, 1), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{what} must be finite numbers")
    return t.reshape(-1, 1)


def adapt_sine_steps(model: SineModel, x, y, steps: int = TEST_STEPS, lr: float | None = None
                     ) -> Iterator[dict]:
    """Adapt ``model`` to the points (x, y), yielding one record per step as it is computed.

    Each record is ``{"step": i, "loss": support MSE, "prediction": float32 array (200,) on GRID}``
    for i = 0 (the unadapted model) .. ``steps``. ``x`` and ``y`` are K >= 1 numbers each (list,
    numpy or tensor, shape (K,) or (K, 1)); ``lr`` defaults to the model's inner learning rate.
    The model's parameters are never modified.
    """
    lr = model.inner_lr if lr is None else lr
    check_steps_lr(steps, lr)  # before the points: a wrong setting is the first thing to say
    dtype = model.params["fc1.weight"].dtype
    x, y = _as_column(x, "x", dtype), _as_column(y, "y", dtype)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of points, got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise ValueError("adaptation needs at least one (x, y) point; SineModel.predict() gives the prior")
    grid = GRID.to(dtype).reshape(1, -1, 1)
    learner = model.learner
    for state in learner.adapt_steps(model.params, x[None], y[None], 1, steps=steps, lr=lr):
        with torch.no_grad():
            prediction = learner.logits(state.params, grid)[0, :, 0].numpy()
        yield {"step": state.step, "loss": float(state.loss[0]), "prediction": prediction}


def adapt_sine(model: SineModel, x, y, steps: int = TEST_STEPS, lr: float | None = None) -> list[dict]:
    """All of :func:`adapt_sine_steps` at once: ``steps + 1`` records, step 0 first."""
    return list(adapt_sine_steps(model, x, y, steps, lr))


def evaluate_sine(model: SineModel, n_tasks: int = 100, k: int = K_SHOT, steps: int = TEST_STEPS,
                  seed: int = EVAL_SEED) -> dict:
    """Mean squared error on ``n_tasks`` seeded test tasks after 0..``steps`` steps on K points.

    The error is measured against the true sine on GRID, i.e. over the whole input range, not only
    at the K support points. All tasks adapt at once as one task-batched inner loop.
    """
    check_steps_lr(steps, model.inner_lr)
    rng = np.random.default_rng(seed)
    dtype = model.params["fc1.weight"].dtype
    x, y, tasks = sample_task_batch(n_tasks, k, rng)
    amplitude = torch.tensor([t.amplitude for t in tasks], dtype=torch.float64).view(-1, 1, 1)
    phase = torch.tensor([t.phase for t in tasks], dtype=torch.float64).view(-1, 1, 1)
    grid = GRID.to(torch.float64).view(1, -1, 1).expand(n_tasks, -1, -1)
    truth = (amplitude * torch.sin(grid - phase)).to(dtype)
    learner, mse = model.learner, []
    for state in learner.adapt_steps(model.params, x.to(dtype), y.to(dtype), 1, steps=steps):
        with torch.no_grad():
            mse.append(per_task_mse(learner.logits(state.params, grid.to(dtype)), truth).mean().item())
    return {"tasks": n_tasks, "k": k, "seed": seed, "inner_lr": model.inner_lr, "mse_by_step": mse}


# -------------------------------------------------------------------------------------------------- training


def meta_train_sine(iterations: int | None = None, seed: int = 0, kind: str = "maml", every: int = 100
                    ) -> Iterator[tuple[int, float, Params]]:
    """Train a sine model from scratch, yielding ``(iteration, loss, params)`` every ``every`` iterations.

    ``kind="maml"``: each iteration draws 25 tasks with 2K points, adapts one step on the first K and
    descends (Adam) the MSE on the other K through that step (second order). ``kind="baseline"``:
    the same draws, but plain regression on all 2K points of every task, no inner step. The reported
    loss is the mean over the iterations since the last report; ``params`` is a detached copy
    (training continues on its own tensors). The last report is at ``iterations``.
    """
    from .training.tasks import SineTasks
    from .training.trainer import TrainConfig, Trainer

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    iterations = DEFAULT_ITERATIONS[kind] if iterations is None else iterations
    for name, v in (("iterations", iterations), ("every", every)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number above 0, got {v!r}")
    learner = LEARNERS[kind](network=NETWORK)
    config = TrainConfig(learner.name, out=None, ways=1, shots=K_SHOT, meta_batch=META_BATCH,
                         iterations=iterations, meta_lr=META_LR, seed=seed, val_every=every)
    trainer = Trainer(config, progress=False, tasks=SineTasks(K_SHOT, seed), learner=learner)
    for report in trainer.iterate():
        yield report["iteration"], report["train_loss"], {k: v.detach().clone() for k, v in trainer.meta.items()}


def train_baseline(iterations: int | None = None, seed: int = 0, every: int = 100
                   ) -> Iterator[tuple[int, float, Params]]:
    """:func:`meta_train_sine` for the pretrained baseline (joint regression on all tasks)."""
    return meta_train_sine(iterations, seed, kind="baseline", every=every)


def train_sine_model(kind: str = "maml", iterations: int | None = None, seed: int = 0) -> SineModel:
    """Train to the end and wrap the result, with the training record in its metadata."""
    start = time.perf_counter()
    curve, params = [], None
    for it, loss, latest in meta_train_sine(iterations, seed, kind):
        curve.append([it, round(loss, 5)])
        params = latest
    wall = time.perf_counter() - start
    training = {"iterations": curve[-1][0], "seed": seed, "meta_batch": META_BATCH, "k": K_SHOT,
                "train_steps": TRAIN_STEPS if kind == "maml" else 0, "meta_lr": META_LR, "optimizer": "adam",
                "second_order": kind == "maml", "wall_s": round(wall, 2), "loss_curve": curve}
    return SineModel(f"sine_{kind}", params, INNER_LR, kind, NETWORK, {"training": training})


# ------------------------------------------------------------------------------------------------ checkpoints


def save_sine_model(path: str | os.PathLike, model: SineModel) -> Path:
    learner = model.learner
    return save_checkpoint(path, Checkpoint(learner.name, learner.hparams, model.params,
                                            {**model.metadata, "name": model.name}, model.network))


def load_sine_model(path: str | os.PathLike) -> SineModel:
    """Read one model written by :func:`save_sine_model`; checks format, network and tensor shapes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sine model not found: {path}")
    try:
        ckpt = load_checkpoint(path)
    except ValueError as e:
        raise ValueError(f"{path} is not a readable metademo sine model: {e}") from e
    cls = get_regressor(ckpt.algorithm, path)
    meta = {k: v for k, v in ckpt.metadata.items() if k != "network"}
    return SineModel(meta.pop("name", ckpt.algorithm), ckpt.params, ckpt.hparams.inner_lr, cls.kind, ckpt.network, meta)


def get_regressor(algorithm: str, path: Path) -> type[SineMAML]:
    if algorithm not in REGRESSORS:
        raise ValueError(f"{path} is not a readable metademo sine model: it holds a {algorithm} model")
    return REGRESSORS[algorithm]


def save_sine_models(out_dir: str | os.PathLike, maml: SineModel, baseline: SineModel) -> tuple[Path, Path]:
    """Write ``sine_maml.safetensors`` and ``sine_baseline.safetensors`` into ``out_dir``."""
    out_dir = Path(out_dir)
    return save_sine_model(out_dir / FILENAMES["maml"], maml), save_sine_model(out_dir / FILENAMES["baseline"],
                                                                                baseline)


_trained: dict[str, SineModel] = {}  # models trained because their file was missing, once per process
_train_lock = threading.Lock()


def load_sine_models(folder: str | os.PathLike | None = None) -> tuple[SineModel, SineModel]:
    """``(maml, baseline)`` from ``folder`` (default :func:`metademo.paths.assets_dir`).

    A missing file is not an error: that model is trained with the defaults (well under a minute),
    logged, kept for the rest of the process, and not written anywhere. A file that exists but
    cannot be read raises ``ValueError``.
    """
    folder = Path(folder) if folder is not None else assets_dir()
    models = []
    for kind in KINDS:
        path = folder / FILENAMES[kind]
        if path.is_file():
            models.append(load_sine_model(path))
            continue
        with _train_lock:
            if kind not in _trained:
                log.warning("%s not found: training the %s sine model from scratch (python -m metademo.sine "
                            "--out-dir %s writes it)", path, kind, folder)
                _trained[kind] = train_sine_model(kind)
                log.warning("trained the %s sine model in %.1f s", kind, _trained[kind].metadata["training"]["wall_s"])
        models.append(_trained[kind])
    return models[0], models[1]


# -------------------------------------------------------------------------------------------------------- CLI


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m metademo.sine", description="Train MAML and the pretrained "
                                "baseline on sine regression (Finn et al. 2017, 5.1) and write both models.")
    p.add_argument("--out-dir", default="assets", help="folder for sine_maml/sine_baseline.safetensors")
    p.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS["maml"], help="MAML outer steps")
    p.add_argument("--baseline-iterations", type=int, default=DEFAULT_ITERATIONS["baseline"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-tasks", type=int, default=100, help="seeded test tasks for the report (K=10)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)  # these tensors are tiny: more threads only add synchronisation
    models = []
    for kind, iterations in (("maml", args.iterations), ("baseline", args.baseline_iterations)):
        model = train_sine_model(kind, iterations, args.seed)
        evaluation = evaluate_sine(model, args.test_tasks)
        model.metadata["evaluation"] = evaluation
        mse = evaluation["mse_by_step"]
        print(f"{kind:8s} {iterations} iterations in {model.metadata['training']['wall_s']:.1f} s; "
              f"test MSE on {args.test_tasks} tasks (K={K_SHOT}): step 0 {mse[0]:.3f}, step 1 {mse[1]:.3f}, "
              f"step {TEST_STEPS} {mse[TEST_STEPS]:.3f}")
        models.append(model)
    for path in save_sine_models(args.out_dir, *models):
        print(f"wrote {path}")
    ratio = models[1].metadata["evaluation"]["mse_by_step"][-1] / max(models[0].metadata["evaluation"]
                                                                       ["mse_by_step"][-1], 1e-12)
    if not math.isfinite(ratio) or ratio < 2:
        print("warning: MAML is not clearly better than the baseline", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
