"""layernorm: layer normalisation, each sample normalised over all its own features.

On N x D input over the D features, gamma and beta per feature; on N x C x H x W input over
(C, H, W) with gamma and beta per channel (torch's GroupNorm with one group). The equations and the
backward are in ``normalising.py``; samples stay independent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gradcheck_cli.network.layers.base import Place, Shape
from gradcheck_cli.network.layers.normalising import Normalising, NormSpec, check_not_sequence

TYPE = "layernorm"
SYMBOLS = ("gamma", "beta")
LAYOUTS = ("row",)


class LayernormSpec(NormSpec):
    """``{type: layernorm}``."""

    type: Literal["layernorm"]


SPEC = LayernormSpec


def build(spec: LayernormSpec, in_shape: Shape, place: Place) -> Layernorm:
    check_not_sequence(TYPE, in_shape)
    return Layernorm(in_shape, place.layout, place.activation, place.options, epsilon=spec.epsilon)


@dataclass(frozen=True)
class Layernorm(Normalising):
    TYPE = TYPE

    @property
    def axes(self) -> tuple[int, ...]:
        return tuple(range(-len(self.in_shape), 0))  # all of one sample's features
