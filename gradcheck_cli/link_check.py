"""Check a derivation link by link against numerical gradients (forward passes only).

For dW<l> and db<l> the parameters' witness is reused. For dz<l> and da<l> the witness perturbs
z^l or a^l itself and runs the rest of the network forward (``network.forward_from``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gradcheck_cli.compare import compare_parameter
from gradcheck_cli.derivation import Link, accept_shape, environment, expected_shape
from gradcheck_cli.diagnose import Context, diagnose, diagnose_shape
from gradcheck_cli.formula import FormulaFailed, FormulaRejected
from gradcheck_cli.network import Network, Params, forward, forward_from, with_kinks
from gradcheck_cli.numeric import Witness, central_differences
from gradcheck_cli.results import LinkResult, Rule, Status


class LinkRejected(Exception):
    """A formula refused while evaluating (it would create too large an array): the spec is invalid."""

    def __init__(self, link: Link, reason: str) -> None:
        super().__init__(reason)
        self.link, self.reason = link, reason


def check_links(net: Network, links: list[Link], params: Params, x: np.ndarray, y: np.ndarray,
                parameter_witness: Witness, rule: Rule) -> list[LinkResult]:
    fp = forward(net, params, x, y)
    env = environment(net, params, fp, x, y)
    witnesses: dict[tuple[str, int], Witness] = {}

    def witness(kind: str, layer: int) -> Witness:  # each quantity's witness is computed once
        if (kind, layer) not in witnesses:
            witnesses[kind, layer] = _witness(net, params, env, y, kind, layer, parameter_witness, rule)
        return witnesses[kind, layer]

    context = Context(net=net, params=params, env=dict(env), witness=witness, rule=rule)
    results = []
    failed: set[str] = set()  # formulas that did not evaluate
    wrong: set[str] = set()  # formulas that evaluated to a wrong result
    for link in links:
        broken = sorted(failed & link.formula.names)
        if broken:
            results.append(_result(link, Status.FAIL, message=f"uses {', '.join(broken)}, which did not evaluate"))
            failed.add(link.name)
            continue
        try:
            value = link.formula.evaluate(env, softmax_axis=net.layout.unit_axis)
        except FormulaRejected as exc:
            raise LinkRejected(link, str(exc)) from None
        except FormulaFailed as exc:
            expected = expected_shape(link, env) if link.kind else None
            wanted = f"; {link.target} has shape {_shape(expected)}" if expected is not None else ""
            results.append(_result(link, Status.FAIL, message=f"{exc}{wanted}", expected=expected))
            failed.add(link.name)
            continue
        env[link.name] = value
        result = _judge(link, value, env, context, fp.E, rule)
        wrong_inputs = sorted(link.formula.names & wrong)
        if result.status is Status.FAIL and wrong_inputs:
            which = ", ".join(wrong_inputs)
            result = replace(result, diagnosis=f"builds on {which}, already wrong above: fix the first broken link")
        if result.status is Status.FAIL:
            wrong.add(link.name)
        results.append(result)
    return results


def _judge(link: Link, value: np.ndarray, env: dict[str, np.ndarray], context: Context, E: float,
           rule: Rule) -> LinkResult:
    if link.kind is None:
        return _result(link, None, shape=value.shape)
    expected = expected_shape(link, env)
    fitted = accept_shape(value, expected)
    if fitted is None:
        return _result(link, Status.FAIL, shape=value.shape, expected=expected,
                       message=f"shape {_shape(value.shape)}, expected {_shape(expected)}",
                       diagnosis=diagnose_shape(link, value, expected, context))
    comparison = compare_parameter(f"{link.kind}{link.layer}", fitted, context.witness(link.kind, link.layer), E, rule)
    diagnosis = "" if comparison.status is Status.PASS else diagnose(link, fitted, comparison, context)
    return _result(link, comparison.status, shape=value.shape, expected=expected, comparison=comparison,
                   diagnosis=diagnosis)


def _witness(net: Network, params: Params, env: dict[str, np.ndarray], y: np.ndarray, kind: str, layer: int,
             parameter_witness: Witness, rule: Rule) -> Witness:
    """Numerical dE/d(quantity): the parameters' own witness, or one that perturbs z^l or a^l."""
    if kind in ("W", "b"):
        return parameter_witness
    name = f"{kind}{layer}"
    start = layer if kind == "z" else layer + 1

    def loss(q: Params) -> tuple[float, bytes]:
        given = {"z": q[name]} if kind == "z" else {"a": q[name]}
        return with_kinks(net, forward_from(net, params, y, layer, **given), first_layer=start)

    return central_differences(loss, {name: env[name]}, rule.eps)


def _result(link: Link, status: Status | None, **fields: object) -> LinkResult:
    expected = fields.pop("expected", None)
    return LinkResult(name=link.name, formula=link.formula.text, target=link.target, status=status,
                      expected_shape=expected, line=link.line, **fields)  # type: ignore[arg-type]


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"
