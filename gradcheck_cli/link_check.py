"""Check a derivation link by link against numerical gradients (forward passes only).

For dW<l> and db<l> the parameters' witness is reused. For dz<l> and da<l> the witness perturbs
z^l or a^l itself and runs the rest of the network forward (``network.forward_from``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from gradcheck_cli.compare import compare_parameter
from gradcheck_cli.derivation import Link, accept_shape, classify, environment, expected_shape
from gradcheck_cli.diagnose import Context, diagnose, diagnose_shape
from gradcheck_cli.formula import FormulaFailed, FormulaRejected
from gradcheck_cli.network import Network, Params, forward, forward_from, with_kinks
from gradcheck_cli.numeric import CENTRAL_EPS, Witness, central_differences
from gradcheck_cli.results import LinkResult, Rule, Status


class LinkRejected(Exception):
    """A formula refused while evaluating (it would create too large an array): the spec is invalid."""

    def __init__(self, link: Link, reason: str) -> None:
        super().__init__(reason)
        self.link, self.reason = link, reason


class _Checker:
    """The forward quantities, the witnesses computed so far, and the judging of one value."""

    def __init__(self, net: Network, params: Params, x: np.ndarray, y: np.ndarray, parameter_witness: Witness,
                 rule: Rule) -> None:
        fp = forward(net, params, x, y)
        self.net, self.rule = net, rule
        self.env = environment(net, params, fp, x, y)
        witnesses: dict[tuple[str, int], Witness] = {}
        quantities = dict(self.env)

        def witness(kind: str, layer: int) -> Witness:  # each quantity's witness is computed once
            if (kind, layer) not in witnesses:
                witnesses[kind, layer] = _witness(net, params, quantities, y, kind, layer, parameter_witness, rule)
            return witnesses[kind, layer]

        self.context = Context(net=net, params=params, env=quantities, witness=witness, rule=rule)

    def judge(self, link: Link, value: np.ndarray, wrong: set[str]) -> LinkResult:
        result = _judge(link, value, self.env, self.context, self.rule)
        wrong_inputs = sorted(link.uses & wrong)
        if result.status is Status.FAIL and wrong_inputs:
            which = ", ".join(wrong_inputs)
            result = replace(result, diagnosis=f"builds on {which}, already wrong above: fix the first broken link")
        if result.status is Status.FAIL:
            wrong.add(link.name)
        return result


def check_links(net: Network, links: list[Link], params: Params, x: np.ndarray, y: np.ndarray,
                parameter_witness: Witness, rule: Rule) -> list[LinkResult]:
    """Evaluate a derivation's formulas in order and judge each one."""
    checker = _Checker(net, params, x, y, parameter_witness, rule)
    env = checker.env
    results = []
    failed: set[str] = set()  # formulas that did not evaluate
    wrong: set[str] = set()  # formulas that evaluated to a wrong result
    for link in links:
        assert link.formula is not None
        broken = sorted(failed & link.uses)
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
        results.append(checker.judge(link, value, wrong))
    return results


def check_backward(net: Network, backward: Callable[[dict[str, np.ndarray]], Any], label: str, params: Params,
                   x: np.ndarray, y: np.ndarray, parameter_witness: Witness, rule: Rule) -> list[LinkResult]:
    """Run a user's backward function on the forward quantities and judge every value it returns."""
    checker = _Checker(net, params, x, y, parameter_witness, rule)
    try:
        returned = backward({name: np.array(value) for name, value in checker.env.items()})
    except Exception as exc:  # noqa: BLE001 - the user's code failing is a finding, reported as such
        return [LinkResult(name="backward", formula=label, target="", status=Status.FAIL,
                           message=f"{label} raised {type(exc).__name__}: {exc}")]
    if not isinstance(returned, Mapping):
        return [LinkResult(name="backward", formula=label, target="", status=Status.FAIL,
                           message=f"{label} returned {type(returned).__name__}, not a dict of name -> array")]
    results = []
    wrong: set[str] = set()
    for name, raw in returned.items():
        kind, layer = classify(str(name), net)
        link = Link(str(name), None, kind, layer, None, f"returned by {label}")
        try:
            value = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            results.append(_result(link, Status.FAIL, message=f"not an array of numbers: {exc}"))
            continue
        results.append(checker.judge(link, value, wrong))
    return results


def _judge(link: Link, value: np.ndarray, env: dict[str, np.ndarray], context: Context,
           rule: Rule) -> LinkResult:
    if link.kind is None:
        return _result(link, None, shape=value.shape)
    expected = expected_shape(link, env)
    fitted = accept_shape(value, expected)
    if fitted is None:
        return _result(link, Status.FAIL, shape=value.shape, expected=expected,
                       message=f"shape {_shape(value.shape)}, expected {_shape(expected)}",
                       diagnosis=diagnose_shape(link, value, expected, context))
    comparison = compare_parameter(f"{link.kind}{link.layer}", fitted, context.witness(link.kind, link.layer), rule)
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

    # central differences whatever --method: a step chosen for Richardson or the complex step is not one for them
    return central_differences(loss, {name: env[name]}, rule.eps if rule.method == "central" else CENTRAL_EPS)


def _result(link: Link, status: Status | None, **fields: object) -> LinkResult:
    expected = fields.pop("expected", None)
    return LinkResult(name=link.name, formula=link.text, target=link.target, status=status,
                      expected_shape=expected, line=link.line, **fields)  # type: ignore[arg-type]


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"
