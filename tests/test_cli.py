"""The command line: table, JSON, exit codes, colors, escaping, list and validate."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conftest import NETWORK_SPECS, SMALL_SPEC, SMALL_SPECS, SPECS, run, run_json
from gradcheck_cli.network import activations

JSON_SPEC_KEYS = {"path", "name", "status", "expect", "gate", "loss", "message", "rule", "parameters", "derivation",
                  "self_test", "not_covered", "errors"}
JSON_PARAM_KEYS = {"name", "shape", "status", "max_abs_error", "max_rel_error", "norm_ratio", "worst_index",
                   "worst_analytic", "worst_numeric", "kink_entries", "kink_unresolved", "grad_norm", "checked_entries",
                   "mode", "note", "worst_error", "worst_expected_error", "reason", "noise_limited", "loose_entries",
                   "loose_resolution"}


def test_table_lists_every_parameter_with_its_verdict(write_spec) -> None:
    result = run("check", write_spec(SMALL_SPEC))
    assert result.exit_code == 0
    for name in ("W1", "b1", "W2", "b2"):
        assert f"│ {name} " in result.stdout
    assert result.stdout.count("PASS") >= 4
    assert "pass rule: per entry: FAIL if |a-n| > e and |a-n|/max(|a|,|n|) > 0.0001, WARN if > 1e-06" in result.stdout
    assert "|a-n| vs expected" in result.stdout
    assert "1 spec: 1 pass -> PASS" in result.stdout


def test_verbose_lists_worst_entries_side_by_side(write_spec) -> None:
    result = run("check", "-v", write_spec(SMALL_SPEC))
    assert "W1: worst entries" in result.stdout
    assert "analytic" in result.stdout and "numeric" in result.stdout


def test_json_report_has_the_documented_keys(write_spec) -> None:
    code, report = run_json(write_spec(SMALL_SPEC))
    assert code == 0
    assert set(report) == {"format_version", "status", "exit_code", "worst_status", "counts", "gates", "specs"}
    spec = report["specs"][0]
    assert set(spec) == JSON_SPEC_KEYS
    assert [p["name"] for p in spec["parameters"]] == ["W1", "b1", "W2", "b2"]
    for p in spec["parameters"]:
        assert set(p) == JSON_PARAM_KEYS
        assert p["status"] == "pass"
    assert spec["parameters"][0]["shape"] == [4, 3]


def test_json_values_flag_adds_full_arrays(write_spec) -> None:
    result = run("check", "--format", "json", "--values", write_spec(SMALL_SPEC))
    W1 = json.loads(result.stdout)["specs"][0]["parameters"][0]
    assert len(W1["analytic"]) == 4 and len(W1["analytic"][0]) == 3
    assert len(W1["numeric"]) == 4


def test_json_is_deterministic(write_spec) -> None:
    path = write_spec(SMALL_SPEC)
    assert run("check", "--format", "json", path).stdout == run("check", "--format", "json", path).stdout


@pytest.fixture
def broken_sigmoid(monkeypatch: pytest.MonkeyPatch) -> None:
    """gradcheck's own sigmoid backward made wrong (da/dz = a instead of a (1 - a))."""
    wrong = dataclasses.replace(activations.SIGMOID, backward=lambda da, z, a, o: da * a)
    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", wrong)


def test_wrong_gradient_fails_with_exit_code_1(write_spec, broken_sigmoid) -> None:
    result = run("check", write_spec(SMALL_SPEC))
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "-> FAIL" in result.stdout


def test_wrong_gradient_fails_in_json(write_spec, broken_sigmoid) -> None:
    code, report = run_json(write_spec(SMALL_SPEC))
    assert code == 1
    assert report["status"] == "fail" and report["exit_code"] == 1
    statuses = {p["name"]: p["status"] for p in report["specs"][0]["parameters"]}
    assert statuses["b2"] == "fail"  # the output sigmoid sits right above b2


COLOR_CODES = ("\x1b[32m", "\x1b[31m", "\x1b[33m")  # green, red, yellow


def test_no_escape_codes_when_output_is_not_a_terminal(write_spec) -> None:
    assert "\x1b[" not in run("check", write_spec(SMALL_SPEC)).stdout


def test_no_color_is_honoured_even_when_a_terminal_is_forced(write_spec) -> None:
    out = run("check", write_spec(SMALL_SPEC), env={"NO_COLOR": "1", "FORCE_COLOR": "1"}).stdout
    assert not any(code in out for code in COLOR_CODES)


def test_color_flag_wins_over_the_environment(write_spec) -> None:
    path = write_spec(SMALL_SPEC)
    assert "\x1b[32mPASS" in run("check", "--color", "always", path, env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run("check", "--color", "never", path, env={"FORCE_COLOR": "1"}).stdout


def test_user_text_is_never_read_as_markup(write_spec) -> None:
    spec = write_spec(SMALL_SPEC.replace("name: small", "name: '[red]net[/red] [bold]'"))
    result = run("check", "--color", "always", spec)
    assert result.exit_code == 0
    assert "[red]net[/red] [bold]" in result.stdout


def test_list_shows_every_registered_function() -> None:
    result = run("list")
    assert result.exit_code == 0
    from gradcheck_cli.network.losses import LOSSES

    for name in list(activations.ACTIVATIONS) + list(LOSSES):
        assert name in result.stdout
    assert "a (1 - a)" in result.stdout  # formulas, not just names
    assert "(1 - y_k) ln(1 - a_k)]" in result.stdout  # brackets in formulas are text, not markup


def test_validate_accepts_all_bundled_specs() -> None:
    result = run("validate", SPECS)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(": valid") == len(NETWORK_SPECS)


def test_bundled_small_specs_all_pass() -> None:
    """Every bundled spec but seed 004's 101,000-parameter network, which the main command checks."""
    small = SMALL_SPECS
    code, report = run_json(*small)
    assert code == 0, [(s["path"], s["status"], s["message"]) for s in report["specs"] if s["status"] != "pass"]
    assert len(report["specs"]) == len(small) >= 15


def test_folder_without_specs_is_a_usage_error(tmp_path) -> None:
    result = run("check", tmp_path)
    assert result.exit_code == 2
    assert "no *.yaml or *.yml spec files in this folder" in result.output


def test_usage_error_exits_2() -> None:
    assert run("check").exit_code == 2
    assert run("check", "--format", "xml", "x.yaml").exit_code == 2


def test_internal_error_is_a_short_report_request_with_exit_3(write_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradcheck_cli.run import one_spec as runner

    def crash(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(runner, "check_problem", crash)
    path = write_spec(SMALL_SPEC)
    result = run("check", "--jobs", "1", path)
    assert result.exit_code == 3
    assert f"gradcheck: internal error while checking {path}: ZeroDivisionError: a bug" in result.stderr
    assert "please report it" in result.stderr and "Traceback" not in result.output
    debug = run("--debug", "check", "--jobs", "1", path)
    assert debug.exit_code == 3 and "Traceback" in debug.stderr and 'raise ZeroDivisionError("a bug")' in debug.stderr
