"""gradcheck as a CI gate: discovery, exit codes, formats, expect: fail, parallel runs, shards."""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import SMALL_SPEC, SMALL_SPECS, SPECS, derivation, run
from gradcheck_cli.run.discover import Target, discover, parse_shard, shard

# The small spec with a student's derivation of dW2: doubled (FAIL), or off by 1e-5 (a WARN: above
# rtol 1e-6, below warn_rtol 1e-4).
FAILING = SMALL_SPEC + derivation(2)
WARNING = SMALL_SPEC + derivation(1.00001)
INVALID = SMALL_SPEC.replace("activation: tanh", "activation: tanhh")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """pass, fail, warn, expected failure, unexpected pass, invalid, not a spec, nested spec."""
    write(tmp_path, "a_pass.yaml", SMALL_SPEC)
    write(tmp_path, "b_fail.yaml", FAILING)
    write(tmp_path, "c_warn.yaml", WARNING)
    write(tmp_path, "d_xfail.yaml", FAILING + "    expect: fail\n")
    write(tmp_path, "e_xpass.yaml", SMALL_SPEC + "    expect: fail\n")
    write(tmp_path, "f_invalid.yaml", INVALID)
    write(tmp_path, "g_notes.yaml", "title: not a spec\nitems: [1, 2]\n")
    write(tmp_path, "sub/h_nested.yml", SMALL_SPEC)
    return tmp_path


def only(folder: Path, *names: str) -> list[str]:
    return [str(folder / name) for name in names]


# ----------------------------------------------------------------------------------- discovery


def test_folder_is_searched_recursively_sorted_and_non_specs_are_skipped(mixed: Path) -> None:
    targets = discover([str(mixed)])
    assert [t.path.name for t in targets] == ["a_pass.yaml", "b_fail.yaml", "c_warn.yaml", "d_xfail.yaml",
                                              "e_xpass.yaml", "f_invalid.yaml", "g_notes.yaml", "h_nested.yml"]
    result = run("check", "--format", "json", "--jobs", "1", mixed)
    statuses = {Path(s["path"]).name: s["status"] for s in json.loads(result.stdout)["specs"]}
    assert statuses["g_notes.yaml"] == "skip"
    assert f"skipped {mixed / 'g_notes.yaml'}: not a gradcheck spec: no 'version' key" in result.stderr


def test_a_non_spec_named_explicitly_is_an_error_unless_skipping_is_asked(mixed: Path) -> None:
    notes = mixed / "g_notes.yaml"
    assert run("check", notes).exit_code == 2
    assert run("check", "--skip-non-specs", notes, mixed / "a_pass.yaml").exit_code == 0


def test_globs_are_expanded_and_order_does_not_depend_on_arguments(mixed: Path) -> None:
    by_glob = discover([str(mixed / "**" / "*.yml"), str(mixed / "a_*.yaml")])
    assert [t.path.name for t in by_glob] == ["a_pass.yaml", "h_nested.yml"]
    assert discover(only(mixed, "b_fail.yaml", "a_pass.yaml")) == discover(only(mixed, "a_pass.yaml", "b_fail.yaml"))
    assert run("check", str(mixed / "*.nothing")).exit_code == 2


def test_shards_are_disjoint_and_cover_everything(mixed: Path) -> None:
    targets = discover([str(mixed)])
    shards = [shard(targets, i, 3) for i in (1, 2, 3)]
    assert sorted(t for s in shards for t in s) == targets
    assert sum(len(s) for s in shards) == len(targets)
    assert parse_shard("2/3") == (2, 3)
    with pytest.raises(ValueError):
        parse_shard("4/3")
    assert run("check", "--shard", "0/2", mixed).exit_code == 2


def test_shard_option_checks_only_its_part(mixed: Path) -> None:
    result = run("check", "--format", "json", "--shard", "1/4", *only(mixed, "a_pass.yaml", "b_fail.yaml",
                                                                        "c_warn.yaml", "h_nested.yml", "sub"))
    assert [Path(s["path"]).name for s in json.loads(result.stdout)["specs"]] == ["a_pass.yaml", "h_nested.yml"]


# ----------------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(
    ("names", "fail_on", "code"),
    [
        (["a_pass.yaml"], "fail", 0),
        (["a_pass.yaml", "b_fail.yaml"], "fail", 1),
        (["a_pass.yaml", "c_warn.yaml"], "fail", 0),
        (["a_pass.yaml", "c_warn.yaml"], "warn", 1),
        (["a_pass.yaml", "d_xfail.yaml"], "fail", 0),  # expected failure: the gate passes
        (["a_pass.yaml", "e_xpass.yaml"], "fail", 1),  # expected failure that passes: strict
        (["a_pass.yaml", "b_fail.yaml", "f_invalid.yaml"], "fail", 2),
    ],
)
def test_exit_codes(mixed: Path, names: list[str], fail_on: str, code: int) -> None:
    for fmt in ("table", "json", "junit", "github"):
        result = run("check", "--jobs", "1", "--format", fmt, "--fail-on", fail_on, *only(mixed, *names))
        assert result.exit_code == code, fmt


def test_broken_spec_among_good_ones_is_an_error_entry_in_every_format(mixed: Path) -> None:
    files = only(mixed, "a_pass.yaml", "f_invalid.yaml", "sub/h_nested.yml")
    report = json.loads(run("check", "--format", "json", *files).stdout)
    assert [s["status"] for s in report["specs"]] == ["pass", "error", "pass"]
    assert all(s["parameters"] for s in report["specs"] if s["status"] == "pass")
    junit = ET.fromstring(run("check", "--format", "junit", *files).stdout)
    assert int(junit.get("errors")) == 1 and int(junit.get("tests")) == 9
    github = run("check", "--format", "github", *files).stdout
    assert re.search(r"^::error file=.*f_invalid\.yaml,line=6,title=gradcheck%3A invalid spec::.*tanhh", github, re.M)


# ----------------------------------------------------------------------------------- formats


def test_json_report_of_the_mixed_folder(mixed: Path) -> None:
    result = run("check", "--format", "json", "--jobs", "1", mixed)
    report = json.loads(result.stdout)
    assert result.exit_code == report["exit_code"] == 2
    gates = {Path(s["path"]).name: s["gate"] for s in report["specs"]}
    assert gates == {"a_pass.yaml": "ok", "b_fail.yaml": "failed", "c_warn.yaml": "ok", "d_xfail.yaml": "xfail",
                     "e_xpass.yaml": "xpass", "f_invalid.yaml": "error", "g_notes.yaml": "skipped",
                     "h_nested.yml": "ok"}
    warn = next(s for s in report["specs"] if s["path"].endswith("c_warn.yaml"))
    assert warn["status"] == "warn" and warn["derivation"][1]["status"] == "warn"


def test_junit_structure_for_ci_readers(mixed: Path) -> None:
    root = ET.fromstring(run("check", "--format", "junit", "--jobs", "1", mixed).stdout)
    assert root.tag == "testsuites"
    suites = {Path(s.get("name")).name: s for s in root.findall("testsuite")}
    assert len(suites) == 8
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases)  # GitLab drops duplicates
        assert all(c.get("file") == suite.get("name") for c in cases)
    assert [c.get("name") for c in suites["a_pass.yaml"].findall("testcase")] == ["W1", "b1", "W2", "b2"]
    assert int(suites["a_pass.yaml"].get("failures")) == 0
    assert int(suites["b_fail.yaml"].get("failures")) == 1
    assert "off by a factor of 2" in suites["b_fail.yaml"].find("testcase/failure").get("message")
    assert int(suites["c_warn.yaml"].get("failures")) == 0
    assert int(suites["d_xfail.yaml"].get("skipped")) == 1  # xfail, as pytest writes it
    assert suites["e_xpass.yaml"].find("testcase[@name='expect: fail']/failure") is not None
    assert int(suites["f_invalid.yaml"].get("errors")) == 1
    assert int(suites["g_notes.yaml"].get("skipped")) == 1
    totals = {key: sum(int(s.get(key)) for s in suites.values()) for key in ("tests", "failures", "errors", "skipped")}
    assert totals == {key: int(root.get(key)) for key in totals}


def test_github_annotations(mixed: Path) -> None:
    out = run("check", "--format", "github", "--jobs", "1", mixed).stdout.splitlines()
    notices = [line for line in out if line.startswith("::notice ")]
    assert all("title=gradcheck%3A derivation incomplete::not covered by the derivation: W1, b1, b2" in line
               for line in notices) and len(notices) == 2  # b_fail and c_warn derive dz2, dW2 (an xfail is quiet)
    fail = [line for line in out if "b_fail.yaml" in line and not line.startswith("::notice ")]
    assert len(fail) == 1  # the formula's line: the derivation starts on line 10
    assert re.match(r"::error file=[^,]*b_fail\.yaml,line=12,title=gradcheck%3A formula dW2 is wrong::dW2 = 2 \* dz2",
                    fail[0])
    warn = [line for line in out if "c_warn.yaml" in line and not line.startswith("::notice ")]
    assert warn and all(line.startswith("::warning ") for line in warn)
    assert any("e_xpass.yaml,line=10,title=gradcheck%3A unexpected pass" in line for line in out)
    assert not any("d_xfail.yaml" in line or "a_pass.yaml" in line for line in out)
    assert out[-1] == ("gradcheck: 8 specs: 3 pass, 1 warn, 2 fail, 1 error, 1 skip "
                       "(1 expected to fail, 1 passed but expected to fail) -> ERROR")


def test_github_escaping() -> None:
    from gradcheck_cli.reporters.github import command

    line = command("error", "specs/a,b:c.yaml", 3, "t: x", "50% off\nnext\r")
    assert line == "::error file=specs/a%2Cb%3Ac.yaml,line=3,title=t%3A x::50%25 off%0Anext%0D"


def test_output_file_gets_the_format_and_the_terminal_gets_the_table(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    result = run("check", "--format", "junit", "--output", out, *only(mixed, "a_pass.yaml"))
    assert result.exit_code == 0
    assert ET.parse(out).getroot().tag == "testsuites"
    assert "│ W1 " in result.stdout and "<testsuites" not in result.stdout


def test_cli_tolerances_win_over_the_spec(mixed: Path) -> None:
    lenient = write(mixed, "j_lenient.yaml", WARNING + "    check: {rtol: 1.0e-4}\n")
    assert run("check", "--fail-on", "warn", lenient).exit_code == 0
    assert run("check", "--fail-on", "warn", "--rtol", "1e-6", lenient).exit_code == 1
    warning = only(mixed, "c_warn.yaml")
    assert run("check", "--fail-on", "warn", *warning).exit_code == 1
    assert run("check", "--fail-on", "warn", "--rtol", "1e-4", *warning).exit_code == 0
    assert run("check", *only(mixed, "b_fail.yaml")).exit_code == 1
    assert run("check", "--warn-rtol", "0.9", *only(mixed, "b_fail.yaml")).exit_code == 2  # past the range
    slightly = write(mixed, "k_slightly.yaml", SMALL_SPEC + derivation(1.05))  # a relative error of 0.024
    assert run("check", slightly).exit_code == 1
    assert run("check", "--warn-rtol", "0.1", slightly).exit_code == 0


# ----------------------------------------------------------------------------------- parallel


def test_jobs_2_gives_byte_identical_json_to_jobs_1() -> None:
    """On every bundled spec but seed 004's 101,000-parameter network (two minutes per run)."""
    specs = SMALL_SPECS
    one = run("check", "--format", "json", "--values", "--jobs", "1", *specs)
    two = run("check", "--format", "json", "--values", "--jobs", "2", *specs)
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


def test_progress_bar_stays_off_when_not_a_terminal(mixed: Path) -> None:
    result = run("check", *only(mixed, "a_pass.yaml"))
    assert "specs" not in result.stderr and "entries" not in result.stderr


def test_progress_bar_on_a_terminal_shows_specs_and_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from gradcheck_cli.run import progress as progress_module
    from gradcheck_cli.verdict.results import SpecResult, Status

    monkeypatch.setattr(progress_module, "DELAY_SECONDS", 0.0)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with progress_module.RunProgress(console, specs=2, enabled=True) as bar:
        bar(None, 2000, 8000)
        bar(SpecResult(path="a", status=Status.PASS), 0, 0)
        assert bar.bar is not None
        assert bar.bar.tasks[0].completed == 1 and bar.bar.tasks[1].completed == 0
    bar_off = progress_module.RunProgress(console, specs=2, enabled=False)
    bar_off(None, 10, 20)
    assert bar_off.bar is None


def test_targets_named_explicitly_win_over_found() -> None:
    here = str(SPECS / "seed001_deep_sigmoid.yaml")
    targets = discover([str(SPECS), here])
    assert Target(Path(here), explicit=True) in targets
    assert len(targets) == len(set(t.path for t in targets))


def test_parallel_runs_relay_progress_from_the_workers(mixed: Path) -> None:
    from gradcheck_cli.run.many_specs import check_targets

    calls: list[tuple[bool, int, int]] = []
    wide = SMALL_SPEC.replace("input: 3", "input: 60").replace("units: 4", "units: 40")  # 2,522 entries
    write(mixed, "i_wide.yaml", wide)
    targets = discover(only(mixed, "a_pass.yaml", "i_wide.yaml"))
    run_result = check_targets(targets, jobs=2, progress=lambda finished, d, t: calls.append((finished, d, t)))
    assert sum(finished for finished, _, _ in calls) == len(targets)  # each spec reported once, when done
    assert [s.path for s in run_result.specs] == [str(t.path) for t in targets]
    relayed = [(done, total) for finished, done, total in calls if not finished]
    assert all(0 < done <= total for done, total in relayed)  # entries over the specs in flight
    assert any(total >= 2522 for _, total in relayed)  # including the wide spec's, from its worker
