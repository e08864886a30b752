"""The dense layer in both layouts, cs231n style: ``*_forward`` returns ``(z, cache)`` and
``*_backward(dz, cache)`` returns ``(da_prev, dW, db)``.

Column layout (seeds 000-003): samples are columns, ``z = W @ a + b`` with ``W`` units x inputs
and ``b`` units x 1 (or a scalar shared by the layer). The backward pass is

    dW = dz @ a^T,   db = sum(dz, axis=1),   da_prev = W^T @ dz.

Row layout (seed 004): samples are rows, ``z = a @ W + b`` with ``W`` inputs x units and ``b``
1 x units:

    dW = a^T @ dz,   db = sum(dz, axis=0),   da_prev = dz @ W^T.

Both layouts are written out on purpose rather than one derived from the other by transposes:
a spec in either layout then exercises its own code, and the tests compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray
Cache = tuple[Array, Array, Array | None]


def bias_gradient(dz: Array, b: Array | None, sample_axis: int) -> Array | None:
    """db: dz summed over the samples, and also over the units when the bias is shared (a scalar)."""
    if b is None:
        return None
    if b.ndim == 0:
        return np.asarray(dz.sum())
    return dz.sum(axis=sample_axis, keepdims=True)


def column_forward(a: Array, W: Array, b: Array | None) -> tuple[Array, Cache]:
    z = W @ a
    if b is not None:
        z = z + b
    return z, (a, W, b)


def column_backward(dz: Array, cache: Cache) -> tuple[Array, Array, Array | None]:
    a, W, b = cache
    dW = dz @ a.T
    return W.T @ dz, dW, bias_gradient(dz, b, sample_axis=1)


def row_forward(a: Array, W: Array, b: Array | None) -> tuple[Array, Cache]:
    z = a @ W
    if b is not None:
        z = z + b
    return z, (a, W, b)


def row_backward(dz: Array, cache: Cache) -> tuple[Array, Array, Array | None]:
    a, W, b = cache
    dW = a.T @ dz
    return dz @ W.T, dW, bias_gradient(dz, b, sample_axis=0)


@dataclass(frozen=True)
class Layout:
    """Where samples and units live in an array, and the dense layer that goes with it.

    The axes count from the end (-2, -1), so the same code also runs on a stack of arrays with a
    leading batch axis: the fast numerical engine evaluates many perturbed networks at once."""

    name: str
    unit_axis: int
    sample_axis: int

    def weight_shape(self, inputs: int, units: int) -> tuple[int, int]:
        return (units, inputs) if self.name == "column" else (inputs, units)

    def bias_shape(self, units: int) -> tuple[int, int]:
        return (units, 1) if self.name == "column" else (1, units)

    def forward(self, a: Array, W: Array, b: Array | None) -> tuple[Array, Cache]:
        return (column_forward if self.name == "column" else row_forward)(a, W, b)

    def backward(self, dz: Array, cache: Cache) -> tuple[Array, Array, Array | None]:
        return (column_backward if self.name == "column" else row_backward)(dz, cache)

    def from_rows(self, rows: Array) -> Array:
        """Arrange data given one sample per row (as specs write it) in this layout."""
        return rows.T if self.name == "column" else rows


LAYOUTS: dict[str, Layout] = {
    "column": Layout("column", unit_axis=-2, sample_axis=-1),
    "row": Layout("row", unit_axis=-1, sample_axis=-2),
}
