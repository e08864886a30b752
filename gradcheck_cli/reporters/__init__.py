"""Reporters format a :class:`~gradcheck_cli.verdict.results.RunResult`; they compute nothing.

Each is ``render(run, console, options)``; the machine formats write raw text to
``console.file``, the table prints through rich.
"""

from gradcheck_cli.reporters.github import render_github
from gradcheck_cli.reporters.json_report import render_json
from gradcheck_cli.reporters.junit import render_junit
from gradcheck_cli.reporters.options import ReportOptions
from gradcheck_cli.reporters.table import render_table

REPORTERS = {"table": render_table, "json": render_json, "junit": render_junit, "github": render_github}
# the formats that print text as it is; JSON escapes through its encoder (reporters/printable.py)
PRINTS_TEXT = {"table", "junit", "github"}

__all__ = ["PRINTS_TEXT", "REPORTERS", "ReportOptions"]
