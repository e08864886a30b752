"""The backpropagation equations of one exact network, in the seeds' notation: ``gradcheck explain``.

Each equation is produced in two forms: in the formula language of a spec's ``derivation:``
section (so the student can paste it, check it, and then change it), and in LaTeX. Shapes are
written out with m for the batch size, and the 1/m that ``reduction: mean`` introduces appears
where it enters, in dE/da^L.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class Equation:
    name: str  # the derivation name (da2, dz2, dW2, ...) or a forward quantity (z1, a1, E)
    formula: str  # in the formula language
    latex: str
    shape: str


@dataclass(frozen=True)
class Explanation:
    summary: str
    forward: list[Equation]
    backward: list[Equation]


def explain(net: Network, m: int) -> Explanation:
    layout, L = net.layout, len(net.layers)
    column = layout.name == "column"
    units = [net.inputs] + [layer.units for layer in net.layers]

    def act_shape(l: int) -> str:
        return f"{units[l]} x m" if column else f"m x {units[l]}"

    def a(l: int) -> str:
        return "x" if l == 0 else f"a{l}"

    def tex(symbol: str, l: int) -> str:
        return "x" if symbol == "a" and l == 0 else f"{symbol}^{{[{l}]}}"

    forward = []
    for l, layer in enumerate(net.layers, start=1):
        bias = "" if layer.bias == "none" else f" + b{l}"
        bias_tex = "" if layer.bias == "none" else f" + {tex('b', l)}"
        product = f"W{l} @ {a(l - 1)}" if column else f"{a(l - 1)} @ W{l}"
        product_tex = f"{tex('W', l)} {tex('a', l - 1)}" if column else f"{tex('a', l - 1)} {tex('W', l)}"
        forward.append(Equation(f"z{l}", product + bias, f"{tex('z', l)} = {product_tex}{bias_tex}", act_shape(l)))
        applied = f"z{l}" if layer.activation.name == "identity" else f"{layer.activation.name}(z{l})"
        forward.append(Equation(f"a{l}", applied,
                                rf"{tex('a', l)} = {_tex_name(layer.activation.name)}({tex('z', l)})", act_shape(l)))
    reduction = " / m" if net.reduction == "mean" else ""
    l2_text = f" + {net.l2:g}/2 sum_l |W_l|^2" if net.l2 else ""
    forward.append(Equation("E", f"{'mean' if reduction else 'sum'} over samples of {net.loss.value}{l2_text}",
                            "E = " + (r"\frac{1}{m}" if reduction else "") + r"\sum_{\text{samples}} \ell(a^{[L]}, y)"
                            + (r" + \frac{\lambda}{2}\sum_l \|W^{[l]}\|^2" if net.l2 else ""), "scalar"))

    backward = []
    plain, latex = _LOSS_GRADIENT[net.loss.name]
    fill = {"a": f"a{L}", "K": str(units[L])}
    gradient = plain.format(**fill)
    gradient_tex = latex.format(a=tex("a", L), K=units[L])
    backward.append(Equation(f"da{L}", _group(gradient) + reduction if reduction else gradient,
                             rf"\frac{{\partial E}}{{\partial {tex('a', L)}}} = "
                             + (r"\frac{1}{m}" if reduction else "") + f"({gradient_tex})", act_shape(L)))
    for l in range(L, 0, -1):
        layer = net.layers[l - 1]
        backward.append(_delta(net, l, act_shape(l)))
        penalty = f" + l2 * W{l}" if net.l2 else ""
        penalty_tex = rf" + \lambda {tex('W', l)}" if net.l2 else ""
        dW = f"dz{l} @ {a(l - 1)}.T" if column else f"{a(l - 1)}.T @ dz{l}"
        dW_tex = (rf"\delta^{{[{l}]}} ({tex('a', l - 1)})^\top" if column
                  else rf"({tex('a', l - 1)})^\top \delta^{{[{l}]}}")
        W_shape = f"{units[l]} x {units[l - 1]}" if column else f"{units[l - 1]} x {units[l]}"
        backward.append(Equation(f"dW{l}", dW + penalty,
                                 rf"\frac{{\partial E}}{{\partial {tex('W', l)}}} = {dW_tex}{penalty_tex}", W_shape))
        if layer.bias == "per_unit":
            axis = layout.sample_axis % 2
            backward.append(Equation(f"db{l}", f"sum(dz{l}, axis={axis}, keepdims=True)",
                                     rf"\frac{{\partial E}}{{\partial {tex('b', l)}}} = \sum_{{\text{{samples}}}} "
                                     rf"\delta^{{[{l}]}}", f"{units[l]} x 1" if column else f"1 x {units[l]}"))
        elif layer.bias == "shared":
            backward.append(Equation(f"db{l}", f"sum(dz{l})", rf"\frac{{\partial E}}{{\partial {tex('b', l)}}} = "
                                     rf"\sum_{{\text{{units, samples}}}} \delta^{{[{l}]}}", "scalar"))
        da = f"W{l}.T @ dz{l}" if column else f"dz{l} @ W{l}.T"
        da_tex = (rf"({tex('W', l)})^\top \delta^{{[{l}]}}" if column else rf"\delta^{{[{l}]}} ({tex('W', l)})^\top")
        backward.append(Equation(f"da{l - 1}", da, rf"\frac{{\partial E}}{{\partial {tex('a', l - 1)}}} = {da_tex}",
                                 act_shape(l - 1)))
    where = "samples are columns, z = W a + b" if column else "samples are rows, z = a W + b"
    layers = " -> ".join([str(net.inputs)] + [f"{x.units} {x.activation.name}" for x in net.layers])
    summary = (f"{layers}; {net.loss.name}, reduction {net.reduction}" + (f", l2 = {net.l2:g}" if net.l2 else "")
               + f"; {layout.name} layout ({where}); m = {m}")
    return Explanation(summary, forward, backward)


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


def _tex_name(activation: str) -> str:
    escaped = activation.replace("_", "\\_")
    return {"sigmoid": r"\sigma", "tanh": r"\tanh"}.get(activation, r"\mathrm{" + escaped + "}")
