"""dropout: inverted dropout with a fixed mask, as in training (cs231n's ``dropout_forward``).

    z = a * mask,   mask = (u >= rate) / (1 - rate),   u uniform in [0, 1)

The mask is drawn from the spec's seed (its own stream for each layer l) for the batch's shape, and
is the same in every forward pass: the function being checked is the network with that mask, as a
training step computes it. Backward: dz * mask, the same mask. ``rate: 0`` is the identity.
``mask<l>``, which derivations and ``--backward`` read, is the scaled mask: 0 or 1/(1 - rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from gradcheck_cli.network.layers.base import Array, Equation, Layer, Notation, Place, Shape, SpecModel, feature_slice

TYPE = "dropout"
SYMBOLS = ()
LAYOUTS = ("row",)
STREAM_DROPOUT = 1000  # the masks' seed streams: 1000 + l, apart from the data's and parameters'


class DropoutSpec(SpecModel):
    """``{type: dropout, rate: 0.5}``: the share of entries set to zero."""

    type: Literal["dropout"]
    rate: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


SPEC = DropoutSpec


def build(spec: DropoutSpec, in_shape: Shape, place: Place) -> Dropout:
    return Dropout(in_shape, place.layout, place.activation, place.options, rate=spec.rate, seed=place.seed,
                   l=place.l)


@lru_cache(maxsize=16)
def mask(seed: int, l: int, shape: Shape, rate: float) -> Array:
    """The mask of layer l for a batch of ``shape``: the same numbers whenever it is asked for."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_DROPOUT + l,)))
    kept = rng.random(shape) >= rate
    kept.flags.writeable = False
    return kept / (1 - rate)


@dataclass(frozen=True)
class Dropout(Layer):
    TYPE = TYPE
    QUANTITIES = ("mask",)
    CHANNEL_LOCAL = True
    rate: float
    seed: int
    l: int

    @property
    def out_shape(self) -> Shape:
        return self.in_shape

    def mask_for(self, a: Array) -> Array:
        """The mask for ``a``'s batch: samples and features (a leading stack of copies shares it)."""
        return mask(self.seed, self.l, a.shape[a.ndim - len(self.in_shape) - 1 :], self.rate)

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, Array]:
        m = self.mask_for(a)
        return a * m, m

    def backward(self, dz: Array, cache: Array) -> tuple[Array, dict[str, Array]]:
        return dz * cache, {}

    def forward_channels(self, a: Array, p: dict[str, Array], channels: slice) -> tuple[Array, Array, slice]:
        shape = a.shape[a.ndim - len(self.in_shape) - 1 :]
        whole = mask(self.seed, self.l, (shape[0], self.in_shape[0]) + shape[2:], self.rate)
        m = feature_slice(whole, len(self.in_shape), channels)
        return a * m, m, channels

    def quantities(self, l: int, cache: Array) -> dict[str, Array]:
        return {f"mask{l}": cache}

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return Equation(f"z{l}", f"{n.a(l - 1)} * mask{l}",
                        rf"{n.tex('z', l)} = {n.tex('a', l - 1)} \odot M^{{[{l}]}}", n.shape(l))

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        return [Equation(f"da{l - 1}", f"dz{l} * mask{l}",
                         rf"\frac{{\partial E}}{{\partial {n.tex('a', l - 1)}}} = \delta^{{[{l}]}} \odot M^{{[{l}]}}",
                         n.shape(l - 1))]
