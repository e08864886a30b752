"""Load and call a student's own functions from a Python file: the backward function of
``check --backward FILE.py[:FUNCTION]``, and a layer's forward and backward of ``layer --code FILE.py``.

This runs the user's code, by design, so it is reachable only from the command line and never
from a spec: specs arrive in pull requests, command lines do not. A backward function receives the
forward quantities (x, y, m, W1.., b1.., z1.., a0.., E, l2: float64 arrays in the spec's layout)
and returns a dict of gradients named like a derivation's formulas (dW1, db1, dz1, da1, ...); a
layer's functions take and return what the course's contract says (``commands/layer.py``).

The user's code is contained, so that it cannot end the run without a report: ``sys.exit`` and any
other exception it raises become a finding that names its file and line (only a real Ctrl-C,
KeyboardInterrupt, still ends the run), and what it prints goes to stderr, since stdout carries the
report (JSON, say).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradcheck_cli.errors import Interrupted, TimeBudgetExceeded


class CodeLoadError(ValueError):
    """The file or a function cannot be loaded."""


class UserCodeFailed(Exception):
    """The user's code raised (or exited); ``where`` is its file and line, ``what`` the exception."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{what} ({where})" if where else what)
        self.what, self.where = what, where


@dataclass(frozen=True)
class UserFunction:
    """A loaded function of the user's, with where it is defined."""

    function: Callable[..., Any]
    label: str  # FILE.py:FUNCTION, for reports
    path: Path
    line: int  # where the function is defined


@contextlib.contextmanager
def contained(path: Path) -> Iterator[None]:
    """Run user code: its prints go to stderr, and any exception it raises (SystemExit included)
    becomes :class:`UserCodeFailed` naming the deepest line of ``path`` on the way."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    except (KeyboardInterrupt, Interrupted, TimeBudgetExceeded):
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit and the like from user code are findings too
        raise UserCodeFailed(describe(exc), _user_line(exc, path)) from None


def describe(exc: BaseException) -> str:
    """The exception in one line of bounded length."""
    text = f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else " ".join(str(exc).split())
    return type(exc).__name__ + (f": {text[:200]}" if text else "")


def _user_line(exc: BaseException, path: Path) -> str:
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if Path(frame.filename).resolve() == path.resolve()]
    return f"{path.name}, line {frames[-1].lineno}" if frames else ""


@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    """Import without writing a ``__pycache__`` beside the user's file: checking a student's code
    leaves their folder as it was, whatever PYTHONDONTWRITEBYTECODE says."""
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def load_backward(reference: str) -> UserFunction:
    """The function named by ``FILE.py[:FUNCTION]`` (default ``backward``)."""
    path_text, _, function = reference.partition(":")
    return load_functions(path_text, [function or "backward"], "--backward")[0]


def load_functions(path_text: str, names: list[str], option: str) -> list[UserFunction]:
    """The functions ``names`` of the Python file ``path_text`` (given by ``option``), loaded once."""
    path = Path(path_text)
    if not path.is_file():
        raise CodeLoadError(f"{option}: {path_text}: file not found")
    module_spec = importlib.util.spec_from_file_location(f"gradcheck_user_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise CodeLoadError(f"{option}: {path_text}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    try:
        with contained(path), _no_bytecode():
            module_spec.loader.exec_module(module)
    except UserCodeFailed as exc:
        raise CodeLoadError(f"{option}: {path_text} failed to load: {exc}") from None
    loaded = []
    for name in names:
        found = getattr(module, name, None)
        if not callable(found):
            raise CodeLoadError(f"{option}: {path_text} has no function {name!r}")
        code = getattr(found, "__code__", None)
        loaded.append(UserFunction(found, f"{path.name}:{name}", path, code.co_firstlineno if code else 1))
    return loaded
