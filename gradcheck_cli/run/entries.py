"""How one spec's run ends when it cannot end in a verdict: its entry in the run (an error with every
problem and its line, or a skipped file with a note), for ``check``, ``validate`` and ``layer`` alike."""

from __future__ import annotations

from collections.abc import Callable

from gradcheck_cli.errors import InternalError, SpecError, TimeBudgetExceeded
from gradcheck_cli.reading.loader import UnreadableYaml
from gradcheck_cli.reading.model import NotASpecError
from gradcheck_cli.run.budget import time_budget
from gradcheck_cli.run.discover import Target
from gradcheck_cli.verdict.results import SpecResult, Status


def guarded(target: Target, timeout: float | None, work: Callable[[], SpecResult], slower: str) -> SpecResult:
    """One spec's ``work`` within its time budget, every way it can end short an entry of its own (the
    other specs go on): a file that is no spec of this command skipped where a search found it (an error
    where it was named, or claims to be one), a user error, its time (``slower``: how to give it more),
    its size. Anything else is a bug of gradcheck's, reported with the spec's name."""
    try:
        with time_budget(timeout):
            return work()
    except (NotASpecError, UnreadableYaml) as exc:
        return skipped_or_error(target, exc)
    except TimeBudgetExceeded as exc:
        what = (f"the check would take {exc.forecast}, far over its time budget of {exc.seconds:g} s" if exc.forecast
                else f"the check took longer than its time budget of {exc.seconds:g} s")
        return error_entry(str(target.path), SpecError(what, file=str(target.path), hint=slower))
    except SpecError as exc:
        return error_entry(str(target.path), exc)
    except (MemoryError, RecursionError) as exc:  # this spec's size, not a bug: the other specs go on
        what = "ran out of memory" if isinstance(exc, MemoryError) else "nested too deeply for Python's stack"
        error = SpecError(f"checking it {what} ({type(exc).__name__})", file=str(target.path),
                          hint="lower its sizes, or raise --max-memory if the machine has the memory")
        return error_entry(str(target.path), error)
    except Exception as exc:  # noqa: BLE001 - not a user error: a bug, reported as such with the spec's name
        raise InternalError.capture(str(target.path), exc) from None


def error_entry(path: str, error: SpecError) -> SpecResult:
    """A spec that ends as an error: every problem found, each one line with its line in the spec."""
    return SpecResult(path=path, status=Status.ERROR, message=str(error), line=error.line,
                      errors=[(str(e), e.line) for e in error.every()])


def skipped_or_error(target: Target, exc: NotASpecError | UnreadableYaml) -> SpecResult:
    """A file that is not a spec: an error where it was named, or where it claims to be one (its YAML
    broken), else skipped with a note, as a search finds README-like YAML files."""
    path = str(target.path)
    if target.explicit or getattr(exc, "claims_spec", False):
        return error_entry(path, exc)
    reason = exc.message if isinstance(exc, NotASpecError) else f"not a gradcheck spec: {exc.message}"
    return SpecResult(path=path, status=Status.SKIP, message=f"skipped {path}: {reason}")
