"""maxpool2d: the largest value of each window, per channel (samples first).

    z[n, c, i, j] = max over u, v of a[n, c, s i + u, s j + v]

Backward: the whole of delta[n, c, i, j] goes to the position of its window's maximum (the first
one, in C order, when several are equal); overlapping windows add up. Where two values of a window
are equal, or come within a step of each other, E has a kink: the witness sees the maximum change
hands (``sides``) and judges that entry by its one-sided slopes, as for a ReLU.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import Array, Equation, Mistake, Notation, Place, Shape
from gradcheck_cli.network.layers.pooling import Pool, PoolSpec, build_pool, text
from gradcheck_cli.network.layers.windows import scatter, taps

TYPE = "maxpool2d"
SYMBOLS = ()
LAYOUTS = ("row",)


class Maxpool2dSpec(PoolSpec):
    """``{type: maxpool2d, size: 2}``: the stride defaults to the size."""

    type: Literal["maxpool2d"]


SPEC = Maxpool2dSpec


def build(spec: Maxpool2dSpec, in_shape: Shape, place: Place) -> Maxpool2d:
    return build_pool(Maxpool2d, spec, in_shape, place)


@dataclass(frozen=True)
class Maxpool2d(Pool):
    TYPE = TYPE

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, tuple]:
        read = taps(a, self.size, self.stride)
        if np.iscomplexobj(a):  # the complex step: the value whose real part is largest
            where = np.argmax(np.stack([t.real for t in read]), axis=0)
            z = np.choose(where, read)
        else:
            z = functools.reduce(np.maximum, read)
        return z, (a, z)

    def backward(self, dz: Array, cache: tuple) -> tuple[Array, dict[str, Array]]:
        a, z = cache
        da = np.zeros_like(a, dtype=dz.dtype)
        first = self._maxima(a, z).argmax(axis=0)  # the first maximum of each window, in C order
        for k, tap in enumerate(taps(da, self.size, self.stride)):  # views of da: overlapping windows add up
            tap += np.where(first == k, dz, 0.0)
        return da, {}

    def _maxima(self, a: Array, z: Array) -> Array:
        """For each kernel position, where it holds its window's maximum (taps x N x C x Ho x Wo)."""
        return np.stack([t.real == z.real for t in taps(a, self.size, self.stride)])

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        every = scatter(np.broadcast_to(dz[..., None, None], dz.shape + self.size), a.shape, self.stride)
        k = self.size[0] * self.size[1]
        return [Mistake("a", every, f"the max-pool gradient was sent to every position of its window; only each "
                        f"window's maximum receives it (multiply by maxmask(a{l - 1}, size={text(self.size)}))"),
                Mistake("a", every / k, "the max-pool gradient was averaged over the window (average pooling's "
                        "backward); it all goes to each window's maximum")]

    def input_sides(self, cache: tuple) -> list[Array]:
        """Where each window's maximum is: a kink wherever a step makes another value the largest
        (or a tie, two at once). Stacked copies keep their leading axis first."""
        maxima = self._maxima(*cache)
        return [np.moveaxis(maxima, 0, -1)]

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return self.pool_equation(l, n, "maxpool", r"\max")


    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        a = n.a(l - 1)
        formula = (f"upsample(dz{l}, size={text(self.size)}) * maxmask({a}, size={text(self.size)})"
                   if self.stride == self.size else f"unpool_max(dz{l}, {a}, {self.arguments()})")
        return [self.routed_back(l, n, formula, r"\text{to each window's maximum}")]
