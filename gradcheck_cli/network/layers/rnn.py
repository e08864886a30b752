"""rnn: the vanilla recurrent layer (cs231n's ``rnn_step_forward``/``rnn_forward``).

    s_t = x_t Wx + h_(t-1) Wh + b,     h_t = f(s_t)        (f: ``activation:``, tanh by default)

Wx is D x H, Wh is H x H, b has H entries. Backpropagation through time, t = T .. 1:

    dh_t  = dE/dh_t from the layer's output + ds_(t+1) Wh^T     (both paths; ds_(T+1) = 0)
    ds_t  = dh_t * f'(s_t)
    dWx   = sum_t x_t^T ds_t,   dWh = sum_t h_(t-1)^T ds_t,   db = sum over samples and steps of ds_t
    dx_t  = ds_t Wx^T,          dh_0 = ds_1 Wh^T

A relu recurrence has kinks: every s_t is compared as a ReLU layer's z is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.activations import ACTIVATIONS, Activation, tex_name
from gradcheck_cli.network.layers.base import ActivationSpec, Array, Equation, Notation, Place, Shape
from gradcheck_cli.network.layers.recurrent import (
    Recurrent,
    RecurrentSpec,
    Steps,
    build_recurrent,
    inner_activation,
)
from gradcheck_cli.network.layers.recurrent_equations import recurrent_backward, recurrent_forward

TYPE = "rnn"
SYMBOLS = ("Wx", "Wh", "b", "h0_")
LAYOUTS = ("row",)


class RnnSpec(RecurrentSpec, ActivationSpec):
    """``{type: rnn, units: 8, activation: tanh}``: the recurrence's own activation (and alpha)."""

    type: Literal["rnn"]
    activation: str = "tanh"


SPEC = RnnSpec


def build(spec: RnnSpec, in_shape: Shape, place: Place) -> Rnn:
    return build_recurrent(Rnn, spec, in_shape, place, inner=inner_activation(place.activation.name))


@dataclass(frozen=True)
class Rnn(Recurrent):
    TYPE = TYPE
    BLOCKS = 1
    SIDES = ("s",)
    QUANTITIES = ("h", "s")
    inner: Activation = ACTIVATIONS["tanh"]

    def cell(self, xw: Array, hw: Array, h: Array, state: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        s = xw + hw
        return self.inner.forward(s, self.options), {"s": s}

    def backward(self, dz: Array, cache: tuple[Array, dict[str, Array], Steps]) -> tuple[Array, dict[str, Array]]:
        a, p, steps = cache
        dh_out = self.full_dh(dz)
        ds = np.empty_like(dh_out)
        dnext = np.zeros_like(dh_out[:, 0])  # the path from h_(t+1) back into h_t
        for t in range(self.steps - 1, -1, -1):
            dh = dh_out[:, t] + dnext
            ds[:, t] = self.inner.backward(dh, steps.inner["s"][:, t], steps.h[:, t], self.options)
            dnext = ds[:, t] @ p["Wh"].T
        return self.gradients(a, p, steps, ds, ds, dnext)

    def sides(self, steps: Steps) -> list[Array]:
        return [steps.inner["s"].real > 0] if self.inner.kinked else []

    def forward_equation(self, l: int, n: Notation) -> Equation:
        step_tex = rf"x_t W_x^{{[{l}]}} + h_{{t-1}} W_h^{{[{l}]}} + b^{{[{l}]}}"
        return recurrent_forward(self, l, n, f"{self.inner.name}(x_t Wx{l} + h_(t-1) Wh{l} + b{l})",
                                 rf"{tex_name(self.inner.name)}({step_tex})")

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        return recurrent_backward(self, l, n, l2, steps=[
            ("ds_t", f"dh_t * {self.inner.name}'(s_t)", rf"ds_t = dh_t \odot {tex_name(self.inner.name)}'(s_t)"),
        ], through="ds_(t+1) Wh^T", through_tex=r"ds_{t+1} (W_h)^\top", to_params="ds_t")
