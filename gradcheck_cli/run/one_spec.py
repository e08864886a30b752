"""Check spec files: load, build, backprop, witness, compare. Returns results; prints nothing.

A spec in float32 runs its analytic pass in float32, as specified. The numerical witness always
runs in float64 on the very same (float32-valued) parameters and data, so that float32 round-off
in the witness cannot masquerade as a wrong derivation; the float32 tolerances then only have to
absorb the rounding of the analytic pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from gradcheck_cli.derivation.check import BackwardRejected, LinkRejected, check_backward, check_links, check_shapes
from gradcheck_cli.derivation.user_code import load_backward
from gradcheck_cli.errors import SpecError
from gradcheck_cli.network.network import ForwardPass, Network, Params, backward, forward, loss_value
from gradcheck_cli.reading.build import DEFAULT_MAX_BYTES, Problem, build_problem
from gradcheck_cli.reading.loader import load_yaml_file
from gradcheck_cli.reading.model import parse_spec
from gradcheck_cli.run.budget import DEFAULT_TIMEOUT, Pace
from gradcheck_cli.run.discover import Target
from gradcheck_cli.run.entries import error_entry, guarded
from gradcheck_cli.verdict.compare import DEFAULT_TOLERANCES, compare_parameter, make_rule
from gradcheck_cli.verdict.directional import directional_results, needs_drill_down
from gradcheck_cli.verdict.limits import settings_problem
from gradcheck_cli.verdict.results import LinkResult, ParamResult, Rule, SpecResult, Status
from gradcheck_cli.witness.central import Masks, Witness
from gradcheck_cli.witness.methods import DEFAULT_EPS, WitnessMaker


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that win over the spec's ``check:`` section."""

    method: str | None = None  # central | richardson | complex; None: the spec's check.method
    eps: float | None = None
    rtol: float | None = None
    warn_rtol: float | None = None
    backward: str | None = None  # FILE.py[:FUNCTION] of a user's backward pass, from the command line
    engine: str = "fast"  # "stack": without the fitted loss; "naive": the plain per-entry loop, the reference
    sample: int | None = None  # check only this many entries per parameter (seeded), plus the largest gradient
    max_bytes: int = DEFAULT_MAX_BYTES  # refuse specs whose arrays would need more memory
    fast: bool = False  # one directional check per parameter, entry by entry only where it fails
    self_test: bool = False  # also judge deliberately broken gradients, which must fail
    timeout: float | None = DEFAULT_TIMEOUT  # seconds one spec may take; then it is an error entry


def load_problem(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Problem:
    """Read, validate and build one spec; raises :class:`SpecError` for anything the user must fix."""
    data, source = load_yaml_file(path, max_bytes)
    return build_problem(parse_spec(data, source), source, max_bytes)


def validate_target(target: Target) -> SpecResult:
    """Load and build without any gradient; PASS means valid. A derivation is evaluated on one forward
    pass: a formula that does not evaluate or has the wrong shape makes the spec a FAIL, as in check
    (listed, but a PASS, for a spec with ``expect: fail``). Ends short of a verdict as check does."""
    path = str(target.path)

    def work() -> SpecResult:
        problem = load_problem(target.path)
        try:
            links = check_shapes(problem.network, problem.derivation, _float64(problem.params),
                                 problem.x.astype(np.float64), problem.y.astype(np.float64))
        except LinkRejected as exc:
            return error_entry(path, exc.spec_error(path))
        # a spec with expect: fail demonstrates a failure: valid, its misfits listed, but not a FAIL here
        failed = bool(links) and problem.spec.expect == "pass"
        return SpecResult(path=path, status=Status.FAIL if failed else Status.PASS, name=_name(problem, target.path),
                          links=links, message=f"{len(links)} formula(s) of the derivation do not fit" if links else "")

    return guarded(target, None, work, "")


def _float64(params: Params) -> Params:
    return {name: value.astype(np.float64, copy=False) for name, value in params.items()}  # read, never written


def check_target(target: Target, overrides: Overrides = Overrides(),
                 progress: Callable[[int, int], None] | None = None) -> SpecResult:
    def work() -> SpecResult:
        problem = load_problem(target.path, overrides.max_bytes)
        return check_problem(problem, str(target.path), overrides, progress)

    return guarded(target, overrides.timeout, work, "raise it with --timeout, or check fewer entries with --sample "
                                                    "or --fast")


def check_file(path: str | Path, overrides: Overrides = Overrides()) -> SpecResult:
    """Check one spec file named explicitly."""
    return check_target(Target(Path(path), explicit=True), overrides)


def check_problem(problem: Problem, path: str, overrides: Overrides = Overrides(),
                  progress: Callable[[int, int], None] | None = None) -> SpecResult:
    """Check one built spec; raises :class:`SpecError` when the overrides and the spec's check: settings
    together leave the documented ranges (limits.py)."""
    started = time.perf_counter()
    net, spec = problem.network, problem.spec
    fp = forward(net, problem.params, problem.x, problem.y)
    name = _name(problem, path)
    if not _all_finite(fp):
        return SpecResult(path=path, status=Status.FAIL, name=name, loss=fp.E, message=_where_not_finite(fp),
                          expect=spec.expect, lines=problem.lines)
    analytic = backward(net, problem.params, fp, problem.y)

    # The witness: float64 copies, and functions that run the forward pass and nothing else.
    x64, y64 = problem.x.astype(np.float64), problem.y.astype(np.float64)
    params64 = _float64(problem.params)
    E64 = loss_value(net, params64, x64, y64)
    method = overrides.method if overrides.method is not None else spec.check.method
    # the spec's eps was chosen for the spec's method: --method richardson on a spec tuned for central
    # differences starts from richardson's default step instead
    chosen_eps = overrides.eps if overrides.eps is not None else (
        spec.check.eps if method == spec.check.method else None)
    rtol = overrides.rtol if overrides.rtol is not None else spec.check.rtol
    warn_rtol = overrides.warn_rtol if overrides.warn_rtol is not None else spec.check.warn_rtol
    _, conflict = settings_problem(method, chosen_eps, rtol, warn_rtol)
    if conflict:  # each source was in range; together (the command line over the spec's check:) they are not
        raise SpecError(conflict, file=path, hint="the options --method, --eps, --rtol and --warn-rtol (check()'s "
                        "method, eps, rtol, warn_rtol) override the spec's check: settings")
    eps = chosen_eps or DEFAULT_EPS[method]
    rule = make_rule(spec.dtype, E64, eps, method, rtol=rtol, warn_rtol=warn_rtol)
    maker = WitnessMaker(net, params64, x64, y64, overrides.engine, Pace(overrides.timeout, progress))
    rule = replace(rule, engine=maker.engine)
    needs_every_entry = bool(problem.derivation or overrides.backward or overrides.self_test)
    if overrides.fast and not needs_every_entry:  # links and negative controls are judged entry by entry
        params = _directional_then_drill_down(maker, analytic, rule, spec.seed, E64)
        return SpecResult(path=path, status=Status.worst([p.status for p in params]), name=name, loss=fp.E,
                          params=params, rule=rule, seconds=time.perf_counter() - started, expect=spec.expect,
                          lines=problem.lines)
    masks = sample_entries(analytic, overrides.sample, spec.seed) if overrides.sample else None
    witness, params = judge(maker, maker.make(method, eps, masks), analytic, rule)
    if spec.dtype == "float32" and any(p.status is not Status.PASS for p in params):
        params = _precision_recheck(net, params, params64, x64, y64, witness, rule)
    controls = negative_controls(analytic, witness, rule) if overrides.self_test else {}
    try:
        links = check_links(net, problem.derivation, params64, x64, y64, witness, rule) if problem.derivation else []
        if overrides.backward:
            user = load_backward(overrides.backward)
            try:
                links += check_backward(net, user, params64, x64, y64, witness, rule)
            except BackwardRejected as exc:
                error = SpecError(exc.message, file=str(user.path), line=user.line, hint=exc.hint)
                return SpecResult(path=path, status=Status.ERROR, message=f"{error} (checking {path})")
    except LinkRejected as exc:
        return error_entry(path, exc.spec_error(path))
    return SpecResult(
        path=path,
        status=Status.worst([p.status for p in params] + [k.status for k in links if k.status is not None]),
        name=name,
        loss=fp.E,
        params=params,
        rule=rule,
        seconds=time.perf_counter() - started,
        expect=spec.expect,
        lines=problem.lines,
        links=links,
        self_test=controls,
        not_covered=_not_covered(net, links),
    )


def _not_covered(net: Network, links: list[LinkResult]) -> list[str]:
    """The parameters no dW<l>/db<l> link compared, when there is a derivation or --backward at all."""
    if not links:
        return []
    covered = {link.quantity for link in links}
    return [name for name in net.parameter_names() if name not in covered]


def judge(maker: WitnessMaker, witness: Witness, analytic: Params, rule: Rule) -> tuple[Witness, list[ParamResult]]:
    """Compare every parameter the witness covers; then re-check the entries at a kink and those that
    did not pass outright (witness.py) and judge again. Returns the witness with its re-checks."""
    params = [compare_parameter(n, analytic[n], witness, rule) for n in maker.net.parameter_names()
              if n in witness.gradient]
    kinks = {p.name: p.kink for p in params}
    disagreeing = {p.name: p.disagreeing for p in params if p.disagreeing is not None}
    below_floor = {p.name: p.below_floor for p in params if p.below_floor is not None}
    if not any(np.any(mask) for mask in [*kinks.values(), *disagreeing.values(), *below_floor.values()]):
        return witness, params
    names = [p.name for p in params]
    del params  # the first verdicts hold the first witness's arrays: let the re-checked ones replace them
    witness = maker.recheck(witness, rule.method, rule.eps, kinks, disagreeing, below_floor)
    return witness, [compare_parameter(name, analytic[name], witness, rule) for name in names]


def _directional_then_drill_down(maker: WitnessMaker, analytic: Params, rule: Rule, seed: int,
                                 E64: float) -> list[ParamResult]:
    net = maker.net
    along = directional_results(net, maker.params, maker.x, maker.y, analytic, rule, seed, E64)
    suspects = {name for name, result in along.items() if needs_drill_down(result)}
    if not suspects:
        return [along[n] for n in net.parameter_names()]
    masks = {name: np.ones(maker.params[name].shape, dtype=bool) for name in suspects}
    _, drilled = judge(maker, maker.make(rule.method, rule.eps, masks), analytic, rule)
    by_name = {p.name: p for p in drilled}
    return [by_name.get(n, along[n]) for n in net.parameter_names()]


def _precision_recheck(net: Network, params: list[ParamResult], params64: Params, x64: np.ndarray, y64: np.ndarray,
                       witness: Witness, rule: Rule) -> list[ParamResult]:
    """A float32 disagreement that vanishes when the same backward pass runs in float64 (on the same
    float32 values, against the same witness) is rounding, not a wrong derivation: WARN, and say so.
    "Vanishes" includes entries too small for the float64 witness to resolve: near convergence a float32
    gradient is a sum of cancelling terms whose rounding the float32 tolerance cannot foresee."""
    analytic64 = backward(net, params64, forward(net, params64, x64, y64), y64)
    rule64 = replace(rule, rtol=DEFAULT_TOLERANCES["float64"][0], warn_rtol=DEFAULT_TOLERANCES["float64"][1],
                     dtype="float64")
    rechecked = []
    for p in params:
        if p.status is Status.FAIL and compare_parameter(p.name, analytic64[p.name], witness, rule64).status \
                in (Status.PASS, Status.INCONCLUSIVE):
            p = replace(p, status=Status.WARN, reason="float32 rounding",
                        note="precision, not a bug: in float64 the same backward pass agrees with the witness")
        rechecked.append(p)
    return rechecked


SELF_TEST_CONTROLS = {"zeros": 0.0, "times 1.001": 1.001}


def negative_controls(analytic: Params, witness: Witness, rule: Rule) -> dict[str, bool]:
    """For each deliberately broken gradient: is it caught (some parameter FAILs against the witness)?"""
    return {
        label: any(compare_parameter(n, np.asarray(g, dtype=np.float64) * factor, witness, rule).status
                   is Status.FAIL for n, g in analytic.items())
        for label, factor in SELF_TEST_CONTROLS.items()
    }


def sample_entries(analytic: dict[str, np.ndarray], k: int, seed: int) -> Masks:
    """k entries of each parameter, drawn from the spec's seed, always with its largest gradient entry."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1000,)))
    masks = {}
    for name, g in analytic.items():
        mask = np.zeros(np.shape(g), dtype=bool)
        if mask.size <= k:
            mask[...] = True
        else:
            mask.flat[rng.choice(mask.size, size=k, replace=False)] = True
            mask.flat[int(np.argmax(np.abs(np.nan_to_num(np.asarray(g, dtype=np.float64)).reshape(-1))))] = True
        masks[name] = mask
    return masks


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
