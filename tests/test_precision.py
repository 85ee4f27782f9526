"""Adapting in bfloat16 on CPUs that have it: the same function to bfloat16 rounding, used where it should be.

On a CPU with bfloat16 instructions the inner loop's later blocks run in bfloat16 when a model adapts to a
new task (the app, the API, the evaluation); meta-training, float64 and every other device keep their own
arithmetic. ``METADEMO_PRECISION`` (``float32`` or ``bfloat16``) overrides the choice.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metademo
from metademo.algorithms import MAML, Reptile
from metademo.networks import conv4, ops
from metademo.networks.conv4 import Conv4, resolve_precision
from tests.test_algorithms import make_episode
from tests.test_ops import reference_block


def later_block_inputs(seed=0, n=25, c=64, size=14):
    g = torch.Generator().manual_seed(seed)
    x = torch.relu(torch.randn(n, c, size, size, generator=g))
    w = torch.randn(c, c, 3, 3, generator=g) * (2 / (9 * c)) ** 0.5
    b, beta = 0.1 * torch.randn(c, generator=g), 0.1 * torch.randn(c, generator=g)
    gamma = 1 + 0.3 * torch.randn(c, generator=g)
    return [t.requires_grad_() for t in (x, w, b, gamma, beta)]


def spy_on_bfloat16_blocks(monkeypatch) -> list:
    """A list that grows by one at each block computed in bfloat16."""
    calls = []
    real = ops.block_bfloat16
    # The network reaches the kernels through a lazily imported stand-in of the module: patch that.
    monkeypatch.setattr(conv4.ops, "block_bfloat16", lambda *a: calls.append(1) or real(*a))
    return calls


def relative_error(a, b):
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm())


def test_bfloat16_block_is_the_textbook_block_to_bfloat16_rounding():
    inputs = later_block_inputs()
    out = ops.block_bfloat16(*inputs)
    assert out.dtype == torch.bfloat16
    exact = reference_block(*(t.detach().double().requires_grad_() for t in inputs))
    assert relative_error(out, exact) < 0.01  # bfloat16 keeps 8 significant bits: 0.4% per value
    cotangent = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    got = torch.autograd.grad(out.float(), inputs, cotangent)
    wanted = torch.autograd.grad(reference_block(*inputs), inputs, cotangent)
    for g, w in zip(got, wanted):
        # Gradients reach the float32 parameters (and input) in float32, as an inner loop's updates need. They
        # are sums of many products of bfloat16 values, with cancellation: a few percent off (6% measured).
        assert g.dtype == torch.float32 and g.shape == w.shape
        assert relative_error(g, w) < 0.1


def test_resolve_precision(monkeypatch):
    monkeypatch.delenv("METADEMO_PRECISION", raising=False)
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bfloat16" if ops.native_bfloat16() else "float32")
    assert resolve_precision("auto", torch.device("meta")) == "float32"  # other devices: their own arithmetic
    assert metademo.adaptation_precision("cpu") == resolve_precision("auto", cpu)  # what the API reports
    assert resolve_precision("float32", cpu) == "float32" and resolve_precision("bfloat16", cpu) == "bfloat16"
    monkeypatch.setenv("METADEMO_PRECISION", "float32")
    assert resolve_precision("auto", cpu) == "float32"
    monkeypatch.setenv("METADEMO_PRECISION", "bfloat16")
    assert resolve_precision("auto", cpu) == "bfloat16"
    assert resolve_precision("float32", cpu) == "float32"  # an explicit request wins
    monkeypatch.setenv("METADEMO_PRECISION", "half")
    with pytest.raises(ValueError, match="precision must be"):
        resolve_precision("auto", cpu)
    with pytest.raises(ValueError, match="precision must be"):
        Conv4(precision="float16")


def test_float64_is_never_computed_in_bfloat16():
    net = Conv4(hidden=8)
    params = {k: v.double() for k, v in net.init_params(seed=1).items()}
    x = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    assert torch.equal(net.at_precision("bfloat16").features(params, x), net.features(params, x))


def test_the_bfloat16_network_runs_its_later_blocks_in_bfloat16(monkeypatch):
    calls = spy_on_bfloat16_blocks(monkeypatch)
    net = Conv4(hidden=8)
    params = net.init_params(seed=1)
    x = torch.rand(3, 1, 28, 28)
    low, full = net.at_precision("bfloat16").features(params, x), net.features(params, x)
    assert len(calls) == 3 and low.dtype == torch.float32  # blocks 2 to 4; the features come back float32
    assert relative_error(low, full) < 0.03


@pytest.mark.parametrize("cls", [MAML, Reptile], ids=["maml", "reptile"])
def test_adaptation_uses_the_chosen_precision_and_meta_training_float32(cls, monkeypatch):
    calls = spy_on_bfloat16_blocks(monkeypatch)
    monkeypatch.setenv("METADEMO_PRECISION", "bfloat16")
    learner = cls(cls.default_hparams.replace(hidden=8, train_steps=2, test_steps=2))
    meta = learner.init_meta_params(seed=0)
    episode = make_episode(n_way=3, k=2, q=2, tasks=2).to("cpu", torch.float32)
    learner.meta_gradient({k: v.clone().requires_grad_() for k, v in meta.items()}, episode)
    assert not calls  # meta-training computes as the checkpoints were trained: float32
    learner.query_accuracy(meta, episode)
    assert calls  # adapting to a task (evaluation, the API, the app) follows METADEMO_PRECISION
    calls.clear()
    list(learner.adapt_steps(meta, episode.support_x, episode.support_y, 3, precision="float32"))
    assert not calls


@pytest.fixture(scope="module")
def omniglot_episode():
    """A 5-way 5-shot task of unseen characters, two queries each, from the original PNG files."""
    from metademo.data.omniglot import data_root

    folder = data_root() / "omniglot-py" / "images_evaluation"
    if not folder.is_dir():
        pytest.skip("Omniglot is not available")
    chars = sorted(p for p in folder.glob("*/*") if p.is_dir())
    groups = [sorted(chars[i].glob("*.png"))[:7] for i in np.random.default_rng(5).choice(len(chars), 5, False)]
    support = metademo.prepare([p for g in groups for p in g[:5]])
    queries = metademo.prepare([p for g in groups for p in g[5:]])
    return support, [i for i in range(5) for _ in range(5)], queries


@pytest.mark.parametrize("name", ["reptile", "maml", "protomaml"])
def test_bfloat16_adaptation_answers_as_float32_does(name, omniglot_episode, monkeypatch):
    """The shipped weights on real drawings: the same answers, probabilities within 0.02, and equivariance to
    the order of the class names to bfloat16 rounding."""
    support, labels, queries = omniglot_episode
    clf = metademo.load_pretrained(name)
    proba = {}
    for precision in ("float32", "bfloat16"):
        monkeypatch.setenv("METADEMO_PRECISION", precision)
        proba[precision] = clf.fit(support, labels).predict_proba(queries)
    assert (proba["bfloat16"].argmax(1) == proba["float32"].argmax(1)).all()
    assert np.abs(proba["bfloat16"] - proba["float32"]).max() < 0.02
    # Renaming the classes permutes the head's rows, so its gradients are summed in another order: float32
    # rounding differences, which bfloat16 rounding can then enlarge (about 1e-3 measured; 1e-7 in float32).
    renamed = clf.fit(support, [4 - y for y in labels]).predict_proba(queries)  # classes_ now in reverse
    np.testing.assert_allclose(renamed[:, ::-1], proba["bfloat16"], atol=5e-3)
    assert (renamed[:, ::-1].argmax(1) == proba["bfloat16"].argmax(1)).all()
