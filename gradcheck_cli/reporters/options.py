"""What a reporter may be asked for besides the result itself."""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck_cli.results import LinkResult, ParamResult, SpecResult, Status


@dataclass(frozen=True)
class ReportOptions:
    verbose: int = 0  # table: worst entries per parameter
    values: bool = False  # json: full analytic and numeric arrays
    fail_on: str = "fail"  # "warn": warnings fail the gate too


DEFAULT_OPTIONS = ReportOptions()


def param_summary(spec: SpecResult, p: ParamResult) -> str:
    """One line that says why a parameter did not pass, shared by the machine formats."""
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
