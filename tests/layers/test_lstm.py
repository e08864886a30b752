"""lstm: gates i, f, o, g in cs231n's order; c_t = f c_(t-1) + i g, h_t = o tanh(c_t); BPTT through h and c."""

from __future__ import annotations

import math

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, random_params
from recurrent_cases import assert_stacks_equal_forward_per_entry, built


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_two_steps_by_hand_in_the_gate_order_i_f_o_g() -> None:
    """One unit: the four columns of Wx, Wh and b are the gates i, f, o, g, in that order."""
    layer = built({"type": "lstm", "units": 1}, (2, 1), batch=1)
    wx, wh, b = [0.5, -0.4, 0.3, 0.8], [0.2, 0.1, -0.6, 0.4], [0.1, 0.7, -0.2, 0.0]
    p = {"Wx": np.array([wx]), "Wh": np.array([wh]), "b": np.array(b)}
    h, c, expected = 0.0, 0.0, []
    for x in (1.5, -0.5):
        v = [x * wx[k] + h * wh[k] + b[k] for k in range(4)]
        i, f, o, g = _sigmoid(v[0]), _sigmoid(v[1]), _sigmoid(v[2]), math.tanh(v[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        expected.append(h)
    z, cache = layer.forward(np.array([[[1.5], [-0.5]]]), p)
    np.testing.assert_allclose(z.ravel(), expected, rtol=1e-15)
    np.testing.assert_allclose(layer.quantities(2, cache)["c2"].ravel()[-1], c, rtol=1e-15)


@pytest.mark.parametrize(("steps", "features", "units", "returns", "initial"), [
    (4, 3, 5, "sequence", "zeros"),
    (3, 2, 2, "last", "learned"),
    (1, 3, 3, "sequence", "learned"),
])
def test_backward_matches_the_forward_only_witness(steps: int, features: int, units: int, returns: str,
                                                   initial: str) -> None:
    layer = built({"type": "lstm", "units": units, "return": returns, "initial_state": initial}, (steps, features))
    rng = np.random.default_rng(steps + 7 * units)
    assert_backward_matches_witness(layer, rng.standard_normal((3, steps, features)), random_params(layer, rng))


@pytest.mark.parametrize("returns", ["sequence", "last"])
def test_stacked_perturbations_equal_the_forward_per_entry(returns: str) -> None:
    layer = built({"type": "lstm", "units": 2, "return": returns, "initial_state": "learned"}, (3, 2))
    assert_stacks_equal_forward_per_entry(layer, np.random.default_rng(5).standard_normal((3, 3, 2)))


def test_parameters_quantities_and_shapes() -> None:
    layer = built({"type": "lstm", "units": 6}, (5, 8), batch=2)
    assert {p.symbol: p.shape for p in layer.parameters()} == {"Wx": (8, 24), "Wh": (6, 24), "b": (24,)}
    _, cache = layer.forward(np.zeros((2, 5, 8)), random_params(layer, np.random.default_rng(0)))
    quantities = layer.quantities(3, cache)
    assert set(quantities) == {"h3", "c3", "i3", "f3", "o3", "g3"}
    assert all(q.shape == (2, 5, 6) for q in quantities.values())
