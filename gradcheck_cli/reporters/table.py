"""The terminal report: one rich table per spec, colored by verdict, and a summary line.

User text (spec names, paths, parameter names) goes into ``Text`` objects, never into markup, so
rich cannot read ``[red]`` in a spec name as a style.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.measure import Measurement
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
from gradcheck_cli.verdict.results import Gate, ParamResult, RunResult, SpecResult, Status

STYLES = {Status.PASS: "green", Status.INCONCLUSIVE: "magenta", Status.WARN: "yellow", Status.FAIL: "red",
          Status.ERROR: "bold red", Status.SKIP: "dim"}
WORST_ENTRIES = 5


GATE_NOTES = {Gate.XFAIL: "expected to fail: gate passes", Gate.XPASS: "expected to fail, but passed: gate fails"}


def render_table(run: RunResult, console: Console, options: ReportOptions) -> None:
    for spec in run.specs:
        if spec.status is Status.ERROR:
            for text, _ in spec.problems:
                say(console, Text(f"ERROR  {text}", style=STYLES[Status.ERROR]))
            console.print()
        elif spec.status is not Status.SKIP:  # a skipped file gets its note on stderr, from the CLI
            _render_spec(spec, console, options)
    outcome = run.outcome(options.fail_on)
    summary = Text(run_counts(run, options) + " -> ")
    summary.append(outcome.value.upper(), style=STYLES[outcome])
    summary.append(outcome_note(run, options))
    say(console, summary)


def _render_spec(spec: SpecResult, console: Console, options: ReportOptions) -> None:
    title = Text(spec.name, style="bold")
    title.append(f"  {spec.path}", style="dim")
    gate = spec.gate(options.fail_on)
    if gate in GATE_NOTES:
        title.append(f"  ({GATE_NOTES[gate]})", style="yellow")
    say(console, title)
    if not spec.params:
        say(console, Text(f"FAIL: {spec.message}", style=STYLES[Status.FAIL]))
        console.print()
        return
    rows = [_param_cells(p) for p in spec.params]
    full, compact = _param_table(rows, COLUMNS), _param_table(rows, COMPACT_COLUMNS)
    if fits(console, full):
        console.print(full)
    elif fits(console, compact):  # 80 columns: the figures JSON and a wide terminal add are left out
        console.print(compact)
    else:  # narrower still: one stacked block per parameter, nothing cut
        for cells in rows:
            say(console, Text.assemble(cells["parameter"], "  ", cells["shape"], "  ", cells["status"]))
            say(console, Text.assemble("  max rel err ", cells["max rel err"],
                                       f", norm ratio {cells['norm ratio']}, |grad| {cells['|grad|']}"))
            say(console, Text(f"  worst {cells['worst entry: analytic vs numeric']}, "
                              f"|a-n| {cells['|a-n| vs expected'].replace(' / ', ' vs expected ')}"))
    say(console, _rule_text(spec))
    for p in spec.params:
        if p.note:
            say(console, Text(f"{p.name}: {p.note}", style="yellow"))
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
        say(console, line)
    entries = sum(p.analytic.size for p in spec.params)
    line = Text(f"E = {spec.loss:.9g}   {len(spec.params)} parameters, {entries} entries, {spec.seconds:.2f} s   ")
    line.append(spec.status.value.upper(), style=STYLES[spec.status])
    say(console, line)
    console.print()


COLUMNS = ("parameter", "shape", "max rel err", "norm ratio", "|grad|", "worst entry: analytic vs numeric",
           "|a-n| vs expected", "status")
COMPACT_COLUMNS = ("parameter", "shape", "max rel err", "worst entry: analytic vs numeric", "status")
RIGHT_JUSTIFIED = {"shape", "max rel err", "norm ratio", "|grad|", "|a-n| vs expected"}


def _param_table(rows: list[dict[str, Text | str]], columns: tuple[str, ...]) -> Table:
    """The parameters' table; the compact one lets the worst entry wrap between its numbers."""
    wrapping = {"status"} if columns == COLUMNS else {"status", "worst entry: analytic vs numeric"}
    table = Table()
    for column in columns:  # only words wrap, at spaces: names and numbers are never cut
        table.add_column(column, justify="right" if column in RIGHT_JUSTIFIED else "left",
                         no_wrap=column not in wrapping)
    for cells in rows:
        table.add_row(*(cells[column] for column in columns))
    return table


def _param_cells(p: ParamResult) -> dict[str, Text | str]:
    status = Text(p.status.value.upper(), style=STYLES[p.status])
    if p.reason:
        status.append(f": {p.reason}", style=STYLES[p.status])
    counts = param_counts(p)
    if counts:
        status.append(f" ({counts})", style="dim")
    worst = "g.d" if p.mode == "directional" else _index(p.worst_index).replace(" ", "")  # one word
    return {
        "parameter": Text(p.name, style="bold"),
        "shape": _shape(p.shape),
        "max rel err": Text(f"{p.max_rel_error:.2e}", style=STYLES[p.status]),
        "norm ratio": f"{p.norm_ratio:.2e}",
        "|grad|": f"{p.grad_norm:.2e}" if np.isfinite(p.grad_norm) else "-",
        "worst entry: analytic vs numeric": f"{worst}: {p.worst_analytic:.9g} vs {p.worst_numeric:.9g}",
        "|a-n| vs expected": f"{p.worst_error:.1e} / {p.worst_expected:.1e}",
        "status": status,
    }


def _render_links(spec: SpecResult, console: Console) -> None:
    """The student's formulas in order; the first broken link stands out, diagnoses below."""
    first = spec.first_broken_link
    say(console, Text("derivation, link by link", style="bold"))
    table = Table()
    for column in ("formula", "compared with", "shape", "max rel err", "status"):
        table.add_column(column, no_wrap=column != "formula")
    rows = []
    for link in spec.links:
        formula = Text(link_label(link), style="bold" if link is first else "")
        status = Text("-" if link.status is None else link.status.value.upper(),
                      style="" if link.status is None else STYLES[link.status])
        if link is first:
            status.append("  <- first broken link", style="bold red")
        shape = _shape(link.shape) if link.shape is not None else "-"
        error = f"{link.comparison.max_rel_error:.2e}" if link.comparison else "-"
        rows.append((formula, Text(link.target or "(helper)"), shape, error, status))
        table.add_row(*rows[-1])
    if fits(console, table):
        console.print(table)
    else:
        for formula, target, shape, error, status in rows:
            say(console, Text.assemble(formula, "  ", status))
            say(console, Text.assemble("  compared with ", target, f", {shape}, max rel err {error}"))
    if spec.coverage_note:
        say(console, Text(f"  {spec.coverage_note}", style="yellow"))
    for link in spec.links:
        if link.status in (Status.FAIL, Status.WARN, Status.INCONCLUSIVE):
            text = Text(f"  {link.name}: ", style="bold")
            text.append(link_findings(link))
            say(console, text)


def _render_worst_entries(p: ParamResult, console: Console) -> None:
    """Plain aligned columns (no rich table, which pads every line with spaces), or stacked lines."""
    say(console, Text(f"{p.name}: worst entries"))
    evaluated = [i for i in range(p.rel_error.size) if p.rel_error.flat[i] >= 0]
    order = sorted(evaluated, key=lambda i: -p.rel_error.flat[i])[:WORST_ENTRIES]
    rows = [("index", "analytic", "numeric", "rel err", "|a-n|", "")]
    for i in order:
        index = tuple(int(k) for k in np.unravel_index(i, p.rel_error.shape))
        note = "at a kink: checked against the one-sided slopes" if p.kink.flat[i] else ""
        rows.append((_index(index), f"{p.analytic.flat[i]:.12g}", f"{p.numeric.flat[i]:.12g}",
                     f"{p.rel_error.flat[i]:.2e}", f"{abs(p.analytic.flat[i] - p.numeric.flat[i]):.1e}", note))
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    lines = ["  " + "    ".join([row[0].ljust(widths[0])]
                                + [cell.rjust(width) for cell, width in zip(row[1:5], widths[1:], strict=True)])
             for row in rows]
    if max(map(len, lines)) <= console.width:
        for line, row in zip(lines, rows, strict=True):
            say(console, Text(f"{line}    {row[5]}" if row[5] else line))
        return
    for index, analytic, numeric, error, difference, note in rows[1:]:
        say(console, Text(f"  {index}: {analytic} vs {numeric}, rel err {error}, |a-n| {difference}"
                          + (f"; {note}" if note else "")))


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` prints within the console's width with no cell cut: only the columns that
    wrap may be narrowed (to their longest word); rich would cut any other with an ellipsis."""
    unbounded = console.options.update_width(1_000_000)
    natural = Measurement.get(console, unbounded, table).maximum
    for column in table.columns:
        if not column.no_wrap:
            cells = [Measurement.get(console, unbounded, cell) for cell in (column.header, *column.cells)]
            natural -= max(m.maximum for m in cells) - max(m.minimum for m in cells)
    return natural <= console.width


def say(console: Console, text: Text) -> None:
    """Print ``text`` wrapped at spaces to the console's width, with no trailing spaces."""
    for line in text.wrap(console, console.width):
        line.rstrip()
        console.print(line, soft_wrap=True)


def _rule_text(spec: SpecResult) -> Text:
    assert spec.rule is not None
    return Text("pass rule: " + spec.rule.describe(), style="dim")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def _index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, index)) + "]" if index else "[]"
