"""Load a student's own backward function from a Python file (``--backward FILE.py[:FUNCTION]``).

This runs the user's code, by design, so it is reachable only from the command line and never
from a spec: specs arrive in pull requests, command lines do not. The function receives the
forward quantities (x, y, m, W1.., b1.., z1.., a0.., E, l2: float64 arrays in the spec's layout)
and returns a dict of gradients named like a derivation's formulas (dW1, db1, dz1, da1, ...).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any


class BackwardLoadError(ValueError):
    """The file or the function cannot be loaded."""


def load_backward(reference: str) -> tuple[Callable[[dict[str, Any]], Any], str]:
    """The function named by ``FILE.py[:FUNCTION]`` (default ``backward``), and a label for reports."""
    path_text, _, function = reference.partition(":")
    function = function or "backward"
    path = Path(path_text)
    if not path.is_file():
        raise BackwardLoadError(f"--backward: {path_text}: file not found")
    module_spec = importlib.util.spec_from_file_location(f"gradcheck_user_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise BackwardLoadError(f"--backward: {path_text}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's module is reported, not raised
        raise BackwardLoadError(f"--backward: {path_text} failed to load: {type(exc).__name__}: {exc}") from None
    found = getattr(module, function, None)
    if not callable(found):
        raise BackwardLoadError(f"--backward: {path_text} has no function {function!r}")
    return found, f"{path.name}:{function}"
