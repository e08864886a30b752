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

from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.layers.base import ActivationSpec, LayerProblem, Place, activation_of
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
    layer_inputs: Callable[[dict[str, Array]], tuple[Array, dict[str, Array]]] | None = None  # as it takes them
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
    x_name, symbols, sources, back = _sources(case, kind, module)
    x = sources[""](case.arrays)
    shapes = {symbol: make(case.arrays).shape for symbol, make in sources.items() if symbol}
    keys = {**getattr(module, "reference_keys", lambda s: {})(shapes), **given}
    try:
        entry = module.SPEC.model_validate(keys)
    except ValidationError as exc:
        raise translate(exc.errors(include_url=False), case.source, module.SPEC, ("reference",)) from None
    flatten = kind == "dense" and x.ndim > 2  # cs231n's affine flattens each sample
    in_shape = (int(np.prod(x.shape[1:])),) if flatten else tuple(x.shape[1:])
    activation, options = activation_of(entry, ROW)
    layer = module.build(entry, in_shape, Place(ROW, activation, options, case.spec.seed, 1, len(x)))
    for parameter in layer.parameters():
        if parameter.symbol not in sources:
            raise case.source.error(("inputs",), f"the {kind} reference has a parameter {parameter.symbol} "
                                    f"that no input gives", f"add an input named {parameter.symbol.rstrip('_')}")
        if int(np.prod(shapes[parameter.symbol])) != int(np.prod(parameter.shape)):
            name = next((n for n, s in symbols.items() if s == parameter.symbol), parameter.symbol)
            raise case.source.error(("inputs", name), f"inputs.{name} has shape {list(case.arrays[name].shape)}, "
                                    f"but the {kind} reference's {parameter.symbol} is {list(parameter.shape)}",
                                    parameter.shape_hint)
    wanted = {p.symbol: p.shape for p in layer.parameters()}

    def layer_inputs(arrays: dict[str, Array]) -> tuple[Array, dict[str, Array]]:
        """The layer's input and its parameters by symbol, from the given arrays, as the registry takes them."""
        a = sources[""](arrays)
        return (a.reshape(len(a), -1) if flatten else a,
                {s: np.reshape(make(arrays), wanted[s]) for s, make in sources.items() if s})

    def forward(arrays: dict[str, Array]) -> list[Array]:
        z, _ = layer.forward(*layer_inputs(arrays))
        return [back(np.asarray(layer.activation.forward(z, layer.options), dtype=np.float64))]

    # the classic mistakes are the registry's, in its own layout: named only where the student's is the same
    plain = case.spec.conventions == type(case.spec.conventions)()
    return Reference(forward, kind, layer=layer if plain else None, layer_inputs=layer_inputs, input_name=x_name,
                     symbols=symbols)


Source = Callable[[dict[str, Array]], Array]  # the given arrays by name -> one array as the registry has it


def _sources(case: LayerCase, kind: str,
             module: Any) -> tuple[str, dict[str, str], dict[str, Source], Callable[[Array], Array]]:
    """The layer input's name; which input is which parameter (by name: w is W, h0 is h0_); how the
    layer input ("") and each parameter are made from the given arrays in the registry's layout (the
    ``conventions`` converted); and how an output goes back to the student's layout."""
    conventions = case.spec.conventions
    if kind == "lstm" and conventions.gates == "separate":
        return _separate_gates(case)
    by_symbol = {s.lower().rstrip("_"): s for s in module.SYMBOLS}
    symbols = {name: by_symbol[name.lower().rstrip("_")] for name in case.arrays
               if name.lower().rstrip("_") in by_symbol}
    rest = [name for name in case.arrays if name not in symbols]
    if len(rest) != 1:
        raise case.source.error(("inputs",), f"a {kind} reference takes one input besides its parameters "
                                f"({', '.join(module.SYMBOLS) or 'none'}), but {', '.join(rest) or 'none'} are left",
                                "name the inputs as the layer's parameters (w for W, h0 for h0_)")
    x_name = rest[0]
    convert: dict[str, Callable[[Array], Array]] = {}
    back: Callable[[Array], Array] = _same
    by_input = {symbol: name for name, symbol in symbols.items()}
    if conventions.layout == "NHWC" and case.arrays[x_name].ndim == 4:
        convert[x_name] = lambda a: np.moveaxis(a, -1, 1)  # N x H x W x C -> N x C x H x W
        back = lambda out: np.moveaxis(out, 1, -1) if out.ndim == 4 else out  # noqa: E731
        if kind == "conv2d" and "W" in by_input:  # Ng's f x f x C x F -> F x C x f x f
            convert[by_input["W"]] = lambda w: np.transpose(w, (3, 2, 0, 1)) if w.ndim == 4 else w
    if conventions.linear == "out_in" and kind == "dense" and "W" in by_input:
        convert[by_input["W"]] = lambda w: np.swapaxes(w, 0, 1) if w.ndim == 2 else w
    if conventions.gates == "ifgo" and kind == "lstm":  # torch's i, f, g, o -> i, f, o, g
        for symbol in ("Wx", "Wh", "b"):
            if symbol in by_input:
                convert[by_input[symbol]] = _gates_ifgo_to_ifog
    sources = {symbol: _taken(name, convert.get(name, _same)) for name, symbol in symbols.items()}
    return x_name, symbols, {"": _taken(x_name, convert.get(x_name, _same)), **sources}, back


def _taken(name: str, convert: Callable[[Array], Array]) -> Source:
    return lambda arrays: convert(arrays[name])


def _same(array: Array) -> Array:
    return array


def _gates_ifgo_to_ifog(w: Array) -> Array:
    i, f, g, o = np.split(w, 4, axis=-1)
    return np.concatenate([i, f, o, g], axis=-1)


NG_GATES = ("i", "f", "o", "c")  # Ng's update, forget, output gates and candidate, in the registry's order


def _separate_gates(case: LayerCase) -> tuple[str, dict[str, str], dict[str, Source], Callable[[Array], Array]]:
    """Ng's LSTM: Wf, Wi, Wc, Wo (n_a x (n_a + n_x)) on the stack [a_prev; x_t], bf, bi, bc, bo (n_a x 1),
    and with ``sequence: DNT`` x as n_x x m x T_x, a0 as n_a x m, the hidden states out as n_a x m x T_x.
    The registry's Wx, Wh and b are those blocks side by side; inputs the LSTM has no use for (Ng's Wy,
    by, for the predictions) are left to the student's forward."""
    needed = [f"W{g}" for g in NG_GATES] + [f"b{g}" for g in NG_GATES]
    missing = [name for name in needed if name not in case.arrays]
    initial = next((name for name in ("a0", "h0") if name in case.arrays), None)
    x_name = next((name for name in case.arrays if name not in needed + ["a0", "h0", "Wy", "by"]), None)
    if missing or x_name is None:
        raise case.source.error(("inputs",), "an LSTM reference with gates: separate takes x, a0 and Ng's "
                                f"{', '.join(needed)}" + (f"; {', '.join(missing)} missing" if missing else ""),
                                "name the inputs as Ng's course does")
    columns = case.spec.conventions.sequence == "DNT"
    n_a = case.arrays["Wf"].shape[0]

    def blocks(part: slice) -> Source:
        return lambda arrays: np.concatenate([arrays[f"W{g}"][:, part] for g in NG_GATES], axis=0).T

    sources: dict[str, Source] = {
        "": (lambda arrays: np.transpose(arrays[x_name], (1, 2, 0))) if columns else _taken(x_name, _same),
        "Wh": blocks(slice(0, n_a)), "Wx": blocks(slice(n_a, None)),
        "b": lambda arrays: np.concatenate([np.ravel(arrays[f"b{g}"]) for g in NG_GATES])}
    if initial is not None:
        sources["h0_"] = _taken(initial, np.transpose if columns else _same)
    back = (lambda out: np.transpose(out, (2, 0, 1)) if out.ndim == 3 else out.T) if columns else _same
    symbols = {f"W{g}": "Wx" for g in NG_GATES} | {f"b{g}": "b" for g in NG_GATES}
    return x_name, symbols | ({initial: "h0_"} if initial else {}), sources, back


def _activation(case: LayerCase, given: dict[str, Any]) -> Reference:
    """An activation as a layer, read as a layer entry's activation: and alpha: are (``activation_of``)."""
    try:
        entry = ActivationSpec.model_validate(given)
    except ValidationError as exc:
        raise translate(exc.errors(include_url=False), case.source, ActivationSpec, ("reference",)) from None
    activation, options = activation_of(entry, ROW)
    first = next(iter(case.arrays))
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
