"""``gradcheck layer``: parse its arguments, run the layer checks, hand the result to a reporter, exit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gradcheck_cli.cli.options import (
    color_option,
    fail_on_option,
    report_options,
    shard_option,
    skip_option,
    targets_from,
    within,
)
from gradcheck_cli.cli.output import report_run, writable_output
from gradcheck_cli.run.budget import DEFAULT_TIMEOUT


@click.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--code", required=True, metavar="FILE.py",
              help="The Python file holding the functions the specs name. It runs your code: never pass a file you "
                   "have not read.")
@report_options
@click.option("--values", is_flag=True, help="JSON: include the full arrays compared.")
@click.option("-v", "--verbose", count=True, help="Table: list the worst entries of each row.")
@fail_on_option
@click.option("--timeout", type=float, callback=within(0.0, 1e6, low_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="Time budget of one spec (your code included).")
@shard_option
@skip_option
@color_option
def layer(specs: tuple[str, ...], code: str, fmt: str, output: Path | None, values: bool, verbose: int, fail_on: str,
          timeout: float, shard_text: str | None, skip_non_specs: bool, color: str) -> None:
    """Check one layer's own forward and backward functions (in --code) as every SPEC describes them.

    Each gradient is compared with the numerical vector-Jacobian product of your forward, and, with a
    reference: in the spec, the forward's values and the gradients with the registry's layer."""
    from gradcheck_cli.cli.console import internal_errors_reported
    from gradcheck_cli.derivation.user_code import CodeLoadError, load_functions
    from gradcheck_cli.reporters.options import ReportOptions
    from gradcheck_cli.run.layer_checks import check_layer_targets

    writable_output(output)
    targets = targets_from(specs, shard_text, skip_non_specs)
    try:
        load_functions(code, [], "--code")  # fail fast, once: the file exists and loads
    except CodeLoadError as exc:
        raise click.UsageError(str(exc)) from None
    with internal_errors_reported(", ".join(specs)):
        run = check_layer_targets(targets, code, timeout)
    report_run(run, fmt, output, color, ReportOptions(verbose=verbose, values=values, fail_on=fail_on))
    sys.exit(int(run.exit_code(fail_on)))
