"""Tests for sine-wave regression (Finn et al. 2017, 5.1): tasks, MLP, adaptation, MAML's gradient, models."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from metademo import sine
from metademo.algorithms.sine import SineMAML
from metademo.data.episodes import Episode
from metademo.data.sine import (
    AMPLITUDE_RANGE,
    PHASE_RANGE,
    X_RANGE,
    SineTask,
    sample_points,
    sample_task_batch,
    sample_tasks,
)
from metademo.networks.mlp import MLP
from metademo.sine import (
    GRID,
    SineModel,
    adapt_sine,
    adapt_sine_steps,
    evaluate_sine,
    load_sine_model,
    load_sine_models,
    meta_train_sine,
    save_sine_models,
)

ASSETS = Path(__file__).resolve().parents[1] / "assets"


# --------------------------------------------------------------------------------------------------- tasks


def test_task_family_ranges():
    tasks = sample_tasks(2000, np.random.default_rng(0))
    amp = np.array([t.amplitude for t in tasks])
    phase = np.array([t.phase for t in tasks])
    assert AMPLITUDE_RANGE == (0.1, 5.0) and PHASE_RANGE == (0.0, math.pi) and X_RANGE == (-5.0, 5.0)
    assert amp.min() >= 0.1 and amp.max() <= 5.0 and amp.min() < 0.2 and amp.max() > 4.9  # fills the range
    assert phase.min() >= 0 and phase.max() <= math.pi and phase.min() < 0.1 and phase.max() > math.pi - 0.1

    x, y = sample_points(tasks[0], 500, np.random.default_rng(1))
    assert x.shape == y.shape == (500, 1) and x.dtype == y.dtype == torch.float32
    assert x.min() >= -5 and x.max() <= 5 and x.min() < -4.9 and x.max() > 4.9
    torch.testing.assert_close(y, tasks[0](x))
    assert SineTask(2.0, 0.5)(np.array([1.0])) == pytest.approx(2.0 * math.sin(0.5))


def test_task_batch_is_consistent_and_seeded():
    x, y, tasks = sample_task_batch(7, 12, np.random.default_rng(3))
    assert x.shape == y.shape == (7, 12, 1) and x.dtype == torch.float32 and len(tasks) == 7
    for i, task in enumerate(tasks):
        torch.testing.assert_close(y[i], task(x[i].double()).float())
    x2, y2, tasks2 = sample_task_batch(7, 12, np.random.default_rng(3))
    assert torch.equal(x, x2) and torch.equal(y, y2) and tasks == tasks2


# ---------------------------------------------------------------------------------------------------- MLP


def test_mlp_batched_matches_unbatched():
    net = MLP()
    per_task = [net.init_params(seed) for seed in range(3)]
    stacked = {k: torch.stack([p[k] for p in per_task]) for k in per_task[0]}
    x = torch.randn(3, 8, 1)
    out = net.forward(stacked, x)
    assert out.shape == (3, 8, 1)
    for i in range(3):
        single = net.forward(per_task[i], x[i])
        assert single.shape == (8, 1)
        torch.testing.assert_close(out[i], single)
    # Plain parameters shared by every task, with a task dimension on the inputs only.
    torch.testing.assert_close(net.forward(per_task[0], x), torch.stack([net(per_task[0], xi) for xi in x]))
    assert {k: tuple(v.shape) for k, v in per_task[0].items()} == {
        "fc1.weight": (40, 1), "fc1.bias": (40,), "fc2.weight": (40, 40), "fc2.bias": (40,),
        "fc3.weight": (1, 40), "fc3.bias": (1,)}
    assert net.init_params(5, torch.float64)["fc2.weight"].dtype == torch.float64
    torch.testing.assert_close(net.init_params(5)["fc2.weight"], net.init_params(5)["fc2.weight"])


# --------------------------------------------------------------------------------------------- adaptation


def _toy_model(seed: int = 0) -> SineModel:
    return SineModel("toy", sine.NETWORK.init_params(seed), kind="maml")


def test_adaptation_never_changes_the_model():
    model = _toy_model()
    before = {k: v.clone() for k, v in model.params.items()}
    x, y = sample_points(SineTask(3.0, 1.0), 10, np.random.default_rng(0))
    records = adapt_sine(model, x, y, steps=10, lr=0.05)
    assert [r["step"] for r in records] == list(range(11))
    assert all(r["prediction"].shape == (200,) and r["prediction"].dtype == np.float32 for r in records)
    assert records[-1]["loss"] < records[0]["loss"]  # it did adapt...
    assert set(model.params) == set(before)
    for k, v in model.params.items():  # ...but only new tensors
        assert torch.equal(v, before[k]) and not v.requires_grad and v.grad is None
    np.testing.assert_array_equal(records[0]["prediction"], model.predict())
    # The generator gives the same records one by one; inputs may be lists of shape (K,).
    streamed = list(adapt_sine_steps(model, x.ravel().tolist(), y.ravel().tolist(), steps=10, lr=0.05))
    for a, b in zip(records, streamed):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
        np.testing.assert_allclose(a["prediction"], b["prediction"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"x": [], "y": []}, "at least one"),
    ({"x": [1.0, 2.0], "y": [1.0]}, "same number"),
    ({"x": [float("nan")], "y": [1.0]}, "finite"),
    ({"x": [[1.0, 2.0]], "y": [1.0]}, "shape"),
    ({"x": [1.0], "y": [1.0], "steps": -1}, "steps"),
    ({"x": [1.0], "y": [1.0], "lr": 0.0}, "lr"),
])
def test_adaptation_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        adapt_sine(_toy_model(), **kwargs)


def test_batched_adaptation_matches_one_task_at_a_time():
    model = _toy_model(1)
    x, y, _ = sample_task_batch(4, 10, np.random.default_rng(2))
    learner = model.learner
    batched = learner.adapted_params(model.params, x, y, 1, steps=3, lr=0.02)
    for i in range(4):
        single = learner.adapted_params(model.params, x[i:i + 1], y[i:i + 1], 1, steps=3, lr=0.02)
        for k in single:
            torch.testing.assert_close(batched[k][i], single[k][0], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------- meta-gradient


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("steps", [1, 2])
def test_maml_meta_gradient_matches_finite_differences(activation, steps):
    """Exact second order: the autograd meta-gradient equals central differences of the meta-loss."""
    net = MLP((1, 5, 5, 1), activation)
    meta = {k: v.requires_grad_() for k, v in net.init_params(3, torch.float64).items()}
    x, y, _ = sample_task_batch(3, 8, np.random.default_rng(4))
    x, y = x.double(), y.double()
    args = (x[:, :4], y[:, :4], x[:, 4:], y[:, 4:])
    lr = 0.05  # large enough that the inner step's curvature matters

    learner = SineMAML(SineMAML.default_hparams.replace(inner_lr=lr, train_steps=steps), network=net)

    def loss(params):
        """MAML's objective evaluated directly: adapt, then the query MSE."""
        adapted = learner.adapted_params(params, args[0], args[1], 1, steps=steps)
        return learner.task_loss(learner.logits(adapted, args[2]), args[3]).mean()

    episode = Episode(*args, n_way=1)
    grads = list(learner.meta_gradient(meta, episode)[0].values())
    first_order = list(learner.meta_gradient(meta, episode, first_order=True)[0].values())
    norm = math.sqrt(sum((g * g).sum().item() for g in grads))
    gen = torch.Generator().manual_seed(5)
    eps = 1e-6  # small enough that no ReLU kink lies within eps of these points
    for _ in range(3):
        d = [torch.randn(v.shape, generator=gen, dtype=torch.float64) for v in meta.values()]
        scale = math.sqrt(sum((u * u).sum().item() for u in d))
        d = [u / scale for u in d]
        with torch.no_grad():
            plus = loss({k: v + eps * u for (k, v), u in zip(meta.items(), d)}).item()
            minus = loss({k: v - eps * u for (k, v), u in zip(meta.items(), d)}).item()
        numeric = (plus - minus) / (2 * eps)
        exact = sum((g * u).sum().item() for g, u in zip(grads, d))
        approx = sum((g * u).sum().item() for g, u in zip(first_order, d))
        # Relative to the directional derivative, floored at 1% of |grad| so a direction nearly
        # orthogonal to the gradient cannot make a tiny denominator.
        denominator = max(abs(exact), 1e-2 * norm)
        assert abs(numeric - exact) / denominator < 1e-6
        assert abs(numeric - approx) / denominator > 1e-4  # first order is measurably different


def test_meta_gradient_needs_no_grad_mode():
    """Adaptation at inference works under no_grad (the UI may call it there)."""
    model = _toy_model()
    x, y = sample_points(SineTask(1.0, 0.0), 5, np.random.default_rng(0))
    with torch.no_grad():
        records = adapt_sine(model, x, y, steps=2)
    assert records[2]["loss"] < records[0]["loss"]


# ------------------------------------------------------------------------------------------------ training


def test_short_meta_training_decreases_meta_loss():
    reports = list(meta_train_sine(200, seed=1, every=50))
    assert [r[0] for r in reports] == [50, 100, 150, 200]
    assert reports[-1][1] < 0.9 * reports[0][1]
    assert set(reports[-1][2]) == set(sine.NETWORK.init_params()) and not reports[-1][2]["fc1.weight"].requires_grad
    assert not torch.equal(reports[0][2]["fc2.weight"], reports[-1][2]["fc2.weight"])  # copies, not live tensors
    baseline = list(sine.train_baseline(100, seed=1, every=100))
    assert len(baseline) == 1 and math.isfinite(baseline[0][1])
    with pytest.raises(ValueError, match="kind"):
        next(meta_train_sine(10, kind="reptile"))


# ---------------------------------------------------------------------------------------------- shipped models


def _grid_mse(model: SineModel, task: SineTask, rng) -> float:
    x, y = sample_points(task, 10, rng)
    prediction = adapt_sine(model, x, y, steps=10)[-1]["prediction"]
    return float(np.mean((prediction - task(GRID.numpy())) ** 2))


def test_shipped_maml_beats_baseline():
    maml = load_sine_model(ASSETS / "sine_maml.safetensors")
    baseline = load_sine_model(ASSETS / "sine_baseline.safetensors")
    assert (maml.kind, baseline.kind) == ("maml", "baseline") and maml.inner_lr == baseline.inner_lr == 0.01
    rng = np.random.default_rng(123)
    tasks = sample_tasks(20, rng)
    maml_mse = np.mean([_grid_mse(maml, t, rng) for t in tasks])
    rng = np.random.default_rng(123)
    sample_tasks(20, rng)  # the same support points for both models
    baseline_mse = np.mean([_grid_mse(baseline, t, rng) for t in tasks])
    assert maml_mse < 0.6 and baseline_mse > 1.0 and maml_mse < 0.3 * baseline_mse, (maml_mse, baseline_mse)


def test_save_load_roundtrip_and_missing_files(tmp_path, monkeypatch, caplog):
    model = _toy_model(2)
    model.metadata = {"training": {"iterations": 1}}
    baseline = SineModel("b", sine.NETWORK.init_params(3), kind="baseline")
    paths = save_sine_models(tmp_path, model, baseline)
    assert [p.name for p in paths] == ["sine_maml.safetensors", "sine_baseline.safetensors"]
    loaded, loaded_baseline = load_sine_models(tmp_path)
    assert (loaded.name, loaded.kind, loaded.metadata) == ("toy", "maml", {"training": {"iterations": 1}})
    for k in model.params:
        assert torch.equal(loaded.params[k], model.params[k])
    assert loaded_baseline.kind == "baseline"
    evaluation = evaluate_sine(loaded, n_tasks=5, steps=2)
    assert len(evaluation["mse_by_step"]) == 3

    (tmp_path / "sine_maml.safetensors").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable"):
        load_sine_models(tmp_path)

    # A missing file is trained (here briefly), logged and kept for the process.
    (tmp_path / "sine_maml.safetensors").unlink()
    calls, train = [], sine.train_sine_model

    def quick(kind):
        calls.append(kind)
        return train(kind, iterations=5)

    monkeypatch.setattr(sine, "_trained", {})
    monkeypatch.setattr(sine, "train_sine_model", quick)
    with caplog.at_level(logging.WARNING, logger="metademo.sine"):
        first, _ = load_sine_models(tmp_path)
        again, _ = load_sine_models(tmp_path)
    assert calls == ["maml"] and first is again and first.kind == "maml"
    assert "training the maml sine model" in caplog.text
