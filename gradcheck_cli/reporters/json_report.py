"""The JSON report. Its keys are a stable interface, documented in the README.

Non-finite numbers are written as null (JSON has no NaN or Infinity). Timings are left out so
that the same specs always give byte-identical JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rich.console import Console

from gradcheck_cli.reporters.options import DEFAULT_OPTIONS, ReportOptions
from gradcheck_cli.verdict.results import Gate, LinkResult, ParamResult, RunResult, SpecResult, Status

FORMAT_VERSION = 1


def render_json(run: RunResult, console: Console, options: ReportOptions) -> None:
    console.file.write(json.dumps(run_record(run, options), indent=2) + "\n")


def run_record(run: RunResult, options: ReportOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "status": run.outcome(options.fail_on).value,
        "exit_code": int(run.exit_code(options.fail_on)),
        "worst_status": run.status.value,
        "counts": {status.value: count for status, count in run.counts().items()},
        "gates": {gate.value: sum(s.gate(options.fail_on) is gate for s in run.specs) for gate in Gate},
        "specs": [spec_record(spec, options) for spec in run.specs],
    }


def spec_record(spec: SpecResult, options: ReportOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    rule = spec.rule
    return {
        "path": spec.path,
        "name": spec.name,
        "status": spec.status.value,
        "expect": spec.expect,
        "gate": spec.gate(options.fail_on).value,
        "loss": _number(spec.loss),
        "message": spec.message or None,
        "errors": [{"message": text, "line": line} for text, line in spec.problems] if spec.status is Status.ERROR
        else [],
        "rule": None if rule is None else {
            "method": rule.method, "engine": rule.engine, "rtol": rule.rtol, "warn_rtol": rule.warn_rtol,
            "eps": rule.eps,
            "noise": _number(rule.noise), "dtype": rule.dtype,
        },
        "parameters": [param_record(p, values=options.values) for p in spec.params],
        "derivation": [link_record(link) for link in spec.links],
        "not_covered": spec.not_covered,
        "self_test": spec.self_test or None,
    }


def param_record(p: ParamResult, *, values: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": p.name,
        "shape": list(p.shape),
        "status": p.status.value,
        "max_abs_error": _number(p.max_abs_error),
        "max_rel_error": _number(p.max_rel_error),
        "norm_ratio": _number(p.norm_ratio),
        "worst_index": list(p.worst_index),
        "worst_analytic": _number(p.worst_analytic),
        "worst_numeric": _number(p.worst_numeric),
        "worst_error": _number(p.worst_error),
        "worst_expected_error": _number(p.worst_expected),
        "reason": p.reason or None,
        "noise_limited": p.noise_limited,
        "loose_entries": p.loose_entries,
        "loose_resolution": _number(p.loose_resolution),
        "kink_entries": p.kink_entries,
        "kink_unresolved": p.kink_unresolved,
        "checked_entries": p.checked_entries,
        "mode": p.mode,
        "note": p.note or None,
        "grad_norm": _number(p.grad_norm),
    }
    if values:
        record["analytic"] = _nested(p.analytic.tolist())
        record["numeric"] = _nested(p.numeric.tolist())
    return record


def link_record(link: LinkResult) -> dict[str, Any]:
    comparison = link.comparison
    return {
        "name": link.name,
        "formula": link.formula,
        "compared_with": link.target or None,
        "status": None if link.status is None else link.status.value,
        "shape": None if link.shape is None else list(link.shape),
        "expected_shape": None if link.expected_shape is None else list(link.expected_shape),
        "max_rel_error": None if comparison is None else _number(comparison.max_rel_error),
        "worst_index": None if comparison is None else list(comparison.worst_index),
        "message": link.message or None,
        "diagnosis": link.diagnosis or None,
        "line": link.line,
    }


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _nested(value: Any) -> Any:
    return [_nested(v) for v in value] if isinstance(value, list) else _number(value)
