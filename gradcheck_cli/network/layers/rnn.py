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
    build_recurrent,
    inner_activation,
)
from gradcheck_cli.network.layers.recurrent import (
    reference_keys as reference_keys,  # the registry reads it from each type's module
)
from gradcheck_cli.network.layers.recurrent_equations import recurrent_backward, recurrent_forward
from gradcheck_cli.network.layers.recurrent_steps import Bptt, Steps, earlier

TYPE = "rnn"
SYMBOLS = ("Wx", "Wh", "b", "h0_")
LAYOUTS = ("row",)
STATES = ("h",)  # d<state><l> of a derivation: dE/d(state) at every step, both paths


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
    THROUGH = "ds_(t+1) Wh^T"
    STATES = STATES
    QUANTITIES = ("h", "s")
    inner: Activation = ACTIVATIONS["tanh"]

    def cell(self, xw: Array, hw: Array, h: Array, state: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        s = xw + hw
        return self.inner.forward(s, self.options), {"s": s}

    def bptt(self, dh_out: Array, steps: Steps, p: dict[str, Array], carry: bool = True,
             order: tuple[int, ...] | None = None, local: Array | None = None) -> Bptt:
        """ds_t for every t (it is both dxw_t and dhw_t). ``local`` is f'(s_t) for every t: other values
        are the mistakes of ``own_mistakes``."""
        if local is None:
            local = self.inner.backward(np.ones_like(steps.h), steps.inner["s"], steps.h, self.options)
        ds, dh = np.empty_like(dh_out), np.empty_like(dh_out)
        dnext = np.zeros_like(dh_out[:, 0])  # the path from h_(t+1) back into h_t
        for t in range(self.steps - 1, -1, -1):
            dh[:, t] = dh_out[:, t] + dnext if carry else dh_out[:, t]
            ds[:, t] = dh[:, t] * local[:, t]
            dnext = ds[:, t] @ p["Wh"].T
        return Bptt(ds, ds, dnext, {"h": dh})

    def own_mistakes(self, dh_out: Array, steps: Steps, p: dict[str, Array]) -> list[tuple[Bptt, str]]:
        f, s, ones = self.inner.name, steps.inner["s"], np.ones_like(steps.h)
        early = self.inner.backward(ones, earlier(np.zeros_like(s[:, 0]), s), self.previous(steps), self.options)
        out = [(self.bptt(dh_out, steps, p, local=ones), f"{f}' is missing: ds_t = dh_t * {f}'(s_t)"),
               (self.bptt(dh_out, steps, p, local=early),
                f"{f}' is taken one step early, at h_(t-1): ds_t = dh_t * {f}'(s_t) uses step t's own state")]
        if f not in ("identity", "relu", "leaky_relu"):  # f' written with h, but s put in for it
            out.append((self.bptt(dh_out, steps, p, local=self.inner.backward(ones, s, s, self.options)),
                        f"{f}' ({self.inner.derivative}) is written with s_t where h_t belongs"))
        return out

    def sides(self, steps: Steps) -> list[Array]:
        return [steps.inner["s"].real > 0] if self.inner.kinked else []

    def forward_equation(self, l: int, n: Notation) -> Equation:
        step_tex = rf"x_t W_x^{{[{l}]}} + h_{{t-1}} W_h^{{[{l}]}} + b^{{[{l}]}}"
        return recurrent_forward(self, l, n, f"{self.inner.name}(x_t Wx{l} + h_(t-1) Wh{l} + b{l})",
                                 rf"{tex_name(self.inner.name)}({step_tex})")

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        return recurrent_backward(self, l, n, l2, steps=[
            ("ds_t", f"dh_t * {self.inner.name}'(s_t)", rf"ds_t = dh_t \odot {tex_name(self.inner.name)}'(s_t)"),
        ], through_tex=r"ds_{t+1} (W_h)^\top", to_params="ds_t")
