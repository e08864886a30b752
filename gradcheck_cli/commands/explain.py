"""The backpropagation equations of one exact network, in the seeds' notation: ``gradcheck explain``.

Each equation is produced in two forms: in the formula language of a spec's ``derivation:``
section (so the student can paste it, check it, and then change it), and in LaTeX. Shapes are
written out with m for the batch size, and the 1/m that ``reduction: mean`` introduces appears
where it enters, in dE/da^L.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from gradcheck_cli.network.activations import tex_name
from gradcheck_cli.network.layers.base import Equation, Layer, Notation
from gradcheck_cli.network.network import Network

# f'(z^l) in the formula language and in LaTeX, per activation; {z}, {a}, {alpha} are filled in.
_PRIME = {
    "identity": ("", ""),
    "sigmoid": ("{a} * (1 - {a})", r"{a} \odot (1 - {a})"),
    "tanh": ("(1 - {a} ** 2)", r"(1 - ({a})^{{\circ 2}})"),
    "relu": ("({z} > 0)", r"\mathbb{{1}}[{z} > 0]"),
    "leaky_relu": ("where({z} > 0, 1, {alpha})", r"\mathbb{{1}}[{z} > 0] + {alpha}\,\mathbb{{1}}[{z} \le 0]"),
    "elu": ("where({z} > 0, 1, {a} + {alpha})", r"\mathbb{{1}}[{z} > 0] + ({a} + {alpha})\,\mathbb{{1}}[{z} \le 0]"),
    "softplus": ("sigmoid({z})", r"\sigma({z})"),
}
# dl/da^L (before the batch reduction), per loss; {a} is the output a^L, {K} the number of outputs.
_LOSS_GRADIENT = {
    "half_sse": ("{a} - y", "{a} - y"),
    "sse": ("2 * ({a} - y)", "2({a} - y)"),
    "mse": ("2 * ({a} - y) / {K}", r"\tfrac{{2}}{{{K}}}({a} - y)"),
    "cross_entropy": ("-y / {a}", r"-y \oslash {a}"),
    "softmax_cross_entropy": ("softmax({a}) - y", r"\mathrm{{softmax}}({a}) - y"),
    "binary_cross_entropy": ("({a} - y) / ({a} * (1 - {a}))", r"({a} - y) \oslash ({a} \odot (1 - {a}))"),
}


@dataclass(frozen=True)
class Explanation:
    summary: str
    forward: list[Equation]
    backward: list[Equation]


def explain(net: Network, m: int) -> Explanation:
    """Every layer's forward equation and its activation, E, then the backward pass from dE/da^L down:
    each layer's delta^l, its parameters' gradients and dE/da^(l-1), as its layer type writes them."""
    layout, L = net.layout, len(net.layers)
    n = Notation(layout, (net.input_shape,) + tuple(layer.out_shape for layer in net.layers))
    tex = n.tex
    forward = []
    for l, layer in enumerate(net.layers, start=1):
        forward.append(layer.forward_equation(l, n))
        applied = f"z{l}" if layer.activation.name == "identity" else f"{layer.activation.name}(z{l})"
        forward.append(Equation(f"a{l}", applied,
                                rf"{tex('a', l)} = {tex_name(layer.activation.name)}({tex('z', l)})", n.shape(l)))
    reduction = " / m" if net.reduction == "mean" else ""
    l2_text = f" + {net.l2:g}/2 sum_l |W_l|^2" if net.l2 else ""
    forward.append(Equation("E", f"{'mean' if reduction else 'sum'} over samples of {net.loss.value}{l2_text}",
                            "E = " + (r"\frac{1}{m}" if reduction else "") + r"\sum_{\text{samples}} \ell(a^{[L]}, y)"
                            + (r" + \frac{\lambda}{2}\sum_l \|W^{[l]}\|^2" if net.l2 else ""), "scalar"))

    backward = []
    plain, latex = _LOSS_GRADIENT[net.loss.name]
    gradient = plain.format(a=f"a{L}", K=net.outputs)
    gradient_tex = latex.format(a=tex("a", L), K=net.outputs)
    backward.append(Equation(f"da{L}", _group(gradient) + reduction if reduction else gradient,
                             rf"\frac{{\partial E}}{{\partial {tex('a', L)}}} = "
                             + (r"\frac{1}{m}" if reduction else "") + f"({gradient_tex})", n.shape(L)))
    for l in range(L, 0, -1):
        backward.append(_delta(net, l, n.shape(l)))
        backward += net.layers[l - 1].backward_equations(l, n, net.l2)
    if layout.name == "column":
        where = "samples are columns, z = W a + b"
    elif any(len(layer.out_shape) == 2 for layer in net.layers):
        where = "samples first: N x T x features, a sequence"
    elif all(layer.TYPE == "dense" for layer in net.layers):
        where = "samples are rows, z = a W + b"
    else:
        where = "samples first: N x C x H x W, then N x features"
    layers = " -> ".join([" x ".join(map(str, net.input_shape))] + [_described(x) for x in net.layers])
    summary = (f"{layers}; {net.loss.name}, reduction {net.reduction}" + (f", l2 = {net.l2:g}" if net.l2 else "")
               + f"; {layout.name} layout ({where}); m = {m}")
    return Explanation(summary, forward, _commented_through(backward))


def _commented_through(equations: list[Equation]) -> list[Equation]:
    """A line that reads a quantity which only a comment gives (the dE/da^(l-1) of a recurrence, whose
    backward no formula can write) becomes a comment too, so the block still pastes and checks."""
    hidden: set[str] = set()
    out = []
    for eq in equations:
        if eq.name.startswith("#"):
            hidden.add(eq.name.lstrip("# "))
        elif hidden & set(re.findall(r"[A-Za-z_]\w*", eq.formula)):
            hidden.add(eq.name)
            eq = replace(eq, name=f"# {eq.name}")
        out.append(eq)
    return out


def _described(layer: Layer) -> str:
    """A layer in the summary line: its output size and activation (dense), or its type and output shape."""
    if layer.TYPE == "dense":
        return f"{layer.out_shape[0]} {layer.activation.name}"
    shape = " x ".join(map(str, layer.out_shape))
    return f"{layer.TYPE} {shape}" + ("" if layer.activation.name == "identity" else f" {layer.activation.name}")


def _delta(net: Network, l: int, shape: str) -> Equation:
    """delta^l = dE/dz^l = dE/da^l * f'(z^l); softmax applies its full Jacobian instead."""
    layer = net.layers[l - 1]
    name = layer.activation.name
    head = rf"\delta^{{[{l}]}} = \frac{{\partial E}}{{\partial z^{{[{l}]}}}} = "
    if name == "softmax":
        axis = net.layout.unit_axis % 2
        return Equation(f"dz{l}", f"a{l} * (da{l} - sum(da{l} * a{l}, axis={axis}, keepdims=True))",
                        head + rf"a^{{[{l}]}} \odot \left(\frac{{\partial E}}{{\partial a^{{[{l}]}}}} - "
                               rf"\mathbf{{1}}\,(a^{{[{l}]}})^\top \frac{{\partial E}}{{\partial a^{{[{l}]}}}}\right)",
                        shape)
    plain, latex = _PRIME[name]
    values = {"z": f"z{l}", "a": f"a{l}", "alpha": f"{layer.options.alpha:g}"}
    tex_values = {"z": f"z^{{[{l}]}}", "a": f"a^{{[{l}]}}", "alpha": f"{layer.options.alpha:g}"}
    upstream_tex = rf"\frac{{\partial E}}{{\partial a^{{[{l}]}}}}"
    if not plain:
        return Equation(f"dz{l}", f"da{l}", head + upstream_tex, shape)
    return Equation(f"dz{l}", f"da{l} * {plain.format(**values)}",
                    head + upstream_tex + r" \odot " + latex.format(**tex_values), shape)


def _group(expression: str) -> str:
    return expression if expression.replace("_", "").isalnum() else f"({expression})"
