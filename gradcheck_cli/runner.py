"""Check spec files: load, build, backprop, witness, compare. Returns results; prints nothing.

A spec in float32 runs its analytic pass in float32, as specified. The numerical witness always
runs in float64 on the very same (float32-valued) parameters and data, so that float32 round-off
in the witness cannot masquerade as a wrong derivation; the float32 tolerances then only have to
absorb the rounding of the analytic pass.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradcheck_cli.build import Problem, build_problem
from gradcheck_cli.compare import compare_parameter, make_rule
from gradcheck_cli.errors import SpecError
from gradcheck_cli.network import ForwardPass, backward, forward, loss_and_kinks, loss_value
from gradcheck_cli.numeric import central_differences
from gradcheck_cli.results import RunResult, SpecResult, Status
from gradcheck_cli.spec_model import parse_spec
from gradcheck_cli.yaml_loader import load_yaml_file


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that win over the spec's ``check:`` section."""

    eps: float | None = None
    rtol: float | None = None
    warn_rtol: float | None = None


def load_problem(path: str | Path) -> Problem:
    """Read, validate and build one spec; raises :class:`SpecError` for anything the user must fix."""
    data, source = load_yaml_file(path)
    return build_problem(parse_spec(data, source), source)


def check_paths(paths: Iterable[str | Path], overrides: Overrides = Overrides()) -> RunResult:
    return RunResult([check_file(path, overrides) for path in paths])


def validate_paths(paths: Iterable[str | Path]) -> RunResult:
    return RunResult([validate_file(path) for path in paths])


def validate_file(path: str | Path) -> SpecResult:
    try:
        problem = load_problem(path)
    except SpecError as exc:
        return SpecResult(path=str(path), status=Status.ERROR, message=str(exc))
    return SpecResult(path=str(path), status=Status.PASS, name=_name(problem, path))


def check_file(path: str | Path, overrides: Overrides = Overrides()) -> SpecResult:
    try:
        problem = load_problem(path)
    except SpecError as exc:
        return SpecResult(path=str(path), status=Status.ERROR, message=str(exc))
    return check_problem(problem, str(path), overrides)


def check_problem(problem: Problem, path: str, overrides: Overrides = Overrides()) -> SpecResult:
    started = time.perf_counter()
    net, spec = problem.network, problem.spec
    fp = forward(net, problem.params, problem.x, problem.y)
    name = _name(problem, path)
    if not _all_finite(fp):
        return SpecResult(path=path, status=Status.FAIL, name=name, loss=fp.E, message=_where_not_finite(fp))
    analytic = backward(net, problem.params, fp, problem.y)

    # The witness: float64 copies, and a function that runs the forward pass and nothing else.
    x64, y64 = problem.x.astype(np.float64), problem.y.astype(np.float64)
    params64 = {k: v.astype(np.float64) for k, v in problem.params.items()}
    E64 = loss_value(net, params64, x64, y64)
    rule = make_rule(spec.dtype, E64, eps=overrides.eps or spec.check.eps,
                     rtol=overrides.rtol or spec.check.rtol, warn_rtol=overrides.warn_rtol or spec.check.warn_rtol)
    witness = central_differences(lambda p: loss_and_kinks(net, p, x64, y64), params64, rule.eps)

    params = [compare_parameter(n, analytic[n], witness, E64, rule) for n in net.parameter_names()]
    return SpecResult(
        path=path,
        status=Status.worst([p.status for p in params]),
        name=name,
        loss=fp.E,
        params=params,
        rule=rule,
        seconds=time.perf_counter() - started,
    )


def _name(problem: Problem, path: str | Path) -> str:
    return problem.spec.name or Path(path).stem


def _all_finite(fp: ForwardPass) -> bool:
    return bool(np.isfinite(fp.E)) and all(np.all(np.isfinite(q)) for q in fp.z + fp.a)


def _where_not_finite(fp: ForwardPass) -> str:
    for l, (z, a) in enumerate(zip(fp.z, fp.a[1:], strict=True), start=1):
        for label, value in ((f"z{l}", z), (f"a{l}", a)):
            if not np.all(np.isfinite(value)):
                return f"the forward pass overflows: {label} (layer {l}) is not finite"
    return f"the loss E is {fp.E} (for example ln(0) on an output that is exactly 0 or 1)"
