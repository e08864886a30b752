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

from gradcheck_cli.derivation import Link, parse_derivation
from gradcheck_cli.errors import SpecError
from gradcheck_cli.layers import LAYOUTS, Layout
from gradcheck_cli.limits import settings_problem
from gradcheck_cli.network import Layer, Network, Params
from gradcheck_cli.ops.activations import ACTIVATIONS, Options
from gradcheck_cli.ops.losses import LOSSES
from gradcheck_cli.ops.registry import UnknownNameError, lookup
from gradcheck_cli.spec_model import LayerSpec, Spec
from gradcheck_cli.yaml_loader import KeyPath, SourceMap

T = TypeVar("T")

PROBABILITY_OUTPUTS = ("sigmoid", "softmax")
_STREAM_X, _STREAM_Y, _STREAM_PARAMS = 0, 1, 2


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
        lambda: _data(spec, network, source), lambda: _parameters(spec, network, source),
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


# What a check holds at its peak, in bytes per entry, fitted to the measured peaks of
# benchmarks/memory.py (wide, deep, large-batch, row and column networks) and rounded up: per
# parameter entry, what the check keeps of it (the witness's fields, the analytic gradient, the
# comparison), and as much again for the largest parameter, whose re-checks and judging arrays are
# alive at once; per activation value (x, y, every z and a), the forward pass, its caches, the stacks
# of perturbed networks and a derivation's results; and a fixed part (the engine's threads and
# scratch buffers).
BYTES_PER_PARAMETER = 240
BYTES_PER_LARGEST_PARAMETER = 240
BYTES_PER_ACTIVATION = 104
FIXED_BYTES = 10 * 2**20


def memory_needed(spec: Spec, net: Network) -> tuple[int, int, int]:
    """(bytes the check allocates at its peak, parameters, batch size), before anything is allocated.

    Sizes are Python integers, so the estimate cannot overflow. benchmarks/memory.py holds it against
    the measured peak of real runs."""
    m = len(spec.data.x) if isinstance(spec.data.x, list) else (spec.data.batch or 4)
    sizes = [net.inputs] + [layer.units for layer in net.layers]
    weights = [sizes[l] * sizes[l + 1] for l in range(len(net.layers))]
    params = sum(weights) + sum(sizes[1:])
    activations = m * sum(sizes) + m * (sizes[0] + sizes[-1])
    needed = (BYTES_PER_PARAMETER * params + BYTES_PER_LARGEST_PARAMETER * max(weights)
              + BYTES_PER_ACTIVATION * activations + FIXED_BYTES)
    return needed, params, m


def check_memory(spec: Spec, net: Network, source: SourceMap, max_bytes: int) -> None:
    """Refuse a spec whose arrays would not fit, before numpy allocates them lazily and the process is
    killed later without a word."""
    needed, params, m = memory_needed(spec, net)
    sizes = [net.inputs] + [layer.units for layer in net.layers]
    if needed > max_bytes:
        widest = max(range(len(net.layers)), key=lambda l: sizes[l] * sizes[l + 1])
        raise source.error(("layers", widest), f"this network needs about {needed / 1024**3:.1f} GiB "
                           f"({params:,} parameters, batch {m:,}); the limit is {max_bytes / 1024**3:.1f} GiB",
                           "make it smaller, or raise the limit with --max-memory")


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


# ----------------------------------------------------------------------------------- data


def _data(spec: Spec, net: Network, source: SourceMap) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (m x inputs) and targets (m x outputs), one sample per row."""
    data = spec.data
    explicit = data.x is not None or data.y is not None
    if explicit and data.batch is not None:
        raise source.error(("data", "batch"), "give either data.x and data.y, or data.batch, not both")
    if explicit and data.generator != "normal":
        raise source.error(("data", "generator"), "a generator only applies to generated data",
                           "remove data.x and data.y, or the generator")
    if explicit:
        if data.x is None or data.y is None:
            missing = "x" if data.x is None else "y"
            raise source.error(("data",), f"data.{missing} is missing", "explicit data needs both x and y")
        x = _samples(data.x, net.inputs, ("data", "x"), source)
        y = _targets(data.y, x.shape[0], net, source)
        return x, y
    return _generated(spec, net, source)


def _samples(value: Any, width: int, path: KeyPath, source: SourceMap) -> np.ndarray:
    """Rows of ``width`` numbers; a flat list is one row, or one number per row when width is 1."""
    array = _numbers(value, path, source)
    if array.ndim == 1:
        array = array.reshape(-1, 1) if width == 1 else array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != width:
        raise source.error(path, f"{_name(path)} has shape {_shape(array.shape)}, expected rows of {width} numbers",
                           "write one sample per row")
    return array


def _targets(value: Any, m: int, net: Network, source: SourceMap) -> np.ndarray:
    path: KeyPath = ("data", "y")
    outputs = net.layers[-1].units
    loss = net.loss
    if loss.targets == "class" and _is_label_list(value):
        labels = np.asarray(value)
        if labels.shape != (m,):
            raise source.error(path, f"data.y has {labels.size} labels for {m} samples", "give one label per sample")
        bad = np.flatnonzero((labels < 0) | (labels >= outputs))
        if bad.size:
            raise source.error(path + (int(bad[0]),), f"class label {labels[bad[0]]} is out of range",
                               f"labels must lie in 0..{outputs - 1} for {outputs} output units")
        return np.eye(outputs)[labels]
    y = _samples(value, outputs, path, source)
    if y.shape[0] != m:
        raise source.error(path, f"data.y has {y.shape[0]} rows but data.x has {m}", "give one target row per sample")
    if loss.targets in ("class", "binary"):
        outside = np.argwhere((y < 0) | (y > 1))
        if outside.size:
            row = int(outside[0][0])
            raise source.error(path + (row,), f"target {y[tuple(outside[0])]} is outside [0, 1]",
                               f"loss {loss.name!r} takes probabilities as targets")
    if loss.targets == "class":
        sums = y.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1) > 1e-6)
        if off.size:
            raise source.error(path + (int(off[0]),), f"target row sums to {sums[off[0]]:.6g}, not 1",
                               f"loss {loss.name!r} takes one-hot or probability rows, or integer class labels")
    return y


def _is_label_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(type(v) is int for v in value)


def _generated(spec: Spec, net: Network, source: SourceMap) -> tuple[np.ndarray, np.ndarray]:
    m, outputs = spec.data.batch or 4, net.layers[-1].units
    rng_x, rng_y = _rng(spec.seed, _STREAM_X), _rng(spec.seed, _STREAM_Y)
    if spec.data.generator == "spiral":
        if net.inputs != 2 or net.loss.targets != "class":
            raise source.error(("data", "generator"), "the spiral generator makes 2-D points with class labels",
                               "use input: 2 and a class loss (softmax_cross_entropy or cross_entropy)")
        x, labels = spiral(m, outputs, rng_x)
        return x, np.eye(outputs)[labels]
    x = rng_x.standard_normal((m, net.inputs))
    if net.loss.targets == "class":
        return x, np.eye(outputs)[rng_y.integers(0, outputs, size=m)]
    if net.loss.targets == "binary":
        return x, rng_y.integers(0, 2, size=(m, outputs)).astype(float)
    last = net.layers[-1].activation.name
    if last in PROBABILITY_OUTPUTS:
        return x, rng_y.uniform(0.0, 1.0, size=(m, outputs))
    if last == "tanh":
        return x, rng_y.uniform(-1.0, 1.0, size=(m, outputs))
    return x, rng_y.standard_normal((m, outputs))


def spiral(m: int, classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The cs231n spiral of seed 004: ``classes`` arms of points with radius 0..1, noisy angle."""
    labels = np.arange(m) * classes // m  # as even a split over the classes as m allows
    x = np.empty((m, 2))
    for k in range(classes):
        idx = np.flatnonzero(labels == k)
        r = np.linspace(0.0, 1.0, idx.size)
        t = np.linspace(k * 4, (k + 1) * 4, idx.size) + rng.standard_normal(idx.size) * 0.2
        x[idx] = np.c_[r * np.sin(t), r * np.cos(t)]
    return x, labels


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
        rng = _rng(spec.seed, _STREAM_PARAMS + index)
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
    array = _numbers(value, path, source)
    if name.startswith("b"):
        # a bias is a vector: (3,), (3, 1) and (1, 3) are all the same three numbers
        if array.size == math.prod(shape) and sum(d > 1 for d in array.shape) <= 1:
            return array.reshape(shape)
        wanted = "one number (bias: shared)" if shape == () else f"{math.prod(shape)} numbers"
        raise source.error(path, f"{name} has shape {_shape(array.shape)}, expected {wanted}")
    if array.shape != shape:
        hint = f"in {net.layout.name} layout W is " + (
            "units x inputs" if net.layout.name == "column" else "inputs x units")
        if array.shape == shape[::-1]:
            hint += "; this looks transposed"
        raise source.error(path, f"{name} has shape {_shape(array.shape)}, expected {_shape(shape)}", hint)
    return array


# ----------------------------------------------------------------------------------- arrays


def _numbers(value: Any, path: KeyPath, source: SourceMap) -> np.ndarray:
    """A number, a list of numbers or a list of equal-length rows of finite numbers, as float64."""
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        width = len(value[0])
        for i, row in enumerate(value):
            if len(row) != width:
                raise source.error(path + (i,), f"row {i} of {_name(path)} has {len(row)} numbers, row 0 has {width}",
                                   "every row needs the same length")
        items = [(path + (i, j), v) for i, row in enumerate(value) for j, v in enumerate(row)]
    elif isinstance(value, list):
        items = [(path + (i,), v) for i, v in enumerate(value)]
    else:
        items = [(path, value)]
    if not items:
        raise source.error(path, f"{_name(path)} is empty")
    for where, v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise source.error(where, f"{_name(path)} must hold numbers only, found {v!r}")
        if not math.isfinite(v):
            raise source.error(where, f"{_name(path)} contains {v}", "NaN and infinite values cannot be checked")
    return np.array(value, dtype=np.float64)


def _name(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"
