"""User errors and exit codes.

Everything a user can fix (bad YAML, unknown names, wrong shapes, missing files) is a
:class:`SpecError`: it renders as one line ``FILE:LINE: error: WHAT; HOW TO FIX`` and the run exits
with code 2. Anything else escaping the core is a bug in gradcheck.
"""

from __future__ import annotations

import traceback
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every gradient check passed (warnings allowed)
    CHECK_FAILED = 1  # at least one gradient check failed
    USER_ERROR = 2  # a spec could not be read or is invalid, or the command line was wrong
    INTERNAL_ERROR = 3  # a bug in gradcheck itself


class InternalError(Exception):
    """An exception that is not a user error, with the spec it happened on and its traceback as text
    (text, so that it crosses from a worker process intact)."""

    def __init__(self, path: str, error: str, traceback: str) -> None:
        super().__init__(f"{path}: {error}")
        self.path, self.error, self.traceback = path, error, traceback

    @classmethod
    def capture(cls, path: str, exc: BaseException) -> InternalError:
        """The exception being handled, as an internal error of the spec at ``path``."""
        if isinstance(exc, InternalError):
            return exc
        return cls(path, f"{type(exc).__name__}: {exc}", traceback.format_exc())


class TimeBudgetExceeded(BaseException):
    """A spec's check ran past its time budget (``--timeout``). A BaseException, so that no handler of
    ordinary errors on the way (the containment of a user's code, say) can swallow it."""

    def __init__(self, seconds: float, forecast: str = "") -> None:
        super().__init__(f"time budget of {seconds:g} s exceeded")
        self.seconds = seconds
        self.forecast = forecast  # why the check would not finish in time, when it was foreseen, not reached


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived: the run ends, as after Ctrl-C, with exit code 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


class SpecError(Exception):
    """A problem in a spec file that the user can fix."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None, hint: str = ""):
        super().__init__(message)
        self.message, self.file, self.line, self.hint = message, file, line, hint
        self.more: tuple[SpecError, ...] = ()  # the spec's other problems, found in the same pass

    def every(self) -> list[SpecError]:
        """This problem and every other one found with it, each its own line."""
        return [self, *self.more]

    @staticmethod
    def all_of(errors: list[SpecError]) -> SpecError:
        """The first problem, carrying the others: a spec reports everything wrong with it at once,
        as pydantic and ruff do, not only the first thing."""
        first = errors[0]
        first.more = tuple(e for error in errors[1:] for e in error.every())
        return first

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: error: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text
