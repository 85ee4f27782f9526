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


# --- what a page needs: descriptions, checks, records, comparisons, sine waves -------------------------------

def test_algorithm_info_describes_every_learner_from_the_registry():
    from metademo.algorithms.base import FAMILIES
    from metademo.algorithms.inner_loop import HEADS

    infos = metademo.api.algorithm_info()
    assert list(infos) == metademo.available_algorithms()
    for name, info in infos.items():
        cls = REGISTRY[name]
        assert (info.name, info.title, info.colour, info.paper, info.summary) == (
            name, cls.title, cls.colour, cls.paper, cls.summary)
        assert info.family_description == FAMILIES[cls.family] and info.adapts_by_steps == cls.has_inner_loop
        assert info.pair_score_label == cls.pair_score_label and info.centre_name == cls.centre_name
        if cls.has_inner_loop:
            assert (info.default_steps, info.default_lr) == (cls.default_hparams.test_steps,
                                                             cls.default_hparams.inner_lr)
            assert info.head_description == HEADS[cls.head] and info.fitted_as is None
        else:
            assert (info.default_steps, info.default_lr, info.head) == (0, None, None) and info.fitted_as
    assert metademo.api.algorithm_info("relationnet").pair_score_label == "relation score"
    with pytest.raises(AttributeError):
        infos["maml"].title = "changed"  # frozen
    with pytest.raises(ValueError, match="unknown algorithm"):
        metademo.api.algorithm_info("snail")
    with pytest.raises(ValueError, match="not an image classifier"):
        metademo.api.algorithm_info("sine_maml")


def test_a_models_info_has_its_checkpoints_defaults():
    clf = classifier("maml", test_steps=7, inner_lr=0.25)
    assert (clf.info.default_steps, clf.info.default_lr, clf.info.title) == (7, 0.25, "MAML")
    assert classifier("protonet").info.default_lr is None
    assert clf.settings() == (7, 0.25) and clf.settings(2, 0.5) == (2, 0.5)
    assert classifier("protonet").settings(50, 99.0)[0] == 0  # nothing to step: ignored, not checked


def test_checks_are_the_same_rule_everywhere():
    api = metademo.api
    assert api.check_steps(3) == 3 and api.check_steps(3.0) == 3 and api.check_steps("3", text=True) == 3
    for bad in ("3", True, None, -1, 101, 2.5, math.nan):
        with pytest.raises(ValueError, match=f"^steps must be a whole number from 0 to 100, got {bad!r}$"):
            api.check_steps(bad)
    assert api.check_lr(0.4) == 0.4 and api.check_lr("10", text=True) == 10.0
    for bad in (0, -1, 10.5, math.inf, math.nan, "0.4"):
        with pytest.raises(ValueError, match=r"^The learning rate must be a number above 0 and at most 10\.0"):
            api.check_lr(bad, "The learning rate")
    assert api.check_number(0.1, "x", 0.1, 5.0) == 0.1
    with pytest.raises(ValueError, match=r"^x must be a number at least 0.1 and at most 5.0, got 0.05$"):
        api.check_number(0.05, "x", 0.1, 5.0)
    api.check_image_count(api.MAX_IMAGES)
    with pytest.raises(ValueError, match="^queries: 1001 images is too many; at most 1000 per call$"):
        api.check_image_count(1001, "queries")
    with pytest.raises(ValueError, match="^queries: no images given$"):
        api.check_image_count(0, "queries")


def test_a_bad_image_is_a_structured_error(gallery, tmp_path):
    clf = classifier("protonet")
    images, labels = support(gallery)
    blank = np.full((30, 30), 255, np.uint8)
    with pytest.raises(metademo.api.ImageError) as e:
        clf.fit(images[:4] + [blank] + images[5:], labels)
    assert isinstance(e.value, ValueError) and e.value.index == 4 and e.value.reason.startswith("the image looks blank")
    assert str(e.value) == f"image 4: {e.value.reason}"
    with pytest.raises(metademo.api.ImageError) as e:
        metademo.prepare([gallery[0][0], gallery[0][1], str(tmp_path / "missing.png")])
    assert e.value.index == 2 and "missing.png" in e.value.reason and not e.value.reason.startswith("image")
    import copy

    again = copy.deepcopy(e.value)  # rebuilt through __reduce_ex__, as a process pool would rebuild it
    assert (again.index, again.reason, str(again)) == (e.value.index, e.value.reason, str(e.value))


def test_a_record_is_what_a_page_draws_of_an_adaptation(gallery):
    from metademo.api.recording import pca_basis

    clf = classifier("fomaml")
    images, labels = support(gallery)
    queries = [gallery[0][3], gallery[2][3], gallery[3][3]]
    rec = clf.record(images, labels, queries, ["cat", "owl", None], steps=3, lr=0.5)
    assert rec.classes == ["cat", "dog", "owl"] and rec.recorded_steps == [0, 1, 2, 3] and rec.steps == 3
    assert rec.lr == 0.5 and rec.answers == [0, 2, None] and rec.fitted.step == 3 and rec.divergence is None
    assert rec.probabilities.shape == (4, 3, 3) and rec.query_images.shape == (3, 28, 28)
    assert rec.support_map.shape == (4, 6, 2) and rec.query_map.shape == (4, 3, 2) and rec.centre_map.shape == (4, 3, 2)
    states = list(clf.fit_steps(images, labels, steps=3, lr=0.5))
    both = images + queries
    np.testing.assert_allclose(rec.probabilities, [s.predict_proba(queries) for s in states], rtol=1e-6, atol=1e-9)
    # one map for every step: the axes are fitted once over all steps' points, so only the points move
    points = [s.embed(both) for s in states]
    mean, axes = pca_basis(np.concatenate(points))
    maps = [(p - mean) @ axes.T for p in points]
    np.testing.assert_allclose(rec.support_map, [m[:6] for m in maps], atol=1e-6)
    np.testing.assert_allclose(rec.query_map, [m[6:] for m in maps], atol=1e-6)
    np.testing.assert_allclose(rec.centre_map[2, 1], maps[2][2:4].mean(0), atol=1e-6)  # "dog": images 2 and 3
    for k, p in enumerate(rec.probabilities):  # accuracy over the queries with answers
        right = [p[0, 0] > max(p[0, 1:]), p[1, 2] > max(p[1, :2])]
        assert rec.query_accuracy[k] == (k, np.mean(right)) and rec.correct(k) == [*right, None]
    assert rec.index(2) == 2 and rec.index(99) == 3 and rec.index(None) == 3
    with pytest.raises(ValueError, match="2 answers"):
        clf.record(images, labels, queries, ["cat", "owl"])
    with pytest.raises(ValueError, match="'emu' is not one of the classes"):
        clf.record(images, labels, queries, ["cat", "owl", "emu"])


def test_a_tie_is_counted_wrong():
    from metademo.api.recording import _correct

    p = np.array([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    assert _correct(p, [0, 1, 1, None]) == [False, False, True, None]


def test_a_record_without_queries_or_steps(gallery):
    images, labels = support(gallery)
    rec = classifier("protonet").record(images, labels, steps=5, lr=3.0)
    assert rec.steps == 0 and rec.lr is None and rec.recorded_steps == [0] and rec.history == []
    assert rec.probabilities is None and rec.query_map is None and rec.query_accuracy == [] and rec.correct(0) == []
    rec = classifier("relationnet").record(images, labels, [gallery[1][3]])
    assert rec.pair_scores.shape == (1, 3)
    streamed = classifier("maml").recording(images, labels, steps=100, lr=0.01, max_records=10)
    assert [f.step for f in streamed] == list(range(0, 101, 10)) and streamed.result().recorded_steps[-1] == 100


def test_divergence_is_diagnosed_with_its_step():
    import dataclasses

    from metademo.api.recording import diagnose

    fitted = metademo.api.FittedClassifier(None, [0, 1], {}, [], 0)

    def run(losses, diverged=False, step=None):
        history = [{"step": i, "loss": v, "accuracy": 0.5} for i, v in enumerate(losses)]
        return diagnose(dataclasses.replace(fitted, history=history, diverged=diverged,
                                            step=len(losses) - 1 if step is None else step))

    assert run([1.0, 0.5, 0.2]) is None and run([]) is None
    assert run([1.0, 40.0, math.nan], diverged=True, step=1) == metademo.api.Divergence("diverged", 2, 1, 1.0, 40.0)
    assert run([0.5, 30.0, 4e6, 1.2]) == metademo.api.Divergence("exploded", 2, 3, 0.5, 4e6)
    assert run([0.01, 9.0]) is None and run([0.01, 11.0]).step == 1  # the bound is 100 x max(start, 0.1)


def test_compare_algorithms_gives_accuracy_by_step_and_time(gallery):
    models = {"maml": classifier("maml"), "protonet": classifier("protonet")}

    def load(name):
        if name not in models:
            raise FileNotFoundError(f"no weights for {name}")
        return models[name]

    images, labels = support(gallery)
    queries, answers = [gallery[c][3] for c in range(3)], ["cat", "dog", "owl"]
    results = list(metademo.api.compare_algorithms(images, labels, queries, answers, 2,
                                                   ["maml", "reptile", "protonet"], load))
    maml, reptile, proto = results
    expected = [float(np.mean(s.predict_proba(queries).argmax(1) == [0, 1, 2]))
                for s in models["maml"].fit_steps(images, labels, steps=2)]
    assert (maml.title, maml.accuracy, maml.default_step, maml.skipped) == ("MAML", expected, 2, None)
    assert maml.colour == REGISTRY["maml"].colour and maml.seconds > 0
    assert reptile.skipped == "no weights for reptile" and reptile.accuracy == []
    assert len(proto.accuracy) == 1 and proto.default_step is None
    with pytest.raises(ValueError, match="steps must be"):
        next(metademo.api.compare_algorithms(images, labels, queries, answers, -1))


def test_sine_waves_through_the_api():
    api = metademo.api
    maml, baseline = api.load_sine_models()
    wave = api.sine_wave(2.0, 0.5, 5, 1)
    assert wave.x.shape == wave.y.shape == (5, 1) and wave.grid.shape == wave.truth.shape == (200,)
    np.testing.assert_allclose(wave.y[:, 0], 2.0 * np.sin(wave.x[:, 0] - 0.5), rtol=1e-5)
    records = list(api.adapt_sine_wave(maml, wave, 3, 0.01))
    assert [r["step"] for r in records] == [0, 1, 2, 3]
    for r, plain in zip(records, api.adapt_sine_steps(maml, wave.x, wave.y, 3, 0.01)):
        assert np.array_equal(r["prediction"], plain["prediction"])
        assert r["error"] == pytest.approx(float(np.mean((plain["prediction"] - wave.truth) ** 2)))
    assert records[-1]["error"] < records[0]["error"]  # MAML's steps fit the wave
    assert api.GRID.shape == (200,) and api.SINE_INNER_LR == 0.01
    for args, message in (((9, 0.5, 5, 1), "the amplitude must be a number at least 0.1 and at most 5.0"),
                          ((2, 0.5, 0, 1), r"K \(the number of points\) must be a whole number from 1 to 50"),
                          ((2, 7.0, 5, 1), "the phase"), ((2, 0.5, 5, -1), "the seed")):
        with pytest.raises(ValueError, match=message):
            api.sine_wave(*args)
    with pytest.raises(ValueError, match="the learning rate must be a number above 0 and at most 1.0"):
        next(api.adapt_sine_wave(maml, wave, 3, 2.0))
    params = next(iter(api.meta_train_sine(20, 0, "maml", 10)))[2]
    assert api.sine_model(params).name == "your MAML"


def test_device_info():
    info = metademo.api.device_info("cpu")
    assert info.type == "cpu" and info.threads == torch.get_num_threads() and info.name is None
    assert info.precision == metademo.adaptation_precision("cpu") and torch.__version__.startswith(info.torch_version)
