"""embedding: a row of W per index; a repeated index accumulates its gradient."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import numerical_vjp, place

from gradcheck_cli.network.layers import embedding
from gradcheck_cli.network.layers.base import Layer, LayerProblem


def _layer(vocab: int = 5, dim: int = 3, steps: int = 4, l: int = 1) -> embedding.Embedding:
    return embedding.build(embedding.EmbeddingSpec(type="embedding", vocab=vocab, dim=dim), (steps,), place(l=l))


def test_forward_looks_up_rows_and_repeated_indices_accumulate() -> None:
    layer = _layer()
    W = np.arange(15.0).reshape(5, 3)
    x = np.array([[0, 2, 2, 4], [2, 1, 0, 0]], dtype=float)
    z, cache = layer.forward(x, {"W": W})
    np.testing.assert_array_equal(z[0, 1], W[2]) and np.testing.assert_array_equal(z[1, 3], W[0])
    _, grads = layer.backward(np.ones((2, 4, 3)), cache)
    np.testing.assert_array_equal(grads["W"][:, 0], [3, 1, 3, 0, 1])  # index 2 three times, 3 never


def test_dW_matches_the_forward_only_witness() -> None:
    layer = _layer(vocab=6, dim=2, steps=5)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, size=(3, 5)).astype(float)
    W = rng.standard_normal((6, 2))
    z, cache = layer.forward(x, {"W": W})
    dout = rng.standard_normal(z.shape)
    _, grads = layer.backward(dout, cache)
    np.testing.assert_allclose(grads["W"], numerical_vjp(lambda v: layer.forward(x, {"W": v})[0], W.copy(), dout),
                               rtol=1e-7, atol=1e-9)


def test_stacked_perturbations_equal_the_forward_per_entry() -> None:
    layer = _layer(vocab=4, dim=2, steps=3)
    rng = np.random.default_rng(1)
    x, W = rng.integers(0, 4, size=(2, 3)).astype(float), rng.standard_normal((4, 2))
    z = layer.forward(x, {"W": W})[0]
    index = np.unravel_index(np.arange(8), (4, 2))
    deltas = rng.standard_normal(8) * 1e-3
    np.testing.assert_allclose(layer.perturbed("W", index, deltas, x, {"W": W}, z),
                               Layer.perturbed(layer, "W", index, deltas, x, {"W": W}, z), rtol=1e-12)


def test_inputs_are_indices_of_the_vocabulary() -> None:
    layer = _layer(vocab=5)
    drawn = layer.inputs_from(np.random.default_rng(0), 50)
    assert drawn.shape == (50, 4) and set(np.unique(drawn)) <= set(range(5)) and len(np.unique(drawn)) == 5
    assert layer.input_problem(np.array([[0.0, 4, 1, 2]])) is None
    for bad in (5.0, -1.0, 1.5):
        message, hint = layer.input_problem(np.array([[0.0, bad, 1, 2]]))
        assert "data.x[0, 1]" in message and "0..4" in hint


@pytest.mark.parametrize(("in_shape", "l", "says"), [((4,), 2, "first layer"), ((4, 2), 1, "input: [T]")])
def test_an_embedding_takes_the_network_input_of_indices(in_shape: tuple[int, ...], l: int, says: str) -> None:
    with pytest.raises(LayerProblem) as problem:
        embedding.build(embedding.EmbeddingSpec(type="embedding", vocab=3, dim=2), in_shape, place(l=l))
    assert says in problem.value.message + problem.value.hint
