"""Networks: functional modules whose parameters are a plain dict of tensors (Conv-4 for images, an MLP for
sine waves), and the description of each that a checkpoint records so it can be rebuilt."""

from __future__ import annotations

# Imported inside the functions: the MLP's module imports torch, which the page must not do at start-up.


def describe(network) -> dict:
    """What a checkpoint records of ``network`` to rebuild it with :func:`build`."""
    from .conv4 import Conv4
    from .mlp import MLP

    if isinstance(network, Conv4):
        return {"name": "conv4", "hidden": network.hidden, "blocks": network.blocks, "norm": "layer",
                "input": [network.in_channels, 28, 28]}
    if isinstance(network, MLP):
        return {"name": "mlp", "sizes": list(network.sizes), "activation": network.activation}
    raise ValueError(f"no description for a network of type {type(network).__name__}")


def build(description: dict):
    """The network a checkpoint's description names; ``ValueError`` for anything else."""
    from .conv4 import Conv4
    from .mlp import MLP

    if not isinstance(description, dict):
        raise ValueError(f"a network description is an object, got {type(description).__name__}")
    name = description.get("name")
    try:
        if name == "conv4":
            hidden = description["hidden"]
            if isinstance(hidden, bool) or not isinstance(hidden, int) or not 1 <= hidden <= 1024:
                raise ValueError(f"hidden must be a whole number from 1 to 1024, got {hidden!r}")
            blocks = description.get("blocks", 4)
            if isinstance(blocks, bool) or not isinstance(blocks, int) or not 1 <= blocks <= 4:
                raise ValueError(f"blocks must be a whole number from 1 to 4, got {blocks!r}")
            return Conv4(in_channels=int(description.get("input", [1])[0]), hidden=hidden, blocks=blocks)
        if name == "mlp":
            sizes = description["sizes"]
            if not isinstance(sizes, list) or len(sizes) > 16 or any(not isinstance(s, int) or s > 4096 for s in sizes):
                raise ValueError(f"sizes must be a short list of whole numbers, got {sizes!r:.80}")
            return MLP(tuple(sizes), description.get("activation", "relu"))
    except (KeyError, TypeError, IndexError) as e:
        raise ValueError(f"incomplete description of a {name} network: {e}") from None
    raise ValueError(f"unknown network {name!r}")
