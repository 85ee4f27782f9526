"""Every benchmark runs end to end in its quick mode and prints its figures (benchmarks/meta_train.py:
tests/test_benchmarks_meta_train.py).

Each runs as ``python benchmarks/<name>.py --quick`` in a subprocess of this Python, with Omniglot where
the suite finds it, the suite's pretrained assets (real, or random-init stand-ins: see conftest.py) and
Gradio's uploads in a temporary folder; those that serve the app start it on a free port and stop it.
The figures are parsed, not judged: other work may share the machine. ``inputs.py`` and
``appclient.py`` are helpers, run here by the others; every benchmark's full mode at least parses its
arguments (``--help``).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from metademo.algorithms import REGISTRY
from metademo.checkpoints import load_checkpoint
from metademo.data.omniglot import data_root, omniglot_available

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT = 600  # seconds for one quick run: generous, the machine may be busy
NUMBER = r"[-+]?\d+(?:\.\d+)?"
needs_omniglot = pytest.mark.skipif(not omniglot_available(), reason=f"Omniglot is not in {data_root()}")


@pytest.fixture(scope="module")
def run_benchmark(pretrained_assets, tmp_path_factory):
    """``run_benchmark("accuracy.py", "--quick")`` -> its standard output; a failed run fails the test."""
    env = {**os.environ, "METADEMO_DATA": str(data_root()), "METADEMO_ASSETS": str(pretrained_assets),
           "GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("gradio")), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONUNBUFFERED": "1"}

    def run(script: str, *args: str) -> str:
        done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 0, (f"{script} {' '.join(args)} exited with {done.returncode}:\n"
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    return run


def lines_matching(pattern: str, text: str) -> list[re.Match]:
    return list(re.finditer(pattern, text, re.MULTILINE))


def figures(pattern: str, text: str) -> tuple[float, ...]:
    """The numbers of the one line that matches ``pattern`` (its groups), as floats."""
    found = lines_matching(pattern, text)
    assert len(found) == 1, f"{len(found)} lines match {pattern!r} in:\n{text}"
    return tuple(float(g) for g in found[0].groups())


def docs_digest() -> dict[str, str]:
    """What the full runs write, by content: the files in docs/ and the README's generated sections (the rest of
    the README is not theirs, and people may be editing it meanwhile)."""
    digest = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted((ROOT / "docs").glob("*"))
              if f.is_file()}
    readme = (ROOT / "README.md").read_text()
    for section in ("accuracy", "time", "profile"):
        start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
        if start in readme and end in readme:
            digest[f"README {section}"] = readme[readme.index(start):readme.index(end)]
    return digest


def quick_run_leaving_docs(run_benchmark, script: str) -> str:
    """``script --quick``'s standard output, checked to leave docs/ and the README's generated sections alone."""
    before = docs_digest()
    out = run_benchmark(script, "--quick")
    assert docs_digest() == before, "a quick run must leave docs/ and the README alone"
    return out


def check_written(text: str, names: tuple[str, ...]) -> None:
    """The temporary folder a quick run says it wrote to holds ``names`` and is outside the project; removed."""
    (folder,) = (Path(m.group(1)) for m in lines_matching(r"^quick run: .* written to (\S+)$", text))
    assert ROOT not in folder.parents
    for name in names:
        assert (folder / name).stat().st_size > 0, name
    shutil.rmtree(folder)


@pytest.mark.parametrize("script", ["accuracy.py", "adaptation_profile.py", "classroom.py", "inner_curvature.py",
                                    "latency.py", "load.py", "meta_train.py", "soak.py"])
def test_full_mode_parses_its_arguments(script, capsys):
    module = importlib.import_module(f"benchmarks.{script.removesuffix('.py')}")
    with pytest.raises(SystemExit) as e:
        module.main(["--help"])
    assert e.value.code == 0
    assert "--quick" in capsys.readouterr().out


@pytest.mark.slow
@needs_omniglot
def test_accuracy_quick(run_benchmark):
    out = quick_run_leaving_docs(run_benchmark, "accuracy.py")
    figures(r"^quick: the first (\d+) characters of the pool, the first (\d+) of the Lake runs$", out)
    for name, cls in REGISTRY.items():
        accuracy, ci = figures(rf"^{name} 5w1s: ({NUMBER}) ± ({NUMBER}) \(3 episodes, {NUMBER} s\)$", out)
        assert 0 <= accuracy <= 100 and ci >= 0
        assert 0 <= figures(rf"^{name} Lake runs: ({NUMBER})$", out)[0] <= 100
        cells = figures(rf"^\| \*\*{re.escape(cls.title)}\*\* \(ours\) \| (\d+) \| ({NUMBER}) ± ({NUMBER}) "
                        rf"\| n/a \| n/a \| n/a \| ({NUMBER}) \|$", out)
        assert cells[1] == accuracy
    check_written(out, ("accuracy.json", "accuracy.md", "time_to_accuracy.png"))


@pytest.mark.slow
@needs_omniglot
def test_compare_default_quick(run_benchmark):
    out = run_benchmark("compare_default.py", "--quick")
    sections = {int(m.group(1)): block for block in out.split("\n\n")
                if (m := re.match(r"(\d+)-way 1-shot \(", block))}
    assert sorted(sections) == [5, 10]
    gaps = {}
    for n, block in sections.items():
        for cls in REGISTRY.values():
            row = figures(rf"^\| {re.escape(cls.title)} \| ({NUMBER}) \| ({NUMBER}) \|$", block)
            assert all(0 <= a <= 100 for a in row)
        spread, gap = figures(rf"^spread \(best - worst\) ({NUMBER}) ± {NUMBER} points; mean gap between two "
                              rf"models ({NUMBER}) ± {NUMBER} points$", block)
        assert 0 <= gap <= spread <= 100
        gaps[n] = gap
    (widest,) = figures(r"^largest mean gap: (\d+)-way 1-shot$", out)
    assert gaps[int(widest)] == max(gaps.values())


@pytest.mark.slow
@needs_omniglot
def test_adaptation_profile_quick(run_benchmark):
    out = quick_run_leaving_docs(run_benchmark, "adaptation_profile.py")
    for name in ("maml", "protomaml", "protonet"):  # a zero head, a prototype head, no inner loop
        cls = REGISTRY[name]
        steps = (0, 1, 2, 3, 5, 10, 15, 20) if cls().default_steps else (0,)
        by_step = figures(rf"^{name} 5w1s: " + ", ".join(f"{s}: ({NUMBER})" for s in steps) + rf" \({NUMBER} s\)$",
                          out)
        assert all(0 <= a <= 100 for a in by_step)
        cells = r" \| ".join([rf"({NUMBER})"] * len(steps) + [""] * (8 - len(steps)))
        row = figures(rf"^\| {re.escape(cls.title)} \| 5w1s \| (\d+) \| {cells} \|$", out)
        assert row[1:] == by_step
    check_written(out, ("adaptation_profile.json", "adaptation_profile.md"))


@needs_omniglot
def test_inner_curvature_quick(run_benchmark):
    out = run_benchmark("inner_curvature.py", "--quick")
    for name in ("maml", "fomaml"):
        lr, *products = figures(rf"^{name} \(inner lr ({NUMBER})\): step sizes x largest eigenvalue after steps "
                                rf"1: ({NUMBER}), 2: ({NUMBER})$", out)
        # Largest positive eigenvalues, so never below 0; about 0 where a step has fitted the support set (MAML's
        # first head step leaves a 1-shot support loss of about 1e-6, and its Hessian with it).
        assert lr > 0 and all(p >= 0 for p in products)
    assert max(figures(r"^fomaml \(inner lr [\d.]+\): step sizes x largest eigenvalue after steps "
                       rf"1: ({NUMBER}), 2: ({NUMBER})$", out)) > 0  # a loss that still learns curves upwards


@pytest.mark.parametrize("per_class", [False, True])
def test_inner_curvature_is_the_top_eigenvalue_of_the_step_scaled_hessian(per_class):
    """Power iteration against the dense Hessian of a small network: the largest eigenvalue of P^1/2 H P^1/2 for
    the step sizes P of the learner's next step (a head that steps 3 times as far, or as far as the body)."""
    import torch

    from benchmarks.inner_curvature import top_eigenvalue
    from metademo.algorithms import MAML
    from metademo.algorithms.base import per_task_cross_entropy
    from tests.test_algorithms import make_episode, small

    learner, meta = small(MAML, inner_lr=0.1, head_lr_per_class=per_class)
    episode = make_episode(n_way=3, tasks=1)
    x, y = episode.support_x, episode.support_y
    state = list(learner.adapt_steps({k: v.detach() for k, v in meta.items()}, x, y, 3, steps=2,
                                     precision="float32"))[-1]
    params = {k: v.detach() for k, v in state.params.items()}
    sizes = learner.step_sizes(meta, 0.1, 3)
    keys, shapes = list(params), [v.shape for v in params.values()]
    flat = torch.cat([v.reshape(-1) for v in params.values()])

    def loss(vector):
        parts = dict(zip(keys, (p.view(s) for p, s in zip(vector.split([s.numel() for s in shapes]), shapes))))
        return per_task_cross_entropy(learner.logits(parts, x), y).sum()

    hessian = torch.autograd.functional.hessian(loss, flat)
    root = torch.cat([torch.as_tensor(sizes[k], dtype=flat.dtype).sqrt().expand(params[k].shape).reshape(-1)
                      for k in keys])
    dense = torch.linalg.eigvalsh(root[:, None] * hessian * root[None, :]).max().item()
    found = top_eigenvalue(learner, params, x, y, iterations=500, seed=0, sizes=sizes)
    assert found == pytest.approx(dense, rel=1e-3)
    plain = torch.linalg.eigvalsh(0.1 * hessian).max().item()
    assert per_class == (abs(plain - dense) > 1e-3 * dense)  # the head's larger step is seen (the check can fail)


def test_adaptation_profile_only_docs_relabels_default_steps(run_benchmark, pretrained_assets, tmp_path):
    """``--only-docs`` measures nothing: it writes every row's default steps from the checkpoint as it is now
    and keeps every figure."""
    default = {name: load_checkpoint(pretrained_assets / f"{name}.safetensors").learner().default_steps
               for name in ("maml", "protonet")}
    by_step = {"0": {"accuracy": 0.2, "ci95": 0.0, "episodes": 2}, "3": {"accuracy": 0.875, "ci95": 0.1, "episodes": 2}}
    rows = {"maml": {"5w1s": {"default_steps": default["maml"] + 7, "precision": "float32", "episodes": 2,
                              "by_step": by_step},
                     "5w5s": {"default_steps": 1, "precision": "bfloat16", "episodes": 2, "by_step": by_step}},
            "protonet": {"5w1s": {"default_steps": 9, "precision": "float32", "episodes": 2,
                                  "by_step": {"0": by_step["0"]}}}}
    (tmp_path / "adaptation_profile.json").write_text(json.dumps(rows))
    out = run_benchmark("adaptation_profile.py", "--only-docs", "--out", str(tmp_path),
                        "--weights", str(pretrained_assets), "--data-root", str(tmp_path / "no-data-needed"))
    written = json.loads((tmp_path / "adaptation_profile.json").read_text())
    assert written["maml"]["5w1s"]["default_steps"] == default["maml"]
    assert written["protonet"]["5w1s"]["default_steps"] == default["protonet"] == 0
    assert written["maml"]["5w1s"]["by_step"] == by_step
    maml = REGISTRY["maml"].title
    assert f"| {maml} | 5w1s | {default['maml']} | 20.0 |  |  | 87.5 |" in out
    assert f"| {maml} | 5w5s | {default['maml']} | 20.0 |  |  | 87.5 |" in out
    assert f"float32 for {maml}. Except {maml} 5w5s in bfloat16." in out  # the arithmetic of every row
    assert (tmp_path / "adaptation_profile.md").read_text().strip() in out


@pytest.mark.slow
def test_latency_quick(run_benchmark):
    out = run_benchmark("latency.py", "--quick")
    assert "quick: no phone photos" in out
    ms = rf"({NUMBER}) / ({NUMBER})"
    for name in ("protonet", "maml"):
        # API: png, (photo), sketch, 28x28, png before, png 3 steps, png float32 (gradient learners on a CPU
        # with bfloat16), goal
        row = lines_matching(rf"^   {name} +(?:-|\d+) +{ms} +- +{ms} +{ms} +{ms} .* (\d+) (ok|MISSED)$", out)
        assert len(row) == 1, out
        app = figures(rf"^   {name} +page png {ms}  client files {ms}  client files, one TLS context {ms}  "
                      rf"client data URLs {ms}  page sketch {ms}$", out)
        assert all(t > 0 for t in app)
    assert figures(rf"^   today: peak memory ({NUMBER}) MB$", out)[0] > 0
    assert figures(rf"^4\. Cold start, python app\.py until it answers HTTP: ({NUMBER}) s \(median {NUMBER}; "
                   rf"goal {NUMBER} s\)$", out)[0] > 0


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)")
def test_latency_preview_quick(run_benchmark):
    out = run_benchmark("latency.py", "--quick", "--sections", "preview", "--runs", "2", "--algorithms", "protonet")
    p50, p95, worst, updates = figures(rf"^   protonet +p50 ({NUMBER}), p95 ({NUMBER}), max ({NUMBER}) over (\d+) "
                                       r"updates \(goal about \d+\)$", out)
    assert 0 < p50 <= p95 <= worst and updates >= 1


@pytest.mark.slow
def test_load_quick(run_benchmark):
    out = run_benchmark("load.py", "--quick")
    assert figures(rf"^app started in ({NUMBER}) s$", out)[0] > 0
    assert figures(rf"^completed (\d+)/4, errors (\d+), wall {NUMBER} s, throughput ({NUMBER}) calls/s$", out)[:2] \
        == (4, 0)
    p50, p95 = figures(rf"^latency p50 ({NUMBER}) ms, p95 ({NUMBER}) ms", out)
    assert 0 < p50 <= p95
    assert "meta-parameters unchanged: True" in out


@pytest.mark.slow
def test_soak_quick(run_benchmark):
    out = run_benchmark("soak.py", "--quick")
    assert figures(rf"^(\d+) calls in {NUMBER} s \({NUMBER} ms per call with 2 clients\), (\d+) errors$", out) \
        == (24, 0)
    rss = figures(rf"^resident memory: ({NUMBER}) MB before the run, ({NUMBER}) MB after 16 calls \(warm-up\), "
                  rf"({NUMBER}) MB at the end, peak ({NUMBER}) MB$", out)
    assert all(m > 0 for m in rss)
    figures(rf"^growth after warm-up: ({NUMBER}) MB \(goal < 100\)", out)
    assert "the first visitor's adapted model after the run: gone" in out
    assert out.rstrip().endswith("OK")


@pytest.mark.slow
def test_classroom_quick(run_benchmark):
    out = run_benchmark("classroom.py", "--quick")
    assert figures(rf"^app started in ({NUMBER}) s$", out)[0] > 0
    for kind in ("adapt", "classify_queries", "live_preview"):
        count, p50, p95, worst = figures(rf"^{kind} +(\d+) +({NUMBER}) +({NUMBER}) +({NUMBER})", out)
        assert count >= 2 and 0 <= p50 <= p95 <= worst and worst > 0
    assert figures(r"^failures (\d+), turned away (\d+)$", out) == (0, 0)
    before, peak, growth, after = figures(rf"^server memory \(RSS\): ({NUMBER}) MB before the class, peak ({NUMBER}) "
                                          rf"MB during it \(\+({NUMBER}) MB\), ({NUMBER}) MB after$", out)
    assert 0 < before <= peak and after > 0
    assert out.rstrip().endswith("OK")
