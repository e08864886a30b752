"""What the recurrent layer types' tests share: layers built from spec entries, and the check that the
layered witness's stack of perturbed copies (``Layer.perturbed``) equals the layer's forward run once
per perturbed entry, its plain definition."""

from __future__ import annotations

from typing import Any

import numpy as np
from layer_witness import place, random_params

from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.layers.base import Layer

Array = np.ndarray


def built(entry: dict[str, Any], in_shape: tuple[int, ...], batch: int = 3, activation: str = "identity") -> Layer:
    """A layer of ``entry``'s type built on ``in_shape`` as the spec reader builds it."""
    module = LAYER_TYPES[entry["type"]]
    return module.build(module.SPEC.model_validate(entry), in_shape, place(activation=activation, batch=batch))


def assert_stacks_equal_forward_per_entry(layer: Layer, a: Array, seed: int = 0) -> None:
    """For every parameter, every entry moved by its own small delta: one stacked recurrence gives the
    same outputs as the forward pass run per entry, complex deltas (the complex step) included."""
    rng = np.random.default_rng(seed)
    p = {k: v * 0.5 for k, v in random_params(layer, rng).items()}
    z = layer.forward(a, p)[0]
    for param in layer.parameters():
        flat = np.arange(int(np.prod(param.shape)))
        index = np.unravel_index(flat, param.shape)
        for deltas in (rng.standard_normal(flat.size) * 1e-3, 1j * rng.uniform(1e-3, 2e-3, flat.size)):
            # the plain loop moves a copy of the parameter: complex, for the imaginary steps
            moved = {k: v.astype(np.result_type(v, deltas)) for k, v in p.items()}
            plain = Layer.perturbed(layer, param.symbol, index, deltas, a, moved, z)
            np.testing.assert_allclose(layer.perturbed(param.symbol, index, deltas, a, p, z), plain, rtol=1e-10,
                                       atol=1e-12, err_msg=param.symbol)
