"""Conv-4's layers as computed on the CPU: the same functions as the textbook layers, in less time.

:func:`first_block` computes the first block in fewer passes over memory; :func:`conv3x3` computes the
later blocks' convolutions with a faster weight gradient (see its docstring). Both are used on the
CPU only; accelerators run the textbook layers.

The first block, ``relu(max_pool2d(group_norm(conv2d(x, w, b, padding=1), 1, gamma, beta), 2))`` on a
single-channel image, is where a Conv-4 spends its memory traffic: 64 full-resolution maps per image
(a 75-image batch of 28x28 glyphs is 15 MB per map), written and read by every layer and again by
every backward pass, while the convolution itself does 9 multiply-adds per value. On a CPU that
traffic, not arithmetic, sets the time. :func:`first_block` computes the same values with the
full-resolution map written once and read once:

* **The convolution is one matrix product** of the 3x3 patches (plus a 1 for the bias) with the
  filters, its output columns ordered by position *in the pooling window* (phase), so that the
  four candidates of every window are four contiguous planes.
* **The normalisation moves after the pooling.** GroupNorm with one group computes the mean and
  variance of the whole map; with the filters ``w_c`` and patches ``u_p``, both follow from the
  patches' mean and 10x10 covariance (``var = mean_c w_c' Cov w_c + var_c(w_c' mean_u)``), so the
  map itself is never reduced. Its per-channel affine map ``gamma_c (z - mu) / sigma + beta_c`` is
  monotone, increasing where ``gamma_c >= 0`` and decreasing where not; the pooled value of a
  channel with negative gamma is the affine image of the window's *minimum*. Flipping the sign of
  such channels' filters (``s_c = sign gamma_c``) turns every window into a maximum:
  ``pool(norm(z))_c = (|gamma_c| m_c - gamma_c mu) / sigma + beta_c`` with ``m_c = max(s_c z_c)``.
  The affine map then runs on the pooled quarter-size map.
* **The max-pool routes gradients through float masks** (:func:`phase_max`), built once in the
  forward pass: one multiplication routes a gradient, where ``max_pool2d`` scatters by 64-bit
  indices. Ties go to the first candidate in the window's row-major order, as in ``max_pool2d``,
  so gradients agree exactly even on the flat backgrounds of binary glyphs, where ties are the rule.

Where the compiled kernel of :mod:`metademo.networks.native` loads (float32 on the CPU), the
convolution, the pooling and the output are one pass in C that writes no full-resolution map at all,
and its backward pass sends the gradient to the filters through the saved window positions; torch
then handles only per-image, per-channel quantities.

Every step is differentiable twice (second-order MAML differentiates through an inner gradient), and
``tests/test_ops.py`` checks values and first and second derivatives against the textbook layers.
One edge differs: at ``gamma_c == 0`` exactly, a point where the block is not differentiable in
``gamma_c``, the derivative picks the window's maximum where ``max_pool2d`` picks its first entry.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from .. import compiled
from . import native


class _PhaseMax(torch.autograd.Function):
    """(B, C, 4, N) -> (B, C, N): the maximum of each group of four; ties go to the first."""

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        a, b, c, d = z.unbind(2)
        top, bottom = torch.maximum(a, b), torch.maximum(c, d)
        out = torch.maximum(top, bottom)
        # Masks as floats: comparisons written into float tensors run several times faster than into
        # bool ones on CPUs we measured, and a float mask routes a gradient with one multiplication.
        mask = torch.empty_like(z)
        lower = torch.gt(bottom, top, out=torch.empty_like(out))
        upper = 1 - lower
        torch.gt(b, a, out=mask[:, :, 1]).mul_(upper)
        torch.sub(upper, mask[:, :, 1], out=mask[:, :, 0])
        torch.gt(d, c, out=mask[:, :, 3]).mul_(lower)
        torch.sub(lower, mask[:, :, 3], out=mask[:, :, 2])
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (mask,) = ctx.saved_tensors
        return _Route.apply(grad, mask)


class _Route(torch.autograd.Function):
    """Sends (B, C, N) gradients to the maxima marked in a (B, C, 4, N) mask; linear in the gradient."""

    @staticmethod
    def forward(ctx, grad: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(mask)
        out = torch.empty_like(mask)
        for k in range(mask.shape[2]):  # four plain products beat one broadcast product here
            torch.mul(grad, mask[:, :, k], out=out[:, :, k])
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:
        (mask,) = ctx.saved_tensors
        return (grad_out * mask).sum(2), None


def phase_max(z: torch.Tensor) -> torch.Tensor:
    """Maximum over dim 2 (of size 4) of a (B, C, 4, N) tensor, with ``max_pool2d``'s gradient.

    The gradient goes to the first maximal entry only, as in ``max_pool2d`` (``torch.amax`` and
    ``torch.maximum`` split it among ties). Differentiable to any order.
    """
    if z.dim() != 4 or z.shape[2] != 4:
        raise ValueError(f"phase_max expects a (B, C, 4, N) tensor, got shape {tuple(z.shape)}")
    return _PhaseMax.apply(z)


def phase_patches(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) images, H and W even -> (B, 10, H*W): each pixel's zero-padded 3x3 patch and a 1.

    Columns are ordered by position in the 2x2 pooling window first, then by window: column
    ``k * (H*W/4) + i * (W/2) + j`` is pixel ``(2i + k // 2, 2j + k % 2)``.
    """
    b, _, h, w = x.shape
    cols = F.unfold(x, 3, padding=1).view(b, 9, h // 2, 2, w // 2, 2)
    cols = cols.permute(0, 1, 3, 5, 2, 4).reshape(b, 9, h * w)
    return torch.cat([cols, cols.new_ones(b, 1, h * w)], 1)


def first_block(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, gamma: torch.Tensor,
                beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``relu(max_pool2d(group_norm(conv2d(x, weight, bias, padding=1), 1, gamma, beta, eps), 2))``.

    ``x`` is (B, 1, H, W) with H and W even, ``weight`` (C, 1, 3, 3); returns (B, C, H/2, W/2). See the
    module docstring for how. With the compiled kernel (:mod:`metademo.networks.native`) and float32 on
    the CPU, the convolution and pooling run fused in C; otherwise as torch operations.
    """
    if native.usable(x, weight, bias, gamma, beta):
        return _NativeFirstBlock.apply(x, weight, bias, gamma, beta, eps)
    return _first_block_graph(x, weight, bias, gamma, beta, eps)


def _statistics(patch_mean: torch.Tensor, cov: torch.Tensor, filters: torch.Tensor,
                eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and 1/std over (C, P) of z = filters @ patches, per image, from the patches' mean and covariance."""
    channel_mean = patch_mean @ filters.T  # (B, C)
    within = torch.einsum("ck,bkl,cl->b", filters, cov, filters) / filters.shape[0]
    var = within + channel_mean.var(1, unbiased=False)
    return channel_mean.mean(1), (var + eps).rsqrt()


def _sign(gamma: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return torch.where(gamma.detach() >= 0, 1.0, -1.0).to(dtype)


def _first_block_graph(x, weight, bias, gamma, beta, eps):
    """:func:`first_block` as torch operations: any dtype and device, differentiable to any order."""
    b, _, h, w = x.shape
    c = weight.shape[0]
    patches = phase_patches(x)  # (B, 10, P); constants unless x itself requires grad
    p = h * w
    patch_mean = patches.mean(2)  # (B, 10)
    centred = patches - patch_mean.unsqueeze(2)
    filters, sign, scale, shift = _scale_shift(weight, bias, gamma, patch_mean,
                                               centred @ centred.transpose(1, 2) / p, eps)
    # Channels with negative gamma pool their minimum: flip their filters, then take maxima.
    flipped = torch.bmm((sign.unsqueeze(1) * filters).expand(b, c, 10), patches)  # (B, C, P) = sign * z
    pooled = phase_max(flipped.view(b, c, 4, p // 4))  # (B, C, P/4) = sign * (max or min of z)
    out = torch.addcmul(beta.view(1, c, 1), scale.unsqueeze(2), pooled - shift.unsqueeze(2))  # GroupNorm's affine
    return F.relu(out).view(b, c, h // 2, w // 2)


class _NativeFirstBlock(torch.autograd.Function):
    """:func:`first_block` with the large tensors handled in C (float32, CPU).

    The kernel computes the convolution's window maxima, keeps them and their positions, and writes
    the normalised output; its backward pass sends the gradient through the same positions to the
    filters. Torch handles only per-image, per-channel quantities (statistics, scale and shift).
    Second derivatives (a backward pass run with ``create_graph``, as second-order MAML's inner step
    does) and gradients for the images are computed by re-running :func:`_first_block_graph`.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, gamma, beta, eps):
        _, _, h, w = x.shape
        total, outer = native.patch_moments(x)  # float64, independent of the filters
        patch_mean = total / (h * w)
        cov = (outer / (h * w) - patch_mean.unsqueeze(2) * patch_mean.unsqueeze(1)).to(weight.dtype)
        patch_mean = patch_mean.to(weight.dtype)
        filters, sign, scale, shift = _scale_shift(weight, bias, gamma, patch_mean, cov, eps)
        out, maxima, where = native.forward(x, (sign.unsqueeze(1) * filters).T, scale, shift, beta)
        ctx.save_for_backward(x, weight, bias, gamma, beta, maxima, where, patch_mean, cov)
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias, gamma, beta, maxima, where, patch_mean, cov = ctx.saved_tensors
        inputs = (x, weight, bias, gamma, beta)
        if torch.is_grad_enabled() or ctx.needs_input_grad[0]:
            # Re-run from the saved inputs themselves (not detached copies), so that the gradients are
            # functions of them and a further backward pass reaches whatever they were computed from.
            needed = [t for t, need in zip(inputs, ctx.needs_input_grad) if need]
            with torch.enable_grad():
                out = _first_block_graph(*inputs, ctx.eps)
                grads = iter(torch.autograd.grad(out, needed, grad, create_graph=torch.is_grad_enabled()))
            return (*(next(grads) if need else None for need in ctx.needs_input_grad[:5]), None)
        with torch.enable_grad():  # per-image, per-channel quantities only
            w_, b_, g_ = (t.detach().requires_grad_() for t in (weight, bias, gamma))
            filters, sign, scale, shift = _scale_shift(w_, b_, g_, patch_mean, cov, ctx.eps)
        gf, sum_ga, sum_gam = native.backward(x, where, maxima, grad, scale.detach(), shift.detach(), beta)
        sum_ga, sum_gam = sum_ga.to(scale.dtype), sum_gam.to(scale.dtype)
        # out = relu(scale * (m - shift) + beta): d/dscale = sum g (m - shift), d/dshift = -scale sum g
        g_scale = sum_gam - shift.detach() * sum_ga
        g_shift = -scale.detach() * sum_ga
        gw, gb, gg = torch.autograd.grad((scale, shift), (w_, b_, g_), (g_scale, g_shift))
        gf = gf.T.to(weight.dtype) * sign.unsqueeze(1)  # (C, 10); the kernel saw sign-flipped filters
        return None, gw + gf[:, :9].reshape(weight.shape), gb + gf[:, 9], gg, sum_ga.sum(0), None


def _scale_shift(weight, bias, gamma, patch_mean, cov, eps):
    """Filters (C, 10), signs of gamma, and the per-image affine map scale = |gamma| / sigma and
    shift = sign * mu (B, C) that the first block applies to the pooled sign-flipped convolution."""
    c = weight.shape[0]
    filters = torch.cat([weight.reshape(c, 9), bias.reshape(c, 1)], 1)
    sign = _sign(gamma, filters.dtype)
    mean, rstd = _statistics(patch_mean, cov, filters, eps)
    return filters, sign, (gamma * sign).unsqueeze(0) * rstd.unsqueeze(1), sign.unsqueeze(0) * mean.unsqueeze(1)


def fits_first_block(x: torch.Tensor) -> bool:
    """Whether :func:`first_block` applies: single-channel (B, 1, H, W) images of even H and W."""
    return x.dim() == 4 and x.shape[1] == 1 and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0


WINOGRAD_CHUNK = 512  # tiles per chunk: 2 x 16 x 512 x 64 floats = 4 MB of transformed data


def _filter_transform_t(d: torch.Tensor) -> torch.Tensor:
    """(4, ...) -> (3, ...): G' d along the first dimension, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
    F(2x2, 3x3)'s filter transform (a 3x3 filter w maps to G w G' in the 4x4 Winograd domain)."""
    mean, half_diff = 0.5 * (d[1] + d[2]), 0.5 * (d[1] - d[2])
    return torch.stack([d[0] + mean, half_diff, mean + d[3]])


def winograd_weight_grad(x: torch.Tensor, grad: torch.Tensor, chunk: int = WINOGRAD_CHUNK) -> torch.Tensor:
    """The gradient of ``conv2d(x, w, padding=1)`` with respect to a 3x3 ``w``, given the output's gradient.

    Winograd's F(2x2, 3x3) (Lavin & Gray 2016): ``dw = G' [sum over 2x2 output tiles t of
    (A g_t A') * (B' d_t B)] G``, 4 multiply-adds per pixel and channel pair where the direct sum takes
    9. The data transforms run in C (:mod:`metademo.networks.native`), ``chunk`` tiles at a time, and
    each chunk's sum as 16 batched matrix products, so the transformed data (4x the size of the maps)
    stays in cache. Needs the compiled kernels; float32 on the CPU. Agrees with the direct sum to
    float32 rounding (about 1e-6 relative).
    """
    o, c = grad.shape[1], x.shape[1]
    x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)  # channels-last, once for all chunks
    grad = grad.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    tiles = native.winograd_tiles(x)
    v_buf, m_buf = native.winograd_planes(min(chunk, tiles), c), native.winograd_planes(min(chunk, tiles), o)
    du = x.new_zeros(16, o, c)  # the gradient of G w G', per position of the 4x4 domain
    for t0 in range(0, tiles, chunk):
        k = min(chunk, tiles - t0)
        v = native.winograd_input(x, t0, v_buf[:, :k])  # (16, k, C)
        m = native.winograd_grad_output(grad, t0, m_buf[:, :k])  # (16, k, O)
        du.baddbmm_(m.transpose(1, 2), v)
    rows = _filter_transform_t(du.view(4, 4, o, c))  # (3, 4, O, C)
    return _filter_transform_t(rows.transpose(0, 1)).permute(2, 3, 1, 0).contiguous()  # (O, C, 3, 3)


class _Conv3x3(torch.autograd.Function):
    """``conv2d(x, w, b, padding=1)`` whose first-order backward pass computes the weight gradient by
    :func:`winograd_weight_grad`. A backward pass run with ``create_graph`` (second-order MAML's inner
    step) returns torch's own convolution gradients, which are differentiable again."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias, padding=1)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        need_b = need_b and ctx.has_bias

        def torch_grads(mask):
            return torch.ops.aten.convolution_backward(grad, x, weight, [weight.shape[0]] if ctx.has_bias else None,
                                                       [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

        if torch.is_grad_enabled():
            return torch_grads([need_x, need_w, need_b])
        gx = torch_grads([True, False, False])[0] if need_x else None
        gw = winograd_weight_grad(x, grad) if need_w else None
        gb = grad.sum((0, 2, 3)) if need_b else None
        return gx, gw, gb


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU does bfloat16 arithmetic in hardware (AVX512-BF16 or AMX-BF16, from the flags of
    ``/proc/cpuinfo`` on Linux; False elsewhere). oneDNN then runs a bfloat16 convolution several times
    faster than a float32 one; without such instructions it would emulate them, slower."""
    flags = compiled.cpu_id().split()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def block_bfloat16(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, gamma: torch.Tensor,
                   beta: torch.Tensor) -> torch.Tensor:
    """A later block, ``relu(max_pool2d(group_norm(conv2d(x, weight, bias, padding=1), 1, gamma, beta), 2))``,
    computed in bfloat16 (8 significant bits; oneDNN accumulates the convolution and torch the
    normalisation's statistics in float32) and returned in bfloat16. The parameters stay float32: the casts
    are differentiable, so their gradients arrive in float32 and an inner loop's updates are float32."""
    bf16 = torch.bfloat16
    out = F.conv2d(x.to(bf16), weight.to(bf16), bias.to(bf16), padding=1)
    out = F.group_norm(out, 1, gamma.to(bf16), beta.to(bf16))
    return F.relu(F.max_pool2d(out, 2))


def conv3x3(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``conv2d(x, weight, bias, padding=1)`` for (O, C, 3, 3) filters.

    With the compiled kernels and float32 on the CPU, the backward pass computes the filters' gradient
    with Winograd's F(2x2, 3x3) (:func:`winograd_weight_grad`), for which oneDNN's direct method takes
    about 1.5 times as long (64 channels, 14x14 maps, 75 images: 20 ms against 14 ms on one core); the
    values and the input gradient are oneDNN's. Elsewhere, or where a
    dtype differs, it is ``F.conv2d`` itself.
    """
    tensors = (x, weight) if bias is None else (x, weight, bias)
    if (weight.dim() == 4 and weight.shape[2:] == (3, 3) and x.dim() == 4 and torch.is_grad_enabled()
            and any(t.requires_grad for t in tensors) and native.usable(x, weight, *tensors[2:])):
        return _Conv3x3.apply(x, weight, bias)
    return F.conv2d(x, weight, bias, padding=1)
