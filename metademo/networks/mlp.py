"""A small fully connected network, the regressor of MAML's sine experiment (Finn et al. 2017, 5.1).

``MLP((1, 40, 40, 1))`` is the paper's network: two hidden layers of 40 units with ReLU, a linear
output. Like :class:`~metademo.networks.conv4.Conv4` it is *functional*: parameters are a plain
``dict`` of tensors passed to :meth:`MLP.forward`, so an inner loop is a pure function from
meta-parameters to adapted parameters and autograd sees every dependency.

Tasks can be batched: with parameters carrying a leading task dimension ``T`` and inputs shaped
``(T, B, in)``, every layer is one batched matrix product (``bmm``), the same arithmetic as a loop
over tasks. There is no normalisation, so tasks never interact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from ..lazy import torch
from .conv4 import Params, linear

ACTIVATIONS = ("relu", "tanh", "softplus")  # names in torch.nn.functional (torch is imported on first use)


@dataclass(frozen=True)
class MLP:
    sizes: tuple[int, ...] = (1, 40, 40, 1)
    # ReLU is the paper's choice. The smooth ones exist for derivative checks: finite differences of
    # a piecewise-linear network are only trustworthy away from its kinks.
    activation: str = "relu"

    def __post_init__(self):
        if len(self.sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in self.sizes):
            raise ValueError(f"sizes must be two or more positive whole numbers, got {self.sizes!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        object.__setattr__(self, "sizes", tuple(self.sizes))  # a list from JSON metadata stays hashable

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    def init_params(self, seed: int = 0, dtype: torch.dtype | None = None) -> Params:
        """PyTorch's ``nn.Linear`` initialisation: weights and biases uniform in +-1/sqrt(fan_in).

        The non-zero biases matter for a 1-d input: with zero biases every first-layer ReLU would
        bend at x = 0, and the network would start as a function with a single kink.
        """
        dtype = torch.float32 if dtype is None else dtype
        g = torch.Generator().manual_seed(seed)
        params: Params = {}
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            bound = 1.0 / math.sqrt(fan_in)
            w = torch.rand(fan_out, fan_in, generator=g, dtype=torch.float64) * 2 - 1
            b = torch.rand(fan_out, generator=g, dtype=torch.float64) * 2 - 1
            params[f"fc{i}.weight"] = (w * bound).to(dtype)
            params[f"fc{i}.bias"] = (b * bound).to(dtype)
        return params

    def forward(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """Outputs for inputs ``x``.

        With plain parameters, ``x`` of shape (B, in) gives (B, out) and (T, B, in) gives (T, B, out).
        With task-batched parameters (leading dimension T), ``x`` must be (T, B, in).
        """
        act = getattr(torch.nn.functional, self.activation)
        out = x
        for i in range(1, self.layers + 1):
            # (T, B, in) @ (T, in, out) is a bmm; plain weights broadcast over the task dimension.
            out = linear(out, params[f"fc{i}.weight"], params[f"fc{i}.bias"])
            if i < self.layers:
                out = act(out)
        return out

    precision: ClassVar[str] = "float32"  # an MLP this small always computes in float32

    def at_precision(self, precision: str) -> MLP:
        """Itself (see ``precision``)."""
        return self

    __call__ = forward
    features = forward  # what the learners' inner loop calls; a regressor's output is its prediction
