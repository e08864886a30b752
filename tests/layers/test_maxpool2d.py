"""maxpool2d: each window's maximum forward, the gradient routed to it backward (overlapping
windows adding up), and the argmax as the layer's own kink."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place

from gradcheck_cli.network.layers import maxpool2d
from gradcheck_cli.network.layers.base import LayerProblem


def _layer(in_shape: tuple[int, int, int], **keys: object) -> maxpool2d.Maxpool2d:
    return maxpool2d.build(maxpool2d.Maxpool2dSpec(type="maxpool2d", **keys), in_shape, place())


@pytest.mark.parametrize(("size", "stride", "H"), [(2, None, 4), (2, 1, 5), (3, 2, 7), ([2, 3], [2, 1], 6)])
def test_backward_matches_the_forward_only_witness(size: object, stride: object, H: int) -> None:
    layer = _layer((2, H, H + 1 if isinstance(size, list) else H), size=size, stride=stride)
    a = np.random.default_rng(H).standard_normal((3,) + layer.in_shape)
    assert_backward_matches_witness(layer, a, {})


def test_a_hand_computed_case_routes_the_gradient_to_each_maximum() -> None:
    layer = _layer((1, 2, 4), size=2)
    a = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]])
    z, cache = layer.forward(a, {})
    np.testing.assert_array_equal(z, [[[[5.0, 9.0]]]])
    da, grads = layer.backward(np.array([[[[10.0, 20.0]]]]), cache)
    np.testing.assert_array_equal(da, [[[[0, 10, 0, 0], [0, 0, 20, 0]]]])
    assert grads == {}


def test_overlapping_windows_that_share_a_maximum_add_their_gradients() -> None:
    layer = _layer((1, 1, 3), size=[1, 2], stride=1)
    _, cache = layer.forward(np.array([[[[0.0, 7.0, 1.0]]]]), {})
    da, _ = layer.backward(np.array([[[[1.0, 2.0]]]]), cache)
    np.testing.assert_array_equal(da, [[[[0.0, 3.0, 0.0]]]])


def test_the_argmax_is_its_kink() -> None:
    layer = _layer((1, 2, 2), size=2)
    a = np.array([[[[1.0, 1.0 + 1e-9], [0.0, 0.0]]]])
    before = layer.input_sides(layer.forward(a, {})[1])
    a[0, 0, 0, 0] += 2e-9
    after = layer.input_sides(layer.forward(a, {})[1])
    assert len(before) == 1 and not np.array_equal(before[0], after[0])


def test_stride_defaults_to_the_size_and_leftover_positions_are_refused() -> None:
    assert _layer((4, 6, 6), size=3).out_shape == (4, 2, 2)
    with pytest.raises(LayerProblem, match=r"window 2 with stride 2 leaves 1 position\(s\) of the input height 5"):
        _layer((4, 5, 4), size=2)
