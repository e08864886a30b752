"""Options shared by the commands, and the callbacks that let only valid values through."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gradcheck_cli.reporters import FORMATS
from gradcheck_cli.run.discover import DiscoveryError, Target, discover, parse_shard, shard


def within(low: float, high: float, low_open: bool = False) -> Callable[[click.Context, click.Parameter, float | None],
                                                                        float | None]:
    """A callback that lets only finite numbers of the range through (click's FloatRange lets NaN pass)."""

    def check(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
        inside = value is None or (math.isfinite(value) and low <= value <= high and not (low_open and value == low))
        if not inside:
            raise click.BadParameter(f"must be a finite number {'above' if low_open else 'from'} {low:g} "
                                     f"{'and at most' if low_open else 'to'} {high:g}, not {value!r}")
        return value

    return check


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--format and --output, as every command that reports a run takes them."""
    command = click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                           help="Write the report to this file; the table still goes to the terminal.")(command)
    return click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True,
                        help="Report format.")(command)


fail_on_option = click.option("--fail-on", type=click.Choice(["fail", "warn"]), default="fail", show_default=True,
                              help="What makes the exit code 1.")


color_option = click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                            show_default=True, help="Color the output (auto honours NO_COLOR and FORCE_COLOR).")


shard_option = click.option("--shard", "shard_text", metavar="I/N",
                            help="Check only the I-th of N deterministic shards of the specs (for CI matrices).")


skip_option = click.option("--skip-non-specs", is_flag=True,
                           help="Skip YAML files without a 'version' key even when named explicitly (pre-commit).")


def targets_from(specs: tuple[str, ...], shard_text: str | None, skip_non_specs: bool) -> list[Target]:
    try:
        targets = discover(list(specs))
        if shard_text:
            targets = shard(targets, *parse_shard(shard_text))
    except (DiscoveryError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    if skip_non_specs:
        targets = [Target(t.path, explicit=False) for t in targets]
    return targets
