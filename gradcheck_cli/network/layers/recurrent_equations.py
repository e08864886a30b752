"""How ``explain`` writes a recurrent layer: the recurrence unrolled over t, with shapes.

The formula language of ``derivation:`` has no loop over time, so a recurrence's backward pass
(each dh_t needs dh_(t+1)) cannot be one formula. ``explain`` prints those lines as YAML comments
in its derivation block: they explain, and pasting the block checks everything around them (the
layers after the recurrence, and dz<l> = da<l> at its output). Check BPTT code itself with
``--backward``, which receives every quantity of the forward pass and compares the dh<l> (and dc<l>)
it returns at every step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradcheck_cli.network.layers.base import Equation, Notation

if TYPE_CHECKING:
    from gradcheck_cli.network.layers.recurrent import Recurrent


def recurrent_forward(layer: Recurrent, l: int, n: Notation, step: str, step_tex: str) -> Equation:
    """z^l: h_t for t = 1..T (or h_T alone), with h_0."""
    h0 = f"h0_{l}" if layer.initial_state == "learned" else "0"
    kept, kept_tex = ("h_1..h_T", r"h_1, \dots, h_T") if layer.returns == "sequence" else ("h_T", "h_T")
    return Equation(f"z{l}", f"{kept}, h_t = {step}, h_0 = {h0}",
                    rf"z^{{[{l}]}} = ({kept_tex}),\ h_t = {step_tex}", n.shape(l))


def recurrent_backward(layer: Recurrent, l: int, n: Notation, l2: float, steps: list[tuple[str, str, str]],
                       through_tex: str, to_params: str) -> list[Equation]:
    """Comment lines: dh_t with both of its paths, each step's local derivatives (``steps``: name,
    formula, LaTeX), then the parameters' gradients and dE/da^(l-1) summed over the steps.
    ``to_params`` is what the parameters' gradients are products with (ds_t, or the gates' dv_t)."""
    a, H, D, G = n.a(l - 1), layer.units, layer.features, layer.BLOCKS * layer.units
    through = layer.THROUGH
    own = f"dz{l}[:, t]" if layer.returns == "sequence" else f"dz{l} at t = T only"

    def penalty(symbol: str) -> str:
        return f" + l2 * {symbol}{l}" if l2 else ""

    out = [Equation(f"# dh{l}", f"dh_t = {own} + {through}  (t = T..1; --backward compares dh{l} at every t)",
                    rf"dh_t = \delta^{{[{l}]}}_t + {through_tex}", f"m x {layer.steps} x {H}")]
    out += [Equation(f"#   {name}", formula, latex, f"m x {G}") for name, formula, latex in steps]
    out.append(Equation(f"# dWx{l}", f"sum over t of {a}[:, t].T @ {to_params}{penalty('Wx')}",
                        rf"\frac{{\partial E}}{{\partial W_x^{{[{l}]}}}} = \sum_t x_t^\top {to_params}",
                        f"{D} x {G}"))
    out.append(Equation(f"# dWh{l}", f"sum over t of h_(t-1).T @ {to_params}{penalty('Wh')}",
                        rf"\frac{{\partial E}}{{\partial W_h^{{[{l}]}}}} = \sum_t h_{{t-1}}^\top {to_params}",
                        f"{H} x {G}"))
    for bias in layer.biases():
        out.append(Equation(f"# d{bias}{l}", f"sum over samples and t of {to_params}",
                            rf"\frac{{\partial E}}{{\partial {bias}^{{[{l}]}}}} = \sum_{{n, t}} {to_params}", f"{G}"))
    if layer.initial_state == "learned":
        out.append(Equation(f"# dh0_{l}", f"{through} at t = 0", r"\frac{\partial E}{\partial h_0}",
                            f"m x {H}"))
    out.append(Equation(f"# da{l - 1}", f"{to_params} @ Wx{l}.T at every t",
                        rf"\frac{{\partial E}}{{\partial x_t}} = {to_params} (W_x^{{[{l}]}})^\top", n.shape(l - 1)))
    return out
