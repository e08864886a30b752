"""layernorm: each sample normalised over all its own features; gamma and beta per feature or channel."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place, random_params

from gradcheck_cli.network.layers import layernorm


def _layer(in_shape: tuple[int, ...]) -> layernorm.Layernorm:
    return layernorm.build(layernorm.LayernormSpec(type="layernorm", epsilon=1e-12), in_shape, place())


@pytest.mark.parametrize("in_shape", [(6,), (2, 3, 3)])
def test_backward_matches_the_forward_only_witness(in_shape: tuple[int, ...]) -> None:
    layer = _layer(in_shape)
    rng = np.random.default_rng(len(in_shape))
    assert_backward_matches_witness(layer, rng.standard_normal((3,) + in_shape) * 2 - 1, random_params(layer, rng))


@pytest.mark.parametrize("in_shape", [(6,), (2, 3, 3)])
def test_each_sample_is_normalised_over_its_features_alone(in_shape: tuple[int, ...]) -> None:
    layer = _layer(in_shape)
    a = np.random.default_rng(0).standard_normal((4,) + in_shape) * np.arange(1, 5).reshape((4,) + (1,) * len(in_shape))
    ones, zeros = np.ones(in_shape[0]), np.zeros(in_shape[0])
    z, _ = layer.forward(a, {"gamma": ones, "beta": zeros})
    features = tuple(range(1, len(in_shape) + 1))
    np.testing.assert_allclose(z.mean(axis=features), 0, atol=1e-12)
    np.testing.assert_allclose(z.var(axis=features), 1, rtol=1e-9)
    one, _ = layer.forward(a[:1], {"gamma": ones, "beta": zeros})
    np.testing.assert_allclose(one, z[:1], rtol=1e-12)  # the other samples make no difference
    assert not layernorm.Layernorm.MIXES_SAMPLES
