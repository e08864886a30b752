"""gru: the gated recurrent unit as torch.nn.GRU computes it, gates in its order r, z, n.

    xv = x_t Wx + bx,    hv = h_(t-1) Wh + bh                  (N x 3H: blocks r, u, n)
    r = sigmoid(xv_r + hv_r),   u = sigmoid(xv_u + hv_u)
    n = tanh(xv_n + r * hv_n)
    h_t = (1 - u) * n + u * h_(t-1)

u is torch's z, the update gate: gradcheck keeps the name z<l> for every layer's output before its
activation, so derivations and ``--backward`` read this gate as ``u<l>``. Wx is D x 3H, Wh is H x 3H,
bx and bh have 3H entries each (the input and hidden biases stay apart: bh_n is inside r * (...)).
Backpropagation through time, t = T .. 1:

    dh_t = dE/dh_t from the layer's output + dE/dh_t through step t + 1
    dn = dh_t (1 - u),  du = dh_t (h_(t-1) - n),  dn' = dn (1 - n^2)
    dr' = dn' hv_n r (1 - r),  du' = du u (1 - u)
    dxv = [dr', du', dn'],  dhv = [dr', du', dn' r]
    dh_(t-1) gets dh_t u + dhv Wh^T
    dWx = sum_t x_t^T dxv,  dWh = sum_t h_(t-1)^T dhv,  dbx = sum dxv,  dbh = sum dhv
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
from gradcheck_cli.network.layers.recurrent_steps import Bptt, Steps, gate

TYPE = "gru"
SYMBOLS = ("Wx", "Wh", "bx", "bh", "h0_")
LAYOUTS = ("row",)
STATES = ("h",)  # d<state><l> of a derivation: dE/d(state) at every step, both paths


class GruSpec(RecurrentSpec):
    """``{type: gru, units: 5}``."""

    type: Literal["gru"]


SPEC = GruSpec


def build(spec: GruSpec, in_shape: Shape, place: Place) -> Gru:
    return build_recurrent(Gru, spec, in_shape, place)


@dataclass(frozen=True)
class Gru(Recurrent):
    TYPE = TYPE
    BLOCKS = 3
    GATES = ("r", "z", "n")
    INPUT_BIAS = "bx"
    HIDDEN_BIAS = "bh"
    QUANTITIES = ("h", "r", "u", "n")
    STATES = STATES
    THROUGH = "dh_(t+1) u_(t+1) + dhv_(t+1) Wh^T"

    def cell(self, xw: Array, hw: Array, h: Array, state: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        H = self.units
        ru = gate(xw[..., : 2 * H] + hw[..., : 2 * H])  # both sigmoid gates at once
        r, u = ru[..., :H], ru[..., H:]
        hv_n = hw[..., 2 * H :]
        n = np.tanh(xw[..., 2 * H :] + r * hv_n)
        return (1 - u) * n + u * h, {"r": r, "u": u, "n": n, "hv_n": hv_n}

    def bptt(self, dh_out: Array, steps: Steps, p: dict[str, Array], carry: bool = True,
             order: tuple[int, ...] | None = None) -> Bptt:
        """dxv_t and dhv_t for every t, with dh_t."""
        q = steps.inner
        h_prev = self.previous(steps)
        dxv = np.empty(dh_out.shape[:-1] + (3 * self.units,))
        dhv, dh = np.empty_like(dxv), np.empty_like(dh_out)
        dnext = np.zeros_like(dh_out[:, 0])
        for t in range(self.steps - 1, -1, -1):
            r, u, n, hv_n = (q[k][:, t] for k in ("r", "u", "n", "hv_n"))
            dh[:, t] = dh_out[:, t] + dnext if carry else dh_out[:, t]
            dn = dh[:, t] * (1 - u) * (1 - n**2)
            dr = dn * hv_n * r * (1 - r)
            du = dh[:, t] * (h_prev[:, t] - n) * u * (1 - u)
            dxv[:, t] = self.stack([dr, du, dn], order)
            dhv[:, t] = self.stack([dr, du, dn * r], order)
            dnext = dh[:, t] * u + dhv[:, t] @ p["Wh"].T
        return Bptt(dxv, dhv, dnext, {"h": dh})

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return recurrent_forward(self, l, n, f"(1 - u) * n + u * h_(t-1), [r u n] from x_t Wx{l} + bx{l} and "
                                 f"h_(t-1) Wh{l} + bh{l}", r"(1 - u) \odot n + u \odot h_{t-1}")

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        return recurrent_backward(self, l, n, l2, steps=[
            ("dxv_t", "[dr', du', dn'], dn' = dh_t (1 - u) (1 - n ** 2), dr' = dn' hv_n r (1 - r), "
             "du' = dh_t (h_(t-1) - n) u (1 - u)", r"dxv_t = [dr',\ du',\ dn']"),
            ("dhv_t", "[dr', du', dn' * r]", r"dhv_t = [dr',\ du',\ dn' \odot r]"),
        ], through_tex=r"dh_{t+1} \odot u_{t+1} + dhv_{t+1} (W_h)^\top",
            to_params="dxv_t (dhv_t for Wh and bh)")
