"""gradcheck: verify backpropagation derivations against central finite differences.

The Python API, for notebooks and other tools::

    import gradcheck_cli
    report = gradcheck_cli.check("specs/seed002_two_layer_sigmoid.yaml")   # or a dict spec
    report.status, report.loss, [(p.name, p.max_rel_error, p.status) for p in report.params]

``check`` returns a :class:`Report` with the fields of the JSON report; it raises
:class:`SpecError` for any bad input: a spec that cannot be read or is invalid, a spec that is
neither a path nor a mapping, settings out of range or of the wrong type. Every SpecError lists
all the problems found (``error.every()``), each one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradcheck_cli.errors import SpecError

if TYPE_CHECKING:
    from gradcheck_cli.verdict.results import ParamResult, SpecResult, Status

    Report = SpecResult

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """The result types, imported on first use: importing the package must not load numpy (launcher.py)."""
    if name in ("ParamResult", "SpecResult", "Status", "Report"):
        from gradcheck_cli.verdict import results

        return results.SpecResult if name == "Report" else getattr(results, name)
    raise AttributeError(f"module 'gradcheck_cli' has no attribute {name!r}")


def check(path_or_spec: str | Path | Mapping[str, Any], *, method: str | None = None, eps: float | None = None,
          rtol: float | None = None, warn_rtol: float | None = None) -> Report:
    """Check one spec, given as a file path or as the spec's data (a mapping, as YAML would load)."""
    from gradcheck_cli.reading.build import build_problem
    from gradcheck_cli.reading.loader import load_mapping
    from gradcheck_cli.reading.model import parse_spec
    from gradcheck_cli.run.one_spec import Overrides, check_problem, load_problem

    if isinstance(path_or_spec, Mapping):
        data, source = load_mapping(path_or_spec)
        problem = build_problem(parse_spec(data, source), source)
        label = "<spec>"
    elif isinstance(path_or_spec, str | PathLike):
        problem = load_problem(path_or_spec)
        label = str(path_or_spec)
    else:
        raise SpecError(f"a spec is a file path or a mapping of its keys, not {type(path_or_spec).__name__}")
    return check_problem(problem, label, Overrides(method=method, eps=eps, rtol=rtol, warn_rtol=warn_rtol))


__all__ = ["ParamResult", "Report", "SpecError", "Status", "check", "__version__"]
