"""``gradcheck layer``: one layer's own forward and backward code, checked as the courses check it
(cs231n's ``eval_numerical_gradient_array``, CMU's autograder), with gradcheck's verdict.

The contract is cs231n's: ``forward(*inputs[, config]) -> (*outputs, cache)`` and
``backward(*douts, cache) -> the gradients of the inputs that are not integer, in their order`` (a
tuple, or one array for one input); or a loss function ``loss(scores, labels) -> (loss, dscores)``.
With upstream gradients drawn from the seed (one per output), what is checked:

1. with ``reference:``, the forward's outputs against the registry's layer on the same inputs;
2. each gradient against the numerical vector-Jacobian product of the student's *own* forward
   (``witness/vjp.py``): a backward consistent with a wrong forward passes this part, and 1 says
   the forward is what is wrong;
3. with ``reference:``, each gradient against the numerical VJP of the reference forward.

Each is a row of gradcheck's table with its verdict (noise floor, kinks: PASS / WARN / FAIL /
INCONCLUSIVE), and a diagnosis where it fails (``commands/layer_diagnose.py``). The student's code
runs contained: an exception (``sys.exit`` included) is a FAIL naming its file and line, and so are
a wrong number or shape of results, a non-finite output, and a forward that writes into its inputs.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gradcheck_cli.commands.layer_diagnose import diagnose_gradient, diagnose_shape, forward_note
from gradcheck_cli.commands.layer_reference import Reference, loss_input
from gradcheck_cli.derivation.user_code import UserCodeFailed, UserFunction, contained
from gradcheck_cli.reading.data import shape_text
from gradcheck_cli.reading.layer_spec import LayerCase
from gradcheck_cli.verdict.compare import compare_parameter, make_rule
from gradcheck_cli.verdict.results import ParamResult, Rule, SpecResult, Status
from gradcheck_cli.witness.central import CENTRAL_EPS, EPS64, Witness
from gradcheck_cli.witness.vjp import vjp_witness

Array = np.ndarray
CACHE_HINT = "does the forward's cache carry everything the backward reads from it?"
LOOKUPS = ("KeyError", "IndexError", "TypeError", "ValueError", "AttributeError", "NameError")  # reading a cache
FORWARD_ROUNDING = 1e3  # two correct forwards differ by their summation order: e = this * eps * max|out|


class Finding(Exception):
    """What the student's code did that stops the check (raised, wrong results): a FAIL, in words."""


@dataclass(frozen=True)
class LayerCode:
    """The spec's functions, loaded from the ``--code`` file: forward and backward, or loss."""

    functions: dict[str, UserFunction]  # "forward", "backward" or "loss" -> the user's function


def check_layer(case: LayerCase, reference: Reference | None, code: LayerCode, path: str) -> SpecResult:
    """Run one layer check against ``reference`` (``layer_reference.reference_of``, or None); the
    student's code cannot stop it (its failures are findings)."""
    start = time.perf_counter()
    name = case.spec.name or path
    try:
        rows, status, L, rule = _rows(case, reference, code)
    except Finding as exc:
        return SpecResult(path=path, status=Status.FAIL, name=name, message=str(exc), expect=case.spec.expect,
                          seconds=time.perf_counter() - start)
    return SpecResult(path=path, status=status, name=name, loss=L, params=rows, rule=rule,
                      expect=case.spec.expect, seconds=time.perf_counter() - start)


def _rule(case: LayerCase, L: float) -> Rule:
    """Central differences of L = sum <out, dout>, entry by entry, no re-checks."""
    check = case.spec.check
    rule = make_rule("float64", L, check.eps or CENTRAL_EPS, "central", check.rtol, check.warn_rtol)
    return replace(rule, engine="plain loop", rechecks=False)


def _rows(case: LayerCase, reference: Reference | None,
          code: LayerCode) -> tuple[list[ParamResult], Status, float, Rule]:
    """The rows of the report, the worst status, L = sum <out, dout> (reported as E) and the pass rule."""
    forward = _student_forward(case, code)
    arrays = {name: value.copy() for name, value in case.arrays.items()}  # as given, whatever the forward does
    outs, cache = forward(case.arrays)
    written = [name for name in case.arrays if not np.array_equal(case.arrays[name], arrays[name])]
    douts = _upstream_gradients(case, code, outs)
    L = float(sum(np.sum(out * dout) for out, dout in zip(outs, douts, strict=True)))
    rule = _rule(case, L)
    grads, missing = _gradients(case, code, douts, cache)
    _fitting(grads, case, code, douts, reference)
    wrt = [name for name in _wrt(case, code) if name in grads]
    own = vjp_witness(lambda args: forward(args)[0], arrays, wrt, douts, rule.eps)

    def judged(name: str, witness: Witness, against: str, label: str = "") -> ParamResult:
        result = compare_parameter(f"d{name}", grads[name], witness, rule)
        note = diagnose_gradient(result, name, grads[name], douts, arrays, reference, against,
                                 own.gradient[f"d{name}"] if witness is not own else None)
        return replace(result, name=f"d{name}{label}", note=note)

    rows = [judged(name, own, "your forward") for name in wrt]
    if reference is not None:
        ref_outs = reference.forward(arrays)
        theirs = vjp_witness(reference.forward, arrays, wrt, _compared(case, douts, len(ref_outs), reference),
                             rule.eps)
        rows = (_forward_rows(_output_names(case, code), outs, ref_outs, reference, rule) + rows
                + [judged(name, theirs, reference.label, f" vs {reference.label}") for name in wrt])
    notes = ([f"the backward returned no gradient of {', '.join(missing)}: not checked"] * bool(missing)
             + [f"the forward writes into its input {', '.join(written)}: the caller's arrays change (use "
                "out-of-place operations, or copy first)"] * bool(written))
    if notes:
        rows[0] = replace(rows[0], note="; ".join(notes + [rows[0].note] * bool(rows[0].note)))
    status = Status.FAIL if written else Status.worst([row.status for row in rows])
    return rows, status, L, rule


def _upstream_gradients(case: LayerCase, code: LayerCode, outs: list[Array]) -> list[Array]:
    """One per output, drawn from the seed for the outputs the backward takes a gradient of (``upstream``),
    zero for the others; 1 for a loss."""
    if "loss" in code.functions:
        return [np.ones(())]
    rng = case.rng()
    return [rng.standard_normal(out.shape) if name in case.upstream else np.zeros(out.shape)
            for name, out in zip(case.spec.outputs, outs, strict=True)]


def _compared(case: LayerCase, douts: list[Array], count: int, reference: Reference) -> list[Array]:
    """The upstream gradients of the reference's outputs, the first ``count`` of the forward's: the
    others must get none, or the two VJPs would not be of the same function."""
    beyond = [name for name in case.upstream if case.spec.outputs.index(name) >= count]
    if beyond:
        raise case.source.error(("upstream",), f"the {reference.label} reference gives {count} output(s), not "
                                f"{', '.join(beyond)}", f"upstream: [{', '.join(case.spec.outputs[:count])}]")
    return douts[:count]


def _output_names(case: LayerCase, code: LayerCode) -> list[str]:
    """What the forward returns before its cache, by name: the spec's outputs, or a loss function's loss."""
    return ["loss"] if "loss" in code.functions else case.spec.outputs


def _wrt(case: LayerCase, code: LayerCode) -> list[str]:
    """The inputs whose gradients are checked: every one that is not integer; a loss's scores alone."""
    return [loss_input(case)] if "loss" in code.functions else case.differentiable


def _student_forward(case: LayerCase, code: LayerCode) -> Callable[..., tuple[list[Array], Any]]:
    """The student's forward as inputs by name -> (outputs, cache), every problem a :class:`Finding`."""
    spec, config = case.spec, case.spec.config
    function = code.functions.get("loss") or code.functions["forward"]
    names = _output_names(case, code)

    def run(arrays: dict[str, Array]) -> tuple[list[Array], Any]:
        args = case.arguments(arrays) + ([copy.deepcopy(config)] if config is not None else [])
        returned = _call(function, *args)
        if not isinstance(returned, (tuple, list)) or len(returned) != len(names) + 1:
            what = f"a tuple of {len(returned)}" if isinstance(returned, (tuple, list)) else type(returned).__name__
            wanted = "(loss, dx)" if "loss" in code.functions else f"({', '.join(spec.outputs)}, cache)"
            raise Finding(f"{function.label} returned {what}; the spec expects {wanted}")
        outs = [_finite_array(value, f"{function.label}'s {label}", function)
                for value, label in zip(returned[: len(names)], names, strict=True)]
        return outs, returned[len(names)]

    return run


def _gradients(case: LayerCase, code: LayerCode, douts: list[Array],
               cache: Any) -> tuple[dict[str, Array], list[str]]:
    """The student's gradients by input name (the loss function's dx, or what backward returns: in the
    inputs' order, or a dict of d + each input's name, as Ng's course returns them), and the inputs a
    dict left out."""
    wrt = _wrt(case, code)
    if "loss" in code.functions:
        function, returned = code.functions["loss"], [cache]  # the loss function returned (loss, dx)
    else:
        function = code.functions["backward"]
        taken = [dout for name, dout in zip(case.spec.outputs, douts, strict=True) if name in case.upstream]
        returned = _call(function, *taken, cache, hint=CACHE_HINT)
        if isinstance(returned, Mapping):
            return _named_gradients(returned, wrt, function)
        if not isinstance(returned, (tuple, list)):
            returned = [returned]
    if len(returned) != len(wrt):
        raise Finding(f"{function.label} returned {len(returned)} gradient(s); the spec's inputs need {len(wrt)}: "
                      f"d{', d'.join(wrt)} (integer inputs get none)")
    return {name: _finite_array(value, f"{function.label}'s d{name}", function, allow_nonfinite=True)
            for name, value in zip(wrt, returned, strict=True)}, []


def _named_gradients(returned: Mapping[Any, Any], wrt: list[str],
                     function: UserFunction) -> tuple[dict[str, Array], list[str]]:
    """A dict of gradients: the key d + an input's name is that input's; a key that names no input is
    refused (it would be compared with nothing)."""
    try:
        with contained(function.path):  # reading a mapping of the user's own runs their code too
            items = {str(key): value for key, value in returned.items()}
    except UserCodeFailed as exc:
        raise Finding(f"{function.label} returned a mapping that cannot be read: {exc}") from None
    stray = [key for key in items if key.removeprefix("d") not in wrt]
    if stray:
        raise Finding(f"{function.label} returned {stray[0]!r}, which is no input's gradient: name each "
                      f"d + the input's name (d{', d'.join(wrt)})")
    grads = {name: _finite_array(items[f"d{name}"], f"{function.label}'s d{name}", function, allow_nonfinite=True)
             for name in wrt if f"d{name}" in items}
    return grads, [name for name in wrt if name not in grads]


def _fitting(grads: dict[str, Array], case: LayerCase, code: LayerCode, douts: list[Array],
             reference: Reference | None) -> None:
    """A gradient of another shape than its input is a :class:`Finding`, with its likely cause."""
    function = code.functions.get("loss") or code.functions["backward"]
    for name, grad in grads.items():
        shape = case.arrays[name].shape
        if grad.shape != shape:
            why = diagnose_shape(name, grad, douts, case.arrays, reference)
            raise Finding(f"{function.label}'s d{name} has shape {shape_text(grad.shape)}, but {name} has shape "
                          f"{shape_text(shape)}" + (f": {why}" if why else ""))


def _forward_rows(names: list[str], outs: list[Array], ref_outs: list[Array], reference: Reference,
                  rule: Rule) -> list[ParamResult]:
    """Each output the reference gives (the first ones) against the reference's, by value."""
    rows = []
    for label, out, theirs in zip(names, outs, ref_outs, strict=False):
        if out.shape != theirs.shape:
            raise Finding(f"the forward's {label} has shape {shape_text(out.shape)}, the {reference.label} reference's "
                          f"{shape_text(theirs.shape)}")
        key = f"{label} vs {reference.label}"
        scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
        witness = Witness(gradient={key: theirs}, step={key: np.zeros(theirs.shape)},
                          expected={key: np.full(theirs.shape, FORWARD_ROUNDING * EPS64 * max(scale, 1e-300))},
                          kink={key: np.zeros(theirs.shape, dtype=bool)}, checked={key: np.ones(theirs.shape, bool)})
        result = compare_parameter(key, out, witness, rule)
        rows.append(replace(result, note=forward_note(result, reference)))
    return rows


def _call(function: UserFunction, *args: Any, hint: str = "") -> Any:
    try:
        with contained(function.path):
            return function.function(*args)
    except UserCodeFailed as exc:
        looked_up = exc.what.split(":")[0] in LOOKUPS
        raise Finding(f"{function.label} raised {exc}" + (f"; {hint}" if hint and looked_up else "")) from None


def _finite_array(value: Any, what: str, function: UserFunction, allow_nonfinite: bool = False) -> Array:
    try:
        with contained(function.path):
            array = np.asarray(value, dtype=np.float64)
    except UserCodeFailed as exc:
        raise Finding(f"{what} is not an array of numbers: {exc}") from None
    if not allow_nonfinite and not np.all(np.isfinite(array)):
        raise Finding(f"{what} holds {int(np.sum(~np.isfinite(array)))} non-finite value(s) (NaN or inf)")
    return array
