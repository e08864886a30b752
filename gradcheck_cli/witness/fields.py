"""One parameter's witness at one step while an engine fills it in, group by group, by parameter index.

A first pass keeps every field in an array of the parameter's shape. A re-check evaluates a few
entries of it again; for a parameter of a million entries, five full-size fields would be 33 MB
that hold a few hundred numbers. So a re-check's fields are compact: each is written by parameter
index like an array, and stores only the entries the re-check selects, flat and in C order, the
shape ``methods.entries_at`` gives a witness of selected entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray


class Compact:
    """A field that stores only the selected entries: ``places`` maps each entry of the parameter to
    its position in ``values`` (shared by all the fields of one parameter; -1 where not selected)."""

    def __init__(self, places: Array, fill: Any) -> None:
        self.places = places
        self.values = np.full(int(np.count_nonzero(places >= 0)), fill)

    def __setitem__(self, index: Any, value: Any) -> None:
        self.values[self.places[index]] = value


def places_of(mask: Array) -> Array:
    """Each selected entry's position among the selected entries, in C order; -1 elsewhere (int32,
    half the size of a field, where the parameter's entries can be counted in it)."""
    dtype = np.int32 if np.size(mask) < 2**31 else np.int64
    places = np.full(np.shape(mask), -1, dtype=dtype)
    places[mask] = np.arange(np.count_nonzero(mask), dtype=dtype)
    return places


@dataclass(frozen=True)
class Fields:
    """The gradient, the half step, the one-sided slopes and the kink crossings of one parameter at
    one step. The engines' worker threads write each group's own entries, never the same place."""

    gradient: Any
    step: Any
    left: Any
    right: Any
    kink: Any

    @classmethod
    def empty(cls, shape: tuple[int, ...], places: Array | None = None) -> Fields:
        """NaN (and no kink) until written: of the parameter's shape, or compact at ``places``."""
        if places is not None:
            return cls(*(Compact(places, np.nan) for _ in range(4)), Compact(places, False))
        return cls(*(np.full(shape, np.nan) for _ in range(4)), np.zeros(shape, dtype=bool))

    def write(self, index: Any, values: tuple[Any, ...]) -> None:
        """A group's gradient, step, left and right slopes and kink crossings, at ``index``."""
        self.gradient[index], self.step[index], self.left[index], self.right[index], self.kink[index] = values

    def arrays(self) -> tuple[Array, Array, Array, Array, Array]:
        """gradient, step, left, right, kink as arrays (a compact field's stored entries)."""
        fields = (self.gradient, self.step, self.left, self.right, self.kink)
        return tuple(f.values if isinstance(f, Compact) else f for f in fields)  # type: ignore[return-value]
