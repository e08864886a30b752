"""avgpool2d: the mean of each window, per channel (samples first).

    z[n, c, i, j] = 1/(kh kw) sum over u, v of a[n, c, s i + u, s j + v]

Backward: each delta[n, c, i, j] is spread evenly over its window, 1/(kh kw) to every position;
overlapping windows add up. Smooth: no kinks of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import Array, Equation, Notation, Place, Shape
from gradcheck_cli.network.layers.pooling import Pool, PoolSpec, build_pool
from gradcheck_cli.network.layers.windows import scatter, taps

TYPE = "avgpool2d"
SYMBOLS = ()
LAYOUTS = ("row",)


class Avgpool2dSpec(PoolSpec):
    """``{type: avgpool2d, size: 2}``: the stride defaults to the size."""

    type: Literal["avgpool2d"]


SPEC = Avgpool2dSpec


def build(spec: Avgpool2dSpec, in_shape: Shape, place: Place) -> Avgpool2d:
    return build_pool(Avgpool2d, spec, in_shape, place)


@dataclass(frozen=True)
class Avgpool2d(Pool):
    TYPE = TYPE

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, tuple]:
        return sum(taps(a, self.size, self.stride)) / (self.size[0] * self.size[1]), a.shape

    def backward(self, dz: Array, cache: tuple) -> tuple[Array, dict[str, Array]]:
        share = dz / (self.size[0] * self.size[1])
        shares = np.broadcast_to(share[..., None, None], share.shape + self.size)
        return scatter(shares, cache, self.stride), {}

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return self.pool_equation(l, n, "avgpool", rf"\tfrac{{1}}{{{self.size[0] * self.size[1]}}}\sum")

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        return [self.routed_back(l, n, f"upsample(dz{l}, {self.arguments()}) / {self.size[0] * self.size[1]}",
                                 r"\text{spread evenly over each window}")]
