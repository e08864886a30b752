"""A PASS always means something was compared: names that look checked but are none, derivations and
--backward functions that compare nothing, partial coverage, and a user's backward code that misbehaves."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import SMALL_SPEC, SPECS, run, run_json

NG = SPECS / "homework" / "ng_per_sample_deltas_correct.yaml"
OUTPUT_LAYER = "(a2 - y) * a2 * (1 - a2)"  # SMALL_SPEC's dz2: sigmoid output, half_sse, reduction sum


def spec_with(write_spec, formulas: dict[str, str]) -> Path:
    lines = "".join(f"      {name}: {text}\n" for name, text in formulas.items())
    return write_spec(SMALL_SPEC + "    derivation:\n" + lines)


LOOKALIKES = {  # name -> what gradcheck suggests instead
    "dw2": "did you mean dW2?",
    "DW2": "did you mean dW2?",
    "dW": "did you mean dW1 or dW2?",
    "db_2": "did you mean db2?",
    "dE_dW2": "did you mean dW2?",
    "dL_dz2": "did you mean dz2?",
    "delta2": "did you mean dz2?",
    "dx": "did you mean da0?",
    "DZ2": "did you mean dZ2?",
    "dW7": "did you mean dW1 or dW2?",
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_a_name_that_looks_checked_is_an_error_with_a_suggestion(write_spec, name: str) -> None:
    path = spec_with(write_spec, {"dz2": OUTPUT_LAYER, name: "dz2 @ a1.T"})
    result = run("check", "--jobs", "1", path)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{path}:{_row_of(f'{name}:', path)}: error: formula ") and LOOKALIKES[name] in line, line


def test_helpers_with_other_names_are_evaluated_and_not_compared(write_spec) -> None:
    path = spec_with(write_spec, {"g2": "a2 * (1 - a2)", "dz2": "(a2 - y) * g2", "dW2": "dz2 @ a1.T"})
    code, report = run_json("--jobs", "1", path)
    statuses = {k["name"]: k["status"] for k in report["specs"][0]["derivation"]}
    assert code == 0 and statuses == {"g2": None, "dz2": "pass", "dW2": "pass"}


def test_a_derivation_of_helpers_only_checks_nothing_and_is_an_error(write_spec) -> None:
    path = spec_with(write_spec, {"g2": "a2 * (1 - a2)", "err2": "a2 - y"})
    result = run("check", "--jobs", "1", path)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{path}:") and "would check nothing" in line


def test_partial_coverage_is_named_in_every_format(write_spec, tmp_path: Path) -> None:
    path = spec_with(write_spec, {"dz2": OUTPUT_LAYER, "dW2": "dz2 @ a1.T"})
    missing = "not covered by the derivation: W1, b1, b2"
    table = run("check", "--jobs", "1", path)
    assert table.exit_code == 0 and missing in " ".join(table.stdout.split())
    code, report = run_json("--jobs", "1", path)
    assert code == 0 and report["specs"][0]["not_covered"] == ["W1", "b1", "b2"]
    github = run("check", "--format", "github", "--jobs", "1", path).stdout
    assert f"::notice file={path},title=gradcheck%3A derivation incomplete::{missing}" in github
    junit = tmp_path / "report.xml"
    run("check", "--format", "junit", "--output", junit, "--jobs", "1", path)
    assert missing in junit.read_text()
    complete = spec_with(write_spec, {"dz2": OUTPUT_LAYER, "dW2": "dz2 @ a1.T",
                                      "db2": "sum(dz2, axis=1, keepdims=True)", "dz1": "(W2.T @ dz2) * (1 - a1 ** 2)",
                                      "dW1": "dz1 @ x.T", "db1": "sum(dz1, axis=1, keepdims=True)"})
    assert run_json("--jobs", "1", complete)[1]["specs"][0]["not_covered"] == []


def test_ng_per_sample_deltas_pass_when_declared_and_are_diagnosed_when_not(tmp_path: Path) -> None:
    code, report = run_json("--jobs", "1", NG)
    links = report["specs"][0]["derivation"]
    assert code == 0 and [k["status"] for k in links] == ["pass"] * 7
    assert links[0]["compared_with"].startswith("d(sum of the per-sample losses)/dz2")
    undeclared = tmp_path / "undeclared.yaml"
    undeclared.write_text(NG.read_text().replace("deltas: per_sample\n", ""))
    code, report = run_json("--jobs", "1", undeclared)
    first = report["specs"][0]["derivation"][0]
    assert code == 1 and first["status"] == "fail"
    assert "factor of m = 5" in first["diagnosis"] and "deltas: per_sample" in first["diagnosis"]


def _module(tmp_path: Path, body: str) -> Path:
    module = tmp_path / "student.py"
    module.write_text("import sys\nimport numpy as np\n\n\n" + textwrap.dedent(body))
    return module


def _row_of(text: str, path: Path) -> int:
    """The 1-based line of ``text`` in the file."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_backward_name_that_looks_checked_is_an_error_naming_the_users_file(write_spec, tmp_path: Path) -> None:
    module = _module(tmp_path, """
        def backward(q):
            return {"dw2": q["a1"]}
    """)
    result = run("check", "--jobs", "1", "--backward", module, write_spec(SMALL_SPEC))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{module}:{_row_of('def backward', module)}: error: student.py:backward returned 'dw2'")
    assert "did you mean dW2?" in line


def test_a_backward_that_compares_nothing_is_an_error(write_spec, tmp_path: Path) -> None:
    module = _module(tmp_path, """
        def backward(q):
            return {"loss": q["E"]}
    """)
    result = run("check", "--jobs", "1", "--backward", module, write_spec(SMALL_SPEC))
    assert result.exit_code == 2 and "would check nothing" in result.stderr


MISBEHAVING = {  # function body -> words of the FAIL, on the line marked "here"
    'sys.exit(0)  # here': "raised SystemExit: sys.exit(0)",
    'raise GeneratorExit("odd")  # here': "raised GeneratorExit: odd",
    'return {"dz2": q["W9"]}  # here': "raised KeyError: 'W9'",
}


@pytest.mark.parametrize("body", sorted(MISBEHAVING))
def test_misbehaving_backward_code_is_a_fail_naming_its_line(write_spec, tmp_path: Path, body: str) -> None:
    module = _module(tmp_path, f"def backward(q):\n    {body}\n")
    code, report = run_json("--jobs", "1", "--backward", module, write_spec(SMALL_SPEC))
    [link] = [k for k in report["specs"][0]["derivation"] if k["name"] == "backward"]
    assert code == 1 and link["status"] == "fail"
    assert MISBEHAVING[body] in link["message"] and f"student.py, line {_row_of('# here', module)}" in link["message"]
    assert "q holds" in link["message"] and "W1" in link["message"]


def test_values_that_fail_when_read_and_prints_do_not_spoil_the_report(write_spec, tmp_path: Path) -> None:
    module = _module(tmp_path, f"""
        class Poisoned:
            def __array__(self, dtype=None, copy=None):
                raise SystemExit(4)  # here


        def backward(q):
            print("debugging output")
            return {{"dz2": {OUTPUT_LAYER.replace("a2", 'q["a2"]').replace("y", 'q["y"]')}, "dW2": Poisoned()}}
    """)
    result = run("check", "--format", "json", "--jobs", "1", "--backward", module, write_spec(SMALL_SPEC))
    report = json.loads(result.stdout)  # the print went to stderr: stdout is still the JSON report
    links = {k["name"]: k for k in report["specs"][0]["derivation"]}
    assert result.exit_code == 1 and links["dz2"]["status"] == "pass" and links["dW2"]["status"] == "fail"
    assert f"student.py, line {_row_of('# here', module)}" in links["dW2"]["message"]
    assert "debugging output" in result.stderr


def test_a_module_that_exits_while_loading_is_a_usage_error(write_spec, tmp_path: Path) -> None:
    module = _module(tmp_path, "sys.exit(0)\n")
    result = run("check", "--jobs", "1", "--backward", module, write_spec(SMALL_SPEC))
    assert result.exit_code == 2 and "failed to load: SystemExit" in result.stderr
