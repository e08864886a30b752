"""The documented ranges of the settings that shape the verdict, in one place.

A spec arrives in a pull request, and its ``check:`` section must not be able to switch its own
gate off: a tolerance of 1e10 would pass anything, a step of 1e-300 would leave every entry below
the noise floor, NaN compares false with everything. So every setting, from a spec or from the
command line, is finite and inside these ranges, and the pass tolerance is at most the warn one.
The spec model, the command line and the merge of the two all read this table.
"""

from __future__ import annotations

import math

RTOL = (1e-12, 1e-2)  # largest relative error that passes
WARN_RTOL = (1e-12, 1e-1)  # largest relative error that only warns
EPS = {"central": (1e-10, 1e-1), "richardson": (1e-10, 1e-1), "complex": (1e-300, 1e-1)}  # relative step
EPS_ANY_METHOD = (min(low for low, _ in EPS.values()), max(high for _, high in EPS.values()))
MAX_MEMORY_GIB = (0.0, 1024.0)  # exclusive of 0


def settings_problem(method: str, eps: float | None, rtol: float | None,
                     warn_rtol: float | None) -> tuple[str, str]:
    """(the setting, what is wrong with it), or ('', '') if nothing is; None means the default."""
    if method not in EPS:
        return "method", f"method must be one of {', '.join(EPS)}, not {method!r}"
    for name, value, (low, high) in (("rtol", rtol, RTOL), ("warn_rtol", warn_rtol, WARN_RTOL),
                                     ("eps", eps, EPS[method])):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return name, f"{name} must be a number, not {type(value).__name__}"
        if not math.isfinite(value) or not low <= value <= high:
            where = f" for method {method}" if name == "eps" else ""
            return name, f"{name} must be a finite number from {low:g} to {high:g}{where}, not {value!r}"
    if rtol is not None and warn_rtol is not None and rtol > warn_rtol:
        return "rtol", f"rtol ({rtol:g}) must not be larger than warn_rtol ({warn_rtol:g}): entries between them warn"
    return "", ""
