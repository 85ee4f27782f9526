"""2-D navigation: the environment, and the correctness of the policy-gradient meta-gradient."""

import math

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from metademo.algorithms import NavFOMAML, NavMAML, NavPretrained, get_algorithm
from metademo.algorithms.base import Episode
from metademo.algorithms.navigation import dice_objective, log_prob, mean_baseline
from metademo.data.navigation import HORIZON, NavigationEnv, transition


def test_env_passes_gymnasium_checker():
    with pytest.warns(UserWarning):  # gymnasium warns it cannot check render modes without a registered spec
        check_env(NavigationEnv())


def test_batched_transition_steps_like_the_env():
    rng = np.random.default_rng(0)
    goal = np.array([0.3, -0.2], np.float32)
    actions = rng.normal(0, 0.15, (HORIZON, 2)).astype(np.float32)  # many exceed the speed limit
    env = NavigationEnv(goal)
    obs, _ = env.reset(seed=1)
    pos, g = torch.zeros(2), torch.tensor(goal)
    for i, a in enumerate(actions):
        obs, reward, terminated, truncated, _ = env.step(a)
        pos, r = transition(pos, torch.tensor(a), g)
        np.testing.assert_allclose(obs, pos.numpy(), atol=1e-6)
        assert reward == pytest.approx(r.item(), abs=1e-5)
        assert not terminated and truncated == (i == HORIZON - 1)
    assert np.all(np.abs(np.diff(np.concatenate([[[0, 0]], [obs]]), axis=0)) <= 10)


def test_env_rejects_bad_goals_and_resets_to_the_origin():
    with pytest.raises(ValueError):
        NavigationEnv(goal=(1.0, float("nan")))
    env = NavigationEnv()
    obs, info = env.reset(seed=3, options={"goal": (0.1, 0.2)})
    assert np.all(obs == 0) and np.allclose(info["goal"], (0.1, 0.2))


def test_learner_rollout_uses_the_env_dynamics_and_the_gaussian_log_density():
    learner = NavMAML()
    meta = learner.init_meta_params(0)
    goals = torch.tensor([[0.4, 0.1]])
    params = {k: v.unsqueeze(0) for k, v in meta.items()}
    roll = learner.rollout(params, goals, torch.randn(1, 3, HORIZON, 2, generator=torch.Generator().manual_seed(0)))
    env = NavigationEnv(goals[0].numpy())
    env.reset()
    for a, r in zip(roll.actions[0, 0], roll.rewards[0, 0]):
        _, reward, *_ = env.step(a.numpy())
        assert reward == pytest.approx(r.item(), abs=1e-5)
    mean = learner.network(meta, roll.positions[0].reshape(-1, 2)).view(3, HORIZON, 2)
    normal = torch.distributions.Normal(mean, meta["log_std"].exp())
    expected = normal.log_prob(roll.actions[0]).sum(-1)
    torch.testing.assert_close(log_prob(params, learner.network, roll.positions, roll.actions)[0], expected)


# --- the meta-gradient against an exact one ------------------------------------------------------------------
# A two-step linear-Gaussian problem whose expected return is known in closed form: the state starts at 0,
# a1 ~ N(c, s^2), the state becomes a1, a2 ~ N(w a1 + c, s^2), the state becomes a1 + a2; rewards
# r1 = -(a1 - g)^2 and r2 = -(a1 + a2 - g)^2. With theta = (c, w, log s):
#   E[r1] = -((c - g)^2 + s^2),   E[r2] = -(((2 + w) c - g)^2 + ((1 + w)^2 + 1) s^2).

GOAL = 0.7
ALPHA = 0.2  # inner step size


def expected_return(theta):
    c, w, log_s = theta
    s2 = torch.exp(2 * log_s)
    return -((c - GOAL) ** 2 + s2) - (((2 + w) * c - GOAL) ** 2 + ((1 + w) ** 2 + 1) * s2)


def exact_meta_gradient(theta0):
    theta = theta0.clone().requires_grad_()
    (inner,) = torch.autograd.grad(expected_return(theta), theta, create_graph=True)
    return torch.autograd.grad(expected_return(theta + ALPHA * inner), theta)[0]


def sample(theta, n, gen):
    """(1, n, 2, 1) states, actions and (1, n, 2) rewards of n episodes (theta detached)."""
    c, w, log_s = theta.detach()
    s = log_s.exp()
    a1 = c + s * torch.randn(n, generator=gen, dtype=torch.float64)
    a2 = w * a1 + c + s * torch.randn(n, generator=gen, dtype=torch.float64)
    states = torch.stack([torch.zeros_like(a1), a1], -1)
    actions = torch.stack([a1, a2], -1)
    rewards = torch.stack([-(a1 - GOAL) ** 2, -(a1 + a2 - GOAL) ** 2], -1)
    return states[None], actions[None], rewards[None]


def logp(theta, states, actions):
    c, w, log_s = theta
    z = (actions - (w * states + c)) / log_s.exp()
    return -0.5 * z * z - log_s - 0.5 * math.log(2 * math.pi)


def estimated_meta_gradient(theta0, n, gen, objective):
    """The learner's recipe: inner step on ``objective`` of sampled episodes (through create_graph), then the
    policy-gradient surrogate of episodes sampled from the adapted policy, differentiated to theta."""
    theta = theta0.clone().requires_grad_()
    states, actions, rewards = sample(theta, n, gen)
    to_go = rewards.flip(-1).cumsum(-1).flip(-1)
    adv = to_go - to_go.mean(1, keepdim=True)  # a constant baseline per time step
    inner_obj = objective(logp(theta, states, actions), adv).sum() * 2  # mean over steps -> sum over steps
    (g,) = torch.autograd.grad(inner_obj, theta, create_graph=True)
    adapted = theta + ALPHA * g
    states, actions, rewards = sample(adapted, n, gen)
    to_go = rewards.flip(-1).cumsum(-1).flip(-1)
    adv = to_go - to_go.mean(1, keepdim=True)
    outer = (logp(adapted, states, actions) * adv).mean(1).sum()
    return torch.autograd.grad(outer, theta)[0]


def naive_objective(lp, adv):
    """log pi * advantage: the right first derivative, but no score-function products in its second."""
    return (lp * adv).mean((-2, -1))


@pytest.mark.parametrize("objective, matches", [(dice_objective, True), (naive_objective, False)])
def test_dice_meta_gradient_matches_the_exact_one(objective, matches):
    theta0 = torch.tensor([0.1, -0.3, math.log(0.5)], dtype=torch.float64)
    exact = exact_meta_gradient(theta0)
    gen = torch.Generator().manual_seed(0)
    est = torch.stack([estimated_meta_gradient(theta0, 50_000, gen, objective) for _ in range(8)])
    mean, se = est.mean(0), est.std(0) / math.sqrt(len(est))
    close = bool(((mean - exact).abs() <= 4 * se + 1e-3 * exact.abs()).all())
    assert close == matches, (exact, mean, se)


def test_dice_first_derivative_is_reinforce_and_value_is_zero():
    torch.manual_seed(0)
    lp = torch.randn(2, 5, 4, requires_grad=True)
    adv = torch.randn(2, 5, 4)
    obj = dice_objective(lp, adv)
    assert torch.all(obj == 0)
    (g,) = torch.autograd.grad(obj.sum(), lp)
    torch.testing.assert_close(g, adv / 20)


# --- the learners ---------------------------------------------------------------------------------------------


def small(cls):
    return cls(cls.default_hparams.replace(hidden=16, extra={"episodes": 4}))


def test_a_tasks_adaptation_does_not_depend_on_the_other_tasks():
    learner = small(NavMAML)
    meta = learner.init_meta_params(1)
    goals_a = torch.tensor([[0.3, 0.2], [-0.4, 0.1]])
    goals_b = torch.tensor([[0.3, 0.2], [0.0, -0.5], [0.5, 0.5]])
    a = learner.adapted_params(meta, goals_a, torch.tensor([7, 8]), steps=2)
    b = learner.adapted_params(meta, goals_b, torch.tensor([7, 9, 10]), steps=2)
    for k in meta:
        torch.testing.assert_close(a[k][0], b[k][0], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(a["fc1.weight"][0], a["fc1.weight"][1])


def test_meta_gradients_of_the_three_learners():
    goals = torch.tensor([[[0.3, 0.2]], [[-0.4, 0.1]]])
    seeds = torch.tensor([[1], [2]])
    episode = Episode(goals, seeds, goals, seeds, 0)
    grads = {}
    for cls in (NavMAML, NavFOMAML, NavPretrained):
        learner = small(cls)
        meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(0).items()}
        grads[cls.name], metrics = learner.meta_gradient(meta, episode)
        assert set(grads[cls.name]) == set(meta) and math.isfinite(metrics["return"])
        assert all(torch.isfinite(g).all() for g in grads[cls.name].values())
    # Same episodes, the second-order terms are the only difference between MAML and first-order MAML.
    assert not torch.allclose(grads["nav_maml"]["fc1.weight"], grads["nav_fomaml"]["fc1.weight"])
    assert get_algorithm("nav_maml") is NavMAML


def test_an_episodes_baseline_ignores_its_own_returns():
    to_go = torch.randn(2, 5, 7)
    changed = to_go.clone()
    changed[:, 2] += 100.0
    torch.testing.assert_close(mean_baseline(to_go)[:, 2], mean_baseline(changed)[:, 2])
    torch.testing.assert_close(mean_baseline(to_go)[:, 0], to_go[:, 1:].mean(1))


def test_multi_step_loss_averages_the_policy_gradients_after_every_inner_step():
    goals = torch.tensor([[[0.3, 0.2]], [[-0.4, 0.1]]])
    seeds = torch.tensor([[3], [4]])
    episode = Episode(goals, seeds, goals, seeds, 0)
    learner = small(NavFOMAML)  # first order: each adapted policy is the start plus a constant shift
    meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(0).items()}
    grads, _ = learner.meta_gradient(meta, episode, steps=2, multi_step=True)
    states = list(learner.descend(meta, goals.reshape(-1, 2), learner.generators(seeds), 2))
    expected = {k: torch.zeros_like(v) for k, v in meta.items()}
    for state in states[1:]:  # the episodes each step's policy sampled, as the next step learns from them
        with torch.enable_grad():
            g = torch.autograd.grad(-learner._surrogate(state.params, state.rollout), list(state.params.values()))
        for k, gk in zip(state.params, g):
            expected[k] += gk.sum(0) / 2  # task-batched copies of the start: their gradients add up
    for k in meta:
        torch.testing.assert_close(grads[k], expected[k], atol=1e-6, rtol=1e-5)
    # Not the last step's gradient alone.
    last, _ = learner.meta_gradient(meta, episode, steps=2)
    assert not torch.allclose(last["fc1.weight"], grads["fc1.weight"])


def test_trainer_follows_its_recipe_with_overrides_by_name():
    from metademo import navigation

    trainer = navigation.trainer_for("maml", progress=False, iterations=7, inner_lr=None)
    recipe = navigation.RECIPES["maml"]
    assert trainer.cfg.iterations == 7 and trainer.cfg.inner_lr == recipe["inner_lr"]  # None keeps the recipe's
    assert trainer.cfg.multi_step_loss and trainer.cfg.fixed_steps_iterations == recipe["fixed_steps_iterations"]
    assert "--iterations 7 " in trainer.cfg.recipe and "--multi-step-loss" in trainer.cfg.recipe
    baseline = navigation.trainer_for("baseline", progress=False)
    assert baseline.cfg.train_steps == 1 and not baseline.cfg.multi_step_loss and baseline.cfg.train_steps_max is None
    with pytest.raises(ValueError, match="unknown recipe options"):
        navigation.trainer_for("maml", progress=False, inner_steps=3)
