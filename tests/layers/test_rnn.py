"""rnn: the vanilla recurrence h_t = f(x_t Wx + h_(t-1) Wh + b) and its backpropagation through time."""

from __future__ import annotations

import math

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, random_params
from recurrent_cases import assert_stacks_equal_forward_per_entry, built

from gradcheck_cli.network.layers.base import LayerProblem


def test_two_steps_by_hand() -> None:
    """One unit, one feature: h1 = tanh(x1 wx + h0 wh + b), h2 = tanh(x2 wx + h1 wh + b)."""
    layer = built({"type": "rnn", "units": 1, "initial_state": "learned"}, (2, 1), batch=1, activation="tanh")
    wx, wh, b, h0, x1, x2 = 0.5, -0.3, 0.1, 0.2, 1.0, -2.0
    p = {"Wx": np.array([[wx]]), "Wh": np.array([[wh]]), "b": np.array([b]), "h0_": np.array([[h0]])}
    h1 = math.tanh(x1 * wx + h0 * wh + b)
    h2 = math.tanh(x2 * wx + h1 * wh + b)
    z, _ = layer.forward(np.array([[[x1], [x2]]]), p)
    np.testing.assert_allclose(z.ravel(), [h1, h2], rtol=1e-15)
    # dE/dwh for E = h2 alone: both paths, through h2's own step and through h1
    _, grads = layer.backward(np.array([[[0.0], [1.0]]]), layer.forward(np.array([[[x1], [x2]]]), p)[1])
    d2 = 1 - h2**2
    d1 = d2 * wh * (1 - h1**2)
    assert grads["Wh"].item() == pytest.approx(d2 * h1 + d1 * h0, rel=1e-12)
    assert grads["h0_"].item() == pytest.approx(d1 * wh, rel=1e-12)


@pytest.mark.parametrize(("steps", "features", "units", "activation", "returns", "initial"), [
    (4, 3, 5, "tanh", "sequence", "zeros"),
    (3, 2, 4, "sigmoid", "last", "learned"),
    (5, 1, 2, "leaky_relu", "sequence", "learned"),
    (1, 4, 3, "tanh", "last", "zeros"),
])
def test_backward_matches_the_forward_only_witness(steps: int, features: int, units: int, activation: str,
                                                   returns: str, initial: str) -> None:
    layer = built({"type": "rnn", "units": units, "return": returns, "initial_state": initial}, (steps, features),
                  activation=activation)
    rng = np.random.default_rng(steps * 10 + units)
    params = {k: v * 0.7 for k, v in random_params(layer, rng).items()}
    assert_backward_matches_witness(layer, rng.standard_normal((3, steps, features)), params)


@pytest.mark.parametrize("returns", ["sequence", "last"])
def test_stacked_perturbations_equal_the_forward_per_entry(returns: str) -> None:
    layer = built({"type": "rnn", "units": 3, "return": returns, "initial_state": "learned"}, (4, 2),
                  activation="tanh")
    assert_stacks_equal_forward_per_entry(layer, np.random.default_rng(3).standard_normal((3, 4, 2)))


def test_a_relu_recurrence_reports_the_sides_of_every_step() -> None:
    layer = built({"type": "rnn", "units": 3}, (4, 2), activation="relu")
    rng = np.random.default_rng(0)
    p = random_params(layer, rng)
    _, cache = layer.forward(rng.standard_normal((2, 4, 2)), p)
    [sides] = layer.input_sides(cache)
    assert sides.shape == (2, 4, 3) and sides.any() and not sides.all()
    assert built({"type": "rnn", "units": 3}, (4, 2), activation="tanh").input_sides(cache) == []


def test_parameters_and_output_shapes() -> None:
    layer = built({"type": "rnn", "units": 8, "initial_state": "learned"}, (5, 4), batch=6)
    assert {p.symbol: p.shape for p in layer.parameters()} == {"Wx": (4, 8), "Wh": (8, 8), "b": (8,), "h0_": (6, 8)}
    assert layer.out_shape == (5, 8)
    assert built({"type": "rnn", "units": 8, "return": "last"}, (5, 4)).out_shape == (8,)


@pytest.mark.parametrize(("in_shape", "says"), [((20,), "input: [T, D]"), ((2, 4, 4), "cannot follow a convolution")])
def test_a_recurrent_layer_needs_a_sequence(in_shape: tuple[int, ...], says: str) -> None:
    with pytest.raises(LayerProblem) as problem:
        built({"type": "rnn", "units": 3}, in_shape)
    assert "one sequence of T steps x D features" in problem.value.message and says in problem.value.hint


def test_softmax_is_not_a_recurrence_activation() -> None:
    with pytest.raises(LayerProblem) as problem:
        built({"type": "rnn", "units": 3}, (4, 2), activation="softmax")
    assert problem.value.key == "activation"
