"""What every layer type's test needs: its backward compared with a forward-only witness.

``numerical_vjp`` is the courses' check (cs231n's ``eval_numerical_gradient_array``) written from its
definition: for each entry of an input, (sum(f(x + h) * dout) - sum(f(x - h) * dout)) / 2h. It runs
the layer's forward only, so a wrong backward cannot make it agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradcheck_cli.network.activations import ACTIVATIONS, Options
from gradcheck_cli.network.layers.base import Layer, Place
from gradcheck_cli.network.layouts import LAYOUTS

Array = np.ndarray


def place(layout: str = "row", l: int = 1, seed: int = 0, activation: str = "identity", batch: int = 1) -> Place:
    """Where a layer under test is built: no activation by default (the network loop applies it; a
    recurrence reads its own from here), with the activation's default alpha."""
    options = Options(ACTIVATIONS[activation].default_alpha or 0.0, LAYOUTS[layout].unit_axis)
    return Place(LAYOUTS[layout], ACTIVATIONS[activation], options, seed, l, batch)


def random_params(layer: Layer, rng: np.random.Generator) -> dict[str, Array]:
    return {p.symbol: rng.standard_normal(p.shape) for p in layer.parameters()}


def numerical_vjp(f: Callable[[Array], Array], x: Array, dout: Array, h: float = 1e-6) -> Array:
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = np.sum(f(x) * dout)
        x[index] = saved - h
        minus = np.sum(f(x) * dout)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def assert_backward_matches_witness(layer: Layer, a: Array, params: dict[str, Array], seed: int = 0) -> None:
    """The layer's dx and every parameter gradient equal the numerical VJP against a random dout."""
    z, cache = layer.forward(a, params)
    dout = np.random.default_rng(seed).standard_normal(z.shape)
    da, grads = layer.backward(dout, cache)
    assert set(grads) == {p.symbol for p in layer.parameters()}
    expected = numerical_vjp(lambda v: layer.forward(v, params)[0], a.copy(), dout)
    np.testing.assert_allclose(da, expected, rtol=1e-6, atol=1e-8)
    for symbol, value in params.items():
        def moved(v: Array, symbol: str = symbol) -> Array:
            return layer.forward(a, {**params, symbol: v})[0]
        np.testing.assert_allclose(grads[symbol], numerical_vjp(moved, value.copy(), dout), rtol=1e-6, atol=1e-8,
                                   err_msg=symbol)
