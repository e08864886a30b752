"""Shared helpers: write a spec to a temporary file, run the CLI in-process."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gradcheck_cli.cli import cli

SPECS = Path(__file__).resolve().parent.parent / "specs"


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def run_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = run("check", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


SMALL_SPEC = """
    version: 1
    name: small
    seed: 3
    input: 3
    layers:
      - {units: 4, activation: tanh}
      - {units: 2, activation: sigmoid}
    loss: half_sse
    data: {batch: 3}
"""



def derivation(factor: float) -> str:
    """SMALL_SPEC's output layer as a student derives it, with dW2 times ``factor`` (2 fails, 1.00001 warns)."""
    return f"    derivation:\n      dz2: (a2 - y) * a2 * (1 - a2)\n      dW2: {factor} * dz2 @ a1.T\n"


pytest_plugins = ["pytester"]
