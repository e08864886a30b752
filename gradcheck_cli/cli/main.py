"""The command line: parse arguments, run the core, hand the result to a reporter, exit.

Exit codes: 0 every check passed (warnings allowed), 1 some gradient check failed,
2 a spec could not be read or is invalid, or the command line is wrong.

Every command imports the core when it runs, and this module imports only click and constants:
``gradcheck --help`` starts without numpy, pydantic or rich, and ``check`` (the command a CI job
runs over and over) without the modules of ``step``, ``explain`` and ``sweep``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from gradcheck_cli import __version__
from gradcheck_cli.cli.layer import layer
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
from gradcheck_cli.cli.spec_tools import explain_command, list_functions, schema, step, sweep_command
from gradcheck_cli.errors import ExitCode, Interrupted
from gradcheck_cli.run.budget import DEFAULT_TIMEOUT
from gradcheck_cli.verdict.limits import EPS_ANY_METHOD, MAX_MEMORY_GIB, RTOL, WARN_RTOL, settings_problem
from gradcheck_cli.witness.names import ENGINES, METHODS


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


class _Commands(click.Group):
    """The command group; a reader that closes stdout early ends any command as a pipe's writer does.

    Caught here, inside click: click's own handler would turn it into exit 1, and rich before 13.3
    raises it from print without its on_broken_pipe hook."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
            sys.exit(128 + getattr(signal, "SIGPIPE", 13))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gradcheck")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Check backpropagation gradients of a YAML-specified network against central differences.

    Exit codes: 0 all checks pass, 1 a gradient check failed, 2 a spec is invalid or the usage is
    wrong, 3 an internal error (a bug in gradcheck: please report it).
    """
    ctx.obj = {"debug": debug}


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@report_options
@click.option("--values", is_flag=True, help="JSON: include the full analytic and numeric arrays.")
@click.option("-v", "--verbose", count=True, help="Table: list the worst entries of each parameter.")
@click.option("--method", type=click.Choice(METHODS),
              help="How the witness differentiates (default: the spec's check.method, else central): "
                   "central differences, Richardson extrapolation, or the complex step.")
@click.option("--eps", type=float, callback=within(*EPS_ANY_METHOD),
              help="Relative step of the witness (default per method: central 6.1e-6, richardson 1e-4, "
                   "complex 1e-20), times max(|entry|, the parameter's rms, 1).")
@click.option("--rtol", type=float, callback=within(*RTOL), help=f"Largest relative error that passes ({RTOL[0]:g} to "
              f"{RTOL[1]:g}).")
@click.option("--warn-rtol", type=float, callback=within(*WARN_RTOL),
              help=f"Largest relative error that warns ({WARN_RTOL[0]:g} to {WARN_RTOL[1]:g}, at least --rtol).")
@fail_on_option
@click.option("--backward", metavar="FILE.py[:FUNCTION]",
              help="Check your own numpy backward function (default name: backward) instead of, or besides, "
                   "the spec's derivation. It runs your code: never pass a file you have not read.")
@click.option("--engine", type=click.Choice(ENGINES), default="fast", show_default=True,
              help="fast: the structure-aware witness; stack: the same without its fitted loss, every perturbation "
                   "run through the network; naive: the plain per-entry loop both are tested against.")
@click.option("--sample", type=click.IntRange(min=1), metavar="K",
              help="Check K random entries of each parameter (seeded; always its largest gradient entry), "
                   "for networks too large to check fully.")
@click.option("--max-memory", type=float, callback=within(*MAX_MEMORY_GIB, low_open=True), default=4.0,
              show_default=True,
              metavar="GIB", help="Refuse specs whose arrays would need more memory than this (GiB).")
@click.option("--self-test", is_flag=True,
              help="Negative control: also judge broken gradients (zeros; the right one x 1.001) and fail if "
                   "either passes, to prove the gate can fail.")
@click.option("--fast", is_flag=True,
              help="One directional check per parameter; parameters that do not pass are checked entry by entry.")
@click.option("--timeout", type=float, callback=within(0.0, 1e6, low_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="Time budget of one spec; a spec that takes longer is an error entry, the others go on.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Check specs in this many parallel processes (at most one per spec). The default, this "
                   "process, is the fastest measured on the bundled specs and on 5,000 small ones: a large "
                   "spec's witness already runs on two threads, and reporting is the parent's.")
@shard_option
@skip_option
@color_option
def check(specs: tuple[str, ...], fmt: str, output: Path | None, values: bool, verbose: int, method: str | None,
          eps: float | None,
          rtol: float | None, warn_rtol: float | None, fail_on: str, backward: str | None, engine: str,
          sample: int | None, max_memory: float, self_test: bool, fast: bool, timeout: float, jobs: int,
          shard_text: str | None,
          skip_non_specs: bool, color: str) -> None:
    """Check the gradients of every SPEC: files, folders (searched for *.yaml, *.yml) or globs."""
    from gradcheck_cli.cli.console import internal_errors_reported, make_console
    from gradcheck_cli.derivation.user_code import CodeLoadError, load_backward
    from gradcheck_cli.reporters.options import ReportOptions
    from gradcheck_cli.run.many_specs import check_targets
    from gradcheck_cli.run.one_spec import Overrides
    from gradcheck_cli.run.progress import RunProgress

    writable_output(output)
    _, problem = settings_problem("complex", None, rtol, warn_rtol)  # the pair; each step is checked per method
    if problem:
        raise click.UsageError(problem.replace("rtol (", "--rtol (", 1).replace("warn_rtol", "--warn-rtol"))
    targets = targets_from(specs, shard_text, skip_non_specs)
    if backward:
        try:
            load_backward(backward)  # fail fast, once, before any worker starts
        except CodeLoadError as exc:
            raise click.UsageError(str(exc)) from None
    options = ReportOptions(verbose=verbose, values=values, fail_on=fail_on)
    machine_on_stdout = fmt != "table" and output is None
    with RunProgress(make_console(color, stderr=True), len(targets), enabled=not machine_on_stdout) as progress:
        overrides = Overrides(method=method, eps=eps, rtol=rtol, warn_rtol=warn_rtol, backward=backward, engine=engine,
                              sample=sample, fast=fast, max_bytes=int(max_memory * 1024**3), self_test=self_test,
                              timeout=timeout)
        with internal_errors_reported(", ".join(specs)):
            run = check_targets(targets, overrides, jobs, progress)
    report_run(run, fmt, output, color, options)
    sys.exit(int(run.exit_code(fail_on)))


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@shard_option
@skip_option
@color_option
def validate(specs: tuple[str, ...], shard_text: str | None, skip_non_specs: bool, color: str) -> None:
    """Check that every SPEC is valid, without computing gradients.

    A derivation's formulas are evaluated on one forward pass: one that does not evaluate, or gives
    the wrong shape, is a fail line and exit 1, as check would report it."""
    from rich.text import Text

    from gradcheck_cli.cli.console import internal_errors_reported, make_console, report_problems
    from gradcheck_cli.reporters.printable import printable_run
    from gradcheck_cli.run.many_specs import validate_targets
    from gradcheck_cli.verdict.results import Status

    with internal_errors_reported(", ".join(specs)):
        run = validate_targets(targets_from(specs, shard_text, skip_non_specs))
    printed = printable_run(run)
    report_problems(printed, color)
    console = make_console(color)
    for spec in printed.specs:
        if spec.status is Status.PASS:
            console.print(Text(f"{spec.path}: valid ({spec.name})"))
        for link in spec.links:  # formulas that do not fit the network's shapes
            where = f"{spec.path}:{link.line}" if link.line is not None else spec.path
            expected = " (expected: the spec says expect: fail)" if spec.status is Status.PASS else ""
            console.print(Text(f"{where}: fail{expected}: formula {link.name}: {link.message}",
                               style="yellow" if expected else "red"), soft_wrap=True)
    sys.exit(int(run.exit_code()))


for command in (layer, explain_command, step, sweep_command, schema, list_functions):  # each in its own module
    cli.add_command(command)


def main() -> None:
    """Run the command line. SIGTERM and SIGHUP end the run like Ctrl-C: every worker ends with it, no
    report is left half-written (they are renamed into place), and the exit code is 128 + the signal."""
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, _interrupt)
    try:
        cli.main(standalone_mode=False)
    except Interrupted as exc:
        sys.exit(128 + exc.signum)
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.exit(128 + signal.SIGINT)
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.USER_ERROR))

