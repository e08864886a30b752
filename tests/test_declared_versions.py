"""The lowest versions the package declares are the versions CI tests: .ci/lowest-versions.txt pins
exactly those bounds, and .ci/run installs with it and runs the suite."""

from __future__ import annotations

from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def test_every_runtime_lower_bound_is_pinned_for_the_lowest_versions_run() -> None:
    declared = {}
    for line in requires("gradcheck-cli") or []:
        requirement = Requirement(line)
        if requirement.marker is not None:  # an extra's requirement (test tools), not a run-time one
            continue
        [bound] = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        declared[requirement.name.lower()] = Version(bound)
    pinned = {}
    for line in (ROOT / ".ci" / "lowest-versions.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            [pin] = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pinned[requirement.name.lower()] = Version(pin)
    assert pinned == declared
    assert "lowest-versions.txt" in (ROOT / ".ci" / "run").read_text()
