"""The plain result objects the core returns and every reporter formats. No numerics, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from gradcheck_cli.errors import ExitCode


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # the spec could not be read or is invalid

    @staticmethod
    def worst(statuses: list[Status]) -> Status:
        order = [Status.PASS, Status.WARN, Status.FAIL, Status.ERROR]
        return max(statuses, key=order.index, default=Status.PASS)


@dataclass(frozen=True)
class Rule:
    """The pass rule of one spec, with its numbers, so every report can state it exactly."""

    rtol: float  # PASS when every entry's relative error is at most this
    warn_rtol: float  # WARN up to this, FAIL above
    eps: float  # relative step of the central differences
    noise: float  # round-off scale of the finite differences at h = eps (see compare.py)
    dtype: str
    fd_noise_factor: float
    dtype_noise_factor: float

    def describe(self) -> str:
        return (
            f"PASS if every entry has rel <= {self.rtol:g}, WARN if <= {self.warn_rtol:g}, else FAIL\n"
            f"  rel = |a-n| / max(|a|, |n|, noise/rtol), "
            f"noise = {self.fd_noise_factor:g} eps|E|/h + {self.dtype_noise_factor:g} eps_{self.dtype} max|n|"
            f" = {self.noise:.2g} at h = {self.eps:g}"
        )


@dataclass(frozen=True)
class ParamResult:
    name: str
    shape: tuple[int, ...]
    status: Status
    max_abs_error: float
    max_rel_error: float
    norm_ratio: float  # ||a - n|| / (||a|| + ||n||), the per-parameter figure courses use
    worst_index: tuple[int, ...]
    worst_analytic: float
    worst_numeric: float
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: np.ndarray  # at kink entries: 0 if the one-sided check passed, else its error
    kink: np.ndarray  # entries whose central difference crossed a relu-type kink (judged one-sided)

    @property
    def kink_entries(self) -> int:
        return int(self.kink.sum())


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


@dataclass(frozen=True)
class RunResult:
    specs: list[SpecResult]

    @property
    def status(self) -> Status:
        return Status.worst([spec.status for spec in self.specs])

    @property
    def exit_code(self) -> ExitCode:
        """2 if any spec is invalid, else 1 if any check failed, else 0 (warnings pass)."""
        return {Status.ERROR: ExitCode.USER_ERROR, Status.FAIL: ExitCode.CHECK_FAILED}.get(self.status, ExitCode.OK)
