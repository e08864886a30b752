"""Which files a run checks: files as named, folders searched recursively, globs expanded.

The result is sorted by path and free of duplicates whatever the order of the arguments, so
reports are stable; ``--shard i/n`` then keeps every n-th of that list, deterministically.
A file found by searching a folder or a glob may turn out not to be a spec (a CI config, say); it is
skipped with a note (``spec_model.NotASpecError`` says how a spec is recognised). A file named
explicitly must be a spec. A folder or glob none of whose files is a spec is an error: a gate pointed
at the wrong place must not pass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")
GLOB_CHARS = set("*?[")


@dataclass(frozen=True, order=True)
class Target:
    path: Path
    explicit: bool  # named on the command line, not found by searching
    origin: str = ""  # the folder or glob that found it ("" when named explicitly)


class DiscoveryError(ValueError):
    """A folder or glob that matches no spec file: a gate pointed at the wrong place must not pass."""


def discover(arguments: list[str]) -> list[Target]:
    """The targets the arguments name, each real file once.

    A path that exists is that file or folder, whatever characters its name holds (pre-commit passes
    ``a[1].yaml`` as it is); otherwise an argument with ``*?[`` is a glob. Folders and ``**`` are
    searched without following links to folders (a link cycle cannot loop), and a file reached by two
    paths (a link beside its target) is checked once. Special files and broken links that match are
    kept, so that they become error entries naming them instead of vanishing.
    """
    found: dict[Path, Target] = {}
    seen: dict[str, Path] = {}  # real path -> the path first found for it
    for raw in arguments:
        path = Path(raw)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and not p.is_dir())
            if not matches:
                raise DiscoveryError(f"{raw}: no *.yaml or *.yml spec files in this folder")
        elif GLOB_CHARS & set(raw) and not (path.exists() or path.is_symlink()):
            matches = sorted(p for p in _expand(raw) if not p.is_dir())
            if not matches:
                raise DiscoveryError(f"{raw}: the pattern matches no file")
        else:
            found[path] = Target(path, explicit=True)  # named explicitly wins over found by a search
            continue
        for match in matches:
            first = seen.setdefault(os.path.realpath(match), match)
            if first == match and match not in found:
                found[match] = Target(match, explicit=False, origin=raw)
    return sorted(found.values())


def _expand(pattern: str) -> list[Path]:
    """A glob by pathlib, from the longest folder prefix without wildcards (no links to folders followed)."""
    parts = Path(pattern).parts
    fixed = next(i for i, part in enumerate(parts) if GLOB_CHARS & set(part))
    base = Path(*parts[:fixed]) if fixed else Path(".")
    return list(base.glob(str(Path(*parts[fixed:]))))


def searches_without_specs(targets: list[Target], skipped: set[Path]) -> dict[str, int]:
    """The folders and globs all of whose files turned out not to be specs, with how many they found."""
    by_origin: dict[str, list[Path]] = {}
    for target in targets:
        if target.origin:
            by_origin.setdefault(target.origin, []).append(target.path)
    return {origin: len(paths) for origin, paths in by_origin.items() if all(p in skipped for p in paths)}


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
