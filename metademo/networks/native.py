"""Small compiled kernels for Conv-4 on the CPU, built on first use with the system's C compiler.

* ``kernels/first_block.c`` fuses the first block's 3x3 convolution of a single-channel image with its
  2x2 max-pool: it reads the image and writes only the pooled maxima and their positions in the
  window, so the 64 full-resolution maps of the textbook layers never reach memory.
* ``kernels/winograd.c`` holds the two data transforms of Winograd's F(2x2, 3x3), with which
  :func:`metademo.networks.ops.conv3x3` computes the weight gradient of the later blocks'
  convolutions as 16 matrix products over 2x2 tiles instead of 9 over pixels (2.25x fewer
  multiply-adds).

Built and loaded by :mod:`metademo.compiled` (``cc -O3 -march=native``, cached per machine, the GIL
released during calls, so the trainer's worker threads run them side by side).

Everything here is optional: without a compiler, on other platforms, or with ``METADEMO_NATIVE=0``,
:func:`load` returns None and :mod:`metademo.networks.ops` computes the same values with torch
operations. The kernels take float32 on the CPU only.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import torch

from .. import compiled

SOURCES = [Path(__file__).with_name("kernels") / name for name in ("first_block.c", "winograd.c")]


def _declare(lib: ctypes.CDLL) -> None:
    p, i, i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
    lib.fb_forward.argtypes = [p, i, i, i, i, p, i, p, p, p, p, p, p]
    lib.fb_backward.argtypes = [p, i, i, i, i, p, p, p, p, p, p, i, p, p, p]
    lib.fb_moments.argtypes = [p, i, i, i, i, p, p]
    lib.wg_input.argtypes = [p, i, i, i, i, i64, i64, i64, p]
    lib.wg_grad_output.argtypes = [p, i, i, i, i, i64, i64, i64, p]


def load() -> ctypes.CDLL | None:
    """The compiled kernels, building them on first use; None where they cannot be had (then torch is used)."""
    return compiled.library("kernels", SOURCES, _declare)


def usable(x: torch.Tensor, *params: torch.Tensor) -> bool:
    """Whether the kernels take ``x`` and the layer's ``params`` (float32 on the CPU, at most 1024 channels
    in and out; ``params[0]`` is the weight)."""
    return (x.device.type == "cpu" and x.dtype == torch.float32 and all(p.dtype == torch.float32 for p in params)
            and params[0].shape[0] <= 1024 and x.shape[1] <= 1024 and load() is not None)


def _ptr(t: torch.Tensor) -> int:
    return t.data_ptr()


def _check(status: int) -> None:
    if status:
        raise RuntimeError("a compiled kernel refused its arguments")


def forward(x: torch.Tensor, filters_t: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
            beta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x (B, 1, H, W), filters (10, C), scale and shift (B, C), beta (C) -> the block's output
    relu(scale * (m - shift) + beta) (B, C, H/2, W/2) in channels-last memory, the convolution's window
    maxima m (B, H*W/4, C)
    and their positions in the window (uint8, same shape; the first maximum wins ties)."""
    lib = load()
    b, _, h, w = x.shape
    c = filters_t.shape[1]
    x, filters_t, scale, shift, beta = (t.contiguous() for t in (x, filters_t, scale, shift, beta))
    out = torch.empty(b, h // 2, w // 2, c, dtype=torch.float32)
    maxima = torch.empty(b, h * w // 4, c, dtype=torch.float32)
    where = torch.empty(b, h * w // 4, c, dtype=torch.uint8)
    _check(lib.fb_forward(_ptr(x), 0, b, h, w, _ptr(filters_t), c, _ptr(scale), _ptr(shift), _ptr(beta),
                          _ptr(out), _ptr(maxima), _ptr(where)))
    return out.permute(0, 3, 1, 2), maxima, where  # (B, C, H/2, W/2) in channels-last memory


def backward(x: torch.Tensor, where: torch.Tensor, maxima: torch.Tensor, grad: torch.Tensor, scale: torch.Tensor,
             shift: torch.Tensor, beta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Given the output's gradient (B, C, H/2, W/2): the filters' gradient through the maxima (10, C), and
    per image and channel the sums of the gradient behind the ReLU and of it times m (B, C); float64."""
    lib = load()
    b, _, h, w = x.shape
    c = scale.shape[1]
    x, scale, shift, beta = (t.contiguous() for t in (x, scale, shift, beta))
    grad = grad.contiguous(memory_format=torch.channels_last)  # (B, H/2, W/2, C) in memory
    gf = torch.zeros(10, c, dtype=torch.float64)
    sum_ga = torch.zeros(b, c, dtype=torch.float64)
    sum_gam = torch.zeros(b, c, dtype=torch.float64)
    _check(lib.fb_backward(_ptr(x), 0, b, h, w, _ptr(where), _ptr(maxima), _ptr(grad), _ptr(scale), _ptr(shift),
                           _ptr(beta), c, _ptr(gf), _ptr(sum_ga), _ptr(sum_gam)))
    return gf, sum_ga, sum_gam


def patch_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image, the sum (B, 10) and sum of outer products (B, 10, 10) of its pixels' patches (float64)."""
    lib = load()
    b, _, h, w = x.shape
    x = x.contiguous()
    total = torch.empty(b, 10, dtype=torch.float64)
    outer = torch.empty(b, 10, 10, dtype=torch.float64)
    _check(lib.fb_moments(_ptr(x), 0, b, h, w, _ptr(total), _ptr(outer)))
    return total, outer


def winograd_tiles(x: torch.Tensor) -> int:
    """The number T of 2x2 output tiles of a 3x3, padding-1 convolution of (N, C, H, W) images."""
    n, _, h, w = x.shape
    return n * ((h + 1) // 2) * ((w + 1) // 2)


def winograd_planes(tiles: int, channels: int) -> torch.Tensor:
    """An empty (16, tiles, channels) float32 buffer for the transforms, its planes 4 KiB-rounded plus
    64 bytes apart: planes a multiple of 4 KiB apart would send the 16 values of each tile to the same
    cache sets (seen here: 7x7 maps transformed 2x slower)."""
    plane = -(-tiles * channels // 1024) * 1024 + 16
    return torch.empty(16 * plane, dtype=torch.float32).as_strided((16, tiles, channels), (plane, channels, 1))


def _winograd_transform(kernel, x: torch.Tensor, t0: int, out: torch.Tensor, what: str) -> torch.Tensor:
    n, c, h, w = x.shape
    if c > 1024:
        raise ValueError(f"at most 1024 {what} channels, got {c}")
    xh = x.permute(0, 2, 3, 1).contiguous()  # no copy for channels-last memory
    _check(kernel(_ptr(xh), n, h, w, c, t0, t0 + out.shape[1], out.stride(0), _ptr(out)))
    return out


def winograd_input(x: torch.Tensor, t0: int, out: torch.Tensor) -> torch.Tensor:
    """Into ``out`` (16, K, C) from :func:`winograd_planes`: the F(2x2, 3x3) transform B'dB of the input
    tiles t0 .. t0+K-1 of (N, C, H, W) float32 images (4x4 tiles at stride 2, zero padding 1)."""
    return _winograd_transform(load().wg_input, x, t0, out, "input")


def winograd_grad_output(g: torch.Tensor, t0: int, out: torch.Tensor) -> torch.Tensor:
    """Into ``out`` (16, K, O): the transform A g A' of the 2x2 tiles t0 .. t0+K-1 of an (N, O, H, W)
    float32 output gradient."""
    return _winograd_transform(load().wg_grad_output, g, t0, out, "output")
