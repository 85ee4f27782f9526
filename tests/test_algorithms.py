"""The algorithms are proven, not assumed: exact gradients, exact definitions, invariances."""

import math
import threading

import pytest
import torch
import torch.nn.functional as F

from metademo.algorithms import (
    FOMAML,
    MAML,
    REGISTRY,
    Episode,
    HParams,
    MatchingNet,
    MetaSGD,
    ProtoMAML,
    ProtoNet,
    RelationNet,
    Reptile,
)
from metademo.algorithms.base import FAMILIES, class_means, per_task_cross_entropy
from metademo.networks.conv4 import Conv4

GRADIENT_LEARNERS = [cls for cls in REGISTRY.values() if cls.has_inner_loop]
COMPARING_LEARNERS = [cls for cls in REGISTRY.values() if not cls.has_inner_loop]
UNIFORM_START = [cls for cls in GRADIENT_LEARNERS if cls.head == "zero"]


def smooth_images(n, seed):
    """Blurry random images: far from pooling ties, so finite differences see a smooth function."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g, dtype=torch.float64)
    return F.avg_pool2d(x, 3, 1, 1)


def make_episode(n_way=3, k=2, q=2, tasks=2, seed=0):
    sx = smooth_images(tasks * n_way * k, seed).view(tasks, n_way * k, 1, 28, 28)
    qx = smooth_images(tasks * n_way * q, seed + 1).view(tasks, n_way * q, 1, 28, 28)
    sy = torch.arange(n_way).repeat_interleave(k).expand(tasks, -1).contiguous()
    qy = torch.arange(n_way).repeat_interleave(q).expand(tasks, -1).contiguous()
    return Episode(sx, sy, qx, qy, n_way)


def small(cls, **kw):
    hp = cls.default_hparams.replace(hidden=4, **kw)
    learner = cls(hp)
    meta = {k: v.requires_grad_() for k, v in learner.init_meta_params(seed=3, dtype=torch.float64).items()}
    return learner, meta


def query_loss(learner, meta, episode, steps):
    """The MAML objective evaluated directly: adapt, then the query loss (no meta-graph needed)."""
    theta = {k: v.detach() for k, v in meta.items()}
    final = learner.adapt(theta, episode.support_x, episode.support_y, episode.n_way, steps=steps)
    with torch.no_grad():
        return per_task_cross_entropy(learner.logits(final.params, episode.query_x), episode.query_y).mean().item()


def directional_fd(learner, meta, episode, steps, direction, eps=1e-6):
    plus = {k: v.detach() + eps * direction[k] for k, v in meta.items()}
    minus = {k: v.detach() - eps * direction[k] for k, v in meta.items()}
    return (query_loss(learner, plus, episode, steps) - query_loss(learner, minus, episode, steps)) / (2 * eps)


def random_direction(meta, seed, keys=None):
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.randn(v.shape, generator=g, dtype=v.dtype) if keys is None or k in keys
                else torch.zeros_like(v)) for k, v in meta.items()}


def dot(grads, direction):
    return sum((grads[k] * direction[k]).sum() for k in grads).item()


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("cls", [MAML, ProtoMAML], ids=["maml", "protomaml"])
def test_maml_meta_gradient_matches_finite_differences(cls, steps):
    learner, meta = small(cls, train_steps=steps, inner_lr=0.1)
    episode = make_episode()
    grads, _ = learner.meta_gradient(meta, episode)
    fo_grads, _ = learner.meta_gradient(meta, episode, first_order=True)
    for seed in range(3):
        v = random_direction(meta, seed)
        fd, exact = directional_fd(learner, meta, episode, steps, v), dot(grads, v)
        assert abs(fd - exact) / abs(fd) < 1e-6, (fd, exact)
        # The check can fail: the first-order gradient is measurably off the true one.
        assert abs(fd - dot(fo_grads, v)) / abs(fd) > 1e-4


def test_maml_meta_gradient_coordinatewise():
    learner, meta = small(MAML, train_steps=2, inner_lr=0.1)
    episode = make_episode(tasks=1)
    grads, _ = learner.meta_gradient(meta, episode)
    for key in ("norm4.bias", "conv1.bias"):
        for i in range(meta[key].numel()):
            v = {k: torch.zeros_like(t) for k, t in meta.items()}
            v[key].view(-1)[i] = 1.0
            fd = directional_fd(learner, meta, episode, 2, v)
            assert abs(fd - grads[key].view(-1)[i].item()) <= 1e-6 * max(abs(fd), 1e-3)


def with_head(cls, head):
    """``cls`` starting its tasks from another head (e.g. a first-order Proto-MAML, for the tests)."""
    return cls if cls.head == head else type(f"{cls.__name__}_{head}", (cls,), {"head": head})


def start_head(feats, y, n_way, head):
    """The task's starting head, written out: zeros, or twice the class means and minus their squared norms."""
    mu = class_means(feats, y, n_way)
    if head == "zero":
        return torch.zeros_like(mu).requires_grad_(), torch.zeros_like(mu[..., 0]).requires_grad_()
    return 2 * mu, -(mu * mu).sum(-1)


@pytest.mark.parametrize("head", ["zero", "prototype"])
def test_first_order_maml_equals_analytic_first_order_gradient(head):
    """FOMAML = d/dtheta L_query(theta + D_body, head0(theta) + D_head) with the inner updates D constant."""
    steps = 2
    learner, meta = small(with_head(FOMAML, head), train_steps=steps, inner_lr=0.1)
    episode = make_episode()
    grads, _ = learner.meta_gradient(meta, episode)

    theta = {k: v.detach() for k, v in meta.items()}
    start = learner.adapt(theta, episode.support_x, episode.support_y, episode.n_way, steps=0).params
    end = learner.adapt(theta, episode.support_x, episode.support_y, episode.n_way, steps=steps).params
    delta = {k: (end[k] - start[k]).detach() for k in end}
    t = episode.support_x.shape[0]
    body = {k: v.unsqueeze(0).expand(t, *v.shape) + delta[k] for k, v in meta.items()}
    w0, b0 = start_head(learner.network.features({k: v.unsqueeze(0).expand(t, *v.shape) for k, v in meta.items()},
                                                 episode.support_x), episode.support_y, episode.n_way, head)
    head_w, head_b = w0 + delta["head.weight"], b0 + delta["head.bias"]
    logits = learner.network.features(body, episode.query_x) @ head_w.transpose(1, 2) + head_b.unsqueeze(1)
    loss = per_task_cross_entropy(logits, episode.query_y).mean()
    expected = torch.autograd.grad(loss, list(meta.values()))
    for (k, g), e in zip(grads.items(), expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12, msg=k)


def test_metasgd_learning_rate_gradient_matches_finite_differences():
    learner, meta = small(MetaSGD, train_steps=2, inner_lr=0.1)
    episode = make_episode()
    grads, _ = learner.meta_gradient(meta, episode)
    rate_keys = [k for k in meta if k.startswith("lr.")]
    assert "lr.head.weight" in rate_keys and "lr.conv1.weight" in rate_keys
    for seed in range(3):
        v = random_direction(meta, seed, keys=rate_keys)
        fd, exact = directional_fd(learner, meta, episode, 2, v), dot(grads, v)
        assert abs(fd - exact) / abs(fd) < 1e-6, (fd, exact)


def test_metasgd_with_uniform_rates_is_maml():
    steps = 2
    sgd, meta = small(MetaSGD, train_steps=steps, inner_lr=0.1)
    maml = small(MAML, train_steps=steps, inner_lr=0.1)[0]
    episode = make_episode()
    a = sgd.adapt(meta, episode.support_x, episode.support_y, 3, steps=steps).params
    body = {k: v for k, v in meta.items() if not k.startswith("lr.")}
    b = maml.adapt(body, episode.support_x, episode.support_y, 3, steps=steps).params
    for k in b:
        torch.testing.assert_close(a[k], b[k])


@pytest.mark.parametrize("head", ["zero", "prototype"])
def test_reptile_update_equals_its_definition(head):
    """theta - eps * g must be theta + eps * (mean_i W_i - theta), W_i = k SGD steps on task i's data."""
    steps, lr, eps = 3, 0.05, 0.5
    learner, meta = small(with_head(Reptile, head), train_steps=steps, inner_lr=lr)
    episode = make_episode()
    grads, _ = learner.meta_gradient(meta, episode)

    net = Conv4(hidden=4)
    adapted = []
    for i in range(episode.support_x.shape[0]):
        x = torch.cat([episode.support_x[i], episode.query_x[i]])
        y = torch.cat([episode.support_y[i], episode.query_y[i]])
        w = {k: v.detach().clone().requires_grad_() for k, v in meta.items()}
        w0, b0 = start_head(net.features(w, x).unsqueeze(0), y.unsqueeze(0), episode.n_way, head)
        w["head.weight"], w["head.bias"] = w0[0], b0[0]
        for _ in range(steps):
            loss = F.cross_entropy(net.features(w, x) @ w["head.weight"].T + w["head.bias"], y)
            g = torch.autograd.grad(loss, list(w.values()))
            w = {k: v - lr * gv for (k, v), gv in zip(w.items(), g)}
        adapted.append({k: w[k].detach() for k in meta})
    for k, theta in meta.items():
        mean_w = torch.stack([a[k] for a in adapted]).mean(0)
        torch.testing.assert_close(theta.detach() - eps * grads[k], theta.detach() + eps * (mean_w - theta.detach()))


def test_protonet_logits_are_negative_squared_distances():
    learner, meta = small(ProtoNet)
    episode = make_episode(n_way=4, k=3, q=2)
    final = learner.adapt(meta, episode.support_x, episode.support_y, 4)
    logits = learner.logits(final.params, episode.query_x)
    net = Conv4(hidden=4)
    for t in range(2):
        s = net.features(meta, episode.support_x[t])
        protos = torch.stack([s[episode.support_y[t] == c].mean(0) for c in range(4)])
        expected = -torch.cdist(net.features(meta, episode.query_x[t]), protos) ** 2
        torch.testing.assert_close(logits[t], expected)
    assert final.step == 0 and final.params["prototypes"].shape == (2, 4, 4)


@pytest.mark.parametrize("per_class_head", [False, True], ids=["", "per-class-head"])
@pytest.mark.parametrize("cls", list(REGISTRY.values()), ids=list(REGISTRY))
def test_class_order_does_not_matter(cls, per_class_head):
    """Renaming the classes permutes the probabilities, and nothing else: also when the task head steps by
    ``inner_lr * n_way`` (``head_lr_per_class``), over three inner steps."""
    kw = {"head_lr_per_class": True, "inner_lr": 0.1, "test_steps": 3} if per_class_head else {}
    learner, meta = small(cls, **kw)
    episode = make_episode(n_way=4, k=2, q=3, tasks=1)
    perm = torch.tensor([2, 0, 3, 1])
    base = learner.adapt(meta, episode.support_x, episode.support_y, 4)
    permuted = learner.adapt(meta, episode.support_x, perm[episode.support_y], 4)
    p_base = torch.softmax(learner.logits(base.params, episode.query_x), -1)
    p_perm = torch.softmax(learner.logits(permuted.params, episode.query_x), -1)
    torch.testing.assert_close(p_perm[..., perm], p_base, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls", list(REGISTRY.values()), ids=list(REGISTRY))
def test_non_transductive_and_support_order_free(cls):
    learner, meta = small(cls)
    episode = make_episode(n_way=3, k=2, q=4, tasks=1)
    final = learner.adapt(meta, episode.support_x, episode.support_y, 3)
    together = learner.logits(final.params, episode.query_x)
    for j in (0, 5):
        alone = learner.logits(final.params, episode.query_x[:, j:j + 1])
        torch.testing.assert_close(alone[0, 0], together[0, j], rtol=1e-10, atol=1e-12)
    order = torch.randperm(6, generator=torch.Generator().manual_seed(0))
    shuffled = learner.adapt(meta, episode.support_x[:, order], episode.support_y[:, order], 3)
    torch.testing.assert_close(learner.logits(shuffled.params, episode.query_x), together, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("cls", [MAML, MetaSGD, ProtoMAML, *COMPARING_LEARNERS],
                         ids=["maml", "metasgd", "protomaml", *(c.name for c in COMPARING_LEARNERS)])
def test_batched_tasks_equal_one_task_at_a_time(cls):
    learner, meta = small(cls, train_steps=2) if cls.has_inner_loop else small(cls)
    episode = make_episode(tasks=3)
    grads, _ = learner.meta_gradient(meta, episode)
    singles = [learner.meta_gradient(meta, episode.task(i))[0] for i in range(3)]
    for k in grads:
        torch.testing.assert_close(grads[k], sum(s[k] for s in singles) / 3, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n_way", [2, 7, 20])
@pytest.mark.parametrize("cls", list(REGISTRY.values()), ids=list(REGISTRY))
def test_any_number_of_classes_from_one_set_of_meta_parameters(cls, n_way):
    learner, meta = small(cls)
    episode = make_episode(n_way=n_way, k=1, q=1, tasks=1)
    final = learner.adapt(meta, episode.support_x, episode.support_y, n_way, steps=1 if cls.has_inner_loop else None)
    assert learner.logits(final.params, episode.query_x).shape == (1, n_way, n_way)


@pytest.mark.parametrize("cls", list(REGISTRY.values()), ids=list(REGISTRY))
def test_adaptation_never_modifies_meta_parameters(cls):
    learner, meta = small(cls)
    before = {k: v.detach().clone() for k, v in meta.items()}
    episode = make_episode()
    learner.meta_gradient(meta, episode)
    learner.adapt({k: v.detach() for k, v in meta.items()}, episode.support_x, episode.support_y, 3)
    for k in meta:
        assert torch.equal(meta[k].detach(), before[k]), k


def test_concurrent_adaptation_gives_the_sequential_answer():
    learner, meta = small(MAML)
    theta = {k: v.detach() for k, v in meta.items()}
    episodes = [make_episode(tasks=1, seed=s) for s in range(8)]

    def answer(ep):
        final = learner.adapt(theta, ep.support_x, ep.support_y, 3, steps=3)
        return learner.logits(final.params, ep.query_x).detach()

    expected = [answer(ep) for ep in episodes]
    results = [None] * 8

    def work(i):
        for _ in range(3):
            results[i] = answer(episodes[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r, e in zip(results, expected):
        torch.testing.assert_close(r, e, rtol=0, atol=0)


def test_adapt_steps_reports_each_step_and_leaves_grad_mode_alone():
    learner, meta = small(MAML)
    ep = make_episode(tasks=1)
    seen = []
    with torch.no_grad():
        for state in learner.adapt_steps({k: v.detach() for k, v in meta.items()}, ep.support_x, ep.support_y, 3,
                                         steps=4, lr=0.1):
            assert not torch.is_grad_enabled()
            seen.append((state.step, state.loss.item()))
    assert [s for s, _ in seen] == [0, 1, 2, 3, 4]
    assert seen[-1][1] < seen[0][1]  # gradient descent lowers the support loss


@pytest.mark.parametrize("cls", list(REGISTRY.values()), ids=list(REGISTRY))
@pytest.mark.parametrize("steps", [0, 2])
def test_adapted_params_are_the_end_of_adapt_steps(cls, steps):
    """adapted_params skips the final support loss, and nothing else: the same tensors, bit for bit."""
    learner, meta = small(cls)
    ep = make_episode(tasks=2)
    theta = {k: v.detach() for k, v in meta.items()}
    kw = {"steps": steps, "lr": 0.1} if cls.has_inner_loop else {}
    expected = learner.adapt(theta, ep.support_x, ep.support_y, 3, **kw).params
    params = learner.adapted_params(theta, ep.support_x, ep.support_y, 3, **kw)
    assert params.keys() == expected.keys()
    for k in params:
        assert torch.equal(params[k], expected[k]), k


def test_descend_without_final_loss_skips_only_the_last_evaluation():
    learner, meta = small(MAML)
    ep = make_episode(tasks=1)
    theta = {k: v.detach() for k, v in meta.items()}
    states = list(learner.descend(theta, ep.support_x, ep.support_y, 3, steps=2, lr=0.1, final_loss=False))
    assert [s.step for s in states] == [0, 1, 2]
    assert all(s.loss is not None for s in states[:-1]) and states[-1].loss is None and states[-1].accuracy is None
    (only,) = learner.descend(theta, ep.support_x, ep.support_y, 3, steps=0, lr=0.1, final_loss=False)
    assert only.loss is not None  # step 0's loss costs no forward pass: always there


def test_hparams_round_trip():
    hp = HParams(hidden=8, inner_lr=0.2, train_steps=2, test_steps=5)
    assert HParams.from_dict(hp.to_dict()) == hp


@pytest.mark.parametrize("n_way", [2, 5, 20])
@pytest.mark.parametrize("cls", UNIFORM_START, ids=[c.name for c in UNIFORM_START])
def test_uniform_start_loss_is_ln_n_and_chance(cls, n_way):
    """Step 0 of a zero head predicts every class equally: support loss exactly ln N, and the first step
    moves only the head (the network's gradient is exactly 0 there), yet the meta-gradient reaches it."""
    learner, meta = small(cls, train_steps=2)
    episode = make_episode(n_way=n_way, k=2, q=1, tasks=2)
    states = list(learner.adapt_steps(meta, episode.support_x, episode.support_y, n_way, steps=2))
    torch.testing.assert_close(states[0].loss, torch.full((2,), math.log(n_way), dtype=torch.float64),
                               rtol=0, atol=1e-6)
    probs = torch.softmax(learner.logits(states[0].params, episode.query_x), -1)
    torch.testing.assert_close(probs, torch.full_like(probs, 1 / n_way))
    for k in learner.body(meta):
        assert torch.equal(states[1].params[k], states[0].params[k]), k  # step 1: the head alone
    assert states[2].loss.max() < states[0].loss.min()  # and it learns
    grads, _ = learner.meta_gradient(meta, episode)
    assert all(grads[k].abs().sum() > 0 for k in learner.body(meta))


@pytest.mark.parametrize("cls", UNIFORM_START, ids=[c.name for c in UNIFORM_START])
def test_zero_head_equals_a_copied_row(cls):
    """A meta-learned row copied to every class (UNICORN-MAML) adapts to the very same predictions."""
    learner, meta = small(cls, train_steps=2)
    episode = make_episode(n_way=4, k=2, q=2, tasks=1)
    zero = learner.adapt(meta, episode.support_x, episode.support_y, 4, steps=3)
    copied = type("Copied", (cls,), {"initial_params": _copied_row_start})(learner.hparams)
    other = copied.adapt(meta, episode.support_x, episode.support_y, 4, steps=3)
    torch.testing.assert_close(torch.softmax(copied.logits(other.params, episode.query_x), -1),
                               torch.softmax(learner.logits(zero.params, episode.query_x), -1), rtol=1e-9, atol=1e-12)


def _copied_row_start(self, meta, x, y, n_way, network=None):
    params, feats = type(self).__mro__[1].initial_params(self, meta, x, y, n_way, network)
    row = torch.linspace(-1, 1, feats.shape[-1], dtype=feats.dtype)
    params["head.weight"] = (params["head.weight"] + row).detach().requires_grad_()
    params["head.bias"] = (params["head.bias"] + 0.7).detach().requires_grad_()
    return params, feats


def test_protomaml_starts_where_protonet_is():
    """Proto-MAML's step 0 ranks the classes exactly as Prototypical Networks do with the same network."""
    learner, meta = small(ProtoMAML)
    episode = make_episode(n_way=4, k=2, q=3, tasks=2)
    start = learner.adapt(meta, episode.support_x, episode.support_y, 4, steps=0)
    proto = ProtoNet(ProtoNet.default_hparams.replace(hidden=4))
    ref = proto.adapt(meta, episode.support_x, episode.support_y, 4)
    a = torch.log_softmax(learner.logits(start.params, episode.query_x), -1)
    b = torch.log_softmax(proto.logits(ref.params, episode.query_x), -1)
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)  # -|q - mu|^2 = 2 q.mu - |mu|^2 - |q|^2


def test_algorithms_describe_themselves():
    for name, cls in REGISTRY.items():
        assert cls.name == name and cls.title and cls.paper and cls.summary, name
        assert cls.colour.startswith("#") and len(cls.colour) == 7, name
        assert cls.family in FAMILIES, name
        assert cls.has_inner_loop == (cls.family == "initialisation"), name
        if cls.has_inner_loop:
            assert cls.head in ("zero", "prototype"), name
            assert cls.default_hparams.test_steps >= 3, name
    assert len({cls.colour for cls in REGISTRY.values()}) == len(REGISTRY)


# --- the learners that compare instead of adapting ----------------------------------------------------

def metric_query_loss(learner, meta, episode):
    theta = {k: v.detach() for k, v in meta.items()}
    with torch.no_grad():
        final = learner.adapt(theta, episode.support_x, episode.support_y, episode.n_way)
        return learner.task_loss(learner.logits(final.params, episode.query_x), episode.query_y).mean().item()


@pytest.mark.parametrize("cls", COMPARING_LEARNERS, ids=[c.name for c in COMPARING_LEARNERS])
def test_comparing_meta_gradient_matches_finite_differences_for_every_parameter(cls):
    """Every meta-parameter gets its exact share of the gradient: one directional finite difference per
    parameter tensor (so a tensor the loss ignores, or a wrong gradient for it, fails)."""
    learner, meta = small(cls)
    episode = make_episode(n_way=3, k=2, q=2, tasks=2)
    grads, metrics = learner.meta_gradient(meta, episode)
    assert metrics["loss"] == pytest.approx(metric_query_loss(learner, meta, episode), rel=1e-12)
    eps = 1e-6
    for key in meta:
        assert grads[key].abs().sum() > 0, key
        v = random_direction(meta, 7, keys=[key])
        plus = {k: t.detach() + eps * v[k] for k, t in meta.items()}
        minus = {k: t.detach() - eps * v[k] for k, t in meta.items()}
        fd = (metric_query_loss(learner, plus, episode) - metric_query_loss(learner, minus, episode)) / (2 * eps)
        assert abs(fd - dot(grads, v)) <= 1e-5 * abs(fd) + 1e-9, (key, fd, dot(grads, v))  # 1e-9: round-off


def test_matching_networks_probabilities_are_attention_over_the_support():
    """p(c | q) = sum over the support examples of class c of softmax_i(s * cos(f(q), f(x_i)))."""
    learner, meta = small(MatchingNet)
    with torch.no_grad():
        meta["log_scale"].fill_(math.log(3.0))
    episode = make_episode(n_way=4, k=3, q=2)
    final = learner.adapt(meta, episode.support_x, episode.support_y, 4)
    probs = torch.softmax(learner.logits(final.params, episode.query_x), -1)
    net = Conv4(hidden=4)
    for t in range(2):
        s, q = net.features(meta, episode.support_x[t]), net.features(meta, episode.query_x[t])
        cos = torch.stack([torch.stack([torch.dot(a, b) / (a.norm() * b.norm()) for b in s]) for a in q])
        attention = torch.softmax(3.0 * cos, -1)
        expected = torch.stack([attention[:, episode.support_y[t] == c].sum(1) for c in range(4)], -1)
        torch.testing.assert_close(probs[t], expected, rtol=1e-10, atol=1e-12)


def test_relation_networks_score_pairs_and_regress_them_to_one_hot():
    """The relation module reads [class maps; query maps] for each pair; the loss is the squared error of
    the scores against 1 for the query's class and 0 for the others (Sung et al. 2018)."""
    learner, meta = small(RelationNet)
    episode = make_episode(n_way=3, k=2, q=2)
    final = learner.adapt(meta, episode.support_x, episode.support_y, 3)
    scores = learner.pair_scores(final.params, episode.query_x)
    assert scores.shape == (2, 6, 3) and ((scores > 0) & (scores < 1)).all()
    embed, relate = Conv4(hidden=4, blocks=3), Conv4(in_channels=8, hidden=4, blocks=1)
    rel = {k[len("relation."):]: v for k, v in meta.items() if k.startswith("relation.")}
    for t in range(2):
        s = embed.features(meta, episode.support_x[t]).view(-1, 4, 3, 3)
        q = embed.features(meta, episode.query_x[t]).view(-1, 4, 3, 3)
        for j in range(6):
            for c in range(3):
                maps = s[episode.support_y[t] == c].mean(0)
                h = relate.features(rel, torch.cat([maps, q[j]]).unsqueeze(0))
                h = torch.relu(h @ rel["fc1.weight"].T + rel["fc1.bias"]) @ rel["fc2.weight"].T + rel["fc2.bias"]
                torch.testing.assert_close(scores[t, j, c], torch.sigmoid(h)[0, 0], rtol=1e-10, atol=1e-12)
    _, metrics = learner.meta_gradient(meta, episode)
    target = F.one_hot(episode.query_y, 3).double()
    assert metrics["loss"] == pytest.approx(((scores - target) ** 2).sum(-1).mean().item(), rel=1e-12)


@pytest.mark.parametrize("cls", COMPARING_LEARNERS, ids=[c.name for c in COMPARING_LEARNERS])
def test_comparing_learners_have_one_step_and_a_fast_evaluation_path(cls):
    """No inner loop is pretended (one state, step 0), and scoring stored embeddings gives the logits."""
    learner, meta = small(cls)
    episode = make_episode(n_way=3, k=2, q=2, tasks=2)
    states = list(learner.adapt_steps(meta, episode.support_x, episode.support_y, 3, steps=5))
    assert [s.step for s in states] == [0]
    expected = learner.logits(states[0].params, episode.query_x)
    got = learner.scores(meta, learner.embed(meta, episode.support_x), episode.support_y, 3,
                         learner.embed(meta, episode.query_x))
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
