"""avgpool2d: each window's mean forward, the gradient spread evenly backward."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place

from gradcheck_cli.network.layers import avgpool2d


def _layer(in_shape: tuple[int, int, int], **keys: object) -> avgpool2d.Avgpool2d:
    return avgpool2d.build(avgpool2d.Avgpool2dSpec(type="avgpool2d", **keys), in_shape, place())


@pytest.mark.parametrize(("size", "stride", "H"), [(2, None, 4), (2, 1, 5), (3, 2, 7)])
def test_backward_matches_the_forward_only_witness(size: int, stride: int | None, H: int) -> None:
    layer = _layer((2, H, H), size=size, stride=stride)
    assert_backward_matches_witness(layer, np.random.default_rng(H).standard_normal((2,) + layer.in_shape), {})


def test_a_hand_computed_case_spreads_the_gradient_evenly() -> None:
    layer = _layer((1, 2, 4), size=2)
    z, cache = layer.forward(np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]]), {})
    np.testing.assert_array_equal(z, [[[[13 / 4, 19 / 4]]]])
    da, _ = layer.backward(np.array([[[[4.0, 8.0]]]]), cache)
    np.testing.assert_array_equal(da, [[[[1, 1, 2, 2], [1, 1, 2, 2]]]])


def test_overlapping_windows_add_up() -> None:
    layer = _layer((1, 1, 3), size=[1, 2], stride=1)
    _, cache = layer.forward(np.zeros((1, 1, 1, 3)), {})
    da, _ = layer.backward(np.array([[[[2.0, 4.0]]]]), cache)
    np.testing.assert_array_equal(da, [[[[1.0, 3.0, 2.0]]]])
