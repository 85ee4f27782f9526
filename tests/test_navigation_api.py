"""The navigation API as the page and notebooks use it, on the shipped policies."""

import math

import numpy as np
import pytest

from metademo.api import navigation as nav
from metademo.paths import assets_dir

needs_weights = pytest.mark.skipif(not (assets_dir() / "nav_maml.safetensors").is_file(),
                                   reason="the navigation policies are not in assets/")


@pytest.mark.parametrize("goal", [(float("nan"), 0.0), ("0.1", 0.2), (1.5, 0.0), (True, 0.0), (0.1,), None])
def test_bad_goals_are_value_errors(goal):
    with pytest.raises(ValueError):
        list(nav.adapt_to_goal("maml", goal, steps=1))


def test_bad_settings_are_value_errors():
    for kw in ({"steps": -1}, {"steps": 99}, {"episodes": 1}, {"seed": -3}):
        with pytest.raises(ValueError):
            list(nav.adapt_to_goal("maml", (0.1, 0.1), **kw))
    with pytest.raises(ValueError):
        list(nav.adapt_to_goal("nope", (0.1, 0.1)))


@needs_weights
def test_adapt_yields_each_step_with_its_episodes_and_leaves_the_model_alone():
    model = nav.load_navigation_models()["maml"]
    before = {k: v.clone() for k, v in model.params.items()}
    records = list(nav.adapt_to_goal(model, (0.3, -0.2), steps=2, seed=4, episodes=5))
    assert [r["step"] for r in records] == [0, 1, 2]
    for r in records:
        assert r["paths"].shape == (5, 101, 2) and np.all(r["paths"][:, 0] == 0)
        assert math.isfinite(r["return"]) and r["return"] < 0
        steps = np.abs(np.diff(r["paths"], axis=1))
        assert steps.max() <= 0.1 + 1e-6  # the speed limit
    assert not np.allclose(records[0]["paths"], records[2]["paths"])
    again = list(nav.adapt_to_goal(model, (0.3, -0.2), steps=2, seed=4, episodes=5))
    assert [r["return"] for r in again] == [r["return"] for r in records]
    assert all((model.params[k] == v).all() for k, v in before.items())


def test_live_meta_training_reports_and_returns_a_usable_model():
    reports = list(nav.meta_train_navigation(iterations=2, every=1))
    assert [r["iteration"] for r in reports[:-1]] == [1, 2]
    assert all(math.isfinite(r["return_after"]) for r in reports[:-1])
    assert reports[-1]["done"]
    records = list(nav.adapt_to_goal(reports[-1]["model"], (0.0, 0.4), steps=1, episodes=3))
    assert len(records) == 2
