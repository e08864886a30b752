"""gru: torch.nn.GRU's form, gates r, z, n with separate input and hidden biases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, random_params
from recurrent_cases import assert_stacks_equal_forward_per_entry, built


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_two_steps_by_hand_with_the_hidden_bias_inside_the_reset() -> None:
    """One unit: n = tanh(x wx_n + bx_n + r (h wh_n + bh_n)), h' = (1 - z) n + z h, as torch documents."""
    layer = built({"type": "gru", "units": 1, "initial_state": "learned"}, (2, 1), batch=1)
    wx, wh, bx, bh, h = [0.5, -0.4, 0.3], [0.2, 0.1, -0.6], [0.1, 0.7, -0.2], [0.3, -0.1, 0.5], 0.4
    p = {"Wx": np.array([wx]), "Wh": np.array([wh]), "bx": np.array(bx), "bh": np.array(bh), "h0_": np.array([[h]])}
    expected = []
    for x in (1.5, -0.5):
        r = _sigmoid(x * wx[0] + bx[0] + h * wh[0] + bh[0])
        u = _sigmoid(x * wx[1] + bx[1] + h * wh[1] + bh[1])
        n = math.tanh(x * wx[2] + bx[2] + r * (h * wh[2] + bh[2]))
        h = (1 - u) * n + u * h
        expected.append(h)
    z, _ = layer.forward(np.array([[[1.5], [-0.5]]]), p)
    np.testing.assert_allclose(z.ravel(), expected, rtol=1e-15)


@pytest.mark.parametrize(("steps", "features", "units", "returns", "initial"), [
    (4, 3, 5, "sequence", "zeros"),
    (3, 2, 2, "last", "learned"),
    (2, 1, 3, "sequence", "learned"),
])
def test_backward_matches_the_forward_only_witness(steps: int, features: int, units: int, returns: str,
                                                   initial: str) -> None:
    layer = built({"type": "gru", "units": units, "return": returns, "initial_state": initial}, (steps, features))
    rng = np.random.default_rng(steps + 5 * units)
    assert_backward_matches_witness(layer, rng.standard_normal((3, steps, features)), random_params(layer, rng))


@pytest.mark.parametrize("returns", ["sequence", "last"])
def test_stacked_perturbations_equal_the_forward_per_entry(returns: str) -> None:
    layer = built({"type": "gru", "units": 2, "return": returns, "initial_state": "learned"}, (3, 2))
    assert_stacks_equal_forward_per_entry(layer, np.random.default_rng(6).standard_normal((3, 3, 2)))


def test_parameters_and_quantities() -> None:
    layer = built({"type": "gru", "units": 5}, (4, 6))
    assert {p.symbol: p.shape for p in layer.parameters()} == {"Wx": (6, 15), "Wh": (5, 15), "bx": (15,),
                                                               "bh": (15,)}
    _, cache = layer.forward(np.zeros((3, 4, 6)), random_params(layer, np.random.default_rng(0)))
    assert set(layer.quantities(2, cache)) == {"h2", "r2", "u2", "n2"}
