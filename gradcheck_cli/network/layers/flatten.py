"""flatten: channels x height x width to one vector per sample, in C order as numpy's reshape
(index c H W + h W + w). Backward: the same numbers put back in their shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import Array, Equation, Layer, Mistake, Notation, Place, Shape, SpecModel

TYPE = "flatten"
SYMBOLS = ()
LAYOUTS = ("row",)


class FlattenSpec(SpecModel):
    """``{type: flatten}``."""

    type: Literal["flatten"]


SPEC = FlattenSpec


def build(spec: FlattenSpec, in_shape: Shape, place: Place) -> Flatten:
    return Flatten(in_shape, place.layout, place.activation, place.options)


@dataclass(frozen=True)
class Flatten(Layer):
    TYPE = TYPE
    CHANNEL_LOCAL = True  # channels c..d become one contiguous run of features
    @property
    def out_shape(self) -> Shape:
        return (math.prod(self.in_shape),)

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, Shape]:
        return a.reshape(a.shape[: a.ndim - len(self.in_shape)] + (-1,)), a.shape

    def backward(self, dz: Array, cache: Shape) -> tuple[Array, dict[str, Array]]:
        return dz.reshape(cache), {}

    def forward_channels(self, a: Array, p: dict[str, Array], channels: slice) -> tuple[Array, Shape, slice]:
        per_channel = math.prod(self.in_shape[1:])
        return (*self.forward(a, p), slice(channels.start * per_channel, channels.stop * per_channel))

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        if len(self.in_shape) != 3:
            return []
        C, H, W = self.in_shape
        channels_last = np.moveaxis(dz.reshape((-1, H, W, C)), -1, 1)
        fortran = dz.reshape((-1,) + self.in_shape[::-1]).transpose(0, 3, 2, 1)
        return [Mistake("a", channels_last, f"the flatten order: unflattened as height x width x "
                        f"channels; flatten is C order over channels x height x width (reshape_like(dz{l}, a{l - 1}))"),
                Mistake("a", fortran, f"the flatten order: unflattened in Fortran order; flatten is C "
                        f"order, as numpy's reshape (reshape_like(dz{l}, a{l - 1}))")]

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return Equation(f"z{l}", f"flatten({n.a(l - 1)})",
                        rf"{n.tex('z', l)} = \mathrm{{flatten}}({n.tex('a', l - 1)})", n.shape(l))

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        times = r" \times ".join(map(str, self.in_shape))
        return [Equation(f"da{l - 1}", f"reshape_like(dz{l}, {n.a(l - 1)})",
                         rf"\frac{{\partial E}}{{\partial {n.tex('a', l - 1)}}} = \mathrm{{reshape}}(\delta^{{[{l}]}}, "
                         rf"m \times {times})", n.shape(l - 1))]
