"""pytest plugin: ``pytest --gradcheck specs/`` collects spec files as test items, one per spec.

For projects that already gate on pytest: they get its JUnit output, ``-k`` selection and xdist
for free. Failures are rendered with gradcheck's table. Registered through the ``pytest11`` entry
point; it does nothing unless ``--gradcheck`` is given.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from gradcheck_cli.reading.loader import load_yaml_text
from gradcheck_cli.reporters import reporter
from gradcheck_cli.reporters.options import ReportOptions
from gradcheck_cli.run.discover import SPEC_SUFFIXES, Target
from gradcheck_cli.run.one_spec import check_target
from gradcheck_cli.verdict.results import Gate, RunResult, SpecResult, Status


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck")
    group.addoption("--gradcheck", action="store_true", help="collect gradcheck spec files (*.yaml, *.yml) as tests")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if parent.config.getoption("gradcheck") and file_path.suffix in SPEC_SUFFIXES and _is_spec(file_path):
        return SpecFile.from_parent(parent, path=file_path)
    return None


def _is_spec(path: Path) -> bool:
    """A mapping with a top-level ``version`` key; anything unreadable is left to the item to report."""
    try:
        data, _ = load_yaml_text(path.read_text(encoding="utf-8"), str(path))
    except Exception:  # noqa: BLE001 - a broken file is still collected, and its item fails with the error
        return True
    return isinstance(data, dict) and "version" in data


class SpecFile(pytest.File):
    def collect(self) -> list[SpecItem]:
        return [SpecItem.from_parent(self, name=self.path.name)]


class SpecFailure(Exception):
    def __init__(self, result: SpecResult) -> None:
        super().__init__(result.message or result.status.value)
        self.result = result


class SpecItem(pytest.Item):
    def runtest(self) -> None:
        result = check_target(Target(self.path, explicit=True))
        gate = result.gate()
        if gate is Gate.XFAIL:
            pytest.xfail(f"expected to fail: {result.name}")
        if gate in (Gate.FAILED, Gate.XPASS, Gate.ERROR):
            raise SpecFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, SpecFailure):
            return str(super().repr_failure(excinfo))
        result = excinfo.value.result
        if result.status is Status.ERROR:
            return result.message
        if result.gate() is Gate.XPASS:
            return f"{result.path}: expected to fail (expect: fail), but every check passed"
        buffer = io.StringIO()
        console = Console(file=buffer, width=160, no_color=True)
        reporter("table")(RunResult([result]), console, ReportOptions(verbose=1))
        return buffer.getvalue()

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"gradcheck: {self.path.name}"
