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
from gradcheck_cli.network.layers.recurrent import Recurrent, RecurrentSpec, Steps, build_recurrent, earlier, gate
from gradcheck_cli.network.layers.recurrent_equations import recurrent_backward, recurrent_forward

TYPE = "lstm"
SYMBOLS = ("Wx", "Wh", "b", "h0_")
LAYOUTS = ("row",)


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
        v = xw + hw
        i, f, o = np.split(gate(v[..., : 3 * H]), 3, axis=-1)
        g = np.tanh(v[..., 3 * H :])
        c = i * g
        if state:  # c_0 = 0
            c += f * state["c"]
        h = np.tanh(c)
        h *= o
        return h, {"i": i, "f": f, "o": o, "g": g, "c": c}

    def backward(self, dz: Array, cache: tuple[Array, dict[str, Array], Steps]) -> tuple[Array, dict[str, Array]]:
        a, p, steps = cache
        q = steps.inner
        dh_out = self.full_dh(dz)
        c_prev = earlier(np.zeros_like(q["c"][:, 0]), q["c"])
        dv = np.empty(dh_out.shape[:-1] + (4 * self.units,))
        dnext_h = np.zeros_like(dh_out[:, 0])
        dnext_c = np.zeros_like(dh_out[:, 0])  # dc_(t+1) * f_(t+1)
        for t in range(self.steps - 1, -1, -1):
            i, f, o, g, c = (q[k][:, t] for k in ("i", "f", "o", "g", "c"))
            dh = dh_out[:, t] + dnext_h
            tanh_c = np.tanh(c)
            dc = dnext_c + dh * o * (1 - tanh_c**2)
            dv[:, t] = np.concatenate([dc * g * i * (1 - i), dc * c_prev[:, t] * f * (1 - f),
                                       dh * tanh_c * o * (1 - o), dc * i * (1 - g**2)], axis=-1)
            dnext_h, dnext_c = dv[:, t] @ p["Wh"].T, dc * f
        return self.gradients(a, p, steps, dv, dv, dnext_h)

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
        ], through="dv_(t+1) Wh^T", through_tex=r"dv_{t+1} (W_h)^\top", to_params="dv_t")
