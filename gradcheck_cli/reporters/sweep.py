"""Draw a :class:`~gradcheck_cli.commands.sweep.Sweep` as a terminal chart: one bar per step, log scale."""

from __future__ import annotations

import math

from rich.console import Console
from rich.text import Text

from gradcheck_cli.commands.sweep import Sweep

WIDTH = 48  # characters for 16 decades of error, 1e-16 .. 1


def render_sweep(result: Sweep, console: Console) -> None:
    title = Text(result.name, style="bold")
    title.append(f"  {result.path}", style="dim")
    console.print(title)
    console.print(Text("error = ||a - n|| / (||a|| + ||n||) against the step h; longer bar = larger error"))
    for name, errors in result.errors.items():
        best = min(range(len(errors)), key=errors.__getitem__)
        console.print(Text(f"\n{name}", style="bold"))
        for i, (h, error) in enumerate(zip(result.steps, errors, strict=True)):
            length = 0 if error <= 0 else max(1, min(WIDTH, round((math.log10(error) + 16) * WIDTH / 16)))
            line = Text(f"  h = {h:7.0e}  ")
            line.append("#" * length, style="green" if i == best else "cyan")
            line.append(" " * (WIDTH - length) + f"  {error:8.1e}")
            notes = []
            if math.isclose(h, result.default_step):
                notes.append("<- gradcheck's default step")
            if i == best:
                notes.append("<- smallest error")
            if notes:
                line.append("  " + ", ".join(notes), style="bold")
            console.print(line)
