"""``--output``: checked before any work starts, written atomically (a temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

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
