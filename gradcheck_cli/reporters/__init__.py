"""Reporters format a :class:`~gradcheck_cli.verdict.results.RunResult`; they compute nothing.

Each is ``render(run, console, options)``; the machine formats write raw text to
``console.file``, the table prints through rich.

Chosen by name (``reporter``), each imported only when it is used: ``--help`` lists the formats
without loading rich.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# format -> (module, its render function)
FORMATS = {"table": ("table", "render_table"), "json": ("json_report", "render_json"),
           "junit": ("junit", "render_junit"), "github": ("github", "render_github")}
# the formats that print text as it is; JSON escapes through its encoder (reporters/printable.py)
PRINTS_TEXT = {"table", "junit", "github"}


def reporter(name: str) -> Callable[..., Any]:
    """The render function of format ``name``."""
    module, function = FORMATS[name]
    return getattr(importlib.import_module(f"gradcheck_cli.reporters.{module}"), function)
