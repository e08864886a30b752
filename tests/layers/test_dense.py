"""dense: its forward and backward in both layouts, its parameters, and what it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place, random_params

from gradcheck_cli.network.layers import dense
from gradcheck_cli.network.layers.base import LayerProblem


def _layer(layout: str, inputs: int, units: int, bias: str = "per_unit") -> dense.Dense:
    return dense.build(dense.DenseSpec(units=units, bias=bias), (inputs,), place(layout))


@pytest.mark.parametrize("layout", ["column", "row"])
@pytest.mark.parametrize("bias", ["per_unit", "shared", "none"])
@pytest.mark.parametrize("seed", range(3))
def test_backward_matches_the_forward_only_witness(layout: str, bias: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs, units, m = rng.integers(1, 6, size=3)
    layer = _layer(layout, int(inputs), int(units), bias)
    a = rng.standard_normal((int(inputs), int(m)) if layout == "column" else (int(m), int(inputs)))
    assert_backward_matches_witness(layer, a, random_params(layer, rng), seed)


def test_a_hand_computed_case_in_column_layout() -> None:
    """z = W a + b for two samples; dW = dz a^T, db = row sums of dz, da = W^T dz."""
    layer = _layer("column", 2, 1)
    W, b, a = np.array([[1.0, -2.0]]), np.array([[0.5]]), np.array([[1.0, 3.0], [2.0, -1.0]])
    z, cache = layer.forward(a, {"W": W, "b": b})
    np.testing.assert_array_equal(z, [[1 - 4 + 0.5, 3 + 2 + 0.5]])
    da, grads = layer.backward(np.array([[1.0, 2.0]]), cache)
    np.testing.assert_array_equal(grads["W"], [[1 + 6, 2 - 2]])
    np.testing.assert_array_equal(grads["b"], [[3.0]])
    np.testing.assert_array_equal(da, [[1.0, 2.0], [-2.0, -4.0]])


@pytest.mark.parametrize(("layout", "W", "b"), [("column", (3, 2), (3, 1)), ("row", (2, 3), (1, 3))])
def test_parameters_are_placed_in_the_layout_and_only_W_takes_l2(layout: str, W: tuple, b: tuple) -> None:
    w, bias = _layer(layout, 2, 3).parameters()
    assert (w.symbol, w.shape, w.l2, w.fan_in) == ("W", W, True, 2)
    assert (bias.symbol, bias.shape, bias.l2) == ("b", b, False)
    assert [p.shape for p in _layer(layout, 2, 3, "shared").parameters()] == [W, ()]
    assert [p.symbol for p in _layer(layout, 2, 3, "none").parameters()] == ["W"]


def test_a_dense_layer_refuses_an_input_of_more_than_one_axis() -> None:
    spec = dense.DenseSpec(units=3)
    with pytest.raises(LayerProblem, match=r"input is 4 x 2 x 2 per sample") as caught:
        dense.build(spec, (4, 2, 2), place())
    assert "flatten" in caught.value.hint
