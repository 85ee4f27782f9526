"""Adaptation profile: query accuracy after 0, 1, 2, 3, 5, 10, 15 and 20 inner steps, for every shipped model.

    python benchmarks/adaptation_profile.py [--episodes 1000] [--algorithms maml,protomaml] [--settings 5w1s]
    python benchmarks/adaptation_profile.py --quick    # a smoke test in seconds, into a temporary folder
    python benchmarks/adaptation_profile.py --weights training/stable --out runs/profile  # candidates

Omniglot images_evaluation (never seen in training), seeded episodes with 15 queries per class, each
model at its own default inner learning rate; the same episodes for every step count of a model (one
adaptation, scored after each step). Writes ``docs/adaptation_profile.json`` (merged with earlier runs)
and ``docs/adaptation_profile.md``, and puts the table into the README between its markers. ``--quick`` is
a smoke test: MAML, Proto-MAML and ProtoNet (a zero head, a prototype head, no inner loop; unless asked
otherwise), 3 episodes of 5-way 1-shot (unless asked otherwise) drawn from the first 40 characters, the
two files written into a new temporary folder, fresh rather than merged; ``docs/`` and the README stay as
they are; one torch thread unless ``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import QUICK_CHARACTERS, arithmetic_note  # noqa: E402
from metademo.algorithms import REGISTRY  # noqa: E402
from metademo.api import weights_path  # noqa: E402
from metademo.checkpoints import load_checkpoint  # noqa: E402
from metademo.data.omniglot import load_split  # noqa: E402
from metademo.training.evaluation import accuracy_by_step  # noqa: E402

DOCS = ROOT / "docs"
STEPS = (0, 1, 2, 3, 5, 10, 15, 20)
SETTINGS = {"5w1s": (5, 1), "5w5s": (5, 5), "20w1s": (20, 1), "20w5s": (20, 5)}
DEFAULT_SETTINGS = "5w1s,5w5s,20w1s"
MARKERS = ("<!-- profile:start -->", "<!-- profile:end -->")


def markdown(results: dict) -> str:
    head = "| algorithm | setting | default steps | " + " | ".join(f"{s} steps" for s in STEPS) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(STEPS)]
    for name, cls in REGISTRY.items():
        for key in SETTINGS:
            r = results.get(name, {}).get(key)
            if not r:
                continue
            cells = [f"{100 * r['by_step'][str(s)]['accuracy']:.1f}" if str(s) in r["by_step"] else "" for s in STEPS]
            lines.append(f"| {cls.title} | {key} | {r['default_steps']} | " + " | ".join(cells) + " |")
    episodes = sorted({r["episodes"] for row in results.values() for r in row.values()})
    first = {name: next(iter(row.values())).get("precision") or "float32" for name, row in results.items() if row}
    arithmetic = arithmetic_note(first)
    # A row measured in another arithmetic than its model's first row (a later run, another machine) says so.
    others = [f"{cls.title} {key} in {r.get('precision') or 'float32'}" for name, cls in REGISTRY.items()
              for key, r in results.get(name, {}).items() if (r.get("precision") or "float32") != first[name]]
    if others:
        arithmetic += " Except " + ", ".join(others) + "."
    return "\n".join([
        f"Query accuracy (%) after each number of inner steps, images_evaluation, "
        f"{' / '.join(map(str, episodes))} seeded episodes, 15 queries per class, each model's default inner "
        f"learning rate; the same episodes for every column of a row. No inner loop: step 0 only. {arithmetic}",
        "",
        *lines,
        "",
        "Reproduce: `python benchmarks/adaptation_profile.py`.",
    ])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--algorithms", default=None, help="default all (quick maml,protomaml,protonet)")
    p.add_argument("--settings", default=None, help=f"default {DEFAULT_SETTINGS} (quick 5w1s); also 20w5s")
    p.add_argument("--episodes", type=int, default=None, help="episodes per setting (default 1000, quick 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch threads (default torch's; quick 1: on tasks this small more "
                   "threads gain nothing, and on a busy machine waiting threads spin)")
    p.add_argument("--data-root")
    p.add_argument("--weights", help="profile the checkpoints <name>.safetensors of this folder instead of the "
                   "shipped ones (with --out; the README stays as it is)")
    p.add_argument("--out", help="folder for the two files (default docs/)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: 3 algorithms, 3 episodes of 5w1s from the first 40 characters, written to "
                        "a new temporary folder (docs/ and the README untouched)")
    p.add_argument("--only-docs", action="store_true",
                   help="rewrite the table from adaptation_profile.json, with each model's default steps read "
                        "from its checkpoint now (chosen again after it was profiled), measuring nothing")
    args = p.parse_args(argv)
    if args.quick and not args.threads:
        args.threads = 1
    if args.threads:
        torch.set_num_threads(args.threads)
    args.episodes = args.episodes or (3 if args.quick else 1000)
    settings = [s for s in (args.settings or ("5w1s" if args.quick else DEFAULT_SETTINGS)).split(",") if s]
    if args.weights and not args.out:
        p.error("--weights needs --out: candidates are not written over the shipped models' profile")
    out = Path(tempfile.mkdtemp(prefix="metademo-profile-")) if args.quick else Path(args.out or DOCS)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "adaptation_profile.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    pool = [] if args.only_docs else load_split("test", args.data_root)
    if args.quick:
        pool = pool[:QUICK_CHARACTERS]
        print(f"quick: the first {len(pool)} characters of the pool", flush=True)
    names = args.algorithms or ("maml,protomaml,protonet" if args.quick else ",".join(REGISTRY))

    def checkpoint_path(name: str) -> Path:
        return Path(args.weights) / f"{name}.safetensors" if args.weights else weights_path(name)

    if args.only_docs:
        for name, row in results.items():
            steps = load_checkpoint(checkpoint_path(name)).learner().default_steps
            for r in row.values():
                r["default_steps"] = steps
        path.write_text(json.dumps(results, indent=1))
        names = ""
    for name in [a for a in names.split(",") if a]:
        ckpt = load_checkpoint(checkpoint_path(name))
        learner = ckpt.learner()
        for key in settings:
            ways, shots = SETTINGS[key]
            start = time.perf_counter()
            by_step = accuracy_by_step(learner, ckpt.params, pool, ways, shots, STEPS, episodes=args.episodes,
                                       seed=args.seed)
            results.setdefault(name, {})[key] = {
                "default_steps": learner.default_steps,
                # The arithmetic of the inner loop, as the app and the API adapt on this machine.
                "precision": learner.adaptation_precision(torch.device("cpu")),
                "episodes": args.episodes, "by_step": {str(s): r for s, r in by_step.items()}}
            print(f"{name} {key}: " + ", ".join(f"{s}: {100 * r['accuracy']:.1f}" for s, r in by_step.items())
                  + f" ({time.perf_counter() - start:.0f} s)", flush=True)
            path.write_text(json.dumps(results, indent=1))
    table = markdown(results)
    (out / "adaptation_profile.md").write_text(table + "\n")
    if not args.quick and out == DOCS:
        readme = ROOT / "README.md"
        text = readme.read_text()
        start, end = MARKERS
        if start in text and end in text:
            text = text[: text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
            readme.write_text(text)
    print(table)
    if args.quick:
        print(f"quick run: adaptation_profile.json and adaptation_profile.md written to {out}")


if __name__ == "__main__":
    main()
