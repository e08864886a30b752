"""Turn a validated spec into a problem: the network, its parameters and its data, as arrays.

Every number that the spec does not give explicitly is drawn from the spec's seed, each quantity
from its own stream (``SeedSequence(seed, spawn_key=...)``), so giving W1 explicitly does not
change the values drawn for W2, and the same spec yields the same numbers on any machine.
Data and targets are given one sample per row whatever the layout; they are arranged in the
layout here. Class targets become one-hot arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from gradcheck_cli.derivation.links import Link
from gradcheck_cli.errors import SpecError
from gradcheck_cli.network.activations import ACTIVATIONS, PROBABILITY_OUTPUTS, Options
from gradcheck_cli.network.layouts import LAYOUTS, Layout
from gradcheck_cli.network.losses import LOSSES
from gradcheck_cli.network.network import Layer, Network, Params
from gradcheck_cli.network.registry import UnknownNameError, lookup
from gradcheck_cli.reading.data import STREAM_PARAMS, data_arrays, numbers, seeded, shape_text
from gradcheck_cli.reading.derivation_section import parse_derivation
from gradcheck_cli.reading.loader import KeyPath, SourceMap
from gradcheck_cli.reading.memory import check_memory
from gradcheck_cli.reading.model import LayerSpec, Spec
from gradcheck_cli.verdict.limits import settings_problem

T = TypeVar("T")



@dataclass(frozen=True)
class Problem:
    """What a check runs on. Arrays are in the spec's dtype and layout."""

    spec: Spec
    network: Network
    params: Params
    x: np.ndarray
    y: np.ndarray
    lines: dict[str, int] = field(default_factory=dict)  # parameter (and "expect") -> its line in the spec
    derivation: list[Link] = field(default_factory=list)  # the student's formulas, in order


DEFAULT_MAX_BYTES = 4 * 1024**3


def build_problem(spec: Spec, source: SourceMap, max_bytes: int = DEFAULT_MAX_BYTES) -> Problem:
    key, problem = settings_problem(spec.check.method, spec.check.eps, spec.check.rtol, spec.check.warn_rtol)
    if problem:
        raise source.error(("check", key), f"check.{problem}", "a spec's check: settings may tighten its gate, "
                           "not switch it off")
    layout = LAYOUTS[spec.layout]
    network = _network(spec, layout, source)
    check_memory(spec, network, source, max_bytes)  # before any array is allocated
    dtype = np.dtype(spec.dtype)
    # the data, the parameters and the derivation do not depend on each other: report all their problems
    problems: list[SpecError] = []
    data, params, derivation = (_collecting(problems, part) for part in (
        lambda: data_arrays(spec, network, source), lambda: _parameters(spec, network, source),
        lambda: parse_derivation(spec, network, source)))
    if problems:
        raise SpecError.all_of(problems)
    x_rows, y_rows = data
    return Problem(
        spec=spec,
        network=network,
        params={name: value.astype(dtype) for name, value in params.items()},
        x=np.ascontiguousarray(layout.from_rows(x_rows).astype(dtype)),
        y=np.ascontiguousarray(layout.from_rows(y_rows).astype(dtype)),
        lines=_parameter_lines(network, source),
        derivation=derivation,
    )


def _collecting(problems: list[SpecError], part: Callable[[], T]) -> T | None:
    """``part()``, or None with its SpecError added to ``problems``."""
    try:
        return part()
    except SpecError as exc:
        problems.append(exc)
        return None


def _parameter_lines(net: Network, source: SourceMap) -> dict[str, int]:
    """The explicit value's line if the spec gives one, else the line of the parameter's layer;
    and the line of ``expect:``, for an annotation when an expected failure passes."""
    lines = {}
    for name in net.parameter_names():
        line = source.lines.get(("parameters", name)) or source.line(("layers", int(name[1:]) - 1))
        if line is not None:
            lines[name] = line
    if ("expect",) in source.lines:
        lines["expect"] = source.lines[("expect",)]
    return lines


def _network(spec: Spec, layout: Layout, source: SourceMap) -> Network:
    problems: list[SpecError] = []
    layers = [_collecting(problems, lambda i=i, layer=layer: _layer(layer, ("layers", i), layout, source))
              for i, layer in enumerate(spec.layers)]
    try:
        loss = lookup("loss", LOSSES, spec.loss.name)
    except UnknownNameError as exc:
        problems.append(source.error(("loss",), str(exc), exc.hint))
    if problems:  # every layer's problem and the loss's at once
        raise SpecError.all_of(problems)
    layers = [layer for layer in layers if layer is not None]
    last = layers[-1].activation.name
    if loss.needs_probabilities and last not in PROBABILITY_OUTPUTS:
        raise source.error(
            ("layers", len(layers) - 1, "activation"),
            f"loss {loss.name!r} takes probabilities, but the last layer's activation {last!r} does not produce them",
            "use a softmax or sigmoid output layer, or softmax_cross_entropy on logits",
        )
    return Network(layout, spec.input, tuple(layers), loss, spec.loss.reduction, spec.l2)


def _layer(layer: LayerSpec, path: KeyPath, layout: Layout, source: SourceMap) -> Layer:
    try:
        activation = lookup("activation", ACTIVATIONS, layer.activation)
    except UnknownNameError as exc:
        raise source.error(path + ("activation",), str(exc), exc.hint) from None
    if layer.alpha is not None and activation.default_alpha is None:
        raise source.error(path + ("alpha",), f"activation {activation.name!r} takes no alpha",
                           "alpha applies to leaky_relu and elu; remove it")
    alpha = layer.alpha if layer.alpha is not None else (activation.default_alpha or 0.0)
    return Layer(layer.units, activation, Options(alpha=alpha, axis=layout.unit_axis), layer.bias)


# ----------------------------------------------------------------------------------- parameters


def parameter_shapes(net: Network) -> dict[str, tuple[int, ...]]:
    """Shape of every parameter in the layout: W^l, b^l per unit, or a scalar for a shared bias."""
    shapes: dict[str, tuple[int, ...]] = {}
    fan_in = net.inputs
    for l, layer in enumerate(net.layers, start=1):
        shapes[f"W{l}"] = net.layout.weight_shape(fan_in, layer.units)
        if layer.bias == "per_unit":
            shapes[f"b{l}"] = net.layout.bias_shape(layer.units)
        elif layer.bias == "shared":
            shapes[f"b{l}"] = ()
        fan_in = layer.units
    return shapes


def _parameters(spec: Spec, net: Network, source: SourceMap) -> Params:
    shapes = parameter_shapes(net)
    for section, names in (("parameters", spec.parameters), ("trainable", spec.trainable)):
        for name in names:
            if name not in shapes:
                raise source.error((section, name), f"unknown parameter {name!r}", _why_unknown(name, net, shapes))
    params: Params = {}
    fan_in = net.inputs
    for index, name in enumerate(shapes):
        shape = shapes[name]
        if name in spec.parameters:
            params[name] = _explicit_parameter(spec.parameters[name], name, shape, net, source)
            continue
        rng = seeded(spec.seed, STREAM_PARAMS + index)
        if name.startswith("W"):
            std = 1 / math.sqrt(fan_in) if spec.init.weights == "lecun" else spec.init.weights
            params[name] = rng.standard_normal(shape) * std
            fan_in = shape[0] if net.layout.name == "column" else shape[1]
        else:
            params[name] = rng.standard_normal(shape) * spec.init.biases
    return params


def _why_unknown(name: str, net: Network, shapes: dict[str, tuple[int, ...]]) -> str:
    layer = name[1:]
    if name[:1] in ("W", "b") and layer.isdigit():
        l = int(layer)
        if 1 <= l <= len(net.layers) and name[0] == "b":
            return f"layer {l} has bias: none"
        return f"the network has {len(net.layers)} layers"
    return "parameters are named " + ", ".join(shapes)


def _explicit_parameter(value: Any, name: str, shape: tuple[int, ...], net: Network,
                        source: SourceMap) -> np.ndarray:
    path: KeyPath = ("parameters", name)
    array = numbers(value, path, source)
    if name.startswith("b"):
        # a bias is a vector: (3,), (3, 1) and (1, 3) are all the same three numbers
        if array.size == math.prod(shape) and sum(d > 1 for d in array.shape) <= 1:
            return array.reshape(shape)
        wanted = "one number (bias: shared)" if shape == () else f"{math.prod(shape)} numbers"
        raise source.error(path, f"{name} has shape {shape_text(array.shape)}, expected {wanted}")
    if array.shape != shape:
        hint = f"in {net.layout.name} layout W is " + (
            "units x inputs" if net.layout.name == "column" else "inputs x units")
        if array.shape == shape[::-1]:
            hint += "; this looks transposed"
        raise source.error(path, f"{name} has shape {shape_text(array.shape)}, expected {shape_text(shape)}", hint)
    return array
