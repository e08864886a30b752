"""What max and average pooling share: the spec keys (``size``, ``stride`` defaulting to the size),
the output size arithmetic, and their equations' common parts. Pooling has no parameters, no
padding and no activation; it acts on each channel of each sample alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from gradcheck_cli.network.layers.base import Equation, Layer, LayerProblem, Notation, Place, Shape, SpecModel
from gradcheck_cli.network.layers.windows import Pair, output_size, pair


class PoolSpec(SpecModel):
    size: Pair
    stride: Pair | None = None  # default: the size, windows side by side


@dataclass(frozen=True)
class Pool(Layer):
    CHANNEL_LOCAL = True  # each channel pooled alone
    size: tuple[int, int]
    stride: tuple[int, int]
    out_hw: tuple[int, int]

    @property
    def out_shape(self) -> Shape:
        return (self.in_shape[0],) + self.out_hw

    def arguments(self) -> str:
        """size=..., stride=... as the formula language's pooling functions take them."""
        return f"size={text(self.size)}, stride={text(self.stride)}"

    def pool_equation(self, l: int, n: Notation, function: str, operator: str) -> Equation:
        return Equation(f"z{l}", f"{function}({n.a(l - 1)}, {self.arguments()})",
                        rf"{n.tex('z', l)}_{{ncij}} = {operator}_{{u,v}} {n.tex('a', l - 1)}_{{n,c,{self.stride[0]}i+u,"
                        rf"{self.stride[1]}j+v}}", n.shape(l))

    def routed_back(self, l: int, n: Notation, formula: str, how: str) -> Equation:
        return Equation(f"da{l - 1}", formula, rf"\frac{{\partial E}}{{\partial {n.tex('a', l - 1)}}} = "
                        rf"\delta^{{[{l}]}}\ {how}", n.shape(l - 1))


P = TypeVar("P", bound=Pool)


def build_pool(kind: type[P], spec: PoolSpec, in_shape: Shape, place: Place) -> P:
    if len(in_shape) != 3:
        raise LayerProblem(f"pooling takes channels x height x width per sample, but its input is "
                           f"{' x '.join(map(str, in_shape))}", "pool before any flatten or dense layer")
    size = pair(spec.size)
    stride = size if spec.stride is None else pair(spec.stride)
    out_hw = tuple(output_size(in_shape[1 + k], size[k], stride[k], 0, axis, "window")
                   for k, axis in enumerate(("height", "width")))
    return kind(in_shape, place.layout, place.activation, place.options, size=size, stride=stride,
                out_hw=out_hw)  # type: ignore[call-arg]


def text(pair_: tuple[int, int]) -> str:
    """An int when both axes agree (as a spec would write it), else (h, w)."""
    return str(pair_[0]) if pair_[0] == pair_[1] else f"({pair_[0]}, {pair_[1]})"
