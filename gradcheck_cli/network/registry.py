"""Name lookup shared by the activation and loss registries.

The registries are plain dicts (``ACTIVATIONS``, ``LOSSES``): the spec validator, ``gradcheck list``
and the tests all read them, so a new entry is picked up everywhere at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def did_you_mean(name: str, known: list[str]) -> str:
    """The hint for an unknown name: the closest known one, else the whole list."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)


class UnknownNameError(LookupError):
    """A name that is not in a registry, with a "did you mean" hint."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        self.hint = did_you_mean(name, known)
        super().__init__(f"unknown {kind} {name!r}")


def lookup(kind: str, table: Mapping[str, T], name: str) -> T:
    """Return ``table[name]`` or raise :class:`UnknownNameError` with a suggestion."""
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(kind, name, sorted(table)) from None
