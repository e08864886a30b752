"""The formula language's operations for convolutional, pooling and normalising layers: what the
textbook derivations of those layers are written in.

    conv2d(x, K, stride=s, padding=p)  cross-correlation of N x C x H x W with F x C x kh x kw, as the
                                       conv2d layer computes it
    rot180(K)                          the kernel turned by 180 degrees (its last two axes reversed)
    pad(x, width=p)                    zeros around height and width (a negative width crops)
    dilate(x, stride=s)                s - 1 zeros between neighbouring entries of height and width
    transpose(x, axes=(1, 0, 2, 3))    axes reordered, as numpy's transpose
    maxpool(x, size=k, stride=s), avgpool(...)   the pooling layers' forward
    upsample(x, size=k, stride=s)      every entry copied over its window; overlapping windows add up
    maxmask(x, size=k)                 1 at each window's maximum, else 0 (windows side by side)
    unpool_max(dz, x, size=k, stride=s)  each window's gradient to its maximum, overlapping or not
    flatten(x), reshape_like(x, y), per_channel(v)   (N, C*H*W); x in y's shape; v as C x 1 x 1

With them the convolution backward reads as in the notes, for stride s, padding p, kernel k:

    dW = transpose(conv2d(transpose(a, axes=(1, 0, 2, 3)), transpose(dilate(dz, stride=s),
         axes=(1, 0, 2, 3)), padding=p), axes=(1, 0, 2, 3))
    da = conv2d(pad(dilate(dz, stride=s), width=k - 1 - p), transpose(rot180(W), axes=(1, 0, 2, 3)))

Every result's size is computed from the shapes before anything is allocated (``SIZES``), so the
formula language's limit holds for these as for ``@``. A call on arrays of the wrong shapes fails
as the formula's error, with the shapes in the message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck_cli.network.layers.windows import correlate, scatter, windows
from gradcheck_cli.network.layers.windows import dilate as spread
from gradcheck_cli.network.layers.windows import pad as zero_pad

Array = np.ndarray
Shape = tuple[int, ...]


class LayerFunctionFailed(ValueError):
    """Arguments of the wrong shapes; the formula reports it as its own failure."""


def _pair(value: Any, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise LayerFunctionFailed(f"{name} must be one whole number or two")
    return pair  # type: ignore[return-value]


def _image(shape: Shape, what: str) -> None:
    if len(shape) != 4:
        raise LayerFunctionFailed(f"{what} must be N x C x H x W, not of shape {shape}")


def _positions(size: int, kernel: int, stride: int) -> int:
    if kernel > size or (size - kernel) % stride:
        raise LayerFunctionFailed(f"a window of {kernel} with stride {stride} does not fit {size} positions exactly")
    return (size - kernel) // stride + 1


# ---------------------------------------------------------------------------------- shapes


def conv2d_shape(x: Shape, K: Shape, stride: Any = 1, padding: Any = 0) -> Shape:
    _image(x, "conv2d's input")
    _image(K, "conv2d's kernel")
    if K[1] != x[1]:
        raise LayerFunctionFailed(f"conv2d: the kernel has {K[1]} channels, the input {x[1]} (shapes {K} and {x})")
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    return (x[0], K[0], _positions(x[2] + 2 * ph, K[2], sh), _positions(x[3] + 2 * pw, K[3], sw))


def pad_shape(x: Shape, width: Any = 0) -> Shape:
    ph, pw = _pair(width, "width")
    if x[-2] + 2 * ph < 0 or x[-1] + 2 * pw < 0 or len(x) < 2:
        raise LayerFunctionFailed(f"pad(width={width}) does not fit shape {x}")
    return x[:-2] + (x[-2] + 2 * ph, x[-1] + 2 * pw)


def dilate_shape(x: Shape, stride: Any = 1) -> Shape:
    sh, sw = _pair(stride, "stride")
    return x[:-2] + ((x[-2] - 1) * sh + 1, (x[-1] - 1) * sw + 1)


def pool_shape(x: Shape, size: Any = 2, stride: Any = None) -> Shape:
    _image(x, "pooling's input")
    (kh, kw) = _pair(size, "size")
    (sh, sw) = (kh, kw) if stride is None else _pair(stride, "stride")
    return x[:2] + (_positions(x[2], kh, sh), _positions(x[3], kw, sw))


def upsample_shape(x: Shape, size: Any = 2, stride: Any = None) -> Shape:
    _image(x, "upsample's input")
    (kh, kw) = _pair(size, "size")
    (sh, sw) = (kh, kw) if stride is None else _pair(stride, "stride")
    return x[:2] + ((x[2] - 1) * sh + kh, (x[3] - 1) * sw + kw)


def transpose_shape(x: Shape, axes: Any = None) -> Shape:
    order = tuple(reversed(range(len(x)))) if axes is None else tuple(axes)
    if sorted(order) != list(range(len(x))):
        raise LayerFunctionFailed(f"transpose(axes={axes}) is not an order of the {len(x)} axes of shape {x}")
    return tuple(x[k] for k in order)


# ---------------------------------------------------------------------------------- values


def conv2d(x: Array, K: Array, stride: Any = 1, padding: Any = 0) -> Array:
    conv2d_shape(np.shape(x), np.shape(K), stride, padding)
    return correlate(x, K, _pair(stride, "stride"), _pair(padding, "padding"))


def pad(x: Array, width: Any = 0) -> Array:
    pad_shape(np.shape(x), width)
    ph, pw = _pair(width, "width")
    if ph < 0 or pw < 0:  # a negative width crops
        x = x[..., max(-ph, 0) : x.shape[-2] - max(-ph, 0), max(-pw, 0) : x.shape[-1] - max(-pw, 0)]
    return zero_pad(x, (max(ph, 0), max(pw, 0)))


def dilate(x: Array, stride: Any = 1) -> Array:
    dilate_shape(np.shape(x), stride)
    return spread(np.asarray(x, dtype=np.float64), _pair(stride, "stride"))


def pool(x: Array, size: Any, stride: Any, reduce: Callable[..., Array]) -> Array:
    pool_shape(np.shape(x), size, stride)
    kernel = _pair(size, "size")
    return reduce(windows(x, kernel, kernel if stride is None else _pair(stride, "stride")), axis=(-2, -1))


def upsample(x: Array, size: Any = 2, stride: Any = None) -> Array:
    kernel = _pair(size, "size")
    step = kernel if stride is None else _pair(stride, "stride")
    shares = np.broadcast_to(x[..., None, None], np.shape(x) + kernel)
    return scatter(shares, upsample_shape(np.shape(x), size, stride), step)


def _argmax_one_hot(x: Array, kernel: tuple[int, int], step: tuple[int, int]) -> Array:
    read = windows(x, kernel, step)
    flat = read.reshape(read.shape[:-2] + (-1,))
    one_hot = np.zeros(flat.shape)
    np.put_along_axis(one_hot, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return one_hot.reshape(read.shape)


def maxmask(x: Array, size: Any = 2) -> Array:
    kernel = _pair(size, "size")
    pool_shape(np.shape(x), size)
    return np.minimum(scatter(_argmax_one_hot(x, kernel, kernel), np.shape(x), kernel), 1.0)


def unpool_max(dz: Array, x: Array, size: Any = 2, stride: Any = None) -> Array:
    kernel = _pair(size, "size")
    step = kernel if stride is None else _pair(stride, "stride")
    if pool_shape(np.shape(x), size, stride) != np.shape(dz):
        raise LayerFunctionFailed(f"unpool_max: the gradient has shape {np.shape(dz)}, the pooled input "
                                  f"{np.shape(x)} gives {pool_shape(np.shape(x), size, stride)}")
    return scatter(_argmax_one_hot(x, kernel, step) * dz[..., None, None], np.shape(x), step)


def reshape_like(x: Array, like: Array) -> Array:
    if np.size(x) != np.size(like):
        raise LayerFunctionFailed(f"reshape_like: {np.size(x)} numbers cannot take the shape {np.shape(like)}")
    return np.reshape(x, np.shape(like))


def per_channel(v: Array) -> Array:
    if np.ndim(v) != 1:
        raise LayerFunctionFailed(f"per_channel takes a vector (one number per channel), not shape {np.shape(v)}")
    return v[:, None, None]


# (function, its result size from the argument shapes and keywords, its keywords, positional arity)
LAYER_FUNCTIONS: dict[str, tuple[Callable[..., Array], Callable[..., int], tuple[str, ...], int]] = {
    "conv2d": (conv2d, lambda x, K, **k: math.prod(conv2d_shape(x, K, **k)), ("stride", "padding"), 2),
    "rot180": (lambda K: K[..., ::-1, ::-1], lambda K: math.prod(K), (), 1),
    "pad": (pad, lambda x, **k: math.prod(pad_shape(x, **k)), ("width",), 1),
    "dilate": (dilate, lambda x, **k: math.prod(dilate_shape(x, **k)), ("stride",), 1),
    "transpose": (lambda x, axes=None: np.transpose(x, axes), lambda x, **k: math.prod(transpose_shape(x, **k)),
                  ("axes",), 1),
    "maxpool": (lambda x, size=2, stride=None: pool(x, size, stride, np.max),
                lambda x, **k: math.prod(pool_shape(x, **k)), ("size", "stride"), 1),
    "avgpool": (lambda x, size=2, stride=None: pool(x, size, stride, np.mean),
                lambda x, **k: math.prod(pool_shape(x, **k)), ("size", "stride"), 1),
    "upsample": (upsample, lambda x, **k: math.prod(upsample_shape(x, **k)), ("size", "stride"), 1),
    "maxmask": (maxmask, lambda x, **k: math.prod(x), ("size",), 1),
    "unpool_max": (unpool_max, lambda dz, x, **k: math.prod(x), ("size", "stride"), 2),
    "flatten": (lambda x: np.reshape(x, (np.shape(x)[0], -1)), lambda x: math.prod(x), (), 1),
    "reshape_like": (reshape_like, lambda x, like: math.prod(x), (), 2),
    "per_channel": (per_channel, lambda v: math.prod(v), (), 1),
}
