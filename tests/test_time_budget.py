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


def test_a_check_that_cannot_finish_is_refused_early_with_its_forecast() -> None:
    """The plain loop on seed 004's 101k network takes about 100 s: with a budget of 20 s the pace check
    refuses it from its first few thousand entries, long before the timer (it says 'would take')."""
    result = run("check", "--jobs", "1", "--engine", "naive", "--timeout", "20",
                 SPECS / "seed004_relu_no_bias_row.yaml")
    [line] = result.stderr.splitlines()
    assert result.exit_code == 2 and "the check would take about" in line and "of 101,000 entries in" in line
    assert "far over its time budget of 20 s" in line and "--sample or --fast" in line


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from gradcheck_cli.run import budget

    fake = Clock()
    monkeypatch.setattr(budget.time, "perf_counter", fake)
    return fake


def test_the_pace_check_forecasts_each_phase_and_keeps_a_margin(clock: Clock) -> None:
    from gradcheck_cli.errors import TimeBudgetExceeded
    from gradcheck_cli.run.budget import Pace

    relayed: list[tuple[int, int]] = []
    pace = Pace(100.0, lambda done, total: relayed.append((done, total)))
    clock.now = 1.0
    pace(10, 1000)  # 1 s is too short a measurement to trust, whatever its forecast (100 s)
    clock.now = 2.5
    pace(25, 1000)  # forecast 100 s: within the budget
    clock.now = 50.0
    pace(1000, 1000)  # first phase done after 50 s
    clock.now = 53.0
    pace(10, 100)  # second phase: 50 s before it + 3 s for 10 % of it: 80 s, fine
    clock.now = 59.0
    pace(20, 100)  # 50 + 9 s for 20 %: 95 s, still within
    assert relayed[-1] == (20, 100)
    clock.now = 100.0
    with pytest.raises(TimeBudgetExceeded) as refused:
        pace(30, 100)  # 50 + 50 s for 30 %: 217 s, over twice the budget
    assert refused.value.forecast == "about 217 s (30 of 100 entries in 50.0 s)"
    assert Pace(None)(1, 10 ** 9) is None  # no budget, no forecast
