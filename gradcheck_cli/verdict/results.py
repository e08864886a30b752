"""The plain result objects the core returns and every reporter formats. No numerics, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from gradcheck_cli.errors import ExitCode


class Status(str, Enum):
    SKIP = "skip"  # found by searching a folder, but not a spec
    PASS = "pass"
    INCONCLUSIVE = "inconclusive"  # every entry below the witness's noise floor: neither pass nor fail
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # the spec could not be read or is invalid

    def fails(self, fail_on: str) -> bool:
        """Whether this verdict fails a gate: FAIL always; WARN and INCONCLUSIVE with ``--fail-on warn``."""
        return self is Status.FAIL or (fail_on == "warn" and self in (Status.WARN, Status.INCONCLUSIVE))

    @staticmethod
    def worst(statuses: list[Status]) -> Status:
        order = [Status.SKIP, Status.PASS, Status.INCONCLUSIVE, Status.WARN, Status.FAIL, Status.ERROR]
        return max(statuses, key=order.index, default=Status.PASS)


class Gate(str, Enum):
    """What a spec's result means for a CI gate, given ``--fail-on`` and the spec's ``expect``."""

    OK = "ok"
    FAILED = "failed"
    XFAIL = "xfail"  # expect: fail, and it failed: the gate passes
    XPASS = "xpass"  # expect: fail, but it passed: the gate fails (strict, like pytest's xfail)
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Rule:
    """The pass rule of one spec, with its numbers, so every report can state it exactly."""

    rtol: float  # PASS when every entry's relative error is at most this
    warn_rtol: float  # WARN up to this, FAIL above
    eps: float  # relative step of the witness
    noise: float  # round-off scale of the finite differences at h = eps (see compare.py)
    dtype: str
    fd_noise_factor: float
    dtype_noise_factor: float
    method: str = "central"  # central | richardson | complex
    loose_rtol: float = 1e-2  # the second tier, for entries too small for rtol to be resolved
    engine: str = "fast"  # which engine witnessed the central differences (see witness/methods.py)
    rechecks: bool = True  # whether unsettled entries were witnessed again (gradcheck layer's are not)

    def describe(self) -> str:
        return (
            f"per entry: FAIL if |a-n| > e and |a-n|/max(|a|,|n|) > {self.warn_rtol:g}, WARN if > {self.rtol:g}; "
            f"PASS if |a-n| <= e and max(|a|,|n|) >= e/{self.rtol:g}, or >= e/{self.loose_rtol:g} (looser tier, "
            f"counted); else below the noise floor (counted; INCONCLUSIVE if no entry is resolved)\n"
            f"  e = expected error of the {self.method} witness (round-off {self.fd_noise_factor:g} eps|E|/h"
            f"{' + truncation |D(h)-D(2h)|/3' if self.method == 'richardson' else ''}"
            f"{', re-checks included' if self.method != 'complex' and self.rechecks else ''})"
            f" + {self.dtype_noise_factor:g} eps_{self.dtype} max|n|;"
            f" round-off = {self.noise:.2g} at h = {self.eps:g}; {self.engine} engine"
        )


@dataclass(frozen=True)
class ParamResult:
    name: str
    shape: tuple[int, ...]
    status: Status
    max_abs_error: float
    max_rel_error: float
    norm_ratio: float  # ||a - n|| / (||a|| + ||n||), the per-parameter figure courses use
    grad_norm: float  # ||n||: vanishing or exploding gradients in early layers show here
    worst_index: tuple[int, ...]
    worst_analytic: float
    worst_numeric: float
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: np.ndarray  # 0 at kink entries (judged by interval), -1 where not evaluated (--sample)
    kink: np.ndarray  # entries whose central difference crossed a relu-type kink (judged by interval)
    kink_unresolved: int  # of those, how many lie outside the one-sided slopes' interval (a WARN)
    checked_entries: int  # all of them, unless --sample chose some (0 for a directional check)
    worst_error: float = 0.0  # |a - n| at the worst entry
    worst_expected: float = 0.0  # the witness's expected error there: what |a - n| is measured against
    noise_limited: int = 0  # entries below the noise floor, or where the witness is not finite (INCONCLUSIVE)
    loose_entries: int = 0  # entries resolved only at the looser tier (to 1 %, not to rtol)
    loose_resolution: float = 0.0  # the largest relative uncertainty among them: e / max(|a|, |n|)
    reason: str = ""  # why the status is not PASS, in a few words
    disagreeing: np.ndarray | None = None  # entries that WARN or FAIL so far, for the re-check (None: not kept)
    below_floor: np.ndarray | None = None  # entries below the noise floor, for the re-check (None: not kept)
    mode: str = "entries"  # "entries" (each, or a --sample of them), "directional" (--fast, passed as a whole)
    note: str = ""  # e.g. why a float32 disagreement is precision, not a bug

    @property
    def kink_entries(self) -> int:
        return int(self.kink.sum())


@dataclass(frozen=True)
class LinkResult:
    """One formula of a student's derivation, with its verdict."""

    name: str
    formula: str
    target: str  # what it was compared with, e.g. "dE/dz1 (delta^1)"; "" for a helper
    status: Status | None  # None: a helper, evaluated but not compared
    shape: tuple[int, ...] | None = None  # of the result (None if it did not evaluate)
    expected_shape: tuple[int, ...] | None = None
    comparison: ParamResult | None = None  # the entry-by-entry comparison, when shapes fit
    message: str = ""  # why it could not be compared (evaluation failure, wrong shape)
    diagnosis: str = ""  # what is probably wrong, in plain words
    line: int | None = None
    quantity: str = ""  # what it is a gradient of: "W1", "b2", "z1", "a0"; "" for a helper


@dataclass(frozen=True)
class SpecResult:
    path: str
    status: Status
    name: str = ""
    loss: float | None = None
    params: list[ParamResult] = field(default_factory=list)
    rule: Rule | None = None
    message: str = ""  # the error for ERROR; what went wrong for a FAIL that has no table
    seconds: float = 0.0
    line: int | None = None  # where in the spec file the error is, for ERROR
    expect: str = "pass"  # "fail" for a spec that demonstrates a failure on purpose
    lines: dict[str, int] = field(default_factory=dict)  # parameter -> line of its layer in the spec
    links: list[LinkResult] = field(default_factory=list)  # the derivation's formulas, in order
    self_test: dict[str, bool] = field(default_factory=dict)  # --self-test: broken gradient -> caught?
    not_covered: list[str] = field(default_factory=list)  # parameters a derivation or --backward left out
    errors: list[tuple[str, int | None]] = field(default_factory=list)  # every problem of an ERROR: (line, spec line)

    @property
    def problems(self) -> list[tuple[str, int | None]]:
        """Every problem of an invalid spec, each one line with its line in the spec (at least ``message``)."""
        return self.errors or [(self.message, self.line)]

    @property
    def coverage_note(self) -> str:
        """What a partial derivation did not check, in words ('' when it covers every parameter)."""
        if not self.not_covered:
            return ""
        return (f"not covered by the derivation: {', '.join(self.not_covered)} (only gradcheck's own backprop "
                f"was checked for them)")

    @property
    def first_broken_link(self) -> LinkResult | None:
        return next((link for link in self.links if link.status is Status.FAIL), None)

    def gate(self, fail_on: str = "fail") -> Gate:
        if self.status is Status.ERROR:
            return Gate.ERROR
        if self.self_test and not all(self.self_test.values()):
            return Gate.FAILED  # the negative control was not caught: this gate could not fail
        if self.status is Status.SKIP:
            return Gate.SKIPPED
        failed = self.status.fails(fail_on)
        if self.expect == "fail":
            return Gate.XFAIL if failed else Gate.XPASS
        return Gate.FAILED if failed else Gate.OK


@dataclass(frozen=True)
class RunResult:
    specs: list[SpecResult]

    def counts(self) -> dict[Status, int]:
        """How many specs ended in each status."""
        return {status: sum(spec.status is status for spec in self.specs) for status in Status}

    @property
    def status(self) -> Status:
        """The worst verdict of any spec (a FAIL that was expected counts as FAIL here)."""
        return Status.worst([spec.status for spec in self.specs])

    def outcome(self, fail_on: str = "fail") -> Status:
        """What the run means, in the exit code's terms: every report's summary says this word.

        PASS, FAIL (exit 1) and ERROR (exit 2) follow the exit code; a run that exits 0 while some
        spec resolved nothing is INCONCLUSIVE, never PASS (``--fail-on warn`` makes it exit 1).
        """
        code = self.exit_code(fail_on)
        if code == ExitCode.USER_ERROR:
            return Status.ERROR
        if code == ExitCode.CHECK_FAILED:
            return Status.FAIL
        if any(spec.status is Status.INCONCLUSIVE for spec in self.specs):
            return Status.INCONCLUSIVE
        return Status.PASS

    def exit_code(self, fail_on: str = "fail") -> ExitCode:
        """2 if any spec is invalid, else 1 if any gate failed, else 0 (warnings pass unless fail_on=warn)."""
        gates = {spec.gate(fail_on) for spec in self.specs}
        if Gate.ERROR in gates:
            return ExitCode.USER_ERROR
        if gates & {Gate.FAILED, Gate.XPASS}:
            return ExitCode.CHECK_FAILED
        return ExitCode.OK
