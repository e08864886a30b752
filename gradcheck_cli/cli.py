"""The command line: parse arguments, run the core, hand the result to a reporter, exit.

Exit codes: 0 every check passed (warnings allowed), 1 some gradient check failed,
2 a spec could not be read or is invalid, or the command line is wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gradcheck_cli import __version__
from gradcheck_cli.errors import ExitCode
from gradcheck_cli.ops.activations import ACTIVATIONS
from gradcheck_cli.ops.losses import LOSSES
from gradcheck_cli.reporters import REPORTERS
from gradcheck_cli.results import RunResult, Status
from gradcheck_cli.runner import Overrides, check_paths, validate_paths

SPEC_SUFFIXES = (".yaml", ".yml")


def make_console(color: str, stderr: bool = False) -> Console:
    """Color: ``--color always|never`` wins; ``auto`` lets rich decide (NO_COLOR, FORCE_COLOR, TTY).

    Off a terminal (CI logs, pipes) tables get 160 columns instead of rich's 80, so they do not wrap.
    """
    stream = sys.stderr if stderr else sys.stdout
    return Console(
        file=stream,
        highlight=False,
        width=None if stream.isatty() else 160,
        force_terminal={"always": True, "never": False}.get(color),
        no_color={"always": False, "never": True}.get(color),
    )


def expand(paths: tuple[str, ...]) -> list[Path]:
    """Files as given; folders searched recursively for *.yaml / *.yml, sorted.

    A folder without any spec is a usage error: a CI gate pointed at the wrong folder must not pass.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            specs = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not specs:
                raise click.UsageError(f"{raw}: no *.yaml or *.yml spec files in this folder")
            found.extend(specs)
        else:
            found.append(path)
    return found


def report_errors(run: RunResult, color: str) -> None:
    err = make_console(color, stderr=True)
    for spec in run.specs:
        if spec.status is Status.ERROR:
            err.print(Text(spec.message, style="red"), soft_wrap=True)


color_option = click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                            show_default=True, help="Color the output (NO_COLOR is honoured in auto).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gradcheck")
def cli() -> None:
    """Check backpropagation gradients of a YAML-specified network against central differences.

    Exit codes: 0 all checks pass, 1 a gradient check failed, 2 a spec is invalid or the usage is wrong.
    """


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="table", show_default=True,
              help="Report format on stdout.")
@click.option("--values", is_flag=True, help="JSON: include the full analytic and numeric arrays.")
@click.option("-v", "--verbose", count=True, help="Table: list the worst entries of each parameter.")
@click.option("--eps", type=click.FloatRange(min=0, min_open=True), help="Relative finite-difference step.")
@click.option("--rtol", type=click.FloatRange(min=0, min_open=True), help="Largest relative error that passes.")
@click.option("--warn-rtol", type=click.FloatRange(min=0, min_open=True), help="Largest relative error that warns.")
@color_option
def check(specs: tuple[str, ...], fmt: str, values: bool, verbose: int, eps: float | None, rtol: float | None,
          warn_rtol: float | None, color: str) -> None:
    """Check the gradients of every SPEC (files, or folders searched for *.yaml)."""
    run = check_paths(expand(specs), Overrides(eps=eps, rtol=rtol, warn_rtol=warn_rtol))
    report_errors(run, color)
    REPORTERS[fmt](run, make_console(color), verbose=verbose, values=values)
    sys.exit(int(run.exit_code))


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@color_option
def validate(specs: tuple[str, ...], color: str) -> None:
    """Check that every SPEC is valid, without computing gradients."""
    run = validate_paths(expand(specs))
    report_errors(run, color)
    console = make_console(color)
    for spec in run.specs:
        if spec.status is not Status.ERROR:
            console.print(Text(f"{spec.path}: valid ({spec.name})"))
    sys.exit(int(run.exit_code))


@cli.command(name="list")
@color_option
def list_functions(color: str) -> None:
    """Show the activations and losses a spec can use, with their formulas."""
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


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.USER_ERROR))
