"""What a reporter may be asked for besides the result itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportOptions:
    verbose: int = 0  # table: worst entries per parameter
    values: bool = False  # json: full analytic and numeric arrays
    fail_on: str = "fail"  # "warn": warnings fail the gate too


DEFAULT_OPTIONS = ReportOptions()


def failure_summary(max_rel: float, limit: float, index: tuple[int, ...], analytic: float, numeric: float) -> str:
    """One line that says why a parameter failed, shared by the machine formats."""
    where = "[" + ", ".join(map(str, index)) + "]"
    return f"max rel error {max_rel:.2e} > {limit:g} at {where}: analytic {analytic:.9g} vs numeric {numeric:.9g}"
