"""Conv-4's fast CPU layers are the textbook layers: same values, same first and second derivatives.

The first block (:func:`first_block`) and the later blocks' convolutions (:func:`conv3x3`, whose weight
gradient is Winograd's) against ``F.conv2d``, ``F.group_norm`` and ``F.max_pool2d``.
"""

import os

import pytest
import torch
import torch.nn.functional as F

from metademo.networks.conv4 import Conv4
from metademo.networks.ops import conv3x3, first_block, fits_first_block, phase_max, phase_patches, winograd_weight_grad


def reference_block(x, w, b, gamma, beta):
    return F.relu(F.max_pool2d(F.group_norm(F.conv2d(x, w, b, padding=1), 1, gamma, beta), 2))


def glyphs(n, size=28, seed=0):
    """Binary strokes on a flat background, like Omniglot: pooling windows full of exact ties."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 1, size // 4, size // 4, generator=g) > 0.7).to(torch.float64)
    return F.interpolate(x, size=size, mode="nearest")


def block_params(c=6, seed=0, dtype=torch.float64):
    """Filters, biases and normalisation gains of both signs (never zero) and offsets."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(c, 1, 3, 3, generator=g, dtype=dtype)
    b = torch.randn(c, generator=g, dtype=dtype)
    gamma = torch.randn(c, generator=g, dtype=dtype)
    gamma = gamma + 0.2 * gamma.sign()
    assert (gamma < 0).any() and (gamma > 0).any()
    beta = torch.randn(c, generator=g, dtype=dtype)
    return [t.requires_grad_() for t in (w, b, gamma, beta)]


def grads(fn, inputs, cotangent, create_graph=False):
    return torch.autograd.grad(fn(*inputs), inputs, cotangent, create_graph=create_graph)


# --- phase_max ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("ties", [False, True])
def test_phase_max_values_and_gradient_are_torch_max(ties):
    g = torch.Generator().manual_seed(1)
    z = torch.randn(3, 5, 4, 7, generator=g, dtype=torch.float64)
    if ties:  # few distinct values: most groups hold a tie, some a three- or four-way one
        z = z.round().clamp(-1, 1)
    z.requires_grad_()
    out = phase_max(z)
    expected = z.max(2).values  # documented to pick the first maximal index
    assert torch.equal(out, expected)
    cot = torch.randn(out.shape, generator=g, dtype=torch.float64)
    (mine,) = torch.autograd.grad(out, z, cot)
    (theirs,) = torch.autograd.grad(expected, z, cot)
    assert torch.equal(mine, theirs)
    if ties:  # the check can fail: a tie-splitting maximum gives a different gradient
        (split,) = torch.autograd.grad(z.amax(2), z, cot)
        assert not torch.equal(mine, split)


def test_phase_max_is_twice_differentiable():
    z = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(phase_max, (z,))
    assert torch.autograd.gradgradcheck(phase_max, (z,))


def test_phase_max_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"\(B, C, 4, N\)"):
        phase_max(torch.zeros(2, 3, 5, 6))


def test_phase_patches_order_is_window_position_then_window():
    x = torch.arange(2 * 16, dtype=torch.float64).view(2, 1, 4, 4)
    cols = phase_patches(x)
    assert cols.shape == (2, 10, 16)
    assert torch.equal(cols[:, 9], torch.ones(2, 16, dtype=torch.float64))
    centre = cols[:, 4].view(2, 4, 2, 2)  # (image, window position k, window row i, window column j)
    for k in range(4):
        assert torch.equal(centre[:, k], x[:, 0, k // 2::2, k % 2::2])


# --- first_block ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("images", ["glyphs", "smooth"])
def test_first_block_equals_the_textbook_block(images):
    x = glyphs(5) if images == "glyphs" else F.avg_pool2d(torch.rand(5, 1, 28, 28, dtype=torch.float64), 3, 1, 1)
    params = block_params()
    out, expected = first_block(x, *params), reference_block(x, *params)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    cot = torch.randn(out.shape, dtype=torch.float64)
    for mine, theirs in zip(grads(lambda *p: first_block(x, *p), params, cot),
                            grads(lambda *p: reference_block(x, *p), params, cot)):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-10)


def test_first_block_second_derivatives_equal_the_textbook_block():
    """Hessian-vector products, what second-order MAML takes through an inner step, on glyphs (ties)."""
    x = glyphs(4, size=12, seed=2)
    params = block_params(c=4, seed=3)
    g = torch.Generator().manual_seed(4)
    cot = torch.randn(4, 4, 6, 6, generator=g, dtype=torch.float64)
    vs = [torch.randn(p.shape, generator=g, dtype=torch.float64) for p in params]

    def hvp(block):
        first = grads(lambda *p: block(x, *p), params, cot, create_graph=True)
        return torch.autograd.grad(sum((d * v).sum() for d, v in zip(first, vs)), params)

    for mine, theirs in zip(hvp(first_block), hvp(reference_block)):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-10)


def test_first_block_gradcheck_and_gradgradcheck():
    x = F.avg_pool2d(torch.rand(2, 1, 8, 8, dtype=torch.float64), 3, 1, 1)
    params = block_params(c=3, seed=5)
    assert torch.autograd.gradcheck(lambda *p: first_block(x, *p), params)
    assert torch.autograd.gradgradcheck(lambda *p: first_block(x, *p), params)


def test_first_block_input_gradient_equals_the_textbook_block():
    x = F.avg_pool2d(torch.rand(3, 1, 10, 10, dtype=torch.float64), 3, 1, 1).requires_grad_()
    params = [p.detach() for p in block_params(c=3, seed=6)]
    cot = torch.randn(3, 3, 5, 5, dtype=torch.float64)
    (mine,) = torch.autograd.grad(first_block(x, *params), x, cot)
    (theirs,) = torch.autograd.grad(reference_block(x, *params), x, cot)
    torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)


def test_first_block_float32_is_close_to_the_textbook_block():
    x = glyphs(16).float()
    params = [p.detach().float() for p in block_params(c=64, seed=7)]
    torch.testing.assert_close(first_block(x, *params), reference_block(x, *params), rtol=1e-4, atol=1e-5)


def test_fits_first_block():
    assert fits_first_block(torch.zeros(2, 1, 28, 28))
    assert not fits_first_block(torch.zeros(2, 1, 27, 28))  # odd size: the textbook layers run
    assert not fits_first_block(torch.zeros(2, 3, 28, 28))  # not a single channel
    assert not fits_first_block(torch.zeros(1, 28, 28))


@pytest.mark.parametrize("size", [28, 27])
def test_conv4_features_equal_the_textbook_network(size):
    net = Conv4(hidden=8)
    params = net.init_params(seed=1, dtype=torch.float64)
    params["norm1.weight"] = torch.linspace(-1.5, 1.5, 8, dtype=torch.float64)  # both signs, none zero
    x = glyphs(3, size=28, seed=8)[..., :size, :size]
    expected = x
    for i in range(1, 5):
        expected = F.relu(F.max_pool2d(F.group_norm(F.conv2d(expected, params[f"conv{i}.weight"],
                                                              params[f"conv{i}.bias"], padding=1),
                                                     1, params[f"norm{i}.weight"], params[f"norm{i}.bias"]), 2))
    torch.testing.assert_close(net.features(params, x), expected.flatten(1), rtol=1e-12, atol=1e-12)


# --- the compiled kernel ---------------------------------------------------------------------------------
def test_the_kernel_builds_where_there_is_a_compiler():
    import shutil

    from metademo.networks import native

    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler: the torch formulation runs instead")
    if os.environ.get("METADEMO_NATIVE") == "0":
        pytest.skip("METADEMO_NATIVE=0 switches the kernel off")
    assert native.load() is not None
    assert native.usable(torch.zeros(1, 1, 4, 4), torch.zeros(2, 1, 3, 3))
    assert not native.usable(torch.zeros(1, 1, 4, 4, dtype=torch.float64), torch.zeros(2, 1, 3, 3))


def _native_or_skip():
    from metademo.networks import native

    if native.load() is None:
        pytest.skip("the compiled kernel is not available here")


def test_kernel_block_matches_float64_textbook_block_to_float32_rounding():
    """Values, gradients and Hessian-vector products of the kernel (float32) against float64 textbook layers."""
    _native_or_skip()
    x64 = glyphs(7, seed=9)
    p64 = block_params(c=64, seed=10)
    p32 = [p.detach().float().requires_grad_() for p in p64]
    out = first_block(x64.float(), *p32)
    assert type(out.grad_fn).__name__ == "_NativeFirstBlockBackward"
    expected = reference_block(x64, *p64)

    def rel(a, b):
        return ((a.double() - b).norm() / b.norm().clamp_min(1e-12)).item()

    assert rel(out, expected) < 1e-6
    cot = torch.randn(out.shape, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    for mine, theirs in zip(torch.autograd.grad(out, p32, cot.float()), grads(lambda *p: reference_block(x64, *p),
                                                                               p64, cot)):
        assert rel(mine, theirs) < 1e-5
    vs = [torch.randn(p.shape, generator=torch.Generator().manual_seed(12), dtype=torch.float64) for p in p64]

    def hvp(block, x, params, c, v):
        first = torch.autograd.grad(block(x, *params), params, c, create_graph=True)
        return torch.autograd.grad(sum((d * u).sum() for d, u in zip(first, v)), params, allow_unused=True)

    mine = hvp(first_block, x64.float(), p32, cot.float(), [v.float() for v in vs])
    theirs = hvp(reference_block, x64, p64, cot, vs)
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)


def test_kernel_ties_follow_max_pool2d():
    """On glyphs most windows tie; the kernel routes each gradient to the same entry as max_pool2d."""
    _native_or_skip()
    x = glyphs(6, seed=13).float()
    params = [p.detach().float().requires_grad_() for p in block_params(c=16, seed=14)]
    cot = torch.randn(6, 16, 14, 14, generator=torch.Generator().manual_seed(15))
    kernel = torch.autograd.grad(first_block(x, *params), params, cot)
    graph = torch.autograd.grad(reference_block(x, *params), params, cot)
    for a, b in zip(kernel, graph):
        torch.testing.assert_close(a, b, rtol=2e-4, atol=2e-4)


def test_without_the_kernel_the_torch_formulation_runs(monkeypatch):
    from metademo.networks import native

    monkeypatch.setattr(native, "load", lambda: None)
    x = glyphs(2).float()
    out = first_block(x, *[p.detach().float() for p in block_params()])
    torch.testing.assert_close(out, reference_block(x, *[p.detach().float() for p in block_params()]),
                               rtol=1e-4, atol=1e-5)


# --- conv3x3: the later blocks' convolution, with Winograd's weight gradient ----------------------------
def _conv_grads(x, w, g):
    """Input and weight gradients of conv2d(x, w, padding=1) for the output gradient g, by torch (float64)."""
    x, w = x.double().requires_grad_(), w.double().requires_grad_()
    return torch.autograd.grad(F.conv2d(x, w, padding=1), (x, w), g.double())


@pytest.mark.parametrize("shape", [(75, 64, 64, 14, 14), (3, 5, 7, 7, 7), (2, 3, 4, 5, 6), (1, 2, 3, 1, 1),
                                   (4, 8, 8, 3, 3)], ids=str)
@pytest.mark.parametrize("chunk", [512, 7])
def test_winograd_weight_gradient_is_the_convolution_weight_gradient(shape, chunk):
    """Odd and even sizes (tiles cut by the border), C != O, chunks that do and do not divide the tiles."""
    _native_or_skip()
    n, c, o, h, w = shape
    gen = torch.Generator().manual_seed(sum(shape))
    x = torch.randn(n, c, h, w, generator=gen)
    g = torch.randn(n, o, h, w, generator=gen)
    weight = torch.randn(o, c, 3, 3, generator=gen)
    expected = _conv_grads(x, weight, g)[1]
    for layout in (torch.contiguous_format, torch.channels_last):
        mine = winograd_weight_grad(x.contiguous(memory_format=layout), g.contiguous(memory_format=layout), chunk)
        assert mine.shape == weight.shape
        assert ((mine.double() - expected).norm() / expected.norm()).item() < 1e-5


def test_winograd_weight_gradient_sees_each_tap_and_channel_pair():
    """A single nonzero pixel and output gradient: the gradient is one-hot at the right tap and channels."""
    _native_or_skip()
    x = torch.zeros(1, 3, 5, 5)
    g = torch.zeros(1, 2, 5, 5)
    x[0, 2, 1, 3] = 1.0
    g[0, 1, 2, 2] = 1.0  # output (2, 2) reads input (1, 3) through tap (row 0, column 2)
    expected = torch.zeros(2, 3, 3, 3)
    expected[1, 2, 0, 2] = 1.0
    torch.testing.assert_close(winograd_weight_grad(x, g), expected, rtol=0, atol=1e-6)


def test_conv3x3_equals_conv2d_in_value_first_and_second_derivatives():
    _native_or_skip()
    gen = torch.Generator().manual_seed(21)
    x = torch.randn(6, 8, 7, 7, generator=gen).contiguous(memory_format=torch.channels_last).requires_grad_()
    w = torch.randn(5, 8, 3, 3, generator=gen).requires_grad_()
    b = torch.randn(5, generator=gen).requires_grad_()
    out = conv3x3(x, w, b)
    assert type(out.grad_fn).__name__ == "_Conv3x3Backward"
    torch.testing.assert_close(out, F.conv2d(x, w, b, padding=1), rtol=0, atol=0)
    cot = torch.randn(out.shape, generator=gen)
    mine = torch.autograd.grad(out, (x, w, b), cot)
    theirs = torch.autograd.grad(F.conv2d(x, w, b, padding=1), (x, w, b), cot)
    for a, t in zip(mine, theirs):
        torch.testing.assert_close(a, t, rtol=1e-5, atol=1e-5)
    # With create_graph (second-order MAML's inner step) the gradients are differentiable again.
    v = [torch.randn(t.shape, generator=gen) for t in (x, w)]

    def hvp(conv):
        first = torch.autograd.grad(conv(x, w, b), (x, w), cot, create_graph=True)
        return torch.autograd.grad(sum((d * u).sum() for d, u in zip(first, v)), (x, w, b), allow_unused=True)

    for a, t in zip(hvp(conv3x3), hvp(lambda *args: F.conv2d(*args, padding=1))):
        assert (a is None) == (t is None)
        if a is not None:
            torch.testing.assert_close(a, t, rtol=1e-5, atol=1e-5)


def test_conv3x3_is_plain_conv2d_where_the_kernels_do_not_apply():
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    assert type(conv3x3(x, w, None).grad_fn).__name__ == "ConvolutionBackward0"  # float64
    with torch.no_grad():
        assert conv3x3(x.float(), w.float(), None).grad_fn is None
    assert torch.autograd.gradcheck(lambda a, b: conv3x3(a, b, None), (x, w))
