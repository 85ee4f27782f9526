"""The baselines of benchmarks/meta_train.py compute what ours computes, so its speed ratios are fair;
and the script runs to its last line.

``higher`` and the per-task ``torch.func`` loop must give the same second-order MAML meta-gradient
(prototype head, SGD on body and head) as ``ProtoMAML.meta_gradient``, to float64 precision.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from metademo.algorithms import REGISTRY, ProtoMAML
from metademo.data.omniglot import EpisodeSampler, data_root

pytest.importorskip("higher")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "meta_train.py"


def load_script():
    name = "benchmarks_meta_train"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        spec.loader.exec_module(module)
    return sys.modules[name]


def glyph_pool(classes=8, drawings=20, seed=0):
    """Sparse random 'ink' on a blank page, uint8 like Omniglot's pool: many exact zeros, as in real glyphs."""
    g = torch.Generator().manual_seed(seed)
    ink = torch.rand(classes, drawings, 28, 28, generator=g) < 0.15
    return (ink * torch.randint(100, 256, ink.shape, generator=g)).to(torch.uint8)


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


@pytest.fixture(scope="module")
def episode():
    return EpisodeSampler(glyph_pool(), n_way=5, k_shot=1, q_queries=3, seed=1).sample(2)


def test_three_implementations_agree(episode):
    bench = load_script()
    result = bench.check_agreement(episode, hidden=8, steps=(1, 2), lr=0.1, seed=0, dtype=torch.float64)
    assert set(result) == {1, 2}
    for steps, errs in result.items():
        assert errs["norm"] > 1e-3, (steps, errs)  # not a comparison of zeros
        for name in ("higher", "loop", "higher_vs_loop"):
            assert errs[name] < 1e-6, (steps, name, errs)


def test_agreement_check_can_fail(episode):
    """A different inner learning rate in one implementation is caught: the check is not vacuous."""
    bench = load_script()
    ep = episode.to("cpu", torch.float64)
    meta, module = bench.build(8, 0, torch.float64)
    ours = bench.implementations(meta, module, ep, hidden=8, steps=1, lr=0.1)["ours"]()
    other = bench.loop_meta_gradient(module, ep, steps=1, lr=0.11)
    assert bench.max_relative_error(ours, other) > 1e-4


def test_module_matches_functional_conv4(episode):
    bench = load_script()
    from metademo.networks.conv4 import Conv4

    x = episode.support_x[0].double()
    meta, module = bench.build(8, 0, torch.float64)
    expected = Conv4(hidden=8).features({k: v.detach() for k, v in meta.items()}, x)
    torch.testing.assert_close(module(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_is_accepted_by_glibc_and_reported():
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import meta_train as m; m.keep_freed_memory(); "
            "print(m.machine_report(True))")
    done = subprocess.run([sys.executable, "-c", code], cwd=SCRIPT.parents[1], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "glibc malloc keeping freed memory" in done.stdout


def test_every_other_learner_gives_its_meta_gradient(episode):
    """The benchmark's second table runs each learner as it is set there (Meta-SGD with one inner step, whose
    rates for the network then go unused): every one returns a finite gradient for every meta-parameter."""
    bench = load_script()
    rows = bench.other_algorithms(episode, hidden=8, seed=0, repeats=1, warmup=False)
    assert [r[0] for r in rows] == [cls.__name__ for cls in REGISTRY.values() if cls is not ProtoMAML]
    assert all(seconds > 0 for *_, seconds in rows)


@pytest.mark.slow
def test_quick_run_end_to_end():
    """``--quick`` on a meta-batch of 2 tasks at 8 channels, one torch thread (on a busy machine the baselines'
    waiting OpenMP threads spin: 50 times slower): a smoke test of the whole script, figures parsed."""
    env = {**os.environ, "METADEMO_DATA": str(data_root())}
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--meta-batch", "2", "--hidden", "8",
                           "--check-tasks", "1", "--threads", "1"], cwd=SCRIPT.parents[1], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    number = r"(\d+\.\d+(?:e[-+]\d+)?)"
    for steps in (1, 5):
        label = f"{steps} step{'s' if steps > 1 else ' '}"
        (errs,) = re.findall(rf"^  {label}: vs higher {number}  vs loop {number}  \(higher vs loop {number}; "
                             rf"\|g_ours\| = [\d.e+-]+\)$", out, re.MULTILINE)
        assert all(float(e) < load_script().TOLERANCE for e in errs)
        for name in ("ours \\(task-batched\\)", "higher \\(per task\\)", "torch\\.func loop \\(per task\\)"):
            (row,) = re.findall(rf"^ +{steps}  {name} +{number} +{number} +{number}x$", out, re.MULTILINE)
            assert all(float(v) > 0 for v in row)
    for cls in [ProtoMAML, *(c for c in REGISTRY.values() if c is not ProtoMAML)]:
        rows = re.findall(rf"^  {cls.__name__} +\d+  [a-z -]+? +{number} +{number}$", out, re.MULTILINE)
        assert rows and all(float(v) > 0 for row in rows for v in row), cls.__name__
    assert re.search(rf"^vs_higher={number} vs_loop={number}$", out, re.MULTILINE)
