"""The reference of a layer check: gradcheck's own forward pass of the same layer, from the registry.

    reference: {type: conv2d, stride: 2, padding: 1}      a registry layer type, with its keys
    reference: {activation: relu}                          an element-wise activation as a layer
    reference: {loss: softmax_cross_entropy}               a loss of (scores, labels): mean over N

For a layer type, each input whose name is one of the type's parameters (case and a trailing _
aside: w is W, h0 is h0_) is that parameter, and the one input left is the layer's input. The sizes
a type needs (units, filters, kernel, vocab, dim) come from those arrays' shapes
(``reference_keys`` in the type's module), so only the keys that are not in the arrays are
written. A dense reference flattens each sample first, as cs231n's affine_forward does. A loss
reference takes the scores and the targets (class labels as an integer input, or an array of
targets) and averages over the samples, as cs231n's losses do; ``reduction: sum`` in the reference
sums instead. A loss function's gradient is that of its scores alone.

Only forward passes of the registry are used: the reference is compared by value, and its
numerical vector-Jacobian product is a second witness of the student's backward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.layers.base import LayerProblem, Options, Place, activation_of
from gradcheck_cli.network.layouts import LAYOUTS
from gradcheck_cli.network.losses import LOSSES
from gradcheck_cli.network.registry import UnknownNameError, did_you_mean, lookup
from gradcheck_cli.reading.layer_spec import LayerCase
from gradcheck_cli.reading.model import translate

Array = np.ndarray
ROW = LAYOUTS["row"]


@dataclass(frozen=True)
class Reference:
    """A forward pass to compare with: inputs by name -> outputs, and what it is, for the report."""

    forward: Callable[[dict[str, Array]], list[Array]]
    label: str  # "conv2d", "activation relu", "loss softmax_cross_entropy"
    layer: Any = None  # the registry layer, for its classic mistakes (diagnoses)
    activation: Any = None  # an activation reference's Activation and Options, for its mistakes
    input_name: str = ""  # which input is the layer's input
    symbols: dict[str, str] | None = None  # input name -> parameter symbol


def reference_of(case: LayerCase) -> Reference | None:
    """The spec's reference, built on the case's arrays; a :class:`SpecError` (with its line) if it
    cannot be."""
    given = case.spec.reference
    if given is None:
        return None
    kinds = [key for key in ("type", "activation", "loss") if key in given]
    if "type" not in given and len(kinds) != 1:
        raise case.source.error(("reference",), "reference needs one of type:, activation: or loss:",
                                "e.g. reference: {type: conv2d, stride: 2, padding: 1}")
    try:
        if "type" in given:
            return _layer(case, dict(given))
        if "activation" in given:
            return _activation(case, dict(given))
        return _loss(case, dict(given))
    except UnknownNameError as exc:
        raise case.source.error(("reference", kinds[0]), str(exc), exc.hint) from None
    except LayerProblem as exc:
        raise case.source.error(("reference",), f"reference: {exc.message}", exc.hint) from None


def _layer(case: LayerCase, given: dict[str, Any]) -> Reference:
    kind = given["type"]
    module = lookup("layer type", LAYER_TYPES, kind) if isinstance(kind, str) else None
    if module is None:
        raise case.source.error(("reference", "type"), "reference.type must be text")
    by_symbol = {s.lower().rstrip("_"): s for s in module.SYMBOLS}
    symbols = {name: by_symbol[name.lower().rstrip("_")] for name in case.arrays
               if name.lower().rstrip("_") in by_symbol}
    rest = [name for name in case.arrays if name not in symbols]
    if len(rest) != 1:
        raise case.source.error(("inputs",), f"a {kind} reference takes one input besides its parameters "
                                f"({', '.join(module.SYMBOLS) or 'none'}), but {', '.join(rest) or 'none'} are left",
                                "name the inputs as the layer's parameters (w for W, h0 for h0_)")
    x_name = rest[0]
    convert, back = _conventions(case, kind, x_name, symbols)
    arrays = {name: convert.get(name, _same)(value) for name, value in case.arrays.items()}  # as the registry has them
    x = arrays[x_name]
    shapes = {symbol: arrays[name].shape for name, symbol in symbols.items()}
    keys = {**getattr(module, "reference_keys", lambda s: {})(shapes), **given}
    try:
        entry = module.SPEC.model_validate(keys)
    except ValidationError as exc:
        errors = [{**e, "loc": ("reference", *e["loc"])} for e in exc.errors(include_url=False)]
        raise translate(errors, case.source, type(case.spec)) from None
    flatten = kind == "dense" and x.ndim > 2  # cs231n's affine flattens each sample
    in_shape = (int(np.prod(x.shape[1:])),) if flatten else tuple(x.shape[1:])
    activation, options = activation_of(entry, ROW)
    layer = module.build(entry, in_shape, Place(ROW, activation, options, case.spec.seed, 1, len(x)))
    for parameter in layer.parameters():
        name = next((n for n, s in symbols.items() if s == parameter.symbol), None)
        if name is None:
            raise case.source.error(("inputs",), f"the {kind} reference has a parameter {parameter.symbol} "
                                    f"that no input gives", f"add an input named {parameter.symbol.rstrip('_')}")
        if int(np.prod(arrays[name].shape)) != int(np.prod(parameter.shape)):
            raise case.source.error(("inputs", name), f"inputs.{name} has shape {list(arrays[name].shape)}, "
                                    f"but the {kind} reference's {parameter.symbol} is {list(parameter.shape)}",
                                    parameter.shape_hint)

    def forward(given: dict[str, Array]) -> list[Array]:
        a = convert.get(x_name, _same)(given[x_name])
        a = a.reshape(len(a), -1) if flatten else a
        p = {s: np.reshape(convert.get(n, _same)(given[n]), next(q.shape for q in layer.parameters() if q.symbol == s))
             for n, s in symbols.items()}
        z, _ = layer.forward(a, p)
        return [back(np.asarray(layer.activation.forward(z, layer.options), dtype=np.float64))]

    # the classic mistakes are the registry's, in its own layout: named only where the student's is the same
    plain = case.spec.conventions == type(case.spec.conventions)()
    return Reference(forward, kind, layer=layer if plain else None, input_name=x_name, symbols=symbols)


def _same(array: Array) -> Array:
    return array


def _conventions(case: LayerCase, kind: str, x_name: str,
                 symbols: dict[str, str]) -> tuple[dict[str, Callable[[Array], Array]], Callable[[Array], Array]]:
    """How each input becomes the registry's layout (by input name), and how an output comes back."""
    conventions, convert = case.spec.conventions, {}
    back: Callable[[Array], Array] = _same
    by_symbol = {symbol: name for name, symbol in symbols.items()}
    if conventions.layout == "NHWC" and case.arrays[x_name].ndim == 4:
        convert[x_name] = lambda a: np.moveaxis(a, -1, 1)  # N x H x W x C -> N x C x H x W
        back = lambda out: np.moveaxis(out, 1, -1) if out.ndim == 4 else out  # noqa: E731
        if kind == "conv2d" and "W" in by_symbol:  # Ng's f x f x C x F -> F x C x f x f
            convert[by_symbol["W"]] = lambda w: np.transpose(w, (3, 2, 0, 1)) if w.ndim == 4 else w
    if conventions.linear == "out_in" and kind == "dense" and "W" in by_symbol:
        convert[by_symbol["W"]] = lambda w: np.swapaxes(w, 0, 1) if w.ndim == 2 else w
    if conventions.gates == "ifgo" and kind == "lstm":  # torch's i, f, g, o -> i, f, o, g
        for symbol in ("Wx", "Wh", "b"):
            if symbol in by_symbol:
                convert[by_symbol[symbol]] = _gates_ifgo_to_ifog
    return convert, back


def _gates_ifgo_to_ifog(w: Array) -> Array:
    i, f, g, o = np.split(w, 4, axis=-1)
    return np.concatenate([i, f, o, g], axis=-1)


def _activation(case: LayerCase, given: dict[str, Any]) -> Reference:
    name = given.pop("activation")
    if given:
        raise case.source.error(("reference",), f"unknown key {sorted(given)[0]!r} in an activation reference",
                                "only activation: and alpha: apply")
    activation = lookup("activation", ACTIVATIONS, name) if isinstance(name, str) else None
    if activation is None:
        raise case.source.error(("reference", "activation"), "reference.activation must be text")
    first = next(iter(case.arrays))
    options = Options(alpha=activation.default_alpha or 0.0, axis=-1)
    return Reference(lambda arrays: [activation.forward(np.asarray(arrays[first], dtype=np.float64), options)],
                     f"activation {activation.name}", input_name=first, activation=(activation, options))


def loss_input(case: LayerCase) -> str:
    """The input a loss function differentiates: its first (the scores); the targets get no gradient."""
    return case.differentiable[0]


def _loss(case: LayerCase, given: dict[str, Any]) -> Reference:
    name, reduction = given.pop("loss"), given.pop("reduction", "mean")
    if given or reduction not in ("mean", "sum"):
        raise case.source.error(("reference",), "a loss reference takes loss: and reduction: (mean or sum)",
                                did_you_mean(str(next(iter(given), "")), ["reduction"]) if given else "")
    loss = lookup("loss", LOSSES, name) if isinstance(name, str) else None
    if loss is None:
        raise case.source.error(("reference", "loss"), "reference.loss must be text")
    scores = loss_input(case)
    targets = next((name for name in case.arrays if name != scores), None)
    if targets is None:
        raise case.source.error(("inputs",), "a loss reference needs the targets as a second input",
                                "class labels as an integer input (y: {shape: [5], below: 10}), or an array")
    classes, labels = case.arrays[scores].shape[-1], case.arrays[targets]
    if targets in case.integer and labels.size and not 0 <= int(labels.min()) <= int(labels.max()) < classes:
        raise case.source.error(("inputs", targets), f"inputs.{targets} holds labels outside 0..{classes - 1}, the "
                                f"columns of {scores}", f"draw them with below: {classes}")

    def forward(arrays: dict[str, Array]) -> list[Array]:
        a = np.asarray(arrays[scores], dtype=np.float64)
        y = np.eye(classes)[arrays[targets]] if targets in case.integer else np.asarray(arrays[targets], dtype=float)
        total = loss.per_sample(a, y, -1).sum()
        return [np.asarray(total / (len(a) if reduction == "mean" else 1))]

    return Reference(forward, f"loss {loss.name}", input_name=scores)
