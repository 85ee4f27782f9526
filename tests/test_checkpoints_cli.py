"""Checkpoints are safe and complete; the training and evaluation command lines work end to end."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from metademo.algorithms import MetaSGD
from metademo.checkpoints import Checkpoint, load_checkpoint, read_metadata, save_checkpoint
from metademo.data.omniglot import load_lake_runs, load_split, omniglot_available
from metademo.training.evaluation import evaluate_episodes, evaluate_lake_runs

ROOT = Path(__file__).resolve().parents[1]


def test_round_trip_keeps_tensors_and_metadata(tmp_path):
    learner = MetaSGD(MetaSGD.default_hparams.replace(hidden=8))
    params = learner.init_meta_params(seed=4)
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, Checkpoint("metasgd", learner.hparams, params, {"training": {"seed": 4}}))
    ckpt = load_checkpoint(path)
    assert ckpt.algorithm == "metasgd" and ckpt.hparams == learner.hparams
    assert ckpt.metadata["training"] == {"seed": 4} and ckpt.metadata["network"]["name"] == "conv4"
    assert ckpt.network == learner.network and ckpt.network.hidden == 8
    for k, v in params.items():
        assert torch.equal(ckpt.params[k], v)
    assert read_metadata(path)["algorithm"] == "metasgd"


def test_pickles_and_foreign_files_are_refused(tmp_path):
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="safetensors"):
        load_checkpoint(evil)
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a readable"):
        load_checkpoint(fake)
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(ValueError, match="not a metademo checkpoint"):
        load_checkpoint(other)


def run(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # four command lines, each importing torch
@pytest.mark.skipif(not omniglot_available(background=True), reason="Omniglot not in ../shared/data")
def test_train_resume_and_evaluate_from_the_command_line(tmp_path):
    out = tmp_path / "proto.safetensors"
    common = ["-m", "metademo.train", "--algorithm", "protonet", "--ways", "5", "--shots", "1", "--queries", "2",
              "--meta-batch", "2", "--val-every", "2", "--val-episodes", "20", "--out", str(out), "--threads", "1"]
    first = run(*common, "--iterations", "2")
    assert first.returncode == 0, first.stderr
    assert out.exists() and Path(str(out) + ".state.safetensors").exists()
    second = run(*common, "--iterations", "4", "--resume")
    assert second.returncode == 0, second.stderr
    assert "resuming at iteration 2" in second.stderr
    meta = load_checkpoint(out).metadata
    assert meta["training"]["seed"] == 0 and meta["training"]["data"].startswith("Omniglot")
    assert [e["iteration"] for e in meta["validation"]["log"]] == [2, 4][: len(meta["validation"]["log"])]

    ev = run("-m", "metademo.evaluate", "--checkpoint", str(out), "--ways", "5", "--shots", "1",
             "--episodes", "20", "--seed", "3", "--json", "--threads", "1", "--device", "cpu")
    assert ev.returncode == 0, ev.stderr
    result = json.loads(ev.stdout.strip().splitlines()[-1])
    lake = run("-m", "metademo.evaluate", "--checkpoint", str(out), "--lake-runs", "--json", "--threads", "1",
               "--device", "cpu")
    assert lake.returncode == 0, lake.stderr
    lake_result = json.loads(lake.stdout.strip().splitlines()[-1])

    # The command line's figures are those of the evaluation functions on the same seeded episodes and runs.
    ckpt = load_checkpoint(out)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the command line computed
    try:
        expected = evaluate_episodes(ckpt.learner(), ckpt.params, load_split("test", progress=False), 5, 1,
                                     episodes=20, seed=3)
        expected_lake = evaluate_lake_runs(ckpt.learner(), ckpt.params, load_lake_runs())
    finally:
        torch.set_num_threads(threads)
    assert {k: result[k] for k in expected} == expected
    assert {k: lake_result[k] for k in expected_lake} == expected_lake
    assert result["steps"] == 0 and result["precision"] == "float32" and result["algorithm"] == "protonet"
    assert f"{100 * expected['accuracy']:.2f}% ± {100 * expected['ci95']:.2f}% (20 episodes)" in ev.stdout


@pytest.mark.slow
def test_command_line_errors_are_readable(tmp_path):
    missing = run("-m", "metademo.evaluate", "--checkpoint", str(tmp_path / "none.safetensors"))
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr
    bad = run("-m", "metademo.train", "--algorithm", "snail", "--out", str(tmp_path / "x.safetensors"))
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
