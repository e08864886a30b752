"""Reports of ``gradcheck step``: a table of the updated parameters, or JSON."""

from __future__ import annotations

import json

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradcheck_cli.commands.step import StepResult

MAX_SHOWN = 12  # entries per parameter printed in the table; JSON always has all of them


def render_step_table(result: StepResult, console: Console) -> None:
    title = Text(result.name, style="bold")
    title.append(f"  {result.path}", style="dim")
    table = Table(title=title, title_justify="left")
    for column in ("parameter", "shape", "before", "after", ""):
        table.add_column(column)
    for name, after in result.params_after.items():
        note = "frozen (trainable: false)" if name in result.frozen else ""
        table.add_row(Text(name), "x".join(map(str, after.shape)) or "scalar",
                      _values(result.params_before[name]), _values(after), note)
    console.print(table)
    steps = f"{result.steps} step{'s' if result.steps != 1 else ''}"
    console.print(Text(f"{steps} of gradient descent, lr = {result.lr:g}: "
                       f"E = {result.loss_before:.9g} -> {result.loss_after:.9g}"))
    if result.diverged_at is not None:
        console.print(Text(f"diverged: after step {result.diverged_at} the loss or a parameter is not finite; "
                           f"the descent stopped there (try a smaller --lr)", style="red"))


def render_step_json(result: StepResult, console: Console) -> None:
    record = {
        "path": result.path,
        "name": result.name,
        "lr": result.lr,
        "steps": result.steps,
        "loss_before": _finite(result.loss_before),
        "loss_after": _finite(result.loss_after),
        "diverged_at": result.diverged_at,
        "frozen": result.frozen,
        "parameters": {name: [_finite(v) for v in value.ravel().tolist()] if not np.all(np.isfinite(value))
                       else value.tolist() for name, value in result.params_after.items()},
    }
    console.file.write(json.dumps(record, indent=2, allow_nan=False) + "\n")


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: null stands for them."""
    return float(value) if np.isfinite(value) else None


def _values(array: np.ndarray) -> str:
    flat = np.asarray(array).ravel()
    shown = ", ".join(f"{v:.9g}" for v in flat[:MAX_SHOWN])
    return shown + (f", ... ({flat.size} numbers)" if flat.size > MAX_SHOWN else "")
