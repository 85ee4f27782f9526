"""Tests for metademo.data.synthetic: deterministic, Omniglot-like, classes distinguishable."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from metademo.data.preprocess import preprocess
from metademo.data.synthetic import (
    GlyphClass,
    make_glyph_class,
    synthetic_dataset,
    synthetic_gallery,
)


def test_glyph_class_structure():
    counts = set()
    for seed in range(40):
        g = make_glyph_class(seed)
        assert isinstance(g, GlyphClass)
        assert 1 <= len(g.strokes) <= 4
        counts.add(len(g.strokes))
        for stroke in g.strokes:
            assert stroke.ndim == 2 and stroke.shape[1] == 2 and len(stroke) >= 2
            assert stroke.min() > 0.0 and stroke.max() < 1.0  # on the unit canvas
    assert counts == {1, 2, 3, 4}


def test_render_looks_like_omniglot():
    img = make_glyph_class(7).render(0)
    assert isinstance(img, Image.Image)
    assert img.mode == "L" and img.size == (105, 105)
    a = np.asarray(img)
    assert a.min() < 30, "strokes should be black"
    assert np.median(a) == 255, "background should be white"
    # Nothing drawn on the outer frame: the character fits in the canvas.
    assert a[:3].min() == a[-3:].min() == a[:, :3].min() == a[:, -3:].min() == 255
    # Antialiased: some grey levels between black and white.
    assert ((a > 30) & (a < 225)).sum() > 20
    assert make_glyph_class(7).render(0, size=64).size == (64, 64)


def test_same_seed_same_pixels():
    a = np.asarray(make_glyph_class(3).render(5))
    b = np.asarray(make_glyph_class(3).render(5))
    assert np.array_equal(a, b)
    images1, labels1 = synthetic_dataset(3, 2, seed=11)
    images2, labels2 = synthetic_dataset(3, 2, seed=11)
    assert torch.equal(images1, images2) and torch.equal(labels1, labels2)


def test_different_seeds_differ():
    assert not np.array_equal(
        np.asarray(make_glyph_class(3).render(5)),
        np.asarray(make_glyph_class(3).render(6)),
    )
    assert not np.array_equal(
        np.asarray(make_glyph_class(3).render(5)),
        np.asarray(make_glyph_class(4).render(5)),
    )
    assert not torch.equal(
        synthetic_dataset(2, 1, seed=0)[0], synthetic_dataset(2, 1, seed=1)[0]
    )


def test_classes_differ_more_than_samples():
    images, labels = synthetic_dataset(10, 5, seed=0)
    x = images.flatten(1)
    dist = torch.cdist(x, x)
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~torch.eye(len(labels), dtype=torch.bool)
    within = dist[same & off_diagonal].mean()
    between = dist[~same].mean()
    assert within < 0.85 * between, (float(within), float(between))
    # And a 1-nearest-neighbour classifier mostly finds a sample of the same class.
    nearest = dist.masked_fill(~off_diagonal, float("inf")).argmin(dim=1)
    assert (labels[nearest] == labels).float().mean() > 0.8


def test_dataset_shapes_and_labels():
    images, labels = synthetic_dataset(4, 3, seed=2)
    assert images.shape == (12, 1, 28, 28) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    # Preprocessed like everything else: ink high, background zero.
    assert float(images.amax(dim=(1, 2, 3)).min()) > 0.9
    assert float(images.mean()) < 0.3
    assert float(images[:, 0, 0, 0].abs().max()) == 0.0


def test_dataset_matches_gallery_through_preprocess():
    gallery = synthetic_gallery(2, 2, seed=5)
    images, _ = synthetic_dataset(2, 2, seed=5)
    assert torch.equal(images[3], preprocess(gallery[1][1]))


def test_gallery_shape():
    gallery = synthetic_gallery(3, 4, seed=1, size=64)
    assert len(gallery) == 3 and all(len(row) == 4 for row in gallery)
    assert all(
        img.size == (64, 64) and img.mode == "L" for row in gallery for img in row
    )
    assert synthetic_gallery(0, 4) == []


def test_bad_seeds_raise():
    with pytest.raises(ValueError):
        make_glyph_class(-1)
    with pytest.raises(ValueError):
        make_glyph_class(0).render(-3)
