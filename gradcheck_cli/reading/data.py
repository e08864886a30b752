"""A spec's data and the arrays it writes out, read into numpy: inputs and targets (given one sample
per row, or generated from the spec's seed, each quantity from its own stream), and the checks that
every array written in a spec has the right shape and holds finite numbers only."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcheck_cli.network.activations import PROBABILITY_OUTPUTS
from gradcheck_cli.network.network import Network
from gradcheck_cli.reading.loader import KeyPath, SourceMap
from gradcheck_cli.reading.model import Spec

STREAM_X, STREAM_Y, STREAM_PARAMS = 0, 1, 2  # the seed's streams: inputs, targets, then one per parameter


def seeded(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))




def data_arrays(spec: Spec, net: Network, source: SourceMap) -> tuple[np.ndarray, np.ndarray]:
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
        x = _inputs(data.x, net, source)
        y = _targets(data.y, x.shape[0], net, source)
        return x, y
    return _generated(spec, net, source)


def _samples(value: Any, width: int, path: KeyPath, source: SourceMap) -> np.ndarray:
    """Rows of ``width`` numbers; a flat list is one row, or one number per row when width is 1."""
    array = numbers(value, path, source)
    if array.ndim == 1:
        array = array.reshape(-1, 1) if width == 1 else array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != width:
        raise source.error(path, f"{dotted(path)} has shape {shape_text(array.shape)}, expected rows of {width} "
                           "numbers", "write one sample per row")
    return array


def _inputs(value: Any, net: Network, source: SourceMap) -> np.ndarray:
    """One sample per row, or per entry of C x H x W (or T x D) nested arrays for a multi-axis input;
    what the first layer cannot take (an embedding's index outside its vocabulary) is refused."""
    shape = net.input_shape
    if len(shape) == 1:
        array = _samples(value, shape[0], ("data", "x"), source)
    else:
        array = numbers(value, ("data", "x"), source)
        if array.shape[1:] != shape:
            raise source.error(("data", "x"), f"data.x has shape {shape_text(array.shape)}, expected samples of "
                               f"{shape_text(shape)} (the spec's input)", "write one nested array per sample")
    problem = net.layers[0].input_problem(array)
    if problem:
        raise source.error(("data", "x"), *problem)
    return array


def _targets(value: Any, m: int, net: Network, source: SourceMap) -> np.ndarray:
    """Targets shaped as the output: m rows of K, or m x T x K for a sequence output (one target per
    step); class labels (m of them, or m x T) become one-hot."""
    path: KeyPath = ("data", "y")
    outputs, lead = net.outputs, _label_shape(net, m)
    loss = net.loss
    if loss.targets == "class" and _is_label_list(value, len(lead)):
        labels = np.asarray(value)
        if labels.shape != lead and len(lead) == 1:
            raise source.error(path, f"data.y has {labels.size} labels for {m} samples", "give one label per sample")
        if labels.shape != lead:
            raise source.error(path, f"data.y has labels of shape {shape_text(labels.shape)}, expected "
                               f"{shape_text(lead)} (samples x steps)", "give one label per step of each sample")
        bad = np.argwhere((labels < 0) | (labels >= outputs))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            raise source.error(path + where, f"class label {labels[where]} is out of range",
                               f"labels must lie in 0..{outputs - 1} for {outputs} output units")
        return np.eye(outputs)[labels]
    if len(lead) == 1:
        y = _samples(value, outputs, path, source)
        if y.shape[0] != m:
            raise source.error(path, f"data.y has {y.shape[0]} rows but data.x has {m}",
                               "give one target row per sample")
    else:
        y = numbers(value, path, source)
        if y.shape != lead + (outputs,):
            raise source.error(path, f"data.y has shape {shape_text(y.shape)}, expected "
                               f"{shape_text(lead + (outputs,))} (samples x steps x outputs)",
                               "give one target per step of each sample, or class labels samples x steps")
    if loss.targets in ("class", "binary"):
        outside = np.argwhere((y < 0) | (y > 1))
        if outside.size:
            raise source.error(path + tuple(int(i) for i in outside[0][:-1]),
                               f"target {y[tuple(outside[0])]} is outside [0, 1]",
                               f"loss {loss.name!r} takes probabilities as targets")
    if loss.targets == "class":
        sums = y.sum(axis=-1)
        off = np.argwhere(np.abs(sums - 1) > 1e-6)
        if off.size:
            where = tuple(int(i) for i in off[0])
            raise source.error(path + where, f"target row sums to {sums[where]:.6g}, not 1",
                               f"loss {loss.name!r} takes one-hot or probability rows, or integer class labels")
    return y


def _label_shape(net: Network, m: int) -> tuple[int, ...]:
    """The targets' shape without their outputs' axis: m, or m x T for a sequence output."""
    return (m,) + net.layers[-1].out_shape[:-1]


def _is_label_list(value: Any, depth: int) -> bool:
    """Whether ``value`` is a list of integers, nested ``depth`` deep (labels per sample, or per step)."""
    if depth == 0:
        return type(value) is int
    return isinstance(value, list) and bool(value) and all(_is_label_list(v, depth - 1) for v in value)


def _generated(spec: Spec, net: Network, source: SourceMap) -> tuple[np.ndarray, np.ndarray]:
    m, outputs = spec.data.samples, net.outputs
    rng_x, rng_y = seeded(spec.seed, STREAM_X), seeded(spec.seed, STREAM_Y)
    if spec.data.generator == "spiral":
        if net.input_shape != (2,) or net.loss.targets != "class":
            raise source.error(("data", "generator"), "the spiral generator makes 2-D points with class labels",
                               "use input: 2 and a class loss (softmax_cross_entropy or cross_entropy)")
        x, labels = spiral(m, outputs, rng_x)
        return x, np.eye(outputs)[labels]
    x = net.layers[0].inputs_from(rng_x, m)
    lead = _label_shape(net, m)  # a target per sample, or per step of a sequence
    if net.loss.targets == "class":
        return x, np.eye(outputs)[rng_y.integers(0, outputs, size=lead)]
    if net.loss.targets == "binary":
        return x, rng_y.integers(0, 2, size=lead + (outputs,)).astype(float)
    last = net.layers[-1].activation.name
    if last in PROBABILITY_OUTPUTS:
        return x, rng_y.uniform(0.0, 1.0, size=lead + (outputs,))
    if last == "tanh":
        return x, rng_y.uniform(-1.0, 1.0, size=lead + (outputs,))
    return x, rng_y.standard_normal(lead + (outputs,))


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




def numbers(value: Any, path: KeyPath, source: SourceMap) -> np.ndarray:
    """A number, or nested lists of equal lengths at every level (rows; samples of C x H x W) of
    finite numbers, as float64."""
    items: list[tuple[KeyPath, Any]] = []
    _items(value, path, path, source, items)
    if not items:
        raise source.error(path, f"{dotted(path)} is empty")
    for where, v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise source.error(where, f"{dotted(path)} must hold numbers only, found {v!r}")
        if not math.isfinite(v):
            raise source.error(where, f"{dotted(path)} contains {v}", "NaN and infinite values cannot be checked")
    return np.array(value, dtype=np.float64)


def _items(value: Any, where: KeyPath, path: KeyPath, source: SourceMap, out: list[tuple[KeyPath, Any]]) -> tuple:
    """The numbers of a nested list with their places, and its shape; ragged nesting (a row shorter
    than row 0, a sample of another shape) is refused at the first place it shows."""
    if not isinstance(value, list):
        out.append((where, value))
        return ()
    shapes = [_items(item, where + (i,), path, source, out) for i, item in enumerate(value)]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            if len(shape) == len(shapes[0]) == 1:
                raise source.error(where + (i,), f"row {i} of {dotted(where)} has {shape[0]} numbers, row 0 has "
                                   f"{shapes[0][0]}", "every row needs the same length")
            raise source.error(where + (i,), f"entry {i} of {dotted(where)} has shape {shape_text(shape)}, entry 0 "
                               f"has {shape_text(shapes[0])}", "every entry needs the same shape")
    return (len(value),) + (shapes[0] if shapes else ())


def dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"
