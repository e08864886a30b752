"""flatten: C order, as numpy's reshape, and back."""

from __future__ import annotations

import numpy as np
from layer_witness import assert_backward_matches_witness, place

from gradcheck_cli.network.layers import flatten


def _layer(in_shape: tuple[int, ...]) -> flatten.Flatten:
    return flatten.build(flatten.FlattenSpec(type="flatten"), in_shape, place())


def test_the_order_is_channel_then_row_then_column() -> None:
    layer = _layer((2, 2, 3))
    a = np.arange(24.0).reshape(2, 2, 2, 3)
    z, cache = layer.forward(a, {})
    assert layer.out_shape == (12,) and z.shape == (2, 12)
    assert z[1, 1 * 6 + 0 * 3 + 2] == a[1, 1, 0, 2]
    np.testing.assert_array_equal(layer.backward(z, cache)[0], a)


def test_backward_matches_the_forward_only_witness() -> None:
    layer = _layer((3, 2, 2))
    assert_backward_matches_witness(layer, np.random.default_rng(0).standard_normal((2, 3, 2, 2)), {})
