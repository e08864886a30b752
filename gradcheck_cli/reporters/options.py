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
    """One line that says why a parameter failed or warned, shared by the machine formats."""
    assert spec.rule is not None
    limit = spec.rule.warn_rtol if p.status is Status.FAIL else spec.rule.rtol
    where = "[" + ", ".join(map(str, p.worst_index)) + "]"
    return (f"max rel error {p.max_rel_error:.2e} > {limit:g} at {where}: "
            f"analytic {p.worst_analytic:.9g} vs numeric {p.worst_numeric:.9g}")


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
