"""The command line: ``cli`` (the click group) and ``main`` (the console script's entry)."""

from gradcheck_cli.cli.main import cli, main

__all__ = ["cli", "main"]
