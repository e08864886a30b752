"""The terminal report: one rich table per spec, colored by verdict, and a summary line.

User text (spec names, paths, parameter names) goes into ``Text`` objects, never into markup, so
rich cannot read ``[red]`` in a spec name as a style.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradcheck_cli.reporters.options import (
    ReportOptions,
    link_findings,
    link_label,
    outcome_note,
    param_counts,
    run_counts,
)
from gradcheck_cli.results import Gate, ParamResult, RunResult, SpecResult, Status

STYLES = {Status.PASS: "green", Status.INCONCLUSIVE: "magenta", Status.WARN: "yellow", Status.FAIL: "red",
          Status.ERROR: "bold red", Status.SKIP: "dim"}
WORST_ENTRIES = 5


GATE_NOTES = {Gate.XFAIL: "expected to fail: gate passes", Gate.XPASS: "expected to fail, but passed: gate fails"}


def render_table(run: RunResult, console: Console, options: ReportOptions) -> None:
    for spec in run.specs:
        if spec.status is Status.ERROR:
            console.print(Text(f"ERROR  {spec.message}", style=STYLES[Status.ERROR]))
            console.print()
        elif spec.status is not Status.SKIP:  # a skipped file gets its note on stderr, from the CLI
            _render_spec(spec, console, options)
    outcome = run.outcome(options.fail_on)
    summary = Text(run_counts(run, options) + " -> ")
    summary.append(outcome.value.upper(), style=STYLES[outcome])
    summary.append(outcome_note(run, options))
    console.print(summary)


def _render_spec(spec: SpecResult, console: Console, options: ReportOptions) -> None:
    title = Text(spec.name, style="bold")
    title.append(f"  {spec.path}", style="dim")
    gate = spec.gate(options.fail_on)
    if gate in GATE_NOTES:
        title.append(f"  ({GATE_NOTES[gate]})", style="yellow")
    if not spec.params:
        console.print(title)
        console.print(Text(f"FAIL: {spec.message}", style=STYLES[Status.FAIL]))
        console.print()
        return
    table = Table(title=title, title_justify="left")
    table.add_column("parameter")
    table.add_column("shape", justify="right")
    table.add_column("max rel err", justify="right", no_wrap=True)
    table.add_column("norm ratio", justify="right", no_wrap=True)
    table.add_column("|grad|", justify="right", no_wrap=True)
    table.add_column("worst entry: analytic vs numeric", no_wrap=True)
    table.add_column("|a-n| vs expected", justify="right", no_wrap=True)
    table.add_column("status")
    for p in spec.params:
        status = Text(p.status.value.upper(), style=STYLES[p.status])
        if p.reason:
            status.append(f": {p.reason}", style=STYLES[p.status])
        counts = param_counts(p)
        if counts:
            status.append(f" ({counts})", style="dim")
        table.add_row(
            Text(p.name),
            _shape(p.shape),
            Text(f"{p.max_rel_error:.2e}", style=STYLES[p.status]),
            f"{p.norm_ratio:.2e}",
            f"{p.grad_norm:.2e}" if np.isfinite(p.grad_norm) else "-",
            f"{'g . d' if p.mode == 'directional' else _index(p.worst_index)}: "
            f"{p.worst_analytic:.9g} vs {p.worst_numeric:.9g}",
            f"{p.worst_error:.1e} / {p.worst_expected:.1e}",
            status,
        )
    console.print(table)
    console.print(_rule_text(spec))
    for p in spec.params:
        if p.note:
            console.print(Text(f"{p.name}: {p.note}", style="yellow"))
    if spec.links:
        _render_links(spec, console)
    if options.verbose:
        for p in spec.params:
            _render_worst_entries(p, console)
    if spec.self_test:
        line = Text("self-test (broken gradients must fail): ")
        for i, (label, caught) in enumerate(spec.self_test.items()):
            line.append(", " if i else "")
            line.append(f"{label} {'caught' if caught else 'NOT CAUGHT'}", style="green" if caught else "bold red")
        console.print(line)
    entries = sum(p.analytic.size for p in spec.params)
    line = Text(f"E = {spec.loss:.9g}   {len(spec.params)} parameters, {entries} entries, {spec.seconds:.2f} s   ")
    line.append(spec.status.value.upper(), style=STYLES[spec.status])
    console.print(line)
    console.print()


def _render_links(spec: SpecResult, console: Console) -> None:
    """The student's formulas in order; the first broken link stands out, diagnoses below."""
    first = spec.first_broken_link
    table = Table(title=Text("derivation, link by link", style="bold"), title_justify="left")
    for column in ("formula", "compared with", "shape", "max rel err", "status"):
        table.add_column(column, no_wrap=column != "formula")
    for link in spec.links:
        formula = Text(link_label(link), style="bold" if link is first else "")
        status = Text("-" if link.status is None else link.status.value.upper(),
                      style="" if link.status is None else STYLES[link.status])
        if link is first:
            status.append("  <- first broken link", style="bold red")
        shape = _shape(link.shape) if link.shape is not None else "-"
        error = f"{link.comparison.max_rel_error:.2e}" if link.comparison else "-"
        table.add_row(formula, Text(link.target or "(helper)"), shape, error, status)
    console.print(table)
    if spec.coverage_note:
        console.print(Text(f"  {spec.coverage_note}", style="yellow"))
    for link in spec.links:
        if link.status in (Status.FAIL, Status.WARN, Status.INCONCLUSIVE):
            text = Text(f"  {link.name}: ", style="bold")
            text.append(link_findings(link))
            console.print(text)


def _render_worst_entries(p: ParamResult, console: Console) -> None:
    table = Table(title=Text(f"{p.name}: worst entries"), title_justify="left", box=None, padding=(0, 2))
    for column in ("index", "analytic", "numeric", "rel err", "|a-n|", ""):
        table.add_column(column, justify="right" if column != "index" else "left")
    evaluated = [i for i in range(p.rel_error.size) if p.rel_error.flat[i] >= 0]
    order = sorted(evaluated, key=lambda i: -p.rel_error.flat[i])[:WORST_ENTRIES]
    for i in order:
        index = tuple(int(k) for k in np.unravel_index(i, p.rel_error.shape))
        note = "at a kink: checked against the one-sided slopes" if p.kink.flat[i] else ""
        table.add_row(_index(index), f"{p.analytic.flat[i]:.12g}", f"{p.numeric.flat[i]:.12g}",
                      f"{p.rel_error.flat[i]:.2e}", f"{abs(p.analytic.flat[i] - p.numeric.flat[i]):.1e}", note)
    console.print(table)


def _rule_text(spec: SpecResult) -> Text:
    assert spec.rule is not None
    return Text("pass rule: " + spec.rule.describe(), style="dim")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def _index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, index)) + "]" if index else "[]"
