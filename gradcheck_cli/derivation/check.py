"""Check a derivation link by link against numerical gradients (forward passes only).

For dW<l> and db<l> the parameters' witness is reused. For dz<l> and da<l> the witness perturbs
z^l or a^l itself and runs the rest of the network forward, one unit across the batch at a time
(``quantity_witness``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np

from gradcheck_cli.derivation.diagnose import Context, diagnose, diagnose_shape
from gradcheck_cli.derivation.formula import FormulaFailed, FormulaRejected
from gradcheck_cli.derivation.links import (
    Link,
    NameRejected,
    accept_shape,
    checked_pattern,
    classify,
    environment,
    expected_shape,
    perturbed,
    state_kinds,
)
from gradcheck_cli.derivation.user_code import UserCodeFailed, UserFunction, contained
from gradcheck_cli.errors import SpecError
from gradcheck_cli.network.network import Network, Params, batch_divisor, forward
from gradcheck_cli.verdict.compare import compare_parameter
from gradcheck_cli.verdict.results import LinkResult, Rule, Status
from gradcheck_cli.witness.central import CENTRAL_EPS, Witness
from gradcheck_cli.witness.quantities import quantity_witness
from gradcheck_cli.witness.states import state_witness


class LinkRejected(Exception):
    """A formula refused while evaluating (it would create too large an array): the spec is invalid."""

    def __init__(self, link: Link, reason: str) -> None:
        super().__init__(reason)
        self.link, self.reason = link, reason

    def spec_error(self, path: str) -> SpecError:
        """The user error it is, naming the spec's file and the formula's line."""
        return SpecError(f"formula {self.link.name} is not allowed: {self.reason}", file=path, line=self.link.line)


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
        m = batch_divisor(net, y)  # y: samples x outputs in any network (x may be N x C x H x W)

        def per_sample(kind: str, layer: int) -> Witness:  # of the summed per-sample losses: m E
            return _scaled(witness(kind, layer), m) if perturbed(kind) else witness(kind, layer)

        self.per_sample_context = replace(self.context, witness=per_sample)

    def judge(self, link: Link, value: np.ndarray, wrong: set[str]) -> LinkResult:
        context = self.per_sample_context if link.per_sample else self.context
        result = _judge(link, value, self.env, context, self.rule)
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
    results = []
    wrong: set[str] = set()  # formulas that evaluated to a wrong result
    for link, value in _evaluated(net, links, checker.env):
        results.append(value if isinstance(value, LinkResult) else checker.judge(link, value, wrong))
    return results


def check_shapes(net: Network, links: list[Link], params: Params, x: np.ndarray, y: np.ndarray) -> list[LinkResult]:
    """The formulas that do not evaluate, or evaluate to the wrong shape, on one forward pass: what
    ``validate`` can tell without any gradient. The others are left out."""
    env = environment(net, params, forward(net, params, x, y), x, y)
    problems = []
    for link, value in _evaluated(net, links, env):
        if isinstance(value, LinkResult):
            problems.append(value)
        elif link.kind is not None:
            expected = expected_shape(link, env)
            if accept_shape(value, expected) is None:
                problems.append(_misfit(link, value, expected))
    return problems


def _evaluated(net: Network, links: list[Link],
               env: dict[str, np.ndarray]) -> Iterator[tuple[Link, np.ndarray | LinkResult]]:
    """Each formula's value in order (added to ``env`` for the later ones), or the FAIL of one that
    does not evaluate, or uses one that did not."""
    failed: set[str] = set()
    for link in links:
        assert link.formula is not None
        broken = sorted(failed & link.uses)
        if broken:
            failed.add(link.name)
            yield link, _result(link, Status.FAIL, message=f"uses {', '.join(broken)}, which did not evaluate")
            continue
        try:
            value = link.formula.evaluate(env, softmax_axis=net.layout.unit_axis)
        except FormulaRejected as exc:
            raise LinkRejected(link, str(exc)) from None
        except FormulaFailed as exc:
            expected = expected_shape(link, env) if link.kind else None
            wanted = f"; {link.target} has shape {_shape(expected)}" if expected is not None else ""
            failed.add(link.name)
            yield link, _result(link, Status.FAIL, message=f"{exc}{wanted}", expected=expected)
            continue
        env[link.name] = value
        yield link, value


class BackwardRejected(Exception):
    """A ``--backward`` function whose result cannot be judged as a whole: a user error (exit 2)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def check_backward(net: Network, backward: UserFunction, params: Params, x: np.ndarray, y: np.ndarray,
                   parameter_witness: Witness, rule: Rule) -> list[LinkResult]:
    """Run a user's backward function on the forward quantities and judge every value it returns.

    What its code raises, and values that cannot be read as arrays, are FAILs naming the user's line.
    A returned name that looks like a checked one but is none, or a result that compares nothing, is
    :class:`BackwardRejected`."""
    checker = _Checker(net, params, x, y, parameter_witness, rule)
    label = backward.label
    try:
        with contained(backward.path):  # reading the result runs user code too (a Mapping of its own)
            returned = backward.function({name: np.array(value) for name, value in checker.env.items()})
            items = [(str(name), raw) for name, raw in returned.items()] if isinstance(returned, Mapping) else None
    except UserCodeFailed as exc:
        held = ", ".join(sorted(checker.env))
        return [LinkResult(name="backward", formula=label, target="", status=Status.FAIL,
                           message=f"{label} raised {exc}; q holds {held}")]
    if items is None:
        return [LinkResult(name="backward", formula=label, target="", status=Status.FAIL,
                           message=f"{label} returned {type(returned).__name__}, not a dict of name -> array")]
    links = []
    for name, _ in items:
        try:
            kind, layer = classify(name, net)
        except NameRejected as exc:
            raise BackwardRejected(f"{label} returned {exc.message}", exc.hint) from None
        links.append(Link(name, None, kind, layer, None, f"returned by {label}"))
    if not any(link.kind for link in links):
        raise BackwardRejected(f"{label} returned no gradient that gradcheck compares, so it would check nothing",
                               f"return a dict with keys such as {checked_pattern()}")
    results = []
    wrong: set[str] = set()
    for link, (_, raw) in zip(links, items, strict=True):
        try:
            with contained(backward.path):
                value = np.asarray(raw, dtype=np.float64)
        except UserCodeFailed as exc:
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
        return replace(_misfit(link, value, expected), diagnosis=diagnose_shape(link, value, expected, context))
    comparison = compare_parameter(f"{link.kind}{link.layer}", fitted, context.witness(link.kind, link.layer), rule)
    diagnosis = "" if comparison.status is Status.PASS else diagnose(link, fitted, comparison, context)
    return _result(link, comparison.status, shape=value.shape, expected=expected, comparison=comparison,
                   diagnosis=diagnosis)


def _witness(net: Network, params: Params, env: dict[str, np.ndarray], y: np.ndarray, kind: str, layer: int,
             parameter_witness: Witness, rule: Rule) -> Witness:
    """Numerical dE/d(quantity): the parameters' own witness, or one that perturbs z^l or a^l."""
    if not perturbed(kind):
        return parameter_witness
    # central differences whatever --method: a step chosen for Richardson or the complex step is not one for them
    eps = rule.eps if rule.method == "central" else CENTRAL_EPS
    if kind in state_kinds():
        return state_witness(net, params, y, kind, layer, env[f"a{layer - 1}"], eps)
    return quantity_witness(net, params, y, kind, layer, env[f"{kind}{layer}"], eps)


def _scaled(witness: Witness, factor: float) -> Witness:
    """The witness of ``factor`` times the loss: slopes and their expected errors scale, steps do not."""
    if factor == 1:
        return witness
    times = lambda arrays: {name: value * factor for name, value in arrays.items()}  # noqa: E731
    return replace(witness, gradient=times(witness.gradient), expected=times(witness.expected),
                   left=times(witness.left), right=times(witness.right))


def _misfit(link: Link, value: np.ndarray, expected: tuple[int, ...]) -> LinkResult:
    """The FAIL of a value whose shape is not the quantity's (singleton dimensions aside)."""
    return _result(link, Status.FAIL, shape=value.shape, expected=expected,
                   message=f"shape {_shape(value.shape)}, expected {_shape(expected)}")


def _result(link: Link, status: Status | None, **fields: object) -> LinkResult:
    expected = fields.pop("expected", None)
    return LinkResult(name=link.name, formula=link.text, target=link.target, status=status,
                      expected_shape=expected, line=link.line, quantity=f"{link.kind}{link.layer}" if link.kind else "",
                      **fields)  # type: ignore[arg-type]


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"
