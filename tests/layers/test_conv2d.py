"""conv2d: cross-correlation with stride and padding, its backward against the forward-only witness
on random shapes, a hand-computed case, an independent loop, and the spec's arithmetic refused in words."""

from __future__ import annotations

import numpy as np
import pytest
from layer_witness import assert_backward_matches_witness, place, random_params

from gradcheck_cli.network.layers import conv2d
from gradcheck_cli.network.layers.base import LayerProblem


def _layer(in_shape: tuple[int, int, int], **keys: object) -> conv2d.Conv2d:
    return conv2d.build(conv2d.Conv2dSpec(type="conv2d", **keys), in_shape, place())


def _random_case(seed: int) -> tuple[conv2d.Conv2d, tuple[int, ...]]:
    """A conv layer whose kernel, stride and padding fit its input exactly, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    while True:
        C, H, W, F = (int(v) for v in rng.integers(1, 5, size=4))
        kh, kw, sh, sw = (int(v) for v in rng.integers(1, 4, size=4))
        ph, pw = (int(v) for v in rng.integers(0, 3, size=2))
        H, W = H + kh, W + kw
        if (H + 2 * ph - kh) % sh == 0 and (W + 2 * pw - kw) % sw == 0:
            bias = ["per_unit", "shared", "none"][seed % 3]
            layer = _layer((C, H, W), filters=F, kernel=[kh, kw], stride=[sh, sw], padding=[ph, pw], bias=bias)
            return layer, (int(rng.integers(1, 4)), C, H, W)


@pytest.mark.parametrize("seed", range(12))
def test_backward_matches_the_forward_only_witness_on_random_shapes_strides_and_paddings(seed: int) -> None:
    layer, shape = _random_case(seed)
    rng = np.random.default_rng(100 + seed)
    assert_backward_matches_witness(layer, rng.standard_normal(shape), random_params(layer, rng), seed)


def _loop_correlation(a: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """The definition, one output at a time: sum over c, u, v of W[f, c, u, v] a_pad[n, c, s i + u, s j + v] + b[f]."""
    padded = np.pad(a, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    F, _, kh, kw = W.shape
    Ho, Wo = (padded.shape[2] - kh) // stride + 1, (padded.shape[3] - kw) // stride + 1
    z = np.zeros((a.shape[0], F, Ho, Wo))
    for n, f, i, j in np.ndindex(z.shape):
        window = padded[n, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
        z[n, f, i, j] = np.sum(window * W[f]) + b[f]
    return z


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2)])
def test_forward_is_cross_correlation_as_its_definition_computes_it(stride: int, padding: int) -> None:
    rng = np.random.default_rng(stride)
    H = 3 * stride + 3 - 2 * padding  # whole positions for kernel 3
    layer = _layer((2, H, H), filters=3, kernel=3, stride=stride, padding=padding)
    a, W, b = rng.standard_normal((2, 2, H, H)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    z, _ = layer.forward(a, {"W": W, "b": b})
    np.testing.assert_allclose(z, _loop_correlation(a, W, b, stride, padding), rtol=1e-12, atol=1e-12)
    assert z.shape[1:] == layer.out_shape


def test_a_hand_computed_case() -> None:
    """One channel, a 3 x 3 input, a 2 x 2 kernel: each output is a window's weighted sum (not flipped)."""
    layer = _layer((1, 3, 3), filters=1, kernel=2, bias="none")
    a = np.arange(9.0).reshape(1, 1, 3, 3)  # 0 1 2 / 3 4 5 / 6 7 8
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # z = top-left minus bottom-right of each window
    z, cache = layer.forward(a, {"W": W})
    np.testing.assert_array_equal(z, [[[[-4.0, -4.0], [-4.0, -4.0]]]])
    da, grads = layer.backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(grads["W"], [[[[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]]]])
    np.testing.assert_array_equal(da, [[[[1, 1, 0], [1, 0, -1], [0, -1, -1]]]])


def test_parameters_follow_the_contract() -> None:
    layer = _layer((3, 8, 8), filters=4, kernel=3, padding=1)
    W, b = layer.parameters()
    assert (W.symbol, W.shape, W.fan_in, W.l2) == ("W", (4, 3, 3, 3), 27, True)
    assert (b.symbol, b.shape, b.l2) == ("b", (4,), False)
    assert layer.out_shape == (4, 8, 8)
    assert [p.shape for p in _layer((3, 8, 8), filters=4, kernel=3, bias="shared").parameters()] == [(4, 3, 3, 3), ()]


@pytest.mark.parametrize(("in_shape", "keys", "message"), [
    ((1, 4, 4), {"kernel": 5}, r"kernel 5 is larger than the input height 4"),
    ((1, 4, 4), {"kernel": 7, "padding": 1}, r"kernel 7 is larger than the padded input height 6 \(4 \+ 2 x 1\)"),
    ((1, 6, 6), {"kernel": 3, "stride": 2, "padding": 1},
     r"kernel 3 with stride 2 leaves 1 position\(s\) of the padded input height 8 \(6 \+ 2 x 1\) over: "
     r"\(8 - 3\) / 2 is not whole"),
    ((6,), {"kernel": 3}, r"takes channels x height x width per sample, but its input is 6"),
])
def test_bad_arithmetic_is_refused_with_the_numbers(in_shape: tuple, keys: dict, message: str) -> None:
    with pytest.raises(LayerProblem, match=message):
        _layer(in_shape, filters=2, **keys)
