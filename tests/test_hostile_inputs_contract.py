"""Generated hostile inputs beside a good spec: each ends in the contract. The hostile spec is one
clean line (or, if it is valid, a checked spec that prints escaped), the exit code is the one its kind
calls for, the good spec is still checked, and the existing report is replaced whole, never truncated."""

from __future__ import annotations

import json
import math
import os
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SMALL_SPEC, run

GOOD = textwrap.dedent(SMALL_SPEC).lstrip("\n")

control_names = st.text(alphabet=st.sampled_from(list("ab:\n\r\t\x1b\x07\x00\u202e\u2028[]%,")), min_size=1,
                        max_size=20)
bad_numbers = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0, 1e300, 0.5, 1e-320]))
huge = st.integers(min_value=10**9, max_value=10**15)  # over the memory guard (10**7 units fit it, and run long)


@st.composite
def hostile(draw: st.DrawFn) -> tuple[str, str | None, int]:
    """(kind, spec text or None for a FIFO, the exit code the run must end with)."""
    kind = draw(st.sampled_from(["name", "setting", "units", "batch", "fifo", "option"]))
    if kind == "name":
        return kind, GOOD.replace("name: small", f"name: {json.dumps(draw(control_names))}"), 0
    if kind == "setting":
        key = draw(st.sampled_from(["rtol", "warn_rtol", "eps"]))
        value = draw(bad_numbers)
        text = ".nan" if math.isnan(value) else ".inf" if value == math.inf else "-.inf" if value == -math.inf \
            else repr(value)
        return kind, GOOD + f"check: {{{key}: {text}}}\n", 2
    if kind == "units":
        return kind, GOOD.replace("units: 4", f"units: {draw(huge)}"), 2
    if kind == "batch":
        return kind, GOOD.replace("data: {batch: 3}", f"data: {{batch: {draw(huge)}}}"), 2
    if kind == "option":
        return kind, GOOD, 2
    return kind, None, 2


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=hostile(), file_name=control_names)
def test_every_hostile_input_ends_in_the_contract(case: tuple[str, str | None, int], file_name: str) -> None:
    kind, text, code = case
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "specs").mkdir()
        good = root / "specs" / "good.yaml"
        good.write_text(GOOD)
        name = "".join(c for c in file_name if c not in "/\x00") or "x"
        bad = root / "specs" / f"h{name}.yaml"
        if text is None:
            os.mkfifo(bad)
        else:
            bad.write_text(text)
        report = root / "report.xml"
        report.write_text("<old/>")
        options = ["--rtol", "nan"] if kind == "option" else []
        result = run("check", "--jobs", "1", "--format", "junit", "--output", report, *options, root / "specs")
        assert result.exit_code == code, (kind, result.output)
        assert "Traceback" not in result.output
        if kind == "option":  # a usage error: refused before any work, the old report untouched
            assert report.read_text() == "<old/>"
            assert result.stderr.strip().splitlines()[-1].startswith("Error: Invalid value for '--rtol'")
            return
        suites = {suite.get("name"): suite for suite in ET.parse(report).getroot()}  # well-formed, whole
        assert suites[str(good)].get("failures") == "0" and suites[str(good)].get("errors") == "0"
        errors = [line for line in result.stderr.splitlines() if ": error: " in line]
        assert len(errors) == (code == 2)
        assert all(not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u202e" for c in line)
                   for line in result.output.splitlines())
