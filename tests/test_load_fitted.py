"""``metademo.load_fitted`` trusts nothing in the file: every algorithm's saved classifier loads back with
identical probabilities, and a file with wrong metadata (types, ranges, algorithm, format) or wrong tensors
(names, shapes, dtypes, non-finite numbers, altered meta-parameters), a damaged header or an oversized file is
refused with a ``ValueError`` naming the file and the problem, before anything is used."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import metademo
from metademo.algorithms import REGISTRY
from metademo.api import MetaClassifier
from metademo.data.synthetic import synthetic_gallery


@pytest.fixture(scope="module")
def gallery():
    return synthetic_gallery(3, 3, seed=11)


def _fitted(name, gallery):
    learner = REGISTRY[name](REGISTRY[name].default_hparams.replace(hidden=16))
    clf = MetaClassifier(learner, learner.init_meta_params(seed=2), device="cpu")
    images = [img for row in gallery for img in row[:2]]  # 3 classes x 2 shots: 6 support images
    return clf.fit(images, ["a", "a", "b", "b", "c", "c"], steps=2, lr=0.1)


@pytest.fixture(scope="module")
def saved(gallery, tmp_path_factory):
    """A saved MAML classifier's path, metadata and tensors."""
    path = _fitted("maml", gallery).save(tmp_path_factory.mktemp("fitted") / "maml.safetensors")
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["metademo"])
    return path, meta, load_file(str(path))


def _write(path, meta, tensors, raw_meta=None):
    save_file(tensors, str(path), metadata={"metademo": raw_meta if raw_meta is not None else json.dumps(meta)})
    return path


def _refused(path, *fragments):
    with pytest.raises(ValueError) as info:
        metademo.load_fitted(path, device="cpu")
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_algorithm_loads_back_with_identical_probabilities(gallery, tmp_path, name):
    fitted = _fitted(name, gallery)
    loaded = metademo.load_fitted(fitted.save(tmp_path / "f.safetensors"), device="cpu")
    queries = [row[2] for row in gallery]
    assert loaded.classes_ == ["a", "b", "c"] and loaded.step == fitted.step and loaded.history == fitted.history
    assert np.array_equal(loaded.predict_proba(queries), fitted.predict_proba(queries))


def test_metadata_of_the_wrong_kind_is_refused(saved, tmp_path):
    path, meta, tensors = saved
    bad = tmp_path / "bad.safetensors"
    # before: AttributeError
    _refused(_write(bad, None, tensors, raw_meta="[1, 2]"), "not a readable saved classifier", "metadata is a list")
    # before: OverflowError
    _refused(_write(bad, None, tensors, raw_meta=json.dumps({**meta, "step": math.inf})),
             "'step' must be a whole number from 0 to 100, got inf")
    _refused(_write(bad, None, tensors, raw_meta="[" * 100_000 + "]" * 100_000), "nested too deeply")
    _refused(_write(bad, None, tensors, raw_meta='{"step": 1' + "0" * 5000 + "}"), "a number is too long")
    _refused(_write(bad, None, tensors, raw_meta="{nope"), "not a readable saved classifier")
    cases = [
        ({"format": "metademo-checkpoint/1"}, "load_classifier"),
        ({"format": ["x"]}, "format ?"),
        ({"algorithm": "pickle"}, "unknown algorithm 'pickle'"),
        ({"algorithm": ["maml"]}, "unknown algorithm ['maml']"),
        ({"hparams": [64]}, "'hparams' must be an object"),
        ({"hparams": {**meta["hparams"], "__class__": 1}}, "'hparams' must be an object with some of"),
        ({"hparams": {**meta["hparams"], "hidden": 10**6}}, "'hidden' must be a whole number from 1 to 256"),
        ({"hparams": {**meta["hparams"], "hidden": 16.0}}, "'hidden' must be a whole number"),
        ({"hparams": {**meta["hparams"], "inner_lr": math.nan}}, "'inner_lr' must be a number from 0 to 10"),
        ({"hparams": {**meta["hparams"], "test_steps": -1}}, "'test_steps' must be a whole number from 0 to 100"),
        ({"hparams": {**meta["hparams"], "extra": []}}, "'extra' must be an object"),
        ({"classes": "abc"}, "'classes' must be a list of 2 to 20 labels"),
        ({"classes": ["a"]}, "'classes' must be a list of 2 to 20 labels"),
        ({"classes": ["a", "b", {"c": 1}]}, "class labels must be texts"),
        ({"classes": ["a", "b", math.nan]}, "class labels must be texts"),
        ({"classes": ["a", "b", "x" * 201]}, "class labels must be texts of at most 200 characters"),
        ({"classes": ["a", "b", "a"]}, "two classes have the same label"),
        ({"step": True}, "'step' must be a whole number"),
        ({"step": 3}, "'step' is 3 but 'history' has 3 steps"),
        ({"diverged": "no"}, "'diverged' must be true or false"),
        ({"history": {}}, "'history' must be a list"),
        ({"history": [{"step": 0, "loss": 1.0}] * 3}, "step 0 of 'history' must be"),
        ({"history": [{"step": 0, "loss": "x", "accuracy": 1.0}] * 3}, "step 0 of 'history' must be"),
        ({"meta_fingerprint": 5}, "'meta_fingerprint' must be text"),
        ({"model": []}, "'model' must be an object"),
        ({"model": {"note": 5}}, "'model' must be an object (its 'note' a text)"),
    ]
    for change, fragment in cases:
        _refused(_write(bad, {**meta, **change}, tensors), fragment)


def test_tensors_must_be_exactly_the_networks(saved, tmp_path):
    path, meta, tensors = saved
    bad = tmp_path / "bad.safetensors"
    # before: loaded, then KeyError in predict
    _refused(_write(bad, meta, {k: v for k, v in tensors.items() if k != "fitted.head.weight"}),
             "tensor 'fitted.head.weight' is missing")
    _refused(_write(bad, meta, {k: v for k, v in tensors.items() if k != "meta.conv2.weight"}),
             "tensor 'meta.conv2.weight' is missing")
    _refused(_write(bad, meta, {**tensors, "fitted.extra": torch.zeros(1)}), "unexpected tensor 'fitted.extra'")
    _refused(_write(bad, meta, {**tensors, "other": torch.zeros(1)}), "unexpected tensor 'other'")
    _refused(_write(bad, {**meta, "classes": ["a", "b"]}, tensors),
             "tensor 'fitted.head.bias' has shape (1, 3), expected (1, 2)")
    _refused(_write(bad, meta, {**tensors, "meta.conv1.weight": torch.zeros(16, 1, 5, 5)}),
             "tensor 'meta.conv1.weight' has shape (16, 1, 5, 5), expected (16, 1, 3, 3)")
    _refused(_write(bad, meta, {**tensors, "fitted.head.bias": tensors["fitted.head.bias"].double()}),
             "tensor 'fitted.head.bias' is float64, not float32")
    _refused(_write(bad, meta, {**tensors, "fitted.head.bias": torch.tensor([[0.0, math.nan, 0.0]])}),
             "tensor 'fitted.head.bias' holds NaN or infinite values")
    altered = tensors["meta.conv1.bias"].clone()
    altered[0] += 1
    _refused(_write(bad, meta, {**tensors, "meta.conv1.bias": altered}), "meta-parameters do not match")
    huge = {**tensors, "fitted.head.weight": torch.full_like(tensors["fitted.head.weight"], 3e38)}
    _refused(_write(bad, meta, huge), "its numbers overflow")
    one = tensors["fitted.conv2.weight"].clone()
    one[0, 0, 0, 1, 1] = 3e29  # found by fuzzing: a blank image still gave finite probabilities
    _refused(_write(bad, meta, {**tensors, "fitted.conv2.weight": one}), "its numbers overflow")


def test_the_file_itself_is_checked_before_it_is_parsed(saved, tmp_path):
    path, meta, tensors = saved
    data = path.read_bytes()
    bad = tmp_path / "bad.safetensors"
    # The safetensors library parses the header, from the bytes read once; its complaints become ValueErrors.
    bad.write_bytes(struct.pack("<Q", 2**60) + data[8:])
    _refused(bad, "not a readable saved classifier", "header too large")
    bad.write_bytes(struct.pack("<Q", 2**21) + b" " * 2**21)
    _refused(bad, "not a readable saved classifier", "deserializing header")
    bad.write_bytes(data[:5])
    _refused(bad, "not a readable saved classifier", "header too small")
    bad.write_bytes(data[:-100])  # the tensors' data cut short: safetensors' own check
    _refused(bad, "not a readable saved classifier")
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header["fitted.head.bias"]["data_offsets"] = [0, 10**12]
    text = json.dumps(header).encode()
    bad.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])
    _refused(bad, "not a readable saved classifier")
    with open(bad, "wb") as f:
        f.truncate(64 * 2**20 + 1)
    _refused(bad, "larger than 64 MB")
    folder = tmp_path / "folder.safetensors"
    folder.mkdir()
    _refused(folder, "not a regular file")
    with pytest.raises(FileNotFoundError):
        metademo.load_fitted(tmp_path / "missing.safetensors")
