"""Run ``gradcheck layer`` over its specs: each read, its functions loaded from the ``--code`` file,
checked within its time budget. One bad spec never loses the others; found by searching a folder, a
file that is not a layer check (a network spec, a compose file) is skipped with a note."""

from __future__ import annotations

from gradcheck_cli.commands.layer import LayerCode, check_layer
from gradcheck_cli.commands.layer_reference import reference_of
from gradcheck_cli.derivation.user_code import CodeLoadError, load_functions
from gradcheck_cli.errors import InternalError, SpecError, TimeBudgetExceeded
from gradcheck_cli.reading.layer_spec import parse_layer_check
from gradcheck_cli.reading.loader import UnreadableYaml, load_yaml_file
from gradcheck_cli.reading.model import NotASpecError
from gradcheck_cli.run.budget import time_budget
from gradcheck_cli.run.discover import Target
from gradcheck_cli.run.one_spec import error_entry
from gradcheck_cli.verdict.results import RunResult, SpecResult, Status


def check_layer_targets(targets: list[Target], code: str, timeout: float | None) -> RunResult:
    return RunResult([check_layer_target(target, code, timeout) for target in targets])


def check_layer_target(target: Target, code: str, timeout: float | None) -> SpecResult:
    path = str(target.path)
    try:
        with time_budget(timeout):
            data, source = load_yaml_file(target.path)
            case = parse_layer_check(data, source)
            reference = reference_of(case)  # the spec's own problems before any of the code's
            kinds = [kind for kind in ("forward", "backward", "loss") if getattr(case.spec.function, kind)]
            names = [getattr(case.spec.function, kind) for kind in kinds]
            try:
                functions = load_functions(code, names, "--code")
            except CodeLoadError as exc:
                raise source.error(("function",), str(exc), "name functions the file defines") from None
            return check_layer(case, reference, LayerCode(dict(zip(kinds, functions, strict=True))), path)
    except (NotASpecError, UnreadableYaml) as exc:
        if target.explicit:
            return error_entry(path, exc)
        return SpecResult(path=path, status=Status.SKIP, message=f"skipped {path}: {exc.message}")
    except TimeBudgetExceeded as exc:
        return error_entry(path, SpecError(f"the check took longer than its time budget of {exc.seconds:g} s",
                                           file=path, hint="raise it with --timeout, or make the inputs smaller"))
    except SpecError as exc:
        return error_entry(path, exc)
    except Exception as exc:  # noqa: BLE001 - not a user error: a bug, reported as such with the spec's name
        raise InternalError.capture(path, exc) from None
