"""Which files a run checks: files as named, folders searched recursively, globs expanded.

The result is sorted by path and free of duplicates whatever the order of the arguments, so
reports are stable; ``--shard i/n`` then keeps every n-th of that list, deterministically.
A file found by searching a folder or a glob may turn out not to be a spec (no ``version:`` key:
a CI config, say); it is skipped with a note. A file named explicitly must be a spec.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")
GLOB_CHARS = set("*?[")


@dataclass(frozen=True, order=True)
class Target:
    path: Path
    explicit: bool  # named on the command line, not found by searching


class DiscoveryError(ValueError):
    """A folder or glob that matches no spec file: a gate pointed at the wrong place must not pass."""


def discover(arguments: list[str]) -> list[Target]:
    found: dict[Path, bool] = {}
    for raw in arguments:
        if GLOB_CHARS & set(raw):
            matches = sorted(Path(p) for p in glob.glob(raw, recursive=True) if Path(p).is_file())
            if not matches:
                raise DiscoveryError(f"{raw}: the pattern matches no file")
            for match in matches:
                found.setdefault(match, False)
        elif Path(raw).is_dir():
            specs = [p for p in Path(raw).rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()]
            if not specs:
                raise DiscoveryError(f"{raw}: no *.yaml or *.yml spec files in this folder")
            for spec in specs:
                found.setdefault(spec, False)
        else:
            found[Path(raw)] = True  # named explicitly wins over found by a search
    return sorted(Target(path, explicit) for path, explicit in found.items())


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4): the second of four shards."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes i/n, such as 2/4, not {text!r}") from None
    if not 1 <= index <= count:
        raise ValueError(f"--shard {text}: i must lie between 1 and n")
    return index, count


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """Every count-th target starting at index (1-based): shards are disjoint and cover all targets."""
    return targets[index - 1 :: count]
