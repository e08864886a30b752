"""Where samples and units live in an array: column layout (samples are columns, seeds 000-003)
or row layout (samples are rows, seed 004 and cs231n). Each layer type reads its layout to place
its parameters and its products; the loss and the activations read the unit axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Layout:
    """The axes count from the end (-2, -1), so the same code also runs on a stack of arrays with a
    leading batch axis: the fast numerical engine evaluates many perturbed networks at once."""

    name: str
    unit_axis: int
    sample_axis: int

    @property
    def batch_axis(self) -> int:
        """The samples' axis of one (unstacked) array of any rank: first in row layout (N x C x H x W),
        last in column layout."""
        return 0 if self.name == "row" else -1

    def from_rows(self, rows: Array) -> Array:
        """Arrange data given one sample per row (as specs write it) in this layout."""
        return rows.T if self.name == "column" else rows


LAYOUTS: dict[str, Layout] = {
    "column": Layout("column", unit_axis=-2, sample_axis=-1),
    "row": Layout("row", unit_axis=-1, sample_axis=-2),
}
