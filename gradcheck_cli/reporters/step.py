"""Reports of ``gradcheck step``: a table of the updated parameters, or JSON."""

from __future__ import annotations

import json

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradcheck_cli.train import StepResult

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


def render_step_json(result: StepResult, console: Console) -> None:
    record = {
        "path": result.path,
        "name": result.name,
        "lr": result.lr,
        "steps": result.steps,
        "loss_before": result.loss_before,
        "loss_after": result.loss_after,
        "frozen": result.frozen,
        "parameters": {name: value.tolist() for name, value in result.params_after.items()},
    }
    console.file.write(json.dumps(record, indent=2) + "\n")


def _values(array: np.ndarray) -> str:
    flat = np.asarray(array).ravel()
    shown = ", ".join(f"{v:.9g}" for v in flat[:MAX_SHOWN])
    return shown + (f", ... ({flat.size} numbers)" if flat.size > MAX_SHOWN else "")
