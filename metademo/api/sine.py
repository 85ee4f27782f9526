"""Sine-wave regression, MAML's first picture (:mod:`metademo.sine`), for pages and notebooks.

    maml, baseline = load_sine_models()
    wave = sine_wave(amplitude=3.0, phase=1.0, k=10, seed=0)      # K points of one wave, and the wave itself
    for record in adapt_sine_wave(maml, wave, steps=10):          # step by step
        record["step"], record["prediction"], record["error"]     # on GRID; error over the whole wave

:mod:`metademo.sine` (and torch with it) is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .checks import check_lr, check_number, check_steps, check_whole

__all__ = ["SineWave", "adapt_sine_steps", "adapt_sine_wave", "evaluate_sine", "load_sine_models", "meta_train_sine",
           "sine_model", "sine_wave"]

MAX_POINTS = 50
MAX_SINE_LR = 1.0


def load_sine_models(folder=None):
    """``(maml, baseline)``, the shipped sine models (:func:`metademo.sine.load_sine_models`)."""
    from ..sine import load_sine_models as load

    return load(folder)


def adapt_sine_steps(model, x, y, steps: int | None = None, lr: float | None = None) -> Iterator[dict]:
    """``{"step", "loss", "prediction"}`` after 0, 1, ..., ``steps`` gradient steps on the points (x, y)
    (:func:`metademo.sine.adapt_sine_steps`; ``steps`` default the models' test steps)."""
    from .. import sine

    return sine.adapt_sine_steps(model, x, y, sine.TEST_STEPS if steps is None else steps, lr)


def meta_train_sine(iterations: int | None = None, seed: int = 0, kind: str = "maml", every: int = 100):
    """Meta-train a sine model from scratch, yielding ``(iteration, loss, params)`` every ``every`` iterations
    (:func:`metademo.sine.meta_train_sine`); :func:`sine_model` wraps the params."""
    from ..sine import meta_train_sine as train

    return train(iterations, seed, kind, every)


def evaluate_sine(model, n_tasks: int = 100, k: int = 10, steps: int | None = None, seed: int | None = None) -> dict:
    """Mean squared error over the whole wave on seeded test waves after 0..``steps`` steps
    (:func:`metademo.sine.evaluate_sine`)."""
    from .. import sine

    return sine.evaluate_sine(model, n_tasks, k, sine.TEST_STEPS if steps is None else steps,
                              sine.EVAL_SEED if seed is None else seed)


def sine_model(params: dict, name: str = "your MAML"):
    """A MAML sine model from meta-trained parameters (the last ``params`` of :func:`meta_train_sine`)."""
    from ..sine import INNER_LR, SineModel

    return SineModel(name, params, INNER_LR, "maml")


@dataclass(frozen=True, eq=False)
class SineWave:
    """One wave ``amplitude * sin(x - phase)``: K points of it, and the wave itself on :data:`GRID`."""

    amplitude: float
    phase: float
    x: np.ndarray  # (K, 1) float32
    y: np.ndarray  # (K, 1) float32
    grid: np.ndarray  # (200,) where the models' predictions are drawn
    truth: np.ndarray  # (200,) the wave on the grid


def sine_wave(amplitude: float, phase: float, k: int, seed: int) -> SineWave:
    """K points of the wave, drawn uniformly in [-5, 5] with the random ``seed`` (amplitude 0.1 to 5, as in
    meta-training; phase 0 to 2 pi)."""
    from ..data.sine import SineTask, sample_points

    amplitude = check_number(amplitude, "the amplitude", 0.1, 5.0)
    phase = check_number(phase, "the phase", 0.0, 2 * math.pi)
    k = check_whole(k, "K (the number of points)", 1, MAX_POINTS)
    seed = check_whole(seed, "the seed", 0, 2**32 - 1)
    task = SineTask(amplitude, phase)
    x, y = sample_points(task, k, np.random.default_rng(seed))
    grid = _grid()
    return SineWave(amplitude, phase, x.numpy(), y.numpy(), grid, task(grid))


def adapt_sine_wave(model, wave: SineWave, steps: int, lr: float | None = None) -> Iterator[dict]:
    """:func:`adapt_sine_steps` on the wave's points, each record with its ``"error"``: the mean squared error
    over the whole wave (on the grid, as :func:`evaluate_sine` measures it; not finite once it diverged).
    ``lr`` (default the model's) is at most 1."""
    steps = check_steps(steps)
    lr = None if lr is None else check_lr(lr, "the learning rate", MAX_SINE_LR)
    for record in adapt_sine_steps(model, wave.x, wave.y, steps, lr):
        with np.errstate(over="ignore", invalid="ignore"):
            record["error"] = float(np.mean((record["prediction"] - wave.truth) ** 2))
        yield record


def _grid() -> np.ndarray:
    from ..data.sine import GRID

    return GRID.numpy()


def __getattr__(name: str):
    if name == "GRID":  # where predictions are drawn and errors measured (a torch tensor)
        from ..data.sine import GRID

        return GRID
    if name == "SINE_INNER_LR":  # the sine models' inner learning rate (the paper's 0.01)
        from ..sine import INNER_LR

        return INNER_LR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
