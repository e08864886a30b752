"""A student's derivation: formulas parsed from the spec, evaluated in order, checked link by link.

Each formula named ``dW<l>`` or ``db<l>`` is compared with the numerical gradient of that
parameter; ``dz<l>`` (delta^l) and ``da<l>`` with the numerical gradient of the loss with respect
to z^l or a^l, obtained by perturbing that quantity directly in a forward pass. Any other name is
a helper: evaluated, available to later formulas, not compared. Formulas see the quantities of
the forward pass in the spec's layout (float64), and every earlier formula's result, so a wrong
link propagates to the links that use it, exactly as in a derivation on paper.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.formula import Formula, FormulaRejected, parse_formula
from gradcheck_cli.network import ForwardPass, Network, Params
from gradcheck_cli.spec_model import Spec
from gradcheck_cli.yaml_loader import SourceMap

_CHECKED = re.compile(r"^d(W|b|z|a)(\d+)$")


@dataclass(frozen=True)
class Link:
    """One formula of a derivation."""

    name: str
    formula: Formula | None  # None for a value computed by a user's backward function
    kind: str | None  # "W", "b", "z", "a" for dW<l>, db<l>, dz<l>, da<l>; None for a helper
    layer: int
    line: int | None
    text: str = ""  # what to show for it: the formula, or where the value came from

    @property
    def uses(self) -> frozenset[str]:
        return self.formula.names if self.formula else frozenset()

    @property
    def target(self) -> str:
        """What the formula is compared with, in the seeds' notation."""
        if self.kind is None:
            return ""
        symbol = {"W": "W", "b": "b", "z": "z", "a": "a"}[self.kind]
        extra = f" (delta^{self.layer})" if self.kind == "z" else ""
        return f"dE/d{symbol}{self.layer}{extra}"


def quantity_names(net: Network) -> list[str]:
    """The names a formula can read, before any formula of the derivation."""
    layers = len(net.layers)
    names = ["x", "y", "m", "E", "l2"]
    for l in range(1, layers + 1):
        names += [f"W{l}"] + ([f"b{l}"] if net.layers[l - 1].bias != "none" else [])
    names += [f"z{l}" for l in range(1, layers + 1)] + [f"a{l}" for l in range(0, layers + 1)]
    return names


def parse_derivation(spec: Spec, net: Network, source: SourceMap) -> list[Link]:
    known = quantity_names(net)
    links = []
    for name, text in spec.derivation.items():
        path = ("derivation", name)
        if not name.isidentifier() or name.startswith("_"):
            raise source.error(path, f"formula name {name!r} is not a plain name", "use letters, digits and _")
        if name in quantity_names(net):
            raise source.error(path, f"formula {name!r} would hide the quantity of the same name", "rename it")
        try:
            formula = parse_formula(text)
        except FormulaRejected as exc:
            raise source.error(path, f"formula {name} is not allowed: {exc}") from None
        for used in sorted(formula.names):
            if used not in known:
                close = difflib.get_close_matches(used, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)
                raise source.error(path, f"formula {name} uses unknown name {used!r}", hint)
        kind, layer = _classify(name, net, source)
        links.append(Link(name, formula, kind, layer, source.line(path), text))
        known.append(name)
    return links


def _classify(name: str, net: Network, source: SourceMap) -> tuple[str | None, int]:
    kind, layer = classify(name, net)
    problem = _unknown_quantity(name, net) if kind is None and _CHECKED.match(name) else ""
    if problem:
        raise source.error(("derivation", name), f"formula {name}: {problem}")
    return kind, layer


def classify(name: str, net: Network) -> tuple[str | None, int]:
    """("W", 2) for dW2 and so on; (None, 0) for a helper or a quantity the network does not have."""
    match = _CHECKED.match(name)
    if not match or _unknown_quantity(name, net):
        return None, 0
    return match.group(1), int(match.group(2))


def _unknown_quantity(name: str, net: Network) -> str:
    match = _CHECKED.match(name)
    assert match
    kind, layer = match.group(1), int(match.group(2))
    if not (0 if kind == "a" else 1) <= layer <= len(net.layers):
        return f"the network has no layer {layer} (layers are numbered 1..{len(net.layers)}, and a0 is x)"
    if kind == "b" and net.layers[layer - 1].bias == "none":
        return f"layer {layer} has bias: none"
    return ""


def environment(net: Network, params: Params, fp: ForwardPass, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The quantities formulas read, as float64 arrays in the spec's layout."""
    env: dict[str, np.ndarray] = {
        "x": x, "y": y, "m": np.asarray(float(x.shape[net.layout.sample_axis])), "E": np.asarray(fp.E),
        "l2": np.asarray(net.l2),
    }
    env.update(params)
    for l, z in enumerate(fp.z, start=1):
        env[f"z{l}"] = z
    for l, a in enumerate(fp.a):
        env[f"a{l}"] = a
    return env


def expected_shape(link: Link, env: dict[str, np.ndarray]) -> tuple[int, ...]:
    quantity = {"W": "W", "b": "b", "z": "z", "a": "a"}[link.kind or "a"]
    return tuple(np.shape(env[f"{quantity}{link.layer}"]))


def accept_shape(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` in ``shape`` if it differs only by singleton dimensions ((3,) for (3, 1)), else None."""
    if value.shape == shape:
        return value
    def squeezed(dims: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(d for d in dims if d != 1)

    if value.size == int(np.prod(shape)) and squeezed(value.shape) == squeezed(shape):
        return value.reshape(shape)
    return None
