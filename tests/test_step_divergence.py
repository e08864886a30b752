"""`gradcheck step` that diverges says so, stops, exits 1, and its JSON holds no bare NaN or infinity."""

from __future__ import annotations

import json

from conftest import SPECS, run

DIVERGING = SPECS / "seed004_relu_no_bias_row.yaml"  # a sum of squares over 64 samples: lr 1 blows it up


def _refuse(constant: str) -> None:
    raise AssertionError(f"bare {constant} in the JSON")


def test_divergence_is_reported_and_fails() -> None:
    table = run("step", DIVERGING, "--lr", "1", "--steps", "50", "--color", "never")
    assert table.exit_code == 1 and "diverged: after step" in table.stdout and "Warning" not in table.output
    result = run("step", DIVERGING, "--lr", "1", "--steps", "50", "--format", "json")
    report = json.loads(result.stdout, parse_constant=_refuse)
    assert result.exit_code == 1 and report["loss_after"] is None and 1 <= report["diverged_at"] == report["steps"] < 50


def test_a_converging_descent_still_exits_0() -> None:
    result = run("step", SPECS / "seed002_two_layer_sigmoid.yaml", "--lr", "0.5", "--format", "json")
    report = json.loads(result.stdout, parse_constant=_refuse)
    assert result.exit_code == 0 and report["diverged_at"] is None and round(report["loss_after"], 8) == 0.29102777
