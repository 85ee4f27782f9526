"""Conv-4, the standard few-shot backbone (Vinyals et al. 2016; Finn et al. 2017; Snell et al. 2017).

Four blocks of [3x3 conv with 64 channels, normalisation, ReLU, 2x2 max-pool] turn a 1x28x28 image
into a 64-d embedding (28 -> 14 -> 7 -> 3 -> 1). The network is *functional*: parameters are a plain
``dict`` of tensors passed to :func:`Conv4.features`, so an inner loop is a pure function from
meta-parameters to adapted parameters and autograd sees every dependency.

Tasks can be batched: with parameters carrying a leading task dimension ``T`` and inputs shaped
``(T, B, C, H, W)``, every task gets its own weights. On accelerators the tasks run at once as grouped
convolutions (one task = one group); on the CPU, where oneDNN's grouped convolutions are slower, as
one plain call per task. Tasks that share weights (step 0 of an inner loop, ProtoNet) run as one batch.

Normalisation is per example (LayerNorm over channels and pixels, i.e. GroupNorm with one group per
task). Unlike BatchNorm it has no running statistics and never mixes examples, so a query's output
cannot depend on the other queries (non-transductive), and its second derivatives are plain.

On the CPU the first block runs as :func:`metademo.networks.ops.first_block`: the same function,
computed with the normalisation after the pooling (and in C where a compiler is found), which saves
most of the network's memory traffic, and the later convolutions as :func:`metademo.networks.ops.conv3x3`,
whose weight gradient is computed by Winograd's method. Accelerators run the textbook layers.

``precision="bfloat16"`` (:meth:`Conv4.at_precision`; what :func:`resolve_precision` picks for adapting to a
new task on a CPU with bfloat16 instructions) runs the later blocks on the CPU in bfloat16
(:func:`metademo.networks.ops.block_bfloat16`); the parameters and their gradients, the first block and the
features stay float32.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from ..lazy import F, LazyModule, torch

ops = LazyModule(__package__ + ".ops")  # the CPU kernels (they subclass torch.autograd.Function)


Params = dict[str, "torch.Tensor"]

PRECISIONS = ("float32", "bfloat16")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"float32"`` or ``"bfloat16"`` for a requested precision: ``"auto"`` is bfloat16 on a CPU that does
    bfloat16 arithmetic in hardware (:func:`metademo.networks.ops.native_bfloat16`), float32 anywhere else,
    or what the environment variable ``METADEMO_PRECISION`` says."""
    if precision == "auto":
        precision = os.environ.get("METADEMO_PRECISION") or "auto"
        if precision == "auto":
            return "bfloat16" if device.type == "cpu" and ops.native_bfloat16() else "float32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'auto', 'float32' or 'bfloat16', got {precision!r}")
    return precision


@dataclass(frozen=True)
class Conv4:
    in_channels: int = 1
    hidden: int = 64
    blocks: int = 4
    precision: str = "float32"  # of the later blocks on the CPU, one of PRECISIONS

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    def at_precision(self, precision: str) -> Conv4:
        """The same network computing at ``precision`` (``"float32"`` or ``"bfloat16"``)."""
        return self if precision == self.precision else replace(self, precision=precision)

    @property
    def feature_dim(self) -> int:
        return self.hidden  # 28x28 input pooled four times leaves 1x1

    def init_params(self, seed: int = 0, dtype: torch.dtype | None = None) -> Params:
        """He-initialised convolutions, zero biases, identity normalisation (float32 unless ``dtype``)."""
        dtype = dtype or torch.float32
        g = torch.Generator().manual_seed(seed)
        params: Params = {}
        c_in = self.in_channels
        for i in range(1, self.blocks + 1):
            fan_in = c_in * 9
            w = torch.randn(self.hidden, c_in, 3, 3, generator=g, dtype=torch.float64)
            params[f"conv{i}.weight"] = (w * math.sqrt(2.0 / fan_in)).to(dtype)
            params[f"conv{i}.bias"] = torch.zeros(self.hidden, dtype=dtype)
            params[f"norm{i}.weight"] = torch.ones(self.hidden, dtype=dtype)
            params[f"norm{i}.bias"] = torch.zeros(self.hidden, dtype=dtype)
            c_in = self.hidden
        return params

    def features(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """Embed images.

        With plain parameters, ``x`` of shape (B, C, H, W) gives (B, D) and (T, B, C, H, W) gives
        (T, B, D). With task-batched parameters (leading dimension T), ``x`` must be (T, B, C, H, W).
        """
        if params["conv1.weight"].dim() == 4:  # one set of weights for every image
            if x.dim() == 5:  # shared by all tasks: one plain batch is cheapest
                return self._blocks(params, x.flatten(0, 1), groups=1).unflatten(0, x.shape[:2])
            return self._blocks(params, x, groups=1)
        t, b, c, h, w = x.shape
        if x.device.type == "cpu":
            # On CPU, oneDNN runs grouped convolutions slower than one plain convolution per task.
            # unbind, not indexing: its backward stacks the T gradients once, where T separate selects
            # would each scatter into a zero tensor of the whole batch (quadratic in T).
            per_task = {k: v.unbind(0) for k, v in params.items()}
            return torch.stack([self._blocks({k: v[i] for k, v in per_task.items()}, xi, groups=1)
                                for i, xi in enumerate(x.unbind(0))])
        # Elsewhere tasks become channel groups, (T, B, C, H, W) -> (B, T*C, H, W): one kernel per layer.
        flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in params.items()}
        out = self._blocks(flat, x.transpose(0, 1).reshape(b, t * c, h, w), groups=t)
        return out.reshape(b, t, -1).transpose(0, 1)

    def _blocks(self, params: Params, x: torch.Tensor, groups: int) -> torch.Tensor:
        cpu = groups == 1 and x.device.type == "cpu"
        bfloat16 = cpu and self.precision == "bfloat16" and x.dtype == torch.float32  # never in place of float64
        out = x
        for i in range(1, self.blocks + 1):
            conv_w, conv_b = params[f"conv{i}.weight"], params[f"conv{i}.bias"]
            norm_w, norm_b = params[f"norm{i}.weight"], params[f"norm{i}.bias"]
            if cpu and ops.fits_first_block(out):
                out = ops.first_block(out, conv_w, conv_b, norm_w, norm_b)
                continue
            if bfloat16 and i > 1:  # maps stay bfloat16 from here to the features
                out = ops.block_bfloat16(out, conv_w, conv_b, norm_w, norm_b)
                continue
            # conv3x3 is conv2d itself wherever its kernels do not apply (other devices, other dtypes).
            out = ops.conv3x3(out, conv_w, conv_b) if groups == 1 else F.conv2d(out, conv_w, conv_b, padding=1,
                                                                              groups=groups)
            out = F.group_norm(out, groups, norm_w, norm_b)
            # ReLU after pooling equals ReLU before it (both are monotone) and touches 4x fewer values.
            out = F.relu(F.max_pool2d(out, 2))
        return out.flatten(1).to(x.dtype)


def linear(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Class scores; works unbatched (B, D) x (N, D) and task-batched (T, B, D) x (T, N, D)."""
    return features @ weight.transpose(-1, -2) + bias.unsqueeze(-2)
