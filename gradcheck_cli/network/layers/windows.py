"""What convolution and pooling share: a kernel or window that slides over the height and width of
N x C x H x W arrays with a stride, after zero padding.

``output_size`` does the arithmetic a spec is checked with (and says it in words when it does not
come out whole); ``windows`` is the strided view every window position reads, without copying
(numpy's ``sliding_window_view``); ``scatter`` adds each window's share back to the positions it
read, the backward of reading them.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from gradcheck_cli.network.layers.base import Array, LayerProblem, PositiveInt

# an int for both axes, or [height, width]
Pair = PositiveInt | Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]
PairOrZero = Annotated[int, Field(ge=0)] | Annotated[list[Annotated[int, Field(ge=0)]],
                                                      Field(min_length=2, max_length=2)]


def pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def output_size(size: int, kernel: int, stride: int, padding: int, axis: str, what: str) -> int:
    """Window positions along one axis: (size + 2 padding - kernel) / stride + 1, which must be whole."""
    padded = size + 2 * padding
    written = f"{axis} {padded}" if not padding else f"{axis} {padded} ({size} + 2 x {padding})"
    where = "the padded input" if padding else "the input"
    if kernel > padded:
        raise LayerProblem(f"its {what} {kernel} is larger than {where} {written}",
                           f"use a {what} of at most {padded}, or more padding", key=None)
    left = (padded - kernel) % stride
    if left:
        raise LayerProblem(f"{what} {kernel} with stride {stride} leaves {left} position(s) of {where} {written} "
                           f"over: ({padded} - {kernel}) / {stride} is not whole",
                           "choose a stride, padding or size for which it is whole", key=None)
    return (padded - kernel) // stride + 1


def pad(a: Array, padding: tuple[int, int]) -> Array:
    """Zeros around the height and width of an N x C x H x W array."""
    ph, pw = padding
    if not (ph or pw):
        return a
    return np.pad(a, [(0, 0)] * (a.ndim - 2) + [(ph, ph), (pw, pw)])


def windows(a: Array, kernel: tuple[int, int], stride: tuple[int, int]) -> Array:
    """N x C x Ho x Wo x kh x kw: the window at every output position, a view of ``a``."""
    view = np.lib.stride_tricks.sliding_window_view(a, kernel, axis=(-2, -1))
    return view[..., :: stride[0], :: stride[1], :, :]


def taps(a: Array, kernel: tuple[int, int], stride: tuple[int, int]) -> list[Array]:
    """For each kernel position (u, v) in C order, the N x C x Ho x Wo view of the values it reads at
    every window: a[..., s i + u, s j + v]. A reduction over the taps (max, sum) is a few whole-array
    operations, several times faster than one over the windows' own axes."""
    (kh, kw), (sh, sw) = kernel, stride
    Ho, Wo = (a.shape[-2] - kh) // sh + 1, (a.shape[-1] - kw) // sw + 1
    return [a[..., u : u + sh * (Ho - 1) + 1 : sh, v : v + sw * (Wo - 1) + 1 : sw]
            for u in range(kh) for v in range(kw)]


def correlate(x: Array, K: Array, stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0)) -> Array:
    """The cross-correlation of N x C x H x W with F x C x kh x kw: N x F x Ho x Wo (conv2d's z)."""
    read = windows(pad(x, padding), K.shape[-2:], stride)  # N x C x Ho x Wo x kh x kw
    return np.ascontiguousarray(np.moveaxis(np.tensordot(read, K, axes=([-5, -2, -1], [1, 2, 3])), -1, -3))


def dilate(x: Array, stride: tuple[int, int]) -> Array:
    """stride - 1 zeros between neighbouring entries of the last two axes."""
    sh, sw = stride
    out = np.zeros(x.shape[:-2] + ((x.shape[-2] - 1) * sh + 1, (x.shape[-1] - 1) * sw + 1), dtype=x.dtype)
    out[..., ::sh, ::sw] = x
    return out


def scatter(shares: Array, shape: tuple[int, ...], stride: tuple[int, int]) -> Array:
    """The backward of ``windows``: an array of ``shape`` to which every window position adds its
    kh x kw shares (N x C x Ho x Wo x kh x kw) where it read them; overlapping windows add up."""
    out = np.zeros(shape, dtype=shares.dtype)
    Ho, Wo, kh, kw = shares.shape[-4:]
    sh, sw = stride
    for i in range(kh):
        for j in range(kw):
            out[..., i : i + sh * Ho : sh, j : j + sw * Wo : sw] += shares[..., i, j]
    return out
