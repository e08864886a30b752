"""Every outcome, in every format, tells the exit code's story: the table's summary word, JSON's top
status, JUnit's failure and error counts and GitHub's ::error annotations all agree with the code
the command exits with, for pass, fail, warn, inconclusive, error, skip, xfail, xpass and a failed
--self-test, with --fail-on fail and warn."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import BELOW_THE_FLOOR, PERFECT_FIT, SMALL_SPEC, derivation, run

# outcome -> (files to write, extra options, {fail_on: (exit code, the run's word)})
OUTCOMES: dict[str, tuple[dict[str, str], list[str], dict[str, tuple[int, str]]]] = {
    "pass": ({"a.yaml": SMALL_SPEC}, [], {"fail": (0, "pass"), "warn": (0, "pass")}),
    "fail": ({"a.yaml": SMALL_SPEC + derivation(2)}, [], {"fail": (1, "fail"), "warn": (1, "fail")}),
    "warn": ({"a.yaml": SMALL_SPEC + derivation(1.00001)}, [], {"fail": (0, "pass"), "warn": (1, "fail")}),
    "inconclusive": ({"a.yaml": BELOW_THE_FLOOR}, [], {"fail": (0, "inconclusive"), "warn": (1, "fail")}),
    "error": ({"a.yaml": SMALL_SPEC, "b.yaml": "version: 1\nlayers: [\n"}, [],
              {"fail": (2, "error"), "warn": (2, "error")}),
    "skip": ({"a.yaml": SMALL_SPEC, "notes.yaml": "title: not a spec\n"}, [],
             {"fail": (0, "pass"), "warn": (0, "pass")}),
    "xfail": ({"a.yaml": SMALL_SPEC + derivation(2) + "    expect: fail\n"}, [],
              {"fail": (0, "pass"), "warn": (0, "pass")}),
    "xpass": ({"a.yaml": SMALL_SPEC + "    expect: fail\n"}, [], {"fail": (1, "fail"), "warn": (1, "fail")}),
    "self-test failed": ({"a.yaml": PERFECT_FIT}, ["--self-test"], {"fail": (1, "fail"), "warn": (1, "fail")}),
}
CASES = [(outcome, fail_on) for outcome in OUTCOMES for fail_on in ("fail", "warn")]


@pytest.fixture
def folder(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    files, _, _ = OUTCOMES[request.param]
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return tmp_path


def check(folder: Path, outcome: str, fail_on: str, fmt: str):  # noqa: ANN201 - click's Result
    _, options, _ = OUTCOMES[outcome]
    return run("check", "--jobs", "1", "--color", "never", "--fail-on", fail_on, "--format", fmt, *options, folder)


@pytest.mark.parametrize(("folder", "fail_on"), CASES, indirect=["folder"], ids=[f"{o}-{f}" for o, f in CASES])
def test_every_format_agrees_with_the_exit_code(folder: Path, fail_on: str, request: pytest.FixtureRequest) -> None:
    outcome = request.node.callspec.params["folder"]
    code, word = OUTCOMES[outcome][2][fail_on]

    table = check(folder, outcome, fail_on, "table")
    assert table.exit_code == code
    summary = table.stdout.strip().splitlines()[-1]
    assert f"-> {word.upper()}" in summary and summary.count("->") == 1, summary

    report = json.loads(check(folder, outcome, fail_on, "json").stdout)
    assert (report["status"], report["exit_code"]) == (word, code)

    junit = check(folder, outcome, fail_on, "junit")
    root = ET.fromstring(junit.stdout)
    failures, errors = int(root.get("failures")), int(root.get("errors"))
    assert junit.exit_code == code and (failures + errors > 0) == (code != 0) and (errors > 0) == (code == 2)

    github = check(folder, outcome, fail_on, "github")
    lines = github.stdout.strip().splitlines()
    assert github.exit_code == code and any(line.startswith("::error ") for line in lines) == (code != 0)
    assert f"-> {word.upper()}" in lines[-1]


@pytest.mark.parametrize("folder", ["error"], indirect=True)
def test_an_invalid_spec_appears_in_the_table_itself(folder: Path) -> None:
    """The table is complete on its own (written with --output, stderr is elsewhere)."""
    result = run("check", "--jobs", "1", "--color", "never", folder)
    [line] = [line for line in result.stdout.splitlines() if "b.yaml" in line]
    assert line.startswith("ERROR ") and "b.yaml:3" in line and "invalid YAML" in line


@pytest.mark.parametrize("folder", ["self-test failed"], indirect=True)
def test_a_failed_self_test_is_named_in_junit_and_github(folder: Path) -> None:
    junit = ET.fromstring(check(folder, "self-test failed", "fail", "junit").stdout)
    [case] = junit.findall(".//testcase[@name='self-test zeros']")
    assert "not caught" in case.find("failure").get("message")
    github = check(folder, "self-test failed", "fail", "github").stdout
    assert "title=gradcheck%3A self-test failed::--self-test: the broken gradient 'zeros' was not caught" in github
