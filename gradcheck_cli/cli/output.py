"""The report of a run: in the chosen format to stdout or ``--output`` (checked before any work starts,
written atomically: a temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click


def writable_output(output: Path | None) -> None:
    """Refuse an --output the report could not be written to, before any work starts."""
    if output is None:
        return
    if str(output) in ("", ".") or output.is_dir():
        raise click.UsageError(f"--output {str(output)!r}: name a file, not a folder")
    folder = output.parent  # Path("report.xml").parent is Path(".")
    if not folder.is_dir():
        raise click.UsageError(f"--output {output}: the folder {folder} does not exist")
    if output.exists() and not output.is_file():
        raise click.UsageError(f"--output {output}: not a regular file")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise click.UsageError(f"--output {output}: not writable")


def write_atomically(output: Path, write: Callable[[TextIO], None]) -> None:
    """Write a report beside ``output`` and rename it into place: an existing report is never left
    half-written, by a full disk or an interrupted run."""
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=output.parent, prefix=f".{output.name}.",
                                         suffix=".tmp", delete=False)
    try:
        with handle:
            write(handle)
        os.replace(handle.name, output)
    except BaseException:
        os.unlink(handle.name)
        raise


def report_run(run: Any, fmt: str, output: Path | None, color: str, options: Any) -> None:
    """The run's problems on stderr, then its report in ``fmt`` (to ``output``, with the table on the terminal)."""
    from gradcheck_cli.cli.console import make_console, report_problems
    from gradcheck_cli.reporters import PRINTS_TEXT, reporter
    from gradcheck_cli.reporters.printable import printable_run

    printed = printable_run(run)  # what prints as text shows a spec's control characters escaped
    report_problems(printed, color)
    formatted = printed if fmt in PRINTS_TEXT else run
    if output is not None:
        write_atomically(output, lambda handle: reporter(fmt)(formatted, make_console(color, file=handle), options))
        reporter("table")(printed, make_console(color), options)
    else:
        reporter(fmt)(formatted, make_console(color), options)
