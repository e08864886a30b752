"""A student's derivation: formulas parsed from the spec, evaluated in order, checked link by link.

Each formula named ``dW<l>`` or ``db<l>`` is compared with the numerical gradient of that
parameter; ``dz<l>`` (delta^l) and ``da<l>`` with the numerical gradient of the loss with respect
to z^l or a^l, obtained by perturbing that quantity directly in a forward pass. ``dZ<l>`` and
``dA<l>``, the capitals of Andrew Ng's course, are the same checked quantities, and formulas may
read ``Z<l>``, ``A<l>``, ``X`` and ``Y`` as well.

Any other name is a helper: evaluated, available to later formulas, not compared. So that a
typo can never turn a checked formula into an unchecked helper (and a PASS that checked nothing),
a name a reader would take for a checked one is refused with the name it was probably meant to
be: every case or underscore variant of d + W, b, z, a or x, with or without a layer number or a
``dE_``/``dL_``/``dJ_`` prefix, and ``delta<l>`` (the seeds' delta^l is ``dz<l>``). Helpers get
names such as ``g1`` or ``sig_prime2``.

Formulas see the quantities of the forward pass in the spec's layout (float64), and every
earlier formula's result, so a wrong link propagates to the links that use it, exactly as in a
derivation on paper.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.derivation.formula import Formula
from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.network import ForwardPass, Network, Params


@functools.cache
def state_kinds() -> tuple[str, ...]:
    """The states of the registry's recurrent types (h, c): dh<l>, dc<l> check dE/d(state) per step."""
    return tuple(sorted({s for module in LAYER_TYPES.values() for s in getattr(module, "STATES", ())}))


def perturbed(kind: str | None) -> bool:
    """Whether a link's witness moves the quantity itself (z, a, a state) rather than a parameter."""
    return kind in ("z", "a") or kind in state_kinds()


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The checked names, d + a parameter's symbol (W, b, gamma, beta: every layer type's, from the
    registry), z, a or a recurrent state (h, c); and the names that look like one (matched on the
    name lowercased, without _)."""
    symbols = sorted({s for module in LAYER_TYPES.values() for s in module.SYMBOLS}, key=len, reverse=True)
    states = list(state_kinds())
    checked = re.compile(rf"^d({'|'.join(symbols + states)}|z|a|Z|A)(\d+)$")
    looks = re.compile(rf"^(?:d[elj])?d([wbzax{''.join(states)}]|{'|'.join(s.lower() for s in symbols if len(s) > 1)})"
                       r"(\d*)$|^delta(\d*)$")
    return checked, looks


CAPITALS = {"Z": "z", "A": "a"}  # Ng's dZ<l>, dA<l> and Z<l>, A<l>


@dataclass(frozen=True)
class Link:
    """One formula of a derivation."""

    name: str
    formula: Formula | None  # None for a value computed by a user's backward function
    kind: str | None  # "W", "b", "z", "a", "h" for dW<l>, db<l>, dz<l>, da<l>, dh<l>; None for a helper
    layer: int
    line: int | None
    text: str = ""  # what to show for it: the formula, or where the value came from
    per_sample: bool = False  # a dz/da link of the summed per-sample losses (``deltas: per_sample``)

    @property
    def uses(self) -> frozenset[str]:
        return self.formula.names if self.formula else frozenset()

    @property
    def target(self) -> str:
        """What the formula is compared with, in the seeds' notation."""
        if self.kind is None:
            return ""
        extra = {"z": f" (delta^{self.layer})", "h": " (every step t, through h_(t+1) too)",
                 "c": " (every step t, through c_(t+1) too)"}.get(self.kind, "")
        of = "d(sum of the per-sample losses)" if self.per_sample else "dE"
        return f"{of}/d{self.kind}{self.layer}{extra}"


def quantity_names(net: Network) -> list[str]:
    """The names a formula can read, before any formula of the derivation (Ng's capitals too)."""
    layers = len(net.layers)
    names = ["x", "y", "m", "E", "l2", "X", "Y"] + net.parameter_names()
    names += [f"z{l}" for l in range(1, layers + 1)] + [f"a{l}" for l in range(0, layers + 1)]
    names += [f"Z{l}" for l in range(1, layers + 1)] + [f"A{l}" for l in range(0, layers + 1)]
    names += [f"{q}{l}" for l, layer in enumerate(net.layers, start=1) for q in layer.QUANTITIES]
    return names


class NameRejected(ValueError):
    """A formula or returned name that would be taken for a checked gradient but is none."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def checked_pattern() -> str:
    return "dW<l>, db<l>, dz<l> or da<l> (dZ<l>, dA<l> also; dh<l>, dc<l> of a recurrent layer)"


def classify(name: str, net: Network) -> tuple[str | None, int]:
    """("W", 2) for dW2, ("z", 3) for dz3 or dZ3; (None, 0) for a helper.

    Raises :class:`NameRejected` for a checked name of a quantity the network lacks, and for a name
    that looks like a checked one (see the module's docstring)."""
    match = _patterns()[0].match(name)
    if match:
        kind, layer = CAPITALS.get(match.group(1), match.group(1)), int(match.group(2))
        if not (0 if kind == "a" else 1) <= layer <= len(net.layers):
            raise NameRejected(f"{name}: the network has no layer {layer} (layers are numbered 1..{len(net.layers)},"
                               f" and a0 is x)", f"did you mean {_suggest(match.group(1), '', net)}?")
        of = net.layers[layer - 1] if layer else None
        if kind in state_kinds() and of is not None and kind not in of.STATES:
            has = [l for l, other in enumerate(net.layers, start=1) if kind in other.STATES]
            raise NameRejected(f"{name}: layer {layer} ({of.TYPE}) has no state {kind} at every step (dh<l> is "
                               f"checked on rnn, lstm and gru layers, dc<l> on lstm layers)",
                               f"did you mean {' or '.join(f'd{kind}{l}' for l in has)}?" if has
                               else "a helper needs another name")
        if not perturbed(kind) and f"{kind}{layer}" not in net.parameters():
            of = net.layers[layer - 1]
            raise NameRejected(f"{name}: layer {layer} has bias: none" if net.bias_none(f"{kind}{layer}")
                               else f"{name}: layer {layer} ({of.TYPE}) has no parameter {kind}{layer}", "remove it")
        return kind, layer
    looks = _patterns()[1].match(name.lower().replace("_", ""))
    if looks:
        letter, digits = (looks.group(1), looks.group(2)) if looks.group(1) else ("z", looks.group(3))
        if letter == "x":
            letter, digits = "a", "0"
        capital = {"z": "Z", "a": "A"}.get(letter) if letter.upper() in name[1:] else None
        symbol = capital or {"w": "W"}.get(letter, letter)
        raise NameRejected(f"{name!r} looks like a checked gradient but is none, so it would not be compared",
                           f"did you mean {_suggest(symbol, digits, net)}? (a helper's name must not look like "
                           f"{checked_pattern()})")
    return None, 0


def _suggest(symbol: str, digits: str, net: Network) -> str:
    """The checked names of ``symbol`` the network has: the one with ``digits`` if it exists, else all."""
    kind = CAPITALS.get(symbol, symbol)
    names = net.parameters()
    layers = [l for l in range(0 if kind == "a" else 1, len(net.layers) + 1)
              if kind in ("z", "a") or f"{kind}{l}" in names or kind in net.layers[l - 1].STATES]
    if digits and int(digits) in layers:
        return f"d{symbol}{int(digits)}"
    return " or ".join(f"d{symbol}{l}" for l in layers) or f"no d{symbol}: the network has none"


def environment(net: Network, params: Params, fp: ForwardPass, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The quantities formulas read, as float64 arrays in the spec's layout."""
    env: dict[str, np.ndarray] = {
        "x": x, "y": y, "m": np.asarray(float(net.samples_in(y))), "E": np.asarray(fp.E),
        "l2": np.asarray(net.l2),
    }
    env.update(params)
    env["x"] = env["X"] = net.layers[0].input_as_given(x)  # an embedding's indices as integers
    env["Y"] = y
    for l, z in enumerate(fp.z, start=1):
        env[f"z{l}"] = env[f"Z{l}"] = z
    for l, a in enumerate(fp.a):
        env[f"a{l}"] = env[f"A{l}"] = a
    for l, (layer, cache) in enumerate(zip(net.layers, fp.caches, strict=True), start=1):
        env.update(layer.quantities(l, cache))  # a dropout's mask<l>, a normalisation's xhat<l>, istd<l>
    return env


def expected_shape(link: Link, env: dict[str, np.ndarray]) -> tuple[int, ...]:
    return tuple(np.shape(env[f"{link.kind or 'a'}{link.layer}"]))


def accept_shape(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` in ``shape`` if one shape is the other with singleton dimensions left out ((3,) for
    (3, 1), a scalar for (1, 1)), else None.

    Only leaving out counts, never moving: (1, 3) is not accepted for (3, 1), because a row where a
    column belongs broadcasts into a matrix in ``b - lr * db``, and when two dimensions are equal a
    value of the wrong orientation would otherwise be compared as if it were right.
    """
    if value.shape == shape:
        return value
    if _drops_singletons(value.shape, shape) or _drops_singletons(shape, value.shape):
        return value.reshape(shape)
    return None


def _drops_singletons(short: tuple[int, ...], long: tuple[int, ...]) -> bool:
    """Whether ``short`` is ``long`` with some of its 1s removed, the other dimensions in order."""
    if len(short) >= len(long):
        return False
    kept = 0
    for d in long:
        if kept < len(short) and d == short[kept]:
            kept += 1
        elif d != 1:
            return False
    return kept == len(short)
