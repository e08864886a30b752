"""dropout: inverted dropout with a mask fixed by the seed and the layer's index."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place

from gradcheck_cli.network.layers import dropout


def _layer(rate: float, l: int = 1, seed: int = 0, in_shape: tuple[int, ...] = (50,)) -> dropout.Dropout:
    return dropout.build(dropout.DropoutSpec(type="dropout", rate=rate), in_shape, place(l=l, seed=seed))


def test_the_mask_is_inverted_dropout_and_the_same_in_every_pass() -> None:
    layer = _layer(0.25)
    a = np.ones((40, 50))
    z, mask = layer.forward(a, {})
    assert set(np.unique(z)) == {0.0, 1 / 0.75}
    assert abs((z == 0).mean() - 0.25) < 0.03  # 2,000 draws: within about 3 standard deviations
    np.testing.assert_array_equal(layer.forward(a * 2, {})[0], 2 * z)


def test_masks_differ_between_layers_and_seeds_and_rate_zero_is_the_identity() -> None:
    a = np.ones((4, 50))
    first = _layer(0.5).forward(a, {})[0]
    assert not np.array_equal(first, _layer(0.5, l=2).forward(a, {})[0])
    assert not np.array_equal(first, _layer(0.5, seed=1).forward(a, {})[0])
    np.testing.assert_array_equal(_layer(0.0).forward(a, {})[0], a)


@pytest.mark.parametrize("in_shape", [(6,), (2, 3, 3)])
def test_backward_matches_the_forward_only_witness(in_shape: tuple[int, ...]) -> None:
    layer = _layer(0.5, in_shape=in_shape)
    assert_backward_matches_witness(layer, np.random.default_rng(1).standard_normal((3,) + in_shape), {})


def test_the_mask_is_a_quantity_derivations_read() -> None:
    layer = _layer(0.5, l=5)
    _, cache = layer.forward(np.ones((2, 50)), {})
    assert set(layer.quantities(5, cache)) == {"mask5"} and layer.QUANTITIES == ("mask",)
