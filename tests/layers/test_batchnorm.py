"""batchnorm: training-mode batch statistics (biased variance), per feature or per channel."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place, random_params

from gradcheck_cli.network.layers import batchnorm


def _layer(in_shape: tuple[int, ...], epsilon: float = 1e-5) -> batchnorm.Batchnorm:
    return batchnorm.build(batchnorm.BatchnormSpec(type="batchnorm", epsilon=epsilon), in_shape, place())


@pytest.mark.parametrize("in_shape", [(5,), (3, 2, 4)])
def test_backward_matches_the_forward_only_witness(in_shape: tuple[int, ...]) -> None:
    layer = _layer(in_shape)
    rng = np.random.default_rng(len(in_shape))
    assert_backward_matches_witness(layer, rng.standard_normal((4,) + in_shape) * 3 + 1, random_params(layer, rng))


def test_spatial_batchnorm_normalises_each_channel_over_samples_and_positions() -> None:
    layer = _layer((3, 4, 4), epsilon=1e-12)
    a = np.random.default_rng(0).standard_normal((5, 3, 4, 4)) * np.array([1.0, 4.0, 0.5])[:, None, None] + 7
    z, _ = layer.forward(a, {"gamma": np.ones(3), "beta": np.zeros(3)})
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(z.var(axis=(0, 2, 3)), 1, rtol=1e-9)  # the biased variance, as numpy's var
    assert [p.shape for p in layer.parameters()] == [(3,), (3,)]


def test_a_hand_computed_case() -> None:
    """Two samples 1 and 3: mean 2, biased variance 1, so xhat = -1, 1 (epsilon 0 in effect)."""
    layer = _layer((1,), epsilon=1e-300)
    z, _ = layer.forward(np.array([[1.0], [3.0]]), {"gamma": np.array([2.0]), "beta": np.array([0.5])})
    np.testing.assert_allclose(z, [[-1.5], [2.5]])


def test_it_mixes_the_samples() -> None:
    assert batchnorm.Batchnorm.MIXES_SAMPLES
