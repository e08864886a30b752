"""lstm: the long short-term memory layer, gates in cs231n's order i, f, o, g.

    v_t = x_t Wx + h_(t-1) Wh + b                       (N x 4H: four blocks of H columns)
    i = sigmoid(v_i),  f = sigmoid(v_f),  o = sigmoid(v_o),  g = tanh(v_g)
    c_t = f * c_(t-1) + i * g,     h_t = o * tanh(c_t),     c_0 = 0

Wx is D x 4H, Wh is H x 4H, b has 4H entries. Backpropagation through time, t = T .. 1, with
two quantities carried back from step t + 1 (cs231n's ``lstm_step_backward``):

    dh_t = dE/dh_t from the layer's output + dv_(t+1) Wh^T
    dc_t = dc_(t+1) * f_(t+1) + dh_t * o * (1 - tanh(c_t)^2)       (the total, as ``dc<l>`` means it)
    do = dh_t * tanh(c_t),  di = dc_t * g,  dg = dc_t * i,  df = dc_t * c_(t-1)
    dv_t = [di i (1 - i), df f (1 - f), do o (1 - o), dg (1 - g^2)]
    dWx = sum_t x_t^T dv_t,  dWh = sum_t h_(t-1)^T dv_t,  db = sum of dv_t,  dx_t = dv_t Wx^T
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import Array, Equation, Notation, Place, Shape
from gradcheck_cli.network.layers.recurrent import (
    Recurrent,
    RecurrentSpec,
    build_recurrent,
)
from gradcheck_cli.network.layers.recurrent import (
    reference_keys as reference_keys,  # the registry reads it from each type's module
)
from gradcheck_cli.network.layers.recurrent_equations import recurrent_backward, recurrent_forward
from gradcheck_cli.network.layers.recurrent_steps import Bptt, Steps, earlier, gate

TYPE = "lstm"
SYMBOLS = ("Wx", "Wh", "b", "h0_")
LAYOUTS = ("row",)
STATES = ("h", "c")  # d<state><l> of a derivation: dE/d(state) at every step, both paths


class LstmSpec(RecurrentSpec):
    """``{type: lstm, units: 6}``."""

    type: Literal["lstm"]


SPEC = LstmSpec


def build(spec: LstmSpec, in_shape: Shape, place: Place) -> Lstm:
    return build_recurrent(Lstm, spec, in_shape, place)


@dataclass(frozen=True)
class Lstm(Recurrent):
    TYPE = TYPE
    BLOCKS = 4
    GATES = ("i", "f", "o", "g")
    QUANTITIES = ("h", "c", "i", "f", "o", "g")  # h<l>, then the step quantities by these names

    def cell(self, xw: Array, hw: Array, h: Array, state: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        H = self.units
        v = hw  # the step's own array (``Recurrent.cell``): every gate is computed in it
        v += xw
        v[..., 3 * H :] *= 2  # tanh(u) = 2 sigmoid(2u) - 1: one exponential pass for all four blocks
        gate(v, out=v)
        i, f, o = v[..., :H], v[..., H : 2 * H], v[..., 2 * H : 3 * H]
        g = v[..., 3 * H :] * 2
        g -= 1
        c = i * g
        if state:  # c_0 = 0
            c += f * state["c"]
        h = np.tanh(c)
        h *= o
        return h, {"i": i, "f": f, "o": o, "g": g, "c": c}

    STATES = STATES
    THROUGH = "dv_(t+1) Wh^T"

    def moved(self, kind: str, h: Array, state: dict[str, Array], delta: Array) -> tuple[Array, dict[str, Array]]:
        """c_t moved moves h_t = o * tanh(c_t) with it: dc<l> is the total through both."""
        if kind != "c":
            return super().moved(kind, h, state, delta)
        c = state["c"] + delta
        return state["o"] * np.tanh(c), {**state, "c": c}

    def bptt(self, dh_out: Array, steps: Steps, p: dict[str, Array], carry: bool = True,
             order: tuple[int, ...] | None = None, carry_c: bool = True, forget_with: Array | None = None) -> Bptt:
        """dv_t for every t (it is both dxw_t and dhw_t), with dh_t and dc_t. ``forget_with`` is what df
        multiplies (c_(t-1)) and ``carry_c`` whether dc_(t+1) f_(t+1) flows back: the mistakes of
        ``own_mistakes``."""
        q = steps.inner
        c_prev = earlier(np.zeros_like(q["c"][:, 0]), q["c"]) if forget_with is None else forget_with
        dv = np.empty(dh_out.shape[:-1] + (4 * self.units,))
        dh, dc = np.empty_like(dh_out), np.empty_like(dh_out)
        dnext_h = np.zeros_like(dh_out[:, 0])
        dnext_c = np.zeros_like(dh_out[:, 0])  # dc_(t+1) * f_(t+1)
        for t in range(self.steps - 1, -1, -1):
            i, f, o, g, c = (q[k][:, t] for k in ("i", "f", "o", "g", "c"))
            dh[:, t] = dh_out[:, t] + dnext_h if carry else dh_out[:, t]
            tanh_c = np.tanh(c)
            dc[:, t] = dh[:, t] * o * (1 - tanh_c**2)
            if carry and carry_c:
                dc[:, t] += dnext_c
            dv[:, t] = self.stack([dc[:, t] * g * i * (1 - i), dc[:, t] * c_prev[:, t] * f * (1 - f),
                                   dh[:, t] * tanh_c * o * (1 - o), dc[:, t] * i * (1 - g**2)], order)
            dnext_h, dnext_c = dv[:, t] @ p["Wh"].T, dc[:, t] * f
        return Bptt(dv, dv, dnext_h, {"h": dh, "c": dc})

    def own_mistakes(self, dh_out: Array, steps: Steps, p: dict[str, Array]) -> list[tuple[Bptt, str]]:
        return [(self.bptt(dh_out, steps, p, forget_with=steps.inner["c"]),
                 "the forget gate is applied to c_t: df = dc_t * c_(t-1), the cell state it multiplies (c_0 = 0)"),
                (self.bptt(dh_out, steps, p, carry_c=False),
                 "the path through c_(t+1) is dropped: dc_t = dh_t * o * (1 - tanh(c_t)^2) + dc_(t+1) * f_(t+1)")]

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return recurrent_forward(self, l, n, "o * tanh(c_t), c_t = f * c_(t-1) + i * g, [i f o g] from "
                                 f"x_t Wx{l} + h_(t-1) Wh{l} + b{l}",
                                 r"o \odot \tanh(c_t),\ c_t = f \odot c_{t-1} + i \odot g")

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        return recurrent_backward(self, l, n, l2, steps=[
            ("dc_t", "dc_(t+1) * f_(t+1) + dh_t * o * (1 - tanh(c_t) ** 2)",
             r"dc_t = dc_{t+1} \odot f_{t+1} + dh_t \odot o \odot (1 - \tanh^2 c_t)"),
            ("dv_t", "[dc_t g i (1 - i), dc_t c_(t-1) f (1 - f), dh_t tanh(c_t) o (1 - o), dc_t i (1 - g ** 2)]",
             r"dv_t = [dc_t g\, i(1 - i),\ dc_t c_{t-1} f(1 - f),\ dh_t \tanh(c_t)\, o(1 - o),\ dc_t i(1 - g^2)]"),
        ], through_tex=r"dv_{t+1} (W_h)^\top", to_params="dv_t")
