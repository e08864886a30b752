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
from gradcheck_cli.network.activations import PROBABILITY_OUTPUTS
from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.layers.base import Layer, LayerProblem, Parameter, Place, activation_of
from gradcheck_cli.network.layouts import LAYOUTS, Layout
from gradcheck_cli.network.losses import LOSSES
from gradcheck_cli.network.network import Network, Params
from gradcheck_cli.network.registry import UnknownNameError, lookup
from gradcheck_cli.reading.data import STREAM_PARAMS, data_arrays, numbers, seeded, shape_text
from gradcheck_cli.reading.derivation_section import parse_derivation
from gradcheck_cli.reading.loader import KeyPath, SourceMap
from gradcheck_cli.reading.memory import check_memory
from gradcheck_cli.reading.model import Spec
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
        line = source.lines.get(("parameters", name)) or source.line(("layers", net.layer_of(name) - 1))
        if line is not None:
            lines[name] = line
    if ("expect",) in source.lines:
        lines["expect"] = source.lines[("expect",)]
    return lines


def _network(spec: Spec, layout: Layout, source: SourceMap) -> Network:
    problems: list[SpecError] = []
    layers: list[Layer] = []
    shape: tuple[int, ...] | None = input_shape(spec)
    for i, entry in enumerate(spec.layers):  # each layer is built on the output shape of the one before
        module = LAYER_TYPES[entry.type]
        try:
            activation, options = activation_of(entry, layout)  # every layer's misnamed activation at once
            if layout.name not in module.LAYOUTS:
                raise LayerProblem(f"needs layout: row (samples first, N x C x H x W); this spec is in "
                                   f"{layout.name} layout", "add 'layout: row' and write W as inputs x units")
            if shape is not None:
                place = Place(layout, activation, options, spec.seed, i + 1, spec.data.samples)
                layers.append(module.build(entry, shape, place))
                shape = layers[-1].out_shape
        except LayerProblem as exc:
            shape = None if exc.key is None else shape
            where = ("layers", i) + ((exc.key,) if exc.key else ())
            prefix = "" if exc.key else f"layer {i + 1} ({entry.type}): "
            problems.append(source.error(where, prefix + exc.message, exc.hint))
    try:
        loss = lookup("loss", LOSSES, spec.loss.name)
    except UnknownNameError as exc:
        problems.append(source.error(("loss",), str(exc), exc.hint))
    if problems:  # the layer's problem and the loss's at once
        raise SpecError.all_of(problems)
    if len(layers[-1].out_shape) > 2:  # a vector per sample, or one per step of a sequence (T x K)
        raise source.error(("layers", len(layers) - 1), f"the loss takes one vector per sample, but the last layer's "
                           f"output is {' x '.join(map(str, layers[-1].out_shape))} per sample",
                           "end the network with {type: flatten} and a dense layer")
    last = layers[-1].activation.name
    if loss.needs_probabilities and last not in PROBABILITY_OUTPUTS:
        raise source.error(
            ("layers", len(layers) - 1, "activation"),
            f"loss {loss.name!r} takes probabilities, but the last layer's activation {last!r} does not produce them",
            "use a softmax or sigmoid output layer, or softmax_cross_entropy on logits",
        )
    return Network(layout, input_shape(spec), tuple(layers), loss, spec.loss.reduction, spec.l2)


def input_shape(spec: Spec) -> tuple[int, ...]:
    """One sample's shape: ``input: 3`` is (3,), ``input: [3, 8, 8]`` is channels x height x width,
    ``input: [5, 4]`` is 5 steps of 4 features, ``input: [5]`` 5 steps of an embedding's indices."""
    return (spec.input,) if isinstance(spec.input, int) else tuple(spec.input)


# ----------------------------------------------------------------------------------- parameters


def parameter_shapes(net: Network) -> dict[str, tuple[int, ...]]:
    """Shape of every parameter, by name, as its layer type places it in the layout."""
    return {name: p.shape for name, p in net.parameters().items()}


def _parameters(spec: Spec, net: Network, source: SourceMap) -> Params:
    shapes = parameter_shapes(net)
    for section, names in (("parameters", spec.parameters), ("trainable", spec.trainable)):
        for name in names:
            if name not in shapes:
                raise source.error((section, name), f"unknown parameter {name!r}", _why_unknown(name, net, shapes))
    params: Params = {}
    for index, (name, p) in enumerate(net.parameters().items()):
        if name in spec.parameters:
            params[name] = _explicit_parameter(spec.parameters[name], name, p, source)
            continue
        rng = seeded(spec.seed, STREAM_PARAMS + index)  # each parameter its own stream, by its place
        if p.init == "weights":
            std = 1 / math.sqrt(p.fan_in) if spec.init.weights == "lecun" else spec.init.weights
        else:
            std = spec.init.biases
        params[name] = rng.standard_normal(p.shape) * std + (1.0 if p.init == "scales" else 0.0)
    return params


def _why_unknown(name: str, net: Network, shapes: dict[str, tuple[int, ...]]) -> str:
    symbol = name.rstrip("0123456789")
    if symbol != name and name[len(symbol):][0] != "0":
        l = net.layer_of(name)
        if not 1 <= l <= len(net.layers):
            return f"the network has {len(net.layers)} layers"
        layer = net.layers[l - 1]
        if net.bias_none(name):
            return f"layer {l} has bias: none"
        own = [f"{p.symbol}{l}" for p in layer.parameters()]
        return f"layer {l} ({layer.TYPE}) has " + (", ".join(own) if own else "no parameters")
    return "parameters are named " + ", ".join(shapes)


def _explicit_parameter(value: Any, name: str, p: Parameter, source: SourceMap) -> np.ndarray:
    path: KeyPath = ("parameters", name)
    array = numbers(value, path, source)
    shape = p.shape
    if p.init != "weights":
        # a bias (or gamma) is a vector: (3,), (3, 1) and (1, 3) are all the same three numbers
        if array.size == math.prod(shape) and sum(d > 1 for d in array.shape) <= 1:
            return array.reshape(shape)
        wanted = "one number (bias: shared)" if shape == () else f"{math.prod(shape)} numbers"
        raise source.error(path, f"{name} has shape {shape_text(array.shape)}, expected {wanted}")
    if array.shape != shape:
        hint = p.shape_hint
        if array.shape == shape[::-1]:
            hint += "; this looks transposed"
        raise source.error(path, f"{name} has shape {shape_text(array.shape)}, expected {shape_text(shape)}", hint)
    return array
