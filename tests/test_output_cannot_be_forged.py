"""Text from a spec or a path cannot forge what a terminal or CI log shows, and --output is checked
before any work and written whole or not at all."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SMALL_SPEC, run
from gradcheck_cli.reporters.printable import MESSAGE_LIMIT, printable

FORGED = "ok\n::error file=x::forged\x1b[2J\x1b]0;title\x07\u202e\r"


def _evil(write_spec, name: str = "spec.yaml", activation: str = "tanh") -> Path:
    text = SMALL_SPEC.replace("name: small", f"name: {json.dumps(FORGED)}").replace("activation: tanh",
                                                                                  f"activation: {activation}")
    return write_spec(text, name=name)


def _raw_control(text: str) -> bool:
    return any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029\u202e" for c in text)


@pytest.mark.parametrize("fmt", ["table", "github", "junit"])
def test_no_spec_text_reaches_the_output_raw(write_spec, fmt: str) -> None:
    good = _evil(write_spec, "good.yaml")
    invalid = _evil(write_spec, "bad\nname\x1b[31m.yaml", activation="tanhh")
    result = run("check", "--format", fmt, "--jobs", "1", "--color", "never", good, invalid)
    for stream in (result.stdout, result.stderr):
        assert not _raw_control(stream)
        assert not any(line.startswith("::error file=x") for line in stream.splitlines())
    assert "bad\\nname\\x1b[31m.yaml" in result.stderr  # the file name, escaped
    if fmt == "table":
        assert "ok\\n::error file=x::forged\\x1b[2J" in result.stdout  # the spec's name, escaped
    if fmt == "junit":
        ET.fromstring(result.stdout)  # well-formed for any file name


def test_json_keeps_the_raw_strings_escaped_by_its_encoder(write_spec) -> None:
    result = run("check", "--format", "json", "--jobs", "1", _evil(write_spec))
    assert not _raw_control(result.stdout) and json.loads(result.stdout)["specs"][0]["name"] == FORGED


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_printable_leaves_no_unsafe_character_and_every_line_is_one(text: str) -> None:
    def unsafe(s: str) -> bool:
        return _raw_control(s) or "\n" in s or any(0xD800 <= ord(c) <= 0xDFFF for c in s)

    shown = printable(text)
    assert not unsafe(shown) and len(shown) <= MESSAGE_LIMIT + 10
    if not unsafe(text) and len(text) <= MESSAGE_LIMIT:
        assert shown == text  # safe text of a readable length is shown as it is


@pytest.mark.parametrize("fmt", ["table", "github", "junit"])
def test_a_message_quoting_huge_spec_text_stays_one_bounded_line(write_spec, fmt: str) -> None:
    huge = "tanh" + "h" * 20_000
    bad = write_spec(SMALL_SPEC.replace("activation: tanh", f"activation: {huge}"), name="bad.yaml")
    result = run("check", "--format", fmt, "--jobs", "1", "--color", "never", bad, write_spec(SMALL_SPEC))
    [line] = result.stderr.splitlines()
    assert result.exit_code == 2 and "bad.yaml:" in line and "characters left out" in line
    assert len(line) < MESSAGE_LIMIT + 20
    if fmt == "junit":
        [error] = ET.fromstring(result.stdout).iter("error")
        assert len(error.get("message")) < MESSAGE_LIMIT + 20
    else:
        assert max(map(len, result.stdout.splitlines())) < MESSAGE_LIMIT + 300  # the path, twice, and a title


@pytest.mark.parametrize("where", ["missing/report.xml", "", "."])
def test_an_unusable_output_is_refused_before_any_work(write_spec, tmp_path: Path, where: str) -> None:
    output = str(tmp_path / where) if where else ""
    result = run("check", "--format", "junit", "--output", output, "--jobs", "1", write_spec(SMALL_SPEC))
    assert result.exit_code == 2 and "--output" in result.stderr and "Traceback" not in result.output
    assert not result.stdout  # no report, no table: nothing was checked


def test_an_existing_report_is_replaced_whole_and_never_truncated(write_spec, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "report.json"
    report.write_text('{"old": true}')
    from gradcheck_cli.reporters import json_report

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json_report.json, "dumps", disk_full)
    with pytest.raises(OSError):
        run("check", "--format", "json", "--output", report, "--jobs", "1", write_spec(SMALL_SPEC))
    assert report.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "spec.yaml"]  # no temporary file left
    monkeypatch.undo()
    assert run("check", "--format", "json", "--output", report, "--jobs", "1", write_spec(SMALL_SPEC)).exit_code == 0
    assert json.loads(report.read_text())["status"] == "pass"
