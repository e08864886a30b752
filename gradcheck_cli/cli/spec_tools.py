"""The commands on one network spec (explain, step, sweep) and on the format itself (schema, list):
each parses its arguments, runs the core, and hands the result to its reporter."""

from __future__ import annotations

import json
import sys

import click

from gradcheck_cli.cli.options import color_option
from gradcheck_cli.errors import ExitCode


@click.command()
@click.argument("spec")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), required=True, help="Learning rate.")
@click.option("--steps", type=click.IntRange(min=1, max=1_000_000), default=1, show_default=True,
              help="Number of gradient-descent steps.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@color_option
def step(spec: str, lr: float, steps: int, fmt: str, color: str) -> None:
    """Run gradient descent on SPEC's network and print the updated parameters and the loss."""
    from gradcheck_cli.cli.console import internal_errors_reported, load_or_exit, make_console
    from gradcheck_cli.commands.step import gradient_descent
    from gradcheck_cli.reporters.step import render_step_json, render_step_table

    problem = load_or_exit(spec, color)
    with internal_errors_reported(spec):
        result = gradient_descent(problem, spec, lr, steps)
    (render_step_json if fmt == "json" else render_step_table)(result, make_console(color))
    if result.diverged_at is not None:
        sys.exit(int(ExitCode.CHECK_FAILED))


@click.command(name="explain")
@click.argument("spec")
@click.option("--latex", is_flag=True, help="Print LaTeX (an aligned block) instead.")
@color_option
def explain_command(spec: str, latex: bool, color: str) -> None:
    """Print the backpropagation equations of SPEC's network, with every shape written out."""
    from gradcheck_cli.cli.console import internal_errors_reported, load_or_exit, make_console
    from gradcheck_cli.commands.explain import explain
    from gradcheck_cli.reporters.explain import render_explanation

    problem = load_or_exit(spec, color)
    m = problem.network.samples_in(problem.y)
    with internal_errors_reported(spec):
        explanation = explain(problem.network, m)
    render_explanation(explanation, make_console(color), latex=latex)


@click.command(name="sweep")
@click.argument("spec")
@color_option
def sweep_command(spec: str, color: str) -> None:
    """Show, per parameter, the finite-difference error against the step size (the V-shaped curve)."""
    from gradcheck_cli.cli.console import internal_errors_reported, load_or_exit, make_console
    from gradcheck_cli.commands.sweep import sweep
    from gradcheck_cli.reporters.sweep import render_sweep

    problem = load_or_exit(spec, color)
    with internal_errors_reported(spec):
        result = sweep(problem, spec)
    render_sweep(result, make_console(color))


@click.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (for editors and validators)."""
    from gradcheck_cli.reading.model import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@click.command(name="list")
@color_option
def list_functions(color: str) -> None:
    """Show the activations and losses a spec can use, with their formulas."""
    from rich.table import Table
    from rich.text import Text

    from gradcheck_cli.cli.console import make_console
    from gradcheck_cli.network.activations import ACTIVATIONS
    from gradcheck_cli.network.losses import LOSSES

    console = make_console(color)
    activations = Table(title="activations (layers[].activation)", title_justify="left")
    for column in ("name", "a = f(z)", "derivative", "alpha"):
        activations.add_column(column)
    for act in ACTIVATIONS.values():
        alpha = "" if act.default_alpha is None else f"default {act.default_alpha:g}"
        activations.add_row(*map(Text, (act.name, act.value, act.derivative, alpha)))
    console.print(activations)
    losses = Table(title="losses (loss.name), per sample; reduction sum or mean over the batch", title_justify="left")
    for column in ("name", "value", "gradient", "targets"):
        losses.add_column(column)
    for loss in LOSSES.values():
        losses.add_row(*map(Text, (loss.name, loss.value, loss.derivative, loss.targets)))
    console.print(losses)
