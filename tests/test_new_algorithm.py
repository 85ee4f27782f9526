"""A new algorithm is one registry entry and its weights: nothing else names it, yet the API, the page, the
MCP tool, *Compare algorithms* and the accuracy benchmark all offer it.

The toy is Prototypical Networks under another name (so its answers are ProtoNet's on the same weights), its
weights a random start in a temporary assets folder (``METADEMO_ASSETS``). In this process it is added to the
registry with ``monkeypatch.setitem`` and found by what reads the registry when called. The page, the tool's
description and the benchmark's list are made from the registry when their modules are imported, as a new
algorithm's file and registry line would be there before them: they are checked in a fresh process that
registers the toy first.
"""

import base64
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from metademo import api
from metademo.algorithms import REGISTRY, ProtoNet
from metademo.checkpoints import Checkpoint, save_checkpoint
from metademo.data.synthetic import synthetic_gallery

ROOT = Path(__file__).resolve().parents[1]
TOY = textwrap.dedent('''
    from metademo.algorithms import ProtoNet


    class ToyProto(ProtoNet):
        name = "toyproto"
        title = "Toy Prototypes"
        summary = "Prototypical Networks under another name, to show that a new algorithm needs no other edit."
        paper = "none"
        colour = "#123456"
''')


def toy_class():
    namespace = {}
    exec(TOY, namespace)
    return namespace["ToyProto"]


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """The toy registered in this process, and an assets folder with its weights and the shipped ones."""
    cls = toy_class()
    monkeypatch.setitem(REGISTRY, cls.name, cls)
    assets = tmp_path / "assets"
    assets.mkdir()
    for f in (ROOT / "assets").glob("*.safetensors"):
        (assets / f.name).symlink_to(f)
    learner = cls(cls.default_hparams.replace(hidden=8))
    save_checkpoint(assets / "toyproto.safetensors", Checkpoint("toyproto", learner.hparams,
                                                                learner.init_meta_params(seed=0), {}))
    monkeypatch.setenv("METADEMO_ASSETS", str(assets))
    return cls, assets


def task():
    """Two synthetic characters: two examples and one query each."""
    gallery = synthetic_gallery(2, 3, seed=7)
    return [row[i] for row in gallery for i in (0, 1)], ["a", "a", "b", "b"], [row[2] for row in gallery]


def test_the_api_offers_a_registered_algorithm(toy):
    assert api.available_algorithms()[-1] == "toyproto"
    clf = api.load_pretrained("toyproto")
    assert clf.algorithm == "toyproto" and type(clf.learner) is toy[0]
    images, labels, queries = task()
    probabilities = clf.fit(images, labels).predict_proba(queries)
    # The toy is ProtoNet: the same weights give the same answers.
    same = api.MetaClassifier(ProtoNet(clf.learner.hparams), clf.meta_params)
    np.testing.assert_allclose(probabilities, same.fit(images, labels).predict_proba(queries), rtol=1e-6)
    info = api.algorithm_info("toyproto")
    assert (info.title, info.colour, info.adapts_by_steps) == ("Toy Prototypes", "#123456", False)
    (comparison,) = api.compare_algorithms(images, labels, queries, ["a", "b"], 3, ["toyproto"])
    assert comparison.title == "Toy Prototypes" and len(comparison.accuracy) == 1  # step 0 alone


def data_url(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


FRESH_PROCESS = TOY + textwrap.dedent('''
    import importlib.util
    import json
    import os
    import sys

    from metademo.algorithms import REGISTRY

    REGISTRY[ToyProto.name] = ToyProto  # the new algorithm's one registry line

    from metademo import api
    from metademo.ui import compare, tools
    from metademo.ui.app import build_app

    task = json.load(sys.stdin)
    found = {"algorithm_info": api.algorithm_info("toyproto").title}
    demo = build_app()
    found["page"] = [[list(c) for c in block.choices] for block in demo.blocks.values()
                     if type(block).__name__ == "Dropdown" and block.elem_id == "algorithm"]
    found["tool_description"] = tools.classify_images.__doc__
    answer = tools.classify_images(task["support"], task["labels"], task["queries"], "toyproto")
    found["tool_answer"] = {"algorithm": answer["algorithm"], "probabilities": answer["probabilities"]}
    frames = list(compare.compare(None, 2, 1, 1, 1, progress=None))
    found["compare"] = [row[:2] for row in frames[-1][1]["data"]]
    spec = importlib.util.spec_from_file_location("accuracy_benchmark", "benchmarks/accuracy.py")
    accuracy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(accuracy)
    found["benchmark"] = [accuracy.ALGORITHMS, accuracy.TITLES.get("toyproto")]
    print(json.dumps(found), flush=True)
    # What was found is said; the background threads (gallery, models, torch's) need no orderly teardown.
    os._exit(0)
''')


@pytest.mark.slow
def test_the_page_the_tool_compare_and_the_benchmark_offer_a_registered_algorithm(toy):
    _, assets = toy
    images, labels, queries = task()
    request = {"support": [data_url(i) for i in images], "labels": labels, "queries": [data_url(q) for q in queries]}
    env = {**os.environ, "METADEMO_ASSETS": str(assets), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", FRESH_PROCESS], input=json.dumps(request), cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["algorithm_info"] == "Toy Prototypes"
    assert found["page"] and all(["Toy Prototypes", "toyproto"] in choices for choices in found["page"])
    assert '"toyproto" (Toy Prototypes)' in found["tool_description"]
    assert '"toyproto") are the fastest' in found["tool_description"]  # it takes no inner steps
    assert found["tool_answer"]["algorithm"] == "toyproto"
    expected = api.load_pretrained("toyproto").fit(images, labels).predict_proba(queries)
    np.testing.assert_allclose(found["tool_answer"]["probabilities"], expected, rtol=1e-5)
    assert ["Toy Prototypes", 0] in found["compare"]  # adapted, with no inner step
    algorithms, title = found["benchmark"]
    assert algorithms[-1] == "toyproto" and title == "Toy Prototypes"
