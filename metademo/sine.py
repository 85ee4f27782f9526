"""Sine-wave regression, the first illustration of MAML (Finn et al. 2017, "Model-Agnostic
Meta-Learning for Fast Adaptation of Deep Networks", section 5.1).

Each task is a sine ``amplitude * sin(x - phase)`` (see :mod:`metademo.data.sine`), seen through K=10
points. Two models share the paper's network, an MLP 1-40-40-1 with ReLU, and the same adaptation,
plain gradient descent on the support MSE with step size 0.01:

* **MAML** learns an initialisation such that *one* such step on a new task's K points already fits
  the task. Its meta-gradient is exact second order: the inner step is built with
  ``create_graph=True`` and differentiated through.
* **The pretrained baseline** is trained jointly on all tasks, plain regression on points pooled from
  many tasks. Tasks disagree, so it learns their mean function (about ``-1.6 cos(x)``), from which a
  few small gradient steps barely move.

Train both from scratch in well under a minute on a laptop CPU, or load the shipped ones::

    python -m metademo.sine --out-dir assets

    from metademo.sine import load_sine_models, adapt_sine
    maml, baseline = load_sine_models()
    curve = adapt_sine(maml, x, y, steps=10)  # [{"step", "loss", "prediction" on GRID}, ...]

Adaptation is a pure function of the model: it builds new tensors and never writes the model's. It
runs on the image models' inner loop and outer step (:class:`SineMAML`, a
:class:`~metademo.algorithms.inner_loop.MAMLFamily` learner with no head and a squared-error loss), so
there is one inner loop in the project. Nothing here changes torch's process-wide settings: the app
runs one torch thread per job, and the command line sets one thread for itself.
"""

from __future__ import annotations

import argparse
import json
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

from .algorithms.base import HParams
from .algorithms.inner_loop import MAMLFamily, check_steps_lr
from .data.episodes import Episode
from .data.sine import GRID, sample_task_batch
from .networks.conv4 import Params
from .networks.mlp import MLP

log = logging.getLogger(__name__)

NETWORK = MLP((1, 40, 40, 1), "relu")
KINDS = ("maml", "baseline")
INNER_LR = 0.01  # the paper's step size, for training and test, MAML and baseline alike
TRAIN_STEPS = 1  # inner steps during meta-training
TEST_STEPS = 10  # inner steps at test time
META_BATCH = 25  # tasks per outer step
K_SHOT = 10  # support points per task (meta-training draws as many query points again)
META_LR = 1e-3  # Adam
DEFAULT_ITERATIONS = {"maml": 4000, "baseline": 4000}
EVAL_SEED = 2017  # test tasks come from their own stream, never the training seed's
FORMAT = "metademo-sine/1"
FILENAMES = {"maml": "sine_maml.safetensors", "baseline": "sine_baseline.safetensors"}


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

    def predict(self, x: torch.Tensor | None = None) -> np.ndarray:
        """The unadapted model's outputs at ``x`` (default: GRID), a float32 array of shape (N,)."""
        dtype = self.params["fc1.weight"].dtype
        x = GRID.to(dtype).reshape(-1, 1) if x is None else _as_column(x, "x", dtype)
        with torch.no_grad():
            return self.network(self.params, x)[:, 0].numpy()


# ----------------------------------------------------------------------------------------------- inner loop


def per_task_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(T, B, 1) predictions and targets -> (T,) mean squared error of each task ((B, 1) -> scalar)."""
    return ((pred - y) ** 2).mean((-2, -1))


class SineMAML(MAMLFamily):
    """The sine regressor on the image models' inner loop (:class:`~metademo.algorithms.inner_loop.GradientLearner`):
    no task head (the network's output is the prediction), every parameter adapted, mean squared error for
    the inner steps and for the outer loop (exact second order). The baseline adapts with it too."""

    name = "sine_maml"
    title = "MAML (sine regression)"
    paper = "Finn et al. 2017, section 5.1"
    head = None
    first_order = False

    def __init__(self, network: MLP = NETWORK, inner_lr: float = INNER_LR, train_steps: int = TRAIN_STEPS,
                 test_steps: int = TEST_STEPS):
        self.hparams = HParams(hidden=network.sizes[1], inner_lr=inner_lr, train_steps=train_steps,
                               test_steps=test_steps)
        self.network = network

    def init_meta_params(self, seed=0, dtype=torch.float32):
        return self.network.init_params(seed, dtype)

    def body(self, meta):
        return dict(meta)

    def readout(self, params, features):
        return features  # the network's output is the prediction

    def task_loss(self, outputs, y):
        return per_task_mse(outputs, y)

    def task_accuracy(self, outputs, y):
        return None


def adapt_params(network: MLP, meta: Params, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float,
                 create_graph: bool = False) -> Params:
    """``steps`` steps of gradient descent on each task's support MSE, from the meta-parameters.

    ``x``, ``y`` are (T, K, 1); the result is task-batched (leading dimension T). With
    ``create_graph=True`` the steps stay differentiable: MAML's exact second-order meta-gradient.
    """
    return SineMAML(network, lr).adapted_params(meta, x, y, 1, steps=steps, lr=lr, create_graph=create_graph)


def sine_meta_loss(network: MLP, meta: Params, support_x: torch.Tensor, support_y: torch.Tensor,
                   query_x: torch.Tensor, query_y: torch.Tensor, steps: int = TRAIN_STEPS,
                   inner_lr: float = INNER_LR, first_order: bool = False) -> torch.Tensor:
    """MAML's objective: the mean over tasks of the query MSE after ``steps`` inner steps."""
    learner = SineMAML(network, inner_lr, train_steps=steps)
    adapted = learner.adapted_params(meta, support_x, support_y, 1, steps=steps, create_graph=not first_order)
    return learner.task_loss(learner.logits(adapted, query_x), query_y).mean()


def adapt_steps(network: MLP, params: Params, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float
                ) -> Iterator[tuple[int, Params, torch.Tensor]]:
    """Inference adaptation: yields ``(step, params, support MSE)`` for step 0..steps, detached.

    One task with ``x`` (K, 1) gives plain parameters and a scalar loss; tasks ``x`` (T, K, 1) give
    task-batched parameters and (T,) losses. ``params`` are the meta-parameters (never modified).
    """
    single = x.dim() == 2
    if single:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    for state in SineMAML(network, lr).adapt_steps(params, x, y, 1, steps=steps, lr=lr):
        adapted = {k: v.detach() for k, v in state.params.items()}
        if single:
            yield state.step, {k: v[0] for k, v in adapted.items()}, state.loss[0]
        else:
            yield state.step, adapted, state.loss


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
    grid = GRID.to(dtype).reshape(-1, 1)
    for step, params, loss in adapt_steps(model.network, model.params, x, y, steps, lr):
        with torch.no_grad():
            prediction = model.network(params, grid)[:, 0].numpy()
        yield {"step": step, "loss": float(loss), "prediction": prediction}


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
    mse = []
    for _, adapted, _ in adapt_steps(model.network, model.params, x.to(dtype), y.to(dtype), steps, model.inner_lr):
        with torch.no_grad():
            mse.append(per_task_mse(model.network(adapted, grid.to(dtype)), truth).mean().item())
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
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    iterations = DEFAULT_ITERATIONS[kind] if iterations is None else iterations
    for name, v in (("iterations", iterations), ("every", every)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number above 0, got {v!r}")
    rng = np.random.default_rng(seed)
    params = {k: v.requires_grad_() for k, v in NETWORK.init_params(seed).items()}
    # The fused kernel updates all eight tensors at once: a quarter of an iteration's time saved.
    optimizer = torch.optim.Adam(params.values(), lr=META_LR, fused=True)
    learner = SineMAML(NETWORK)
    done = 0
    while done < iterations:
        n = min(every, iterations - done)
        total = 0.0
        # Grad mode is set per chunk, never across a yield.
        with torch.enable_grad():
            for _ in range(n):
                x, y, _ = sample_task_batch(META_BATCH, 2 * K_SHOT, rng)
                if kind == "maml":  # the learner's own outer step, as for the image models
                    grads, metrics = learner.meta_gradient(
                        params, Episode(x[:, :K_SHOT], y[:, :K_SHOT], x[:, K_SHOT:], y[:, K_SHOT:], 1))
                    for k, p in params.items():
                        p.grad = grads[k]
                    loss = metrics["loss"]
                else:
                    optimizer.zero_grad(set_to_none=True)
                    mse = learner.task_loss(NETWORK(params, x), y).mean()
                    mse.backward()
                    loss = mse.item()
                optimizer.step()
                total += loss
        done += n
        yield done, total / n, {k: v.detach().clone() for k, v in params.items()}


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
    meta = {**model.metadata, "format": FORMAT, "name": model.name, "kind": model.kind, "inner_lr": model.inner_lr,
            "network": {"name": "mlp", "sizes": list(model.network.sizes), "activation": model.network.activation}}
    from .checkpoints import write_safetensors

    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.params.items()}
    return write_safetensors(path, tensors, {"metademo": json.dumps(meta)})


def load_sine_model(path: str | os.PathLike) -> SineModel:
    """Read one model written by :func:`save_sine_model`; checks format, network and tensor shapes."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sine model not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("metademo", "{}"))
        params = load_file(str(path))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
        net = meta.pop("network")
        network = MLP(tuple(net["sizes"]), net.get("activation", "relu"))
        expected = {k: tuple(v.shape) for k, v in network.init_params().items()}
        if {k: tuple(v.shape) for k, v in params.items()} != expected:
            raise ValueError(f"tensors do not match an MLP {network.sizes}")
        model = SineModel(meta.pop("name"), params, float(meta.pop("inner_lr")), meta.pop("kind"), network)
    except (SafetensorError, json.JSONDecodeError, OSError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path} is not a readable metademo sine model: {e}") from e
    meta.pop("format")
    model.metadata = meta
    return model


def save_sine_models(out_dir: str | os.PathLike, maml: SineModel, baseline: SineModel) -> tuple[Path, Path]:
    """Write ``sine_maml.safetensors`` and ``sine_baseline.safetensors`` into ``out_dir``."""
    out_dir = Path(out_dir)
    return save_sine_model(out_dir / FILENAMES["maml"], maml), save_sine_model(out_dir / FILENAMES["baseline"],
                                                                                baseline)


def default_assets_dir() -> Path:
    """$METADEMO_ASSETS if set, else the repository's ``assets/`` (read at call time)."""
    return Path(os.environ.get("METADEMO_ASSETS") or Path(__file__).resolve().parents[1] / "assets")


_trained: dict[str, SineModel] = {}  # models trained because their file was missing, once per process
_train_lock = threading.Lock()


def load_sine_models(assets_dir: str | os.PathLike | None = None) -> tuple[SineModel, SineModel]:
    """``(maml, baseline)`` from ``assets_dir`` (default :func:`default_assets_dir`).

    A missing file is not an error: that model is trained with the defaults (well under a minute),
    logged, kept for the rest of the process, and not written anywhere. A file that exists but
    cannot be read raises ``ValueError``.
    """
    folder = Path(assets_dir) if assets_dir is not None else default_assets_dir()
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
