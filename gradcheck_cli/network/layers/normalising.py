"""What batch and layer normalisation share: normalise over some axes, then scale and shift.

    mu = mean of a over the axes,   var = mean of (a - mu)^2 (biased),   xhat = (a - mu) / sqrt(var + eps)
    z  = gamma * xhat + beta        (gamma, beta per feature, or per channel on 4-D input)

Backward (cs231n's batchnorm backward, over the N values each statistic is taken of):

    dxhat  = dz * gamma
    da     = (N dxhat - sum(dxhat) - xhat sum(dxhat * xhat)) / (N sqrt(var + eps))
    dgamma = sum over samples (and positions) of dz * xhat,   dbeta = the same of dz

The two sums in da are the paths through the mean and the variance; leaving them out is the classic
mistake. gamma starts near 1 and beta near 0, drawn from the seed (see ``Parameter``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import Field

from gradcheck_cli.network.layers.base import (
    ActivationSpec,
    Array,
    Equation,
    Layer,
    LayerProblem,
    Mistake,
    Notation,
    Parameter,
    Shape,
    stacked,
)


class NormSpec(ActivationSpec):
    epsilon: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1e-5


def check_not_sequence(kind: str, in_shape: Shape) -> None:
    """A sequence (T x H per sample) has no normalisation here yet: per step over the features (torch's
    LayerNorm(H)) and per channel over the steps (BatchNorm1d) are both in use, and neither is built."""
    if len(in_shape) == 2:
        raise LayerProblem(f"a {kind} layer cannot normalise a sequence ({in_shape[0]} steps x {in_shape[1]} "
                           "features per sample) yet", "put {type: flatten} before it, or leave it out")


@dataclass(frozen=True)
class Normalising(Layer):
    QUANTITIES = ("xhat", "istd")
    epsilon: float

    @property
    def out_shape(self) -> Shape:
        return self.in_shape

    @property
    @abstractmethod
    def axes(self) -> tuple[int, ...]:
        """The axes each mean and variance is taken over, counted from the end (so that the forward
        also runs on a stack of perturbed copies with a leading axis)."""

    def parameters(self) -> tuple[Parameter, ...]:
        features = (self.in_shape[0],)  # per channel on C x H x W, per feature on a vector
        return Parameter("gamma", features, "scales"), Parameter("beta", features, "biases")

    def _per_feature(self, p: Array) -> Array:
        """gamma or beta placed along the feature (channel) axis of an N x ... array."""
        return p.reshape(p.shape + (1,) * (len(self.in_shape) - 1))

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, tuple]:
        mu = a.mean(axis=self.axes, keepdims=True)
        centred = a - mu
        var = (centred * centred).mean(axis=self.axes, keepdims=True)  # not abs: the complex step stays analytic
        inv_std = 1 / np.sqrt(var + self.epsilon)
        xhat = centred * inv_std
        z = self._per_feature(p["gamma"]) * xhat + self._per_feature(p["beta"])
        return z, (xhat, inv_std, p["gamma"])

    def backward(self, dz: Array, cache: tuple) -> tuple[Array, dict[str, Array]]:
        xhat, inv_std, gamma = cache
        N = np.prod([dz.shape[k] for k in self.axes])
        dxhat = dz * self._per_feature(gamma)
        da = (N * dxhat - dxhat.sum(axis=self.axes, keepdims=True)
              - xhat * (dxhat * xhat).sum(axis=self.axes, keepdims=True)) * inv_std / N
        over = self.not_features(dz.ndim)
        return da, {"gamma": (dz * xhat).sum(axis=over), "beta": dz.sum(axis=over)}

    def perturbed(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array, p: dict[str, Array],
                  z: Array, channel: int | None = None) -> Array:
        """z is affine in gamma and beta: gamma[c] adds delta times xhat's feature (channel) c, beta[c]
        adds delta to it."""
        c = index[0] if channel is None else np.zeros(len(deltas), dtype=int)
        kept = slice(None) if channel is None else slice(channel, channel + 1)
        out = stacked(z[:, kept], deltas)
        members = np.arange(len(deltas))
        per_member = deltas.reshape((-1, 1) + (1,) * (len(self.in_shape) - 1))
        if symbol == "gamma":
            xhat = self.forward(a, p)[1][0][:, kept]
            out[members, :, c] += per_member * np.moveaxis(xhat[:, c], 1, 0)
        else:
            out[members, :, c] += per_member
        return out

    def channel_of(self, symbol: str, index: tuple[Array, ...]) -> Array:
        return index[0]

    @staticmethod
    def not_features(ndim: int) -> tuple[int, ...]:
        """Every axis but the features' (channels'): what dgamma and dbeta sum over."""
        return (0,) + tuple(range(2, ndim))

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        xhat, inv_std, gamma = self.forward(a, p)[1]
        N = np.prod([dz.shape[k] for k in self.axes])
        dxhat = dz * self._per_feature(gamma)
        mean_term = dxhat.sum(axis=self.axes, keepdims=True)
        variance_term = xhat * (dxhat * xhat).sum(axis=self.axes, keepdims=True)
        return [Mistake("a", dxhat * inv_std, f"the terms through the mean and the variance are missing: they "
                        f"depend on a{l - 1} too (da = (N dxhat - sum(dxhat) - xhat sum(dxhat xhat)) istd / N)"),
                Mistake("a", (N * dxhat - mean_term) * inv_std / N,
                        f"the term through the variance is missing (- xhat{l} sum(dxhat * xhat{l}))"),
                Mistake("a", (N * dxhat - variance_term) * inv_std / N, "the term through the mean is missing "
                        "(- sum(dxhat))"),
                Mistake("gamma", dz.sum(axis=self.not_features(dz.ndim)), f"dgamma{l} is the sum of dz{l} * xhat{l}, "
                        f"not of dz{l} alone")]

    def quantities(self, l: int, cache: tuple) -> dict[str, Array]:
        xhat, inv_std, _ = cache
        return {f"xhat{l}": xhat, f"istd{l}": inv_std}

    def forward_equation(self, l: int, n: Notation) -> Equation:
        gamma, beta = (f"per_channel({p}{l})" if len(self.in_shape) == 3 else f"{p}{l}" for p in ("gamma", "beta"))
        return Equation(f"z{l}", f"{gamma} * xhat{l} + {beta}",
                        rf"{n.tex('z', l)} = \gamma^{{[{l}]}} \odot \hat{{x}}^{{[{l}]}} + \beta^{{[{l}]}},\ "
                        rf"\hat{{x}} = ({n.tex('a', l - 1)} - \mu) / \sqrt{{\sigma^2 + {self.epsilon:g}}}", n.shape(l))

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        rank = len(self.in_shape) + 1
        over, axes = _axes(self.not_features(rank)), _axes(tuple(k % rank for k in self.axes))
        count = " * ".join(["m"] * (-rank in self.axes) + [str(self.in_shape[k]) for k in self.axes if k != -rank])
        gamma = f"per_channel(gamma{l})" if len(self.in_shape) == 3 else f"gamma{l}"
        dxhat = f"dz{l} * {gamma}"
        features = str(self.in_shape[0])
        return [
            Equation(f"dgamma{l}", f"sum(dz{l} * xhat{l}, axis={over})",
                     rf"\frac{{\partial E}}{{\partial \gamma^{{[{l}]}}}} = "
                     rf"\sum \delta^{{[{l}]}} \odot \hat{{x}}^{{[{l}]}}", features),
            Equation(f"dbeta{l}", f"sum(dz{l}, axis={over})",
                     rf"\frac{{\partial E}}{{\partial \beta^{{[{l}]}}}} = \sum \delta^{{[{l}]}}", features),
            Equation(f"da{l - 1}", f"(({count}) * {dxhat} - sum({dxhat}, axis={axes}, keepdims=True) - xhat{l} * "
                     f"sum({dxhat} * xhat{l}, axis={axes}, keepdims=True)) * istd{l} / ({count})",
                     rf"\frac{{\partial E}}{{\partial {n.tex('a', l - 1)}}} = \frac{{1}}{{N\sigma}}\left(N\,"
                     rf"\partial\hat{{x}} - \sum \partial\hat{{x}} - \hat{{x}} \sum \partial\hat{{x}} \odot "
                     rf"\hat{{x}}\right)", n.shape(l - 1)),
        ]


def _axes(axes: tuple[int, ...]) -> str:
    return str(axes[0]) if len(axes) == 1 else f"({', '.join(map(str, axes))})"
