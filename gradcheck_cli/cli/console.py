"""The terminal side of the command line: consoles (color, width, a closed pipe), one line on
stderr per user error, and the short report of an internal error."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click
from rich.console import Console
from rich.text import Text

from gradcheck_cli.errors import ExitCode, InternalError, SpecError
from gradcheck_cli.reading.build import Problem
from gradcheck_cli.reporters.printable import printable
from gradcheck_cli.run.one_spec import load_problem
from gradcheck_cli.verdict.results import RunResult, Status


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """A reader that stops early (``| head``) ends the run as the shell expects: see ``main._Commands``."""
        raise BrokenPipeError


def make_console(color: str, stderr: bool = False, file: TextIO | None = None) -> Console:
    """Color: ``--color always|never`` wins; ``auto`` lets rich decide (NO_COLOR, FORCE_COLOR, TTY).

    Width: a terminal's own, else ``COLUMNS`` when set (piped output follows it), else 160 columns
    for CI logs, pipes and files instead of rich's 80.
    """
    stream = file or (sys.stderr if stderr else sys.stdout)
    return _Console(
        file=stream,
        highlight=False,
        width=None if stream.isatty() or os.environ.get("COLUMNS", "").isdigit() else 160,
        force_terminal={"always": True, "never": False}.get(color) if file is None else False,
        no_color={"always": False, "never": True}.get(color) if file is None else True,
    )


@contextmanager
def internal_errors_reported(path: str) -> Iterator[None]:
    """A bug in gradcheck ends in a short request to report it, exit 3; the traceback only with --debug."""
    try:
        yield
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001 - everything that is not a user error is a bug
        error = InternalError.capture(path, exc)
        debug = bool((click.get_current_context().find_root().obj or {}).get("debug"))
        if debug:
            sys.stderr.write(error.traceback)
        sys.stderr.write(f"gradcheck: internal error while checking {error.path}: {error.error}\n"
                         f"This is a bug in gradcheck, not in your spec: please report it with the spec"
                         f"{'' if debug else ' and the output of gradcheck --debug'}.\n")
        sys.exit(int(ExitCode.INTERNAL_ERROR))


def load_or_exit(spec: str, color: str) -> Problem:
    """One spec for step, explain and sweep: a user error is its one line on stderr and exit 2."""
    try:
        return load_problem(spec)
    except SpecError as exc:
        err = make_console(color, stderr=True)
        for error in exc.every():
            err.print(Text(printable(str(error)), style="red"), soft_wrap=True)
        sys.exit(int(ExitCode.USER_ERROR))


def report_problems(run: RunResult, color: str) -> None:
    """Errors and skipped files: one line each on stderr."""
    err = make_console(color, stderr=True)
    for spec in run.specs:
        if spec.status is Status.ERROR:
            for text, _ in spec.problems:
                err.print(Text(text, style="red"), soft_wrap=True)
        elif spec.status is Status.SKIP:
            err.print(Text(spec.message, style="dim"), soft_wrap=True)
