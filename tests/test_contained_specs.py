"""One spec never takes the run down: a spec that exhausts memory or the stack, or whose worker process
dies, is an error entry of its own (exit 2); every other spec is checked and every report is written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import SMALL_SPEC, SPECS, run
from gradcheck_cli.run import one_spec as runner

KILLER = '''
import os
import signal


def backward(q):
    if q["x"].shape == (2, 1):  # seed 002's column spec only
        os.kill(os.getpid(), signal.SIGKILL)
    return {"dz2": q["a2"] * 0}
'''


def test_a_worker_that_dies_costs_only_its_own_spec(tmp_path: Path) -> None:
    killer = tmp_path / "killer.py"
    killer.write_text(KILLER)
    dying = SPECS / "seed002_two_layer_sigmoid.yaml"
    living = SPECS / "homework" / "seed004_relu_row_correct.yaml"
    report = tmp_path / "report.xml"
    result = run("check", "--jobs", "2", "--backward", killer, "--format", "junit", "--output", report, dying, living)
    assert result.exit_code == 2
    assert f"{dying}: error: the process checking this spec died" in result.stderr
    suites = {suite.get("name"): suite for suite in ET.parse(report).getroot()}
    assert suites[str(dying)].get("errors") == "1"
    assert int(suites[str(living)].get("tests")) > 1 and suites[str(living)].get("errors") == "0"


@pytest.mark.parametrize("exhausted", [MemoryError, RecursionError])
def test_memory_and_stack_exhaustion_are_error_entries(write_spec, monkeypatch: pytest.MonkeyPatch,
                                                       exhausted: type[Exception]) -> None:
    heavy = write_spec(SMALL_SPEC, name="heavy.yaml")
    light = write_spec(SMALL_SPEC, name="light.yaml")
    real = runner.check_problem

    def exhausting(problem, path, *args, **kwargs):
        if path.endswith("heavy.yaml"):
            raise exhausted()
        return real(problem, path, *args, **kwargs)

    monkeypatch.setattr(runner, "check_problem", exhausting)
    result = run("check", "--format", "json", "--jobs", "1", heavy, light)
    statuses = {Path(s["path"]).name: s["status"] for s in json.loads(result.stdout)["specs"]}
    assert result.exit_code == 2 and statuses == {"heavy.yaml": "error", "light.yaml": "pass"}
    assert f"{heavy}: error: checking it " in result.stderr and exhausted.__name__ in result.stderr
