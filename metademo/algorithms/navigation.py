"""Meta-reinforcement learning on 2-D navigation (Finn et al. 2017, section 5.3): MAML, first-order MAML and
a baseline pretrained on all goals at once, on the project's protocol.

The policy is Gaussian: its mean is an MLP 2-100-100-2 with ReLU of the position, its log standard deviation
a learned vector independent of the state. A task is a goal (:mod:`metademo.data.navigation`); its "support
set" is a handful of episodes sampled from the current policy, so every inner step samples afresh.

An inner step is one policy-gradient ascent step on the return, estimated from those episodes. The objective
it differentiates is DiCE (Foerster et al. 2018) in its "loaded" form with a baseline (Farquhar et al. 2019):

    J = 1/(N H) sum_episodes sum_t (m_t - m_{t-1}) (G_t - b_t),   m_t = exp(c_t - stop(c_t)),  m_{-1} = 1

where ``c_t`` sums the log-probabilities of the episode's actions up to t, ``G_t`` is the reward to go and
``b_t`` the mean reward to go at step t of the task's other episodes. Its value is 0, its gradient the usual REINFORCE
estimate, and its *second* derivatives an unbiased estimate of the Hessian of the expected return, including
the term from the sampling distribution's own dependence on the parameters (the products of score
functions) that a plain ``log pi * advantage`` surrogate drops. MAML's meta-gradient differentiates through
that step (``create_graph``); the tests compare it with the exact meta-gradient of a Gaussian case whose
expected return is known in closed form. The outer loop descends minus the return of episodes sampled after
adaptation; Adam moves the meta-parameters (the paper used TRPO).

Every task draws its sampling noise from its own seeded generator, so a task's adaptation does not depend
on the other tasks of a meta-batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from ..data.navigation import HORIZON, MAX_SPEED, transition
from ..lazy import torch
from ..networks.conv4 import Params
from ..networks.mlp import MLP
from .base import AdaptStep, HParams, MetaLearner, task_batched
from .inner_loop import check_steps_lr

EPISODES = 20  # episodes sampled per inner step (the paper's 20)
INIT_STD = 0.1  # the policy's initial standard deviation, as large as the largest velocity


@dataclass
class Rollout:
    """Episodes of T tasks, N each: (T, N, H, 2) positions before each action, actions (unclipped), (T, N, H)
    rewards."""

    positions: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor

    @property
    def returns(self) -> torch.Tensor:
        """(T,) mean return of each task's episodes."""
        return self.rewards.sum(-1).mean(-1)

    def path(self) -> torch.Tensor:
        """(T, N, H + 1, 2) every position of every episode, the origin first."""
        last = self.positions[:, :, -1] + self.actions[:, :, -1].clamp(-MAX_SPEED, MAX_SPEED)
        return torch.cat([self.positions, last.unsqueeze(2)], 2)


@dataclass
class NavStep(AdaptStep):
    """An adaptation's state after ``step`` inner updates, with the episodes its policy sampled (``loss`` is
    minus their mean return)."""

    rollout: Rollout | None = None


def log_prob(params: Params, network: MLP, positions: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """(T, N, H) log-density of the actions under task-batched ``params``."""
    t, n, h, _ = positions.shape
    mean = network(params, positions.reshape(t, n * h, 2)).view(t, n, h, 2)
    log_std = params["log_std"].view(t, 1, 1, 2)
    z = (actions - mean) / log_std.exp()
    return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def mean_baseline(to_go: torch.Tensor) -> torch.Tensor:
    """(T, N, H) each episode's baseline at step t: the mean reward to go at step t of the task's *other*
    episodes (leave one out, so that it does not depend on the episode's own actions and adds no bias)."""
    n = to_go.shape[1]
    if n < 2:
        return torch.zeros_like(to_go)
    return (to_go.sum(1, keepdim=True) - to_go) / (n - 1)


def dice_objective(logp: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """(T,) loaded DiCE of each task from (T, N, H) log-probabilities and advantages (constants): value 0,
    first and second derivatives unbiased estimates of those of the expected return (per step)."""
    cum = logp.cumsum(-1)
    magic = torch.exp(cum - cum.detach())
    before = torch.cat([torch.ones_like(magic[..., :1]), magic[..., :-1]], -1)
    return ((magic - before) * advantages).mean((-2, -1))


def advantages(rollout: Rollout) -> torch.Tensor:
    """(T, N, H) rewards to go less the baseline (no discount: the objective is the return), divided by their
    standard deviation over the task's episodes and steps (as rllab's policy gradients do), so that one step
    size suits a policy far from its goal and one close to it. The divisor is a constant of the objective,
    which makes it a per-task step size and leaves the estimator's derivatives unbiased up to that scale."""
    to_go = rollout.rewards.flip(-1).cumsum(-1).flip(-1)
    adv = to_go - mean_baseline(to_go)
    return adv / (adv.std((-2, -1), keepdim=True) + 1e-8)


class NavMAML(MetaLearner):
    """MAML with policy-gradient inner steps and its exact second-order (DiCE) meta-gradient."""

    name = "nav_maml"
    title = "MAML"
    paper = "Finn et al. 2017, section 5.3"
    summary = "MAML learned a policy from which one policy-gradient step on 20 episodes heads for a new goal."
    colour = "#636EFA"
    family = "initialisation"
    kind = "maml"
    first_order = False
    default_hparams = HParams(hidden=100, inner_lr=0.1, train_steps=1, test_steps=3, extra={"episodes": EPISODES})

    @classmethod
    def meta_gradient_kind(cls) -> str:
        return "first order" if cls.first_order else "second order (DiCE)"

    def default_network(self):
        return MLP((2, self.hparams.hidden, self.hparams.hidden, 2), "relu")

    @property
    def episodes(self) -> int:
        return int(self.hparams.extra.get("episodes", EPISODES))

    def init_meta_params(self, seed=0, dtype=None):
        params = self.network.init_params(seed, dtype or torch.float32)
        # A small output layer: the first policy stays near the origin instead of drifting off at full speed.
        for kind in ("weight", "bias"):
            params[f"fc{self.network.layers}.{kind}"] *= 0.01
        params["log_std"] = torch.full((2,), math.log(INIT_STD), dtype=dtype or torch.float32)
        return params

    def body(self, meta):
        return dict(meta)

    # --- sampling -----------------------------------------------------------------------------------
    def rollout(self, params: Params, goals: torch.Tensor, noise: torch.Tensor) -> Rollout:
        """Episodes of task-batched ``params`` for (T, 2) ``goals`` from (T, N, H, 2) standard normal noise."""
        t, n, h, _ = noise.shape
        with torch.no_grad():
            p = {k: v.detach() for k, v in params.items()}
            std = p["log_std"].exp().view(t, 1, 2)
            pos = goals.new_zeros(t, n, 2)
            positions, actions, rewards = [], [], []
            for i in range(h):
                action = self.network(p, pos) + std * noise[:, :, i]
                positions.append(pos)
                actions.append(action)
                pos, r = transition(pos, action, goals.unsqueeze(1))
                rewards.append(r)
        return Rollout(torch.stack(positions, 2), torch.stack(actions, 2), torch.stack(rewards, 2))

    @staticmethod
    def generators(seeds: torch.Tensor) -> list[torch.Generator]:
        return [torch.Generator().manual_seed(int(s)) for s in seeds.reshape(-1).tolist()]

    def noise(self, gens: list[torch.Generator], episodes: int | None = None) -> torch.Tensor:
        n = episodes or self.episodes
        return torch.stack([torch.randn(n, HORIZON, 2, generator=g) for g in gens])

    # --- the inner loop -----------------------------------------------------------------------------
    def adapt_steps(self, meta, x, y, n_way=0, steps=None, lr=None, create_graph=False, precision="auto",
                    episodes: int | None = None) -> Iterator[NavStep]:
        """Yield the policy after 0, 1, ..., ``steps`` inner steps for goals ``x`` (T, 2), each with the
        episodes it sampled (the data of the next step) from the generators seeded by ``y`` (T,)."""
        return self.descend(meta, x.reshape(-1, 2), self.generators(y), steps, lr, create_graph, episodes)

    def descend(self, meta, goals, gens, steps=None, lr=None, create_graph=False, episodes=None,
                sample_last: bool = True) -> Iterator[NavStep]:
        steps = self.hparams.test_steps if steps is None else steps
        lr = self.hparams.inner_lr if lr is None else lr
        check_steps_lr(steps, lr)
        t = goals.shape[0]
        with torch.enable_grad():
            params = task_batched({k: v if v.requires_grad else v.detach().requires_grad_() for k, v in meta.items()},
                                  t)
        for step in range(steps + 1):
            if step == steps and not sample_last:
                yield NavStep(step, params, None, None, None)
                return
            rollout = self.rollout(params, goals, self.noise(gens, episodes))
            yield NavStep(step, params, -rollout.returns, None, rollout)
            if step == steps:
                return
            with torch.enable_grad():
                objective = dice_objective(log_prob(params, self.network, rollout.positions, rollout.actions),
                                           advantages(rollout))
                keys = list(params)
                grads = torch.autograd.grad(objective.sum(), [params[k] for k in keys], create_graph=create_graph)
                # Ascent on the return; without create_graph the step is a constant shift (first order).
                params = {k: params[k] + lr * g for k, g in zip(keys, grads)}

    def meta_gradient(self, meta, episode, first_order: bool | None = None, steps: int | None = None,
                      multi_step: bool = False, **kw):
        """Adapt to each goal (``episode.support_x``: (T, 1, 2); ``support_y``: (T, 1) seeds), sample episodes
        of the adapted policy, and differentiate minus their return's estimate back to the meta-parameters.
        With ``multi_step`` the outer objective is the mean return after every inner step 1..steps (MAML++'s
        multi-step loss), each estimated from the episodes that step's policy samples (those the next inner
        step learns from), so that every step, not only the last, must head for the goal."""
        first_order = self.first_order if first_order is None else first_order
        steps = self.hparams.train_steps if steps is None else steps
        goals, gens = episode.support_x.reshape(-1, 2), self.generators(episode.support_y)
        adapted = self.descend(meta, goals, gens, steps, create_graph=not first_order,
                               sample_last=multi_step and steps > 1)
        if not (multi_step and steps > 1):
            *_, final = adapted
            return self._policy_gradient(meta, final.params, goals, gens)
        with torch.enable_grad():
            surrogates, ret = [], 0.0
            for state in adapted:
                if state.step:
                    surrogates.append(self._surrogate(state.params, state.rollout))
                    ret = state.rollout.returns.mean().item()
            grads = torch.autograd.grad(-torch.stack(surrogates).mean(), list(meta.values()))
        return dict(zip(meta, grads)), {"loss": -ret, "return": ret}

    def _surrogate(self, params, rollout) -> torch.Tensor:
        """The policy-gradient surrogate of the episodes ``rollout`` (sampled from ``params``), averaged over tasks:
        its gradient is the REINFORCE estimate of the mean return's."""
        return (log_prob(params, self.network, rollout.positions, rollout.actions)
                * advantages(rollout)).mean((-2, -1)).mean()

    def _policy_gradient(self, meta, params, goals, gens):
        rollout = self.rollout(params, goals, self.noise(gens))
        with torch.enable_grad():
            grads = torch.autograd.grad(-self._surrogate(params, rollout), list(meta.values()))
        ret = rollout.returns.mean().item()
        return dict(zip(meta, grads)), {"loss": -ret, "return": ret}

    def adapted_params(self, meta, x, y, n_way=0, **kw):
        *_, final = self.adapt_steps(meta, x, y, n_way, **kw)
        return final.params


class NavFOMAML(NavMAML):
    """First-order MAML: the meta-gradient is the adapted policy's policy gradient, applied at the start."""

    name = "nav_fomaml"
    title = "first-order MAML"
    paper = "Finn et al. 2017 (first-order approximation), section 5.3"
    summary = "First-order MAML ignores how the inner step depends on the starting policy."
    colour = "#00CC96"
    kind = "fomaml"
    first_order = True


class NavPretrained(NavMAML):
    """The baseline: one policy trained by policy gradient on all goals at once; adapts as MAML does."""

    name = "nav_baseline"
    title = "pretrained baseline"
    paper = "Finn et al. 2017, section 5.3 (the pretrained baseline)"
    summary = "Trained on all goals at once, it learned to head for where goals are on average."
    colour = "#EF553B"
    kind = "baseline"

    @classmethod
    def meta_gradient_kind(cls) -> str:
        return "no inner loop in training"

    def meta_gradient(self, meta, episode, **kw):
        goals, gens = episode.support_x.reshape(-1, 2), self.generators(episode.support_y)
        with torch.enable_grad():
            params = task_batched(meta, goals.shape[0])
        return self._policy_gradient(meta, params, goals, gens)
