"""Run ``gradcheck layer`` over its specs: each read, its functions loaded from the ``--code`` file,
checked within its time budget. One bad spec never loses the others; found by searching a folder, a
file that is not a layer check (a network spec, a compose file) is skipped with a note."""

from __future__ import annotations

from gradcheck_cli.commands.layer import LayerCode, check_layer
from gradcheck_cli.commands.layer_reference import reference_of
from gradcheck_cli.derivation.user_code import CodeLoadError, load_functions
from gradcheck_cli.reading.layer_spec import parse_layer_check
from gradcheck_cli.reading.loader import load_yaml_file
from gradcheck_cli.run.discover import Target
from gradcheck_cli.run.entries import guarded
from gradcheck_cli.run.many_specs import with_searches_without_specs
from gradcheck_cli.verdict.results import RunResult, SpecResult


def check_layer_targets(targets: list[Target], code: str, timeout: float | None) -> RunResult:
    """Every target checked; a folder or glob that found no layer check is an error entry."""
    run = RunResult([check_layer_target(target, code, timeout) for target in targets])
    return with_searches_without_specs(targets, run, "a layer check")


def check_layer_target(target: Target, code: str, timeout: float | None) -> SpecResult:
    def work() -> SpecResult:
        data, source = load_yaml_file(target.path)
        case = parse_layer_check(data, source)
        reference = reference_of(case)  # the spec's own problems before any of the code's
        kinds = [kind for kind in ("forward", "backward", "loss") if getattr(case.spec.function, kind)]
        try:
            functions = load_functions(code, [getattr(case.spec.function, kind) for kind in kinds], "--code")
        except CodeLoadError as exc:
            raise source.error(("function",), str(exc), "name functions the file defines") from None
        return check_layer(case, reference, LayerCode(dict(zip(kinds, functions, strict=True))), str(target.path))

    return guarded(target, timeout, work, "raise it with --timeout, or make the inputs smaller")
