"""JUnit XML for CI test tabs (GitHub Actions report actions, GitLab, Jenkins).

One testsuite per spec, one testcase per parameter and per checked formula of a derivation.
``classname`` is the spec's path and ``name`` the parameter, so every (classname, name) pair is
unique: GitLab keeps only the first of duplicates. ``file`` is set on every testcase (pytest's
writer leaves it out). A spec that cannot be read is one testcase with an ``<error>``; a folder
file that is not a spec is ``<skipped>``; an expected failure (``expect: fail``) is ``<skipped>``
like pytest's xfail, and one that unexpectedly passes is a ``<failure>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from rich.console import Console

from gradcheck_cli.reporters.options import ReportOptions, link_summary, param_summary, self_test_failures
from gradcheck_cli.verdict.results import Gate, LinkResult, ParamResult, RunResult, SpecResult, Status

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(run: RunResult, console: Console, options: ReportOptions) -> None:
    root = ET.Element("testsuites", name="gradcheck")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for spec in run.specs:
        suite = _suite(spec, options)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.attrib.update({key: str(value) for key, value in totals.items()})
    ET.indent(root)
    console.file.write(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def _suite(spec: SpecResult, options: ReportOptions) -> ET.Element:
    suite = ET.Element("testsuite", name=spec.path, time=f"{spec.seconds:.3f}")
    gate = spec.gate(options.fail_on)
    if spec.status is Status.ERROR:
        _case(suite, spec, "spec", "error", spec.message, "\n".join(text for text, _ in spec.problems))
    elif spec.status is Status.SKIP:
        _case(suite, spec, "spec", "skipped", spec.message)
    elif not spec.params:  # the forward pass itself failed
        _case(suite, spec, "forward pass", "skipped" if gate is Gate.XFAIL else "failure", spec.message)
    else:
        for p in spec.params:
            outcome, message = _param_outcome(spec, p, options)
            _case(suite, spec, p.name, outcome, message)
        for link in spec.links:
            if link.status is not None:
                _case(suite, spec, f"derivation {link.name}", *_link_outcome(spec, link, options))
        if spec.coverage_note:
            _case(suite, spec, "derivation coverage", "warning", spec.coverage_note)
        if gate is Gate.XPASS:
            _case(suite, spec, "expect: fail", "failure", "expected to fail (expect: fail), but every check passed")
    for label, line in self_test_failures(spec).items():
        _case(suite, spec, f"self-test {label}", "failure", line)
    cases = suite.findall("testcase")
    suite.attrib.update(
        tests=str(len(cases)),
        failures=str(sum(c.find("failure") is not None for c in cases)),
        errors=str(sum(c.find("error") is not None for c in cases)),
        skipped=str(sum(c.find("skipped") is not None for c in cases)),
    )
    return suite


def _param_outcome(spec: SpecResult, p: ParamResult, options: ReportOptions) -> tuple[str, str]:
    failed = p.status.fails(options.fail_on)
    summary = param_summary(spec, p)
    if failed and spec.expect == "fail":
        return "skipped", f"expected failure: {summary}"
    if failed:
        return "failure", summary
    if p.status in (Status.WARN, Status.INCONCLUSIVE):
        return "warning", f"{p.status.value.upper()}: {summary}"
    return "passed", ""


def _link_outcome(spec: SpecResult, link: LinkResult, options: ReportOptions) -> tuple[str, str]:
    assert link.status is not None
    text = link_summary(link)
    if link.status.fails(options.fail_on):
        return ("skipped", f"expected failure: {text}") if spec.expect == "fail" else ("failure", text)
    if link.status in (Status.WARN, Status.INCONCLUSIVE):
        return "warning", f"{link.status.value.upper()}: {text}"
    return "passed", ""


def _case(suite: ET.Element, spec: SpecResult, name: str, outcome: str, message: str, text: str = "") -> None:
    """One testcase; ``text``, the element's body, is ``message`` unless given (every error of a spec)."""
    case = ET.SubElement(suite, "testcase", classname=spec.path, name=name, file=spec.path, time="0")
    message = _ILLEGAL_XML.sub("", message)
    if outcome in ("failure", "error", "skipped"):
        ET.SubElement(case, outcome, message=message).text = _ILLEGAL_XML.sub("", text) or message
    elif outcome == "warning":
        ET.SubElement(case, "system-out").text = message
