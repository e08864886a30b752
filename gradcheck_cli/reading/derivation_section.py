"""A spec's ``derivation:`` section read into links: each formula parsed, its names checked against
the quantities the network has, and its name classified (a checked gradient or a helper). Every
formula is read, so one error reports the problems of all of them."""

from __future__ import annotations

from gradcheck_cli.derivation.formula import FormulaRejected, parse_formula
from gradcheck_cli.derivation.links import Link, NameRejected, checked_pattern, classify, perturbed, quantity_names
from gradcheck_cli.errors import SpecError
from gradcheck_cli.network.network import Network
from gradcheck_cli.network.registry import did_you_mean
from gradcheck_cli.reading.loader import SourceMap
from gradcheck_cli.reading.model import Spec


def parse_derivation(spec: Spec, net: Network, source: SourceMap) -> list[Link]:
    """The spec's formulas as links; a derivation must compare something. Every formula is read,
    so one spec error reports the problems of all of them (a formula after a broken one may use it)."""
    known = quantity_names(net)
    links, problems = [], []
    for name, text in spec.derivation.items():
        try:
            links.append(_link(name, text, spec, net, known, source))
        except SpecError as exc:
            problems.append(exc)
        known.append(name)
    if problems:
        raise SpecError.all_of(problems)
    if spec.derivation and not any(link.kind for link in links):
        raise source.error(("derivation",), "the derivation has no formula that gradcheck compares, so it would "
                           "check nothing", f"name the gradients you derive {checked_pattern()}")
    return links


def _link(name: str, text: str, spec: Spec, net: Network, known: list[str], source: SourceMap) -> Link:
    path = ("derivation", name)
    if not name.isidentifier() or name.startswith("_"):
        raise source.error(path, f"formula name {name!r} is not a plain name", "use letters, digits and _")
    if name in quantity_names(net):
        raise source.error(path, f"formula {name!r} would hide the quantity of the same name", "rename it")
    try:
        formula = parse_formula(text)
    except FormulaRejected as exc:
        raise source.error(path, f"formula {name} is not allowed: {exc}", exc.hint) from None
    for used in sorted(formula.names):
        if used not in known:
            raise source.error(path, f"formula {name} uses unknown name {used!r}", did_you_mean(used, known))
    try:
        kind, layer = classify(name, net)
    except NameRejected as exc:
        raise source.error(path, f"formula {exc.message}", exc.hint) from None
    per_sample = spec.deltas == "per_sample" and perturbed(kind)
    return Link(name, formula, kind, layer, source.line(path), text, per_sample)
