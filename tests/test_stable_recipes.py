"""``training/stable.sh`` continues every committed run with the settings it was started with.

The script is run with a stand-in Python that records each command instead of training; every command must
parse as ``python -m metademo.train`` arguments, resume, write to its own file, and, where the run's state is
committed, mean exactly what the run recorded when it started (its ``recipe``), whatever the order of the
options: a recipe edited under a run would make ``--resume`` continue it with other settings.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from safetensors import safe_open

from metademo.algorithms import REGISTRY
from metademo.train import parse_args

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "training" / "stable.sh"
STATES = ROOT / "training" / "stable"
# Options that do not change what a run computes (as metademo.train.recipe drops them) or that only a sitting sets.
SITTING = {"resume", "pause_file", "max_minutes", "data_root", "device", "threads"}


def recipe_names() -> list[str]:
    block = SCRIPT.read_text().split("declare -A recipe=(", 1)[1].split("\n)", 1)[0]
    return re.findall(r"^\s*\[([\w-]+)\]=", block, re.MULTILINE)


@pytest.fixture(scope="module")
def commands(tmp_path_factory) -> dict[str, list[str]]:
    """Each recipe's command line, as the script would run it, by name."""
    folder = tmp_path_factory.mktemp("stable")
    record, fake = folder / "commands.jsonl", folder / "python"
    fake.write_text("#!/usr/bin/env python3\nimport json, sys\n"
                    f"open({str(record)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    fake.chmod(0o755)
    names = recipe_names()
    done = subprocess.run(["bash", str(SCRIPT), *names], env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    argvs = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(argvs) == len(names)
    return dict(zip(names, argvs))


def meaning(words: list[str]) -> dict:
    return {k: v for k, v in vars(parse_args(words)).items() if k not in SITTING}


def test_every_recipe_is_a_resumable_training_command_of_its_own(commands):
    assert {"maml", "fomaml", "metasgd", "protomaml", "reptile"} <= set(commands)
    for name, argv in commands.items():
        assert argv[:2] == ["-m", "metademo.train"], name
        args = parse_args(argv[2:])
        assert args.algorithm == name.split("-")[0] and args.algorithm in REGISTRY
        assert args.out == f"training/stable/{name}.safetensors"
        assert args.resume and args.pause_file
    assert len({tuple(a) for a in commands.values()}) == len(commands)


def test_committed_runs_continue_with_the_settings_they_started_with(commands):
    checked = 0
    for name, argv in commands.items():
        state = STATES / f"{name}.safetensors.state.safetensors"
        if not state.exists():
            continue
        with safe_open(str(state), framework="pt") as f:
            recorded = json.loads(f.metadata()["state"])["config"]["recipe"]
        words = shlex.split(recorded)
        assert words[:3] == ["python", "-m", "metademo.train"], recorded
        assert meaning(argv[2:]) == meaning(words[3:]), name
        checked += 1
    assert checked >= 5  # the committed runs of the recipes
