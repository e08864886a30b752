"""dense: the fully connected layer of seeds 000-004, in both layouts.

Column layout (seeds 000-003): samples are columns, ``z = W @ a + b`` with W units x inputs and
b units x 1 (or one number shared by the layer). Its backward pass:

    dW = dz @ a^T,   db = sum(dz, axis=1),   da_prev = W^T @ dz.

Row layout (seed 004, cs231n): samples are rows, ``z = a @ W + b`` with W inputs x units and b
1 x units:

    dW = a^T @ dz,   db = sum(dz, axis=0),   da_prev = dz @ W^T.

In row layout the layer also takes a sequence, N x T x inputs, and applies the same W and b at every
step (cs231n's temporal affine layer); its gradients then sum over the samples and the steps.

Both layouts are written out on purpose rather than one derived from the other by transposes: a
spec in either layout then exercises its own code, and the tests compare the two. The forward also
runs on a stack of networks with a leading axis (the fast witness's perturbed copies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import (
    ActivationSpec,
    Array,
    Equation,
    Layer,
    LayerProblem,
    Notation,
    Parameter,
    Place,
    PositiveInt,
    Shape,
    stacked,
)

TYPE = "dense"
SYMBOLS = ("W", "b")  # its parameters' names without the layer index
LAYOUTS = ("column", "row")
Cache = tuple[Array, Array, Array | None]


class DenseSpec(ActivationSpec):
    """``{units: 10}``: ``type: dense`` is the default."""

    type: Literal["dense"] = "dense"
    units: PositiveInt
    bias: Literal["per_unit", "shared", "none"] = "per_unit"


SPEC = DenseSpec


def reference_keys(shapes: dict[str, tuple[int, ...]]) -> dict[str, object]:
    """The keys ``gradcheck layer``'s reference takes from the arrays given for W and b: units, and
    bias none when there is no b."""
    return {"units": shapes["W"][-1], **({} if "b" in shapes else {"bias": "none"})} if "W" in shapes else {}


def build(spec: DenseSpec, in_shape: Shape, place: Place) -> Dense:
    sequence = len(in_shape) == 2 and place.layout.name == "row"  # T x D: the same layer at every step
    if len(in_shape) != 1 and not sequence:
        raise LayerProblem(f"a dense layer takes one vector per sample, but its input is "
                           f"{' x '.join(map(str, in_shape))} per sample", "put {type: flatten} before it")
    return Dense(in_shape, place.layout, place.activation, place.options, units=spec.units, bias=spec.bias)


def bias_gradient(dz: Array, b: Array | None, sample_axis: int) -> Array | None:
    """db: dz summed over the samples, and also over the units when the bias is shared (a scalar)."""
    if b is None:
        return None
    if b.ndim == 0:
        return np.asarray(dz.sum())
    return dz.sum(axis=sample_axis, keepdims=True)


def column_forward(a: Array, W: Array, b: Array | None) -> tuple[Array, Cache]:
    z = W @ a
    if b is not None:
        z = z + b
    return z, (a, W, b)


def column_backward(dz: Array, cache: Cache) -> tuple[Array, Array, Array | None]:
    a, W, b = cache
    dW = dz @ a.T
    return W.T @ dz, dW, bias_gradient(dz, b, sample_axis=1)


def row_forward(a: Array, W: Array, b: Array | None) -> tuple[Array, Cache]:
    z = a @ W
    if b is not None:
        z = z + b
    return z, (a, W, b)


def row_backward(dz: Array, cache: Cache) -> tuple[Array, Array, Array | None]:
    """Also at every step of a sequence (a and dz N x T x ...): the sums then run over the steps too."""
    a, W, b = cache
    a_rows, dz_rows = a.reshape(-1, a.shape[-1]), dz.reshape(-1, dz.shape[-1])
    dW = a_rows.T @ dz_rows
    return dz @ W.T, dW, bias_gradient(dz_rows, b, sample_axis=0)


@dataclass(frozen=True)
class Dense(Layer):
    TYPE = TYPE
    units: int
    bias: str  # per_unit | shared | none

    @property
    def column(self) -> bool:
        return self.layout.name == "column"

    @property
    def per_step(self) -> bool:
        """Whether the layer applies at every step of a sequence (its input T x inputs per sample)."""
        return len(self.in_shape) == 2

    @property
    def out_shape(self) -> Shape:
        return self.in_shape[:-1] + (self.units,)  # (units,), or (T, units) at every step of a sequence

    def parameters(self) -> tuple[Parameter, ...]:
        inputs = self.in_shape[-1]
        W = Parameter("W", (self.units, inputs) if self.column else (inputs, self.units), "weights", fan_in=inputs,
                      l2=True, shape_hint=f"in {self.layout.name} layout W is "
                      + ("units x inputs" if self.column else "inputs x units"))
        if self.bias == "none":
            return (W,)
        shape = () if self.bias == "shared" else (self.units, 1) if self.column else (1, self.units)
        return W, Parameter("b", shape, "biases")

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, Cache]:
        return (column_forward if self.column else row_forward)(a, p["W"], p.get("b"))

    def backward(self, dz: Array, cache: Cache) -> tuple[Array, dict[str, Array]]:
        da, dW, db = (column_backward if self.column else row_backward)(dz, cache)
        return da, {"W": dW} if db is None else {"W": dW, "b": db}

    def perturbed(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array, p: dict[str, Array],
                  z: Array, channel: int | None = None) -> Array:
        """z is affine in each entry: W[unit, input] (column) or W[input, unit] (row) adds delta times
        that input's row of a to the unit; a bias adds delta to its unit (to all units if shared)."""
        members = np.arange(len(deltas))
        if symbol == "b" and not index:
            return z[None] + deltas.reshape((-1,) + (1,) * z.ndim)
        if channel is not None:  # row layout, one unit kept
            z = z[..., channel : channel + 1]
        out = stacked(z, deltas)
        unit = index[0] if self.column else (index[1] if channel is None else np.zeros(len(deltas), dtype=int))
        if symbol == "W":  # that input of every sample (and step), per member: (P, m) or (P, m, T)
            inputs = a[index[1], :] if self.column else np.moveaxis(a[..., index[0]], -1, 0)
            change = deltas.reshape((-1,) + (1,) * (inputs.ndim - 1)) * inputs
        else:
            change = deltas.reshape((-1,) + (1,) * (z.ndim - 1))
        if self.column:
            out[members, unit, :] += change
        else:
            out[members, ..., unit] += change
        return out

    def channel_of(self, symbol: str, index: tuple[Array, ...]) -> Array | None:
        # a unit's weights and bias: that unit only; not at the steps of a sequence, whose features are its
        # last axis where the witness's one-feature stacks take a sample's first (feature_slice)
        return index[1] if index and not self.column and not self.per_step else None

    def change_from(self, delta_a: Array, channels: slice, p: dict[str, Array]) -> Array | None:
        return None if self.column else delta_a @ p["W"][channels]

    def forward_equation(self, l: int, n: Notation) -> Equation:
        bias = "" if self.bias == "none" else f" + b{l}"
        bias_tex = "" if self.bias == "none" else f" + {n.tex('b', l)}"
        product = f"W{l} @ {n.a(l - 1)}" if self.column else f"{n.a(l - 1)} @ W{l}"
        product_tex = (f"{n.tex('W', l)} {n.tex('a', l - 1)}" if self.column
                       else f"{n.tex('a', l - 1)} {n.tex('W', l)}")
        return Equation(f"z{l}", product + bias, f"{n.tex('z', l)} = {product_tex}{bias_tex}", n.shape(l))

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        a, tex, column, units, inputs = n.a(l - 1), n.tex, self.column, self.units, self.in_shape[-1]
        penalty, penalty_tex = (f" + l2 * W{l}", rf" + \lambda {tex('W', l)}") if l2 else ("", "")
        dW = (f"dz{l} @ {a}.T" if column else f"sum(transpose({a}, axes=(0, 2, 1)) @ dz{l}, axis=0)" if self.per_step
              else f"{a}.T @ dz{l}")
        dW_tex = (rf"\delta^{{[{l}]}} ({tex('a', l - 1)})^\top" if column
                  else rf"\sum_t ({tex('a', l - 1)}_t)^\top \delta^{{[{l}]}}_t" if self.per_step
                  else rf"({tex('a', l - 1)})^\top \delta^{{[{l}]}}")
        W_shape = f"{units} x {inputs}" if column else f"{inputs} x {units}"
        dW_of = rf"\frac{{\partial E}}{{\partial {tex('W', l)}}}"
        out = [Equation(f"dW{l}", dW + penalty, f"{dW_of} = {dW_tex}{penalty_tex}", W_shape)]
        if self.bias == "per_unit":
            axis = self.layout.sample_axis % 2
            summed = (f"sum(sum(dz{l}, axis=0), axis=0, keepdims=True)" if self.per_step
                      else f"sum(dz{l}, axis={axis}, keepdims=True)")
            out.append(Equation(f"db{l}", summed,
                                rf"\frac{{\partial E}}{{\partial {tex('b', l)}}} = \sum_{{\text{{samples}}}} "
                                rf"\delta^{{[{l}]}}", f"{units} x 1" if column else f"1 x {units}"))
        elif self.bias == "shared":
            out.append(Equation(f"db{l}", f"sum(dz{l})", rf"\frac{{\partial E}}{{\partial {tex('b', l)}}} = "
                                rf"\sum_{{\text{{units, samples}}}} \delta^{{[{l}]}}", "scalar"))
        da = f"W{l}.T @ dz{l}" if column else f"dz{l} @ W{l}.T"
        da_tex = rf"({tex('W', l)})^\top \delta^{{[{l}]}}" if column else rf"\delta^{{[{l}]}} ({tex('W', l)})^\top"
        out.append(Equation(f"da{l - 1}", da, rf"\frac{{\partial E}}{{\partial {tex('a', l - 1)}}} = {da_tex}",
                            n.shape(l - 1)))
        return out
