"""Name lookup shared by the activation and loss registries.

The registries are plain dicts (``ACTIVATIONS``, ``LOSSES``): the spec validator, ``gradcheck list``
and the tests all read them, so a new entry is picked up everywhere at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class UnknownNameError(LookupError):
    """A name that is not in a registry; carries the closest known name for a "did you mean"."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=1)
        self.suggestion = close[0] if close else None
        super().__init__(f"unknown {kind} {name!r}")

    @property
    def hint(self) -> str:
        if self.suggestion:
            return f"did you mean {self.suggestion!r}?"
        return "known: " + ", ".join(self.known)


def lookup(kind: str, table: Mapping[str, T], name: str) -> T:
    """Return ``table[name]`` or raise :class:`UnknownNameError` with a suggestion."""
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(kind, name, sorted(table)) from None
