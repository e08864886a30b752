"""batchnorm: batch normalisation in training mode, with the batch's own statistics (biased
variance), as cs231n's ``batchnorm_forward`` and torch's training mode compute it.

On N x D input each feature is normalised over the samples; on N x C x H x W input each channel
over the samples and positions (spatial batchnorm), with gamma and beta per channel. The equations
and the backward are in ``normalising.py``. Every sample's output depends on the whole batch, so
the registry marks it as mixing samples: no witness takes the per-sample shortcut through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gradcheck_cli.network.layers.base import Array, Place, Shape
from gradcheck_cli.network.layers.normalising import Normalising, NormSpec, check_not_sequence

TYPE = "batchnorm"
SYMBOLS = ("gamma", "beta")
LAYOUTS = ("row",)


class BatchnormSpec(NormSpec):
    """``{type: batchnorm, epsilon: 1.0e-5}``."""

    type: Literal["batchnorm"]


SPEC = BatchnormSpec


def build(spec: BatchnormSpec, in_shape: Shape, place: Place) -> Batchnorm:
    check_not_sequence(TYPE, in_shape)
    return Batchnorm(in_shape, place.layout, place.activation, place.options, epsilon=spec.epsilon)


@dataclass(frozen=True)
class Batchnorm(Normalising):
    TYPE = TYPE
    MIXES_SAMPLES = True
    CHANNEL_LOCAL = True  # each channel normalised over the samples and positions, with its own gamma, beta

    def forward_channels(self, a: Array, p: dict[str, Array], channels: slice) -> tuple[Array, tuple, slice]:
        return (*self.forward(a, {"gamma": p["gamma"][channels], "beta": p["beta"][channels]}), channels)

    @property
    def axes(self) -> tuple[int, ...]:
        rank = len(self.in_shape) + 1
        return tuple(k - rank for k in (0,) + tuple(range(2, rank)))  # samples (and positions)
