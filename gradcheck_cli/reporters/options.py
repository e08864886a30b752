"""What a reporter may be asked for besides the result itself."""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck_cli.verdict.results import Gate, LinkResult, ParamResult, RunResult, SpecResult, Status


@dataclass(frozen=True)
class ReportOptions:
    verbose: int = 0  # table: worst entries per parameter
    values: bool = False  # json: full analytic and numeric arrays
    fail_on: str = "fail"  # "warn": warnings fail the gate too


DEFAULT_OPTIONS = ReportOptions()


def run_counts(run: RunResult, options: ReportOptions) -> str:
    """``3 specs: 1 pass, 1 fail, 1 error (1 expected to fail)``: the first half of every summary."""
    counts = run.counts()
    text = f"{len(run.specs)} spec{'s' if len(run.specs) != 1 else ''}: "
    shown = [s for s in Status if s is not Status.SKIP] + [Status.SKIP]  # worst last, then what was not a spec
    text += ", ".join(f"{counts[s]} {s.value}" for s in shown if counts[s] or s is Status.PASS)
    gates = [s.gate(options.fail_on) for s in run.specs]
    notes = [f"{gates.count(gate)} {words}" for gate, words in ((Gate.XFAIL, "expected to fail"),
                                                              (Gate.XPASS, "passed but expected to fail"))
             if gate in gates]
    untested = sum(bool(s.self_test) and not all(s.self_test.values()) for s in run.specs)
    if untested:
        notes.append(f"{untested} failed the self-test")
    return text + (f" ({', '.join(notes)})" if notes else "")


def outcome_note(run: RunResult, options: ReportOptions) -> str:
    """What follows the outcome word when it needs explaining ('' otherwise)."""
    if run.outcome(options.fail_on) is Status.INCONCLUSIVE:
        unresolved = run.counts()[Status.INCONCLUSIVE]
        return (f" ({unresolved} below the noise floor: nothing failed, nothing there passed; "
                "--fail-on warn fails them)")
    return ""


def self_test_failures(spec: SpecResult) -> dict[str, str]:
    """Each broken gradient that --self-test planted and the check did not catch, with a line saying so."""
    return {label: f"--self-test: the broken gradient '{label}' was not caught: this spec's check cannot fail "
            "here, so its PASS proves nothing" for label, caught in spec.self_test.items() if not caught}


def param_summary(spec: SpecResult, p: ParamResult) -> str:
    """One line that says why a parameter did not pass, shared by the machine formats; its note (a
    layer check's diagnosis, float32's precision) after it."""
    return _verdict_line(spec, p) + (f"; {p.note}" if p.note else "")


def _verdict_line(spec: SpecResult, p: ParamResult) -> str:
    assert spec.rule is not None
    where = "[" + ", ".join(map(str, p.worst_index)) + "]"
    observed = (f"analytic {p.worst_analytic:.9g} vs numeric {p.worst_numeric:.9g}, "
                f"|a-n| {p.worst_error:.2e} against an expected error of {p.worst_expected:.2e}")
    if p.status is Status.INCONCLUSIVE:
        return (f"{p.reason}: none of {p.checked_entries} entries can be resolved to rtol {spec.rule.rtol:g}; "
                f"at {where}: {observed}")
    if p.reason.startswith("kink"):
        return (f"{p.reason}: {p.kink_unresolved} of {p.kink_entries} entries at a kink lie outside "
                "their one-sided slopes")
    limit = spec.rule.warn_rtol if p.status is Status.FAIL else spec.rule.rtol
    return f"{p.reason}: max rel error {p.max_rel_error:.2e} > {limit:g} at {where}: {observed}"


def param_counts(p: ParamResult) -> str:
    """What the verdict does not show: entries sampled, at a kink, below the noise floor."""
    parts = []
    if p.mode == "directional":
        parts.append("along a random direction")
    elif p.checked_entries < p.analytic.size:
        parts.append(f"{p.checked_entries:,} of {p.analytic.size:,} checked")
    if p.kink_entries:
        parts.append(f"{p.kink_entries} at kink" + (f", {p.kink_unresolved} undecidable" if p.kink_unresolved else ""))
    if p.loose_entries:
        parts.append(f"{p.loose_entries} resolved to {p.loose_resolution:.0e} only")
    if p.noise_limited:
        parts.append(f"{p.noise_limited} below noise floor")
    return ", ".join(parts)


def link_label(link: LinkResult) -> str:
    """``dz1 = (W2.T @ dz2) * ...`` for a formula, ``dz1, returned by bp.py:backward`` for --backward."""
    joiner = ", " if link.formula.startswith("returned by") else " = "
    return f"{link.name}{joiner}{link.formula}"


def link_findings(link: LinkResult) -> str:
    """Why a link could not be compared, and what it probably got wrong."""
    return "; ".join(part for part in (link.message, link.diagnosis) if part)


def link_summary(link: LinkResult) -> str:
    """One line for a failing link, shared by the machine formats."""
    return "; ".join(part for part in (link_label(link), link_findings(link)) if part)
