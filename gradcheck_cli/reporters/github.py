"""GitHub Actions workflow commands: an annotation on the spec file's line for every problem.

``::error file=PATH,line=N,title=T::MESSAGE`` for failures and unreadable specs, ``::warning`` for
warnings. Messages escape % and line breaks, property values also ':' and ','. GitHub shows at most
10 annotations of each kind per step, so the table still belongs in the log next to these.
"""

from __future__ import annotations

from rich.console import Console

from gradcheck_cli.reporters.options import (
    ReportOptions,
    link_summary,
    outcome_note,
    param_summary,
    run_counts,
    self_test_failures,
)
from gradcheck_cli.verdict.results import Gate, RunResult, SpecResult, Status


def render_github(run: RunResult, console: Console, options: ReportOptions) -> None:
    lines = [line for spec in run.specs for line in _annotations(spec, options)]
    outcome = run.outcome(options.fail_on).value.upper()
    lines.append(f"gradcheck: {run_counts(run, options)} -> {outcome}{outcome_note(run, options)}")
    console.file.write("\n".join(lines) + "\n")


def _annotations(spec: SpecResult, options: ReportOptions) -> list[str]:
    gate = spec.gate(options.fail_on)
    if spec.status is Status.ERROR:
        return [command("error", spec.path, line, "gradcheck: invalid spec", text) for text, line in spec.problems]
    if gate is Gate.XPASS:
        return [command("error", spec.path, spec.lines.get("expect"), "gradcheck: unexpected pass",
                        "expected to fail (expect: fail), but every check passed")]
    out = [command("error", spec.path, None, "gradcheck: self-test failed", line)
           for line in self_test_failures(spec).values()]
    if spec.status is Status.SKIP or gate is Gate.XFAIL:
        return out
    if not spec.params and spec.status is Status.FAIL:
        return [*out, command("error", spec.path, None, "gradcheck: forward pass", spec.message)]
    for p in spec.params:
        if p.status is Status.PASS:
            continue
        level = "error" if p.status.fails(options.fail_on) else "warning"
        title = f"gradcheck: {p.name} {p.status.value.upper()}"
        out.append(command(level, spec.path, spec.lines.get(p.name), title, param_summary(spec, p)))
    for link in spec.links:
        if link.status in (Status.FAIL, Status.WARN, Status.INCONCLUSIVE):
            level = "error" if link.status.fails(options.fail_on) else "warning"
            verdict = "is wrong" if link.status is Status.FAIL else link.status.value.upper()
            out.append(command(level, spec.path, link.line, f"gradcheck: formula {link.name} {verdict}",
                               link_summary(link)))
    if spec.coverage_note:
        out.append(command("notice", spec.path, None, "gradcheck: derivation incomplete", spec.coverage_note))
    return out


def command(level: str, path: str, line: int | None, title: str, message: str) -> str:
    properties = [f"file={escape_property(path)}"]
    if line is not None:
        properties.append(f"line={line}")
    properties.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(properties)}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
