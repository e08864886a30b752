"""Say in plain words what is probably wrong with a formula that failed its check.

The verdict always comes from the numerical witness; these are explanations tried on a failure:
a transposed result (with advice for that kind of link), any constant factor (-1, 2, 1/2, m and
1/m named, with a cause only where it fits the spec's loss and reduction), a missing or wrong
activation derivative (or one taken at a instead of z, or written with z where a belongs), a
dropped L2 term, a bias gradient not summed over the batch or summed over the units, errors
confined to entries at a ReLU kink. Candidates that use an activation's
derivative are built from the *numerical* gradient with respect to a^l, so the explanation
never rests on gradcheck's own backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.derivation.links import Link, state_kinds
from gradcheck_cli.derivation.over_time import first_broken_step, shifted
from gradcheck_cli.network.activations import ACTIVATIONS, Activation, Options
from gradcheck_cli.network.network import Network, Params, layer_params
from gradcheck_cli.verdict.results import ParamResult, Rule
from gradcheck_cli.witness.central import Witness

Array = np.ndarray


@dataclass(frozen=True)
class Context:
    net: Network
    params: Params
    env: dict[str, Array]  # the forward quantities (float64, the spec's layout)
    witness: Callable[[str, int], Witness]  # numerical dE/d(quantity) for ("z"|"a"|"W"|"b", layer)
    rule: Rule

    @property
    def m(self) -> int:
        return int(self.env["m"])


def diagnose_shape(link: Link, value: Array, expected: tuple[int, ...], ctx: Context) -> str:
    found = diagnose_layer_shape(link, value, ctx)
    if found:
        return found
    if link.kind == "b" and ctx.net.layers[link.layer - 1].TYPE == "dense":
        found = _bias_axis_problem(link, value, ctx)
        if found:
            return found
    if value.ndim == 2 and value.T.shape == expected:
        return (f"the result is transposed: {_shape(value.shape)} where {_shape(expected)} is expected; "
                f"{_hint_order(link, ctx)}")
    return f"the result has shape {_shape(value.shape)}, but {link.target} has shape {_shape(expected)}"


def _bias_axis_problem(link: Link, value: Array, ctx: Context) -> str:
    """A bias gradient not summed over the samples, or summed over the units instead ('' if neither)."""
    layout, z = ctx.net.layout, ctx.env[f"z{link.layer}"]
    if value.shape == z.shape:
        per = "row" if layout.name == "row" else "column"
        return (f"a bias gradient must be summed over the batch: {link.name} has one {per} per sample; "
                f"use {_bias_sum(link.layer, ctx)}")
    across_units = np.sum(z, axis=layout.unit_axis % 2, keepdims=True).shape
    if value.shape in (across_units, (z.shape[layout.sample_axis % 2],)):
        return _summed_over_units(link, ctx)
    return ""


def _summed_over_units(link: Link, ctx: Context) -> str:
    return (f"summed over the wrong axis: axis {ctx.net.layout.unit_axis % 2} runs over the units, so {link.name} "
            f"holds one value per sample, not per unit; use {_bias_sum(link.layer, ctx)}")


def _bias_sum(l: int, ctx: Context) -> str:
    """db^l as written in this layout: delta^l summed over the samples, in the shape of b^l."""
    return f"sum(dz{l}, axis={ctx.net.layout.sample_axis % 2}, keepdims=True)"


def diagnose(link: Link, s: Array, comparison: ParamResult, ctx: Context) -> str:
    """What is probably wrong; for a recurrent state's link (dh<l>, dc<l>), after the step it breaks at."""
    explained = _explain(link, s, comparison, ctx)
    if link.kind in state_kinds():
        where = first_broken_step(comparison.rel_error > ctx.rule.rtol)
        return f"{where}: {explained}" if where else explained
    return explained


def _explain(link: Link, s: Array, comparison: ParamResult, ctx: Context) -> str:
    n = comparison.numeric
    failing = comparison.rel_error > ctx.rule.rtol
    if comparison.kink_unresolved and not failing.any():
        return (f"the disagreement is confined to {comparison.kink_unresolved} entries at a ReLU kink (a "
                f"pre-activation within the step of 0), where the derivative does not exist and the check "
                f"cannot decide; move the point off the kink (e.g. non-zero biases) to check them")
    if s.ndim == 2 and s.shape[0] == s.shape[1] and close(s.T, n) and not close(s, n):
        return f"the result is transposed (square, so the shapes could not tell); {_hint_order(link, ctx)}"
    ratio = constant_ratio(s, n)
    if ratio is not None:
        described = _describe_factor(ratio, ctx)
        mean = ctx.net.reduction == "mean"
        if mean and link.kind in ("z", "a") and not link.per_sample and abs(ratio - ctx.m) <= 1e-3 * ctx.m:
            described += ("; if your derivation keeps per-sample deltas (dZ = A - Y, with 1/m only in dW and db, "
                          "as in Ng's course), declare it with 'deltas: per_sample'")
        return described
    for candidate, explanation in _layer_mistakes(link, ctx) + _candidates(link, ctx):
        if close(s, candidate) and not close(candidate, n):
            return explanation
    return (f"{int(failing.sum())} of {n.size} entries disagree; not a constant factor, a transpose or an "
            f"activation derivative")


def _layer_mistakes(link: Link, ctx: Context) -> list[tuple[Array, str]]:
    """The classic mistakes of the layer type whose backward gives this link (the layer above a da
    link, the parameter's own layer), from the numerical dE/dz of that layer."""
    l = link.layer + 1 if link.kind == "a" else link.layer
    if link.kind in (None, "z") or not 1 <= l <= len(ctx.net.layers):
        return []
    layer = ctx.net.layers[l - 1]
    dz = ctx.witness("z", l).gradient[f"z{l}"]
    with np.errstate(all="ignore"):
        mistakes = [m for m in layer.mistakes(l, dz, ctx.env[f"a{l - 1}"], layer_params(ctx.params, layer, l))
                    if m.of == link.kind]
    name, parameters = f"{link.kind}{l}", ctx.net.parameters()
    l2 = ctx.net.l2 if link.kind != "a" and name in parameters and parameters[name].l2 else 0.0
    out = [(m.value + l2 * ctx.params[name] if l2 else m.value, m.says) for m in mistakes]
    if link.kind in state_kinds():  # a state's gradient one step off in time
        out += shifted(ctx.witness(link.kind, l).gradient[name], link.name, link.kind)
    return out


def diagnose_layer_shape(link: Link, value: Array, ctx: Context) -> str:
    """A layer type's classic mistake whose result has this wrong shape (a conv bias not summed over
    the positions, the padding or stride left out of da), or ''."""
    for candidate, explanation in _layer_mistakes(link, ctx):
        if candidate.shape == value.shape and close(value, candidate):
            return explanation
    return ""


def _candidates(link: Link, ctx: Context) -> list[tuple[Array, str]]:
    """Wrong derivations that are common, each as the array it would produce for this link."""
    if link.kind not in ("z", "W", "b"):
        return []
    l = link.layer
    layer = ctx.net.layers[l - 1]
    act = layer.activation
    if act.name == "softmax":
        return []
    upstream = ctx.witness("a", l).gradient[f"a{l}"]  # numerical dE/da^l
    z, a = ctx.env[f"z{l}"], ctx.env[f"a{l}"]
    deltas = [(upstream, f"the activation derivative is missing: it equals dE/da{l}; multiply by "
                         f"{act.name}'(z{l}) ({act.derivative})")]
    if act.name not in ("identity", "relu", "leaky_relu"):
        deltas.append((upstream * _derivative(act, a, layer.options),
                       f"the derivative of {act.name} was taken at a{l} instead of z{l}"
                       + (" (a (1 - a) already is sigmoid'(z))" if act.name == "sigmoid" else "")))
        with np.errstate(all="ignore"):  # f' written in terms of a (a (1 - a), 1 - a^2), but with z put in for a
            at_z = act.backward(np.ones_like(z), z, z, layer.options)
        deltas.append((upstream * at_z, f"the derivative of {act.name} ({act.derivative}) was written with z{l} "
                                        f"where a{l} belongs"))
    for other in ACTIVATIONS.values():
        if other.name in (act.name, "softmax"):
            continue
        with np.errstate(all="ignore"):  # other's derivative formula written with this layer's z and a
            copied = other.backward(np.ones_like(z), z, a, layer.options)
        deltas.append((upstream * copied, f"used the derivative of {other.name} ({other.derivative}) on a "
                                          f"{act.name} layer, whose derivative is {act.derivative}"))
        deltas.append((upstream * _derivative(other, z, layer.options),
                       f"used the derivative of {other.name} where layer {l}'s activation is {act.name} "
                       f"({act.derivative})"))
    out = [(_lift(link, delta, ctx), text) for delta, text in deltas]
    # summed over the units: square dense layers hide it in the shape
    if link.kind == "b" and layer.TYPE == "dense" and ctx.params[f"b{l}"].ndim:
        per_sample = ctx.witness("z", l).gradient[f"z{l}"].sum(axis=ctx.net.layout.unit_axis % 2)
        if per_sample.size == ctx.params[f"b{l}"].size:
            out.append((per_sample.reshape(ctx.params[f"b{l}"].shape), _summed_over_units(link, ctx)))
    if link.kind == "W" and ctx.net.l2:
        true = ctx.witness("W", l).gradient[f"W{l}"]
        out.append((true - ctx.net.l2 * ctx.params[f"W{l}"], f"the L2 term l2 * W{l} is missing from {link.name}"))
    return out


def _lift(link: Link, delta: Array, ctx: Context) -> Array:
    """What a delta^l becomes in the gradient of layer l's parameter: the layer type's own backward
    (plus L2 where it applies), run on the forward's a^(l-1)."""
    l = link.layer
    if link.kind == "z":
        return delta
    layer, name = ctx.net.layers[l - 1], f"{link.kind}{l}"
    _, cache = layer.forward(ctx.env[f"a{l - 1}"], layer_params(ctx.params, layer, l))
    gradient = layer.backward(delta, cache)[1][link.kind]
    return gradient + ctx.net.l2 * ctx.params[name] if ctx.net.parameters()[name].l2 else gradient


def _derivative(act: Activation, at: Array, options: Options) -> Array:
    with np.errstate(all="ignore"):
        return act.backward(np.ones_like(at), at, act.forward(at, options), options)


def close(a: Array, b: Array) -> bool:
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    return bool(np.linalg.norm(a - b) <= 1e-4 * (np.linalg.norm(a) + np.linalg.norm(b)) + 1e-300)


def constant_ratio(s: Array, n: Array) -> float | None:
    """r if s = r n for a constant r other than 1, else None.

    Any r counts, 1.0005 as much as 2, as long as the factor explains the error: what is left after
    it, ||s - r n||, is under 1 % of the error itself, ||s - n||, and small beside s.
    """
    denominator = float(np.sum(n * n))
    if denominator == 0 or not np.all(np.isfinite(s)):
        return None
    r = float(np.sum(s * n)) / denominator
    left, error = float(np.linalg.norm(s - r * n)), float(np.linalg.norm(s - n))
    if r == 1 or error == 0 or left > 0.01 * error or left > 1e-4 * float(np.linalg.norm(s)):
        return None
    return r


def _describe_factor(r: float, ctx: Context) -> str:
    return describe_factor(r, ctx.m, ctx.net.loss.name, ctx.net.reduction == "mean")


def describe_factor(r: float, m: int = 1, loss: str = "", mean: bool = False) -> str:
    """The factor in words; the likely cause only where it fits the loss and reduction given (a layer
    check knows neither: the factor alone)."""
    squares = {"half_sse": "the derivative of 1/2 (a - y)^2 is (a - y), not 2 (a - y)"}
    halves = {"sse": "the derivative of (a - y)^2 is 2 (a - y)", "mse": "the derivative of (a - y)^2 is 2 (a - y)"}
    known = [
        (-1.0, "the sign is wrong: the result is minus the gradient"
               + (" ((y - a) where (a - y) belongs?)" if loss not in ("", "cross_entropy") else "")),
        (2.0, "off by a factor of 2: twice the gradient" + (f" ({squares[loss]})" if squares.get(loss) else "")),
        (0.5, "off by a factor of 1/2: half the gradient" + (f" ({halves[loss]})" if loss in halves else "")),
        (-2.0, "off by a factor of -2: a wrong sign and a factor of 2"),
        (-0.5, "off by a factor of -1/2: a wrong sign and a missing factor of 2"),
    ]
    if m > 1:
        known += [
            (float(m), f"off by a factor of m = {m}" + (": the loss averages over the batch (reduction: mean), so "
                                                        "the gradient needs 1/m" if mean else "")),
            (1.0 / m, f"off by a factor of 1/m = 1/{m}: " + ("did you average over the batch twice?" if mean else
                      "you divide by m, but the loss sums over the batch (reduction: sum)")),
        ]
    matches = [text for factor, text in known if abs(r - factor) <= 1e-3 * abs(factor)]
    if matches:
        return matches[0]
    return f"off by a constant factor of {r:.6g} everywhere (every entry is {r:.6g} times the gradient)"


def _hint_order(link: Link, ctx: Context) -> str:
    """How this kind of link is written in this layout."""
    l, column = link.layer, ctx.net.layout.name == "column"
    if link.kind == "a":
        return (f"write da{l} = W{l + 1}.T @ dz{l + 1} in column layout" if column
                else f"write da{l} = dz{l + 1} @ W{l + 1}.T in row layout")
    if link.kind == "z":
        return f"dz{l} has the shape of z{l} ({'units x samples' if column else 'samples x units'})"
    if link.kind == "b":
        return f"write db{l} = {_bias_sum(l, ctx)}, the shape of b{l}"
    previous = "x" if l == 1 else f"a{l - 1}"
    return (f"swap the order of the product: dW{l} = dz{l} @ {previous}.T in column layout" if column
            else f"swap the order of the product: dW{l} = {previous}.T @ dz{l} in row layout")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"
