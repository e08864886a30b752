"""What the recurrent layer types share (rnn, lstm, gru): the sequence they run over, the initial
state, what they pass on, and backpropagation through time's contract (``bptt``).

A recurrent layer takes one sequence per sample, T steps of D features (``input: [T, D]``: x is
N x T x D), and computes a hidden state h_t for t = 1..T from x_t and h_(t-1):

    xw_t = x_t Wx + b        (every step's input part at once: one product over the sequence)
    hw_t = h_(t-1) Wh        (the recurrent part, step by step)
    h_t  = cell(xw_t, hw_t, h_(t-1), c_(t-1))      (each type's module: rnn.py, lstm.py, gru.py)

The gates of a step are blocks of H columns of Wx, Wh and b, in each type's order. ``return:
sequence`` (default) passes on h_1..h_T (N x T x H), so a dense layer after it applies at every
step; ``return: last`` passes on h_T alone (N x H: many-to-one). h_0 is zeros, or with
``initial_state: learned`` the parameter h0_<l> (N x H, one initial state per sample, as cs231n's
h0); LSTM's c_0 is zeros.

Backward is backpropagation through time, written in each type's module: from t = T down to 1,
dh_t is the gradient of E with respect to h_t through both of its paths, the layer's own output at
step t and the next step h_(t+1). That total is what the derivation name ``dh<l>`` means.

The recurrence is the layer's own, so the network loop sees no activation on these layers (z<l> =
a<l> = the hidden states); rnn's ``activation:`` is the nonlinearity inside the recurrence.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.layers.base import (
    Array,
    Layer,
    LayerProblem,
    Parameter,
    Place,
    PositiveInt,
    Shape,
    SpecModel,
)
from gradcheck_cli.network.layers.recurrent_mistakes import BpttMistakes
from gradcheck_cli.network.layers.recurrent_stacks import RecurrentStacks
from gradcheck_cli.network.layers.recurrent_steps import Bptt, Hidden, Inputs, Steps, earlier


class RecurrentSpec(SpecModel):
    """The keys every recurrent type takes: ``{type: lstm, units: 6, return: last}``."""

    units: PositiveInt
    returns: Literal["sequence", "last"] = Field("sequence", alias="return")
    initial_state: Literal["zeros", "learned"] = "zeros"


def check_sequence_input(kind: str, in_shape: Shape) -> None:
    """A recurrent layer needs T x D per sample, in row layout: say what to change otherwise."""
    if len(in_shape) != 2:
        got = " x ".join(map(str, in_shape))
        hint = ("give the input as [steps, features] (input: [T, D]), and put no flatten before it"
                if len(in_shape) == 1 else "a recurrent layer takes sequences; it cannot follow a convolution")
        raise LayerProblem(f"a {kind} layer takes one sequence of T steps x D features per sample, but its input is "
                           f"{got} per sample", hint)


def reference_keys(shapes: dict[str, tuple[int, ...]]) -> dict[str, object]:
    """The keys ``gradcheck layer``'s reference takes from the arrays given (every recurrent type's):
    units from Wh, and a learned initial state when h0 is one of them."""
    if "Wh" not in shapes:
        return {}
    return {"units": shapes["Wh"][0], "initial_state": "learned" if "h0_" in shapes else "zeros"}


def build_recurrent(cls: type[Recurrent], spec: RecurrentSpec, in_shape: Shape, place: Place,
                    **extra: Any) -> Any:
    """A recurrent layer of class ``cls`` from its entry: its input checked, no network-level activation
    (the recurrence is the layer's own)."""
    check_sequence_input(cls.TYPE, in_shape)
    return cls(in_shape, place.layout, ACTIVATIONS["identity"], place.options, units=spec.units, returns=spec.returns,
               initial_state=spec.initial_state, batch=place.batch, **extra)


@dataclass(frozen=True)
class Recurrent(RecurrentStacks, BpttMistakes, Layer):
    """A layer computing h_1..h_T by a recurrence; each type gives its cell and its BPTT. Its witness
    stacks (``recurrent_stacks.py``) and classic mistakes (``recurrent_mistakes.py``) are mixed in."""

    BLOCKS: ClassVar[int]  # gates stacked in the columns of Wx, Wh and b
    GATES: ClassVar[tuple[str, ...]] = ()  # their names, in the spec's order
    INPUT_BIAS: ClassVar[str] = "b"  # the bias added to the input part (gru: bx)
    HIDDEN_BIAS: ClassVar[str | None] = None  # one added to the recurrent part (gru: bh, inside r * (...))
    QUANTITIES = ("h",)  # h<l>, then the step quantities (``Steps.inner``) derivations may read
    SIDES: ClassVar[tuple[str, ...]] = ()  # the step quantities ``sides`` reads
    THROUGH: ClassVar[str]  # what flows back into dh_t from step t + 1, as explain and diagnoses write it
    units: int
    returns: str  # sequence | last
    initial_state: str  # zeros | learned
    batch: int

    @property
    def steps(self) -> int:
        return self.in_shape[0]

    @property
    def features(self) -> int:
        return self.in_shape[1]

    @property
    def out_shape(self) -> Shape:
        return (self.steps, self.units) if self.returns == "sequence" else (self.units,)

    def parameters(self) -> tuple[Parameter, ...]:
        D, H, G = self.features, self.units, self.BLOCKS * self.units
        gates = f" (gates {', '.join(self.GATES)}, H columns each)" if self.GATES else ""
        out = [Parameter("Wx", (D, G), "weights", fan_in=D, l2=True, shape_hint=f"Wx is features x {G}{gates}"),
               Parameter("Wh", (H, G), "weights", fan_in=H, l2=True, shape_hint=f"Wh is units x {G}{gates}")]
        out += [Parameter(symbol, (G,), "biases") for symbol in self.biases()]
        if self.initial_state == "learned":
            out.append(Parameter("h0_", (self.batch, H), "biases",
                                 shape_hint="h0 is samples x units: one initial state per sample"))
        return tuple(out)

    def biases(self) -> tuple[str, ...]:
        return (self.INPUT_BIAS,) + ((self.HIDDEN_BIAS,) if self.HIDDEN_BIAS else ())

    # --- the recurrence, which every type's cell plugs into

    def input_part(self, a: Array, p: dict[str, Array]) -> Array:
        """xw_t = x_t Wx + b for every step at once: (..., N, T, G)."""
        return a @ p["Wx"] + p[self.INPUT_BIAS]

    def hidden_part(self, h: Array, p: dict[str, Array]) -> Array:
        """hw_t = h_(t-1) Wh (+ bh): (..., N, G)."""
        hw = h @ p["Wh"]
        if self.HIDDEN_BIAS:
            hw += p[self.HIDDEN_BIAS]
        return hw

    def initial(self, a: Array, p: dict[str, Array]) -> Array:
        """h_0: zeros, or h0_<l>; for a stack of inputs one per member."""
        shape = a.shape[:-2] + (self.units,)
        if self.initial_state == "learned":
            return np.broadcast_to(p["h0_"], shape).astype(np.result_type(a, p["h0_"]))
        return np.zeros(shape, dtype=np.result_type(a, float))

    @abstractmethod
    def cell(self, xw: Array, hw: Array, h: Array, state: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        """h_t and this step's quantities from xw_t, hw_t, h_(t-1) and the previous step's quantities
        (an LSTM's c_(t-1) among them; empty at t = 1). hw_t is a new array of this step's: the cell
        may compute in it (xw_t may be shared by the steps or the copies, and is only read)."""

    def run(self, xw_at: Inputs, h0: Array, hidden: Hidden, keep: tuple[str, ...] | None = None, start: int = 0,
            state: dict[str, Array] | None = None) -> Steps:
        """The recurrence over the T steps (any leading axes: a stack of perturbed copies). ``keep``: the
        step quantities to keep (all when None; a stack keeps only what its kink sides need). From step
        ``start`` on, ``h0`` and ``state`` being step ``start``'s h_(t-1) and quantities, the steps
        before it left out of the result."""
        h, state, hs, inner = h0, state or {}, [], {}
        for t in range(start, self.steps):
            h, state = self.cell(xw_at(t), hidden(h), h, state)
            hs.append(h)
            for name, value in state.items():
                if keep is None or name in keep:
                    inner.setdefault(name, []).append(value)
        return Steps(h0, np.stack(hs, axis=-2), {name: np.stack(v, axis=-2) for name, v in inner.items()})

    def output(self, steps: Steps) -> Array:
        return steps.h if self.returns == "sequence" else steps.h[..., -1, :]

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, tuple[Array, dict[str, Array], Steps]]:
        xw = self.input_part(a, p)
        steps = self.run(lambda t: xw[..., t, :], self.initial(a, p), lambda h: self.hidden_part(h, p))
        return self.output(steps), (a, p, steps)

    def backward(self, dz: Array, cache: tuple[Array, dict[str, Array], Steps]) -> tuple[Array, dict[str, Array]]:
        a, p, steps = cache
        return self.gradients(a, p, steps, self.bptt(self.full_dh(dz), steps, p))

    @abstractmethod
    def bptt(self, dh_out: Array, steps: Steps, p: dict[str, Array], carry: bool = True,
             order: tuple[int, ...] | None = None) -> Bptt:
        """Backpropagation through time from dE/dh_t of the layer's output alone (N x T x H). The two
        keywords make the classic mistakes ``mistakes`` tries: ``carry=False`` leaves out what flows
        back from step t + 1, ``order`` stacks the gates' gradients in another order."""

    def stack(self, blocks: list[Array], order: tuple[int, ...] | None) -> Array:
        """The gates' gradients side by side, in the spec's order (or ``order``, a mistake's)."""
        return np.concatenate([blocks[k] for k in order or range(len(blocks))], axis=-1)

    def full_dh(self, dz: Array) -> Array:
        """dE/dh_t from the layer's output alone (N x T x H): zero but at T for ``return: last``."""
        if self.returns == "sequence":
            return dz
        dh = np.zeros(dz.shape[:-1] + (self.steps, self.units), dtype=dz.dtype)
        dh[..., -1, :] = dz
        return dh

    def previous(self, steps: Steps) -> Array:
        """h_(t-1) for every t: h_0 .. h_(T-1), (N, T, H)."""
        return earlier(steps.h0, steps.h)

    def gradients(self, a: Array, p: dict[str, Array], steps: Steps, bp: Bptt) -> tuple[Array, dict[str, Array]]:
        """dE/dx and the parameters' gradients from dE/dxw_t and dE/dhw_t of every step (N, T, G) and
        dE/dh_0: the products summed over samples and steps, as for a dense layer at every step."""
        D, G = self.features, bp.dxw.shape[-1]
        grads = {"Wx": a.reshape(-1, D).T @ bp.dxw.reshape(-1, G),
                 "Wh": self.previous(steps).reshape(-1, self.units).T @ bp.dhw.reshape(-1, G),
                 self.INPUT_BIAS: bp.dxw.sum(axis=(0, 1))}
        if self.HIDDEN_BIAS:
            grads[self.HIDDEN_BIAS] = bp.dhw.sum(axis=(0, 1))
        if self.initial_state == "learned":
            grads["h0_"] = bp.dh0
        return bp.dxw @ p["Wx"].T, grads

    def quantities(self, l: int, cache: Any) -> dict[str, Array]:
        steps: Steps = cache[2]
        return {f"h{l}": steps.h, **{f"{name}{l}": steps.inner[name] for name in self.QUANTITIES[1:]}}

def inner_activation(name: str) -> Any:
    """The nonlinearity of a recurrence: an element-wise activation (softmax couples the units)."""
    if name == "softmax":
        raise LayerProblem("a recurrence's activation must act on each unit alone; softmax couples them",
                           "use tanh (the usual one), relu or another element-wise activation", key="activation")
    return ACTIVATIONS[name]
