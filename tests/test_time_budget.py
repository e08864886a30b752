"""A spec that runs past --timeout is an error entry naming the limit; the other specs are unaffected,
and the run ends soon after the budget, also when the threaded fast engine is mid-way."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import SPECS, run

SLEEPER = '''
import time


def backward(q):
    if q["x"].shape == (2, 1):  # seed 002's column spec only
        time.sleep(60)
    return {"dz2": q["a2"]}
'''


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_spec_past_its_budget_is_an_error_entry_and_the_others_are_checked(tmp_path: Path, jobs: str) -> None:
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(SLEEPER)
    slow, other = SPECS / "seed002_two_layer_sigmoid.yaml", SPECS / "seed000_three_layer_mean.yaml"
    started = time.perf_counter()
    result = run("check", "--format", "json", "--jobs", jobs, "--timeout", "1", "--backward", sleeper, slow, other)
    assert time.perf_counter() - started < 30  # not the 60 s the spec would sleep
    statuses = {s["path"]: s["status"] for s in json.loads(result.stdout)["specs"]}
    assert result.exit_code == 2 and statuses[str(slow)] == "error" and statuses[str(other)] != "error"
    assert f"{slow}: error: the check took longer than its time budget of 1 s; raise it with --timeout" in result.stderr


def test_the_fast_engine_stops_soon_after_the_budget() -> None:
    big = SPECS / "seed004_relu_no_bias_row.yaml"  # 101,000 parameters, witnessed by the threaded engine
    started = time.perf_counter()
    result = run("check", "--jobs", "1", "--timeout", "0.05", big)
    assert time.perf_counter() - started < 15
    assert result.exit_code == 2 and "time budget of 0.05 s" in result.stderr
