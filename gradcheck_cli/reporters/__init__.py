"""Reporters format a :class:`~gradcheck_cli.results.RunResult`; they compute nothing."""

from gradcheck_cli.reporters.json_report import render_json
from gradcheck_cli.reporters.table import render_table

REPORTERS = {"table": render_table, "json": render_json}

__all__ = ["REPORTERS", "render_json", "render_table"]
