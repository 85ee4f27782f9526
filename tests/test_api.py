"""The public Python API: its exact surface, its answers and its error messages."""

import hashlib
import math
import threading
import warnings

import numpy as np
import pytest
import torch

import metademo
from metademo.algorithms import REGISTRY
from metademo.api import MetaClassifier
from metademo.data.synthetic import synthetic_gallery


@pytest.fixture(scope="module")
def gallery():
    return synthetic_gallery(4, 4, seed=7)


def classifier(name, **hp):
    learner = REGISTRY[name](REGISTRY[name].default_hparams.replace(hidden=16, **hp))
    return MetaClassifier(learner, learner.init_meta_params(seed=1), device="cpu")


def support(gallery, n_classes=3, shots=2, names=("cat", "dog", "owl", "emu")):
    images = [img for c in range(n_classes) for img in gallery[c][:shots]]
    labels = [names[c] for c in range(n_classes) for _ in range(shots)]
    return images, labels


def params_hash(clf):
    h = hashlib.sha256()
    for k in sorted(clf.meta_params):
        h.update(clf.meta_params[k].cpu().numpy().tobytes())
    digest = h.hexdigest()
    assert len(clf.fingerprint()) == 64
    return digest + clf.fingerprint()


def test_available_algorithms():
    assert set(metademo.available_algorithms()) >= {"maml", "fomaml", "metasgd", "reptile", "protonet"}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_fit_predict_surface(gallery, name):
    clf = classifier(name)
    images, labels = support(gallery)
    fitted = clf.fit(images, labels, steps=2, lr=0.1)
    assert fitted.classes_ == ["cat", "dog", "owl"]
    proba = fitted.predict_proba([gallery[0][3], gallery[2][3]])
    assert isinstance(proba, np.ndarray) and proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    preds = fitted.predict([gallery[0][3], gallery[2][3]])
    assert preds == [fitted.classes_[i] for i in proba.argmax(1)]
    if not clf.learner.has_inner_loop:
        assert fitted.history == [] and fitted.step == 0
    else:
        assert [h["step"] for h in fitted.history] == [0, 1, 2]
        assert all(set(h) == {"step", "loss", "accuracy"} for h in fitted.history)


def test_labels_can_be_any_hashables_and_renaming_changes_nothing(gallery):
    clf = classifier("maml")
    images, labels = support(gallery)
    queries = [gallery[c][3] for c in range(3)]
    base = clf.fit(images, labels, steps=2).predict_proba(queries)
    renamed = {"cat": 3, "dog": 1, "owl": 2}  # ints, sorted differently from the strings
    other = clf.fit(images, [renamed[lab] for lab in labels], steps=2)
    assert other.classes_ == [1, 2, 3]
    by_name = {c: other.predict_proba(queries)[:, i] for i, c in enumerate(other.classes_)}
    for i, name in enumerate(["cat", "dog", "owl"]):
        np.testing.assert_allclose(by_name[renamed[name]], base[:, i], rtol=1e-5, atol=1e-7)
    # Unsortable mixed labels keep their order of appearance.
    mixed = clf.fit(images, [("t", 1) if lab == "cat" else lab for lab in labels], steps=1)
    assert mixed.classes_ == [("t", 1), "dog", "owl"]


def test_inputs_may_be_paths_arrays_and_pil(gallery, tmp_path):
    clf = classifier("protonet")
    images, labels = support(gallery)
    p = tmp_path / "a.png"
    images[0].save(p)
    mixed = [str(p), np.asarray(images[1]), *images[2:]]
    a = clf.fit(mixed, labels).predict_proba([gallery[1][3]])
    b = clf.fit(images, labels).predict_proba([gallery[1][3]])
    np.testing.assert_allclose(a, b, rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=-1), "steps"), (dict(steps=101), "steps"), (dict(steps=2.5), "steps"), (dict(steps="3"), "steps"),
    (dict(lr=0.0), "lr"), (dict(lr=-0.1), "lr"), (dict(lr=math.nan), "lr"), (dict(lr=math.inf), "lr"),
    (dict(lr=1e6), "lr"),
])
def test_bad_steps_and_lr(gallery, kwargs, message):
    images, labels = support(gallery)
    with pytest.raises(ValueError, match=message):
        classifier("maml").fit(images, labels, **kwargs)


def test_bad_arguments_have_clear_messages(gallery, tmp_path):
    clf = classifier("maml")
    images, labels = support(gallery)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(images[:2], ["cat", "cat"])
    with pytest.raises(ValueError, match="no images"):
        clf.fit([], [])
    with pytest.raises(ValueError, match="one label per image"):
        clf.fit(images, labels[:-1])
    with pytest.raises(ValueError, match="at most 20 classes"):
        clf.fit(images[:1] * 21, list(range(21)))
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="image 0"):
        clf.fit([bad, *images[1:]], labels)
    with pytest.raises(ValueError, match="unknown algorithm"):
        metademo.load_pretrained("snail")
    fitted = clf.fit(images, labels, steps=1)
    with pytest.raises(ValueError, match="no images"):
        fitted.predict_proba([])


def test_missing_weights_say_which_file_and_how_to_train(monkeypatch, tmp_path):
    monkeypatch.setenv("METADEMO_ASSETS", str(tmp_path))
    with pytest.raises(FileNotFoundError) as e:
        metademo.load_pretrained("reptile")
    assert "reptile.safetensors" in str(e.value) and "python -m metademo.train --algorithm reptile" in str(e.value)


def test_divergence_warns_and_keeps_the_last_finite_step(gallery):
    clf = classifier("maml")
    images, labels = support(gallery)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = clf.fit(images, labels, steps=30, lr=10.0)
    if fitted.diverged:  # a rate of 10 on a random network blows up within a few steps
        assert any("diverged" in str(w.message) for w in caught)
        assert all(np.isfinite(h["loss"]) for h in fitted.history[: fitted.step + 1])
    assert np.isfinite(fitted.predict_proba([gallery[0][3]])).all()


def test_meta_parameters_unchanged_by_concurrent_fits(gallery):
    clf = classifier("maml")
    before = params_hash(clf)
    images, labels = support(gallery)
    expected = clf.fit(images, labels, steps=2).predict_proba([gallery[0][3]])
    errors = []

    def work():
        try:
            for _ in range(3):
                got = clf.fit(images, labels, steps=2).predict_proba([gallery[0][3]])
                np.testing.assert_allclose(got, expected, rtol=1e-6)
        except Exception as e:  # noqa: BLE001 - collected and re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert params_hash(clf) == before


def test_fit_steps_streams_one_state_per_step(gallery):
    clf = classifier("fomaml")
    images, labels = support(gallery)
    states = list(clf.fit_steps(images, labels, steps=3, lr=0.1))
    assert [s.step for s in states] == [0, 1, 2, 3]
    assert len(states[-1].history) == 4


def test_default_device_is_a_torch_device():
    assert metademo.default_device().type in {"cpu", "cuda", "mps"}
    assert torch.device(classifier("protonet").device).type == "cpu"


@pytest.mark.parametrize("name", ["maml", "metasgd", "protonet"])
def test_save_and_load_fitted_give_identical_probabilities(gallery, tmp_path, name):
    clf = classifier(name)
    images, labels = support(gallery)
    fitted = clf.fit(images, labels, steps=2, lr=0.1)
    queries = [gallery[c][3] for c in range(3)]
    path = fitted.save(tmp_path / "mine.safetensors")
    loaded = metademo.load_fitted(path, device="cpu")
    assert loaded.classes_ == fitted.classes_ == ["cat", "dog", "owl"]
    assert loaded.step == fitted.step and loaded.history == fitted.history
    assert np.array_equal(loaded.predict_proba(queries), fitted.predict_proba(queries))
    assert np.array_equal(loaded.embed(queries), fitted.embed(queries))
    assert loaded.model.fingerprint() == clf.fingerprint()  # and it can adapt again
    assert loaded.model.fit(images, labels, steps=1, lr=0.1).classes_ == fitted.classes_
    assert b"pickle" not in path.read_bytes()[:200]


def test_load_fitted_refuses_what_it_cannot_trust(gallery, tmp_path):
    with pytest.raises(ValueError, match="only .safetensors"):
        metademo.load_fitted(tmp_path / "model.pkl")
    with pytest.raises(FileNotFoundError):
        metademo.load_fitted(tmp_path / "missing.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="not a readable saved classifier"):
        metademo.load_fitted(broken)
    from metademo.checkpoints import Checkpoint, save_checkpoint

    learner = REGISTRY["protonet"]()
    save_checkpoint(tmp_path / "ckpt.safetensors", Checkpoint("protonet", learner.hparams, learner.init_meta_params()))
    with pytest.raises(ValueError, match="load_classifier"):
        metademo.load_fitted(tmp_path / "ckpt.safetensors")
    fitted = classifier("protonet").fit(*support(gallery, names=((1,), (2,), (3,), (4,))))
    with pytest.raises(ValueError, match="strings or numbers"):
        fitted.save(tmp_path / "tuples.safetensors")


def test_prepared_images_are_used_as_they_are(gallery):
    clf = classifier("fomaml")
    images, labels = support(gallery)
    prepared = metademo.prepare(images)
    assert prepared.tensor.shape == (len(images), 1, 28, 28) and len(prepared[[0, 1]]) == 2
    a = clf.fit(images, labels, steps=2, lr=0.1)
    b = clf.fit(prepared, labels, steps=2, lr=0.1)
    queries = metademo.prepare([gallery[0][3], gallery[1][3]])
    assert np.array_equal(a.predict_proba(queries), b.predict_proba([gallery[0][3], gallery[1][3]]))
    with pytest.raises(ValueError, match="image 1"):
        metademo.prepare([gallery[0][0], np.zeros((28, 28), np.uint8)])


def test_embed_follows_the_adapted_network(gallery):
    clf = classifier("maml")
    images, labels = support(gallery)
    states = list(clf.fit_steps(images, labels, steps=2, lr=0.5))
    before, after = states[0].embed(images), states[-1].embed(images)
    assert before.shape == after.shape == (len(images), 16)
    assert not np.allclose(before, after)  # the inner steps changed the features (from step 2 on)
    proto = classifier("protonet").fit(images, labels)
    assert proto.embed(images).shape == (len(images), 16)
