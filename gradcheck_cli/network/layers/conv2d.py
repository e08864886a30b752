"""conv2d: a convolutional layer, cross-correlation as cs231n and torch compute it (samples first).

For filter f, output position (i, j), with the input a zero padded by p and stride s:

    z[n, f, i, j] = sum over c, u, v of W[f, c, u, v] a_pad[n, c, s i + u, s j + v]  +  b[f]

W is filters x channels x kh x kw; b is one number per filter (``bias: per_unit``), one for the
layer (``shared``) or absent (``none``). The backward pass, with delta = dE/dz:

    dW[f, c, u, v] = sum over n, i, j of delta[n, f, i, j] a_pad[n, c, s i + u, s j + v]
    db[f]          = sum over samples and positions of delta[n, f, i, j]
    da_pad         = each delta[n, f, i, j] W[f] added back where its window read, then the
                     padding cut off (for stride 1: the full correlation of delta with rot180(W))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import (
    ActivationSpec,
    Array,
    Equation,
    Layer,
    LayerProblem,
    Mistake,
    Notation,
    Parameter,
    Place,
    PositiveInt,
    Shape,
    stacked,
)
from gradcheck_cli.network.layers.windows import (
    Pair,
    PairOrZero,
    correlate,
    dilate,
    output_size,
    pad,
    pair,
    scatter,
    windows,
)

TYPE = "conv2d"
SYMBOLS = ("W", "b")
LAYOUTS = ("row",)


class Conv2dSpec(ActivationSpec):
    """``{type: conv2d, filters: 4, kernel: 3, stride: 1, padding: 1, activation: relu}``."""

    type: Literal["conv2d"]
    filters: PositiveInt
    kernel: Pair
    stride: Pair = 1
    padding: PairOrZero = 0
    bias: Literal["per_unit", "shared", "none"] = "per_unit"


SPEC = Conv2dSpec


def reference_keys(shapes: dict[str, tuple[int, ...]]) -> dict[str, object]:
    """The keys ``gradcheck layer``'s reference takes from the arrays given for W (F x C x kh x kw) and b."""
    if "W" not in shapes or len(shapes["W"]) != 4:
        return {}
    return {"filters": shapes["W"][0], "kernel": list(shapes["W"][2:]), **({} if "b" in shapes else {"bias": "none"})}


def build(spec: Conv2dSpec, in_shape: Shape, place: Place) -> Conv2d:
    if len(in_shape) != 3:
        raise LayerProblem(f"a conv2d layer takes channels x height x width per sample, but its input is "
                           f"{' x '.join(map(str, in_shape))}",
                           "give input: [channels, height, width], or put conv2d before any flatten or dense layer")
    kernel, stride, padding = pair(spec.kernel), pair(spec.stride), pair(spec.padding)
    Ho, Wo = (output_size(in_shape[1 + k], kernel[k], stride[k], padding[k], axis, "kernel")
              for k, axis in enumerate(("height", "width")))
    return Conv2d(in_shape, place.layout, place.activation, place.options, filters=spec.filters, kernel=kernel,
                  stride=stride, padding=padding, bias=spec.bias, out_hw=(Ho, Wo))


@dataclass(frozen=True)
class Conv2d(Layer):
    TYPE = TYPE
    filters: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    bias: str
    out_hw: tuple[int, int]

    @property
    def out_shape(self) -> Shape:
        return (self.filters,) + self.out_hw

    def parameters(self) -> tuple[Parameter, ...]:
        channels = self.in_shape[0]
        W = Parameter("W", (self.filters, channels) + self.kernel, "weights", fan_in=channels * math.prod(self.kernel),
                      l2=True, shape_hint="conv2d's W is filters x channels x kernel height x kernel width")
        if self.bias == "none":
            return (W,)
        return W, Parameter("b", () if self.bias == "shared" else (self.filters,), "biases")

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, tuple]:
        padded = pad(a, self.padding)  # once: the correlation and the backward's cache read the same copy
        z = correlate(padded, p["W"], self.stride)
        if "b" in p:
            z = z + (p["b"] if p["b"].ndim == 0 else p["b"][:, None, None])
        read = windows(padded, self.kernel, self.stride)  # N x C x Ho x Wo x kh x kw, a view
        return z, (a.shape, read, p["W"], "b" in p and p["b"].ndim == 0)

    def backward(self, dz: Array, cache: tuple) -> tuple[Array, dict[str, Array]]:
        shape, read, W, shared = cache
        grads = {"W": np.tensordot(dz, read, axes=([0, 2, 3], [0, 2, 3]))}  # F x C x kh x kw
        if self.bias != "none":
            grads["b"] = np.asarray(dz.sum()) if shared else dz.sum(axis=(0, 2, 3))
        shares = np.einsum("nfhw,fcuv->nchwuv", dz, W)  # what each window position sends back
        ph, pw = self.padding
        padded = shape[:-2] + (shape[-2] + 2 * ph, shape[-1] + 2 * pw)
        da = scatter(shares, padded, self.stride)[..., ph : padded[-2] - ph, pw : padded[-1] - pw]
        return da, grads

    def perturbed(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array, p: dict[str, Array],
                  z: Array, channel: int | None = None) -> Array:
        """z is affine in each entry: W[f, c, u, v] adds delta times the (c, u, v) tap of every window to
        output channel f; b[f] adds delta to channel f (to every channel if shared)."""
        if symbol == "b" and not index:
            return z[None] + deltas[:, None, None, None, None]
        f = index[0] if channel is None else np.zeros(len(deltas), dtype=int)  # within the one channel kept
        out = stacked(z if channel is None else z[:, channel : channel + 1], deltas)
        members = np.arange(len(deltas))
        if symbol == "W":
            read = windows(pad(a, self.padding), self.kernel, self.stride)  # N x C x Ho x Wo x kh x kw
            taps = read[:, index[1], :, :, index[2], index[3]]  # P x N x Ho x Wo
            out[members, :, f] += deltas[:, None, None, None] * taps
        else:
            out[members, :, f] += deltas[:, None, None, None]
        return out

    def channel_of(self, symbol: str, index: tuple[Array, ...]) -> Array | None:
        return index[0] if index else None  # a filter's weights and bias change its own channel only

    def change_from(self, delta_a: Array, channels: slice, p: dict[str, Array]) -> Array:
        return correlate(delta_a, p["W"][:, channels], self.stride, self.padding)

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        W, s, (ph, pw) = p["W"], self.stride, self.padding
        prev = "x" if l == 1 else f"a{l - 1}"
        full = (self.kernel[0] - 1 - ph, self.kernel[1] - 1 - pw)

        def da_with(K: Array, stride: tuple[int, int] = s, crop: tuple[int, int] = full) -> Array:
            spread = dilate(dz, stride)
            cut = spread[..., max(-crop[0], 0) : spread.shape[-2] - max(-crop[0], 0),
                         max(-crop[1], 0) : spread.shape[-1] - max(-crop[1], 0)]
            return correlate(pad(cut, (max(crop[0], 0), max(crop[1], 0))), np.swapaxes(K, 0, 1))

        rotated = W[..., ::-1, ::-1]
        out = [Mistake("a", da_with(W), f"the kernel was not rotated (or was rotated twice): it is the full "
                       f"correlation of dz{l} with rot180(W{l})"),
               Mistake("a", da_with(np.swapaxes(rotated, -1, -2)), f"the kernel's height and width axes are swapped: "
                       f"rot180(W{l}) keeps W{l}'s axes (filters, channels, height, width)"),
               Mistake("a", da_with(rotated, crop=(self.kernel[0] - 1, self.kernel[1] - 1)),
                       f"the padding was ignored in the backward: that is the gradient of the padded input; crop "
                       f"{_text(self.padding)} from each side (pad width kernel - 1 - padding)"),
               Mistake("a", da_with(rotated, stride=(1, 1)), f"the stride {_text(s)} was ignored in the backward: "
                       f"dilate dz{l} by it first (dilate(dz{l}, stride={_text(s)}))"),
               Mistake("b", dz.sum(axis=0), f"the bias gradient must be summed over the positions too: use "
                       f"sum(dz{l}, axis=(0, 2, 3))"),
               Mistake("b", dz.sum(axis=(2, 3)), f"the bias gradient must be summed over the samples too: use "
                       f"sum(dz{l}, axis=(0, 2, 3))")]
        def dW_with(padding: tuple[int, int]) -> Array:  # a^(l-1) correlated with the dilated dz, per channel pair
            return np.swapaxes(correlate(np.swapaxes(a, 0, 1), np.swapaxes(dilate(dz, s), 0, 1), padding=padding), 0, 1)

        dW = dW_with(self.padding)
        out += [Mistake("W", dW[..., ::-1, ::-1], f"rotated by 180 degrees: the weight gradient is the "
                        f"correlation of {prev} with dz{l}, not their convolution"),
                Mistake("W", np.swapaxes(dW, -1, -2), "the kernel's height and width axes are swapped")]
        if all(k > 2 * q for k, q in zip(self.kernel, self.padding, strict=True)) and any(self.padding):
            out.append(Mistake("W", dW_with((0, 0)), f"the padding was ignored: correlate the padded {prev} "
                               f"(pad({prev}, width={_text(self.padding)})) with dz{l}"))
        return out

    def forward_equation(self, l: int, n: Notation) -> Equation:
        s, p, a = self.stride, self.padding, n.a(l - 1)
        bias = {"none": "", "shared": f" + b{l}", "per_unit": f" + per_channel(b{l})"}[self.bias]
        formula = f"conv2d({a}, W{l}, stride={_text(s)}, padding={_text(p)}){bias}"
        latex = (rf"{n.tex('z', l)} = {n.tex('W', l)} \star_{{s={_text(s)},\,p={_text(p)}}} {n.tex('a', l - 1)}"
                 + ("" if self.bias == "none" else f" + {n.tex('b', l)}"))
        return Equation(f"z{l}", formula, latex, n.shape(l))

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        s, p, a, tex = _text(self.stride), _text(self.padding), n.a(l - 1), n.tex
        delta = rf"\delta^{{[{l}]}}"
        penalty, penalty_tex = (f" + l2 * W{l}", rf" + \lambda {tex('W', l)}") if l2 else ("", "")
        W_shape = " x ".join(map(str, (self.filters, self.in_shape[0]) + self.kernel))
        swap = "axes=(1, 0, 2, 3)"
        dW = (f"transpose(conv2d(transpose({a}, {swap}), transpose(dilate(dz{l}, stride={s}), {swap}), "
              f"padding={p}), {swap})")
        crop = _text(tuple(k - 1 - q for k, q in zip(self.kernel, self.padding, strict=True)))
        da = f"conv2d(pad(dilate(dz{l}, stride={s}), width={crop}), transpose(rot180(W{l}), {swap}))"
        out = [Equation(f"dW{l}", dW + penalty,
                        rf"\frac{{\partial E}}{{\partial {tex('W', l)}}} = {tex('a', l - 1)} \star_{{s={s},\,p={p}}} "
                        rf"{delta}{penalty_tex}", W_shape)]
        if self.bias == "per_unit":
            out.append(Equation(f"db{l}", f"sum(dz{l}, axis=(0, 2, 3))",
                                rf"\frac{{\partial E}}{{\partial {tex('b', l)}}} = \sum_{{n,i,j}} {delta}",
                                str(self.filters)))
        elif self.bias == "shared":
            out.append(Equation(f"db{l}", f"sum(dz{l})", rf"\frac{{\partial E}}{{\partial {tex('b', l)}}} = "
                                rf"\sum_{{n,f,i,j}} {delta}", "scalar"))
        out.append(Equation(f"da{l - 1}", da,
                            rf"\frac{{\partial E}}{{\partial {tex('a', l - 1)}}} = \mathrm{{dilate}}_{{{s}}}({delta}) "
                            rf"\star_{{\text{{full}}}} \mathrm{{rot180}}({tex('W', l)})", n.shape(l - 1)))
        return out


def _text(pair_: tuple[int, ...]) -> str:
    """An int when both axes agree (as a spec would write it), else (h, w)."""
    return str(pair_[0]) if len(set(pair_)) == 1 else f"({', '.join(map(str, pair_))})"
