"""A spec cannot switch off its own gate: check: settings and the command line's are finite, in the
documented ranges (gradcheck_cli/limits.py) and ordered; a run that resolved nothing never says PASS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BELOW_THE_FLOOR, SMALL_SPEC, run

SETTINGS = {  # the spec's check: section -> words of the error
    "{rtol: .nan}": "check.rtol must be a finite number",
    "{rtol: -.inf}": "check.rtol must be",
    "{rtol: 1.0e+10}": "check.rtol must be a finite number from 1e-12 to 0.01",
    "{warn_rtol: 0.9}": "check.warn_rtol must be a finite number from 1e-12 to 0.1",
    "{eps: 1.0e-300}": "check.eps must be a finite number from 1e-10 to 0.1 for method central",
    "{eps: 5.0}": "check.eps must be a finite number from 1e-10 to 0.1",
    "{method: complex, eps: 1.0}": "check.eps must be a finite number from 1e-300 to 0.1 for method complex",
    "{rtol: 1.0e-3, warn_rtol: 1.0e-5}": "check.rtol (0.001) must not be larger than warn_rtol (1e-05)",
}


@pytest.mark.parametrize("check", sorted(SETTINGS))
def test_out_of_range_check_settings_are_a_clear_error(write_spec, check: str) -> None:
    path = write_spec(SMALL_SPEC + f"    check: {check}\n")
    result = run("check", "--jobs", "1", path)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    check_line = path.read_text().splitlines().index(f"check: {check}") + 1
    assert line.startswith(f"{path}:{check_line}: error: ") and SETTINGS[check] in line, line


@pytest.mark.parametrize("option", [["--rtol", "nan"], ["--rtol", "inf"], ["--rtol", "0.5"], ["--warn-rtol", "nan"],
                                    ["--eps", "nan"], ["--eps", "-inf"], ["--eps", "1"], ["--max-memory", "nan"],
                                    ["--max-memory", "inf"], ["--max-memory", "0"], ["--rtol", "1e-3", "--warn-rtol",
                                                                                    "1e-5"]])
def test_out_of_range_options_are_a_usage_error_before_any_work(write_spec, option: list[str]) -> None:
    result = run("check", "--jobs", "1", *option, write_spec(SMALL_SPEC))
    assert result.exit_code == 2 and "must" in result.stderr and "Traceback" not in result.output


def test_options_that_conflict_with_a_spec_make_that_spec_an_error_and_no_other(write_spec, tmp_path: Path) -> None:
    strict = write_spec(SMALL_SPEC + "    check: {warn_rtol: 1.0e-5}\n", name="strict.yaml")
    plain = write_spec(SMALL_SPEC, name="plain.yaml")
    result = run("check", "--format", "json", "--jobs", "1", "--rtol", "1e-4", strict, plain)
    report = json.loads(result.stdout)
    statuses = {Path(s["path"]).name: s["status"] for s in report["specs"]}
    assert result.exit_code == 2 and statuses == {"plain.yaml": "pass", "strict.yaml": "error"}
    assert "rtol (0.0001) must not be larger than warn_rtol (1e-05)" in result.stderr


def test_a_check_that_resolves_nothing_says_so_and_can_fail_the_gate(write_spec) -> None:
    path = write_spec(BELOW_THE_FLOOR)
    table = run("check", "--jobs", "1", "--color", "never", path)
    assert table.exit_code == 0
    summary = table.stdout.strip().splitlines()[-1]
    assert summary.startswith("1 spec: 0 pass, 1 inconclusive -> INCONCLUSIVE") and "PASS" not in summary
    report = json.loads(run("check", "--format", "json", "--jobs", "1", path).stdout)
    [parameter] = report["specs"][0]["parameters"]
    assert report["status"] == "inconclusive" and parameter["reason"] == "below the noise floor"
    assert run("check", "--jobs", "1", "--fail-on", "warn", path).exit_code == 1
